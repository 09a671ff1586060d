//! Category attributes and selective disclosure (`SPEC.md` §Attributes).
//!
//! A member has four 16-bit category codes (0 = unset), packed little-endian into one field
//! element `attrs = a0 + a1·2^16 + a2·2^32 + a3·2^48`. A signature discloses the slots whose
//! bits are set in a 4-bit mask: `disclosed = Σ m_i·a_i·2^(16i)`.

use ark_bn254::Fr;
use ark_ff::{BigInteger, PrimeField};
use thiserror::Error;

/// Number of attribute slots.
pub const SLOTS: usize = 4;

/// Why an attribute value or mask was rejected.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum AttributeError {
    /// A disclosure mask must be below 16 (one bit per slot).
    #[error("disclosure mask {0} is out of range (must be 0..=15)")]
    MaskOutOfRange(u64),
    /// A packed value must be below 2^64 (four 16-bit codes).
    #[error("packed attribute value does not fit in four 16-bit codes")]
    NotPacked,
    /// A disclosed value has a non-zero code in a slot the mask hides.
    #[error("disclosed value has a code in slot {0}, which the mask does not disclose")]
    HiddenSlotSet(usize),
}

/// Four 16-bit category codes, slot 0 first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, PartialOrd, Ord)]
pub struct Attributes(pub [u16; SLOTS]);

impl Attributes {
    /// The packed 64-bit integer `a0 + a1·2^16 + a2·2^32 + a3·2^48`.
    pub fn packed_u64(&self) -> u64 {
        self.0
            .iter()
            .enumerate()
            .fold(0u64, |acc, (i, &code)| acc | (u64::from(code) << (16 * i)))
    }

    /// The packed value as a field element (the `attrs` circuit input).
    pub fn packed(&self) -> Fr {
        Fr::from(self.packed_u64())
    }

    /// Unpacks a 64-bit integer into four codes.
    pub fn from_packed_u64(value: u64) -> Self {
        let mut codes = [0u16; SLOTS];
        for (i, code) in codes.iter_mut().enumerate() {
            *code = (value >> (16 * i)) as u16;
        }
        Self(codes)
    }

    /// Unpacks a field element, rejecting values ≥ 2^64.
    pub fn from_packed(value: Fr) -> Result<Self, AttributeError> {
        field_to_u64(value)
            .map(Self::from_packed_u64)
            .ok_or(AttributeError::NotPacked)
    }

    /// The codes of the slots selected by `mask`, zero elsewhere.
    pub fn disclose(&self, mask: Mask) -> Attributes {
        let mut codes = [0u16; SLOTS];
        for (i, code) in codes.iter_mut().enumerate() {
            if mask.includes(i) {
                *code = self.0[i];
            }
        }
        Attributes(codes)
    }
}

/// A 4-bit disclosure mask: bit i set means slot i is disclosed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, PartialOrd, Ord)]
pub struct Mask(u8);

impl Mask {
    /// Discloses nothing.
    pub const NONE: Mask = Mask(0);

    /// Builds a mask from its integer value, which must be below 16.
    pub fn new(bits: u64) -> Result<Self, AttributeError> {
        if bits < 16 {
            Ok(Mask(bits as u8))
        } else {
            Err(AttributeError::MaskOutOfRange(bits))
        }
    }

    /// Builds a mask from a list of slot numbers (each below 4).
    pub fn from_slots(slots: &[usize]) -> Result<Self, AttributeError> {
        slots.iter().try_fold(Mask(0), |mask, &slot| {
            if slot < SLOTS {
                Ok(Mask(mask.0 | (1 << slot)))
            } else {
                Err(AttributeError::MaskOutOfRange(1u64 << slot.min(63)))
            }
        })
    }

    /// Decodes the public `mask` input, rejecting values ≥ 16.
    pub fn from_field(value: Fr) -> Result<Self, AttributeError> {
        match field_to_u64(value) {
            Some(bits) => Self::new(bits),
            None => Err(AttributeError::MaskOutOfRange(u64::MAX)),
        }
    }

    /// The integer value of the mask.
    pub fn bits(&self) -> u8 {
        self.0
    }

    /// Whether slot `slot` is disclosed.
    pub fn includes(&self, slot: usize) -> bool {
        slot < SLOTS && self.0 & (1 << slot) != 0
    }

    /// Whether every slot of `self` is also in `allowed`.
    pub fn is_subset_of(&self, allowed: Mask) -> bool {
        self.0 & !allowed.0 == 0
    }

    /// The disclosed slots, in increasing order.
    pub fn slots(&self) -> Vec<usize> {
        (0..SLOTS).filter(|&i| self.includes(i)).collect()
    }

    /// The mask as a field element (the public `mask` input).
    pub fn to_field(&self) -> Fr {
        Fr::from(u64::from(self.0))
    }
}

/// The public `disclosed` value for `attributes` under `mask`.
pub fn disclosed_value(attributes: &Attributes, mask: Mask) -> Fr {
    attributes.disclose(mask).packed()
}

/// Decodes a public `disclosed` value and checks it only has codes in slots `mask` discloses.
pub fn decode_disclosed(value: Fr, mask: Mask) -> Result<Attributes, AttributeError> {
    let attrs = Attributes::from_packed(value)?;
    match (0..SLOTS).find(|&i| !mask.includes(i) && attrs.0[i] != 0) {
        Some(slot) => Err(AttributeError::HiddenSlotSet(slot)),
        None => Ok(attrs),
    }
}

/// The value of a field element if it is below 2^64.
fn field_to_u64(value: Fr) -> Option<u64> {
    let big = value.into_bigint();
    if big.num_bits() > 64 {
        return None;
    }
    Some(big.as_ref()[0])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packing_is_little_endian_by_slot() {
        let a = Attributes([1, 2, 3, 4]);
        assert_eq!(a.packed_u64(), 1 + (2 << 16) + (3 << 32) + (4 << 48));
        assert_eq!(Attributes::from_packed(a.packed()).unwrap(), a);
        assert_eq!(
            Attributes::from_packed(Fr::from(u64::MAX)).unwrap().0,
            [u16::MAX; 4]
        );
        let too_big = Fr::from(u64::MAX) + Fr::from(1u64);
        assert_eq!(
            Attributes::from_packed(too_big),
            Err(AttributeError::NotPacked)
        );
        assert_eq!(
            Attributes::from_packed(-Fr::from(1u64)),
            Err(AttributeError::NotPacked)
        );
    }

    #[test]
    fn disclosure_keeps_only_masked_slots() {
        let a = Attributes([1, 2, 3, 4]);
        let mask = Mask::from_slots(&[0, 2]).unwrap();
        assert_eq!(mask.bits(), 0b0101);
        assert_eq!(a.disclose(mask), Attributes([1, 0, 3, 0]));
        assert_eq!(disclosed_value(&a, mask), Fr::from(1 + (3u64 << 32)));
        assert_eq!(
            decode_disclosed(disclosed_value(&a, mask), mask).unwrap(),
            Attributes([1, 0, 3, 0])
        );
        assert_eq!(
            decode_disclosed(a.packed(), mask),
            Err(AttributeError::HiddenSlotSet(1))
        );
        assert_eq!(disclosed_value(&a, Mask::NONE), Fr::from(0u64));
    }

    #[test]
    fn masks_are_range_checked() {
        assert!(Mask::new(15).is_ok());
        assert_eq!(Mask::new(16), Err(AttributeError::MaskOutOfRange(16)));
        assert!(Mask::from_slots(&[4]).is_err());
        assert!(Mask::from_field(Fr::from(16u64)).is_err());
        assert!(Mask::from_field(-Fr::from(1u64)).is_err());
        let m = Mask::from_slots(&[1]).unwrap();
        assert!(m.is_subset_of(Mask::new(3).unwrap()));
        assert!(!Mask::new(5).unwrap().is_subset_of(Mask::new(3).unwrap()));
        assert_eq!(Mask::new(10).unwrap().slots(), vec![1, 3]);
    }
}
