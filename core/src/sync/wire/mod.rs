//! The sync exchange's messages and their byte encoding.
//!
//! Every byte that arrives from another device or the server is hostile until checked, so decoding
//! is bounded before anything is allocated: a length is checked against [`Limits`] and against the
//! bytes actually left before a buffer is made, and a compressed body is inflated only up to the
//! limit ([`compression`]).
//!
//! Layout (all integers LEB128 varints, `bytes` = length + bytes, `str` = UTF-8 `bytes`; `docs` is
//! in [`docs`], where the bytes go):
//! ```text
//! request  = "GBQ9" cursor:bytes docs proofs signed keys wants erase erased_since
//! response = "GBP9" cursor:bytes more:u8 docs refused vouched authors proven keys key_refused
//!            erased resync erase_refused
//! refused  = count (doc:str reason:u8)*        reason 0 other, 1 outside_scope, 2 malformed,
//!                                               3 not_allowed, 4 erased; a reason this build
//!                                               does not know reads as other
//! vouched  = 0 | 1 signature:64                 the server's proof over the reply's changes
//! authors  = count (actor:bytes device_id:str device:str holder:str role:str key)*
//! key      = 0 | 1 public_key:32                the actor's enrolled key (version 9; none: no key)
//! signed   = 0 | 1 signature:64                 the store's proof over its own changes
//! ```
//!
//! `proofs` are in [`proof`]: a request's are the signed batches of the changes it relays for
//! other devices; `signed` is the batch of the store's own changes, as a [`Proof`] of the actor the
//! request is sent under, whose hashes the server reads from the changes themselves. A reply's
//! `proven` (its changes' authors' proofs) is in [`proven`]. Version 8 is version 9 without
//! `proven` and the authors' `key`, its documents in the delimited framing of [`docs`] rather than
//! the chained one. The keys
//! sections are in [`keys`], the erasure sections in [`erasure`]; version 7 is version 8 without
//! the erasure sections, version 6 is version 7 without the keys sections. Version 5 is
//! version 6 without `signed`, its changes in the sized framing of [`docs`] (version 6 delimits a
//! change by its own fields). Version 4 is version 5 without `proofs`, `vouched` and `authors`; version 3 is
//! version 4 without `refused` (`"GBQ3"`, `"GBP3"`): a server answers a request in the version it
//! came in ([`Version`]). A document refused costs its name and a byte; none costs the one byte of
//! the count. The peer exchange's messages are in [`peer`].

use super::refusals::RefusalReason;
use crate::merge::DocChanges;
use codec::{Reader, put_bytes, put_varint};
pub use compression::{Codec, compress, compress_as, decompress};
use docs::Framing;
pub use erasure::{EraseRefusal, EraseRequest, ErasedKind, ErasureNotice, MAX_ERASE_REASON};
pub use group::group_by_doc;
pub use keys::{KeyRefusal, KeyWant, WireKey};
pub use peer::{PeerChanges, PeerIntro, PeerOffer};
pub use proof::{Certificate, CertificateError, Proof, SERVER_ACTOR, enrolment_statement};
pub use wipe::{WIPE_HEADER, WipeOrder, WipeReason};

mod chunk;
mod codec;
mod compression;
mod docs;
mod erasure;
mod group;
mod keys;
mod peer;
mod proof;
mod proven;
mod wipe;

const REQUEST_TAG: &[u8; 3] = b"GBQ";
const RESPONSE_TAG: &[u8; 3] = b"GBP";

/// A version of the exchange this build speaks: the digit after a request's or response's tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Version {
    /// Without per-document refusals: one document refused refuses the whole request.
    V3 = 3,
    /// A response names the documents refused, the rest of the request being applied.
    V4 = 4,
    /// Relayed changes carry their authors' signatures; a reply carries the server's, and the
    /// verified authors of its changes.
    V5 = 5,
    /// A request carries its store's signature over its own changes, and a change's body travels
    /// without its length.
    V6 = 6,
    /// Records' data keys travel with their documents (keys sections).
    V7 = 7,
    /// Erasures asked for and carried out travel with the exchange (erasure sections).
    V8 = 8,
    /// A reply carries the proofs its changes' authors signed, so that a store checks each
    /// author's signature itself rather than taking the server's word.
    V9 = 9,
}

impl Version {
    /// What this build sends.
    pub const CURRENT: Version = Version::V9;

    /// The version numbered `n`, if this build speaks it.
    pub fn from_number(n: u8) -> Option<Self> {
        match n {
            3 => Some(Version::V3),
            4 => Some(Version::V4),
            5 => Some(Version::V5),
            6 => Some(Version::V6),
            7 => Some(Version::V7),
            8 => Some(Version::V8),
            9 => Some(Version::V9),
            _ => None,
        }
    }

    pub fn number(self) -> u8 {
        self as u8
    }

    fn magic(self, tag: &[u8; 3]) -> [u8; 4] {
        [tag[0], tag[1], tag[2], b'0' + self.number()]
    }

    fn key_naming(self, docs: &[DocChanges]) -> keys::Naming<'_> {
        if self >= Version::V8 { keys::Naming::ByPlace(docs) } else { keys::Naming::ByName }
    }

    fn framing(self) -> Framing {
        match self {
            Version::V3 | Version::V4 | Version::V5 => Framing::Sized,
            Version::V6 | Version::V7 | Version::V8 => Framing::Delimited,
            Version::V9 => Framing::Chained,
        }
    }
}

/// The version number a request says it is written in (known to this build or not), read from its
/// magic without decoding the rest: a server tells an outdated app from a malformed message by it.
///
/// # Errors
/// [`WireError::BadMagic`] if the bytes do not start as a sync request.
pub fn request_version(message: &[u8]) -> Result<u8, WireError> {
    number_of(message, REQUEST_TAG)
}

fn number_of(message: &[u8], tag: &[u8; 3]) -> Result<u8, WireError> {
    match message {
        [a, b, c, digit, ..] if [*a, *b, *c] == *tag && digit.is_ascii_digit() => Ok(digit - b'0'),
        _ => Err(WireError::BadMagic),
    }
}

/// The version of a message starting with `tag`, if this build speaks it.
fn version_of(message: &[u8], tag: &[u8; 3]) -> Result<Version, WireError> {
    number_of(message, tag).and_then(|n| Version::from_number(n).ok_or(WireError::BadMagic))
}

/// The hash a change's bytes are known by (automerge's `ChangeHash`), or `None` for bytes that are
/// not a chunk.
pub fn change_hash(bytes: &[u8]) -> Option<[u8; 32]> {
    chunk::hash(bytes)
}

/// The actor a plain change's bytes name, or `None` for bytes that are not one.
pub fn change_actor(bytes: &[u8]) -> Option<&[u8]> {
    chunk::actor(bytes)
}

/// Bounds on what a decoder accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest message after decompression.
    pub max_message_bytes: usize,
    pub max_docs: usize,
    pub max_changes: usize,
    pub max_change_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self { max_message_bytes: 32 << 20, max_docs: 5_000, max_changes: 50_000, max_change_bytes: 1 << 20 }
    }
}

/// Why a message was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    #[error("the message is truncated")]
    Truncated,
    #[error("not a Gridbook sync message (or an unsupported version)")]
    BadMagic,
    #[error("the message is over the limit: {0}")]
    TooLarge(&'static str),
    #[error("the message is malformed: {0}")]
    Malformed(&'static str),
    #[error("the message was damaged in transit: its checksum does not match its content")]
    Damaged,
}

/// What a device sends: the server cursor it has reached, and changes the other side may lack.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SyncRequest {
    /// Opaque to the device: the position in the server's log it has received up to.
    pub cursor: Vec<u8>,
    pub docs: Vec<DocChanges>,
    /// The signed batches of the changes relayed for other devices (version 5).
    pub proofs: Vec<Proof>,
    /// The store's signature over its own changes of `docs`: a [`Proof`] of the actor the request
    /// is sent under, covering every change of that actor (version 6).
    pub signed: Option<[u8; 64]>,
    /// Keys this store made that the server has not acknowledged (version 7).
    pub keys: Vec<WireKey>,
    /// Keys this store lacks for records it holds (version 7).
    pub wants: Vec<KeyWant>,
    /// Erasures this store asks for (version 8).
    pub erase: Vec<EraseRequest>,
    /// The last erasure notice this store carried out, 0 for none (version 8).
    pub erased_since: u64,
}

/// What comes back: changes for the device's scope, the cursor to send next time, and the
/// documents of the request the server refused (their changes not stored; the rest were).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SyncResponse {
    pub cursor: Vec<u8>,
    /// More changes are waiting; sync again with the new cursor.
    pub more: bool,
    pub docs: Vec<DocChanges>,
    /// Always empty in a version 3 response: that version refuses a whole request instead.
    pub refused: Vec<Refusal>,
    /// The server's signature over the hashes of `docs`' changes, as a [`Proof`] of
    /// [`SERVER_ACTOR`] (version 5): a device that passes them on to a peer passes it with them.
    pub vouched: Option<[u8; 64]>,
    /// The enrolled device of each actor of `docs`' changes, as the server knows it (version 5).
    pub authors: Vec<Author>,
    /// The batches their authors signed that cover `docs`' changes, as the server kept them
    /// (version 9): a change stored before the server kept proofs has none.
    pub proofs: Vec<Proof>,
    /// The keys of the reply's documents, and of those the request wanted, that the device's scope
    /// covers (version 7).
    pub keys: Vec<WireKey>,
    /// Keys of the request that the server did not keep (version 7).
    pub key_refused: Vec<KeyRefusal>,
    /// The erasures after the request's `erased_since` that the device's scope covers, oldest
    /// first (version 8).
    pub erased: Vec<ErasureNotice>,
    /// Notices after the request's `erased_since` were dropped before this store saw them: it must
    /// start over from the server's copy (version 8).
    pub resync: bool,
    /// Erasures of the request the server did not carry out (version 8).
    pub erase_refused: Vec<EraseRefusal>,
}

/// The device, and its holder, that the district's server knows an actor by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Author {
    pub actor: Vec<u8>,
    pub device_id: String,
    pub device: String,
    pub holder: String,
    pub role: String,
    /// The Ed25519 key enrolled for the actor, if its store enrolled one (version 9).
    pub public_key: Option<[u8; 32]>,
}

/// A document of the request that the server did not store, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub doc: String,
    pub reason: RefusalReason,
}

impl SyncRequest {
    /// The request in [`Version::CURRENT`].
    pub fn encode(&self) -> Vec<u8> {
        self.encode_measured().0
    }

    /// The request in `version`: an older one only for a test of what apps in the field still send.
    pub fn encode_as(&self, version: Version) -> Vec<u8> {
        self.encode_in(version).0
    }

    /// The encoded request, and how many of its bytes are sync metadata: everything but the
    /// changes' own bytes (magic, cursor, document names, counts, lengths, dependency references).
    pub fn encode_measured(&self) -> (Vec<u8>, usize) {
        self.encode_in(Version::CURRENT)
    }

    fn encode_in(&self, version: Version) -> (Vec<u8>, usize) {
        let mut out = version.magic(REQUEST_TAG).to_vec();
        put_bytes(&mut out, &self.cursor);
        let content = docs::put_docs(&mut out, &self.docs, version.framing());
        if version >= Version::V5 {
            proof::put_proofs(&mut out, &self.proofs);
        }
        if version >= Version::V6 {
            put_signature(&mut out, self.signed.as_ref());
        }
        if version >= Version::V7 {
            keys::put_keys(&mut out, &self.keys, version.key_naming(&self.docs));
            keys::put_wants(&mut out, &self.wants);
        }
        if version >= Version::V8 {
            erasure::put_erase(&mut out, &self.erase);
            put_varint(&mut out, self.erased_since);
        }
        let metadata = out.len() - content;
        (out, metadata)
    }

    /// A request in any version this build speaks (they differ only in their magic).
    pub fn decode(bytes: &[u8], limits: &Limits) -> Result<Self, WireError> {
        let version = version_of(bytes, REQUEST_TAG)?;
        let mut r = Reader::new(bytes, &version.magic(REQUEST_TAG), limits)?;
        let cursor = r.bytes(64)?.to_vec();
        let docs = r.docs(version.framing())?;
        let proofs = if version >= Version::V5 { r.proofs()? } else { Vec::new() };
        let signed = if version >= Version::V6 { r.signature()? } else { None };
        let (keys, wants) = if version >= Version::V7 {
            (r.keys(limits.max_docs, version.key_naming(&docs))?, r.wants(limits.max_docs)?)
        } else {
            Default::default()
        };
        let (erase, erased_since) =
            if version >= Version::V8 { (r.erase(limits.max_docs)?, r.varint()?) } else { Default::default() };
        r.end()?;
        Ok(Self { cursor, docs, proofs, signed, keys, wants, erase, erased_since })
    }
}

impl SyncResponse {
    /// The response in [`Version::CURRENT`].
    pub fn encode(&self) -> Vec<u8> {
        self.encode_as(Version::CURRENT)
    }

    /// The response in `version`; in version 3, without [`SyncResponse::refused`].
    pub fn encode_as(&self, version: Version) -> Vec<u8> {
        let mut out = version.magic(RESPONSE_TAG).to_vec();
        put_bytes(&mut out, &self.cursor);
        out.push(u8::from(self.more));
        docs::put_docs(&mut out, &self.docs, version.framing());
        if version >= Version::V4 {
            put_varint(&mut out, self.refused.len() as u64);
            for refusal in &self.refused {
                put_bytes(&mut out, refusal.doc.as_bytes());
                out.push(refusal.reason.code());
            }
        }
        if version >= Version::V5 {
            put_signature(&mut out, self.vouched.as_ref());
            put_varint(&mut out, self.authors.len() as u64);
            for a in &self.authors {
                put_bytes(&mut out, &a.actor);
                for text in [&a.device_id, &a.device, &a.holder, &a.role] {
                    put_bytes(&mut out, text.as_bytes());
                }
                if version >= Version::V9 {
                    put_key(&mut out, a.public_key.as_ref());
                }
            }
        }
        if version >= Version::V9 {
            proven::put_proven(&mut out, &self.proofs, &self.docs);
        }
        if version >= Version::V7 {
            keys::put_keys(&mut out, &self.keys, version.key_naming(&self.docs));
            keys::put_refused(&mut out, &self.key_refused);
        }
        if version >= Version::V8 {
            erasure::put_notices(&mut out, &self.erased);
            out.push(u8::from(self.resync));
            erasure::put_erase_refused(&mut out, &self.erase_refused);
        }
        out
    }

    /// A response in any version this build speaks.
    pub fn decode(bytes: &[u8], limits: &Limits) -> Result<Self, WireError> {
        let version = version_of(bytes, RESPONSE_TAG)?;
        let mut r = Reader::new(bytes, &version.magic(RESPONSE_TAG), limits)?;
        let cursor = r.bytes(64)?.to_vec();
        let more = r.flag()?;
        let docs = r.docs(version.framing())?;
        let mut refused = Vec::new();
        if version >= Version::V4 {
            for _ in 0..r.count(limits.max_docs, "refused documents")? {
                let doc = std::str::from_utf8(r.bytes(200)?).map_err(|_| WireError::Malformed("document name"))?;
                refused.push(Refusal { doc: doc.to_string(), reason: RefusalReason::from_code(r.byte()?) });
            }
        }
        let (mut vouched, mut authors) = (None, Vec::new());
        if version >= Version::V5 {
            vouched = r.signature()?;
            for _ in 0..r.count(limits.max_docs, "authors")? {
                let actor = r.bytes(32)?.to_vec();
                let mut text =
                    || std::str::from_utf8(r.bytes(200)?).map(str::to_string).map_err(|_| WireError::Malformed("text"));
                let (device_id, device, holder, role) = (text()?, text()?, text()?, text()?);
                let public_key = if version >= Version::V9 { r.key()? } else { None };
                authors.push(Author { actor, device_id, device, holder, role, public_key });
            }
        }
        let proofs = if version >= Version::V9 { r.proven(&docs)? } else { Vec::new() };
        let (keys, key_refused) = if version >= Version::V7 {
            (r.keys(limits.max_docs, version.key_naming(&docs))?, r.key_refusals(limits.max_docs)?)
        } else {
            Default::default()
        };
        let (mut erased, mut resync, mut erase_refused) = (Vec::new(), false, Vec::new());
        if version >= Version::V8 {
            erased = r.notices(limits.max_docs)?;
            resync = r.flag()?;
            erase_refused = r.erase_refusals(limits.max_docs)?;
        }
        r.end()?;
        Ok(Self {
            cursor,
            more,
            docs,
            refused,
            vouched,
            authors,
            proofs,
            keys,
            key_refused,
            erased,
            resync,
            erase_refused,
        })
    }
}

/// An optional signature: a flag byte, then the signature if there is one.
fn put_signature(out: &mut Vec<u8>, signature: Option<&[u8; 64]>) {
    match signature {
        None => out.push(0),
        Some(signature) => {
            out.push(1);
            out.extend_from_slice(signature);
        }
    }
}

/// An optional public key: a flag byte, then the key if there is one.
fn put_key(out: &mut Vec<u8>, key: Option<&[u8; 32]>) {
    match key {
        None => out.push(0),
        Some(key) => {
            out.push(1);
            out.extend_from_slice(key);
        }
    }
}

impl Reader<'_> {
    fn key(&mut self) -> Result<Option<[u8; 32]>, WireError> {
        match self.byte()? {
            0 => Ok(None),
            1 => Ok(Some(self.array::<32>()?)),
            _ => Err(WireError::Malformed("flag")),
        }
    }

    fn flag(&mut self) -> Result<bool, WireError> {
        match self.byte()? {
            0 => Ok(false),
            1 => Ok(true),
            _ => Err(WireError::Malformed("flag")),
        }
    }

    fn signature(&mut self) -> Result<Option<[u8; 64]>, WireError> {
        match self.byte()? {
            0 => Ok(None),
            1 => Ok(Some(self.array::<64>()?)),
            _ => Err(WireError::Malformed("flag")),
        }
    }
}

#[cfg(test)]
mod tests;
