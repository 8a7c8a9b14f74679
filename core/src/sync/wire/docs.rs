//! The documents of a message. Names travel as binary ids against a table of the message's grids,
//! sent once (a household's name as text is 75 bytes; here it is 17); changes travel packed
//! (`chunk`), a dependency on the change just before it in the list taking no bytes at all.
//!
//! ```text
//! docs    = count (grid:16)* count (name changes)*
//! name    = head:varint [text:str | household:16 | month | event:16]
//! head    = grid << 3 | kind                kind 0: the name as text (grid 0), 1 grid, 2 household,
//!                                           3 journal, 4 event; grid: index into the grid table
//! month   = year * 12 + month - 1
//! changes = count (change)*
//! change  = head, then by form:
//!           0 chunk                        a chunk that is not a plain change, as it is (len bytes)
//!           1 rest                         one dependency: the change before it in this list
//!           2 hash:32 rest                 one dependency, in full
//!           3 count (dep)* rest            rest: the body after the dependencies
//! dep     = 0 hash:32 | k                  k ≥ 1: the change k places before this one in the list
//! head    = len << 2 | form                sized framing (version 5 and older, the peer exchange)
//!         = form                           delimited framing (version 6), rest read to its end
//!         | len << 3 | 4 | form            delimited framing, rest of len bytes (a chunk, or a
//!                                          change with bytes after its columns)
//! ```
//!
//! Every framing byte counts: a day's sync carries many small changes of a dozen or so documents, so
//! the length, the form and the kind share varints to keep its metadata within its byte target. In
//! the delimited framing a plain change's body gives its own length (`chunk::body_len`), which
//! saves the byte or two of its length on each of a day's changes: that pays for the request's
//! signature.

use std::collections::HashMap;

use super::WireError;
use super::chunk::{self, Parts};
use super::codec::{Reader, put_bytes, put_varint};
use crate::merge::DocChanges;

/// Most dependencies one change may name: a change depends on the heads its author saw, a handful.
const MAX_DEPS: usize = 1024;

/// How the changes of a message are delimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Framing {
    /// Each change carries its length.
    Sized,
    /// A plain change's body is read to its end.
    Delimited,
}

/// Writes `docs`; returns how many of the written bytes are the changes' own (their dependency
/// hashes sent in full and the rest of their bodies), the others being framing.
pub(super) fn put_docs(out: &mut Vec<u8>, docs: &[DocChanges], framing: Framing) -> usize {
    let names: Vec<Option<Name>> = docs.iter().map(|d| Name::parse(&d.doc)).collect();
    let mut grids: Vec<[u8; 16]> = Vec::new();
    for name in names.iter().flatten() {
        if !grids.contains(&name.grid) {
            grids.push(name.grid);
        }
    }
    put_varint(out, grids.len() as u64);
    for grid in &grids {
        out.extend_from_slice(grid);
    }
    put_varint(out, docs.len() as u64);
    let mut content = 0;
    for (doc, name) in docs.iter().zip(&names) {
        match name {
            Some(name) => {
                let grid = grids.iter().position(|g| *g == name.grid).unwrap_or_default() as u64;
                put_varint(out, grid << 3 | u64::from(name.kind));
                out.extend_from_slice(&name.part);
            }
            None => {
                put_varint(out, u64::from(TEXT));
                put_bytes(out, doc.doc.as_bytes());
            }
        }
        content += put_changes(out, &doc.changes, framing);
    }
    content
}

fn put_changes(out: &mut Vec<u8>, changes: &[Vec<u8>], framing: Framing) -> usize {
    put_varint(out, changes.len() as u64);
    let mut seen: HashMap<[u8; 32], usize> = HashMap::new();
    let mut content = 0;
    let sized = |out: &mut Vec<u8>, len: usize, form: u8| match framing {
        Framing::Sized => put_varint(out, (len as u64) << 2 | u64::from(form)),
        Framing::Delimited => put_varint(out, (len as u64) << 3 | u64::from(SIZED | form)),
    };
    for (i, bytes) in changes.iter().enumerate() {
        let Some((parts, hash)) = chunk::split(bytes) else {
            sized(out, bytes.len(), WHOLE);
            out.extend_from_slice(bytes);
            content += bytes.len();
            continue;
        };
        let back = |dep: &[u8; 32]| seen.get(dep).map(|&at| i - at);
        let delimited = framing == Framing::Delimited && chunk::body_len(parts.rest) == Some(parts.rest.len());
        let head = |out: &mut Vec<u8>, len: usize, form: u8| {
            if delimited { put_varint(out, u64::from(form)) } else { sized(out, len, form) }
        };
        match parts.deps.as_slice() {
            [dep] if back(dep) == Some(1) => head(out, parts.rest.len(), PREVIOUS),
            [dep] if back(dep).is_none() => {
                head(out, parts.rest.len(), ONE_HASH);
                out.extend_from_slice(dep);
                content += dep.len();
            }
            deps => {
                head(out, parts.rest.len(), LISTED);
                put_varint(out, deps.len() as u64);
                for dep in deps {
                    match back(dep) {
                        Some(k) => put_varint(out, k as u64),
                        None => {
                            out.push(0);
                            out.extend_from_slice(dep);
                            content += dep.len();
                        }
                    }
                }
            }
        }
        out.extend_from_slice(parts.rest);
        content += parts.rest.len();
        seen.insert(hash, i);
    }
    content
}

impl Reader<'_> {
    pub(super) fn docs(&mut self, framing: Framing) -> Result<Vec<DocChanges>, WireError> {
        let grids = (0..self.count(self.limits.max_docs, "grids")?)
            .map(|_| self.array::<16>().map(|g| uuid::Uuid::from_bytes(g).to_string()))
            .collect::<Result<Vec<_>, _>>()?;
        let n = self.count(self.limits.max_docs, "documents")?;
        let mut docs = Vec::with_capacity(n);
        let mut budget = Budget { changes: self.limits.max_changes, bytes: self.limits.max_message_bytes };
        for _ in 0..n {
            let doc = self.name(&grids)?;
            let changes = self.changes(&mut budget, framing)?;
            docs.push(DocChanges { doc, changes });
        }
        Ok(docs)
    }

    fn name(&mut self, grids: &[String]) -> Result<String, WireError> {
        let head = self.varint()?;
        let (index, kind) = (head >> 3, (head & 7) as u8);
        if kind == TEXT {
            if index != 0 {
                return Err(WireError::Malformed("document kind"));
            }
            return std::str::from_utf8(self.bytes(200)?)
                .map(str::to_string)
                .map_err(|_| WireError::Malformed("document name"));
        }
        let grid = usize::try_from(index).ok().and_then(|i| grids.get(i)).ok_or(WireError::Malformed("grid index"))?;
        let uuid = |r: &mut Self| r.array::<16>().map(|id| uuid::Uuid::from_bytes(id).to_string());
        Ok(match kind {
            GRID => format!("g/{grid}"),
            HOUSEHOLD => format!("h/{grid}/{}", uuid(self)?),
            JOURNAL => {
                let month = self.varint()?;
                if month >= 10_000 * 12 {
                    return Err(WireError::Malformed("journal month"));
                }
                format!("j/{grid}/{:04}-{:02}", month / 12, month % 12 + 1)
            }
            EVENT => format!("e/{grid}/{}", uuid(self)?),
            _ => return Err(WireError::Malformed("document kind")),
        })
    }

    fn changes(&mut self, budget: &mut Budget, framing: Framing) -> Result<Vec<Vec<u8>>, WireError> {
        let k = self.count(self.limits.max_changes, "changes")?;
        budget.changes = budget.changes.checked_sub(k).ok_or(WireError::TooLarge("changes"))?;
        let max = self.limits.max_change_bytes;
        let mut changes = Vec::with_capacity(k);
        // The hash of each change so far, for the dependencies that point back at it.
        let mut hashes: Vec<Option<[u8; 32]>> = Vec::with_capacity(k);
        for i in 0..k {
            let back = |hashes: &[Option<[u8; 32]>], k: u64| {
                let at = usize::try_from(k).ok().and_then(|k| i.checked_sub(k));
                at.and_then(|at| hashes[at]).ok_or(WireError::Malformed("dependency"))
            };
            let head = self.varint()?;
            // The body's length, or `None` for a body read to its end.
            let (len, form) = match framing {
                Framing::Sized => (Some(head >> 2), (head & 3) as u8),
                Framing::Delimited if head & u64::from(SIZED) != 0 => (Some(head >> 3), (head & 3) as u8),
                Framing::Delimited if head < u64::from(SIZED) && head != u64::from(WHOLE) => (None, head as u8),
                Framing::Delimited => return Err(WireError::Malformed("change head")),
            };
            let len = len
                .map(|len| usize::try_from(len).ok().filter(|&len| len <= max).ok_or(WireError::TooLarge("field size")))
                .transpose()?;
            let deps = match form {
                WHOLE => {
                    let bytes = self.take(len.unwrap_or_default())?.to_vec();
                    budget.take(bytes.len())?;
                    changes.push(bytes);
                    hashes.push(None);
                    continue;
                }
                PREVIOUS => vec![back(&hashes, 1)?],
                ONE_HASH => vec![self.array::<32>()?],
                _ => {
                    let n = self.count(MAX_DEPS, "dependencies")?;
                    (0..n)
                        .map(|_| match self.varint()? {
                            0 => self.array::<32>(),
                            k => back(&hashes, k),
                        })
                        .collect::<Result<_, _>>()?
                }
            };
            let len = match len {
                Some(len) => len,
                None => chunk::body_len(self.remaining()).ok_or(WireError::Truncated)?,
            };
            let parts = Parts { deps, rest: self.take(len)? };
            let (bytes, hash) = chunk::rebuild(&parts);
            if bytes.len() > max {
                return Err(WireError::TooLarge("field size"));
            }
            // Dependencies sent as references rebuild to 32 bytes each: bounded here, not by the
            // message's own size.
            budget.take(bytes.len())?;
            changes.push(bytes);
            hashes.push(Some(hash));
        }
        Ok(changes)
    }
}

/// What a message may still hold once rebuilt.
struct Budget {
    changes: usize,
    bytes: usize,
}

impl Budget {
    fn take(&mut self, bytes: usize) -> Result<(), WireError> {
        self.bytes = self.bytes.checked_sub(bytes).ok_or(WireError::TooLarge("rebuilt size"))?;
        Ok(())
    }
}

/// The forms of a change on the wire.
const WHOLE: u8 = 0;
const PREVIOUS: u8 = 1;
const ONE_HASH: u8 = 2;
const LISTED: u8 = 3;
/// In the delimited framing, the flag of a head that carries the body's length.
const SIZED: u8 = 4;

const TEXT: u8 = 0;
const GRID: u8 = 1;
const HOUSEHOLD: u8 = 2;
const JOURNAL: u8 = 3;
const EVENT: u8 = 4;

/// A document name in its binary form: kind, grid, and the household or event id or the month.
struct Name {
    kind: u8,
    grid: [u8; 16],
    part: Vec<u8>,
}

impl Name {
    /// The binary form of a name this module would decode back to the same text, or `None`.
    fn parse(name: &str) -> Option<Self> {
        let mut fields = name.splitn(3, '/');
        let (tag, grid, part) = (fields.next()?, fields.next()?, fields.next());
        let grid = canonical_uuid(grid)?;
        let (kind, part) = match (tag, part) {
            ("g", None) => (GRID, Vec::new()),
            ("h", Some(id)) => (HOUSEHOLD, canonical_uuid(id)?.to_vec()),
            ("e", Some(id)) => (EVENT, canonical_uuid(id)?.to_vec()),
            ("j", Some(month)) => {
                let (y, m) = month.split_once('-')?;
                let (year, mon): (u64, u64) = (y.parse().ok()?, m.parse().ok()?);
                if format!("{year:04}-{mon:02}") != month || !(1..=12).contains(&mon) || year > 9999 {
                    return None;
                }
                let mut part = Vec::new();
                put_varint(&mut part, year * 12 + mon - 1);
                (JOURNAL, part)
            }
            _ => return None,
        };
        Some(Self { kind, grid, part })
    }
}

fn canonical_uuid(text: &str) -> Option<[u8; 16]> {
    let id = uuid::Uuid::parse_str(text).ok()?;
    (id.to_string() == text).then(|| *id.as_bytes())
}
