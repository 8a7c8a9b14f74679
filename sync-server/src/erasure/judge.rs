//! What the server refuses of a household document once records in it were erased: any change to
//! an erased household's document, a journal entry about it with a note in plaintext, and for an
//! erased resident a change that brings its record back
//! (writes the root key `resident:{id}`) or writes plaintext into one of its sealed fields (a value
//! that is not empty, or a care-tag member that is not a keyed hash).
//!
//! Ciphertext written into an erased resident's map is taken: it is sealed under a key nobody holds
//! any more, and a store that had not heard of the erasure yet must not lose the rest of its work;
//! so are its fields that are never sealed (its relation to the head, a merge), and an emptied
//! field, which stores write unsealed.
//! Households are not rebuilt here: the changes' own operations are read, and the record's map is
//! found as the object that a stored change made at the record's root key.

use std::collections::{HashMap, HashSet};

use automerge::legacy::{Key, ObjectId, OpId, OpType};
use automerge::{Change, ObjType, ScalarValue};
use gridbook_core::sync::wire::ErasedKind;
use gridbook_core::sync::{RefusalReason, operations, sealed_fields};
use gridbook_core::{DocId, DocKind, GridId};

use crate::error::ApiResult;
use crate::storage::Storage;

/// The collection of a resident's record.
const RESIDENT: &str = "resident";

/// The root key of a resident's record in its household's document.
pub(super) fn resident_key(id: &[u8; 16]) -> String {
    format!("resident:{}", uuid::Uuid::from_bytes(*id))
}

/// The erasures that touch the household documents of one request, read once for all of them.
#[derive(Debug, Default)]
pub struct Erasures {
    households: HashSet<String>,
    /// Per grid of the request's journals, its erased households' ids (as entries name them).
    journal_households: HashMap<GridId, HashSet<String>>,
    /// Per document, its erased residents' root keys.
    residents: HashMap<String, Vec<String>>,
}

impl Erasures {
    /// The erasures of the household documents among `docs`: one lookup for the request.
    ///
    /// # Errors
    /// Only storage failing.
    pub fn of<'a>(storage: &dyn Storage, docs: impl IntoIterator<Item = &'a DocId>) -> ApiResult<Self> {
        let (mut names, mut grids) = (Vec::new(), Vec::new());
        for doc in docs {
            match doc.kind {
                DocKind::Household => names.push(doc.to_string()),
                DocKind::Journal => grids.push(doc.grid),
                _ => {}
            }
        }
        grids.sort();
        grids.dedup();
        let mut erasures = Self::default();
        let grid_names: Vec<String> = grids.iter().map(ToString::to_string).collect();
        for t in storage.erased_households(&grid_names)? {
            if let Ok(doc) = t.doc.parse::<DocId>() {
                erasures.journal_households.entry(doc.grid).or_default().insert(doc.part);
            }
        }
        for t in storage.tombstones(&names, &[])? {
            match t.kind {
                ErasedKind::Household => {
                    erasures.households.insert(t.doc);
                }
                ErasedKind::Resident => erasures.residents.entry(t.doc).or_default().push(resident_key(&t.id)),
            }
        }
        Ok(erasures)
    }

    /// Why the document `id` is refused with its changes `kept`, if it is: `erased` for any change
    /// to an erased household, and for one that resurrects an erased resident or writes plaintext
    /// into its record.
    ///
    /// # Errors
    /// Only storage failing.
    pub fn judge(
        &self,
        storage: &dyn Storage,
        id: &DocId,
        kept: &[(Change, String)],
    ) -> ApiResult<Option<RefusalReason>> {
        let doc = id.to_string();
        if self.households.contains(&doc) {
            return Ok(Some(RefusalReason::Erased));
        }
        if let Some(erased) = self.journal_households.get(&id.grid).filter(|_| id.kind == DocKind::Journal) {
            let refused = kept.iter().any(|(c, _)| notes_on_erased(c, erased));
            return Ok(refused.then_some(RefusalReason::Erased));
        }
        let Some(keys) = self.residents.get(&doc).filter(|_| !kept.is_empty()) else { return Ok(None) };
        let stored: Vec<Change> =
            storage.doc_changes(&doc)?.into_iter().filter_map(|b| Change::from_bytes(b).ok()).collect();
        let objects = records(stored.iter(), keys);
        let sets = sets(stored.iter(), &objects);
        let refused = kept.iter().any(|(c, _)| writes_erased(c, keys, &objects, &sets));
        Ok(refused.then_some(RefusalReason::Erased))
    }
}

/// The map objects that `changes` made at the root keys `keys`: an erased resident's record (two,
/// if two stores made it concurrently).
pub(super) fn records<'a>(changes: impl IntoIterator<Item = &'a Change>, keys: &[String]) -> HashSet<OpId> {
    let mut out = HashSet::new();
    for change in changes {
        let Some(expanded) = operations(change) else { continue };
        let start = expanded.start_op.get();
        for (i, op) in expanded.operations.iter().enumerate() {
            let at_key = matches!(&op.key, Key::Map(k) if keys.iter().any(|key| key == k.as_str()));
            if op.obj == ObjectId::Root && at_key && matches!(op.action, OpType::Make(ObjType::Map)) {
                out.insert(OpId(start + i as u64, expanded.actor_id.clone()));
            }
        }
    }
    out
}

/// The care-tag sets that `changes` made in the `records`.
fn sets<'a>(changes: impl IntoIterator<Item = &'a Change>, records: &HashSet<OpId>) -> HashSet<OpId> {
    let (_, set_fields) = sealed_fields(RESIDENT);
    let mut out = HashSet::new();
    for change in changes {
        let Some(expanded) = operations(change) else { continue };
        let start = expanded.start_op.get();
        for (i, op) in expanded.operations.iter().enumerate() {
            let in_record = matches!(&op.obj, ObjectId::Id(obj) if records.contains(obj));
            let at_set = matches!(&op.key, Key::Map(k) if set_fields.contains(&k.as_str()));
            if in_record && at_set && matches!(op.action, OpType::Make(_)) {
                out.insert(OpId(start + i as u64, expanded.actor_id.clone()));
            }
        }
    }
    out
}

/// Whether `change` writes one of the root keys `keys` (anything but deleting it), plaintext into a
/// sealed field of one of the `records`, or a plaintext member into one of their `sets`.
fn writes_erased(change: &Change, keys: &[String], records: &HashSet<OpId>, sets: &HashSet<OpId>) -> bool {
    let (sealed, set_fields) = sealed_fields(RESIDENT);
    // A set the change makes itself, with its members in the same change.
    let own_sets = self::sets(std::iter::once(change), records);
    let sets: HashSet<&OpId> = sets.iter().chain(&own_sets).collect();
    // A change whose operations cannot be read cannot be shown to leave the record alone.
    let Some(expanded) = operations(change) else { return true };
    expanded.operations.iter().any(|op| match (&op.obj, &op.key) {
        (ObjectId::Root, Key::Map(k)) => {
            keys.iter().any(|key| key == k.as_str()) && !matches!(op.action, OpType::Delete)
        }
        (ObjectId::Id(obj), Key::Map(field)) if records.contains(obj) => {
            let field = field.as_str();
            sealed.contains(&field)
                && !match &op.action {
                    OpType::Delete | OpType::Put(ScalarValue::Bytes(_) | ScalarValue::Null) => true,
                    OpType::Put(ScalarValue::Str(text)) => text.is_empty(),
                    OpType::Make(ObjType::Map) => set_fields.contains(&field),
                    _ => false,
                }
        }
        (ObjectId::Id(obj), Key::Map(member)) if sets.contains(obj) => {
            !matches!(op.action, OpType::Delete) && !keyed_hash(member.as_str())
        }
        // Text or list elements inside an erased record: only a store writing plaintext makes them.
        (ObjectId::Id(obj), Key::Seq(_)) => records.contains(obj) || sets.contains(obj),
        _ => false,
    })
}

/// Whether journal `change` writes an entry about one of the `erased` households with a sealed field
/// in plaintext (a sealed entry is bytes: its JSON names the household, its fields are ciphertext).
/// An entry that names no household (a curtain check written without its key) cannot be told apart.
fn notes_on_erased(change: &Change, erased: &HashSet<String>) -> bool {
    let Some(expanded) = operations(change) else { return true };
    expanded.operations.iter().any(|op| {
        let (ObjectId::Root, Key::Map(root_key), OpType::Put(ScalarValue::Str(text))) = (&op.obj, &op.key, &op.action)
        else {
            return false;
        };
        let Ok(serde_json::Value::Object(entry)) = serde_json::from_str::<serde_json::Value>(text) else {
            return false;
        };
        let about_erased =
            entry.get("household_id").and_then(serde_json::Value::as_str).is_some_and(|h| erased.contains(h));
        let collection = root_key.split(':').next().unwrap_or_default();
        let (sealed, _) = sealed_fields(collection);
        about_erased && sealed.iter().any(|f| entry.get(*f).is_some_and(|v| !v.is_null() && v.as_str() != Some("")))
    })
}

/// Whether a set's member is a keyed hash (as stores write it under the record's key), not a name.
fn keyed_hash(member: &str) -> bool {
    member.len() == 32 && member.bytes().all(|b| b.is_ascii_hexdigit())
}

#[cfg(test)]
mod tests {
    use automerge::transaction::Transactable;
    use automerge::{AutoCommit, ROOT, ScalarValue};

    use super::*;

    const ID: [u8; 16] = [7; 16];

    /// A household document holding the resident `ID`'s record, with one sealed field, and its
    /// changes so far.
    fn household() -> (AutoCommit, automerge::ObjId) {
        let mut doc = AutoCommit::new();
        let record = doc.put_object(ROOT, resident_key(&ID), ObjType::Map).expect("record");
        doc.put(&record, "name", ScalarValue::Bytes(vec![1, 2, 3])).expect("sealed");
        doc.put(ROOT, "address", ScalarValue::Bytes(vec![4])).expect("household field");
        (doc, record)
    }

    fn last(doc: &mut AutoCommit) -> Change {
        doc.commit();
        doc.get_last_local_change().expect("a change").clone()
    }

    fn refused(doc: &mut AutoCommit, edit: impl FnOnce(&mut AutoCommit)) -> bool {
        doc.commit();
        let stored = doc.get_changes(&[]);
        edit(doc);
        let change = last(doc);
        let keys = [resident_key(&ID)];
        let records = records(stored.iter(), &keys);
        writes_erased(&change, &keys, &records, &sets(stored.iter(), &records))
    }

    #[test]
    fn plaintext_into_an_erased_record_is_refused_and_ciphertext_is_not() {
        let (mut doc, record) = household();
        assert!(refused(&mut doc, |d| d.put(&record, "name", "张三").map(drop).expect("put")));
        let (mut doc, record) = household();
        assert!(refused(&mut doc, |d| d.put(&record, "id_number", "110101199003077777").expect("put")));
        let (mut doc, record) = household();
        assert!(refused(&mut doc, |d| d.put_object(&record, "name", ObjType::Text).map(drop).expect("put")));
        let (mut doc, record) = household();
        assert!(refused(&mut doc, |d| {
            let tags = d.put_object(&record, "care_tags", ObjType::Map).expect("set");
            d.put(&tags, "living_alone", true).expect("member");
        }));
        let (mut doc, record) = household();
        let tags = doc.put_object(&record, "care_tags", ObjType::Map).expect("set");
        assert!(refused(&mut doc, |d| d.put(&tags, "disabled", true).expect("member")), "into a set made before");
        let (mut doc, record) = household();
        let tags = doc.put_object(&record, "care_tags", ObjType::Map).expect("set");
        assert!(!refused(&mut doc, |d| d.put(&tags, "076ebb4ed11c9a5d0f14cada4b665a23", true).expect("hashed")));
        let (mut doc, record) = household();
        assert!(!refused(&mut doc, |d| d.put(&record, "phone", "").expect("emptied")));
        let (mut doc, record) = household();
        assert!(!refused(&mut doc, |d| d.put(&record, "relation", "son").expect("never sealed")));
        let (mut doc, record) = household();
        assert!(!refused(&mut doc, |d| d.put(&record, "name", ScalarValue::Bytes(vec![9])).expect("put")));
        let (mut doc, record) = household();
        assert!(!refused(&mut doc, |d| d.delete(&record, "name").expect("delete")));
    }

    #[test]
    fn bringing_an_erased_record_back_is_refused_and_other_records_are_not() {
        let (mut doc, _) = household();
        assert!(refused(&mut doc, |d| d.put_object(ROOT, resident_key(&ID), ObjType::Map).map(drop).expect("put")));
        let (mut doc, _) = household();
        assert!(refused(&mut doc, |d| d.put(ROOT, resident_key(&ID), "张三").expect("put")));
        let (mut doc, _) = household();
        assert!(!refused(&mut doc, |d| d.delete(ROOT, resident_key(&ID)).expect("delete")));
        let (mut doc, _) = household();
        let other = resident_key(&[8; 16]);
        assert!(!refused(&mut doc, |d| {
            let o = d.put_object(ROOT, other, ObjType::Map).expect("another");
            d.put(&o, "name", "李四").expect("put");
        }));
        let (mut doc, _) = household();
        assert!(!refused(&mut doc, |d| d.put(ROOT, "address", "幸福村").expect("household field")));
    }

    #[test]
    fn a_journal_entry_about_an_erased_household_is_refused_only_with_a_note_in_plaintext() {
        let erased: HashSet<String> = ["01a20427-e6d9-752c-8089-15fee0f65389".to_string()].into();
        let entry = |household: &str, notes: &str| {
            serde_json::json!({ "household_id": household, "notes": notes, "purposes": [] }).to_string()
        };
        let written = |value: ScalarValue| {
            let mut doc = AutoCommit::new();
            doc.put(ROOT, "visit:1", value).expect("entry");
            last(&mut doc)
        };
        let on_erased = "01a20427-e6d9-752c-8089-15fee0f65389";
        assert!(notes_on_erased(&written(entry(on_erased, "老人身体状况良好").into()), &erased));
        assert!(!notes_on_erased(&written(entry(on_erased, "").into()), &erased), "an empty note says nothing");
        assert!(!notes_on_erased(&written(ScalarValue::Bytes(b"{}\0sealed".to_vec())), &erased), "sealed");
        let other = "01a20427-e6d9-752c-8089-15fee0f65390";
        assert!(!notes_on_erased(&written(entry(other, "老人身体状况良好").into()), &erased), "another household");
    }
}
