//! What a server must know of a document to authorise it, read from the document's changes alone:
//! for a grid, its village; for an event, the department it is dispatched to and the photos it
//! references. Both documents are small, so building them from their changes is cheap. The changes
//! come already decoded: a server has parsed (and bounded) them before it asks.

use automerge::{Automerge, Change, ROOT, ReadDoc};

use crate::doc::{key, read_record};
use crate::error::{Error, Result};
use crate::model::{Grid, PhotoRef, Step, StepAction};

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

/// The village a grid document says its grid belongs to (empty if the grid record has not arrived).
///
/// # Errors
/// [`Error::InvalidChanges`] if a change does not apply.
pub fn grid_village(changes: Vec<Change>) -> Result<String> {
    let doc = build(changes)?;
    Ok(read_record::<Grid>(&doc, key::GRID)?.map(|g| g.village.trim().to_string()).unwrap_or_default())
}

fn build(changes: Vec<Change>) -> Result<Automerge> {
    let mut doc = Automerge::new();
    // automerge has panicked on crafted changes; a bad document is an error, not a crash.
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| doc.apply_changes(changes)))
        .map_err(|_| Error::InvalidChanges("a change could not be applied".into()))?
        .map_err(|e| Error::InvalidChanges(e.to_string()))?;
    Ok(doc)
}
