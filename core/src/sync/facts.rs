//! What a server must know of a document to authorise it, read from the document's changes alone:
//! for a grid, its village; for an event, the department it is dispatched to and the photos it
//! references. Both documents are small, so building them from their changes is cheap.

use automerge::{Automerge, Change, ROOT, ReadDoc};

use crate::doc::{key, read_record};
use crate::error::{Error, Result};
use crate::lifecycle::Lifecycle;
use crate::model::{EventReport, Grid, PhotoRef, Step};

/// Facts about one event document.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventFacts {
    /// The department the event is currently dispatched to (or accepted by).
    pub department: Option<String>,
    /// Every department the event was ever dispatched to: each keeps seeing the event it handled.
    pub departments_ever: Vec<String>,
    /// SHA-256 (hex) of every photo the event references.
    pub photos: Vec<String>,
}

/// Builds the event from its changes and reads its facts.
///
/// # Errors
/// [`Error::InvalidChanges`] if a change does not decode or apply.
pub fn event_facts(changes: impl IntoIterator<Item = Vec<u8>>) -> Result<EventFacts> {
    let doc = build(changes)?;
    let mut steps: Vec<Step> = Vec::new();
    let mut facts = EventFacts::default();
    for root_key in doc.keys(ROOT) {
        match key::split(&root_key).0 {
            key::STEP => steps.extend(read_record::<Step>(&doc, &root_key)?),
            key::PHOTO => facts.photos.extend(read_record::<PhotoRef>(&doc, &root_key)?.map(|p| p.sha256)),
            _ => {}
        }
    }
    let urgency = read_record::<EventReport>(&doc, key::EVENT)?.map_or(crate::model::Urgency::Routine, |r| r.urgency);
    facts.department = Lifecycle::replay(urgency, &steps).department;
    facts.departments_ever = steps
        .iter()
        .filter_map(|s| match &s.action {
            crate::model::StepAction::Dispatch { department } => Some(department.trim().to_string()),
            _ => None,
        })
        .collect();
    facts.departments_ever.sort();
    facts.departments_ever.dedup();
    facts.photos.sort();
    facts.photos.dedup();
    Ok(facts)
}

/// The village a grid document says its grid belongs to (empty if the grid record has not arrived).
///
/// # Errors
/// [`Error::InvalidChanges`] if a change does not decode or apply.
pub fn grid_village(changes: impl IntoIterator<Item = Vec<u8>>) -> Result<String> {
    let doc = build(changes)?;
    Ok(read_record::<Grid>(&doc, key::GRID)?.map(|g| g.village.trim().to_string()).unwrap_or_default())
}

fn build(changes: impl IntoIterator<Item = Vec<u8>>) -> Result<Automerge> {
    let changes = changes
        .into_iter()
        .map(|bytes| Change::from_bytes(bytes).map_err(|e| Error::InvalidChanges(e.to_string())))
        .collect::<Result<Vec<_>>>()?;
    let mut doc = Automerge::new();
    // automerge has panicked on crafted changes; a bad document is an error, not a crash.
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| doc.apply_changes(changes)))
        .map_err(|_| Error::InvalidChanges("a change could not be applied".into()))?
        .map_err(|e| Error::InvalidChanges(e.to_string()))?;
    Ok(doc)
}
