//! `identity backup` and `identity restore`: the identity's 32-byte secret as a BIP-39 recovery
//! phrase (24 English words, the last carrying an 8-bit checksum), so a person can write it on
//! paper and rebuild the same identity (the same commitment) after losing the file. A lost
//! file is the usual reason a registrar re-issues an identity, and each re-issue inside a
//! petition's window is a possible double count.

use anyhow::{anyhow, bail, Result};
use bip39::Mnemonic;
use undersign_core::identity::IdentitySecret;
use zeroize::Zeroizing;

/// The recovery phrase of `secret`: 24 words separated by single spaces.
pub fn phrase(secret: &IdentitySecret) -> Result<Zeroizing<String>> {
    let mnemonic = Mnemonic::from_entropy(secret.as_bytes())
        .map_err(|e| anyhow!("cannot encode the secret as words: {e}"))?;
    Ok(Zeroizing::new(
        mnemonic.words().collect::<Vec<_>>().join(" "),
    ))
}

/// The secret a recovery phrase encodes. Case, numbering ("1." before a word) and whitespace
/// are forgiven; a wrong, missing or misspelt word is an error (the checksum catches most
/// swaps).
pub fn secret_from_phrase(text: &str) -> Result<IdentitySecret> {
    let words: Vec<String> = text
        .split_whitespace()
        .filter(|w| {
            !w.trim_end_matches(['.', ')', ':'])
                .chars()
                .all(|c| c.is_ascii_digit())
        })
        .map(str::to_lowercase)
        .collect();
    let words = Zeroizing::new(words);
    if words.len() != 24 {
        bail!(
            "a recovery phrase has 24 words; this one has {}",
            words.len()
        );
    }
    let joined = Zeroizing::new(words.join(" "));
    let mnemonic = Mnemonic::parse_normalized(&joined).map_err(|e| match e {
        bip39::Error::UnknownWord(i) => anyhow!(
            "word {} ({:?}) is not a BIP-39 English word; check its spelling",
            i + 1,
            words.get(i).map(String::as_str).unwrap_or("?")
        ),
        bip39::Error::InvalidChecksum => {
            anyhow!("the words do not check out (checksum): one is wrong or two are swapped")
        }
        other => anyhow!("not a recovery phrase: {other}"),
    })?;
    let (entropy, len) = mnemonic.to_entropy_array();
    let entropy = Zeroizing::new(entropy);
    let bytes: [u8; 32] = entropy[..len]
        .try_into()
        .map_err(|_| anyhow!("a recovery phrase of an identity encodes 32 bytes"))?;
    Ok(IdentitySecret::from_bytes(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_phrase_restores_the_same_identity() {
        let secret = IdentitySecret::from_bytes(std::array::from_fn(|i| (i * 7 + 3) as u8));
        let words = phrase(&secret).unwrap();
        assert_eq!(words.split(' ').count(), 24);
        let restored = secret_from_phrase(&words).unwrap();
        assert_eq!(restored.commitment(), secret.commitment());
        // As written on paper: numbered, one per line, in capitals.
        let paper: String = words
            .split(' ')
            .enumerate()
            .map(|(i, w)| format!("{}. {}\n", i + 1, w.to_uppercase()))
            .collect();
        assert_eq!(
            secret_from_phrase(&paper).unwrap().commitment(),
            secret.commitment()
        );
    }

    #[test]
    fn the_bip39_vector_for_zero_entropy() {
        // BIP-39's English test vector: 32 zero bytes.
        let secret = IdentitySecret::from_bytes([0; 32]);
        let words = phrase(&secret).unwrap();
        assert_eq!(
            words.as_str(),
            "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon \
             abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon \
             abandon abandon abandon art"
        );
    }

    #[test]
    fn wrong_phrases_are_refused_with_a_reason() {
        let secret = IdentitySecret::from_bytes([9; 32]);
        let words = phrase(&secret).unwrap();
        let mut list: Vec<&str> = words.split(' ').collect();
        let err = |text: &str| secret_from_phrase(text).unwrap_err().to_string();
        assert!(err(&list[..23].join(" ")).contains("has 23"));
        let mut misspelt = list.clone();
        misspelt[4] = "abandonn";
        assert!(
            err(&misspelt.join(" ")).contains("word 5"),
            "{}",
            err(&misspelt.join(" "))
        );
        list.swap(0, 1);
        if list[0] != list[1] {
            assert!(err(&list.join(" ")).contains("checksum"));
        }
    }
}
