//! What the server refuses of a household document once records in it were erased: any change to
//! an erased household's document, and for an erased resident a change that brings its record back
//! (writes the root key `resident:{id}`) or writes plaintext into its record's map.
//!
//! Ciphertext written into an erased resident's map is taken: it is sealed under a key nobody holds
//! any more, and a store that had not heard of the erasure yet must not lose the rest of its work.
//! Households are not rebuilt here: the changes' own operations are read, and the record's map is
//! found as the object that a stored change made at the record's root key.

use std::collections::{HashMap, HashSet};

use automerge::legacy::{Key, ObjectId, OpId, OpType};
use automerge::{Change, ObjType, ScalarValue};
use gridbook_core::sync::RefusalReason;
use gridbook_core::sync::wire::ErasedKind;
use gridbook_core::{DocId, DocKind};

use crate::error::ApiResult;
use crate::storage::Storage;

/// The root key of a resident's record in its household's document.
pub(super) fn resident_key(id: &[u8; 16]) -> String {
    format!("resident:{}", uuid::Uuid::from_bytes(*id))
}

/// The erasures that touch the household documents of one request, read once for all of them.
#[derive(Debug, Default)]
pub struct Erasures {
    households: HashSet<String>,
    /// Per document, its erased residents' root keys.
    residents: HashMap<String, Vec<String>>,
}

impl Erasures {
    /// The erasures of the household documents among `docs`: one lookup for the request.
    ///
    /// # Errors
    /// Only storage failing.
    pub fn of<'a>(storage: &dyn Storage, docs: impl IntoIterator<Item = &'a DocId>) -> ApiResult<Self> {
        let names: Vec<String> =
            docs.into_iter().filter(|d| d.kind == DocKind::Household).map(ToString::to_string).collect();
        let mut erasures = Self::default();
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
        let Some(keys) = self.residents.get(&doc).filter(|_| !kept.is_empty()) else { return Ok(None) };
        let stored: Vec<Change> =
            storage.doc_changes(&doc)?.into_iter().filter_map(|b| Change::from_bytes(b).ok()).collect();
        let objects = records(stored.iter(), keys);
        let refused = kept.iter().any(|(c, _)| writes_erased(c, keys, &objects));
        Ok(refused.then_some(RefusalReason::Erased))
    }
}

/// The map objects that `changes` made at the root keys `keys`: an erased resident's record (two,
/// if two stores made it concurrently).
pub(super) fn records<'a>(changes: impl IntoIterator<Item = &'a Change>, keys: &[String]) -> HashSet<OpId> {
    let mut out = HashSet::new();
    for change in changes {
        let expanded = change.decode();
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

/// Whether `change` writes one of the root keys `keys` (anything but deleting it), or anything but
/// ciphertext (`Bytes`) or a deletion into one of the `records`.
fn writes_erased(change: &Change, keys: &[String], records: &HashSet<OpId>) -> bool {
    change.decode().operations.iter().any(|op| match &op.obj {
        ObjectId::Root => {
            matches!(&op.key, Key::Map(k) if keys.iter().any(|key| key == k.as_str()))
                && !matches!(op.action, OpType::Delete)
        }
        ObjectId::Id(obj) => {
            records.contains(obj) && !matches!(op.action, OpType::Delete | OpType::Put(ScalarValue::Bytes(_)))
        }
    })
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
        let stored = doc.get_changes(&[]);
        edit(doc);
        let change = last(doc);
        let keys = [resident_key(&ID)];
        writes_erased(&change, &keys, &records(stored.iter(), &keys))
    }

    #[test]
    fn plaintext_into_an_erased_record_is_refused_and_ciphertext_is_not() {
        let (mut doc, record) = household();
        assert!(refused(&mut doc, |d| d.put(&record, "name", "张三").map(drop).expect("put")));
        let (mut doc, record) = household();
        assert!(refused(&mut doc, |d| d.put_object(&record, "care_tags", ObjType::Map).map(drop).expect("put")));
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
}
