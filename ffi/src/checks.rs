//! Curtain checks and visits from the app: the daily signals, what was seen or followed up, and the
//! visits that count towards a grid's coverage.

use gridbook_core::{
    Coverage, DueCheck, GridId, HouseholdId, IsoDate, LastVisit, NewRoutine, NewVisit, Observation, ResidentId,
    Routine, RoutineEdit, RoutineId, Visit,
};

use crate::error::{GridbookError, guard};
use crate::gridbook::Gridbook;
use crate::inputs::{FollowUp, Sighting};

#[uniffi::export]
impl Gridbook {
    /// Defines a daily signal for a resident.
    ///
    /// # Errors
    /// `NotFound` for an unknown resident; `InvalidInput` for a routine on no day or a resident who is no
    /// longer present; `Storage` if the write fails.
    pub fn add_routine(&self, resident: ResidentId, new: NewRoutine) -> Result<Routine, GridbookError> {
        guard(|| self.store.add_routine(resident, new))
    }

    /// Changes a routine; `active = false` pauses it.
    ///
    /// # Errors
    /// `NotFound` for an unknown routine; `InvalidInput` for a routine left on no day; `Storage` if the
    /// write fails.
    pub fn edit_routine(&self, id: RoutineId, edit: RoutineEdit) -> Result<Routine, GridbookError> {
        guard(|| self.store.edit_routine(id, edit))
    }

    /// One routine.
    ///
    /// # Errors
    /// `NotFound` for an unknown routine; `Storage` if the store cannot be read.
    pub fn routine(&self, id: RoutineId) -> Result<Routine, GridbookError> {
        guard(|| self.store.routine(id))
    }

    /// A resident's routines, with those of the residents merged into it.
    ///
    /// # Errors
    /// `Storage` if the store cannot be read.
    pub fn routines_of(&self, resident: ResidentId) -> Result<Vec<Routine>, GridbookError> {
        guard(|| self.store.routines_of(resident))
    }

    /// Records that the signal was seen.
    ///
    /// # Errors
    /// `NotFound` for an unknown routine; `InvalidInput` for a day in the future; `Storage` if the write
    /// fails.
    pub fn record_sighting(&self, sighting: Sighting) -> Result<Observation, GridbookError> {
        let Sighting { routine, day, at, note } = sighting;
        guard(|| self.store.record_sighting(routine, day, at, &note))
    }

    /// Records the follow-up of a missed signal, with its outcome.
    ///
    /// # Errors
    /// `NotFound` for an unknown routine; `InvalidInput` for a day in the future; `Storage` if the write
    /// fails.
    pub fn record_follow_up(&self, follow_up: FollowUp) -> Result<Observation, GridbookError> {
        let FollowUp { routine, day, outcome, note } = follow_up;
        guard(|| self.store.record_follow_up(routine, day, outcome, &note))
    }

    /// The routines due on a local day (one grid, or all) with their state; missed ones first.
    ///
    /// # Errors
    /// `Storage` if the store cannot be read.
    pub fn due_checks(&self, grid: Option<GridId>, day: IsoDate) -> Result<Vec<DueCheck>, GridbookError> {
        guard(|| self.store.due_checks(grid, day))
    }

    /// Records a visit to a household: the visit, its purposes and notes are one change.
    ///
    /// # Errors
    /// `NotFound` for an unknown household; `InvalidInput` for a satisfaction on a visit that is not a
    /// follow-up, or a visit in the future; `Storage` if the write fails.
    pub fn record_visit(&self, household: HouseholdId, new: NewVisit) -> Result<Visit, GridbookError> {
        guard(|| self.store.record_visit(household, new))
    }

    /// A household's visits, newest first.
    ///
    /// # Errors
    /// `Storage` if the store cannot be read.
    pub fn visits_of(&self, household: HouseholdId) -> Result<Vec<Visit>, GridbookError> {
        guard(|| self.store.visits_of(household))
    }

    /// A resident's visits, newest first: those to their household and to the households of the
    /// residents merged into them.
    ///
    /// # Errors
    /// `NotFound` for an unknown resident; `Storage` if the store cannot be read.
    pub fn visits_of_resident(&self, resident: ResidentId) -> Result<Vec<Visit>, GridbookError> {
        guard(|| self.store.visits_of_resident(resident))
    }

    /// Households visited out of households, over local days `from` to `to` inclusive.
    ///
    /// # Errors
    /// `NotFound` for an unknown grid; `InvalidInput` if `from` is after `to`; `Storage` if the store
    /// cannot be read.
    pub fn coverage(&self, grid: GridId, from: IsoDate, to: IsoDate) -> Result<Coverage, GridbookError> {
        guard(|| self.store.coverage(grid, from, to))
    }

    /// Each household of a grid with its most recent visit.
    ///
    /// # Errors
    /// `NotFound` for an unknown grid; `Storage` if the store cannot be read.
    pub fn last_visits(&self, grid: GridId) -> Result<Vec<LastVisit>, GridbookError> {
        guard(|| self.store.last_visits(grid))
    }
}
