//! The documents of a message. Names travel as binary ids against a table of the message's grids,
//! sent once (a household's name as text is 75 bytes; here it is 17); changes travel packed
//! (`chunk`), a dependency on the change just before it in the list taking no bytes at all.
//!
//! ```text
//! docs    = count (grid:16)* count (name changes)*
//! name    = head:varint [text:str | household:16 | month | event:16]
//! head    = grid << 3 | kind                kind 0: the name as text (grid 0), 1 grid, 2 household,
//!                                           3 journal, 4 event; grid: index into the grid table
//!         | (grid << 4 | shared) << 3 | kind  chained framing: a household's or event's id leaves
//!                                           out its first `shared` bytes (at most 15), those of
//!                                           the id before it among the names (or of its grid's id)
//! month   = year * 12 + month - 1
//! changes = count (change)*                 sized and delimited framings
//!         | count << 1 | chained (change)*   chained framing (version 9): with chained set, every
//!                                          change after the first depends only on the one before
//!                                          it and travels as its rest alone, without a head
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
//!         | 0                              chained framing: no dependencies, rest read to its end
//! ```
//!
//! Every framing byte counts: a day's sync carries many small changes of a dozen or so documents, so
//! the length, the form and the kind share varints to keep its metadata within its byte target. In
//! the delimited framing a plain change's body gives its own length (`chunk::body_len`), which
//! saves the byte or two of its length on each of a day's changes: that pays for the request's
//! signature. Ids are UUIDv7, their first bytes a millisecond clock, so the households of one
//! roster import, or the events of one day, share their first four or five bytes: the chained
//! framing sends those once.

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
    /// Delimited, and a document's changes that each depend only on the one before (a day's
    /// journal entries, one device's edits in a row) travel without a head each.
    Chained,
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
    let mut previous: Option<[u8; 16]> = None;
    for (doc, name) in docs.iter().zip(&names) {
        match name {
            Some(name) if framing == Framing::Chained => {
                let grid = grids.iter().position(|g| *g == name.grid).unwrap_or_default() as u64;
                let (shared, part) = match name.id() {
                    Some(id) => {
                        let before = previous.unwrap_or(name.grid);
                        previous = Some(id);
                        let shared = id.iter().zip(before).take_while(|(a, b)| **a == *b).count().min(MAX_SHARED);
                        (shared, &name.part[shared..])
                    }
                    None => (0, &name.part[..]),
                };
                put_varint(out, (grid << 4 | shared as u64) << 3 | u64::from(name.kind));
                out.extend_from_slice(part);
            }
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
    // Each change split (and hashed) once, for the chain's test and for its writing.
    let split: Vec<_> = changes.iter().map(|bytes| chunk::split(bytes)).collect();
    let chained = framing == Framing::Chained && is_chain(&split);
    match framing {
        Framing::Chained => put_varint(out, (changes.len() as u64) << 1 | u64::from(chained)),
        Framing::Sized | Framing::Delimited => put_varint(out, changes.len() as u64),
    }
    let mut seen: HashMap<[u8; 32], usize> = HashMap::new();
    let mut content = 0;
    let sized = |out: &mut Vec<u8>, len: usize, form: u8| match framing {
        Framing::Sized => put_varint(out, (len as u64) << 2 | u64::from(form)),
        Framing::Delimited | Framing::Chained => put_varint(out, (len as u64) << 3 | u64::from(SIZED | form)),
    };
    for (i, (bytes, split)) in changes.iter().zip(split).enumerate() {
        if chained && i > 0 {
            let rest = split.map_or(&[][..], |(parts, _)| parts.rest);
            out.extend_from_slice(rest);
            content += rest.len();
            continue;
        }
        let Some((parts, hash)) = split else {
            sized(out, bytes.len(), WHOLE);
            out.extend_from_slice(bytes);
            content += bytes.len();
            continue;
        };
        let back = |dep: &[u8; 32]| seen.get(dep).map(|&at| i - at);
        let delimited = framing != Framing::Sized && chunk::body_len(parts.rest) == Some(parts.rest.len());
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
            [] if framing == Framing::Chained && delimited => put_varint(out, u64::from(NO_DEPS)),
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

/// Whether every change after the first is a plain change whose body gives its own length and
/// whose one dependency is the change just before it.
fn is_chain(split: &[Option<(Parts<'_>, [u8; 32])>]) -> bool {
    let Some(Some((_, first))) = split.first() else { return false };
    let mut previous = *first;
    split.len() >= 2
        && split[1..].iter().all(|change| match change {
            Some((parts, hash)) => {
                let linked =
                    parts.deps.as_slice() == [previous] && chunk::body_len(parts.rest) == Some(parts.rest.len());
                previous = *hash;
                linked
            }
            None => false,
        })
}

impl Reader<'_> {
    pub(super) fn docs(&mut self, framing: Framing) -> Result<Vec<DocChanges>, WireError> {
        let grids = (0..self.count(self.limits.max_docs, "grids")?)
            .map(|_| self.array::<16>())
            .collect::<Result<Vec<_>, _>>()?;
        let n = self.count(self.limits.max_docs, "documents")?;
        let mut docs = Vec::with_capacity(n);
        let mut budget = Budget { changes: self.limits.max_changes, bytes: self.limits.max_message_bytes };
        let mut previous = None;
        for _ in 0..n {
            let doc = match framing {
                Framing::Chained => self.compact_name(&grids, &mut previous)?,
                Framing::Sized | Framing::Delimited => self.name(&grids)?,
            };
            let changes = self.changes(&mut budget, framing)?;
            docs.push(DocChanges { doc, changes });
        }
        Ok(docs)
    }

    fn name(&mut self, grids: &[[u8; 16]]) -> Result<String, WireError> {
        let head = self.varint()?;
        let (index, kind) = (head >> 3, (head & 7) as u8);
        self.named(grids, index, kind, |r| r.array::<16>())
    }

    /// A name in the chained framing, whose id may leave out the bytes it shares with `previous`.
    fn compact_name(&mut self, grids: &[[u8; 16]], previous: &mut Option<[u8; 16]>) -> Result<String, WireError> {
        let head = self.varint()?;
        let (index, shared, kind) = (head >> 7, (head >> 3 & 15) as usize, (head & 7) as u8);
        if shared > 0 && !matches!(kind, HOUSEHOLD | EVENT) {
            return Err(WireError::Malformed("document name"));
        }
        self.named(grids, index, kind, |r| {
            let grid =
                usize::try_from(index).ok().and_then(|i| grids.get(i)).ok_or(WireError::Malformed("grid index"))?;
            let mut id = previous.unwrap_or(*grid);
            id[shared..].copy_from_slice(r.take(16 - shared)?);
            *previous = Some(id);
            Ok(id)
        })
    }

    /// The name of `kind` in the grid at `index`, its id read by `id`.
    fn named(
        &mut self,
        grids: &[[u8; 16]],
        index: u64,
        kind: u8,
        id: impl FnOnce(&mut Self) -> Result<[u8; 16], WireError>,
    ) -> Result<String, WireError> {
        if kind == TEXT {
            if index != 0 {
                return Err(WireError::Malformed("document kind"));
            }
            return std::str::from_utf8(self.bytes(200)?)
                .map(str::to_string)
                .map_err(|_| WireError::Malformed("document name"));
        }
        let grid = usize::try_from(index).ok().and_then(|i| grids.get(i)).ok_or(WireError::Malformed("grid index"))?;
        let grid = uuid::Uuid::from_bytes(*grid);
        let uuid = |r: &mut Self| id(r).map(uuid::Uuid::from_bytes);
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
        let (k, chained) = match framing {
            Framing::Chained => {
                let head = self.varint()?;
                let k = usize::try_from(head >> 1).ok().filter(|&k| k <= self.limits.max_changes);
                let k = k.ok_or(WireError::TooLarge("changes"))?;
                if k > self.remaining().len() {
                    return Err(WireError::Truncated);
                }
                // One encoding per message: a chain is at least two changes.
                if head & 1 == 1 && k < 2 {
                    return Err(WireError::Malformed("chained changes"));
                }
                (k, head & 1 == 1)
            }
            Framing::Sized | Framing::Delimited => (self.count(self.limits.max_changes, "changes")?, false),
        };
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
            // The body's length, or `None` for a body read to its end.
            let (len, form) = if chained && i > 0 {
                (None, PREVIOUS)
            } else {
                let head = self.varint()?;
                match framing {
                    Framing::Sized => (Some(head >> 2), (head & 3) as u8),
                    Framing::Chained if head == u64::from(NO_DEPS) => (None, NO_DEPS_READ),
                    _ if head & u64::from(SIZED) != 0 => (Some(head >> 3), (head & 3) as u8),
                    _ if head < u64::from(SIZED) && head != u64::from(WHOLE) => (None, head as u8),
                    _ => return Err(WireError::Malformed("change head")),
                }
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
                NO_DEPS_READ => Vec::new(),
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
/// In the chained framing, the head of a plain change with no dependencies (a document's first);
/// in the delimited framing, a head that names no body, which is malformed.
const NO_DEPS: u8 = 0;
/// How the decoder knows a change read with the head [`NO_DEPS`] (not a form on the wire).
const NO_DEPS_READ: u8 = 8;

/// Most leading bytes a compact name's id takes from the id before it (four bits of its head).
const MAX_SHARED: usize = 15;

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
    /// The household's or event's id.
    fn id(&self) -> Option<[u8; 16]> {
        matches!(self.kind, HOUSEHOLD | EVENT).then(|| self.part.as_slice().try_into().ok()).flatten()
    }

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
