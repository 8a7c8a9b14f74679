//! Proof of authorship: one Ed25519 signature over a batch of changes, and the certificate by which
//! the district's server vouches for a device's key.
//!
//! A batch's statement is `"GBA1" ‖ len ‖ actor ‖ SHA-256(its change hashes, sorted)`. Automerge's
//! change hashes chain each change to its dependencies, so the one signature binds every change of
//! the batch and the history each was made on. The server's own batches (the changes of a reply,
//! which it vouches for) have an empty actor.
//!
//! ```text
//! proofs      = count (actor:bytes signature:64 count (hash:32)*)*
//! certificate = "GBC1" device_id:str device:str holder:str role:str count (grid:16)*
//!               actor:bytes public_key:32 issued_at:varint expires_at:varint signature:64
//! ```

use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use sha2::{Digest, Sha256};

use super::Limits;
use super::WireError;
use super::codec::{Reader, put_bytes, put_varint};

const STATEMENT_MAGIC: &[u8; 4] = b"GBA1";
const CERTIFICATE_MAGIC: &[u8; 4] = b"GBC1";

/// The actor of a batch the server itself vouches for.
pub const SERVER_ACTOR: &[u8] = b"";

/// A signature over a batch of changes of one actor (or of the server), with the hashes it covers.
#[derive(Clone, PartialEq, Eq)]
pub struct Proof {
    /// The changes' author, or [`SERVER_ACTOR`].
    pub actor: Vec<u8>,
    pub signature: [u8; 64],
    /// The batch's change hashes, sorted and without repeats.
    hashes: Vec<[u8; 32]>,
}

impl std::fmt::Debug for Proof {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Proof").field("actor", &hex::encode(&self.actor)).field("changes", &self.hashes.len()).finish()
    }
}

impl Proof {
    /// Signs the batch of `hashes` as `actor`'s with `key`.
    pub fn sign(key: &SigningKey, actor: &[u8], hashes: impl IntoIterator<Item = [u8; 32]>) -> Self {
        let hashes = sorted(hashes);
        let signature = key.sign(&statement(actor, &hashes)).to_bytes();
        Self { actor: actor.to_vec(), signature, hashes }
    }

    /// A proof as received: its signature is not checked until [`Proof::verify`].
    pub fn new(actor: Vec<u8>, signature: [u8; 64], hashes: impl IntoIterator<Item = [u8; 32]>) -> Self {
        Self { actor, signature, hashes: sorted(hashes) }
    }

    /// Whether `key` signed this batch (strict verification: no malleable signatures).
    pub fn verify(&self, key: &VerifyingKey) -> bool {
        key.verify_strict(&statement(&self.actor, &self.hashes), &Signature::from_bytes(&self.signature)).is_ok()
    }

    /// Whether the batch holds the change of `hash`.
    pub fn covers(&self, hash: &[u8; 32]) -> bool {
        self.hashes.binary_search(hash).is_ok()
    }

    pub fn hashes(&self) -> &[[u8; 32]] {
        &self.hashes
    }

    /// The hashes as one blob, for storage.
    pub fn hashes_blob(&self) -> Vec<u8> {
        self.hashes.concat()
    }

    /// A proof read back from storage; `None` if the blob is not a whole number of hashes.
    pub fn from_stored(actor: Vec<u8>, signature: &[u8], hashes: &[u8]) -> Option<Self> {
        let signature: [u8; 64] = signature.try_into().ok()?;
        if !hashes.len().is_multiple_of(32) {
            return None;
        }
        let hashes = hashes.chunks_exact(32).filter_map(|h| h.try_into().ok());
        Some(Self::new(actor, signature, hashes))
    }
}

fn sorted(hashes: impl IntoIterator<Item = [u8; 32]>) -> Vec<[u8; 32]> {
    let mut hashes: Vec<[u8; 32]> = hashes.into_iter().collect();
    hashes.sort_unstable();
    hashes.dedup();
    hashes
}

fn statement(actor: &[u8], sorted: &[[u8; 32]]) -> Vec<u8> {
    let mut digest = Sha256::new();
    for hash in sorted {
        digest.update(hash);
    }
    let mut out = STATEMENT_MAGIC.to_vec();
    put_bytes(&mut out, actor);
    out.extend_from_slice(&digest.finalize());
    out
}

/// What a store signs when it enrols its key: that it holds the key for `actor`.
pub fn enrolment_statement(actor: &[u8], public_key: &[u8; 32]) -> Vec<u8> {
    let mut out = b"GBE1".to_vec();
    put_bytes(&mut out, actor);
    out.extend_from_slice(public_key);
    out
}

pub(super) fn put_proofs(out: &mut Vec<u8>, proofs: &[Proof]) {
    put_varint(out, proofs.len() as u64);
    for proof in proofs {
        put_bytes(out, &proof.actor);
        out.extend_from_slice(&proof.signature);
        put_varint(out, proof.hashes.len() as u64);
        for hash in &proof.hashes {
            out.extend_from_slice(hash);
        }
    }
}

impl Reader<'_> {
    pub(super) fn proofs(&mut self) -> Result<Vec<Proof>, WireError> {
        let n = self.count(self.limits.max_docs, "proofs")?;
        let mut proofs = Vec::with_capacity(n);
        let mut budget = self.limits.max_changes;
        for _ in 0..n {
            let actor = self.bytes(32)?.to_vec();
            let signature = self.array::<64>()?;
            let k = self.count(budget, "proven changes")?;
            budget -= k;
            let hashes = (0..k).map(|_| self.array::<32>()).collect::<Result<Vec<_>, _>>()?;
            proofs.push(Proof::new(actor, signature, hashes));
        }
        Ok(proofs)
    }
}

/// What the district's server certifies about a device's store: who holds it, what it may do and
/// see, and the key its changes are signed with. Peers show it to each other.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Certificate {
    /// The server's id of the device.
    pub device_id: String,
    /// The device's name in the district's registry.
    pub device: String,
    /// The person the device was given to.
    pub holder: String,
    /// `centre`, `secretary`, `grid-member` or `department`.
    pub role: String,
    /// The grids the device holds, as UUIDs.
    pub grids: Vec<[u8; 16]>,
    /// The store's automerge actor.
    pub actor: Vec<u8>,
    pub public_key: [u8; 32],
    /// Unix seconds.
    pub issued_at: i64,
    pub expires_at: i64,
}

/// Why a certificate is not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CertificateError {
    #[error("the certificate does not decode: {0}")]
    Malformed(#[from] WireError),
    #[error("the certificate is not signed by this district's server")]
    NotSigned,
    #[error("the certificate has expired")]
    Expired,
}

impl Certificate {
    /// The certificate, signed by the server's `key`.
    pub fn sign(&self, key: &SigningKey) -> Vec<u8> {
        let mut out = CERTIFICATE_MAGIC.to_vec();
        for text in [&self.device_id, &self.device, &self.holder, &self.role] {
            put_bytes(&mut out, text.as_bytes());
        }
        put_varint(&mut out, self.grids.len() as u64);
        for grid in &self.grids {
            out.extend_from_slice(grid);
        }
        put_bytes(&mut out, &self.actor);
        out.extend_from_slice(&self.public_key);
        put_varint(&mut out, self.issued_at.max(0) as u64);
        put_varint(&mut out, self.expires_at.max(0) as u64);
        let signature = key.sign(&out).to_bytes();
        out.extend_from_slice(&signature);
        out
    }

    /// Reads `bytes` and checks that the server of `server_key` signed them and that they are
    /// still valid at `now` (Unix seconds).
    ///
    /// # Errors
    /// [`CertificateError`] naming what is wrong.
    pub fn verify(bytes: &[u8], server_key: &VerifyingKey, now: i64) -> Result<Self, CertificateError> {
        let (body, signature) = bytes.split_at_checked(bytes.len().saturating_sub(64)).ok_or(WireError::Truncated)?;
        let signature: [u8; 64] = signature.try_into().map_err(|_| WireError::Truncated)?;
        if server_key.verify(body, &Signature::from_bytes(&signature)).is_err() {
            return Err(CertificateError::NotSigned);
        }
        let limits = Limits::default();
        let mut r = Reader::new(body, CERTIFICATE_MAGIC, &limits)?;
        let text = |r: &mut Reader<'_>| {
            std::str::from_utf8(r.bytes(200)?).map(str::to_string).map_err(|_| WireError::Malformed("text"))
        };
        let (device_id, device, holder, role) = (text(&mut r)?, text(&mut r)?, text(&mut r)?, text(&mut r)?);
        let grids = (0..r.count(limits.max_docs, "grids")?).map(|_| r.array::<16>()).collect::<Result<_, _>>()?;
        let actor = r.bytes(32)?.to_vec();
        let public_key = r.array::<32>()?;
        let issued_at = i64::try_from(r.varint()?).map_err(|_| WireError::Malformed("time"))?;
        let expires_at = i64::try_from(r.varint()?).map_err(|_| WireError::Malformed("time"))?;
        r.end()?;
        if expires_at <= now {
            return Err(CertificateError::Expired);
        }
        Ok(Self { device_id, device, holder, role, grids, actor, public_key, issued_at, expires_at })
    }

    /// The certified key.
    ///
    /// # Errors
    /// [`CertificateError::Malformed`] if the certified bytes are not an Ed25519 public key.
    pub fn key(&self) -> Result<VerifyingKey, CertificateError> {
        VerifyingKey::from_bytes(&self.public_key).map_err(|_| CertificateError::Malformed(WireError::Malformed("key")))
    }
}
