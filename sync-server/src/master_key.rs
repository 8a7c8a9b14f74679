//! The server's master key: what every record's data key is wrapped under in the database.
//!
//! It is 32 random bytes in a file of its own (`--master-key-file`; by default `master.key` beside
//! the database, made readable by its owner only on first start), never in the database, so that a
//! copy of the database alone (a backup, a stolen disk image of the data directory's database file)
//! holds no data key in the clear. Keep the file apart from database backups; without it no data key
//! the server holds can be handed out again. A wrapped key is a random 24-byte nonce, then the key
//! under XChaCha20-Poly1305 with the record's id and document as associated data, so a wrapped key
//! moved to another record's row does not unwrap.

use std::path::Path;
use std::sync::Arc;

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use zeroize::Zeroizing;

use crate::error::ApiError;

const NONCE_LEN: usize = 24;

/// The master key. `Debug` never shows it, and it is wiped from memory when the last copy drops.
#[derive(Clone)]
pub struct MasterKey(Arc<Zeroizing<[u8; 32]>>);

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MasterKey(..)")
    }
}

impl MasterKey {
    /// The key in `file` (32 bytes, or 64 hex digits), made if the file does not exist.
    ///
    /// # Errors
    /// [`ApiError::Internal`] if the file cannot be read or made, or holds anything else.
    pub fn load_or_make(file: &Path) -> Result<Self, ApiError> {
        let fail = |what: String| ApiError::Internal(format!("master key file {}: {what}", file.display()));
        match std::fs::read(file) {
            Ok(bytes) => {
                let bytes = Zeroizing::new(bytes);
                let text = std::str::from_utf8(&bytes).map(str::trim).unwrap_or_default();
                let raw = Zeroizing::new(match hex::decode(text) {
                    Ok(decoded) if decoded.len() == 32 => decoded,
                    _ => bytes.to_vec(),
                });
                let key: [u8; 32] = raw.as_slice().try_into().map_err(|_| fail("not a 32-byte key".into()))?;
                Ok(Self(Arc::new(Zeroizing::new(key))))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let key = Zeroizing::new(rand::random::<[u8; 32]>());
                let mut options = std::fs::OpenOptions::new();
                options.write(true).create_new(true);
                #[cfg(unix)]
                std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
                options
                    .open(file)
                    .and_then(|mut f| {
                        std::io::Write::write_all(&mut f, Zeroizing::new(hex::encode(*key)).as_bytes())?;
                        f.sync_all()
                    })
                    .map_err(|e| fail(format!("cannot make it: {e}")))?;
                Ok(Self(Arc::new(key)))
            }
            Err(e) => Err(fail(format!("cannot read it: {e}"))),
        }
    }

    fn cipher(&self) -> XChaCha20Poly1305 {
        XChaCha20Poly1305::new(self.0.as_ref().as_ref().into())
    }

    /// `key` (record `id`'s, of document `doc`) wrapped for the database.
    pub fn wrap(&self, id: &[u8; 16], doc: &str, key: &[u8; 32]) -> Vec<u8> {
        let nonce: [u8; NONCE_LEN] = rand::random();
        let aad = aad(id, doc);
        let sealed = self
            .cipher()
            .encrypt(XNonce::from_slice(&nonce), Payload { msg: key, aad: &aad })
            .unwrap_or_else(|_| unreachable!("XChaCha20-Poly1305 refuses only messages of 256 GiB and more"));
        [nonce.as_slice(), &sealed].concat()
    }

    /// The key `wrapped` for record `id` of document `doc`.
    ///
    /// # Errors
    /// [`ApiError::Internal`] if it does not unwrap: another master key, or a damaged row.
    pub fn unwrap(&self, id: &[u8; 16], doc: &str, wrapped: &[u8]) -> Result<Zeroizing<[u8; 32]>, ApiError> {
        let damaged = || ApiError::Internal("a data key does not unwrap under this server's master key".into());
        if wrapped.len() < NONCE_LEN {
            return Err(damaged());
        }
        let (nonce, body) = wrapped.split_at(NONCE_LEN);
        let plain = Zeroizing::new(
            self.cipher()
                .decrypt(XNonce::from_slice(nonce), Payload { msg: body, aad: &aad(id, doc) })
                .map_err(|_| damaged())?,
        );
        let key: [u8; 32] = plain.as_slice().try_into().map_err(|_| damaged())?;
        Ok(Zeroizing::new(key))
    }
}

fn aad(id: &[u8; 16], doc: &str) -> Vec<u8> {
    [b"GBW1".as_slice(), id, doc.as_bytes()].concat()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_unwraps_only_for_its_record_and_under_its_master_key() {
        let dir = tempfile::tempdir().expect("dir");
        let file = dir.path().join("master.key");
        let master = MasterKey::load_or_make(&file).expect("made");
        #[cfg(unix)]
        assert_eq!(
            std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&file).expect("meta").permissions()) & 0o777,
            0o600
        );
        let again = MasterKey::load_or_make(&file).expect("read back");
        let wrapped = master.wrap(&[1; 16], "h/g/h", &[9; 32]);
        assert_eq!(*again.unwrap(&[1; 16], "h/g/h", &wrapped).expect("unwraps"), [9; 32]);
        assert!(master.unwrap(&[2; 16], "h/g/h", &wrapped).is_err());
        assert!(master.unwrap(&[1; 16], "h/g/x", &wrapped).is_err());
        let other = MasterKey::load_or_make(&dir.path().join("other.key")).expect("made");
        assert!(other.unwrap(&[1; 16], "h/g/h", &wrapped).is_err());
        assert_eq!(format!("{master:?}"), "MasterKey(..)");
    }
}
