//! Signer identities: the 32-byte secret, the field secret `sk`, the commitment handed to the
//! registrar, the member leaf and the per-petition nullifier (`SPEC.md` §Identity).

use crate::attributes::Attributes;
use crate::poseidon;
use ark_bn254::Fr;
use ark_ff::{AdditiveGroup, PrimeField};
use zeroize::{Zeroize, ZeroizeOnDrop};

/// blake3 `derive_key` context that maps an identity secret to `sk`.
pub const SK_CONTEXT: &str = "undersign v1 identity secret to sk";

/// A signer's 32-byte random secret. Zeroized on drop; never printed by `Debug`.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct IdentitySecret([u8; 32]);

impl std::fmt::Debug for IdentitySecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("IdentitySecret(<redacted>)")
    }
}

impl IdentitySecret {
    /// Wraps 32 secret bytes (from the OS RNG, or read back from an identity file).
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// The raw secret bytes, for writing the identity file.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// The field secret: 64 bytes of blake3 XOF output under [`SK_CONTEXT`], read as a
    /// little-endian integer and reduced mod r (bias below 2^-250).
    pub fn sk(&self) -> Fr {
        let mut hasher = blake3::Hasher::new_derive_key(SK_CONTEXT);
        hasher.update(&self.0);
        let mut wide = [0u8; 64];
        hasher.finalize_xof().fill(&mut wide);
        let sk = Fr::from_le_bytes_mod_order(&wide);
        wide.zeroize();
        sk
    }

    /// The public commitment `Poseidon(sk)` handed to the registrar.
    pub fn commitment(&self) -> Fr {
        commitment(self.sk())
    }
}

/// `Poseidon(sk)`.
pub fn commitment(sk: Fr) -> Fr {
    poseidon::hash1(sk)
}

/// The registry leaf of a member: `Poseidon(commitment, attrs)`.
pub fn member_leaf(commitment: Fr, attributes: &Attributes) -> Fr {
    poseidon::hash2(commitment, attributes.packed())
}

/// The leaves of many members, `member_leaf` of each `(commitment, attributes)`, or `0` for
/// `None` (a removed member); batched and parallel (see [`poseidon::hash2_batch`]).
pub fn member_leaves<'a>(
    members: impl IntoIterator<Item = Option<(Fr, &'a Attributes)>>,
) -> Vec<Fr> {
    let mut removed = Vec::new();
    let pairs: Vec<[Fr; 2]> = members
        .into_iter()
        .enumerate()
        .map(|(i, m)| match m {
            Some((commitment, attributes)) => [commitment, attributes.packed()],
            None => {
                removed.push(i);
                [Fr::ZERO; 2]
            }
        })
        .collect();
    let mut leaves = poseidon::hash2_batch(&pairs);
    for i in removed {
        leaves[i] = Fr::ZERO;
    }
    leaves
}

/// The nullifier of `sk` for a petition scope: `Poseidon(scope, sk)`.
pub fn nullifier(scope: Fr, sk: Fr) -> Fr {
    poseidon::hash2(scope, sk)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sk_is_deterministic_and_secret_dependent() {
        let a = IdentitySecret::from_bytes([7u8; 32]);
        let b = IdentitySecret::from_bytes([8u8; 32]);
        assert_eq!(a.sk(), IdentitySecret::from_bytes([7u8; 32]).sk());
        assert_ne!(a.sk(), b.sk());
        assert_ne!(a.commitment(), b.commitment());
    }

    #[test]
    fn debug_never_shows_the_secret() {
        let s = IdentitySecret::from_bytes([0xab; 32]);
        let shown = format!("{s:?}");
        assert!(!shown.contains("ab") && !shown.contains("171"), "{shown}");
    }

    #[test]
    fn nullifier_depends_on_scope_and_sk() {
        let sk = IdentitySecret::from_bytes([1u8; 32]).sk();
        let n1 = nullifier(Fr::from(1u64), sk);
        assert_ne!(n1, nullifier(Fr::from(2u64), sk));
        assert_ne!(n1, nullifier(Fr::from(1u64), sk + Fr::from(1u64)));
    }

    #[test]
    fn member_leaves_match_member_leaf() {
        let attrs: Vec<Attributes> = (0..20u64)
            .map(|i| Attributes::from_packed_u64(i * 0x0101))
            .collect();
        let members: Vec<Option<(Fr, &Attributes)>> = attrs
            .iter()
            .enumerate()
            .map(|(i, a)| (i % 7 != 3).then(|| (commitment(Fr::from(i as u64 + 1)), a)))
            .collect();
        let leaves = member_leaves(members.iter().copied());
        assert_eq!(leaves.len(), members.len());
        for (leaf, member) in leaves.iter().zip(&members) {
            match member {
                Some((c, a)) => assert_eq!(*leaf, member_leaf(*c, a)),
                None => assert_eq!(*leaf, Fr::ZERO),
            }
        }
    }
}
