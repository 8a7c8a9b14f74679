//! Merging with another store: what this store has (heads, read without loading documents), the
//! changes another store lacks, and applying changes received, all documents in one transaction.
//! Plain values in, plain values out: the sync transports carry them.

use std::collections::BTreeMap;
use std::panic::{AssertUnwindSafe, catch_unwind};

use automerge::{Change, ChangeHash, ROOT, ReadDoc};
use serde::{Deserialize, Serialize};

use rusqlite::Connection;

use crate::datakey::keyring::{self, KeyEntry};
use crate::db::write_tx;
use crate::docstore::{self, DocCache};
use crate::error::{Error, Result};
use crate::ids::DocId;
use crate::materialise::{self, Tz};
use crate::store::{Inner, Store};

/// The heads of every document a store has.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Heads(pub BTreeMap<String, Vec<ChangeHash>>);

/// Changes for several documents, in the order they may be applied, with the data keys that open
/// their sealed fields.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeSet {
    pub docs: Vec<DocChanges>,
    /// The data keys of the records of `docs` (and of the households whose notes a journal of
    /// `docs` carries) that the store holds. Secret: never serialised, so a set written out (a file,
    /// a log) carries ciphertext alone; whoever moves a set between stores by other means passes
    /// the keys only to a store whose holder may read those households.
    #[serde(skip)]
    pub keys: Vec<crate::sync::wire::WireKey>,
}

/// The changes of one document, each as automerge's encoded change bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocChanges {
    pub doc: String,
    pub changes: Vec<Vec<u8>>,
}

impl ChangeSet {
    pub fn is_empty(&self) -> bool {
        self.docs.iter().all(|d| d.changes.is_empty())
    }

    pub fn change_count(&self) -> usize {
        self.docs.iter().map(|d| d.changes.len()).sum()
    }
}

/// What applying a change set did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct MergeReport {
    pub docs_changed: usize,
    pub changes_applied: usize,
    /// Documents holding changes whose predecessors have not arrived yet (kept in memory only).
    pub docs_waiting: usize,
}

impl Store {
    /// Every document's heads.
    pub fn heads(&self) -> Result<Heads> {
        self.read(|c| Ok(Heads(docstore::all_heads(c)?.into_iter().collect())))
    }

    /// The changes a store with `known` heads does not have.
    pub fn changes_since(&self, known: &Heads) -> Result<ChangeSet> {
        let mine = self.heads()?;
        let mut inner = self.lock()?;
        let Inner { conn, docs, .. } = &mut *inner;
        let mut set = ChangeSet::default();
        for (name, heads) in mine.0 {
            let theirs = known.0.get(&name).map(Vec::as_slice).unwrap_or_default();
            if theirs == heads.as_slice() {
                continue;
            }
            let doc = docs.get(conn, &name.parse()?)?;
            // Heads we do not know say nothing about what the other side lacks.
            let have: Vec<ChangeHash> =
                theirs.iter().copied().filter(|h| doc.get_change_meta_by_hash(h).is_some()).collect();
            let changes: Vec<Vec<u8>> = doc.get_changes(&have).iter().map(|c| c.raw_bytes().to_vec()).collect();
            if !changes.is_empty() {
                set.docs.push(DocChanges { doc: name, changes });
            }
        }
        drop(inner);
        set.keys = self.keys_for_docs(&set.docs)?;
        Ok(set)
    }

    /// Applies changes from another store, and keeps the data keys that come with them. Either
    /// every document of the set is applied and its query rows updated, or nothing is. Applying a
    /// change twice is harmless.
    ///
    /// # Errors
    /// [`Error::InvalidChanges`] for a malformed document name or change, or a key that is not 32
    /// bytes.
    pub fn apply_changes(&self, set: &ChangeSet) -> Result<MergeReport> {
        let keys = set.keys.iter().map(keyring::from_wire).collect::<Result<Vec<_>>>()?;
        // Changes (and keys) from another device may not have reached the server yet: they go to
        // the outbox.
        self.merge_in(set, &keys, true, |_| Ok(()))
    }

    /// Keeps `keys` (data keys that came with `set`; to be sent on with the outbox when `outbox`),
    /// applies `set` and then runs `also` in the same
    /// SQLite transaction: everything commits, or nothing does and the touched documents are
    /// reloaded from disk on next use. The documents whose records waited for one of `keys` are
    /// read again whole.
    pub(crate) fn merge_in(
        &self,
        set: &ChangeSet,
        keys: &[KeyEntry],
        outbox: bool,
        also: impl FnOnce(&Connection) -> Result<()>,
    ) -> Result<MergeReport> {
        let decoded = decode(set)?;
        let tz = self.config.timezone;
        let mut inner = self.lock()?;
        let Inner { conn, docs, .. } = &mut *inner;
        let touched: Vec<DocId> = decoded.iter().map(|(id, _)| id.clone()).collect();
        let result = write_tx(conn, |conn| {
            let mut arrived = Vec::new();
            for entry in keys {
                if keyring::receive(conn, entry, outbox)? {
                    arrived.push(entry.id);
                }
            }
            let reread = keyring::arrived(conn, &arrived)?;
            let applied = apply_decoded(conn, docs, tz, decoded, outbox)?;
            for name in reread {
                let id: DocId = name.parse()?;
                let doc = docs.get(conn, &id)?;
                materialise::refresh_all(conn, tz, &id, doc)?;
            }
            also(conn)?;
            Ok(applied)
        });
        match result {
            Ok((report, written)) => {
                self.committed(&written);
                Ok(report)
            }
            Err(e) => {
                for id in &touched {
                    docs.evict(id);
                }
                Err(e)
            }
        }
    }
}

fn decode(set: &ChangeSet) -> Result<Vec<(DocId, Vec<Change>)>> {
    set.docs
        .iter()
        .map(|d| {
            let id: DocId = d.doc.parse()?;
            let changes = d
                .changes
                .iter()
                .map(|bytes| {
                    // automerge's parser has panicked on crafted bytes, as its applying has.
                    catch_unwind(|| Change::from_bytes(bytes.clone()))
                        .map_err(|_| Error::InvalidChanges("a change could not be decoded".into()))?
                        .map_err(|e| Error::InvalidChanges(e.to_string()))
                })
                .collect::<Result<Vec<_>>>()?;
            Ok((id, changes))
        })
        .collect()
}

/// The changes a document took, and the root keys of the records they touched.
type Taken = (Vec<Change>, Vec<String>);

fn apply_decoded(
    conn: &Connection,
    docs: &mut DocCache,
    tz: Tz,
    decoded: Vec<(DocId, Vec<Change>)>,
    outbox: bool,
) -> Result<(MergeReport, Vec<(DocId, i64)>)> {
    let mut report = MergeReport::default();
    // Each document written, with the changes it now has beside its snapshot.
    let mut written = Vec::new();
    for (id, changes) in decoded {
        // An erased household's document is never kept again, whoever still sends it.
        if id.kind == crate::ids::DocKind::Household && crate::erasure::is_erased_doc(conn, &id.to_string())? {
            continue;
        }
        let doc = docs.get(conn, &id)?;
        let before = doc.get_heads();
        // automerge has panicked on crafted changes, applying them and reading them back after; one
        // bad document must not take the app down (the caller reloads it from disk).
        let outcome = catch_unwind(AssertUnwindSafe(|| -> Result<(bool, Option<Taken>)> {
            doc.apply_changes(changes)?;
            let waiting = !doc.get_missing_deps(&[]).is_empty();
            if doc.get_heads() == before {
                return Ok((waiting, None));
            }
            let new = doc.get_changes(&before);
            let mut keys: Vec<String> = doc
                .diff(&before, &doc.get_heads())
                .into_iter()
                .filter_map(|p| match p.path.first() {
                    Some((_, automerge::Prop::Map(k))) => Some(k.clone()),
                    _ => match p.action {
                        automerge::PatchAction::PutMap { key, .. } if p.obj == ROOT => Some(key),
                        _ => None,
                    },
                })
                .collect();
            keys.sort();
            keys.dedup();
            Ok((waiting, Some((new, keys))))
        }))
        .map_err(|_| Error::InvalidChanges("a change could not be decoded".into()))??;
        let (waiting, changed) = outcome;
        if waiting {
            report.docs_waiting += 1;
        }
        let Some((new, keys)) = changed else { continue };
        written.push((id.clone(), docstore::persist(conn, &id, doc, &new, outbox)?));
        materialise::refresh(conn, tz, &id, doc, keys.iter().map(String::as_str))?;
        report.docs_changed += 1;
        report.changes_applied += new.len();
    }
    Ok((report, written))
}
