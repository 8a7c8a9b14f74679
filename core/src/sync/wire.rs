//! The sync exchange's messages and their byte encoding.
//!
//! Every byte that arrives from another device or the server is hostile until checked, so decoding
//! is bounded before anything is allocated: a length is checked against [`Limits`] and against the
//! bytes actually left before a buffer is made, and a gzip body is inflated only up to the limit.
//!
//! Layout (all integers LEB128 varints, `bytes` = length + bytes, `str` = UTF-8 `bytes`):
//! ```text
//! request  = "GBQ1" cursor:bytes docs
//! response = "GBP1" cursor:bytes more:u8 docs
//! hello    = "GBH1" count (grid:bytes)* count (doc:str count (head:bytes)*)*   (peer exchange)
//! docs     = count (doc:str count (change:bytes)*)*
//! ```

use std::io::{Read, Write};

use flate2::Compression;
use flate2::read::GzDecoder;
use flate2::write::GzEncoder;

use crate::merge::DocChanges;

const REQUEST_MAGIC: &[u8; 4] = b"GBQ1";
const RESPONSE_MAGIC: &[u8; 4] = b"GBP1";
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
        let mut out = REQUEST_MAGIC.to_vec();
        put_bytes(&mut out, &self.cursor);
        put_docs(&mut out, &self.docs);
        out
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
        put_docs(&mut out, &self.docs);
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

/// Gzips a message for the wire.
pub fn compress(message: &[u8]) -> Vec<u8> {
    let mut enc = GzEncoder::new(Vec::with_capacity(message.len() / 2 + 64), Compression::default());
    // Writing to a Vec cannot fail.
    let _ = enc.write_all(message);
    enc.finish().unwrap_or_default()
}

/// Inflates a gzipped message, refusing one that inflates past `limits.max_message_bytes`.
pub fn decompress(body: &[u8], limits: &Limits) -> Result<Vec<u8>, WireError> {
    let mut out = Vec::new();
    let cap = limits.max_message_bytes as u64 + 1;
    GzDecoder::new(body).take(cap).read_to_end(&mut out).map_err(|_| WireError::Malformed("gzip"))?;
    if out.len() as u64 >= cap {
        return Err(WireError::TooLarge("inflated size"));
    }
    Ok(out)
}

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    loop {
        let byte = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

fn put_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    put_varint(out, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

fn put_docs(out: &mut Vec<u8>, docs: &[DocChanges]) {
    put_varint(out, docs.len() as u64);
    for doc in docs {
        put_bytes(out, doc.doc.as_bytes());
        put_varint(out, doc.changes.len() as u64);
        for change in &doc.changes {
            put_bytes(out, change);
        }
    }
}

struct Reader<'a> {
    rest: &'a [u8],
    limits: &'a Limits,
}

impl<'a> Reader<'a> {
    fn new(bytes: &'a [u8], magic: &[u8; 4], limits: &'a Limits) -> Result<Self, WireError> {
        if bytes.len() > limits.max_message_bytes {
            return Err(WireError::TooLarge("message size"));
        }
        match bytes.split_at_checked(4) {
            Some((m, rest)) if m == magic => Ok(Self { rest, limits }),
            _ => Err(WireError::BadMagic),
        }
    }

    fn byte(&mut self) -> Result<u8, WireError> {
        let (&b, rest) = self.rest.split_first().ok_or(WireError::Truncated)?;
        self.rest = rest;
        Ok(b)
    }

    fn varint(&mut self) -> Result<u64, WireError> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.byte()?;
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(WireError::Malformed("varint"))
    }

    /// A count, checked against `max` and against the bytes left (each item takes at least one).
    fn count(&mut self, max: usize, what: &'static str) -> Result<usize, WireError> {
        let n = self.varint()?;
        if n > max as u64 {
            return Err(WireError::TooLarge(what));
        }
        if n > self.rest.len() as u64 {
            return Err(WireError::Truncated);
        }
        Ok(n as usize)
    }

    fn bytes(&mut self, max: usize) -> Result<&'a [u8], WireError> {
        let n = self.varint()?;
        if n > max as u64 {
            return Err(WireError::TooLarge("field size"));
        }
        let (head, rest) = self.rest.split_at_checked(n as usize).ok_or(WireError::Truncated)?;
        self.rest = rest;
        Ok(head)
    }

    fn docs(&mut self) -> Result<Vec<DocChanges>, WireError> {
        let n = self.count(self.limits.max_docs, "documents")?;
        let mut docs = Vec::with_capacity(n);
        let mut total = 0usize;
        for _ in 0..n {
            let name = std::str::from_utf8(self.bytes(200)?).map_err(|_| WireError::Malformed("document name"))?;
            let k = self.count(self.limits.max_changes, "changes")?;
            total += k;
            if total > self.limits.max_changes {
                return Err(WireError::TooLarge("changes"));
            }
            let mut changes = Vec::with_capacity(k);
            for _ in 0..k {
                changes.push(self.bytes(self.limits.max_change_bytes)?.to_vec());
            }
            docs.push(DocChanges { doc: name.to_string(), changes });
        }
        Ok(docs)
    }

    fn end(&self) -> Result<(), WireError> {
        if self.rest.is_empty() { Ok(()) } else { Err(WireError::Malformed("trailing bytes")) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> SyncResponse {
        SyncResponse {
            cursor: vec![1, 2, 3],
            more: true,
            docs: vec![DocChanges { doc: "g/x".into(), changes: vec![vec![9; 300], vec![]] }],
        }
    }

    #[test]
    fn round_trips() {
        let limits = Limits::default();
        let resp = sample();
        assert_eq!(SyncResponse::decode(&resp.encode(), &limits), Ok(resp.clone()));
        let req = SyncRequest { cursor: vec![], docs: resp.docs.clone() };
        assert_eq!(SyncRequest::decode(&req.encode(), &limits), Ok(req));
        let packed = compress(&resp.encode());
        assert_eq!(decompress(&packed, &limits).map(|b| SyncResponse::decode(&b, &limits)), Ok(Ok(resp)));
    }

    #[test]
    fn every_truncation_is_an_error_not_a_panic() {
        let bytes = sample().encode();
        for cut in 0..bytes.len() {
            assert!(SyncResponse::decode(&bytes[..cut], &Limits::default()).is_err());
        }
    }

    #[test]
    fn huge_counts_are_refused_before_allocating() {
        let mut bytes = RESPONSE_MAGIC.to_vec();
        bytes.extend([0, 0]);
        put_varint(&mut bytes, u64::MAX >> 1);
        assert!(SyncResponse::decode(&bytes, &Limits::default()).is_err());
    }

    #[test]
    fn a_gzip_bomb_is_refused() {
        let limits = Limits { max_message_bytes: 1 << 20, ..Limits::default() };
        let bomb = compress(&vec![0u8; 8 << 20]);
        assert_eq!(decompress(&bomb, &limits), Err(WireError::TooLarge("inflated size")));
    }
}
