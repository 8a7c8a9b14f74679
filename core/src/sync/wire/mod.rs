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
//! request  = "GBQ3" cursor:bytes docs
//! response = "GBP3" cursor:bytes more:u8 docs
//! hello    = "GBH1" count (grid:bytes)* count (doc:str count (head:bytes)*)*   (peer exchange)
//! ```

use crate::merge::DocChanges;
use codec::{Reader, put_bytes, put_varint};
pub use compression::{Codec, compress, compress_as, decompress};
pub use group::group_by_doc;

mod chunk;
mod codec;
mod compression;
mod docs;
mod group;

const REQUEST_MAGIC: &[u8; 4] = b"GBQ3";
const RESPONSE_MAGIC: &[u8; 4] = b"GBP3";
const HELLO_MAGIC: &[u8; 4] = b"GBH1";

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
}

/// What comes back: changes for the device's scope, and the cursor to send next time.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SyncResponse {
    pub cursor: Vec<u8>,
    /// More changes are waiting; sync again with the new cursor.
    pub more: bool,
    pub docs: Vec<DocChanges>,
}

impl SyncRequest {
    pub fn encode(&self) -> Vec<u8> {
        self.encode_measured().0
    }

    /// The encoded request, and how many of its bytes are sync metadata: everything but the
    /// changes' own bytes (magic, cursor, document names, counts, lengths, dependency references).
    pub fn encode_measured(&self) -> (Vec<u8>, usize) {
        let mut out = REQUEST_MAGIC.to_vec();
        put_bytes(&mut out, &self.cursor);
        let content = docs::put_docs(&mut out, &self.docs);
        let metadata = out.len() - content;
        (out, metadata)
    }

    pub fn decode(bytes: &[u8], limits: &Limits) -> Result<Self, WireError> {
        let mut r = Reader::new(bytes, REQUEST_MAGIC, limits)?;
        let cursor = r.bytes(64)?.to_vec();
        let docs = r.docs()?;
        r.end()?;
        Ok(Self { cursor, docs })
    }
}

impl SyncResponse {
    pub fn encode(&self) -> Vec<u8> {
        let mut out = RESPONSE_MAGIC.to_vec();
        put_bytes(&mut out, &self.cursor);
        out.push(u8::from(self.more));
        docs::put_docs(&mut out, &self.docs);
        out
    }

    pub fn decode(bytes: &[u8], limits: &Limits) -> Result<Self, WireError> {
        let mut r = Reader::new(bytes, RESPONSE_MAGIC, limits)?;
        let cursor = r.bytes(64)?.to_vec();
        let more = match r.byte()? {
            0 => false,
            1 => true,
            _ => return Err(WireError::Malformed("flag")),
        };
        let docs = r.docs()?;
        r.end()?;
        Ok(Self { cursor, more, docs })
    }
}

/// What a peer says first: the grids it shares, and the heads of its documents in them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PeerHello {
    /// UUIDs of the grids the peer holds and will exchange.
    pub grids: Vec<[u8; 16]>,
    /// Per document, the hashes of its heads.
    pub heads: Vec<(String, Vec<[u8; 32]>)>,
}

impl PeerHello {
    pub fn encode(&self) -> Vec<u8> {
        let mut out = HELLO_MAGIC.to_vec();
        put_varint(&mut out, self.grids.len() as u64);
        for grid in &self.grids {
            put_bytes(&mut out, grid);
        }
        put_varint(&mut out, self.heads.len() as u64);
        for (doc, heads) in &self.heads {
            put_bytes(&mut out, doc.as_bytes());
            put_varint(&mut out, heads.len() as u64);
            for head in heads {
                put_bytes(&mut out, head);
            }
        }
        out
    }

    pub fn decode(bytes: &[u8], limits: &Limits) -> Result<Self, WireError> {
        let mut r = Reader::new(bytes, HELLO_MAGIC, limits)?;
        let grids = (0..r.count(limits.max_docs, "grids")?)
            .map(|_| r.bytes(16)?.try_into().map_err(|_| WireError::Malformed("grid id")))
            .collect::<Result<_, _>>()?;
        let docs = r.count(limits.max_docs, "documents")?;
        let mut heads = Vec::with_capacity(docs);
        for _ in 0..docs {
            let doc = std::str::from_utf8(r.bytes(200)?).map_err(|_| WireError::Malformed("document name"))?;
            let hashes = (0..r.count(1024, "heads")?)
                .map(|_| r.bytes(32)?.try_into().map_err(|_| WireError::Malformed("head")))
                .collect::<Result<_, _>>()?;
            heads.push((doc.to_string(), hashes));
        }
        r.end()?;
        Ok(Self { grids, heads })
    }
}

#[cfg(test)]
mod tests;
