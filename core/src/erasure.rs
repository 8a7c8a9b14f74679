//! Erasure on this store (issue 17, part 3): asking the district's server to erase a resident or a
//! household, and carrying out the erasures it announces.
//!
//! Asking changes nothing here: the request waits in `erase_requests` for the next sync, and the
//! record stays until the server's notice comes back, since the server may refuse (a grid member
//! may not erase). Carrying out a notice (`sync::erasure` brings them) destroys the store's copy of
//! the record's data key, so that what the documents hold of it — every copy, every history — stays
//! ciphertext no one can open, and deletes the plaintext the query tables held. The erased ids stay
//! in `erased` for good: a record whose key id is there is never materialised, waited for or
//! written again, and a key that arrives for it is dropped.

use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;
use uuid::Uuid;

use crate::docstore::{self, DocCache};
use crate::error::{Error, Result};
use crate::ids::{DocId, DocKind, HouseholdId, ResidentId};
use crate::materialise;
use crate::store::Store;
use crate::sync::RefusalReason;
use crate::sync::wire::{ErasedKind, MAX_ERASE_REASON};

/// Where an erasure of a record stands on this store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "state", content = "reason", rename_all = "snake_case")]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
pub enum ErasureState {
    /// No erasure of the record was asked for here or announced by the server.
    NotRequested,
    /// Asked for on this store; the next sync sends it, and the record stays until the server's
    /// notice comes back.
    Requested,
    /// The server refused it (a role that may not erase, a record outside this device's scope):
    /// nothing was erased.
    Refused { reason: RefusalReason },
    /// Erased: this store holds neither the record's key nor its plaintext.
    Erased,
}

/// An erasure this store knows of, as `gridbook erasures` lists them: ids and state, never a name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Erasure {
    /// The resident's or household's id.
    pub id: Uuid,
    /// `resident` or `household`.
    pub kind: &'static str,
    pub state: ErasureState,
}

impl Store {
    /// Asks the district's server to erase resident `id`: its data key destroyed and its fields
    /// deleted on every device, the server included. The next sync sends the request; the
    /// resident stays here until the server's notice comes back with a sync
    /// ([`Store::erasure_state`] says where it stands). Only the village's secretary or the
    /// district centre may erase: the server refuses anyone else's request.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for an empty reason or one over [`MAX_ERASE_REASON`] bytes;
    /// [`Error::NotFound`] for an unknown resident; [`Error::Erased`] for one already erased.
    pub fn erase_resident(&self, id: ResidentId, reason: &str) -> Result<()> {
        let reason = checked_reason(reason)?;
        let r = self.resident_full(id)?;
        self.ask(id.0, &DocId::household(r.grid_id, r.household_id), ErasedKind::Resident, reason)
    }

    /// Asks the district's server to erase household `id` with all its residents, as
    /// [`Store::erase_resident`] does for one.
    ///
    /// # Errors
    /// As [`Store::erase_resident`], for the household.
    pub fn erase_household(&self, id: HouseholdId, reason: &str) -> Result<()> {
        let reason = checked_reason(reason)?;
        let h = self.household_full(id)?;
        self.ask(id.0, &DocId::household(h.grid_id, id), ErasedKind::Household, reason)
    }

    fn ask(&self, id: Uuid, doc: &DocId, kind: ErasedKind, reason: &str) -> Result<()> {
        let at = self.now().timestamp_millis();
        self.write(|c| {
            // Asked again after a refusal, it goes again.
            c.execute(
                "INSERT INTO erase_requests (id, doc, kind, reason, requested_at, refused) VALUES (?1, ?2, ?3, ?4, ?5, NULL)
                 ON CONFLICT (id) DO UPDATE SET reason = excluded.reason, requested_at = excluded.requested_at,
                 refused = NULL",
                params![id, doc.to_string(), kind_code(kind), reason, at],
            )?;
            Ok(())
        })
    }

    /// Where an erasure of the resident or household `id` stands on this store.
    ///
    /// # Errors
    /// [`Error::Storage`] if the store cannot be read; [`Error::Wiped`] once it is wiped.
    pub fn erasure_state(&self, id: Uuid) -> Result<ErasureState> {
        self.read(|c| state(c, id))
    }

    /// Every erasure this store asked for or carried out, erased ones first.
    ///
    /// # Errors
    /// [`Error::Storage`] if the store cannot be read.
    pub fn erasures(&self) -> Result<Vec<Erasure>> {
        self.read(|c| {
            let mut out = Vec::new();
            let mut stmt = c.prepare("SELECT id, kind FROM erased ORDER BY seq, id")?;
            for row in stmt.query_map([], |r| Ok((r.get::<_, Uuid>(0)?, r.get::<_, i64>(1)?)))? {
                let (id, kind) = row?;
                out.push(Erasure { id, kind: kind_name(kind), state: ErasureState::Erased });
            }
            let mut stmt = c.prepare(
                "SELECT id, kind FROM erase_requests WHERE id NOT IN (SELECT id FROM erased) ORDER BY requested_at, id",
            )?;
            for row in stmt.query_map([], |r| Ok((r.get::<_, Uuid>(0)?, r.get::<_, i64>(1)?)))? {
                let (id, kind) = row?;
                out.push(Erasure { id, kind: kind_name(kind), state: state(c, id)? });
            }
            Ok(out)
        })
    }

    /// [`Error::Erased`] if record `id` (whose key id it is) was erased: no write may bring it back.
    pub(crate) fn refuse_erased(&self, id: Uuid, what: &'static str) -> Result<()> {
        if self.read(|c| is_erased(c, id))? {
            return Err(Error::erased(what, id));
        }
        Ok(())
    }
}

fn checked_reason(reason: &str) -> Result<&str> {
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(Error::invalid("reason", "say why the record is erased"));
    }
    if reason.len() > MAX_ERASE_REASON {
        return Err(Error::invalid("reason", format!("at most {MAX_ERASE_REASON} bytes")));
    }
    Ok(reason)
}

fn state(c: &Connection, id: Uuid) -> Result<ErasureState> {
    if is_erased(c, id)? {
        return Ok(ErasureState::Erased);
    }
    let asked: Option<Option<String>> = c
        .prepare_cached("SELECT refused FROM erase_requests WHERE id = ?1")?
        .query_row([id], |r| r.get(0))
        .optional()?;
    Ok(match asked {
        None => ErasureState::NotRequested,
        Some(None) => ErasureState::Requested,
        Some(Some(reason)) => ErasureState::Refused { reason: RefusalReason::parse(&reason) },
    })
}

pub(crate) fn kind_code(kind: ErasedKind) -> i64 {
    match kind {
        ErasedKind::Resident => 0,
        ErasedKind::Household => 1,
    }
}

fn kind_name(code: i64) -> &'static str {
    if code == 1 { "household" } else { "resident" }
}

/// Whether record `id` (a resident's or household's key id) was erased.
pub(crate) fn is_erased(conn: &Connection, id: Uuid) -> Result<bool> {
    Ok(conn.prepare_cached("SELECT 1 FROM erased WHERE id = ?1")?.query_row([id], |_| Ok(())).optional()?.is_some())
}

/// Whether `doc` is the document of an erased household: it is never kept or written again.
pub(crate) fn is_erased_doc(conn: &Connection, doc: &str) -> Result<bool> {
    Ok(conn
        .prepare_cached("SELECT 1 FROM erased WHERE doc = ?1 AND kind = 1")?
        .query_row([doc], |_| Ok(()))
        .optional()?
        .is_some())
}

/// One erasure to carry out: a notice of the server's (`seq`), or a key the server refused as
/// erased (`seq` 0: a store that started after the notice learns of it so).
#[derive(Debug, Clone)]
pub(crate) struct Erasing {
    pub id: Uuid,
    pub doc: DocId,
    pub kind: ErasedKind,
    pub seq: u64,
}

/// What carrying out one erasure did.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct CarriedOut {
    /// The record was not erased here before (a notice carried out again, after a purge that did
    /// not finish, is not counted twice).
    pub new: bool,
    /// This store's unsent changes that went with an erased household's document.
    pub discarded: u64,
}

/// Carries out `e` in the caller's transaction: the key destroyed, the id recorded, the waits for
/// it dropped and its plaintext deleted; for a household, its whole document goes too. Carrying
/// out an erasure again does no harm.
pub(crate) fn carry_out(conn: &Connection, docs: &mut DocCache, e: &Erasing) -> Result<CarriedOut> {
    let new = !is_erased(conn, e.id)?;
    let discarded = carry_out_again(conn, docs, e)?;
    Ok(CarriedOut { new, discarded })
}

fn carry_out_again(conn: &Connection, docs: &mut DocCache, e: &Erasing) -> Result<u64> {
    let doc = e.doc.to_string();
    note_erased(conn, e.id, &doc, e.kind, e.seq)?;
    match e.kind {
        ErasedKind::Resident => {
            forget_resident(conn, e.id)?;
            Ok(0)
        }
        ErasedKind::Household => {
            // A document that does not load is deleted all the same, its rows found by the
            // household's id: a damaged copy must not keep an erasure from being carried out.
            let loaded = docstore::load(conn, &e.doc).ok().flatten();
            docs.evict(&e.doc);
            let mut residents: Vec<Uuid> = conn
                .prepare_cached("SELECT id FROM residents WHERE household_id = ?1")?
                .query_map([e.id], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?;
            let mut routines: Vec<Uuid> = Vec::new();
            if let Some(loaded) = &loaded {
                for root_key in automerge::ReadDoc::keys(loaded, automerge::ROOT) {
                    let (collection, id) = crate::doc::key::split(&root_key);
                    match (collection, Uuid::parse_str(id)) {
                        (crate::doc::key::RESIDENT, Ok(id)) => residents.push(id),
                        (crate::doc::key::ROUTINE, Ok(id)) => routines.push(id),
                        _ => {}
                    }
                }
                // Rows of records that do not read are deleted by id below.
                materialise::forget(conn, &e.doc, loaded).ok();
            }
            residents.sort();
            residents.dedup();
            for resident in &residents {
                note_erased(conn, *resident, &doc, ErasedKind::Resident, e.seq)?;
                forget_resident(conn, *resident)?;
            }
            for routine in &routines {
                conn.execute("DELETE FROM observations WHERE routine_id = ?1", [routine])?;
                conn.execute("DELETE FROM routines WHERE id = ?1", [routine])?;
            }
            conn.execute("DELETE FROM visits WHERE household_id = ?1", [e.id])?;
            conn.execute("DELETE FROM households WHERE id = ?1", [e.id])?;
            conn.execute("DELETE FROM data_keys WHERE doc = ?1 OR id = ?2", params![doc, e.id])?;
            conn.execute("DELETE FROM key_waits WHERE id = ?1 OR doc = ?2 OR key_doc = ?2", params![e.id, doc])?;
            let unsent: i64 =
                conn.query_row("SELECT COUNT(*) FROM changes WHERE doc_id = ?1 AND unsent", [&doc], |r| r.get(0))?;
            docstore::remove(conn, &doc)?;
            conn.execute("DELETE FROM sync_refusals WHERE doc = ?1", [&doc])?;
            Ok(unsent as u64)
        }
    }
}

fn note_erased(conn: &Connection, id: Uuid, doc: &str, kind: ErasedKind, seq: u64) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO erased (id, doc, kind, seq) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (id) DO UPDATE SET seq = MAX(seq, excluded.seq)",
    )?
    .execute(params![id, doc, kind_code(kind), seq as i64])?;
    conn.prepare_cached("DELETE FROM erase_requests WHERE id = ?1")?.execute([id])?;
    Ok(())
}

fn forget_keys(conn: &Connection, id: Uuid) -> Result<()> {
    conn.prepare_cached("DELETE FROM data_keys WHERE id = ?1")?.execute([id])?;
    conn.prepare_cached("DELETE FROM key_waits WHERE id = ?1")?.execute([id])?;
    Ok(())
}

/// A resident's query rows: its row (which lists, search and duplicates read), its merges, and
/// its curtain-check routines with their checks (their notes are about the person).
fn forget_resident(conn: &Connection, id: Uuid) -> Result<()> {
    forget_keys(conn, id)?;
    conn.prepare_cached("DELETE FROM residents WHERE id = ?1")?.execute([id])?;
    conn.prepare_cached(
        "DELETE FROM observations WHERE routine_id IN (SELECT id FROM routines WHERE resident_id = ?1)",
    )?
    .execute([id])?;
    conn.prepare_cached("DELETE FROM routines WHERE resident_id = ?1")?.execute([id])?;
    crate::resident_merge::note(conn, ResidentId(id), None)?;
    Ok(())
}

/// What a key of record `id` of document `doc` that the server refused as erased stands for: the
/// household's erasure if it is the household's own key, else its resident's. Only a household's
/// records are erased.
pub(crate) fn erasing_for_key(id: Uuid, doc: &str, seq: u64) -> Option<Erasing> {
    let doc: DocId = doc.parse().ok()?;
    if doc.kind != DocKind::Household {
        return None;
    }
    let kind = if doc.part == id.to_string() { ErasedKind::Household } else { ErasedKind::Resident };
    Some(Erasing { id, doc, kind, seq })
}
