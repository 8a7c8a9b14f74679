//! Who changed which field of a household or resident, and when: read from the documents' own
//! history, so it holds every device's edits, including the ones a merge resolved the other way.

use std::collections::HashMap;

use automerge::{PatchAction, Prop, ROOT, ScalarValue, Value};
use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::datakey::keyring;
use crate::doc::{key, scalar_to_json, sealed};
use crate::error::Result;
use crate::ids::{DocId, HouseholdId, ResidentId};
use crate::masking::masked_field;
use crate::model::millis;
use crate::store::{ChangeMeta, Inner, Store};
use crate::sync::{Author, known_author as author, signed_by_author};

/// One field set (or removed) by one change: who, when, on which device.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct HistoryEntry {
    /// When the change was made.
    #[serde(with = "millis")]
    pub at: DateTime<Utc>,
    /// The person who made it: when `verified`, the holder the district's server registered for
    /// the change's device (if it registered one); otherwise what the change itself says.
    pub by: String,
    /// The device it was made on (the enrolled device's name when `verified`).
    pub device: String,
    /// Whether `device` (and `by`, if the server registered a holder) is the district server's
    /// record of the change's author rather than the change's own words (a change of a store the
    /// server has not vouched for: never synced, or from before this version).
    pub verified: bool,
    /// Whether this store holds the author's own signature over the change (or made it itself),
    /// rather than only the server's word for it: a change of a store that enrolled no key, or
    /// that the server stored before it kept authors' proofs, is `verified` but not `signed`.
    pub signed: bool,
    /// What the person was doing ("edit resident").
    pub action: String,
    /// `household`, or `resident:<id>` / `routine:<id>`.
    pub record: String,
    /// The field's name.
    pub field: String,
    /// The new value as text (an ID number or phone masked); for a set, `+member` or `-member`;
    /// `None` (`null`/`nil`) when the field was removed.
    pub value: Option<String>,
}

impl Store {
    /// The audit trail of a household and everyone in it, oldest first.
    pub fn household_history(&self, id: HouseholdId) -> Result<Vec<HistoryEntry>> {
        let h = self.household(id)?;
        let doc = DocId::household(h.grid_id, id);
        // An erased resident's record stays in the document, its fields under a destroyed key: the
        // edits of its other fields are not shown either.
        let erased: Vec<String> = self.read(|c| {
            let mut stmt = c.prepare_cached("SELECT id FROM erased WHERE doc = ?1")?;
            let ids = stmt.query_map([doc.to_string()], |r| r.get::<_, uuid::Uuid>(0))?;
            Ok(ids.map(|id| id.map(|id| key::of(key::RESIDENT, id))).collect::<rusqlite::Result<_>>()?)
        })?;
        self.history(&doc, |k| !erased.iter().any(|e| e == k))
    }

    /// The audit trail of one resident, oldest first, with those of the residents merged into it
    /// ([`Store::merge_residents`]; their entries name their own `resident:<id>` record).
    ///
    /// # Errors
    /// [`Error::NotFound`](crate::Error::NotFound) for an unknown resident.
    pub fn resident_history(&self, id: ResidentId) -> Result<Vec<HistoryEntry>> {
        let mut people = vec![self.resident(id)?];
        for other in self.read(|c| crate::resident_merge::merged_into(c, id))? {
            people.push(self.resident(other)?);
        }
        let mut entries = Vec::new();
        for r in people {
            let record = key::of(key::RESIDENT, r.id);
            entries.extend(self.history(&DocId::household(r.grid_id, r.household_id), |k| k == record)?);
        }
        entries.sort_by_key(|e| e.at);
        Ok(entries)
    }

    fn history(&self, id: &DocId, wanted: impl Fn(&str) -> bool) -> Result<Vec<HistoryEntry>> {
        let mut inner = self.lock()?;
        let Inner { conn, docs, .. } = &mut *inner;
        let own = docs.actor().to_bytes().to_vec();
        let doc = docs.get(conn, id)?;
        let conn: &rusqlite::Connection = conn;
        let keys = |key_id| keyring::get(conn, key_id);
        let mut entries = Vec::new();
        let mut authors: HashMap<Vec<u8>, Option<Author>> = HashMap::new();
        for change in doc.get_changes(&[]) {
            let meta: Option<ChangeMeta> = change.message().and_then(|m| serde_json::from_str(m).ok());
            let (by, device, action) = meta.map_or_else(Default::default, |m| (m.by, m.device, m.action));
            let actor = change.actor_id().to_bytes();
            let known = match authors.get(actor) {
                Some(known) => known.clone(),
                None => {
                    let known = author(conn, actor)?;
                    authors.insert(actor.to_vec(), known.clone());
                    known
                }
            };
            let verified = known.is_some();
            let signed = actor == own.as_slice() || signed_by_author(conn, &change.hash().0)?;
            // A device the centre registered without its holder's name keeps the change's own.
            let (by, device) =
                known.map_or((by.clone(), device), |a| (if a.holder.is_empty() { by } else { a.holder }, a.device));
            let at = DateTime::from_timestamp(change.timestamp(), 0).unwrap_or_default();
            for patch in doc.diff(change.deps(), &[change.hash()]) {
                let Some((parent, Prop::Map(record))) = patch.path.first().cloned() else { continue };
                if parent != ROOT {
                    continue;
                }
                if !wanted(&record) {
                    continue;
                }
                let field = match patch.path.get(1) {
                    Some((_, Prop::Map(parent))) => Some(parent.clone()),
                    _ => None,
                };
                let (key, value) = match patch.action {
                    // A record's links to its grid, household and resident are set once, not edited.
                    PatchAction::PutMap { key, .. } if field.is_none() && STRUCTURAL.contains(&key.as_str()) => {
                        continue;
                    }
                    // A sealed field reads through its key; without it the edit is left out, never
                    // shown as ciphertext.
                    PatchAction::PutMap { key, value: (Value::Scalar(s), by), .. } => match (s.as_ref(), &field) {
                        (ScalarValue::Bytes(sealed), None) => {
                            match sealed::open_value(id, &record, &key, sealed, &by, &keys)? {
                                Some(value) => (key, Some(text(&value))),
                                None => continue,
                            }
                        }
                        _ => (key, Some(text(&scalar_to_json(&s)))),
                    },
                    PatchAction::DeleteMap { key } => (key, None),
                    _ => continue,
                };
                let (field, value) = match field {
                    // A member of a set: the set is the field (a sealed set's members are keyed
                    // hashes, read back through the key).
                    Some(set) => {
                        let Some(member) = sealed::open_member(id, &record, &set, &key, &keys)? else { continue };
                        (set, Some(format!("{}{member}", if value.is_some() { "+" } else { "-" })))
                    }
                    None => {
                        let value = masked_field(&key, value);
                        (key, value)
                    }
                };
                let entry = HistoryEntry {
                    at,
                    by: by.clone(),
                    device: device.clone(),
                    verified,
                    signed,
                    action: action.clone(),
                    record: record.clone(),
                    field,
                    value,
                };
                entries.push(entry);
            }
        }
        entries.sort_by_key(|e| e.at);
        Ok(entries)
    }
}

const STRUCTURAL: [&str; 4] = ["id", "grid_id", "household_id", "resident_id"];

fn text(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Null => String::new(),
        other => other.to_string(),
    }
}
