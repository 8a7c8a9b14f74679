//! What a server must know of a document to authorise it, read from the document's changes alone:
//! for a grid, its record (which the server checks against its own registry); for an event, the
//! departments it was dispatched to and the photos it references. Both documents are small, so
//! building them from their changes is cheap. The changes come already decoded: a server has
//! parsed (and bounded) them before it asks. And the one document a server writes itself: the
//! first change of a grid the centre registers on it.

use automerge::transaction::CommitOptions;
use automerge::{Automerge, Change, ROOT, ReadDoc};
use chrono::{DateTime, Utc};

use crate::doc::{key, read_record, write_record};
use crate::error::{Error, Result};
use crate::ledger::NewGrid;
use crate::model::{Grid, PhotoRef, Step, StepAction};
use crate::store::ChangeMeta;

/// Facts about one event document.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventFacts {
    /// Every department the event was ever dispatched to: each keeps seeing the event it handled.
    /// Every one, not the current one, so no replay of the steps (nor the report they need) is read.
    pub departments_ever: Vec<String>,
    /// SHA-256 (hex) of every photo the event references.
    pub photos: Vec<String>,
}

/// Builds the event from its changes and reads its facts.
///
/// # Errors
/// [`Error::InvalidChanges`] if a change does not apply.
pub fn event_facts(changes: Vec<Change>) -> Result<EventFacts> {
    let doc = build(changes)?;
    let mut facts = EventFacts::default();
    for root_key in doc.keys(ROOT) {
        match key::split(&root_key).0 {
            key::STEP => {
                if let Some(Step { action: StepAction::Dispatch { department }, .. }) = read_record(&doc, &root_key)? {
                    facts.departments_ever.push(department.trim().to_string());
                }
            }
            key::PHOTO => facts.photos.extend(read_record::<PhotoRef>(&doc, &root_key)?.map(|p| p.sha256)),
            _ => {}
        }
    }
    facts.departments_ever.sort();
    facts.departments_ever.dedup();
    facts.photos.sort();
    facts.photos.dedup();
    Ok(facts)
}

/// The grid record a grid document holds, if it has arrived.
///
/// # Errors
/// [`Error::InvalidChanges`] if a change does not apply; [`Error::Record`] if the record does not
/// read as a grid.
pub fn grid_record(changes: Vec<Change>) -> Result<Option<Grid>> {
    let doc = build(changes)?;
    read_record::<Grid>(&doc, key::GRID)
}

/// A new grid and its document's first change, for a grid the district's server registers
/// itself: the centre's way of creating a grid before any device has. It is checked as
/// [`Store::create_grid`](crate::Store::create_grid) checks one, and history names `by` on
/// `device` as its maker, as it does for a store's own changes.
///
/// # Errors
/// [`Error::InvalidInput`] if the name or the village is empty.
pub fn new_grid_document(new: &NewGrid, by: &str, device: &str, at: DateTime<Utc>) -> Result<(Grid, Change)> {
    let grid = new.checked(at)?;
    let meta = ChangeMeta { by: by.into(), device: device.into(), action: "create grid".into() };
    let options = CommitOptions::default().with_message(serde_json::to_string(&meta)?).with_time(at.timestamp());
    let mut doc = Automerge::new();
    let mut tx = doc.transaction();
    write_record(&mut tx, key::GRID, &grid, None)?;
    tx.commit_with(options);
    let change =
        doc.get_last_local_change().ok_or_else(|| Error::InvalidChanges("the grid document is empty".into()))?;
    Ok((grid, change))
}

fn build(changes: Vec<Change>) -> Result<Automerge> {
    let mut doc = Automerge::new();
    // automerge has panicked on crafted changes; a bad document is an error, not a crash.
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| doc.apply_changes(changes)))
        .map_err(|_| Error::InvalidChanges("a change could not be applied".into()))?
        .map_err(|e| Error::InvalidChanges(e.to_string()))?;
    Ok(doc)
}
