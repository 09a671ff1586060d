//! The audit and bundle build on in-memory bundles: counting, duplicates, order, truncation,
//! oversized and garbage lines, and header problems.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;
use std::io::Cursor;
use undersign_core::attributes::{Attributes, Mask};
use undersign_core::identity::IdentitySecret;
use undersign_core::merkle::MerkleTree;
use undersign_core::scope::message;
use undersign_proof::encoding::ProofBytes;
use undersign_proof::{KeySet, Prover, Statement};
use undersign_registry::registrar::RegistrarKey;
use undersign_registry::registry::Registry;
use undersign_registry::schema::{Schema, SlotSchema};
use undersign_tally::bundle::{self, AuditOptions, BundleError};
use undersign_tally::check::Checker;
use undersign_tally::petition::{PetitionFields, PetitionFile};
use undersign_tally::signature::Signature;

const DEPTH: u32 = 4;

struct World {
    registry: Registry,
    registrar: RegistrarKey,
    petition: PetitionFile,
    prover: Prover,
    signatures: Vec<Signature>,
}

fn world() -> World {
    let mut rng = ChaCha20Rng::seed_from_u64(99);
    let schema = Schema::new(vec![SlotSchema {
        name: "status".into(),
        labels: [("current".to_owned(), 1u16), ("former".to_owned(), 2)]
            .into_iter()
            .collect(),
    }])
    .unwrap();
    let mut registry = Registry::new(schema, DEPTH, [7u8; 32]).unwrap();
    let secrets: Vec<IdentitySecret> = (0..6)
        .map(|_| IdentitySecret::from_bytes(rng.gen()))
        .collect();
    for (i, secret) in secrets.iter().enumerate() {
        registry
            .add(
                secret.commitment(),
                Attributes([1 + (i as u16 % 2), 0, 0, 0]),
            )
            .unwrap();
    }
    let registrar = RegistrarKey::from_secret_bytes(&[5u8; 32]);
    registry.checkpoint(&registrar, 1_800_000_000).unwrap();
    let keys = KeySet::development(DEPTH, &[1u8; 32]).unwrap();
    let prover = Prover::new(DEPTH, keys.proving_key).unwrap();
    let petition = PetitionFile::create(PetitionFields {
        version: 1,
        kind: undersign_tally::petition::KIND.into(),
        title: "Test".into(),
        text: "Text".into(),
        registry: hex::encode(registry.id()),
        registrar_key: registrar.public_key().to_hex(),
        verifying_key: prover.verifier().key_hash().to_owned(),
        proving_key: "11".repeat(32),
        disclose: vec![0],
        min_checkpoint: 0,
        min_checkpoint_hash: hex::encode(registry.checkpoints()[0].hash()),
        max_checkpoint: Some(0),
        nonce: "00".repeat(32),
    })
    .unwrap();
    let tree = registry.tree().unwrap();
    let signatures = (0..4)
        .map(|i| {
            let attrs = registry.members()[i].as_ref().unwrap().attributes;
            sign_as(
                &prover,
                &petition,
                &secrets[i],
                attrs,
                &tree,
                i as u64,
                &mut rng,
            )
        })
        .collect();
    World {
        registry,
        registrar,
        petition,
        prover,
        signatures,
    }
}

/// A signature by `secret` (leaf `index` of `tree`, with `attrs`) on `petition`, disclosing
/// slot 0.
fn sign_as(
    prover: &Prover,
    petition: &PetitionFile,
    secret: &IdentitySecret,
    attrs: Attributes,
    tree: &MerkleTree,
    index: u64,
    rng: &mut ChaCha20Rng,
) -> Signature {
    let mask = Mask::from_slots(&[0]).unwrap();
    let statement = Statement::new(
        secret.sk(),
        &attrs,
        &tree.path(index).unwrap(),
        tree.root(),
        petition.scope(),
        message(None),
        mask,
    );
    Signature {
        petition: petition.id(),
        root: tree.root(),
        nullifier: statement.public.nullifier,
        mask,
        disclosed: attrs.disclose(mask),
        comment: None,
        proof: ProofBytes::encode(&prover.prove(&statement, rng).unwrap()).unwrap(),
    }
}

fn bundle_bytes(w: &World, signatures: &[Signature]) -> Vec<u8> {
    let mut out = Vec::new();
    bundle::write_bundle(
        &mut out,
        &w.petition,
        w.registry.schema(),
        w.registry.checkpoints(),
        w.prover.verifier(),
        signatures,
    )
    .unwrap();
    out
}

/// The checker of the world's petition.
fn checker(w: &World) -> Checker {
    Checker::new(
        w.petition.clone(),
        w.registry.checkpoints(),
        w.prover.verifier().clone(),
    )
}

fn options(w: &World) -> AuditOptions {
    AuditOptions {
        registrar_key: w.registrar.public_key(),
        pinned_vk_hash: None,
        verifier: Default::default(),
    }
}

fn sorted(w: &World) -> Vec<Signature> {
    let mut s = w.signatures.clone();
    s.sort_by_key(|s| s.nullifier_key());
    s
}

#[test]
fn clean_bundle_counts_and_breaks_down() {
    let w = world();
    let report = bundle::audit(Cursor::new(bundle_bytes(&w, &sorted(&w))), &options(&w)).unwrap();
    assert!(report.valid, "{report:?}");
    assert_eq!(report.count, 4);
    let rows = &report.breakdown[0].rows;
    assert_eq!((rows[0].label.as_str(), rows[0].count), ("current", 2));
    assert_eq!((rows[1].label.as_str(), rows[1].count), ("former", 2));
}

#[test]
fn unsorted_truncated_and_oversized_lines_are_reported() {
    let w = world();
    let mut reversed = sorted(&w);
    reversed.reverse();
    let report = bundle::audit(Cursor::new(bundle_bytes(&w, &reversed)), &options(&w)).unwrap();
    assert_eq!(report.count, 4);
    assert!(
        report
            .problems
            .iter()
            .any(|p| p.code == "out_of_order" && p.message.contains("out of nullifier order")),
        "{:?}",
        report.problems
    );

    // Drop the last line: the header's count no longer matches.
    let bytes = bundle_bytes(&w, &sorted(&w));
    let text = String::from_utf8(bytes).unwrap();
    let cut = text.trim_end().rfind('\n').unwrap();
    let report = bundle::audit(Cursor::new(text[..=cut].to_owned()), &options(&w)).unwrap();
    assert_eq!(report.count, 3);
    assert!(
        report
            .problems
            .iter()
            .any(|p| p.code == "signature_count_mismatch" && p.message.contains("announces 4")),
        "{:?}",
        report.problems
    );

    // An enormous line and a garbage line are rejected one by one; the rest still count.
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    lines.insert(2, "x".repeat(1 << 20));
    lines.insert(3, "{\"version\":1".to_owned());
    let report = bundle::audit(Cursor::new(lines.join("\n") + "\n"), &options(&w)).unwrap();
    assert_eq!(report.count, 4);
    assert_eq!(report.rejected.len(), 2);
    assert!(report.rejected.iter().all(|r| r.code == "malformed"));
}

#[test]
fn unreadable_and_untrusted_headers() {
    let w = world();
    assert!(matches!(
        bundle::audit(Cursor::new(Vec::new()), &options(&w)),
        Err(BundleError::Empty)
    ));
    // A first line that is not a header is the audit's verdict (exit 1), not unreadable input.
    for first in [&b"{}\n"[..], b"\n", b"[]\n", b"not json\n"] {
        let report = bundle::audit(Cursor::new(first.to_vec()), &options(&w)).unwrap();
        let fatal = report.fatal.expect("fatal");
        assert_eq!(
            fatal.code, "header_malformed",
            "{first:?}: {}",
            fatal.message
        );
        assert_eq!((report.petition, report.count), (None, 0));
    }
    let mut signature_file = sorted(&w)[0].to_json_pretty().replace('\n', " ");
    signature_file.push('\n');
    let report = bundle::audit(Cursor::new(signature_file), &options(&w)).unwrap();
    let fatal = report.fatal.expect("fatal");
    assert!(
        fatal
            .message
            .contains("\"undersign-signature\" file, not a bundle header"),
        "{}",
        fatal.message
    );
    let other = AuditOptions {
        registrar_key: RegistrarKey::from_secret_bytes(&[6u8; 32]).public_key(),
        pinned_vk_hash: None,
        verifier: Default::default(),
    };
    let report = bundle::audit(Cursor::new(bundle_bytes(&w, &sorted(&w))), &other).unwrap();
    let fatal = report.fatal.expect("fatal");
    assert_eq!(fatal.code, "registrar_key_mismatch");
    assert_eq!(report.count, 0);
    // What could be read is reported, computed rather than claimed.
    assert_eq!(report.petition, Some(w.petition.id_hex()));
    assert_eq!(
        report.verifying_key_hash.as_deref(),
        Some(w.prover.verifier().key_hash())
    );
    let pinned = AuditOptions {
        registrar_key: w.registrar.public_key(),
        pinned_vk_hash: Some("00".repeat(32)),
        verifier: Default::default(),
    };
    let report = bundle::audit(Cursor::new(bundle_bytes(&w, &sorted(&w))), &pinned).unwrap();
    assert_eq!(
        report.fatal.map(|f| f.code),
        Some("verifying_key_not_pinned")
    );
}

#[test]
fn build_keeps_one_per_nullifier_whatever_the_arrival_order() {
    let w = world();
    let checker = checker(&w);
    let mut inputs: Vec<(String, Vec<u8>)> = w
        .signatures
        .iter()
        .enumerate()
        .map(|(i, s)| (format!("sig{i}"), s.to_json_pretty().into_bytes()))
        .collect();
    inputs.push(("copy".into(), w.signatures[2].to_json_line().into_bytes()));
    inputs.push(("junk".into(), b"junk".to_vec()));
    let forward = bundle::build(&checker, inputs.clone());
    inputs.reverse();
    let backward = bundle::build(&checker, inputs);
    assert_eq!(forward.accepted, backward.accepted);
    assert_eq!(forward.accepted, sorted(&w));
    let codes: Vec<&str> = forward.dropped.iter().map(|d| d.code).collect();
    assert_eq!(codes.len(), 2);
    assert!(codes.contains(&"duplicate_nullifier") && codes.contains(&"malformed"));
    assert_eq!(forward.newest_checkpoint, Some(0));
}

#[test]
fn signature_parsing_is_strict() {
    let w = world();
    let good = w.signatures[0].to_json_line();
    assert_eq!(
        Signature::from_json(good.as_bytes()).unwrap(),
        w.signatures[0]
    );
    let mutate = |f: &dyn Fn(&mut serde_json::Value)| {
        let mut v: serde_json::Value = serde_json::from_str(&good).unwrap();
        f(&mut v);
        Signature::from_json(v.to_string().as_bytes())
    };
    assert!(mutate(&|v| v["version"] = 2.into()).is_err());
    assert!(mutate(&|v| v["kind"] = "undersign-petition".into()).is_err());
    assert!(mutate(&|v| v["mask"] = 16.into()).is_err());
    assert!(mutate(&|v| v["disclosed"][0] = 70000.into()).is_err());
    assert!(mutate(&|v| v["disclosed"][2] = 1.into()).is_err());
    assert!(mutate(&|v| v["comment"] = "x".repeat(1001).into()).is_err());
    assert!(mutate(&|v| v["proof"] = v["proof"].as_str().unwrap().to_uppercase().into()).is_err());
    assert!(
        mutate(&|v| v["root"] = v["root"].as_str().unwrap().trim_start_matches("0x").into())
            .is_err()
    );
    assert!(mutate(&|v| {
        v.as_object_mut().unwrap().remove("comment");
    })
    .is_err());
    assert!(Signature::from_json(&vec![b' '; 5000]).is_err());
}

/// `petition` with its JSON edited by `edit`, parsed again.
fn parse_edited(
    petition: &PetitionFile,
    edit: &dyn Fn(&mut serde_json::Value),
) -> Result<PetitionFile, undersign_tally::petition::PetitionError> {
    let mut value: serde_json::Value = serde_json::from_slice(petition.bytes()).unwrap();
    edit(&mut value);
    PetitionFile::parse(value.to_string().into_bytes())
}

#[test]
fn petition_parsing_is_strict() {
    let w = world();
    let parse = |f: &dyn Fn(&mut serde_json::Value)| parse_edited(&w.petition, f);
    assert!(parse(&|_| {}).is_ok());
    assert!(parse(&|v| v["disclose"] = serde_json::json!([1, 0])).is_err());
    assert!(parse(&|v| v["disclose"] = serde_json::json!([4])).is_err());
    assert!(parse(&|v| v["registrar_key"] = "00".repeat(32).into()).is_err());
    assert!(parse(&|v| v["nonce"] = "zz".into()).is_err());
    assert!(parse(&|v| v["title"] = "".into()).is_err());
    assert!(parse(&|v| v["surprise"] = 1.into()).is_err());
    assert!(parse(&|v| v["proving_key"] = "AB".repeat(32).into()).is_err());
    // A window is never opened by omission: `max_checkpoint` must be written, even as null.
    assert!(parse(&|v| {
        v.as_object_mut().unwrap().remove("max_checkpoint");
    })
    .is_err());
    assert!(parse(&|v| v["max_checkpoint"] = serde_json::Value::Null).is_ok());
    assert!(parse(&|v| {
        v["min_checkpoint"] = 3.into();
        v["max_checkpoint"] = 2.into();
    })
    .is_err());
    // The id and scope are over the exact bytes: reformatting makes another petition.
    let reformatted = parse(&|_| {}).unwrap();
    assert_ne!(reformatted.id(), w.petition.id());
    assert_ne!(reformatted.scope(), w.petition.scope());
}

/// The review's reproduction (issue: one count per person): a member is removed and re-issued
/// an identity with another status, in a new checkpoint. Both identities can prove; only a
/// petition that accepts both checkpoints counts both, and then says so.
#[test]
fn reissued_member_counts_once_by_default_and_the_window_states_its_bound() {
    let mut rng = ChaCha20Rng::seed_from_u64(7);
    let w = world();
    let keys = w.prover.verifier().key_hash().to_owned();
    let mut registry = w.registry.clone();
    let old_tree = registry.tree().unwrap();
    // Member 0 loses their identity file: removed, and added again as "former".
    let old_secret_index = 0u64;
    registry.remove(old_secret_index).unwrap();
    let reissued = IdentitySecret::from_bytes(rng.gen());
    let new_index = registry
        .add(reissued.commitment(), Attributes([2, 0, 0, 0]))
        .unwrap();
    registry.checkpoint(&w.registrar, 1_800_000_100).unwrap();
    let cp1 = registry.checkpoints()[1].clone();
    assert_eq!((cp1.removed, cp1.removed_since_previous), (1, 1));
    let new_tree = registry.tree().unwrap();

    let petition_with = |max: Option<u64>| {
        PetitionFile::create(PetitionFields {
            version: 1,
            kind: undersign_tally::petition::KIND.into(),
            title: "Window".into(),
            text: "Text".into(),
            registry: hex::encode(registry.id()),
            registrar_key: w.registrar.public_key().to_hex(),
            verifying_key: keys.clone(),
            proving_key: "11".repeat(32),
            disclose: vec![0],
            min_checkpoint: 0,
            min_checkpoint_hash: hex::encode(registry.checkpoints()[0].hash()),
            max_checkpoint: max,
            nonce: "22".repeat(32),
        })
        .unwrap()
    };
    // The same person's two identities: the old one against checkpoint 0's tree (a saved copy
    // of the registry), the new one against checkpoint 1's.
    let sign = |petition: &PetitionFile,
                sk: &IdentitySecret,
                attrs: Attributes,
                tree: &MerkleTree,
                index: u64,
                rng: &mut ChaCha20Rng| {
        sign_as(&w.prover, petition, sk, attrs, tree, index, rng)
    };
    let old_secret = member_secret(0);
    assert_eq!(
        Some(old_secret.commitment()),
        w.registry.member(0).map(|m| m.commitment)
    );

    for (max, expect_count, expect_bound) in [(Some(0), 1, 0), (Some(1), 2, 1), (None, 2, 1)] {
        let petition = petition_with(max);
        let mut signatures = vec![
            sign(
                &petition,
                &old_secret,
                Attributes([1, 0, 0, 0]),
                &old_tree,
                old_secret_index,
                &mut rng,
            ),
            sign(
                &petition,
                &reissued,
                Attributes([2, 0, 0, 0]),
                &new_tree,
                new_index,
                &mut rng,
            ),
        ];
        signatures.sort_by_key(|s| s.nullifier_key());
        let mut bytes = Vec::new();
        bundle::write_bundle(
            &mut bytes,
            &petition,
            registry.schema(),
            registry.checkpoints(),
            w.prover.verifier(),
            &signatures,
        )
        .unwrap();
        let report = bundle::audit(Cursor::new(bytes), &options(&w)).unwrap();
        assert_eq!(report.count, expect_count, "window max {max:?}");
        assert_eq!(report.double_count_bound.members, expect_bound);
        assert_eq!(report.accepted_checkpoints.map(|w| w.max), Some(max));
        if max == Some(0) {
            assert_eq!(report.rejected.len(), 1);
            assert_eq!(report.rejected[0].code, "root_after_maximum");
            assert_eq!(report.roots.len(), 1);
            assert_eq!(report.roots[0].checkpoint, 0);
        } else {
            assert!(report.valid, "{report:?}");
            let per_root: Vec<(u64, u64)> = report
                .roots
                .iter()
                .map(|r| (r.checkpoint, r.count))
                .collect();
            assert_eq!(per_root, vec![(0, 1), (1, 1)]);
            assert_eq!(report.double_count_bound.first, Some(0));
            assert_eq!(report.double_count_bound.last, Some(1));
        }
    }

    // A window starting at checkpoint 1 refuses the old root as before its minimum.
    let mut late =
        serde_json::from_slice::<serde_json::Value>(petition_with(None).bytes()).unwrap();
    late["min_checkpoint"] = 1.into();
    let late = PetitionFile::parse(serde_json::to_vec_pretty(&late).unwrap()).unwrap();
    let checker = Checker::new(
        late.clone(),
        registry.checkpoints(),
        w.prover.verifier().clone(),
    );
    let old = sign(
        &late,
        &old_secret,
        Attributes([1, 0, 0, 0]),
        &old_tree,
        0,
        &mut rng,
    );
    assert_eq!(
        checker.check(&old).unwrap_err().code(),
        "root_before_minimum"
    );
}

/// The secret of world()'s member `i` (drawn from seed 99 in order).
fn member_secret(i: usize) -> IdentitySecret {
    let mut rng = ChaCha20Rng::seed_from_u64(99);
    let secrets: Vec<IdentitySecret> = (0..=i)
        .map(|_| IdentitySecret::from_bytes(rng.gen()))
        .collect();
    secrets[i].clone()
}

/// Checkpoints that share a root (nothing changed between them): the root is accepted when any
/// of them is in the window, and reported as the newest one inside it.
#[test]
fn a_shared_root_is_accepted_by_any_checkpoint_in_the_window() {
    let mut rng = ChaCha20Rng::seed_from_u64(8);
    let w = world();
    let mut registry = w.registry.clone();
    // Checkpoints 1 and 2 share checkpoint 0's root; a member added makes checkpoint 3's new.
    registry.checkpoint(&w.registrar, 1_800_000_001).unwrap();
    registry.checkpoint(&w.registrar, 1_800_000_002).unwrap();
    let tree = registry.tree().unwrap();
    registry
        .add(
            IdentitySecret::from_bytes(rng.gen()).commitment(),
            Attributes([1, 0, 0, 0]),
        )
        .unwrap();
    registry.checkpoint(&w.registrar, 1_800_000_003).unwrap();
    let attrs = registry.member(1).unwrap().attributes;
    let cases: [(u64, Option<u64>, Result<u64, &str>); 5] = [
        (0, Some(0), Ok(0)),
        (1, Some(1), Ok(1)),
        (0, None, Ok(2)),
        (1, Some(3), Ok(2)),
        (3, None, Err("root_before_minimum")),
    ];
    for (min, max, expected) in cases {
        let mut fields = w.petition.fields().clone();
        fields.min_checkpoint = min;
        fields.max_checkpoint = max;
        let petition = PetitionFile::create(fields).unwrap();
        let signature = sign_as(
            &w.prover,
            &petition,
            &member_secret(1),
            attrs,
            &tree,
            1,
            &mut rng,
        );
        let checker = Checker::new(
            petition,
            registry.checkpoints(),
            w.prover.verifier().clone(),
        );
        let result = checker.check(&signature).map_err(|r| r.code());
        assert_eq!(result, expected, "window {min}..{max:?}");
    }
}

/// A rival checkpoint 0 (signed with the registrar's key, another root) is not the petition's:
/// the petition pins its first accepted checkpoint by hash, so an audit of a bundle carrying the
/// rival chain counts nothing.
#[test]
fn a_rival_chain_with_the_same_sequence_is_fatal() {
    let w = world();
    let mut rival = Registry::new(w.registry.schema().clone(), DEPTH, *w.registry.id()).unwrap();
    rival
        .add(
            IdentitySecret::from_bytes([3u8; 32]).commitment(),
            Attributes([1, 0, 0, 0]),
        )
        .unwrap();
    rival.checkpoint(&w.registrar, 1_800_000_000).unwrap();
    assert_ne!(
        rival.checkpoints()[0].hash(),
        w.registry.checkpoints()[0].hash()
    );
    let mut bytes = Vec::new();
    bundle::write_bundle(
        &mut bytes,
        &w.petition,
        rival.schema(),
        rival.checkpoints(),
        w.prover.verifier(),
        &[],
    )
    .unwrap();
    let report = bundle::audit(Cursor::new(bytes), &options(&w)).unwrap();
    let fatal = report.fatal.expect("fatal");
    assert_eq!(fatal.code, "min_checkpoint_hash_mismatch");
    assert!(
        fatal.message.contains("another chain of checkpoints"),
        "{}",
        fatal.message
    );
    assert!(w.petition.check_chain(w.registry.checkpoints()).is_ok());
    assert!(
        w.petition.check_chain(&[]).is_ok(),
        "a chain too short to reach it"
    );
}

/// A bundle whose chain stops before the petition's first accepted checkpoint can count
/// nothing; the audit says why instead of only rejecting every line.
#[test]
fn a_chain_ending_before_the_window_is_a_problem() {
    let w = world();
    let mut registry = w.registry.clone();
    registry.checkpoint(&w.registrar, 1_800_000_001).unwrap();
    let mut fields = w.petition.fields().clone();
    fields.min_checkpoint = 1;
    fields.max_checkpoint = Some(1);
    fields.min_checkpoint_hash = hex::encode(registry.checkpoints()[1].hash());
    let petition = PetitionFile::create(fields).unwrap();
    let mut bytes = Vec::new();
    bundle::write_bundle(
        &mut bytes,
        &petition,
        registry.schema(),
        &registry.checkpoints()[..1],
        w.prover.verifier(),
        &[],
    )
    .unwrap();
    let report = bundle::audit(Cursor::new(bytes), &options(&w)).unwrap();
    assert!(report.fatal.is_none());
    assert!(
        report
            .problems
            .iter()
            .any(|p| p.code == "chain_ends_before_minimum"
                && p.message.contains("ends before checkpoint 1")),
        "{:?}",
        report.problems
    );
    assert!(!report.valid);
}

/// Mutation testing found these gaps (README "Testing the tests"): the single-signature path
/// (`Checker::check`, used by `verify` and the collector) must verify the proof itself, not
/// only the batch path the audit uses.
#[test]
fn the_single_signature_check_verifies_the_proof_in_both_modes() {
    use undersign_tally::check::{Rejection, VerifierMode};
    let w = world();
    let good = &w.signatures[0];
    // Valid points, valid rules, but the proof of another member's statement.
    let mut forged = good.clone();
    forged.proof = w.signatures[1].proof;
    for mode in [VerifierMode::Fast, VerifierMode::Reference] {
        let checker = checker(&w).with_mode(mode);
        assert_eq!(checker.mode(), mode);
        assert_eq!(checker.check(good), Ok(0));
        assert!(
            matches!(checker.check(&forged), Err(Rejection::InvalidProof(_))),
            "{mode:?}: {:?}",
            checker.check(&forged)
        );
        let bytes = forged.to_json_pretty().into_bytes();
        assert_eq!(
            checker
                .check_bytes(&bytes)
                .map(|(_, s)| s)
                .map_err(|r| r.code()),
            Err("invalid_proof")
        );
        assert_eq!(
            checker
                .check_bytes(good.to_json_line().as_bytes())
                .map(|(_, s)| s),
            Ok(0)
        );
    }
}

/// `bundle build` names the nullifier of every dropped input that has one (at most 80 ASCII
/// characters, as a rejected line may carry anything), and none for junk.
#[test]
fn build_names_the_nullifiers_of_dropped_inputs() {
    let w = world();
    let checker = checker(&w);
    let mut forged = w.signatures[0].clone();
    forged.proof = w.signatures[1].proof;
    let forged_json: serde_json::Value = serde_json::from_str(&forged.to_json_line()).unwrap();
    let with_nullifier = |n: &str| {
        let mut v = forged_json.clone();
        v["nullifier"] = n.into();
        v.to_string().into_bytes()
    };
    let outcome = bundle::build(
        &checker,
        vec![
            ("forged".into(), forged.to_json_pretty().into_bytes()),
            ("junk".into(), b"junk".to_vec()),
            ("long".into(), with_nullifier(&"7".repeat(81))),
            ("eighty".into(), with_nullifier(&"7".repeat(80))),
            ("non-ascii".into(), with_nullifier("é")),
        ],
    );
    let named: Vec<(&str, Option<&str>)> = outcome
        .dropped
        .iter()
        .map(|d| (d.source.as_str(), d.nullifier.as_deref()))
        .collect();
    let forged_nullifier = forged_json["nullifier"].as_str().unwrap();
    let eighty = "7".repeat(80);
    assert_eq!(
        named,
        vec![
            ("forged", Some(forged_nullifier)),
            ("junk", None),
            ("long", None),
            ("eighty", Some(eighty.as_str())),
            ("non-ascii", None),
        ]
    );
}

/// The listing stops at MAX_LISTED_REJECTIONS lines; the count does not.
#[test]
fn rejections_past_the_listing_cap_are_counted_not_listed() {
    let w = world();
    let mut bytes = bundle_bytes(&w, &sorted(&w));
    let extra = bundle::MAX_LISTED_REJECTIONS + 1;
    for _ in 0..extra {
        bytes.extend_from_slice(b"junk\n");
    }
    let report = bundle::audit(Cursor::new(bytes), &options(&w)).unwrap();
    assert_eq!(report.count, 4);
    assert_eq!(report.rejected_total, extra as u64);
    assert_eq!(report.rejected.len(), bundle::MAX_LISTED_REJECTIONS);
    assert_eq!(
        report.rejected_by_code.get("malformed"),
        Some(&(extra as u64))
    );
    // Line numbers count the header as line 1.
    assert_eq!(report.rejected[0].line, 6);
}

/// A line just past the longest possible signature is refused unread, with its own reason,
/// and the out-of-order problem counts the lines out of order; the progress callback ends at
/// the number of lines read.
#[test]
fn long_lines_unsorted_counts_and_progress() {
    use undersign_tally::signature::MAX_SIGNATURE_BYTES;
    let w = world();
    let mut reversed = sorted(&w);
    reversed.reverse();
    let mut bytes = bundle_bytes(&w, &reversed);
    bytes.extend_from_slice(&vec![b'x'; MAX_SIGNATURE_BYTES + 100]);
    bytes.push(b'\n');
    let mut seen = Vec::new();
    let report =
        bundle::audit_with_progress(&mut Cursor::new(bytes), &options(&w), &mut |n| seen.push(n))
            .unwrap();
    assert_eq!(seen.last(), Some(&5));
    assert_eq!(report.rejected.len(), 1);
    assert!(
        report.rejected[0]
            .reason
            .contains("longer than any signature"),
        "{}",
        report.rejected[0].reason
    );
    let out_of_order = report
        .problems
        .iter()
        .find(|p| p.code == "out_of_order")
        .expect("out of order");
    assert!(
        out_of_order
            .message
            .starts_with("3 lines out of nullifier order, the first at line 3"),
        "{}",
        out_of_order.message
    );
}

/// Every rejection says why in words that name its cause.
#[test]
fn rejections_are_described() {
    use undersign_tally::check::Rejection;
    let texts = [
        (
            Rejection::UnknownRoot,
            "registry root is not a signed checkpoint",
        ),
        (Rejection::DuplicateNullifier, "duplicate nullifier"),
        (
            Rejection::RootBeforeMinimum {
                sequence: 1,
                minimum: 2,
            },
            "from checkpoint 1, older than the petition's minimum 2",
        ),
        (
            Rejection::MaskNotAllowed {
                mask: 3,
                allowed: 1,
            },
            "(mask 3) the petition does not allow (mask 1)",
        ),
    ];
    for (rejection, text) in texts {
        assert!(rejection.to_string().contains(text), "{rejection}");
    }
}

#[test]
fn petition_windows_and_disclosures_at_their_bounds() {
    let w = world();
    let parse = |f: &dyn Fn(&mut serde_json::Value)| parse_edited(&w.petition, f);
    // A one-checkpoint window.
    assert!(parse(&|v| {
        v["min_checkpoint"] = 2.into();
        v["max_checkpoint"] = 2.into();
    })
    .is_ok());
    // A slot named twice, or out of order: the order rule says so.
    for disclose in [serde_json::json!([0, 0]), serde_json::json!([1, 0])] {
        let error = parse(&|v| v["disclose"] = disclose.clone()).unwrap_err();
        assert!(error.to_string().contains("strictly increasing"), "{error}");
    }
    assert!(parse(&|v| v["disclose"] = serde_json::json!([0, 3])).is_ok());
    let error = parse(&|v| v["disclose"] = serde_json::json!([0, 4])).unwrap_err();
    assert!(
        error.to_string().contains("slot 4 does not exist"),
        "{error}"
    );
    assert_eq!(w.petition.proving_key_hash(), "11".repeat(32));
}

/// The receipt of SPEC.md §14: its vector there, and it names the statement (so another proof
/// of it has the same receipt) and changes with any public input.
#[test]
fn the_receipt_is_the_statements_hash() {
    let spec_vector = Signature {
        petition: [0x11; 32],
        root: ark_bn254::Fr::from(1u64),
        nullifier: ark_bn254::Fr::from(2u64),
        mask: Mask::new(0b0011).unwrap(),
        disclosed: Attributes([1, 7, 0, 0]),
        comment: Some("hello".into()),
        proof: world().signatures[0].proof,
    };
    assert_eq!(
        hex::encode(spec_vector.receipt()),
        "73fefc96fbb924d5790b4819b8930bfea31c61ce6bef0fe9b96c2865d98b7538"
    );
    let w = world();
    let signature = &w.signatures[0];
    let mut other_proof = signature.clone();
    other_proof.proof = w.signatures[1].proof;
    assert_eq!(other_proof.receipt(), signature.receipt());
    let mut commented = signature.clone();
    commented.comment = Some("x".into());
    assert_ne!(commented.receipt(), signature.receipt());
}

/// Progress is reported once per batch of `BATCH_LINES` lines, then at the end.
#[test]
fn progress_is_reported_per_batch() {
    let w = world();
    let mut bytes = bundle_bytes(&w, &sorted(&w));
    for _ in 0..bundle::BATCH_LINES {
        bytes.extend_from_slice(b"junk\n");
    }
    let mut seen = Vec::new();
    let report =
        bundle::audit_with_progress(&mut Cursor::new(bytes), &options(&w), &mut |n| seen.push(n))
            .unwrap();
    assert_eq!(report.count, 4);
    let batch = bundle::BATCH_LINES as u64;
    assert_eq!(seen, vec![batch, batch + 4]);
}
