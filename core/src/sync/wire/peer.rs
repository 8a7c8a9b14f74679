//! The peer exchange's messages. Each side first shows the certificate the district's server gave
//! its store and a fresh nonce; then proves it holds the certified key by signing both nonces and
//! both certificates, and offers the heads of its documents in the grids both certificates cover;
//! then sends the changes the other lacks, each batch with the signature that proves its author.
//!
//! ```text
//! hello   = "GBH2" certificate:bytes nonce:32
//! offer   = "GBO1" possession:64 count (doc:str count (head:32)*)*
//! changes = "GBX2" docs proofs count (certificate:bytes)* keys
//! ```
//!
//! `keys` (as in [`super::keys`]) are the data keys of the records the changes carry, within the
//! grids both certificates cover. A `"GBX1"` message, from a phone of the previous build, is the
//! same without them.
//!
//! `possession` signs `"GBN1" ‖ SHA-256(own certificate) ‖ SHA-256(the other's certificate) ‖ the
//! other's nonce ‖ own nonce`: a certificate shown by anyone but its holder, or relayed from another
//! exchange, does not verify.

use sha2::{Digest, Sha256};

use super::codec::{Reader, put_bytes, put_varint};
use super::proof::put_proofs;
use super::{Limits, Proof, WireError};
use crate::merge::DocChanges;

const INTRO_MAGIC: &[u8; 4] = b"GBH2";
const OFFER_MAGIC: &[u8; 4] = b"GBO1";
const CHANGES_MAGIC: &[u8; 4] = b"GBX2";
const CHANGES_MAGIC_V1: &[u8; 4] = b"GBX1";
const POSSESSION_MAGIC: &[u8; 4] = b"GBN1";
const MAX_CERTIFICATE: usize = 64 << 10;

/// What a peer says first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerIntro {
    /// The store's certificate, as the server signed it.
    pub certificate: Vec<u8>,
    pub nonce: [u8; 32],
}

/// What a peer says once it has checked the other's certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerOffer {
    /// The signature of [`PeerOffer::possession_statement`] with the certified key.
    pub possession: [u8; 64],
    /// Per document of the grids both certificates cover, the hashes of its heads.
    pub heads: Vec<(String, Vec<[u8; 32]>)>,
}

/// The changes one peer sends the other, with the proofs of their authors.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PeerChanges {
    pub docs: Vec<DocChanges>,
    /// Signed batches covering every change of `docs`.
    pub proofs: Vec<Proof>,
    /// The certificates of the authors of `proofs` other than the sender and the server.
    pub certificates: Vec<Vec<u8>>,
    /// The data keys of the records of `docs` (and of the households whose notes a journal of
    /// `docs` carries).
    pub keys: Vec<super::WireKey>,
}

impl PeerIntro {
    pub fn encode(&self) -> Vec<u8> {
        let mut out = INTRO_MAGIC.to_vec();
        put_bytes(&mut out, &self.certificate);
        out.extend_from_slice(&self.nonce);
        out
    }

    /// # Errors
    /// [`WireError`] for bytes that are not an introduction within `limits`.
    pub fn decode(bytes: &[u8], limits: &Limits) -> Result<Self, WireError> {
        let mut r = Reader::new(bytes, INTRO_MAGIC, limits)?;
        let certificate = r.bytes(MAX_CERTIFICATE)?.to_vec();
        let nonce = r.array::<32>()?;
        r.end()?;
        Ok(Self { certificate, nonce })
    }
}

impl PeerOffer {
    /// What a side signs to show it holds the key of `own_certificate`.
    pub fn possession_statement(
        own_certificate: &[u8],
        their_certificate: &[u8],
        their_nonce: &[u8; 32],
        own_nonce: &[u8; 32],
    ) -> Vec<u8> {
        let mut out = POSSESSION_MAGIC.to_vec();
        out.extend_from_slice(&Sha256::digest(own_certificate));
        out.extend_from_slice(&Sha256::digest(their_certificate));
        out.extend_from_slice(their_nonce);
        out.extend_from_slice(own_nonce);
        out
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut out = OFFER_MAGIC.to_vec();
        out.extend_from_slice(&self.possession);
        put_varint(&mut out, self.heads.len() as u64);
        for (doc, heads) in &self.heads {
            put_bytes(&mut out, doc.as_bytes());
            put_varint(&mut out, heads.len() as u64);
            for head in heads {
                out.extend_from_slice(head);
            }
        }
        out
    }

    /// # Errors
    /// [`WireError`] for bytes that are not an offer within `limits`.
    pub fn decode(bytes: &[u8], limits: &Limits) -> Result<Self, WireError> {
        let mut r = Reader::new(bytes, OFFER_MAGIC, limits)?;
        let possession = r.array::<64>()?;
        let docs = r.count(limits.max_docs, "documents")?;
        let mut heads = Vec::with_capacity(docs);
        for _ in 0..docs {
            let doc = std::str::from_utf8(r.bytes(200)?).map_err(|_| WireError::Malformed("document name"))?;
            let hashes = (0..r.count(1024, "heads")?).map(|_| r.array::<32>()).collect::<Result<_, _>>()?;
            heads.push((doc.to_string(), hashes));
        }
        r.end()?;
        Ok(Self { possession, heads })
    }
}

impl PeerChanges {
    pub fn encode(&self) -> Vec<u8> {
        let mut out = CHANGES_MAGIC.to_vec();
        super::docs::put_docs(&mut out, &self.docs, super::docs::Framing::Sized);
        put_proofs(&mut out, &self.proofs);
        put_varint(&mut out, self.certificates.len() as u64);
        for certificate in &self.certificates {
            put_bytes(&mut out, certificate);
        }
        super::keys::put_keys(&mut out, &self.keys, super::keys::Naming::ByName);
        out
    }

    /// # Errors
    /// [`WireError`] for bytes that are not a changes message within `limits`.
    pub fn decode(bytes: &[u8], limits: &Limits) -> Result<Self, WireError> {
        let with_keys = !bytes.starts_with(CHANGES_MAGIC_V1);
        let mut r = Reader::new(bytes, if with_keys { CHANGES_MAGIC } else { CHANGES_MAGIC_V1 }, limits)?;
        let docs = r.docs(super::docs::Framing::Sized)?;
        let proofs = r.proofs()?;
        let certificates = (0..r.count(limits.max_docs, "certificates")?)
            .map(|_| r.bytes(MAX_CERTIFICATE).map(<[u8]>::to_vec))
            .collect::<Result<_, _>>()?;
        let keys = if with_keys { r.keys(limits.max_docs, super::keys::Naming::ByName)? } else { Vec::new() };
        r.end()?;
        Ok(Self { docs, proofs, certificates, keys })
    }
}
