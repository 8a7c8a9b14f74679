//! Revealing full ID numbers and phones, on purpose: every reveal names why, and is written into
//! the access log before the full values are handed out. The log is an automerge document per
//! grid and month (`a/{grid}/{YYYY-MM}`, [`DocKind::Access`](crate::DocKind::Access)), one entry
//! per reveal written once as one JSON string at a key of its own, so it syncs, is signed and is
//! scoped like every other document, and the server refuses any change that would remove or
//! replace an entry. Who revealed is read from the change that wrote the entry (its actor, which
//! the server verified), not from what the entry says.

use automerge::{Automerge, ObjId, ROOT, ReadDoc};
use rusqlite::{Connection, params};

use crate::doc::{key, read_record, write_entry};
use crate::error::{Error, Result};
use crate::ids::{DocId, EntryId, GridId, HouseholdId, ResidentId};
use crate::model::{AccessAction, AccessEntry, Household, Resident};
use crate::store::Store;
use crate::sync::known_author;
use crate::validate::text;

const ID_NUMBER: &str = "id_number";
const PHONE: &str = "phone";

/// At most this many characters of reason: a sentence, not a file.
const MAX_REASON: usize = 500;

impl Store {
    /// A resident with the full ID number and phone, for `reason`: the reveal is written into the
    /// access log of the resident's grid first (who, when, which resident, which fields, why), and
    /// syncs to the district's server with the rest of the store's work.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] if `reason` is empty or too long; [`Error::NotFound`] for an
    /// unknown resident; [`Error::Storage`] if the log entry cannot be written (nothing is
    /// revealed then).
    pub fn reveal_resident(&self, id: ResidentId, reason: &str) -> Result<Resident> {
        let reason = reason_given(reason)?;
        let r = self.resident_full(id)?;
        self.log_access(r.grid_id, AccessAction::RevealResident, vec![r.id.to_string()], &[ID_NUMBER, PHONE], reason)?;
        Ok(r)
    }

    /// A household with its full phone, for `reason`, logged as [`Store::reveal_resident`] is.
    ///
    /// # Errors
    /// As [`Store::reveal_resident`], with [`Error::NotFound`] for an unknown household.
    pub fn reveal_household(&self, id: HouseholdId, reason: &str) -> Result<Household> {
        let reason = reason_given(reason)?;
        let h = self.household_full(id)?;
        self.log_access(h.grid_id, AccessAction::RevealHousehold, vec![h.id.to_string()], &[PHONE], reason)?;
        Ok(h)
    }

    /// Every present resident of a grid's active households with full ID numbers and phones, for
    /// an export of the grid's roster: one entry of the grid's access log names the export, its
    /// reason and every resident in it. Residents come household by household, in address order.
    ///
    /// # Errors
    /// As [`Store::reveal_resident`], with [`Error::NotFound`] for an unknown grid.
    pub fn reveal_roster(&self, grid: GridId, reason: &str) -> Result<Vec<Resident>> {
        let reason = reason_given(reason)?;
        self.grid(grid)?;
        let residents: Vec<Resident> = self.read(|c| {
            crate::db::query::rows(
                c,
                "SELECT r.record FROM residents r JOIN households h ON h.id = r.household_id
                 WHERE h.grid_id = ?1 AND h.active AND r.present
                   AND r.id NOT IN (SELECT other FROM resident_merges WHERE root <> other)
                 ORDER BY h.address_key, h.id, r.id",
                params![grid],
            )
        })?;
        let records = residents.iter().map(|r| r.id.to_string()).collect();
        self.log_access(grid, AccessAction::ExportRoster, records, &[ID_NUMBER, PHONE], reason)?;
        Ok(residents)
    }

    /// The access log this store holds, newest first: its own reveals and those of other devices
    /// in its grids that the server sent it.
    ///
    /// # Errors
    /// [`Error::Storage`] if the store cannot be read; [`Error::Record`] if an entry does not read.
    pub fn access_log(&self) -> Result<Vec<AccessEntry>> {
        self.read(|c| {
            let mut stmt = c.prepare_cached("SELECT actor, record FROM access_log ORDER BY at DESC, id DESC")?;
            let rows = stmt.query_map([], |r| Ok((r.get::<_, Vec<u8>>(0)?, r.get::<_, String>(1)?)))?;
            let mut entries = Vec::new();
            for row in rows {
                let (actor, record) = row?;
                let mut entry: AccessEntry = serde_json::from_str(&record)?;
                if let Some(author) = known_author(c, &actor)? {
                    entry.verified = true;
                    entry.device = author.device;
                    if !author.holder.is_empty() {
                        entry.by = author.holder;
                    }
                }
                entry.actor = hex::encode(actor);
                entries.push(entry);
            }
            Ok(entries)
        })
    }

    /// Writes one entry into the grid's access log of this month, as one change.
    fn log_access(
        &self,
        grid: GridId,
        action: AccessAction,
        records: Vec<String>,
        fields: &[&str],
        reason: String,
    ) -> Result<()> {
        let at = self.now();
        let who = self.author();
        let entry = AccessEntry {
            id: EntryId::new(),
            grid_id: grid,
            at,
            by: who.user,
            device: who.device,
            actor: String::new(),
            verified: false,
            action,
            records,
            fields: fields.iter().map(|f| f.to_string()).collect(),
            reason,
        };
        let root_key = key::of(key::ACCESS, entry.id);
        let day = at.with_timezone(&self.config.timezone).date_naive();
        self.edit(&DocId::access(grid, day), &action.to_string(), |tx| {
            write_entry(tx, &root_key, &entry, None)?;
            Ok(((), vec![root_key.clone()]))
        })
    }
}

/// The reason given for a reveal, trimmed: required.
fn reason_given(reason: &str) -> Result<String> {
    let reason = text("reason", reason)?;
    if reason.is_empty() {
        return Err(Error::invalid("reason", "say why the full number is needed"));
    }
    if reason.chars().count() > MAX_REASON {
        return Err(Error::invalid("reason", format!("at most {MAX_REASON} characters")));
    }
    Ok(reason)
}

/// The query row of the access-log entry at `root_key` of `doc`, with the actor of the change
/// that wrote it.
pub(crate) fn put_row(conn: &Connection, doc: &Automerge, root_key: &str) -> Result<()> {
    let Some(entry) = read_record::<AccessEntry>(doc, root_key)? else { return Ok(()) };
    let Some((_, ObjId::Id(_, actor, _))) = doc.get(ROOT, root_key)? else { return Ok(()) };
    conn.prepare_cached(
        "INSERT OR REPLACE INTO access_log (id, grid_id, at, actor, record) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![
        entry.id,
        entry.grid_id,
        entry.at.timestamp_millis(),
        actor.to_bytes(),
        serde_json::to_string(&entry)?
    ])?;
    Ok(())
}
