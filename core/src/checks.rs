//! Curtain-check routines and their daily observations: what is due on a day, and its state.

use chrono::{DateTime, NaiveDate, NaiveTime, TimeZone, Utc};
use rusqlite::{OptionalExtension, params};

use crate::db::query::{one, rows};
use crate::doc::{key, write_record};
use crate::error::{Error, Result};
use crate::ids::{DocId, EntryId, GridId, HouseholdId, ResidentId, RoutineId};
use crate::materialise::{Entry, day_number};
use crate::model::*;
use crate::store::Store;

impl Store {
    /// Defines a daily signal for a resident.
    ///
    /// # Errors
    /// [`Error::NotFound`] for an unknown resident; [`Error::InvalidInput`] for a routine on no day,
    /// for a resident who is no longer present, or for one merged into another.
    pub fn add_routine(&self, resident: ResidentId, new: NewRoutine) -> Result<Routine> {
        let r = self.resident(resident)?;
        crate::resident_merge::not_merged(&r)?;
        if r.status != ResidentStatus::Present {
            return Err(Error::invalid("resident", "a curtain check needs a resident who still lives here"));
        }
        let routine = Routine {
            id: RoutineId::new(),
            resident_id: r.id,
            household_id: r.household_id,
            grid_id: r.grid_id,
            signal: new.signal,
            deadline: new.deadline,
            days: new.days,
            active: true,
            note: crate::validate::text("note", &new.note)?,
        };
        self.put_routine(routine, "add routine")
    }

    /// Changes a routine; `active: Some(false)` pauses it (a hospital stay, a visit to relatives).
    pub fn edit_routine(&self, id: RoutineId, edit: RoutineEdit) -> Result<Routine> {
        let mut routine = self.routine(id)?;
        if let Some(signal) = edit.signal {
            routine.signal = signal;
        }
        if let Some(deadline) = edit.deadline {
            routine.deadline = deadline;
        }
        if let Some(days) = edit.days {
            routine.days = days;
        }
        if let Some(active) = edit.active {
            routine.active = active;
        }
        if let Some(note) = edit.note {
            routine.note = crate::validate::text("note", &note)?;
        }
        self.put_routine(routine, "edit routine")
    }

    fn put_routine(&self, routine: Routine, action: &str) -> Result<Routine> {
        if routine.days.is_empty() {
            return Err(Error::invalid("days", "a routine needs at least one day of the week"));
        }
        let root_key = key::of(key::ROUTINE, routine.id);
        let doc = DocId::household(routine.grid_id, routine.household_id);
        let seal = self.seal_for(routine.household_id.0, &doc, false)?;
        self.edit(&doc, action, |tx| {
            write_record(tx, &root_key, &routine, seal.as_ref())?;
            Ok(((), vec![root_key.clone()]))
        })?;
        Ok(routine)
    }

    /// # Errors
    /// [`Error::NotFound`] for an unknown routine.
    pub fn routine(&self, id: RoutineId) -> Result<Routine> {
        self.read(|c| one(c, "SELECT record FROM routines WHERE id = ?1", id, "routine"))
    }

    /// A resident's routines, with those of the residents merged into it ([`Store::merge_residents`]),
    /// all named as its own; a merged resident's are those of the resident it was merged into.
    pub fn routines_of(&self, resident: ResidentId) -> Result<Vec<Routine>> {
        let who = match self.resident(resident) {
            Ok(r) => r.merged_into.unwrap_or(resident),
            Err(Error::NotFound { .. }) => resident,
            Err(e) => return Err(e),
        };
        let found: Vec<Routine> = self.read(|c| {
            rows(
                c,
                "SELECT record FROM routines WHERE resident_id = ?1
                    OR resident_id IN (SELECT other FROM resident_merges WHERE root = ?1 AND other <> ?1)
                 ORDER BY id",
                params![who],
            )
        })?;
        Ok(found.into_iter().map(|r| Routine { resident_id: who, ..r }).collect())
    }

    /// Records that the signal was seen. `day` defaults to today, `at` to now.
    ///
    /// # Errors
    /// [`Error::NotFound`] for an unknown routine; [`Error::InvalidInput`] for a day in the future.
    pub fn record_sighting(
        &self,
        routine: RoutineId,
        day: Option<NaiveDate>,
        at: Option<DateTime<Utc>>,
        note: &str,
    ) -> Result<Observation> {
        self.observe(routine, day, at, note, None)
    }

    /// Records the follow-up of a missed signal, with its outcome.
    ///
    /// # Errors
    /// As [`Store::record_sighting`].
    pub fn record_follow_up(
        &self,
        routine: RoutineId,
        day: Option<NaiveDate>,
        outcome: Outcome,
        note: &str,
    ) -> Result<Observation> {
        self.observe(routine, day, None, note, Some(outcome))
    }

    fn observe(
        &self,
        routine: RoutineId,
        day: Option<NaiveDate>,
        at: Option<DateTime<Utc>>,
        note: &str,
        outcome: Option<Outcome>,
    ) -> Result<Observation> {
        let observed = self.routine(routine)?;
        let grid = observed.grid_id;
        let day = day.unwrap_or_else(|| self.today());
        if day > self.today() {
            return Err(Error::invalid("day", "cannot record a check for a day that has not come"));
        }
        let observation = Observation {
            id: EntryId::new(),
            routine_id: routine,
            day,
            at: at.unwrap_or_else(|| self.now()),
            by: self.author().user,
            note: crate::validate::text("note", note)?,
            outcome,
        };
        let action = if outcome.is_some() { "follow up check" } else { "record sighting" };
        let household = DocId::household(grid, observed.household_id);
        let seal = self.seal_for(observed.household_id.0, &household, false)?;
        self.append(&DocId::journal(grid, day), action, Entry::Observation(&observation), seal)?;
        Ok(observation)
    }

    /// The routines due on a local day (all grids, or one), with their state: waiting, seen, missed
    /// or followed up. Missed ones first, then by deadline. A merged resident's routines are due
    /// as the resident's it was merged into, at that resident's address.
    pub fn due_checks(&self, grid: Option<GridId>, day: NaiveDate) -> Result<Vec<DueCheck>> {
        let now = self.now();
        let tz = self.config.timezone;
        let weekday = Day::of(chrono::Datelike::weekday(&day));
        let mut due = self.read(|c| {
            let routines: Vec<Routine> =
                rows(c, "SELECT record FROM routines WHERE active AND (?1 IS NULL OR grid_id = ?1)", params![grid])?;
            let mut observations = c.prepare_cached(
                "SELECT at, by, note, outcome FROM observations WHERE routine_id = ?1 AND day = ?2 ORDER BY at, id",
            )?;
            let mut names = c.prepare_cached(
                "SELECT r.name, json_extract(h.record, '$.address'), r.household_id FROM residents r
                 JOIN households h ON h.id = r.household_id WHERE r.id = ?1",
            )?;
            let mut addresses =
                c.prepare_cached("SELECT json_extract(record, '$.address') FROM households WHERE id = ?1")?;
            let merged = crate::resident_merge::merged(c)?;
            let mut due = Vec::new();
            for routine in routines.into_iter().filter(|r| r.days.contains(&weekday)) {
                let seen: Vec<(i64, String, String, Option<String>)> = observations
                    .query_map(params![routine.id, day_number(day)], |r| {
                        Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
                    })?
                    .collect::<rusqlite::Result<_>>()?;
                let mut name = |id: ResidentId| names.query_row([id], |r| Ok((id, r.get(0)?, r.get(1)?, r.get(2)?)));
                // The resident kept may not have arrived yet: until then, the merged one stands in.
                let kept = merged.get(&routine.resident_id).map(|&keep| name(keep).optional()).transpose()?.flatten();
                let (resident_id, resident_name, address, household_id): (ResidentId, String, String, HouseholdId) =
                    match kept {
                        Some(kept) => kept,
                        None => match name(routine.resident_id).optional()? {
                            Some(found) => found,
                            // A resident whose key has not reached this store has no row yet: the
                            // check is due all the same, at the household's door.
                            None => {
                                let address = addresses.query_row([routine.household_id], |r| r.get(0)).optional()?;
                                (routine.resident_id, String::new(), address.unwrap_or_default(), routine.household_id)
                            }
                        },
                    };
                let deadline_at = local_to_utc(tz, day, routine.deadline);
                due.push(DueCheck {
                    routine_id: routine.id,
                    resident_id,
                    resident_name,
                    household_id,
                    address,
                    signal: routine.signal,
                    day,
                    deadline_at,
                    state: state_of(&seen, deadline_at, now)?,
                });
            }
            Ok(due)
        })?;
        due.sort_by_key(|d| (d.state != CheckState::Missed, d.deadline_at, d.routine_id));
        Ok(due)
    }
}

/// A day's state from its observations (time-ordered): a follow-up settles it, a sighting makes it
/// seen, and otherwise the deadline decides.
fn state_of(
    seen: &[(i64, String, String, Option<String>)],
    deadline_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<CheckState> {
    let time = |ms: i64| DateTime::from_timestamp_millis(ms).ok_or_else(|| Error::invalid("time", "out of range"));
    if let Some((at, by, note, Some(outcome))) = seen.iter().rev().find(|o| o.3.is_some()) {
        return Ok(CheckState::FollowedUp {
            outcome: outcome.parse()?,
            at: time(*at)?,
            by: by.clone(),
            note: note.clone(),
        });
    }
    if let Some((at, by, note, _)) = seen.first() {
        return Ok(CheckState::Seen { at: time(*at)?, by: by.clone(), note: note.clone() });
    }
    Ok(if now > deadline_at { CheckState::Missed } else { CheckState::Waiting })
}

/// A local wall-clock time of the district as UTC. In a gap (a zone with daylight saving), the
/// earliest instant after it.
pub(crate) fn local_to_utc(tz: chrono_tz::Tz, day: NaiveDate, time: NaiveTime) -> DateTime<Utc> {
    let local = day.and_time(time);
    tz.from_local_datetime(&local)
        .earliest()
        .or_else(|| tz.from_local_datetime(&(local + chrono::Duration::hours(1))).earliest())
        .map_or_else(|| local.and_utc(), |t| t.with_timezone(&Utc))
}
