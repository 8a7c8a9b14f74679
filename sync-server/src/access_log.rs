//! The district's access log on the server: the entries devices wrote when they revealed full ID
//! numbers and phones (one access-log document per grid and month, `a/{grid}/{YYYY-MM}`).
//!
//! A change to such a document is accepted only if it adds entries and does nothing else
//! ([`gridbook_core::sync::access_log_entries`]), so a device cannot erase or rewrite what it, or
//! anyone, revealed. `gridbook-server audit` lists the entries with the device and holder the
//! registry has for each change's actor, which the change's signature proved when it was stored;
//! what an entry says of its author is not shown.

use std::collections::{HashMap, HashSet};

use automerge::Change;
use chrono::{DateTime, NaiveDate, Utc};
use gridbook_core::sync::{AccessLogRefusal, RefusalReason, access_log_entries};
use gridbook_core::{AccessAction, DocId, Tz};
use serde::Serialize;

use crate::error::{ApiError, ApiResult};
use crate::registry::stored_changes;
use crate::storage::Storage;

/// Judges the changes a device sends to access-log document `id`, over the entries the server
/// already holds of it: `Ok(Err(reason))` refuses the document.
///
/// # Errors
/// A storage error as it comes, or a stored change that does not decode.
pub fn judge(storage: &dyn Storage, id: &DocId, incoming: &[Change]) -> ApiResult<Result<(), RefusalReason>> {
    let mut keys = HashSet::new();
    for stored in stored_changes(storage, &id.to_string())? {
        // Every stored change passed this same check when it came.
        let _ = access_log_entries(id, &stored, &mut keys);
    }
    for change in incoming {
        match access_log_entries(id, change, &mut keys) {
            Ok(_) => {}
            Err(AccessLogRefusal::Rewrites) => return Ok(Err(RefusalReason::NotAllowed)),
            Err(AccessLogRefusal::NotAnEntry) => return Ok(Err(RefusalReason::Malformed)),
        }
    }
    Ok(Ok(()))
}

/// Which entries `audit` lists; every filter given must match.
#[derive(Debug, Clone)]
pub struct AuditFilter {
    /// The enrolled device's name or id.
    pub device: Option<String>,
    /// The grid's id or its name in the registry.
    pub grid: Option<String>,
    /// A resident's (or household's) id among the records revealed.
    pub resident: Option<String>,
    /// From this local day on, in `timezone`.
    pub since: Option<NaiveDate>,
    /// Up to and including this local day, in `timezone`.
    pub until: Option<NaiveDate>,
    /// The district's time zone, in which the days are counted.
    pub timezone: Tz,
}

/// One reveal, as the server's registry names its author.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditEntry {
    /// When the values were revealed (the device's clock).
    pub at: DateTime<Utc>,
    /// The enrolled device whose change wrote the entry: its name, id and holder.
    pub device: String,
    pub device_id: String,
    pub holder: String,
    /// The grid of the records revealed: its id and its name in the registry.
    pub grid_id: String,
    pub grid: String,
    /// `reveal_resident`, `reveal_household` or `export_roster`.
    pub action: AccessAction,
    /// The ids of the residents or households revealed.
    pub records: Vec<String>,
    /// The fields shown in full.
    pub fields: Vec<String>,
    /// Why, in the words of the person who revealed.
    pub reason: String,
}

/// Every entry of the access log the server holds that `filter` lets through, oldest first.
///
/// # Errors
/// A storage error as it comes, or a stored change that does not decode.
pub fn audit(storage: &dyn Storage, filter: &AuditFilter) -> ApiResult<Vec<AuditEntry>> {
    let grids: HashMap<String, String> = storage.grids()?.into_iter().map(|g| (g.id, g.name)).collect();
    let mut keys: HashMap<String, HashSet<String>> = HashMap::new();
    let mut found = Vec::new();
    for stored in storage.access_log()? {
        let Ok(id) = stored.doc.parse::<DocId>() else { continue };
        let change =
            Change::from_bytes(stored.bytes).map_err(|e| ApiError::Internal(format!("a stored change: {e}")))?;
        let Ok(entries) = access_log_entries(&id, &change, keys.entry(stored.doc).or_default()) else { continue };
        let actor = change.actor_id().to_bytes().to_vec();
        let author = storage.authors(std::slice::from_ref(&actor))?.into_iter().next();
        let (device, device_id, holder) = author.map_or_else(Default::default, |a| (a.device, a.device_id, a.holder));
        for (_, entry) in entries {
            let grid_id = entry.grid_id.to_string();
            found.push(AuditEntry {
                at: entry.at,
                device: device.clone(),
                device_id: device_id.clone(),
                holder: holder.clone(),
                grid: grids.get(&grid_id).cloned().unwrap_or_default(),
                grid_id,
                action: entry.action,
                records: entry.records,
                fields: entry.fields,
                reason: entry.reason,
            });
        }
    }
    found.retain(|e| filter.lets_through(e));
    found.sort_by_key(|e| e.at);
    Ok(found)
}

impl AuditFilter {
    fn lets_through(&self, e: &AuditEntry) -> bool {
        let day = e.at.with_timezone(&self.timezone).date_naive();
        self.device.as_ref().is_none_or(|d| *d == e.device || *d == e.device_id)
            && self.grid.as_ref().is_none_or(|g| *g == e.grid_id || *g == e.grid)
            && self.resident.as_ref().is_none_or(|r| e.records.iter().any(|id| id.eq_ignore_ascii_case(r.trim())))
            && self.since.is_none_or(|since| day >= since)
            && self.until.is_none_or(|until| day <= until)
    }
}
