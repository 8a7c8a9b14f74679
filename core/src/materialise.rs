//! Query tables from documents: every query row is derived here, and nowhere else. A row comes from
//! one record of one document (an event's row from its whole document: report, steps and photos);
//! the same function serves a local write (the record it touched), a merge (the records a diff
//! names) and a full rebuild (every record), so the three cannot drift apart.

use automerge::{Automerge, ROOT, ReadDoc};
use chrono::NaiveDate;
use rusqlite::{Connection, params};

use crate::datakey::keyring;
use crate::doc::{key, read_opened, read_record};
use crate::error::Result;
use crate::ids::{DocId, DocKind};
use crate::lifecycle::Lifecycle;
use crate::model::{
    AccessEntry, Event, EventReport, Grid, Household, HouseholdStatus, Observation, PhotoRef, Resident, ResidentStatus,
    Routine, Step, Visit,
};
use crate::sort;

/// The district time zone, needed to file visits under their local day.
pub(crate) type Tz = chrono_tz::Tz;

/// The record at `root_key` of document `id`, its sealed fields opened with the store's keys, and
/// whether every field read. A key the store lacks is noted as waited for, so that a sync asks
/// for it and the document is read again when it arrives. A record under the key of an erased
/// resident or household is `None`: never shown, never waited for.
fn opened<T: serde::de::DeserializeOwned>(
    conn: &Connection,
    id: &DocId,
    doc: &Automerge,
    root_key: &str,
) -> Result<Option<(T, bool)>> {
    let erased = std::cell::Cell::new(false);
    let keys = |key_id| {
        if crate::erasure::is_erased(conn, key_id)? {
            erased.set(true);
            return Ok(None);
        }
        keyring::get(conn, key_id)
    };
    let read = read_opened::<T>(doc, Some(id), root_key, &keys)?;
    let Some((record, readable)) = read.filter(|_| !erased.get()) else { return Ok(None) };
    if let Some((key_id, make)) = readable.wants {
        // A journal's notes are under their household's key, which belongs to its document.
        let key_doc = match id.kind {
            DocKind::Journal => DocId::household(id.grid, crate::ids::HouseholdId(key_id)),
            _ => id.clone(),
        };
        keyring::wait(conn, key_id, &key_doc.to_string(), &id.to_string(), make)?;
    }
    Ok(Some((record, readable.complete)))
}

/// As [`opened`], only a record whose every field read: a record waiting for its key has no row
/// until the key arrives, rather than one with fields blank.
fn whole<T: serde::de::DeserializeOwned>(
    conn: &Connection,
    id: &DocId,
    doc: &Automerge,
    root_key: &str,
) -> Result<Option<T>> {
    Ok(opened(conn, id, doc, root_key)?.and_then(|(record, complete)| complete.then_some(record)))
}

/// Brings the query rows of the records at `root_keys` of document `id` up to date with `doc`.
pub(crate) fn refresh<'a>(
    conn: &Connection,
    tz: Tz,
    id: &DocId,
    doc: &Automerge,
    root_keys: impl IntoIterator<Item = &'a str>,
) -> Result<()> {
    if id.kind == DocKind::Event {
        return put_event(conn, id, doc);
    }
    for root_key in root_keys {
        let (collection, _) = key::split(root_key);
        match collection {
            key::GRID => {
                if let Some(grid) = read_record::<Grid>(doc, root_key)? {
                    conn.prepare_cached("INSERT OR REPLACE INTO grids (id, name, record) VALUES (?1, ?2, ?3)")?
                        .execute(params![grid.id, grid.name, serde_json::to_string(&grid)?])?;
                }
            }
            key::HOUSEHOLD => {
                if let Some(h) = whole::<Household>(conn, id, doc, root_key)? {
                    conn.prepare_cached(
                        "INSERT OR REPLACE INTO households (id, grid_id, address_key, active, record)
                         VALUES (?1, ?2, ?3, ?4, ?5)",
                    )?
                    .execute(params![
                        h.id,
                        h.grid_id,
                        sort::address_key(&h.address),
                        h.status == HouseholdStatus::Active,
                        serde_json::to_string(&h)?
                    ])?;
                }
            }
            key::RESIDENT => {
                if let Some(r) = whole::<Resident>(conn, id, doc, root_key)? {
                    conn.prepare_cached(
                        "INSERT OR REPLACE INTO residents
                         (id, household_id, grid_id, name, id_number, phone, care_tags, present, record)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                    )?
                    .execute(params![
                        r.id,
                        r.household_id,
                        r.grid_id,
                        r.name,
                        r.id_number,
                        r.phone,
                        tag_column(&r.care_tags),
                        r.status == ResidentStatus::Present,
                        serde_json::to_string(&r)?
                    ])?;
                    crate::resident_merge::note(conn, r.id, r.merged_into)?;
                }
            }
            key::ROUTINE => {
                // An erased resident's routines go with the resident.
                if let Some(r) = whole::<Routine>(conn, id, doc, root_key)?
                    && !crate::erasure::is_erased(conn, r.resident_id.0)?
                {
                    conn.prepare_cached(
                        "INSERT OR REPLACE INTO routines (id, grid_id, resident_id, active, record)
                         VALUES (?1, ?2, ?3, ?4, ?5)",
                    )?
                    .execute(params![
                        r.id,
                        r.grid_id,
                        r.resident_id,
                        r.active,
                        serde_json::to_string(&r)?
                    ])?;
                }
            }
            key::OBSERVATION => {
                if let Some((o, _)) = opened::<Observation>(conn, id, doc, root_key)? {
                    put_entry(conn, tz, Entry::Observation(&o))?;
                }
            }
            key::VISIT => {
                if let Some((v, _)) = opened::<Visit>(conn, id, doc, root_key)? {
                    put_entry(conn, tz, Entry::Visit(&v))?;
                }
            }
            key::ACCESS => crate::access::put_row(conn, doc, root_key)?,
            // A key this build does not know was written by a newer app: kept in the document,
            // not shown.
            _ => {}
        }
    }
    Ok(())
}

/// A journal entry: a record written once, at a key of its own, and never edited. It is stored as
/// the record itself, hence untagged.
#[derive(Clone, Copy, serde::Serialize)]
#[serde(untagged)]
pub(crate) enum Entry<'a> {
    Observation(&'a Observation),
    Visit(&'a Visit),
}

impl Entry<'_> {
    /// The root key the entry is put at in its journal.
    pub(crate) fn root_key(self) -> String {
        match self {
            Entry::Observation(o) => key::of(key::OBSERVATION, o.id),
            Entry::Visit(v) => key::of(key::VISIT, v.id),
        }
    }
}

/// Writes an entry's query row.
pub(crate) fn put_entry(conn: &Connection, tz: Tz, entry: Entry<'_>) -> Result<()> {
    match entry {
        Entry::Observation(o) => {
            conn.prepare_cached(
                "INSERT OR REPLACE INTO observations (routine_id, day, id, at, by, note, outcome)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )?
            .execute(params![
                o.routine_id,
                day_number(o.day),
                o.id,
                o.at.timestamp_millis(),
                o.by,
                o.note,
                o.outcome.map(|x| x.to_string())
            ])?;
        }
        Entry::Visit(v) => {
            let day = v.at.with_timezone(&tz).date_naive();
            conn.prepare_cached(
                "INSERT OR REPLACE INTO visits
                 (id, household_id, grid_id, day, at, kind, by, purposes, notes, satisfaction)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            )?
            .execute(params![
                v.id,
                v.household_id,
                v.grid_id,
                day_number(day),
                v.at.timestamp_millis(),
                v.kind.to_string(),
                v.by,
                serde_json::to_string(&v.purposes)?,
                v.notes,
                v.satisfaction.map(|s| s.to_string())
            ])?;
        }
    }
    Ok(())
}

/// The events row of an event document: its report, its steps (and the state they lead to) and
/// its photos. Deadlines depend on the store's policy and are added when read.
fn put_event(conn: &Connection, id: &DocId, doc: &Automerge) -> Result<()> {
    let Some(report) = whole::<EventReport>(conn, id, doc, key::EVENT)? else {
        // Steps that arrived before their report, or a report waiting for its key: the row
        // appears when both are here.
        return Ok(());
    };
    let mut steps: Vec<Step> = Vec::new();
    let mut photos: Vec<PhotoRef> = Vec::new();
    for root_key in doc.keys(ROOT) {
        match key::split(&root_key).0 {
            key::STEP => match opened::<Step>(conn, id, doc, &root_key)? {
                Some((step, true)) => steps.push(step),
                Some((_, false)) => return Ok(()),
                None => {}
            },
            key::PHOTO => photos.extend(read_record::<PhotoRef>(doc, &root_key)?),
            _ => {}
        }
    }
    steps.sort_by_key(|s| (s.at, s.id));
    photos.sort_by_key(|p| (p.taken_at, p.id));
    let life = Lifecycle::replay(report.urgency, &steps);
    let event = Event {
        id: report.id,
        grid_id: report.grid_id,
        household_id: report.household_id,
        category: report.category,
        title: report.title,
        description: report.description,
        location: report.location,
        urgency: report.urgency,
        reported_at: report.reported_at,
        reported_by: report.reported_by,
        state: life.state,
        level: life.level,
        department: life.department,
        deadline_at: report.reported_at,
        overdue: false,
        steps,
        photos,
    };
    conn.prepare_cached(
        "INSERT OR REPLACE INTO events (id, grid_id, state, open, urgency, reported_at, deadline_met_at, record)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?
    .execute(params![
        event.id,
        event.grid_id,
        event.state.to_string(),
        event.state.is_open(),
        event.urgency.to_string(),
        event.reported_at.timestamp_millis(),
        life.deadline_met_at.map(|t| t.timestamp_millis()),
        serde_json::to_string(&event)?
    ])?;
    Ok(())
}

/// Deletes the query rows of every record of `doc`, a document leaving the store: the rows that
/// [`refresh_all`] would write for it.
pub(crate) fn forget(conn: &Connection, id: &DocId, doc: &Automerge) -> Result<()> {
    if id.kind == DocKind::Event {
        if let Some(report) = read_record::<EventReport>(doc, key::EVENT)? {
            conn.execute("DELETE FROM events WHERE id = ?1", params![report.id])?;
        }
        return Ok(());
    }
    for root_key in doc.keys(ROOT) {
        match key::split(&root_key).0 {
            key::GRID => {
                if let Some(g) = read_record::<Grid>(doc, &root_key)? {
                    conn.execute("DELETE FROM grids WHERE id = ?1", params![g.id])?;
                }
            }
            key::HOUSEHOLD => {
                if let Some(h) = read_record::<Household>(doc, &root_key)? {
                    conn.execute("DELETE FROM households WHERE id = ?1", params![h.id])?;
                }
            }
            key::RESIDENT => {
                if let Some(r) = read_record::<Resident>(doc, &root_key)? {
                    conn.execute("DELETE FROM residents WHERE id = ?1", params![r.id])?;
                    crate::resident_merge::note(conn, r.id, None)?;
                }
            }
            key::ROUTINE => {
                if let Some(r) = read_record::<Routine>(doc, &root_key)? {
                    conn.execute("DELETE FROM routines WHERE id = ?1", params![r.id])?;
                }
            }
            key::OBSERVATION => {
                if let Some(o) = read_record::<Observation>(doc, &root_key)? {
                    conn.execute(
                        "DELETE FROM observations WHERE routine_id = ?1 AND day = ?2 AND id = ?3",
                        params![o.routine_id, day_number(o.day), o.id],
                    )?;
                }
            }
            key::VISIT => {
                if let Some(v) = read_record::<Visit>(doc, &root_key)? {
                    conn.execute("DELETE FROM visits WHERE id = ?1", params![v.id])?;
                }
            }
            key::ACCESS => {
                if let Some(a) = read_record::<AccessEntry>(doc, &root_key)? {
                    conn.execute("DELETE FROM access_log WHERE id = ?1", params![a.id])?;
                }
            }
            _ => {}
        }
    }
    Ok(())
}

/// Every record of `doc`.
pub(crate) fn refresh_all(conn: &Connection, tz: Tz, id: &DocId, doc: &Automerge) -> Result<()> {
    let keys: Vec<String> = doc.keys(ROOT).collect();
    refresh(conn, tz, id, doc, keys.iter().map(String::as_str))
}

/// Care tags as `,tag,tag,` so that `LIKE '%,tag,%'` finds one exactly.
pub(crate) fn tag_column<T: std::fmt::Display>(tags: impl IntoIterator<Item = T>) -> String {
    let mut s = String::from(",");
    for t in tags {
        s.push_str(&t.to_string());
        s.push(',');
    }
    s
}

/// Days since 1970-01-01, the form local days take in the query tables.
pub(crate) fn day_number(day: NaiveDate) -> i64 {
    (day - NaiveDate::default()).num_days()
}
