//! What a server must know of a document to authorise it, read from the document's changes alone:
//! for a grid, its record (which the server checks against its own registry), built from its few
//! changes; for an event, the departments it was dispatched to and the photos it references, read
//! from the operations of the changes that name them. The changes come already decoded: a server
//! has parsed (and bounded) them before it asks. And the one document a server writes itself: the
//! first change of a grid the centre registers on it.

use automerge::legacy::{Key, ObjectId, OpType};
use automerge::transaction::CommitOptions;
use automerge::{Automerge, Change, ScalarValue};
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

/// The facts `changes` bring to their event, read from their own operations without building the
/// document: every department a dispatch among them names, and every photo they reference. A server
/// that records the facts of each change it stores holds the union over the event's changes, which
/// is the event's facts ever, so neither the event's earlier changes nor the document are read.
/// A value that a later change overwrites still counts: it only makes the check of who may dispatch
/// stricter, and a photo once referenced stays readable through the event.
///
/// # Errors
/// [`Error::Record`] if a step or photo written whole (as one JSON string) does not read;
/// [`Error::InvalidChanges`] for a change whose operations automerge cannot read.
pub fn event_facts<'a>(changes: impl IntoIterator<Item = &'a Change>) -> Result<EventFacts> {
    let mut facts = EventFacts::default();
    for change in changes {
        let Some(expanded) = operations(change) else {
            return Err(Error::InvalidChanges("a change could not be decoded".into()));
        };
        for op in expanded.operations {
            let (Key::Map(name), OpType::Put(ScalarValue::Str(value))) = (&op.key, &op.action) else { continue };
            match name.as_str() {
                // The fields of a step or photo written as a map, wherever the map is.
                DEPARTMENT => facts.departments_ever.push(value.trim().to_string()),
                SHA256 => facts.photos.push(value.to_string()),
                // A step or photo written whole, as one JSON string under its root key.
                root_key if op.obj == ObjectId::Root => match key::split(root_key).0 {
                    key::STEP => {
                        if let StepAction::Dispatch { department } = serde_json::from_str::<Step>(value)?.action {
                            facts.departments_ever.push(department.trim().to_string());
                        }
                    }
                    key::PHOTO => facts.photos.push(serde_json::from_str::<PhotoRef>(value)?.sha256),
                    _ => {}
                },
                _ => {}
            }
        }
    }
    facts.departments_ever.sort();
    facts.departments_ever.dedup();
    facts.photos.sort();
    facts.photos.dedup();
    Ok(facts)
}

/// The field of a dispatch step that names its department, and of a photo reference that names
/// its photo: no other record of an event has a field of either name.
const DEPARTMENT: &str = "department";
const SHA256: &str = "sha256";

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

/// The operations of `change`, or `None` for a change whose operations automerge cannot expand: its
/// decoder has panicked on crafted changes that parsed, and a server answers those with a refusal,
/// not a dropped connection.
pub fn operations(change: &Change) -> Option<automerge::ExpandedChange> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| change.decode())).ok()
}

/// The fields of a record of `collection` (the part of its root key before `:`, e.g. `resident`)
/// that stores seal under its data key, and of those the sets whose members are keyed hashes: what
/// a server may refuse in plaintext once the record's key is destroyed.
pub fn sealed_fields(collection: &str) -> (&'static [&'static str], &'static [&'static str]) {
    (crate::doc::sealed::sensitive(collection), crate::doc::sealed::SET_FIELDS.as_slice())
}

#[cfg(test)]
mod tests {
    use automerge::ReadDoc;
    use automerge::transaction::Transactable;

    use super::*;
    use crate::doc::write_entry;
    use crate::ids::EntryId;

    fn step(action: StepAction) -> Step {
        Step { id: EntryId::new(), at: Utc::now(), by: "张伟".into(), action, note: "请尽快处理".into() }
    }

    fn photo(sha: &str) -> PhotoRef {
        PhotoRef {
            id: EntryId::new(),
            sha256: sha.into(),
            width: 640,
            height: 480,
            bytes: 1000,
            taken_at: Utc::now(),
            location: None,
            by: "王芳".into(),
        }
    }

    /// One change of `doc`, made by `write`.
    fn change(doc: &mut Automerge, write: impl FnOnce(&mut automerge::transaction::Transaction<'_>)) -> Change {
        let mut tx = doc.transaction();
        write(&mut tx);
        tx.commit();
        doc.get_last_local_change().expect("a change").clone()
    }

    #[test]
    fn dispatches_and_photos_are_read_from_the_changes_that_name_them() {
        let mut doc = Automerge::new();
        let dispatch = step(StepAction::Dispatch { department: " 城管科 ".into() });
        let first = change(&mut doc, |tx| {
            write_record(tx, &key::of(key::STEP, dispatch.id), &dispatch, None).expect("step");
            write_record(tx, &key::of(key::STEP, EntryId::new()), &step(StepAction::Accept), None).expect("step");
            write_record(tx, &key::of(key::PHOTO, EntryId::new()), &photo("ab12"), None).expect("photo");
        });
        let facts = event_facts([&first]).expect("facts");
        assert_eq!(facts, EventFacts { departments_ever: vec!["城管科".into()], photos: vec!["ab12".into()] });

        // A later change that re-dispatches by overwriting the field still names the new one; a step
        // written whole as one string is read too. Each change brings only what it names.
        let root_key = key::of(key::STEP, dispatch.id);
        let second = change(&mut doc, |tx| {
            let Some((_, map)) = tx.get(automerge::ROOT, root_key.as_str()).expect("get") else { panic!("no step") };
            tx.put(&map, "department", "水务科").expect("put");
            let whole = step(StepAction::Dispatch { department: "民政科".into() });
            write_entry(tx, &key::of(key::STEP, whole.id), &whole, None).expect("entry");
        });
        let facts = event_facts([&second]).expect("facts");
        assert_eq!(facts.departments_ever, ["民政科", "水务科"]);
        assert!(facts.photos.is_empty());
    }

    #[test]
    fn a_step_written_whole_that_does_not_read_is_an_error() {
        let mut doc = Automerge::new();
        let bad = change(&mut doc, |tx| {
            tx.put(automerge::ROOT, key::of(key::STEP, EntryId::new()), "{not json").expect("put");
        });
        assert!(matches!(event_facts([&bad]), Err(Error::Record(_))));
    }
}
