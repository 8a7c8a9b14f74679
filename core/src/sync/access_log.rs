//! What a server checks of a change to an access log, read from the change alone: that it only
//! adds entries. Each of its operations must put one entry, as a JSON string, at a root key no
//! entry had (`access:{entry id}`, the entry's own id, of the document's own grid), over nothing:
//! a deletion, a value put over another, an object or anything else is refused, and so is a key
//! the document already holds (a second value at a key would be a conflict that hides the first).
//! The same reading gives `gridbook-server audit` the entries of the changes it stored.

use std::collections::HashSet;

use automerge::legacy::{Key, ObjectId, OpType};
use automerge::{Change, ScalarValue};

use crate::doc::key;
use crate::ids::DocId;
use crate::model::AccessEntry;

/// Why a change to an access log is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AccessLogRefusal {
    /// The change removes an entry, or puts a value over one.
    #[error("the access log only grows: a change may not remove or replace an entry")]
    Rewrites,
    /// The change writes something that is not a new entry of this log.
    #[error("a change to the access log may only add entries of its own grid")]
    NotAnEntry,
}

/// The entries `change` adds to access-log document `doc`, each with its root key, if it adds
/// nothing else; `existing` holds the keys the document already has (stored, or added by earlier
/// changes of the same request), and the new keys are added to it.
///
/// # Errors
/// [`AccessLogRefusal::Rewrites`] for a deletion or a value over an earlier one (a key in
/// `existing` included); [`AccessLogRefusal::NotAnEntry`] for anything else that is not a new
/// entry of `doc`'s grid.
pub fn access_log_entries(
    doc: &DocId,
    change: &Change,
    existing: &mut HashSet<String>,
) -> Result<Vec<(String, AccessEntry)>, AccessLogRefusal> {
    // automerge has panicked on crafted changes: a bad change is refused, not a crash.
    let expanded = super::facts::operations(change).ok_or(AccessLogRefusal::NotAnEntry)?;
    let mut entries = Vec::with_capacity(expanded.operations.len());
    for op in expanded.operations {
        if !op.pred.is_empty() || matches!(op.action, OpType::Delete) {
            return Err(AccessLogRefusal::Rewrites);
        }
        let (ObjectId::Root, Key::Map(root_key), false, OpType::Put(ScalarValue::Str(json))) =
            (op.obj, op.key, op.insert, op.action)
        else {
            return Err(AccessLogRefusal::NotAnEntry);
        };
        let entry: AccessEntry = serde_json::from_str(&json).map_err(|_| AccessLogRefusal::NotAnEntry)?;
        if root_key.as_str() != key::of(key::ACCESS, entry.id) || entry.grid_id != doc.grid {
            return Err(AccessLogRefusal::NotAnEntry);
        }
        if !existing.insert(root_key.to_string()) {
            return Err(AccessLogRefusal::Rewrites);
        }
        entries.push((root_key.to_string(), entry));
    }
    Ok(entries)
}
