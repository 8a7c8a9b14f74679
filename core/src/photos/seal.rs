//! Photo files sealed at rest: the only code that touches a photo's key or a nonce. A sealed file
//! is [`MAGIC`], a random 24-byte nonce, then the JPEG under XChaCha20-Poly1305 with the photo's
//! SHA-256 (lowercase hex) as associated data, so that a file copied over another photo's name
//! does not open. The nonce is random, not derived: the same photo sealed twice (fetched again
//! after a wipe of its file) must not repeat one under the same key, and 24 bytes make a
//! collision out of reach.

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use zeroize::Zeroizing;

use crate::error::{Error, Result};

/// What a sealed photo file starts with; a file without it is a plaintext JPEG (a plaintext
/// store's, or one written before its store was encrypted).
pub(crate) const MAGIC: &[u8; 8] = b"GBPHOTO1";

const NONCE_LEN: usize = 24;
const TAG_LEN: usize = 16;

/// The key every photo file of one store is sealed under: 32 random bytes kept in the store's
/// encrypted database, so that changing the store's key leaves the photo files as they are.
/// `Debug` never shows it, and it is wiped from memory when dropped.
pub(crate) struct PhotoKey(Zeroizing<[u8; 32]>);

impl PhotoKey {
    pub(crate) fn generate() -> Self {
        Self(Zeroizing::new(rand::random()))
    }

    /// The key from the hex the database keeps it as.
    pub(crate) fn from_hex(hex_digits: &str) -> Result<Self> {
        let bytes = Zeroizing::new(hex::decode(hex_digits).map_err(|_| Error::invalid("photo key", "not hex"))?);
        let bytes: [u8; 32] = bytes.as_slice().try_into().map_err(|_| Error::invalid("photo key", "not 32 bytes"))?;
        Ok(Self(Zeroizing::new(bytes)))
    }

    pub(crate) fn to_hex(&self) -> Zeroizing<String> {
        Zeroizing::new(hex::encode(*self.0))
    }

    fn cipher(&self) -> XChaCha20Poly1305 {
        XChaCha20Poly1305::new(self.0.as_ref().into())
    }
}

impl std::fmt::Debug for PhotoKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PhotoKey(..)")
    }
}

/// Whether a photo file's bytes are sealed (else they are the JPEG itself).
pub(crate) fn is_sealed(file: &[u8]) -> bool {
    file.starts_with(MAGIC)
}

/// The sealed file of the photo `sha256` whose bytes are `jpeg`.
pub(crate) fn seal(key: &PhotoKey, sha256: &str, jpeg: &[u8]) -> Vec<u8> {
    seal_with_nonce(key, sha256, jpeg, &rand::random())
}

fn seal_with_nonce(key: &PhotoKey, sha256: &str, jpeg: &[u8], nonce: &[u8; NONCE_LEN]) -> Vec<u8> {
    let sealed = key
        .cipher()
        .encrypt(XNonce::from_slice(nonce), Payload { msg: jpeg, aad: sha256.as_bytes() })
        .unwrap_or_else(|_| unreachable!("XChaCha20-Poly1305 refuses only messages of 256 GiB and more"));
    let mut file = Vec::with_capacity(MAGIC.len() + NONCE_LEN + sealed.len());
    file.extend_from_slice(MAGIC);
    file.extend_from_slice(nonce);
    file.extend_from_slice(&sealed);
    file
}

/// The JPEG in the sealed file of photo `sha256`.
///
/// # Errors
/// [`Error::PhotoDamaged`] when the file is cut short, was altered in any byte, was sealed for
/// another photo or under another key.
pub(crate) fn open(key: &PhotoKey, sha256: &str, file: &[u8]) -> Result<Vec<u8>> {
    let damaged = || Error::PhotoDamaged { sha256: sha256.into() };
    let body = file.strip_prefix(MAGIC).filter(|b| b.len() >= NONCE_LEN + TAG_LEN).ok_or_else(damaged)?;
    let (nonce, sealed) = body.split_at(NONCE_LEN);
    key.cipher()
        .decrypt(XNonce::from_slice(nonce), Payload { msg: sealed, aad: sha256.as_bytes() })
        .map_err(|_| damaged())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHA: &str = "5b3e1c0e8f7a2d4c6b9a0e1f2d3c4b5a69788796a5b4c3d2e1f0a9b8c7d6e5f4";

    fn key() -> PhotoKey {
        PhotoKey::from_hex(&"07".repeat(32)).expect("key")
    }

    /// Pins the file format: an upgrade of the cipher crate that changed what is on disk would
    /// leave every sealed photo unreadable. The answer agrees with libsodium's
    /// `crypto_aead_xchacha20poly1305_ietf_encrypt` on the same key, nonce, message and data.
    #[test]
    fn the_format_is_pinned_by_a_known_answer() {
        let file = seal_with_nonce(&key(), SHA, b"a JPEG", &[9; NONCE_LEN]);
        assert_eq!(hex::encode(&file), KNOWN_ANSWER);
        assert_eq!(open(&key(), SHA, &file).expect("open"), b"a JPEG");
    }

    const KNOWN_ANSWER: &str = concat!(
        "474250484f544f31",
        "090909090909090909090909090909090909090909090909",
        "df52a8da39ed66c445a34c343be3090dd5f80fd26dea",
    );

    #[test]
    fn a_file_opens_only_whole_under_its_key_and_its_own_name() {
        let file = seal(&key(), SHA, b"a JPEG");
        assert!(is_sealed(&file));
        assert_ne!(file, seal(&key(), SHA, b"a JPEG"), "every sealing has its own nonce");
        for at in 0..file.len() {
            let mut flipped = file.clone();
            flipped[at] ^= 0x01;
            assert!(matches!(open(&key(), SHA, &flipped), Err(Error::PhotoDamaged { .. })), "byte {at}");
        }
        assert!(open(&key(), SHA, &file[..file.len() - 1]).is_err(), "cut short");
        assert!(open(&key(), SHA, MAGIC).is_err(), "nothing after the magic");
        let other = SHA.replace('5', "6");
        assert!(open(&key(), &other, &file).is_err(), "another photo's name");
        assert!(open(&PhotoKey::generate(), SHA, &file).is_err(), "another key");
        assert_eq!(format!("{:?}", key()), "PhotoKey(..)");
    }
}
