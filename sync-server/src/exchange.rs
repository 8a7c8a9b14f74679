//! One sync exchange, on the server's side: decode the device's request within limits, check every
//! document against the device's scope and every change's author, store what is new in one commit,
//! and answer with what the device lacks from its scope since its cursor.
//!
//! Every byte from a device is hostile until checked: sizes are bounded before anything is
//! allocated (`wire`), automerge's decoders run behind `catch_unwind`, compressed change chunks
//! (which automerge would inflate without bound) are refused, and nothing is stored until the whole
//! request has passed.

use std::collections::HashMap;
use std::panic::{AssertUnwindSafe, catch_unwind};

use automerge::{Change, ChangeHash};
use gridbook_core::sync::event_facts;
use gridbook_core::sync::wire::{self, Limits, SyncRequest, SyncResponse, WireError};
use gridbook_core::{DocChanges, DocId, DocKind};

use crate::config::ServerConfig;
use crate::cursor;
use crate::error::{ApiError, ApiResult};
use crate::registry::{self, GridChange};
use crate::scope::Scope;
use crate::storage::{Commit, Device, DocFacts, LogChange, LogQuery, NewChange, Storage};

const REUSED_SEQ: &str = "a change reuses its author's sequence number in its document: no store could load both";

/// What one exchange did, for logs and metrics.
#[derive(Debug, Clone, Copy, Default)]
pub struct Outcome {
    pub docs_in: usize,
    pub changes_stored: usize,
    pub relayed_skipped: usize,
    pub changes_out: usize,
}

/// A decoded request: every document name parsed, every change decoded, nothing yet authorised.
#[derive(Debug)]
pub struct Decoded {
    /// The device's cursor, as it sent it.
    pub cursor: Vec<u8>,
    /// One entry per document, in the order of first appearance.
    pub docs: Vec<(DocId, Vec<Change>)>,
}

/// Decodes a sync request body without touching storage: the part of the server that any bytes
/// from the network reach, and what the fuzz target drives.
///
/// # Errors
/// [`ApiError::TooLarge`] past `limits`; [`ApiError::Malformed`] for anything that does not decode.
pub fn decode_request(body: &[u8], limits: &Limits) -> ApiResult<Decoded> {
    let message = wire::decompress(body, limits).map_err(wire_error)?;
    let request = SyncRequest::decode(&message, limits).map_err(wire_error)?;
    let entries = request
        .docs
        .into_iter()
        .map(|DocChanges { doc, changes }| {
            let id: DocId = doc.parse().map_err(|_| ApiError::Malformed("a document name is malformed".into()))?;
            Ok((id, changes.into_iter().map(decode_change).collect::<ApiResult<Vec<_>>>()?))
        })
        .collect::<ApiResult<Vec<_>>>()?;
    // One entry per document (by its parsed id, so two spellings of one name are one document), so
    // that its facts are read over all of its changes at once.
    let docs = wire::group_by_doc(entries);
    Ok(Decoded { cursor: request.cursor, docs })
}

fn wire_error(e: WireError) -> ApiError {
    match e {
        WireError::TooLarge(_) => ApiError::TooLarge(e.to_string()),
        _ => ApiError::Malformed(e.to_string()),
    }
}

fn decode_change(bytes: Vec<u8>) -> ApiResult<Change> {
    // Chunk header: 4 magic bytes, 4 checksum bytes, then the type: 1 is a plain change; 2, a
    // deflated one, which automerge would inflate before any limit could apply.
    if bytes.get(8) != Some(&1) {
        return Err(ApiError::Malformed("a change is not a plain automerge change".into()));
    }
    catch_unwind(AssertUnwindSafe(|| Change::from_bytes(bytes)))
        .map_err(|_| ApiError::Malformed("a change could not be decoded".into()))?
        .map_err(|_| ApiError::Malformed("a change could not be decoded".into()))
}

/// Runs one exchange for an authenticated `device` presenting store actor `actor_hex`.
///
/// # Errors
/// [`ApiError::Malformed`] / [`ApiError::TooLarge`] for a request that does not decode or is over
/// the limits, [`ApiError::Forbidden`] for a document outside the device's write scope or an actor
/// of another device; in every case nothing of the request is stored.
pub fn run(
    storage: &dyn Storage,
    config: &ServerConfig,
    device: &Device,
    actor_hex: &str,
    body: &[u8],
) -> ApiResult<(Vec<u8>, Outcome)> {
    let actor = hex::decode(actor_hex.trim())
        .ok()
        .filter(|a| !a.is_empty() && a.len() <= 32)
        .ok_or_else(|| ApiError::Malformed("the X-Gridbook-Actor header must be the store's actor in hex".into()))?;
    let bind_actor = match storage.actor_owner(&actor)? {
        Some((owner, _)) if owner != device.id => {
            return Err(ApiError::Forbidden("this store's actor belongs to another device".into()));
        }
        Some(_) => None,
        None => Some(actor.clone()),
    };
    let decoded = decode_request(body, &config.wire)?;
    let after = cursor::parse(&decoded.cursor, storage.instance())?;
    if decoded.docs.iter().flat_map(|(_, cs)| cs).any(|c| c.len() > config.max_ops_per_change) {
        return Err(ApiError::TooLarge(format!("a change has more than {} operations", config.max_ops_per_change)));
    }
    let mut scope = Scope::of(storage, device)?;
    let mut outcome = Outcome { docs_in: decoded.docs.len(), ..Outcome::default() };

    // Each change is its author's: this store's, another store of this device, or a peer's relayed
    // by it. A change the server already has (a reply lost on the way, a peer's change relayed
    // twice) is not looked up first: the commit's insert skips it by its hash, in the index it
    // probes anyway.
    let mut owners: HashMap<Vec<u8>, Option<(String, bool)>> = HashMap::new();
    let mut accepted: Vec<Vec<(&Change, String)>> = Vec::with_capacity(decoded.docs.len());
    for (_, changes) in &decoded.docs {
        let mut kept = Vec::with_capacity(changes.len());
        for change in changes {
            let author = change.actor_id().to_bytes().to_vec();
            let author_device = if author == actor {
                Some(device.id.clone())
            } else {
                let owner = match owners.get(&author) {
                    Some(o) => o.clone(),
                    None => {
                        let o = storage.actor_owner(&author)?;
                        owners.insert(author.clone(), o.clone());
                        o
                    }
                };
                match owner {
                    // Another store of this same device, or a peer's change relayed by it.
                    Some((owner, revoked)) if owner == device.id || !revoked => Some(owner),
                    // An author the server has never seen (or a revoked one): it uploads its own.
                    _ => None,
                }
            };
            match author_device {
                Some(author_device) => kept.push((change, author_device)),
                None => outcome.relayed_skipped += 1,
            }
        }
        accepted.push(kept);
    }

    // One change per actor and sequence number in a document: a second one (a buggy client, or a
    // device writing under another's actor) would leave the document unloadable on every store
    // that received both.
    let mut at: HashMap<(String, Vec<u8>, u64), ChangeHash> = HashMap::new();
    for ((id, _), kept) in decoded.docs.iter().zip(&accepted) {
        for (change, _) in kept {
            let key = (id.to_string(), change.actor_id().to_bytes().to_vec(), change.seq());
            if at.insert(key, change.hash()).is_some_and(|other| other != change.hash()) {
                return Err(ApiError::Malformed(REUSED_SEQ.into()));
            }
        }
    }
    let (probes, hashes): (Vec<_>, Vec<_>) = at.into_iter().unzip();
    for (stored, hash) in storage.hashes_at(&probes)?.into_iter().zip(hashes) {
        if stored.is_some_and(|stored| stored != hash.0) {
            return Err(ApiError::Malformed(REUSED_SEQ.into()));
        }
    }

    // The registry, not the documents, says where a grid belongs: a new grid's first document may
    // register it (the centre's, or its own village's secretary's), and no change moves one. Judged
    // over what the server will hold: a skipped change must not grant or name anything.
    let mut grids = Vec::new();
    for ((id, _), kept) in decoded.docs.iter().zip(&accepted) {
        if id.kind != DocKind::Grid || kept.is_empty() {
            continue;
        }
        let changes: Vec<Change> = kept.iter().map(|(c, _)| (*c).clone()).collect();
        match registry::judge(storage, device, id, &changes)? {
            Ok(GridChange::Registers(entry)) => {
                scope.admit(entry.id.clone());
                grids.push(entry);
            }
            Ok(GridChange::Updates(entry)) => grids.push(entry),
            Err(refusal) => return Err(ApiError::Forbidden(refusal.to_string())),
        }
    }
    for (id, _) in &decoded.docs {
        if !scope.covers(storage, id)? {
            return Err(ApiError::Forbidden("the request holds a document outside this device's scope".into()));
        }
    }

    let mut commit = Commit { device: device.id.clone(), bind_actor, grids, ..Commit::default() };
    for ((id, _), kept) in decoded.docs.iter().zip(accepted) {
        if !kept.is_empty() && id.kind == DocKind::Event {
            commit.facts.push(facts_of(storage, id, kept.iter().map(|(c, _)| *c))?);
        }
        for (change, author) in kept {
            commit.changes.push(NewChange {
                hash: change.hash().0,
                doc: id.to_string(),
                grid: id.grid.to_string(),
                author,
                actor: change.actor_id().to_bytes().to_vec(),
                seq: change.seq(),
                bytes: change.raw_bytes().to_vec(),
            });
        }
    }
    if !commit.changes.is_empty() || commit.bind_actor.is_some() {
        outcome.changes_stored = storage.commit(commit)?;
    }

    // The answer: after the commit, so a secretary's new grid is already in its scope.
    let scope = Scope::of(storage, device)?;
    let page = storage.read_log(&LogQuery {
        after,
        scope: scope.for_log(),
        exclude_author: device.id.clone(),
        max_changes: config.reply_max_changes.max(1),
        max_bytes: config.reply_max_bytes,
    })?;
    outcome.changes_out = page.changes.len();
    let docs = wire::group_by_doc(page.changes.into_iter().map(|LogChange { doc, bytes, .. }| (doc, vec![bytes])))
        .into_iter()
        .map(|(doc, changes)| DocChanges { doc, changes })
        .collect();
    let response = SyncResponse { cursor: cursor::encode(storage.instance(), page.cursor), more: page.more, docs };
    // A device is answered in the codec it asked in (see `wire::Codec`).
    let codec = wire::Codec::of(body).unwrap_or(wire::Codec::Zstd);
    Ok((wire::compress_as(codec, &response.encode()), outcome))
}

/// An event's departments and photos, over its stored changes and `incoming`. Events are small;
/// households and journals, which grow, are never rebuilt here.
fn facts_of<'a>(
    storage: &dyn Storage,
    id: &DocId,
    incoming: impl IntoIterator<Item = &'a Change>,
) -> ApiResult<DocFacts> {
    let name = id.to_string();
    let mut all = registry::stored_changes(storage, &name)?;
    all.extend(incoming.into_iter().cloned());
    let e = event_facts(all).map_err(|_| ApiError::Malformed("a document's changes do not apply".into()))?;
    Ok(DocFacts { doc: name, departments: e.departments_ever, photos: e.photos })
}
