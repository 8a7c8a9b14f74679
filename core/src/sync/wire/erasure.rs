//! The erasure sections of version 8: a resident's or a household's erasure asked for, and the
//! server's notices of erasures that every store carries out.
//!
//! ```text
//! erase         = count (id:16 doc:str kind:u8 reason:str)*   erasures this store asks for
//! erased_since  = varint                                      the last notice this store carried out
//! erased        = count (seq:varint id:16 doc:str kind:u8)*   notices after erased_since, oldest first
//! resync        = u8                                          1: notices this store missed were
//!                                                             dropped; it starts over from the server
//! erase_refused = count (id:16 reason:u8)*                    erasures of the request not carried out
//! ```
//!
//! `kind` is 0 for a resident (its id; `doc` its household's document), 1 for a household (its id;
//! `doc` its document). A kind this build does not know is malformed: a store that cannot tell what
//! to erase must not guess.

use super::WireError;
use super::codec::{Reader, put_bytes, put_varint};
use crate::sync::RefusalReason;

const MAX_DOC_NAME: usize = 200;
/// The longest reason an erasure request carries, in bytes.
pub const MAX_ERASE_REASON: usize = 500;

/// What an erasure destroys: one resident's fields, or a household's with all its residents'.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ErasedKind {
    Resident,
    Household,
}

impl ErasedKind {
    fn code(self) -> u8 {
        match self {
            ErasedKind::Resident => 0,
            ErasedKind::Household => 1,
        }
    }

    fn from_code(code: u8) -> Result<Self, WireError> {
        match code {
            0 => Ok(ErasedKind::Resident),
            1 => Ok(ErasedKind::Household),
            _ => Err(WireError::Malformed("erasure kind")),
        }
    }
}

/// An erasure a store asks the server for, on behalf of the centre or a village's secretary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EraseRequest {
    /// The resident's or household's id.
    pub id: [u8; 16],
    /// The household document the record lives in (`h/…`).
    pub doc: String,
    pub kind: ErasedKind,
    /// Why, as the person who asked for it gave it (kept with the server's notice).
    pub reason: String,
}

/// An erasure the server carried out: every store destroys the record's key and its plaintext.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErasureNotice {
    /// The notice's place in the server's list; a store sends the last it carried out.
    pub seq: u64,
    pub id: [u8; 16],
    pub doc: String,
    pub kind: ErasedKind,
}

/// An erasure of the request the server did not carry out, and why: `not_allowed` for a role that
/// may not erase, `outside_scope`, or `malformed` for a record the document cannot hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EraseRefusal {
    pub id: [u8; 16],
    pub reason: RefusalReason,
}

pub(super) fn put_erase(out: &mut Vec<u8>, erase: &[EraseRequest]) {
    put_varint(out, erase.len() as u64);
    for e in erase {
        out.extend_from_slice(&e.id);
        put_bytes(out, e.doc.as_bytes());
        out.push(e.kind.code());
        put_bytes(out, e.reason.as_bytes());
    }
}

pub(super) fn put_notices(out: &mut Vec<u8>, notices: &[ErasureNotice]) {
    put_varint(out, notices.len() as u64);
    for n in notices {
        put_varint(out, n.seq);
        out.extend_from_slice(&n.id);
        put_bytes(out, n.doc.as_bytes());
        out.push(n.kind.code());
    }
}

pub(super) fn put_erase_refused(out: &mut Vec<u8>, refused: &[EraseRefusal]) {
    put_varint(out, refused.len() as u64);
    for r in refused {
        out.extend_from_slice(&r.id);
        out.push(r.reason.code());
    }
}

impl Reader<'_> {
    fn text(&mut self, max: usize, what: &'static str) -> Result<String, WireError> {
        std::str::from_utf8(self.bytes(max)?).map(str::to_string).map_err(|_| WireError::Malformed(what))
    }

    pub(super) fn erase(&mut self, max: usize) -> Result<Vec<EraseRequest>, WireError> {
        let mut out = Vec::new();
        for _ in 0..self.count(max, "erasures")? {
            let id = self.array::<16>()?;
            let doc = self.text(MAX_DOC_NAME, "document name")?;
            let kind = ErasedKind::from_code(self.byte()?)?;
            let reason = self.text(MAX_ERASE_REASON, "erasure reason")?;
            out.push(EraseRequest { id, doc, kind, reason });
        }
        Ok(out)
    }

    pub(super) fn notices(&mut self, max: usize) -> Result<Vec<ErasureNotice>, WireError> {
        let mut out = Vec::new();
        for _ in 0..self.count(max, "erasure notices")? {
            let seq = self.varint()?;
            let id = self.array::<16>()?;
            let doc = self.text(MAX_DOC_NAME, "document name")?;
            let kind = ErasedKind::from_code(self.byte()?)?;
            out.push(ErasureNotice { seq, id, doc, kind });
        }
        Ok(out)
    }

    pub(super) fn erase_refusals(&mut self, max: usize) -> Result<Vec<EraseRefusal>, WireError> {
        let mut out = Vec::new();
        for _ in 0..self.count(max, "refused erasures")? {
            let id = self.array::<16>()?;
            out.push(EraseRefusal { id, reason: RefusalReason::from_code(self.byte()?) });
        }
        Ok(out)
    }
}
