//! Strict JSON objects (`SPEC.md` §10): every file, signature line, bundle header and
//! checkpoint is a JSON **object**. serde's derived structs also accept the sequence form
//! (`[1, "undersign-signature", ...]`, the fields in declaration order); [`ObjectOnly`] refuses
//! it, so one value has one shape.

use serde::de::value::MapAccessDeserializer;
use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
use std::fmt;
use std::marker::PhantomData;

/// A `T` that must be written as a JSON object: deserializes through `deserialize_map`, so an
/// array is "invalid type: sequence, expected a JSON object".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectOnly<T>(pub T);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for ObjectOnly<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ObjectVisitor<T>(PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for ObjectVisitor<T> {
            type Value = T;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<T, A::Error> {
                T::deserialize(MapAccessDeserializer::new(map))
            }
        }
        deserializer
            .deserialize_map(ObjectVisitor(PhantomData))
            .map(ObjectOnly)
    }
}

/// Parses `bytes` as one JSON object of type `T` (never the array form).
pub fn from_slice<'a, T: Deserialize<'a>>(bytes: &'a [u8]) -> serde_json::Result<T> {
    serde_json::from_slice::<ObjectOnly<T>>(bytes).map(|o| o.0)
}

/// For `#[serde(deserialize_with = "json::object")]`: one JSON object of type `T`.
pub fn object<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    deserializer: D,
) -> Result<T, D::Error> {
    ObjectOnly::<T>::deserialize(deserializer).map(|o| o.0)
}

/// For `#[serde(deserialize_with = "json::objects")]`: a JSON array of objects of type `T`
/// (each element refused in the array form).
pub fn objects<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    deserializer: D,
) -> Result<Vec<T>, D::Error> {
    Vec::<ObjectOnly<T>>::deserialize(deserializer).map(|v| v.into_iter().map(|o| o.0).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Sample {
        version: u32,
        kind: String,
    }

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Outer {
        #[serde(deserialize_with = "objects")]
        items: Vec<Sample>,
    }

    #[test]
    fn objects_parse_and_arrays_are_refused() {
        let sample = Sample {
            version: 1,
            kind: "k".into(),
        };
        assert_eq!(
            from_slice::<Sample>(br#"{"kind":"k","version":1}"#).unwrap(),
            sample
        );
        // serde's own derive takes the sequence form; the strict parse does not.
        assert!(serde_json::from_slice::<Sample>(br#"[1,"k"]"#).is_ok());
        let err = from_slice::<Sample>(br#"[1,"k"]"#).unwrap_err().to_string();
        assert!(err.contains("expected a JSON object"), "{err}");
        assert!(from_slice::<Outer>(br#"{"items":[{"version":1,"kind":"k"}]}"#).is_ok());
        assert!(from_slice::<Outer>(br#"{"items":[[1,"k"]]}"#).is_err());
        assert!(from_slice::<Outer>(br#"[[{"version":1,"kind":"k"}]]"#).is_err());
    }

    #[test]
    fn unknown_duplicate_and_non_integer_values_are_refused() {
        let bad = |text: &str| assert!(from_slice::<Sample>(text.as_bytes()).is_err(), "{text}");
        bad(r#"{"version":1,"kind":"k","extra":0}"#);
        bad(r#"{"version":1,"version":1,"kind":"k"}"#);
        bad(r#"{"version":1.0,"kind":"k"}"#);
        bad(r#"{"version":1e0,"kind":"k"}"#);
        bad(r#"{"version":-0,"kind":"k"}"#);
        bad(r#"{"version":NaN,"kind":"k"}"#);
        bad("\u{feff}{\"version\":1,\"kind\":\"k\"}");
        bad(r#"{"version":1,"kind":"\ud800"}"#);
        bad(r#"{"version":1,"kind":"k"} x"#);
        // Whitespace, key order and escapes are the writer's choice.
        assert!(from_slice::<Sample>(b" {\"kind\" : \"\\u006b\",\n\"version\":1 } ").is_ok());
    }
}
