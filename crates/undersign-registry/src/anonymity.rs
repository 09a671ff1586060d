//! Anonymity sets: how many members a disclosure would hide a signer among.
//!
//! A signature made against a checkpoint of size `k` that discloses codes `d` under mask `m`
//! could have been made by any active member among the first `k` positions whose codes equal
//! `d` on every slot of `m`. (Removal is judged by the registry as it is now; a member removed
//! after the checkpoint could still have signed against it, so the count is a lower bound.)

use crate::registry::Registry;
use undersign_core::attributes::{Attributes, Mask, SLOTS};

/// The number of active members among the first `size` positions whose codes equal
/// `disclosed` on every slot in `mask`. A `size` past the registry's length counts every
/// position.
pub fn anonymity_set(registry: &Registry, size: u64, mask: Mask, disclosed: &Attributes) -> u64 {
    let take = usize::try_from(size).unwrap_or(usize::MAX);
    let slots = mask.slots();
    registry
        .members()
        .iter()
        .take(take)
        .flatten()
        .filter(|m| slots.iter().all(|&i| m.attributes.0[i] == disclosed.0[i]))
        .count() as u64
}

/// Chooses how much a member with codes `member_attrs` should disclose: starting from
/// `allowed`, while the anonymity set is below `threshold` and the mask is not empty, drop the
/// slot whose removal gives the largest set (ties: the lowest slot). Returns the mask and the
/// size of its anonymity set.
pub fn choose_mask(
    registry: &Registry,
    size: u64,
    member_attrs: &Attributes,
    allowed: Mask,
    threshold: u64,
) -> (Mask, u64) {
    let set_for = |mask: Mask| anonymity_set(registry, size, mask, &member_attrs.disclose(mask));
    let mut mask = allowed;
    let mut set = set_for(mask);
    while set < threshold && mask != Mask::NONE {
        let mut best: Option<(Mask, u64)> = None;
        for slot in mask.slots() {
            let bits = u64::from(mask.bits()) & !(1u64 << slot);
            let Ok(candidate) = Mask::new(bits) else {
                continue;
            };
            let candidate_set = set_for(candidate);
            if best.is_none_or(|(_, s)| candidate_set > s) {
                best = Some((candidate, candidate_set));
            }
        }
        match best {
            Some((m, s)) => (mask, set) = (m, s),
            None => break,
        }
    }
    debug_assert!(mask.is_subset_of(allowed) && mask.bits() < (1 << SLOTS));
    (mask, set)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::tests::sample;
    use crate::schema::tests::example;
    use undersign_core::Fr;

    fn mask(slots: &[usize]) -> Mask {
        Mask::from_slots(slots).unwrap()
    }

    #[test]
    fn counts_matching_active_members_in_the_prefix() {
        // Members i = 0..12: slot 0 code i % 3, slot 1 code [0,1,2,7][i % 4].
        let mut registry = sample(12, 3);
        let all = registry.len();
        assert_eq!(
            anonymity_set(&registry, all, Mask::NONE, &Attributes::default()),
            12
        );
        assert_eq!(
            anonymity_set(&registry, all, mask(&[0]), &Attributes([1, 0, 0, 0])),
            4
        );
        // i with i % 3 == 1 and i % 4 == 1: i = 1 (and 13, out of range).
        assert_eq!(
            anonymity_set(&registry, all, mask(&[0, 1]), &Attributes([1, 1, 0, 0])),
            1
        );
        // Codes outside the mask are ignored.
        assert_eq!(
            anonymity_set(&registry, all, mask(&[1]), &Attributes([2, 7, 0, 0])),
            3
        );
        // Prefix: among i < 6, slot 1 code 7 is i = 3 only.
        assert_eq!(
            anonymity_set(&registry, 6, mask(&[1]), &Attributes([0, 7, 0, 0])),
            1
        );
        assert_eq!(
            anonymity_set(&registry, 0, Mask::NONE, &Attributes::default()),
            0
        );
        assert_eq!(
            anonymity_set(&registry, u64::MAX, Mask::NONE, &Attributes::default()),
            12
        );
        registry.remove(3).unwrap();
        assert_eq!(
            anonymity_set(&registry, 6, mask(&[1]), &Attributes([0, 7, 0, 0])),
            0
        );
        assert_eq!(
            anonymity_set(&registry, all, Mask::NONE, &Attributes::default()),
            11
        );
    }

    #[test]
    fn choose_mask_drops_the_most_identifying_slot() {
        let registry = sample(12, 4);
        let all = registry.len();
        let member = Attributes([1, 1, 0, 0]); // member 1
        let both = mask(&[0, 1]);
        // Threshold already met: keep everything allowed.
        assert_eq!(choose_mask(&registry, all, &member, both, 1), (both, 1));
        // Dropping slot 1 leaves slot 0 = 1 (4 members); dropping slot 0 leaves slot 1 = 1
        // (3 members): slot 1 goes.
        assert_eq!(
            choose_mask(&registry, all, &member, both, 2),
            (mask(&[0]), 4)
        );
        assert_eq!(
            choose_mask(&registry, all, &member, both, 4),
            (mask(&[0]), 4)
        );
        // Above what one slot gives: disclose nothing.
        assert_eq!(
            choose_mask(&registry, all, &member, both, 5),
            (Mask::NONE, 12)
        );
        // Never above the registry: the empty mask is returned even below the threshold.
        assert_eq!(
            choose_mask(&registry, all, &member, both, 100),
            (Mask::NONE, 12)
        );
        // Only allowed slots are considered.
        assert_eq!(
            choose_mask(&registry, all, &member, mask(&[1]), 3),
            (mask(&[1]), 3)
        );
        assert_eq!(
            choose_mask(&registry, all, &member, mask(&[1]), 4),
            (Mask::NONE, 12)
        );
        // Ties go to dropping the lowest slot.
        let mut tied = Registry::new(example(), 4, [0; 32]).unwrap();
        for (i, codes) in [[1, 1], [1, 2], [2, 1], [2, 2]].iter().enumerate() {
            tied.add(
                Fr::from(i as u64 + 1),
                Attributes([codes[0], codes[1], 0, 0]),
            )
            .unwrap();
        }
        let (m, s) = choose_mask(&tied, 4, &Attributes([1, 1, 0, 0]), both, 2);
        assert_eq!((m, s), (mask(&[1]), 2));
    }
}
