//! The keys sections of versions 7 and 8: records' data keys travelling with the documents they
//! open.
//!
//! ```text
//! keys    = count (key)*                          a request's: keys its store made that the server
//!                                                 has not acknowledged; a response's: keys of
//!                                                 documents in the device's scope
//! key     = id:16 doc:str key:32                  version 7, and the peer exchange
//!         | 0 doc:str id:16 key:32                version 8: a document not in the message
//!         | place << 1 | own, [id:16], key:32     version 8: the message's place-th document (from
//!                                                 1); own 1: the key is the document's own record's
//!                                                 (a household's, an event's), whose id its name
//!                                                 gives, so the id is left out
//! wants   = count (id:16 doc:str make:u8)*        keys the store lacks; make 1: a record of an earlier
//!                                                 build, whose key the server may make
//! key_refused = count (id:16 reason:u8)*          keys of the request the server did not keep
//! ```
//!
//! The key bytes are secret: TLS carries them (see PROTOCOL.md), they are wiped from memory when
//! dropped, and `Debug` shows only the record and document they belong to.

use std::collections::HashMap;

use zeroize::Zeroizing;

use super::WireError;
use super::codec::{Reader, put_bytes, put_varint};
use crate::ids::{DocId, DocKind};
use crate::merge::DocChanges;
use crate::sync::RefusalReason;

/// A record's data key, with the document the record lives in.
#[derive(Clone, PartialEq, Eq)]
pub struct WireKey {
    /// The record's id (a household, resident or event), whose key this is.
    pub id: [u8; 16],
    /// The document the record lives in (`h/…` or `e/…`), which decides who may have the key.
    pub doc: String,
    /// The key's 32 bytes, wiped from memory when dropped.
    pub key: Zeroizing<[u8; 32]>,
}

impl std::fmt::Debug for WireKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WireKey").field("id", &uuid::Uuid::from_bytes(self.id)).field("doc", &self.doc).finish()
    }
}

/// A key a store lacks and asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyWant {
    /// The record's id, whose key the store lacks.
    pub id: [u8; 16],
    /// The document the record lives in.
    pub doc: String,
    /// The store saw only plaintext fields of the record (an earlier build's): the server may make
    /// its key if it has none.
    pub make: bool,
}

/// A key of the request the server did not keep, and why: outside the device's scope, or
/// `not_allowed` for a record whose key the server already holds with other bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyRefusal {
    /// The record's id, as the request named it.
    pub id: [u8; 16],
    /// `outside_scope`, `malformed` (a key an event's document cannot hold) or `not_allowed`.
    pub reason: RefusalReason,
}

const MAX_DOC_NAME: usize = 200;

/// How a keys section names a key's document.
#[derive(Clone, Copy)]
pub(super) enum Naming<'a> {
    /// By its name, always.
    ByName,
    /// By its place in the message's documents when it is one of them, else by name.
    ByPlace(&'a [DocChanges]),
}

pub(super) fn put_keys(out: &mut Vec<u8>, keys: &[WireKey], naming: Naming<'_>) {
    put_varint(out, keys.len() as u64);
    let Naming::ByPlace(docs) = naming else {
        for k in keys {
            out.extend_from_slice(&k.id);
            put_bytes(out, k.doc.as_bytes());
            out.extend_from_slice(k.key.as_ref());
        }
        return;
    };
    let places: HashMap<&str, usize> = docs.iter().enumerate().map(|(i, d)| (d.doc.as_str(), i + 1)).rev().collect();
    for k in keys {
        match places.get(k.doc.as_str()) {
            Some(&place) => {
                let own = own_record(&k.doc) == Some(k.id);
                put_varint(out, (place as u64) << 1 | u64::from(own));
                if !own {
                    out.extend_from_slice(&k.id);
                }
            }
            None => {
                out.push(0);
                put_bytes(out, k.doc.as_bytes());
                out.extend_from_slice(&k.id);
            }
        }
        out.extend_from_slice(k.key.as_ref());
    }
}

/// The record a document is named for: a household's or an event's id.
fn own_record(doc: &str) -> Option<[u8; 16]> {
    let doc: DocId = doc.parse().ok()?;
    match doc.kind {
        DocKind::Household | DocKind::Event => uuid::Uuid::parse_str(&doc.part).ok().map(uuid::Uuid::into_bytes),
        _ => None,
    }
}

pub(super) fn put_wants(out: &mut Vec<u8>, wants: &[KeyWant]) {
    put_varint(out, wants.len() as u64);
    for w in wants {
        out.extend_from_slice(&w.id);
        put_bytes(out, w.doc.as_bytes());
        out.push(u8::from(w.make));
    }
}

pub(super) fn put_refused(out: &mut Vec<u8>, refused: &[KeyRefusal]) {
    put_varint(out, refused.len() as u64);
    for r in refused {
        out.extend_from_slice(&r.id);
        out.push(r.reason.code());
    }
}

impl Reader<'_> {
    fn doc_name(&mut self) -> Result<String, WireError> {
        std::str::from_utf8(self.bytes(MAX_DOC_NAME)?)
            .map(str::to_string)
            .map_err(|_| WireError::Malformed("document name"))
    }

    pub(super) fn keys(&mut self, max: usize, naming: Naming<'_>) -> Result<Vec<WireKey>, WireError> {
        let mut keys = Vec::new();
        for _ in 0..self.count(max, "keys")? {
            let (id, doc) = match naming {
                Naming::ByName => {
                    let id = self.array::<16>()?;
                    (id, self.doc_name()?)
                }
                Naming::ByPlace(docs) => match self.varint()? {
                    0 => {
                        let doc = self.doc_name()?;
                        (self.array::<16>()?, doc)
                    }
                    1 => return Err(WireError::Malformed("a key's document")),
                    n => {
                        let doc = usize::try_from((n >> 1) - 1)
                            .ok()
                            .and_then(|i| docs.get(i))
                            .map(|d| d.doc.clone())
                            .ok_or(WireError::Malformed("a key's document"))?;
                        let id = if n & 1 == 1 {
                            own_record(&doc).ok_or(WireError::Malformed("a key's record"))?
                        } else {
                            self.array::<16>()?
                        };
                        (id, doc)
                    }
                },
            };
            let key = Zeroizing::new(self.array::<32>()?);
            keys.push(WireKey { id, doc, key });
        }
        Ok(keys)
    }

    pub(super) fn wants(&mut self, max: usize) -> Result<Vec<KeyWant>, WireError> {
        let mut wants = Vec::new();
        for _ in 0..self.count(max, "wanted keys")? {
            let id = self.array::<16>()?;
            let doc = self.doc_name()?;
            let make = match self.byte()? {
                0 => false,
                1 => true,
                _ => return Err(WireError::Malformed("flag")),
            };
            wants.push(KeyWant { id, doc, make });
        }
        Ok(wants)
    }

    pub(super) fn key_refusals(&mut self, max: usize) -> Result<Vec<KeyRefusal>, WireError> {
        let mut refused = Vec::new();
        for _ in 0..self.count(max, "refused keys")? {
            let id = self.array::<16>()?;
            refused.push(KeyRefusal { id, reason: RefusalReason::from_code(self.byte()?) });
        }
        Ok(refused)
    }
}
