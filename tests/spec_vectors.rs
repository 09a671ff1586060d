//! Checks every test vector in SPEC.md's ```vectors block against the code, and that SPEC.md
//! lists every vector the code computes. Run with `UNDERSIGN_PRINT_VECTORS=1` (and
//! `--nocapture`) to print the block.

use ark_bn254::Fr;
use std::collections::BTreeMap;
use undersign::core::attributes::{disclosed_value, Attributes, Mask};
use undersign::core::field::{to_decimal, to_hex};
use undersign::core::identity::{member_leaf, nullifier, IdentitySecret};
use undersign::core::merkle::{empty_roots, MerkleTree};
use undersign::core::{poseidon, scope};

fn computed() -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = Vec::new();
    let mut put = |name: &str, value: String| v.push((name.to_owned(), value));
    let f = |x: u64| Fr::from(x);
    put("poseidon([1]) decimal", to_decimal(&poseidon::hash1(f(1))));
    put(
        "poseidon([1,2]) decimal",
        to_decimal(&poseidon::hash2(f(1), f(2))),
    );
    put(
        "poseidon([1,2,3]) decimal",
        to_decimal(&poseidon::hash(&[f(1), f(2), f(3)]).unwrap()),
    );
    put(
        "poseidon([1,2,3,4]) decimal",
        to_decimal(&poseidon::hash(&[f(1), f(2), f(3), f(4)]).unwrap()),
    );

    let secret_bytes: [u8; 32] = std::array::from_fn(|i| i as u8);
    let secret = IdentitySecret::from_bytes(secret_bytes);
    put(
        "identity secret (bytes 0x00..0x1f)",
        hex::encode(secret_bytes),
    );
    put("sk", to_hex(&secret.sk()));
    let commitment = secret.commitment();
    put("commitment", to_hex(&commitment));
    let attrs = Attributes([1, 7, 3, 0]);
    put("attrs [1,7,3,0] packed", to_hex(&attrs.packed()));
    put("member leaf", to_hex(&member_leaf(commitment, &attrs)));
    put(
        "disclosed [1,7,3,0] mask 0b0011",
        to_hex(&disclosed_value(&attrs, Mask::new(0b0011).unwrap())),
    );
    let petition = b"undersign test petition\n";
    put(
        "petition bytes",
        String::from_utf8_lossy(petition).escape_debug().to_string(),
    );
    let scope = scope::petition_scope(petition);
    put("petition scope", to_hex(&scope));
    put("petition id", blake3::hash(petition).to_hex().to_string());
    put(
        "nullifier(scope, sk)",
        to_hex(&nullifier(scope, secret.sk())),
    );
    put("message(no comment)", to_hex(&scope::message(None)));
    put("message(\"\")", to_hex(&scope::message(Some(""))));
    put("message(\"hello\")", to_hex(&scope::message(Some("hello"))));
    put("empty root, depth 20", to_hex(&empty_roots(20)[20]));
    let tree = MerkleTree::from_leaves(4, vec![f(1), f(2), f(3)]).unwrap();
    put("root, depth 4, leaves [1,2,3]", to_hex(&tree.root()));
    put(
        "root at size 2, depth 4, leaves [1,2,3]",
        to_hex(&tree.root_at(2).unwrap()),
    );
    let mut removed = tree.clone();
    removed.remove(1).unwrap();
    put(
        "root, depth 4, leaves [1,2,3] after removing index 1",
        to_hex(&removed.root()),
    );
    // §2 proof bytes: the one encoding of the point at infinity, in A, B and C.
    let infinity = undersign::proof::Proof::default();
    let at_infinity = undersign::proof::ProofBytes::encode(&infinity).unwrap();
    assert_eq!(at_infinity.decode(), Ok(infinity));
    put("proof bytes, A, B and C at infinity", at_infinity.to_hex());
    // §12 checkpoint message and hash, §14 receipt.
    use undersign::registry::checkpoint::CheckpointFields;
    let checkpoint = CheckpointFields {
        registry: [0xaa; 32],
        sequence: 1,
        size: 6,
        removed: 1,
        removed_since_previous: 1,
        root: f(1),
        schema: [0xcc; 32],
        time: 1_800_000_000,
        previous: [0xbb; 32],
    };
    let message = checkpoint.message();
    put(
        "checkpoint message (registry aa..aa, sequence 1, size 6, removed 1, removed_since_previous 1, root 1, schema cc..cc, time 1800000000, previous bb..bb)",
        hex::encode(message),
    );
    put(
        "checkpoint hash of that message",
        blake3::hash(&message).to_hex().to_string(),
    );
    let signature = undersign::tally::signature::Signature {
        petition: [0x11; 32],
        root: f(1),
        nullifier: f(2),
        mask: Mask::new(0b0011).unwrap(),
        disclosed: Attributes([1, 7, 0, 0]),
        comment: Some("hello".into()),
        proof: at_infinity,
    };
    put(
        "receipt (petition 11..11, root 1, nullifier 2, comment \"hello\", mask 3, disclosed [1,7,0,0])",
        hex::encode(signature.receipt()),
    );
    // §12 canonical schema JSON: labels that need every kind of escape, and ones that need none.
    use undersign::registry::schema::{Schema, SlotSchema};
    let labels = [
        ("quote\"", 1u16),
        ("back\\slash", 2),
        ("ctl\u{1}\t\n", 3),
        ("цяперашні", 4),
        ("7", 5),
        ("slash/del\u{7f}", 6),
        ("emoji\u{1F600}", 7),
    ];
    let schema = Schema::new(vec![SlotSchema {
        name: "status".into(),
        labels: labels.iter().map(|(l, c)| ((*l).to_owned(), *c)).collect(),
    }])
    .unwrap();
    put(
        "schema canonical JSON, slot status with labels quote\" 1, back\\slash 2, ctl U+0001 U+0009 U+000A 3, цяперашні 4, 7 5, slash/del U+007F 6, emoji U+1F600 7 (hex)",
        hex::encode(schema.canonical_json()),
    );
    put("schema hash of that schema", hex::encode(schema.hash()));
    // §17 ceremony: hash_to_g2 (compressed G2, §2), the phase-1 start hash, a beacon's d.
    use ark_serialize::CanonicalSerialize;
    use undersign::ceremony::hash_to_g2::hash_to_g2;
    use undersign::ceremony::phase2::Beacon;
    for input in ["", "abc"] {
        let point = hash_to_g2("undersign v1 ceremony test vector", input.as_bytes());
        let mut bytes = Vec::new();
        point.serialize_compressed(&mut bytes).unwrap();
        put(
            &format!("hash_to_g2(\"undersign v1 ceremony test vector\", {input:?}) compressed"),
            hex::encode(bytes),
        );
    }
    let phase1 = undersign::ceremony::Phase1::new(13).unwrap();
    put(
        "ceremony phase1 start hash, power 13",
        hex::encode(phase1.start_hash()),
    );
    let (d, _) = Beacon::new(vec![0], 10).unwrap().scalars().unwrap();
    put("ceremony beacon d, value 0x00, exponent 10", to_hex(&d));
    v
}

fn spec_vectors() -> BTreeMap<String, String> {
    let spec = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/SPEC.md")).unwrap();
    let start = spec
        .find("```vectors\n")
        .expect("SPEC.md has a ```vectors block")
        + 11;
    let end = start + spec[start..].find("```").unwrap();
    spec[start..end]
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let (k, v) = l
                .split_once(" = ")
                .expect("vector lines are `name = value`");
            (k.trim().to_owned(), v.trim().to_owned())
        })
        .collect()
}

#[test]
fn spec_vectors_match_the_code() {
    let computed = computed();
    if std::env::var_os("UNDERSIGN_PRINT_VECTORS").is_some() {
        for (k, v) in &computed {
            println!("{k} = {v}");
        }
    }
    let spec = spec_vectors();
    for (name, value) in &computed {
        assert_eq!(spec.get(name), Some(value), "SPEC.md vector {name:?}");
    }
    assert_eq!(
        spec.len(),
        computed.len(),
        "SPEC.md lists vectors the code does not check"
    );
}

#[test]
fn circomlib_vectors_are_in_spec() {
    // The three vectors the issue fixes, independent of our own printing.
    let spec = spec_vectors();
    assert_eq!(
        spec["poseidon([1]) decimal"],
        "18586133768512220936620570745912940619677854269274689475585506675881198879027"
    );
    assert_eq!(
        spec["poseidon([1,2]) decimal"],
        "7853200120776062878684798364095072458815029376092732009249414926327459813530"
    );
    assert_eq!(
        spec["poseidon([1,2,3]) decimal"],
        "6542985608222806190361240322586112750744169038454362455181422643027100751666"
    );
}
