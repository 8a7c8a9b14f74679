//! The erasure sections of a round, on the store's side: the erasures this store asks for and the
//! last notice it carried out go up; the server's notices, its refusals and keys it refused as
//! erased come back and are carried out (`crate::erasure`); then what SQLite keeps of the deleted
//! rows is purged. A `resync` answer makes the store drop its keys and ask the server for each
//! again ([`Store::forget_keys_for_resync`]).
//!
//! The last notice carried out (`erased_since`) moves on only once the purge is done: a store that
//! dies between the deletion and the purge is sent the same notices again, carries them out again
//! (no harm) and purges then.

use rusqlite::Connection;
use serde::Serialize;
use uuid::Uuid;

use super::RefusalReason;
use super::rounds::{Prepared, meta, set_meta};
use super::wire::{EraseRequest, ErasedKind, SyncResponse};
use crate::db::{self, schema, write_tx};
use crate::docstore;
use crate::erasure::{Erasing, carry_out, erasing_for_key};
use crate::error::{Error, Result};
use crate::ids::{DocId, DocKind};
use crate::maintenance::Maintenance;
use crate::materialise;
use crate::store::{Inner, Store};

const ERASED_SINCE: &str = "erasure.since";

/// How often a checkpoint that finds another connection in the WAL is tried again before the
/// purge gives up (and the next sync does it).
const CHECKPOINT_TRIES: u32 = 10;

/// What the erasure sections of a sync did on this store.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ErasureReport {
    /// Residents and households erased on this store.
    pub erased: u64,
    /// This store's changes not yet sent to households that were erased: they went with them
    /// (the server refuses anything written into an erased household).
    pub discarded_changes: u64,
    /// This store missed notices the server no longer keeps: it dropped its data keys and asks
    /// the server for each again, which erases here what the server erased (its work is kept).
    pub resynced: bool,
}

impl ErasureReport {
    pub(crate) fn add(&mut self, other: ErasureReport) {
        self.erased += other.erased;
        self.discarded_changes += other.discarded_changes;
        self.resynced |= other.resynced;
    }
}

/// The erasures this store asks for that the server has neither carried out nor refused.
pub(super) fn requests(c: &Connection) -> Result<Vec<EraseRequest>> {
    let mut stmt = c.prepare_cached(
        "SELECT id, doc, kind, reason FROM erase_requests WHERE refused IS NULL AND id NOT IN (SELECT id FROM erased)
         ORDER BY requested_at, id",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok((r.get::<_, Uuid>(0)?, r.get::<_, String>(1)?, r.get::<_, i64>(2)?, r.get::<_, String>(3)?))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (id, doc, kind, reason) = row?;
        let kind = if kind == 1 { ErasedKind::Household } else { ErasedKind::Resident };
        out.push(EraseRequest { id: id.into_bytes(), doc, kind, reason });
    }
    Ok(out)
}

/// The last notice this store carried out and purged.
pub(super) fn erased_since(c: &Connection) -> Result<u64> {
    Ok(meta(c, ERASED_SINCE)?.and_then(|s| s.parse().ok()).unwrap_or(0))
}

impl Store {
    /// Carries out the erasures `response` announces (notices, and keys this request asked for or
    /// sent that the server refused as erased) and keeps its refusals of this request's
    /// erasures, in one transaction. Returns what was erased, and whether anything was carried
    /// out (again or not): the database is then purged.
    pub(super) fn carry_out_erasures(
        &self,
        prepared: &Prepared,
        response: &SyncResponse,
    ) -> Result<(ErasureReport, bool)> {
        let mut erasing: Vec<Erasing> =
            response.erased.iter().filter_map(|n| notice(n.id, &n.doc, n.kind, n.seq)).collect();
        for refused in response.key_refused.iter().filter(|r| r.reason == RefusalReason::Erased) {
            let asked = prepared.request.wants.iter().map(|w| (w.id, &w.doc));
            let sent = prepared.request.keys.iter().map(|k| (k.id, &k.doc));
            if let Some((id, doc)) = asked.chain(sent).find(|(id, _)| *id == refused.id) {
                erasing.extend(erasing_for_key(Uuid::from_bytes(id), doc, 0));
            }
        }
        // Only refusals of erasures this request carried: a reply cannot refuse what was not asked.
        let refusals: Vec<_> = response
            .erase_refused
            .iter()
            .filter(|r| prepared.request.erase.iter().any(|e| e.id == r.id))
            .map(|r| (Uuid::from_bytes(r.id), r.reason.as_str()))
            .collect();
        if erasing.is_empty() && refusals.is_empty() {
            return Ok((ErasureReport::default(), false));
        }
        let mut inner = self.lock()?;
        let Inner { conn, docs, .. } = &mut *inner;
        let report = write_tx(conn, |c| {
            let mut report = ErasureReport::default();
            for e in &erasing {
                let done = carry_out(c, docs, e)?;
                report.discarded_changes += done.discarded;
                report.erased += u64::from(done.new);
            }
            let mut refuse = c.prepare_cached("UPDATE erase_requests SET refused = ?2 WHERE id = ?1")?;
            for (id, reason) in &refusals {
                refuse.execute(rusqlite::params![id, reason])?;
            }
            Ok(report)
        });
        if report.is_err() {
            docs.clear();
        }
        drop(inner);
        self.committed(&[]);
        Ok((report?, !erasing.is_empty()))
    }

    /// Keeps `seq` as the last notice carried out, once the purge that follows it is done.
    pub(super) fn erased_through(&self, seq: u64) -> Result<()> {
        self.write(|c| {
            if seq > erased_since(c)? {
                set_meta(c, ERASED_SINCE, &seq.to_string())?;
            }
            Ok(())
        })
    }

    /// Purges what SQLite keeps of deleted rows: the WAL checkpointed into the database and cut to
    /// nothing, the database rebuilt without its free pages (`VACUUM`, its copy in memory:
    /// `temp_store` is `MEMORY`, so no temporary file holds it), and that checkpointed and cut
    /// again. The maintenance connection is closed meanwhile, so that no read of this process
    /// holds the WAL.
    ///
    /// # Errors
    /// [`Error::Busy`] when another process keeps reading the WAL (the next sync purges again);
    /// [`Error::Storage`] if the database cannot be rewritten.
    pub(crate) fn purge(&self) -> Result<()> {
        let inner = self.lock()?;
        let mut maintenance = self.maintenance.write().unwrap_or_else(|p| p.into_inner());
        maintenance.take();
        let path = self.dir.join(db::FILE_NAME);
        let purged = truncate_wal(&inner.conn, &path)
            .and_then(|()| Ok(inner.conn.execute_batch("VACUUM")?))
            .and_then(|()| truncate_wal(&inner.conn, &path));
        *maintenance = Some(Maintenance::start(&path, inner.key.as_ref())?);
        purged
    }

    /// Starts over from the server's keys, after notices this store missed were pruned: every data
    /// key it holds goes (but those the server has not acknowledged), with every query row and key
    /// wait, and the documents are read again, so that each record waits for its key and the next
    /// rounds ask the server for it. The server sends the key of every record that stands and
    /// refuses, as erased, those of the records it erased, which the store then erases: it ends
    /// up with what the server's copy has. The documents stay: the server never sends a store its
    /// own changes back, so a store that dropped them would lose its own work and hold documents
    /// that lack their dependencies.
    pub(super) fn forget_keys_for_resync(&self) -> Result<()> {
        let tz = self.config.timezone;
        let mut inner = self.lock()?;
        let Inner { conn, docs, .. } = &mut *inner;
        docs.clear();
        write_tx(conn, |c| {
            c.execute("DELETE FROM data_keys WHERE NOT unsent", [])?;
            c.execute("DELETE FROM key_waits", [])?;
            for table in schema::QUERY_TABLES {
                c.execute(&format!("DELETE FROM {table}"), [])?;
            }
            for (name, _) in docstore::all_heads(c)? {
                let id: DocId = name.parse()?;
                if let Some(doc) = docstore::load(c, &id)? {
                    materialise::refresh_all(c, tz, &id, &doc)?;
                }
            }
            Ok(())
        })?;
        drop(inner);
        self.committed(&[]);
        Ok(())
    }
}

/// A notice as this store carries it out; `None` for one whose document cannot hold its record
/// (a household's own document is named by its id; a resident lives in a household's document).
fn notice(id: [u8; 16], doc: &str, kind: ErasedKind, seq: u64) -> Option<Erasing> {
    let id = Uuid::from_bytes(id);
    let doc: DocId = doc.parse().ok()?;
    let own = doc.part == id.to_string();
    let fits = doc.kind == DocKind::Household && own == (kind == ErasedKind::Household);
    fits.then_some(Erasing { id, doc, kind, seq })
}

/// `wal_checkpoint(TRUNCATE)` until it reports that it copied the whole WAL and cut the file to
/// nothing; a reader of another process may hold it for a while.
fn truncate_wal(conn: &Connection, path: &std::path::Path) -> Result<()> {
    let wal = std::path::PathBuf::from(format!("{}-wal", path.display()));
    for attempt in 0..CHECKPOINT_TRIES {
        let busy: i64 = conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| r.get(0))?;
        let empty = std::fs::metadata(&wal).map_or(true, |m| m.len() == 0);
        if busy == 0 && empty {
            return Ok(());
        }
        std::thread::sleep(std::time::Duration::from_millis(20 << attempt.min(5)));
    }
    Err(Error::Busy)
}
