//! Visits to households, and the coverage figures the centre watches.

use chrono::{DateTime, NaiveDate};
use rusqlite::{Row, params};

use crate::db::query::grid_of;
use crate::error::{Error, Result};
use crate::ids::{DocId, GridId, HouseholdId, ResidentId, VisitId};
use crate::materialise::{Entry, day_number};
use crate::model::*;
use crate::store::Store;

impl Store {
    /// Records a visit: one change holds the visit with all its purposes and notes.
    ///
    /// # Errors
    /// [`Error::NotFound`] for an unknown household; [`Error::InvalidInput`] for a satisfaction on a
    /// visit that is not a follow-up, or a visit in the future.
    pub fn record_visit(&self, household: HouseholdId, new: NewVisit) -> Result<Visit> {
        let grid = self.read(|c| grid_of(c, "SELECT grid_id FROM households WHERE id = ?1", household, "household"))?;
        if new.satisfaction.is_some() && new.kind != VisitKind::FollowUp {
            return Err(Error::invalid("satisfaction", "is asked on follow-up visits only"));
        }
        let now = self.now();
        let at = new.at.unwrap_or(now);
        if at > now + chrono::Duration::minutes(5) {
            return Err(Error::invalid("visit time", "is in the future"));
        }
        let visit = Visit {
            id: VisitId::new(),
            household_id: household,
            grid_id: grid,
            kind: new.kind,
            at,
            by: self.author().user,
            purposes: purposes(&new.purposes)?,
            notes: crate::validate::text("notes", &new.notes)?,
            satisfaction: new.satisfaction,
        };
        let day = at.with_timezone(&self.config.timezone).date_naive();
        let seal = self.seal_for(household.0, &DocId::household(grid, household), false)?;
        self.append(&DocId::journal(grid, day), "record visit", Entry::Visit(&visit), seal)?;
        Ok(visit)
    }

    /// A household's visits, newest first.
    pub fn visits_of(&self, household: HouseholdId) -> Result<Vec<Visit>> {
        self.household(household)?;
        self.read(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT id, household_id, grid_id, kind, at, by, purposes, notes, satisfaction
                 FROM visits WHERE household_id = ?1 ORDER BY at DESC, id DESC",
            )?;
            let rows = stmt.query_map([household], visit_row)?;
            rows.map(|r| r?).collect()
        })
    }

    /// The visits to a resident's household and to the households of the residents merged into it
    /// ([`Store::merge_residents`]), newest first: visits are to households, and the one a duplicate
    /// record was entered in is where the person was visited. A merged resident's are those of the
    /// resident it was merged into.
    ///
    /// # Errors
    /// [`Error::NotFound`] for an unknown resident.
    pub fn visits_of_resident(&self, resident: ResidentId) -> Result<Vec<Visit>> {
        let r = self.resident(resident)?;
        let who = r.merged_into.unwrap_or(r.id);
        self.read(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT id, household_id, grid_id, kind, at, by, purposes, notes, satisfaction
                 FROM visits WHERE household_id IN (
                     SELECT household_id FROM residents WHERE id = ?1 OR id IN
                         (SELECT other FROM resident_merges WHERE root = ?1 AND other <> ?1))
                 ORDER BY at DESC, id DESC",
            )?;
            let rows = stmt.query_map([who], visit_row)?;
            rows.map(|r| r?).collect()
        })
    }

    /// Households visited in a grid between two local days (inclusive), out of those not moved out.
    pub fn coverage(&self, grid: GridId, from: NaiveDate, to: NaiveDate) -> Result<Coverage> {
        self.grid(grid)?;
        if from > to {
            return Err(Error::invalid("date range", "starts after it ends"));
        }
        self.read(|c| {
            let (households, visited) = c
                .prepare_cached(
                    // Per household, a probe of its own visits: the cost is the grid's households, not
                    // the month's visits times them.
                    "SELECT COUNT(*), COALESCE(SUM(EXISTS (
                        SELECT 1 FROM visits v WHERE v.household_id = h.id AND v.day BETWEEN ?2 AND ?3)), 0)
                 FROM households h WHERE h.grid_id = ?1 AND h.active",
                )?
                .query_row(params![grid, day_number(from), day_number(to)], |r| Ok((r.get(0)?, r.get(1)?)))?;
            Ok(Coverage { grid_id: grid, from, to, households, visited })
        })
    }

    /// Each household of a grid (address order) with its most recent visit.
    pub fn last_visits(&self, grid: GridId) -> Result<Vec<LastVisit>> {
        self.grid(grid)?;
        self.read(|c| {
            let mut stmt = c.prepare_cached(
                // One probe of the index per household for its latest visit, then that one row.
                "SELECT h.id, json_extract(h.record, '$.address'), v.at, v.kind
                 FROM households h
                 LEFT JOIN visits v ON v.rowid =
                     (SELECT rowid FROM visits WHERE household_id = h.id ORDER BY at DESC LIMIT 1)
                 WHERE h.grid_id = ?1 AND h.active ORDER BY h.address_key, h.id",
            )?;
            let rows = stmt.query_map([grid], |r| {
                Ok((
                    r.get::<_, HouseholdId>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, Option<i64>>(2)?,
                    r.get::<_, Option<String>>(3)?,
                ))
            })?;
            rows.map(|row| {
                let (household_id, address, at, kind) = row?;
                Ok(LastVisit {
                    household_id,
                    address,
                    last_visit_at: at.and_then(DateTime::from_timestamp_millis),
                    last_visit_kind: kind.map(|k| k.parse()).transpose()?,
                })
            })
            .collect()
        })
    }
}

fn visit_row(r: &Row<'_>) -> rusqlite::Result<Result<Visit>> {
    let (kind, at, purposes, satisfaction): (String, i64, String, Option<String>) =
        (r.get(3)?, r.get(4)?, r.get(6)?, r.get(8)?);
    let (id, household_id, grid_id, by, notes) = (r.get(0)?, r.get(1)?, r.get(2)?, r.get(5)?, r.get(7)?);
    Ok((|| {
        Ok(Visit {
            id,
            household_id,
            grid_id,
            kind: kind.parse()?,
            at: DateTime::from_timestamp_millis(at).ok_or_else(|| Error::invalid("visit time", "out of range"))?,
            by,
            purposes: serde_json::from_str(&purposes)?,
            notes,
            satisfaction: satisfaction.map(|s| s.parse()).transpose()?,
        })
    })())
}

/// A visit's purposes: each a short line, a handful of them.
fn purposes(given: &[String]) -> Result<Vec<String>> {
    const MAX_PURPOSES: usize = 20;
    let purposes: Vec<String> = given
        .iter()
        .filter(|p| !p.trim().is_empty())
        .map(|p| crate::validate::line("purpose", p))
        .collect::<Result<_>>()?;
    if purposes.len() > MAX_PURPOSES {
        return Err(Error::invalid("purposes", format!("more than {MAX_PURPOSES}")));
    }
    Ok(purposes)
}
