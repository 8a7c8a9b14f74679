//! Data keys: the only code that touches a record's data key, a nonce or a keyed hash.
//!
//! Every household, resident and event has a data key of its own, 32 random bytes named by the
//! record's id, made by the store that creates the record. The sensitive fields of the record (see
//! `doc::sealed` for which) are written into the automerge documents as [`DataKey::seal`]ed bytes,
//! each field on its own so that two devices editing different fields still merge field by field.
//! Destroying a key is what will erase those fields from every copy of every history (issue 17,
//! part 3): no other secret opens them.
//!
//! A sealed field is one version byte (1), a random 24-byte nonce, then the field's value under
//! XChaCha20-Poly1305 with associated data binding the key's id, the record's root key and the
//! field's name ([`field_aad`]), so a ciphertext copied into another field or record does not open.
//! The nonce is random rather than derived from the change that carries it: a change that is rolled
//! back (a refused document, a failed commit) would reuse its sequence number with another value,
//! and 24 random bytes make a repeat out of reach.
//!
//! A set's members (care tags) are map keys, so that concurrent adds merge; under a key each member
//! is [`DataKey::member`], an HMAC-SHA256 of it, so the set hides its members and still merges.

pub(crate) mod keyring;

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use uuid::Uuid;
use zeroize::Zeroizing;

use crate::error::{Error, Result};

const VERSION: u8 = 1;
const NONCE_LEN: usize = 24;
const TAG_LEN: usize = 16;
/// What one sealed field costs beyond its value: the version byte, the nonce and the tag.
pub(crate) const OVERHEAD: usize = 1 + NONCE_LEN + TAG_LEN;

/// A record's data key. `Debug` never shows it, it is wiped from memory when dropped, and it is not
/// serialisable: it leaves the store only through the keys sections of the sync messages.
#[derive(Clone)]
pub(crate) struct DataKey(Zeroizing<[u8; 32]>);

impl DataKey {
    pub(crate) fn generate() -> Self {
        Self(Zeroizing::new(rand::random()))
    }

    /// The key from its 32 bytes.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for anything but 32 bytes.
    pub(crate) fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let bytes: [u8; 32] = bytes.try_into().map_err(|_| Error::invalid("data key", "not 32 bytes"))?;
        Ok(Self(Zeroizing::new(bytes)))
    }

    pub(crate) fn bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// `value` sealed under this key, bound to `aad`.
    pub(crate) fn seal(&self, aad: &[u8], value: &[u8]) -> Vec<u8> {
        self.seal_with_nonce(aad, value, &rand::random())
    }

    fn seal_with_nonce(&self, aad: &[u8], value: &[u8], nonce: &[u8; NONCE_LEN]) -> Vec<u8> {
        let sealed = XChaCha20Poly1305::new(self.0.as_ref().into())
            .encrypt(XNonce::from_slice(nonce), Payload { msg: value, aad })
            .unwrap_or_else(|_| unreachable!("XChaCha20-Poly1305 refuses only messages of 256 GiB and more"));
        let mut out = Vec::with_capacity(OVERHEAD + value.len());
        out.push(VERSION);
        out.extend_from_slice(nonce);
        out.extend_from_slice(&sealed);
        out
    }

    /// The value of `sealed`, which must have been sealed under this key with the same `aad`.
    ///
    /// # Errors
    /// [`Error::SealedField`] when the bytes are cut short, of an unknown version, altered, sealed
    /// under another key or for another field or record.
    pub(crate) fn open(&self, aad: &[u8], sealed: &[u8]) -> Result<Zeroizing<Vec<u8>>> {
        if sealed.len() < OVERHEAD || sealed[0] != VERSION {
            return Err(Error::SealedField);
        }
        let (nonce, body) = sealed[1..].split_at(NONCE_LEN);
        XChaCha20Poly1305::new(self.0.as_ref().into())
            .decrypt(XNonce::from_slice(nonce), Payload { msg: body, aad })
            .map(Zeroizing::new)
            .map_err(|_| Error::SealedField)
    }

    /// The map key that stands for `member` of a set at `aad` (see [`field_aad`]): the first 16
    /// bytes of an HMAC-SHA256, in hex, under a subkey of this key kept for members alone.
    pub(crate) fn member(&self, aad: &[u8], member: &str) -> String {
        let mut subkey = mac(self.bytes());
        subkey.update(b"gridbook set members");
        let subkey: Zeroizing<[u8; 32]> = Zeroizing::new(subkey.finalize().into_bytes().into());
        let mut mac = mac(subkey.as_slice());
        mac.update(aad);
        mac.update(&[0]);
        mac.update(member.as_bytes());
        hex::encode(&mac.finalize().into_bytes()[..16])
    }
}

fn mac(key: &[u8]) -> Hmac<Sha256> {
    <Hmac<Sha256> as Mac>::new_from_slice(key).unwrap_or_else(|_| unreachable!("HMAC takes a key of any length"))
}

impl std::fmt::Debug for DataKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DataKey(..)")
    }
}

/// The associated data of field `field` of the record at root key `record`, under key `key_id`.
pub(crate) fn field_aad(key_id: Uuid, record: &str, field: &str) -> Vec<u8> {
    let mut aad = Vec::with_capacity(4 + 16 + record.len() + 1 + field.len());
    aad.extend_from_slice(b"GBF1");
    aad.extend_from_slice(key_id.as_bytes());
    aad.extend_from_slice(record.as_bytes());
    aad.push(0);
    aad.extend_from_slice(field.as_bytes());
    aad
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> DataKey {
        DataKey::from_bytes(&[7; 32]).expect("32 bytes")
    }

    fn id() -> Uuid {
        Uuid::from_bytes([1; 16])
    }

    #[test]
    fn the_format_is_pinned() {
        // Known answers: a dependency upgrade must not change what is in the documents. The member
        // hash was computed independently with Python's hmac module.
        let aad = field_aad(id(), "resident:x", "name");
        let sealed = key().seal_with_nonce(&aad, "张三".as_bytes(), &[9; NONCE_LEN]);
        assert_eq!(
            hex::encode(&sealed),
            "010909090909090909090909090909090909090909090909095bce426ec423933d5aac96d10006c696c59d4c9770a1"
        );
        assert_eq!(
            key().member(&field_aad(id(), "household", "care_tags"), "elderly"),
            "076ebb4ed11c9a5d0f14cada4b665a23"
        );
    }

    #[test]
    fn a_field_opens_only_where_it_was_sealed() {
        let aad = field_aad(id(), "resident:x", "name");
        let sealed = key().seal(&aad, b"Zhang San");
        assert_eq!(key().open(&aad, &sealed).expect("opens").as_slice(), b"Zhang San");
        assert_ne!(key().seal(&aad, b"Zhang San"), sealed, "a fresh nonce every time");
        for other in [
            field_aad(id(), "resident:x", "phone"),
            field_aad(id(), "resident:y", "name"),
            field_aad(Uuid::from_bytes([2; 16]), "resident:x", "name"),
        ] {
            assert!(matches!(key().open(&other, &sealed), Err(Error::SealedField)));
        }
        assert!(DataKey::generate().open(&aad, &sealed).is_err(), "another key");
        let mut flipped = sealed.clone();
        flipped[30] ^= 1;
        assert!(key().open(&aad, &flipped).is_err(), "an altered byte");
        assert!(key().open(&aad, &sealed[..OVERHEAD - 1]).is_err(), "cut short");
        assert_eq!(format!("{:?}", key()), "DataKey(..)");
    }

    #[test]
    fn members_are_stable_per_key_and_place() {
        let aad = field_aad(id(), "household", "care_tags");
        assert_eq!(key().member(&aad, "elderly"), key().member(&aad, "elderly"));
        assert_ne!(key().member(&aad, "elderly"), key().member(&aad, "low_income"));
        assert_ne!(key().member(&aad, "elderly"), DataKey::generate().member(&aad, "elderly"));
        assert_ne!(key().member(&aad, "elderly"), key().member(&field_aad(id(), "resident:x", "care_tags"), "elderly"));
    }
}
