//! One sync exchange, on the server's side: decode the device's request within limits, judge every
//! document (`judge`) and check every change's author, store what is new in one commit, and answer
//! with what the device lacks from its scope since its cursor, naming the documents refused.
//!
//! Every byte from a device is hostile until checked: sizes are bounded before anything is
//! allocated (`wire`), automerge's decoders run behind `catch_unwind`, compressed change chunks
//! (which automerge would inflate without bound) are refused, and nothing is stored until the whole
//! request has been judged. A request that does not decode is refused whole; one that does has its
//! documents judged one by one, so that one document a device may not write (a grid member's
//! mistaken new grid) does not stop the rest of its work from syncing. A version 3 request, from an
//! app in the field that cannot hear of refused documents, is still refused whole.

use std::collections::HashMap;
use std::panic::{AssertUnwindSafe, catch_unwind};

use automerge::Change;
use gridbook_core::sync::wire::{self, Limits, Refusal, SyncRequest, SyncResponse, Version, WireError};
use gridbook_core::sync::{RefusalReason, event_facts, grid_village};
use gridbook_core::{DocChanges, DocId, DocKind};

use crate::config::ServerConfig;
use crate::cursor;
use crate::error::{ApiError, ApiResult};
use crate::scope::Scope;
use crate::storage::{Commit, Device, DocFacts, LogChange, LogQuery, NewChange, Storage};

/// What one exchange did, for logs and metrics.
#[derive(Debug, Clone, Copy, Default)]
pub struct Outcome {
    pub docs_in: usize,
    pub changes_stored: usize,
    pub docs_refused: usize,
    pub relayed_skipped: usize,
    pub changes_out: usize,
}

/// A decoded request: every document name parsed, every change decoded, nothing yet authorised.
#[derive(Debug)]
pub struct Decoded {
    /// The device's cursor, as it sent it.
    pub cursor: Vec<u8>,
    /// The version the request came in: it is answered in the same.
    pub version: Version,
    /// One entry per document, in the order of first appearance.
    pub docs: Vec<(DocId, Vec<Change>)>,
    /// Documents whose name does not parse or one of whose changes does not decode, by the name
    /// sent (always empty for version 3, which refuses the request instead).
    pub malformed: Vec<String>,
}

/// Decodes a sync request body without touching storage: the part of the server that any bytes
/// from the network reach, and what the fuzz target drives.
///
/// # Errors
/// [`ApiError::TooLarge`] past `limits`; [`ApiError::Outdated`] for a version older than this
/// server speaks; [`ApiError::Malformed`] for anything that does not decode (in version 3, also a
/// document whose name or changes do not).
pub fn decode_request(body: &[u8], limits: &Limits) -> ApiResult<Decoded> {
    let message = wire::decompress(body, limits).map_err(wire_error)?;
    let number = wire::request_version(&message).map_err(wire_error)?;
    let version = match Version::from_number(number) {
        Some(version) => version,
        None if number < Version::V3.number() => return Err(ApiError::outdated()),
        None => return Err(ApiError::Malformed("a sync version newer than this server speaks".into())),
    };
    let request = SyncRequest::decode(&message, limits).map_err(wire_error)?;
    let mut malformed = Vec::new();
    let mut entries = Vec::new();
    for DocChanges { doc, changes } in request.docs {
        let parsed = doc.parse::<DocId>().map_err(|_| ApiError::Malformed("a document name is malformed".into()));
        let decoded = parsed.map(|id| (id, changes.into_iter().map(decode_change).collect::<ApiResult<_>>()));
        match decoded {
            Ok((id, changes)) => entries.push((id, vec![changes])),
            Err(e) if version == Version::V3 => return Err(e),
            Err(_) => malformed.push(doc),
        }
    }
    // One entry per document (by its parsed id, so two spellings of one name are one document), so
    // that its facts are read over all of its changes at once.
    let mut docs = Vec::new();
    for (id, parts) in wire::group_by_doc(entries) {
        match parts.into_iter().collect::<ApiResult<Vec<Vec<Change>>>>() {
            Ok(parts) => docs.push((id, parts.concat())),
            Err(e) if version == Version::V3 => return Err(e),
            Err(_) => malformed.push(id.to_string()),
        }
    }
    malformed.dedup();
    Ok(Decoded { cursor: request.cursor, version, docs, malformed })
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

/// Runs one exchange for an authenticated `device` presenting store actor `actor_hex`. A document
/// refused (see [`judge`]) is named in the answer, and nothing of it is stored; the rest of the
/// request is.
///
/// # Errors
/// [`ApiError::Malformed`] / [`ApiError::TooLarge`] for a request that does not decode or is over
/// the limits, [`ApiError::Outdated`] for a version older than `config.oldest_wire`,
/// [`ApiError::Forbidden`] for an actor of another device, and for version 3 any document refused
/// ([`ApiError::Forbidden`] outside the device's write scope, [`ApiError::Malformed`] if its changes
/// do not apply); in every case nothing of the request is stored.
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
    if decoded.version < config.oldest_wire {
        return Err(ApiError::outdated());
    }
    let after = cursor::parse(&decoded.cursor, storage.instance())?;
    if decoded.docs.iter().flat_map(|(_, cs)| cs).any(|c| c.len() > config.max_ops_per_change) {
        return Err(ApiError::TooLarge(format!("a change has more than {} operations", config.max_ops_per_change)));
    }
    let mut scope = Scope::of(storage, device)?;
    let mut outcome = Outcome { docs_in: decoded.docs.len() + decoded.malformed.len(), ..Outcome::default() };

    // A secretary may create a grid of its own village: the request's grid document says which. Only
    // a grid the server has no village for yet, so a secretary cannot claim another village's grid
    // by rewriting its record.
    if let (Some(village), Scope::Grids(_)) = (device.village.as_deref(), &scope) {
        for (id, changes) in &decoded.docs {
            if id.kind == DocKind::Grid && storage.grid_village(&id.grid.to_string())?.is_none() {
                let names_village = match facts_of(storage, id, changes) {
                    Ok(facts) => facts.village.as_deref() == Some(village),
                    // Judged below, as a document whose changes do not apply.
                    Err(ApiError::Malformed(_)) => false,
                    Err(e) => return Err(e),
                };
                if names_village {
                    scope.admit(id.grid.to_string());
                }
            }
        }
    }
    let mut refused: Vec<Refusal> =
        decoded.malformed.into_iter().map(|doc| Refusal { doc, reason: RefusalReason::Malformed }).collect();
    let mut docs = Vec::with_capacity(decoded.docs.len());
    for (id, changes) in decoded.docs {
        match judge(storage, &scope, &id, &changes)? {
            Ok(()) => docs.push((id, changes)),
            Err(reason) => refused.push(Refusal { doc: id.to_string(), reason }),
        }
    }
    if decoded.version == Version::V3 {
        let worst = refused.iter().find(|r| r.reason == RefusalReason::OutsideScope).or(refused.first());
        if let Some(refusal) = worst {
            return Err(whole_request_refused(refusal.reason));
        }
    }
    outcome.docs_refused = refused.len();

    // A change the server already has (a reply lost on the way, a peer's change relayed twice) is
    // not looked up first: the commit's insert skips it by its hash, in the index it probes anyway.
    let mut owners: HashMap<Vec<u8>, Option<(String, bool)>> = HashMap::new();
    let mut commit = Commit { device: device.id.clone(), bind_actor, ..Commit::default() };
    for (id, changes) in &docs {
        let mut accepted: Vec<&Change> = Vec::new();
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
            let Some(author_device) = author_device else {
                outcome.relayed_skipped += 1;
                continue;
            };
            accepted.push(change);
            commit.changes.push(NewChange {
                hash: change.hash().0,
                doc: id.to_string(),
                grid: id.grid.to_string(),
                author: author_device,
                bytes: change.raw_bytes().to_vec(),
            });
        }
        // Facts over what the server will hold: a skipped change must not grant or name anything.
        if !accepted.is_empty() && matches!(id.kind, DocKind::Grid | DocKind::Event) {
            commit.facts.push(facts_of(storage, id, accepted)?);
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
    let response =
        SyncResponse { cursor: cursor::encode(storage.instance(), page.cursor), more: page.more, docs, refused };
    // A device is answered in the codec and the version it asked in (see `wire::Codec`).
    let codec = wire::Codec::of(body).unwrap_or(wire::Codec::Zstd);
    Ok((wire::compress_as(codec, &response.encode_as(decoded.version)), outcome))
}

/// The one place a document's fate is decided: `Ok(Ok(()))` to store its changes, `Ok(Err(reason))`
/// to refuse it, alone (`Err` is the server failing). Every check that refuses a document goes
/// here, each with its reason: outside the device's write `scope`; changes that do not apply;
/// [`RefusalReason::NotAllowed`] for a change the device's role may not make.
fn judge(storage: &dyn Storage, scope: &Scope, id: &DocId, changes: &[Change]) -> ApiResult<Result<(), RefusalReason>> {
    if !scope.covers(storage, id)? {
        return Ok(Err(RefusalReason::OutsideScope));
    }
    if matches!(id.kind, DocKind::Grid | DocKind::Event) {
        match facts_of(storage, id, changes) {
            Ok(_) => {}
            Err(ApiError::Malformed(_)) => return Ok(Err(RefusalReason::Malformed)),
            Err(e) => return Err(e),
        }
    }
    Ok(Ok(()))
}

/// How a version 3 request, which cannot name a refused document, is refused instead.
fn whole_request_refused(reason: RefusalReason) -> ApiError {
    match reason {
        RefusalReason::OutsideScope => {
            ApiError::Forbidden("the request holds a document outside this device's scope".into())
        }
        RefusalReason::Malformed => ApiError::Malformed("a document's changes do not apply".into()),
        RefusalReason::NotAllowed | RefusalReason::Other => {
            ApiError::Forbidden("the request holds a change this device may not make".into())
        }
    }
}

/// A grid's village or an event's departments and photos, over its stored changes and `incoming`.
/// Both documents are small; households and journals, which grow, are never rebuilt here.
fn facts_of<'a>(
    storage: &dyn Storage,
    id: &DocId,
    incoming: impl IntoIterator<Item = &'a Change>,
) -> ApiResult<DocFacts> {
    let name = id.to_string();
    let refused = |_| ApiError::Malformed("a document's changes do not apply".into());
    // Stored changes were checked when they came; one that no longer parses is the server's fault.
    let mut all = storage
        .doc_changes(&name)?
        .into_iter()
        .map(|bytes| Change::from_bytes(bytes).map_err(|e| ApiError::Internal(format!("a stored change: {e}"))))
        .collect::<ApiResult<Vec<_>>>()?;
    all.extend(incoming.into_iter().cloned());
    let mut facts = DocFacts { doc: name, ..DocFacts::default() };
    match id.kind {
        DocKind::Grid => facts.village = Some(grid_village(all).map_err(refused)?).filter(|v| !v.is_empty()),
        DocKind::Event => {
            let e = event_facts(all).map_err(refused)?;
            facts.departments = e.departments_ever;
            facts.photos = e.photos;
        }
        DocKind::Household | DocKind::Journal => {}
    }
    Ok(facts)
}
