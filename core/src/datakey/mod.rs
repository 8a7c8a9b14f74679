//! Data keys: the only code that touches a record's data key, a nonce or a keyed hash.
//!
//! Every household, resident and event has a data key of its own, 32 random bytes named by the
//! record's id, made by the store that creates the record. The sensitive fields of the record (see
//! `doc::sealed` for which) are written into the automerge documents as [`DataKey::seal`]ed bytes,
//! each field on its own so that two devices editing different fields still merge field by field.
//! Destroying a key is what will erase those fields from every copy of every history (issue 17,
//! part 3): no other secret opens them.
//!
//! A sealed field is one version byte (2), then the field's value under AES-256-GCM-SIV with
//! associated data binding the key's id, the record's root key and the field's name
//! ([`field_aad`]), so a ciphertext copied into another field or record does not open. The nonce is
//! not in the bytes: it is derived from the automerge actor that writes the value, which the change
//! carries and a reader sees on the value. GCM-SIV survives a nonce used twice, which happens by
//! design: a device writing the same field of the same record twice, and a change rolled back (a
//! refused document, a failed commit) whose sequence number is reused with another value. What a
//! repeat gives away is only that one device wrote one field of one record with the same value
//! twice; nothing across records, fields or devices. Earlier builds wrote version 1: a random
//! 24-byte nonce in the bytes, under XChaCha20-Poly1305; those still open.
//!
//! A set's members (care tags) are map keys, so that concurrent adds merge; under a key each member
//! is [`DataKey::member`], an HMAC-SHA256 of it, so the set hides its members and still merges.

pub(crate) mod keyring;

use aes_gcm_siv::Aes256GcmSiv;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use uuid::Uuid;
use zeroize::Zeroizing;

use crate::error::{Error, Result};

/// XChaCha20-Poly1305 with a random nonce in the bytes, as earlier builds wrote.
const V1: u8 = 1;
const V1_NONCE_LEN: usize = 24;
/// AES-256-GCM-SIV with the nonce derived from the writing actor.
const V2: u8 = 2;
const TAG_LEN: usize = 16;
/// What one sealed field costs beyond its value: the version byte and the tag.
pub(crate) const OVERHEAD: usize = 1 + TAG_LEN;

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

    /// `value` sealed under this key, bound to `aad`, as written by automerge actor `actor`.
    pub(crate) fn seal(&self, actor: &[u8], aad: &[u8], value: &[u8]) -> Vec<u8> {
        let sealed = self
            .v2()
            .encrypt(&nonce(actor).into(), Payload { msg: value, aad })
            .unwrap_or_else(|_| unreachable!("AES-GCM-SIV refuses only messages of 64 GiB and more"));
        let mut out = Vec::with_capacity(OVERHEAD + value.len());
        out.push(V2);
        out.extend_from_slice(&sealed);
        out
    }

    /// The value of `sealed`, which must have been sealed under this key with the same `aad` (and,
    /// in version 2, written by automerge actor `actor`).
    ///
    /// # Errors
    /// [`Error::SealedField`] when the bytes are cut short, of an unknown version, altered, sealed
    /// under another key, for another field or record, or by another actor.
    pub(crate) fn open(&self, actor: &[u8], aad: &[u8], sealed: &[u8]) -> Result<Zeroizing<Vec<u8>>> {
        let opened = match sealed.split_first() {
            Some((&V2, body)) if body.len() >= TAG_LEN => {
                self.v2().decrypt(&nonce(actor).into(), Payload { msg: body, aad })
            }
            Some((&V1, body)) if body.len() >= V1_NONCE_LEN + TAG_LEN => {
                let (nonce, body) = body.split_at(V1_NONCE_LEN);
                XChaCha20Poly1305::new(self.0.as_ref().into())
                    .decrypt(XNonce::from_slice(nonce), Payload { msg: body, aad })
            }
            _ => return Err(Error::SealedField),
        };
        opened.map(Zeroizing::new).map_err(|_| Error::SealedField)
    }

    /// The cipher of version 2, under a subkey of its own: one key is never used by two algorithms.
    fn v2(&self) -> Aes256GcmSiv {
        Aes256GcmSiv::new(self.subkey(b"gridbook sealed fields v2").as_ref().into())
    }

    fn subkey(&self, label: &[u8]) -> Zeroizing<[u8; 32]> {
        let mut subkey = mac(self.bytes());
        subkey.update(label);
        Zeroizing::new(subkey.finalize().into_bytes().into())
    }

    /// The map key that stands for `member` of a set at `aad` (see [`field_aad`]): the first 16
    /// bytes of an HMAC-SHA256, in hex, under a subkey of this key kept for members alone.
    pub(crate) fn member(&self, aad: &[u8], member: &str) -> String {
        let mut mac = mac(self.subkey(b"gridbook set members").as_slice());
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

/// The nonce of version 2 for values written by `actor`: public, and the same for every value the
/// actor writes (see the module's documentation for what that gives away).
fn nonce(actor: &[u8]) -> [u8; 12] {
    use sha2::Digest;
    let digest = Sha256::new_with_prefix(b"gridbook sealed nonce").chain_update(actor).finalize();
    let mut nonce = [0; 12];
    nonce.copy_from_slice(&digest[..12]);
    nonce
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

    const ACTOR: &[u8] = &[5; 16];

    #[test]
    fn the_format_is_pinned() {
        // Known answers: a dependency upgrade must not change what is in the documents. The member
        // hash and the version 2 field were computed independently with Python (hmac, hashlib and
        // cryptography's AESGCMSIV); version 1 is what earlier builds wrote, and must still open.
        let aad = field_aad(id(), "resident:x", "name");
        let sealed = key().seal(ACTOR, &aad, "张三".as_bytes());
        assert_eq!(hex::encode(&sealed), "02df0c8ac9712563cf4537a4d67f7b78308e784def474f");
        let v1 = "010909090909090909090909090909090909090909090909095bce426ec423933d5aac96d10006c696c59d4c9770a1";
        let v1 = hex::decode(v1).expect("hex");
        assert_eq!(key().open(b"any actor", &aad, &v1).expect("opens").as_slice(), "张三".as_bytes());
        assert_eq!(
            key().member(&field_aad(id(), "household", "care_tags"), "elderly"),
            "076ebb4ed11c9a5d0f14cada4b665a23"
        );
    }

    #[test]
    fn a_field_opens_only_where_it_was_sealed() {
        let aad = field_aad(id(), "resident:x", "name");
        let sealed = key().seal(ACTOR, &aad, b"Zhang San");
        assert_eq!(sealed.len(), OVERHEAD + b"Zhang San".len());
        assert_eq!(key().open(ACTOR, &aad, &sealed).expect("opens").as_slice(), b"Zhang San");
        assert_ne!(key().seal(ACTOR, &aad, b"Zhang Si"), sealed);
        assert_ne!(key().seal(&[6; 16], &aad, b"Zhang San"), sealed, "another device, another nonce");
        for other in [
            field_aad(id(), "resident:x", "phone"),
            field_aad(id(), "resident:y", "name"),
            field_aad(Uuid::from_bytes([2; 16]), "resident:x", "name"),
        ] {
            assert!(matches!(key().open(ACTOR, &other, &sealed), Err(Error::SealedField)));
        }
        assert!(DataKey::generate().open(ACTOR, &aad, &sealed).is_err(), "another key");
        assert!(key().open(&[6; 16], &aad, &sealed).is_err(), "another actor");
        let mut flipped = sealed.clone();
        flipped[5] ^= 1;
        assert!(key().open(ACTOR, &aad, &flipped).is_err(), "an altered byte");
        assert!(key().open(ACTOR, &aad, &sealed[..OVERHEAD - 1]).is_err(), "cut short");
        assert!(key().open(ACTOR, &aad, &[3, 0, 0]).is_err(), "an unknown version");
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
