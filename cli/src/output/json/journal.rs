//! The shapes of the daily work: routines, due checks, observations, visits and coverage.

use gridbook_core::{CheckState, Coverage, DueCheck, LastVisit, Observation, Routine, Visit};
use serde::Serialize;

use super::names::{Name, names};
use super::{JsonShape, day, instant};

#[derive(Debug, Serialize)]
pub struct RoutineJson {
    id: String,
    resident_id: String,
    household_id: String,
    grid_id: String,
    signal: &'static str,
    /// Local time of the district, `HH:MM:SS`.
    deadline: String,
    days: Vec<&'static str>,
    active: bool,
    note: String,
}

impl JsonShape for Routine {
    type Shape = RoutineJson;
    fn json_shape(&self) -> RoutineJson {
        RoutineJson {
            id: self.id.to_string(),
            resident_id: self.resident_id.to_string(),
            household_id: self.household_id.to_string(),
            grid_id: self.grid_id.to_string(),
            signal: self.signal.json_name(),
            deadline: self.deadline.format("%H:%M:%S").to_string(),
            days: names(&self.days),
            active: self.active,
            note: self.note.clone(),
        }
    }
}

/// A due check always has every key; `at`, `by`, `note` and `outcome` are null until something
/// was seen or followed up, so a script reads the same keys whatever the state.
#[derive(Debug, Serialize)]
pub struct DueCheckJson {
    routine_id: String,
    resident_id: String,
    resident_name: String,
    household_id: String,
    address: String,
    signal: &'static str,
    day: String,
    deadline_at: String,
    state: &'static str,
    at: Option<String>,
    by: Option<String>,
    note: Option<String>,
    outcome: Option<&'static str>,
}

impl JsonShape for DueCheck {
    type Shape = DueCheckJson;
    fn json_shape(&self) -> DueCheckJson {
        let (state, at, by, note, outcome) = match &self.state {
            CheckState::Waiting => ("waiting", None, None, None, None),
            CheckState::Seen { at, by, note } => ("seen", Some(*at), Some(by), Some(note), None),
            CheckState::Missed => ("missed", None, None, None, None),
            CheckState::FollowedUp { outcome, at, by, note } => {
                ("followed_up", Some(*at), Some(by), Some(note), Some(outcome.json_name()))
            }
        };
        DueCheckJson {
            routine_id: self.routine_id.to_string(),
            resident_id: self.resident_id.to_string(),
            resident_name: self.resident_name.clone(),
            household_id: self.household_id.to_string(),
            address: self.address.clone(),
            signal: self.signal.json_name(),
            day: day(self.day),
            deadline_at: instant(self.deadline_at),
            state,
            at: at.map(instant),
            by: by.cloned(),
            note: note.cloned(),
            outcome,
        }
    }
}

#[derive(Debug, Serialize)]
pub struct ObservationJson {
    id: String,
    routine_id: String,
    day: String,
    at: String,
    by: String,
    note: String,
    outcome: Option<&'static str>,
}

impl JsonShape for Observation {
    type Shape = ObservationJson;
    fn json_shape(&self) -> ObservationJson {
        ObservationJson {
            id: self.id.to_string(),
            routine_id: self.routine_id.to_string(),
            day: day(self.day),
            at: instant(self.at),
            by: self.by.clone(),
            note: self.note.clone(),
            outcome: self.outcome.as_ref().map(Name::json_name),
        }
    }
}

#[derive(Debug, Serialize)]
pub struct VisitJson {
    id: String,
    household_id: String,
    grid_id: String,
    kind: &'static str,
    at: String,
    by: String,
    purposes: Vec<String>,
    notes: String,
    satisfaction: Option<&'static str>,
}

impl JsonShape for Visit {
    type Shape = VisitJson;
    fn json_shape(&self) -> VisitJson {
        VisitJson {
            id: self.id.to_string(),
            household_id: self.household_id.to_string(),
            grid_id: self.grid_id.to_string(),
            kind: self.kind.json_name(),
            at: instant(self.at),
            by: self.by.clone(),
            purposes: self.purposes.clone(),
            notes: self.notes.clone(),
            satisfaction: self.satisfaction.as_ref().map(Name::json_name),
        }
    }
}

#[derive(Debug, Serialize)]
pub struct CoverageJson {
    grid_id: String,
    from: String,
    to: String,
    households: u32,
    visited: u32,
}

impl JsonShape for Coverage {
    type Shape = CoverageJson;
    fn json_shape(&self) -> CoverageJson {
        CoverageJson {
            grid_id: self.grid_id.to_string(),
            from: day(self.from),
            to: day(self.to),
            households: self.households,
            visited: self.visited,
        }
    }
}

#[derive(Debug, Serialize)]
pub struct LastVisitJson {
    household_id: String,
    address: String,
    last_visit_at: Option<String>,
    last_visit_kind: Option<&'static str>,
}

impl JsonShape for LastVisit {
    type Shape = LastVisitJson;
    fn json_shape(&self) -> LastVisitJson {
        LastVisitJson {
            household_id: self.household_id.to_string(),
            address: self.address.clone(),
            last_visit_at: self.last_visit_at.map(instant),
            last_visit_kind: self.last_visit_kind.as_ref().map(Name::json_name),
        }
    }
}
