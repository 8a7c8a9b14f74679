//! Erasure on the server's side (wire version 8): a resident or a household erased on request, so
//! that no copy anywhere can read it again.
//!
//! Authority comes from the registry only: the requesting device's enrolled role (the centre, or a
//! village's secretary) and its scope, never from what a request says. Carried out, an erasure
//! destroys the record's data key (a household's: its residents' too) and, for a household, the
//! server's copy of its document; the record is remembered for good (`storage::Tombstone`) so that
//! its key is never kept or made again and later changes that would write it are refused
//! (`judge`). Every store in scope is told by a notice, which every answer carries until the store
//! says it carried it out; notices are pruned after `ServerConfig::erasure_notice_days`, and a
//! store that missed one pruned is told to start over from the server's copy (`resync`).
//!
//! Logs name records and devices by id and give counts; never a reason, name or number.

mod judge;

use gridbook_core::sync::RefusalReason;
use gridbook_core::sync::wire::{
    EraseRefusal, EraseRequest, ErasedKind, ErasureNotice, KeyRefusal, KeyWant, MAX_ERASE_REASON, WireKey,
};
use gridbook_core::{DocId, DocKind};
pub use judge::Erasures;

use crate::config::ServerConfig;
use crate::error::ApiResult;
use crate::scope::Scope;
use crate::storage::{Device, Erased, Erasure, Role, Storage};

/// Notices an answer carries at most; past it the answer says `more`, and the store asks again
/// with the last it carried out.
const MAX_NOTICES_OUT: usize = 1_000;

const DAY_MS: i64 = 24 * 60 * 60 * 1000;

/// Carries out the erasures a request asks for, each on its own, and names those refused. One
/// already carried out is acknowledged again, without a second notice.
///
/// # Errors
/// Only the server failing.
pub fn carry_out(
    storage: &dyn Storage,
    config: &ServerConfig,
    device: &Device,
    scope: &Scope,
    requests: &[EraseRequest],
) -> ApiResult<Vec<EraseRefusal>> {
    let mut refused = Vec::new();
    let mut carried = false;
    for request in requests {
        let erasure = match authorise(storage, device, scope, request)? {
            Ok(Some(erasure)) => erasure,
            Ok(None) => continue,
            Err(reason) => {
                tracing::info!(device = %device.id, ?reason, "erasure refused");
                refused.push(EraseRefusal { id: request.id, reason });
                continue;
            }
        };
        if let Erased::Now { seq, keys, changes } = storage.erase(&erasure)? {
            carried = true;
            let record = uuid::Uuid::from_bytes(erasure.id);
            tracing::info!(seq, %record, kind = ?erasure.kind, device = %device.id, keys, changes, "record erased");
        }
    }
    if carried {
        prune(storage, config)?;
    }
    Ok(refused)
}

/// The erasure `request` asks for, if `device` may make it: `Ok(None)` for a record erased before,
/// `Err` with the reason it is refused.
fn authorise(
    storage: &dyn Storage,
    device: &Device,
    scope: &Scope,
    request: &EraseRequest,
) -> ApiResult<Result<Option<Erasure>, RefusalReason>> {
    if device.revoked_at.is_some() || !matches!(device.role, Role::Centre | Role::Secretary) {
        return Ok(Err(RefusalReason::NotAllowed));
    }
    let parsed = request.doc.parse::<DocId>().ok().filter(|d| d.kind == DocKind::Household);
    let household = parsed.as_ref().and_then(|d| uuid::Uuid::parse_str(&d.part).ok()).map(uuid::Uuid::into_bytes);
    let (Some(doc), Some(household)) = (parsed, household) else { return Ok(Err(RefusalReason::Malformed)) };
    let own = match request.kind {
        ErasedKind::Household => request.id == household,
        ErasedKind::Resident => request.id != household,
    };
    if !own || request.reason.len() > MAX_ERASE_REASON {
        return Ok(Err(RefusalReason::Malformed));
    }
    if !scope.covers(storage, &doc)? {
        return Ok(Err(RefusalReason::OutsideScope));
    }
    let name = doc.to_string();
    let before = storage.tombstones(std::slice::from_ref(&name), &[request.id])?;
    if before.iter().any(|t| t.id == request.id || t.kind == ErasedKind::Household) {
        return Ok(Ok(None));
    }
    if request.kind == ErasedKind::Resident && !lives_in(storage, &request.id, &name)? {
        return Ok(Err(RefusalReason::Malformed));
    }
    Ok(Ok(Some(Erasure {
        id: request.id,
        doc: name,
        grid: doc.grid.to_string(),
        kind: request.kind,
        at: chrono::Utc::now().timestamp_millis(),
        by_device: device.id.clone(),
        reason: request.reason.clone(),
    })))
}

/// Whether resident `id` lives in household document `doc` as the server knows it: its key is kept
/// under `doc`, or (a record of an earlier build, with no key) a stored change of `doc` made its
/// record. A device may not erase another village's resident by naming it under its own household.
fn lives_in(storage: &dyn Storage, id: &[u8; 16], doc: &str) -> ApiResult<bool> {
    if let Some(key) = storage.data_key(id)? {
        return Ok(key.doc == doc);
    }
    let stored: Vec<automerge::Change> =
        storage.doc_changes(doc)?.into_iter().filter_map(|b| automerge::Change::from_bytes(b).ok()).collect();
    Ok(!judge::records(stored.iter(), &[judge::resident_key(id)]).is_empty())
}

/// Drops the notices older than the configured days.
///
/// # Errors
/// Only storage failing.
pub fn prune(storage: &dyn Storage, config: &ServerConfig) -> ApiResult<()> {
    let days = i64::from(config.erasure_notice_days);
    storage.prune_erasure_notices(chrono::Utc::now().timestamp_millis() - days * DAY_MS + 1)?;
    Ok(())
}

/// What an answer tells a store of erasures.
#[derive(Debug, Default)]
pub struct Notices {
    /// After the store's `erased_since`, in its scope, oldest first.
    pub erased: Vec<ErasureNotice>,
    /// More notices wait: the store asks again.
    pub more: bool,
    /// Notices the store was never sent were pruned: it starts over from the server's copy.
    pub resync: bool,
    /// Every notice in the store's scope up to this number has now been sent to it (its cursor
    /// keeps it).
    pub through: u64,
}

/// The notices for a store that carried out those up to `since`, whose cursor says it was sent
/// every notice in its scope up to `sent`, and that has synced before or not (`synced_before`:
/// its cursor is not empty).
///
/// A store is told to start over only when a pruned notice may be one it was never sent: both
/// numbers are below the highest pruned. A store that hears of no erasure in its scope still moves
/// on through its cursor, so it is not told to start over again and again. A store that never
/// synced starts from the server's copy, in which every erasure is carried out already.
///
/// # Errors
/// Only storage failing.
pub fn notices(storage: &dyn Storage, scope: &Scope, since: u64, sent: u64, synced_before: bool) -> ApiResult<Notices> {
    let page = storage.erasure_notices(since, &scope.for_log(), MAX_NOTICES_OUT + 1)?;
    let seen = since.max(sent);
    let resync = seen < page.pruned_through && (seen > 0 || synced_before);
    let mut rows = page.records;
    let more = rows.len() > MAX_NOTICES_OUT;
    rows.truncate(MAX_NOTICES_OUT);
    let through = match rows.last() {
        Some(last) if more => sent.max(last.seq),
        _ => page.newest,
    };
    let erased = rows
        .into_iter()
        .map(|r| ErasureNotice { seq: r.seq, id: r.erasure.id, doc: r.erasure.doc, kind: r.erasure.kind })
        .collect();
    Ok(Notices { erased, more, resync, through })
}

/// Refuses, as `erased`, the uploaded keys and the wants of erased records (or of records of an
/// erased household's document); returns the rest and the refusals. Storage refuses to keep such a
/// key too, whatever raced this check.
///
/// # Errors
/// Only storage failing.
pub fn screen_keys(
    storage: &dyn Storage,
    keys: Vec<WireKey>,
    wants: Vec<KeyWant>,
) -> ApiResult<(Vec<WireKey>, Vec<KeyWant>, Vec<KeyRefusal>)> {
    if keys.is_empty() && wants.is_empty() {
        return Ok((keys, wants, Vec::new()));
    }
    let canonical = |doc: &str| doc.parse::<DocId>().map(|d| d.to_string()).ok();
    let ids: Vec<[u8; 16]> = keys.iter().map(|k| k.id).chain(wants.iter().map(|w| w.id)).collect();
    let mut docs: Vec<String> =
        keys.iter().map(|k| &k.doc).chain(wants.iter().map(|w| &w.doc)).filter_map(|d| canonical(d)).collect();
    docs.sort_unstable();
    docs.dedup();
    let tombstones = storage.tombstones(&docs, &ids)?;
    let erased = |id: &[u8; 16], doc: &str| {
        let doc = canonical(doc);
        tombstones.iter().any(|t| t.id == *id || (t.kind == ErasedKind::Household && Some(&t.doc) == doc.as_ref()))
    };
    let (mut kept_keys, mut kept_wants, mut refused) = (Vec::new(), Vec::new(), Vec::new());
    for key in keys {
        if erased(&key.id, &key.doc) {
            refused.push(KeyRefusal { id: key.id, reason: RefusalReason::Erased });
        } else {
            kept_keys.push(key);
        }
    }
    for want in wants {
        if erased(&want.id, &want.doc) {
            refused.push(KeyRefusal { id: want.id, reason: RefusalReason::Erased });
        } else {
            kept_wants.push(want);
        }
    }
    Ok((kept_keys, kept_wants, refused))
}
