//! The district's grid registry, as sync requests meet it. A grid belongs to the village the registry
//! says, from the moment it is registered: by the centre on the server (`gridbook-server grid add`),
//! or by the first grid document that the centre's device, or the secretary of the village that
//! document names, brings. After that no change to the document moves the grid: a change that would
//! leave the grid document naming another village is refused, so that neither the registry nor any
//! store's copy of the grid disagrees about where it belongs.

use automerge::Change;
use gridbook_core::DocId;
use gridbook_core::sync::grid_record;

use crate::error::{ApiError, ApiResult};
use crate::storage::{Device, GridEntry, Role, Storage};

/// What a grid document's changes do to the registry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GridChange {
    /// A grid the registry did not know, registered by this request: it is in the device's scope
    /// from this request on.
    Registers(GridEntry),
    /// A registered grid's document, its name and township as the changes leave them.
    Updates(GridEntry),
}

/// Why a grid document's changes are refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GridRefusal {
    /// The changes would leave the document naming another village than the registry's.
    #[error("a grid stays in the village it was registered in; no change moves it to another")]
    MovesGrid,
    /// The device may not register a grid (or not one of that village).
    #[error("only the centre, or the secretary of the grid's own village, registers a new grid")]
    MayNotRegister,
    /// A new grid's document without a record, a record of another grid, or one without a village.
    #[error("a new grid's document must hold its own record, with its village")]
    NoRecord,
}

/// Judges the changes a device sends to grid document `id`, over what the server already holds of
/// the document and `incoming`; `registered` is the registry's entry of the grid, if it has one.
///
/// # Errors
/// `Ok(Err(refusal))` for changes the device may not make; [`ApiError::Malformed`] if the changes
/// do not apply; a storage error as it comes.
pub fn judge(
    storage: &dyn Storage,
    device: &Device,
    id: &DocId,
    registered: Option<GridEntry>,
    incoming: &[Change],
) -> ApiResult<Result<GridChange, GridRefusal>> {
    let grid_id = id.grid.to_string();
    let mut all = stored_changes(storage, &id.to_string())?;
    all.extend(incoming.iter().cloned());
    let record = grid_record(all).map_err(|_| ApiError::Malformed("a grid document's changes do not apply".into()))?;
    if record.as_ref().is_some_and(|r| r.id.to_string() != grid_id) {
        return Ok(Err(GridRefusal::NoRecord));
    }
    Ok(match (registered, record) {
        (Some(entry), None) => Ok(GridChange::Updates(entry)),
        (Some(entry), Some(record)) if record.village.trim() != entry.village => Err(GridRefusal::MovesGrid),
        (Some(entry), Some(record)) => Ok(GridChange::Updates(GridEntry {
            name: record.name.trim().to_string(),
            township: record.township.trim().to_string(),
            ..entry
        })),
        (None, None) => Err(GridRefusal::NoRecord),
        (None, Some(record)) => {
            let village = record.village.trim();
            let may = match device.role {
                Role::Centre => true,
                Role::Secretary => device.village.as_deref() == Some(village),
                Role::GridMember | Role::Department => false,
            };
            if village.is_empty() {
                Err(GridRefusal::NoRecord)
            } else if !may {
                Err(GridRefusal::MayNotRegister)
            } else {
                Ok(GridChange::Registers(GridEntry {
                    id: grid_id,
                    name: record.name.trim().to_string(),
                    village: village.to_string(),
                    township: record.township.trim().to_string(),
                    registered_by: device.id.clone(),
                    registered_at: chrono::Utc::now().timestamp_millis(),
                }))
            }
        }
    })
}

/// A document's stored changes. They were checked when they came; one that no longer parses is the
/// server's fault, not the device's.
pub fn stored_changes(storage: &dyn Storage, doc: &str) -> ApiResult<Vec<Change>> {
    storage
        .doc_changes(doc)?
        .into_iter()
        .map(|bytes| Change::from_bytes(bytes).map_err(|e| ApiError::Internal(format!("a stored change: {e}"))))
        .collect()
}
