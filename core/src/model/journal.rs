//! Curtain-check routines, their daily observations, and visits.

use std::collections::BTreeSet;

use chrono::{DateTime, NaiveDate, NaiveTime, Utc, Weekday};
use serde::{Deserialize, Serialize};

use super::{millis, set, snake_enum_text};
use crate::ids::{EntryId, GridId, HouseholdId, ResidentId, RoutineId, VisitId};

/// The daily signal a resident agreed to give.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SignalKind {
    Curtains,
    Light,
    PhoneCheckIn,
    Other,
}
snake_enum_text!(SignalKind, "signal kind");

/// A day of the week, stored by its English abbreviation (`mon` … `sun`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Day {
    Mon,
    Tue,
    Wed,
    Thu,
    Fri,
    Sat,
    Sun,
}
snake_enum_text!(Day, "day of the week");

impl Day {
    pub const ALL: [Day; 7] = [Day::Mon, Day::Tue, Day::Wed, Day::Thu, Day::Fri, Day::Sat, Day::Sun];

    pub fn of(weekday: Weekday) -> Self {
        Self::ALL[weekday.num_days_from_monday() as usize]
    }
}

/// A resident's daily welfare signal with its local deadline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Routine {
    pub id: RoutineId,
    pub resident_id: ResidentId,
    pub household_id: HouseholdId,
    pub grid_id: GridId,
    pub signal: SignalKind,
    /// Local time of the district by which the signal is expected.
    pub deadline: NaiveTime,
    #[serde(with = "set")]
    pub days: BTreeSet<Day>,
    pub active: bool,
    pub note: String,
}

/// The fields of a new routine.
#[derive(Debug, Clone, PartialEq)]
pub struct NewRoutine {
    pub signal: SignalKind,
    pub deadline: NaiveTime,
    pub days: BTreeSet<Day>,
    pub note: String,
}

/// An edit to a routine: `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RoutineEdit {
    pub signal: Option<SignalKind>,
    pub deadline: Option<NaiveTime>,
    pub days: Option<BTreeSet<Day>>,
    pub active: Option<bool>,
    pub note: Option<String>,
}

/// How a missed signal was followed up at the door.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    AllWell,
    NeededHelp,
    NotHome,
    Escalated,
    RelativesCalled,
}
snake_enum_text!(Outcome, "follow-up outcome");

/// One observation of a routine on a local day: the signal seen, or a follow-up. Observations
/// only accumulate, so several devices recording the same day never overwrite each other.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Observation {
    pub id: EntryId,
    pub routine_id: RoutineId,
    pub day: NaiveDate,
    #[serde(with = "millis")]
    pub at: DateTime<Utc>,
    pub by: String,
    pub note: String,
    /// `None` for a sighting; the outcome for a follow-up.
    pub outcome: Option<Outcome>,
}

/// A routine's state on one local day.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum CheckState {
    /// Before the deadline, nothing seen yet.
    Waiting,
    Seen {
        #[serde(with = "millis")]
        at: DateTime<Utc>,
        by: String,
        note: String,
    },
    /// The deadline passed with nothing seen: someone must go to the door.
    Missed,
    FollowedUp {
        outcome: Outcome,
        #[serde(with = "millis")]
        at: DateTime<Utc>,
        by: String,
        note: String,
    },
}

impl CheckState {
    pub fn name(&self) -> &'static str {
        match self {
            CheckState::Waiting => "waiting",
            CheckState::Seen { .. } => "seen",
            CheckState::Missed => "missed",
            CheckState::FollowedUp { .. } => "followed_up",
        }
    }
}

/// A routine due on a day, with what has happened so far.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DueCheck {
    pub routine_id: RoutineId,
    pub resident_id: ResidentId,
    pub resident_name: String,
    pub household_id: HouseholdId,
    pub address: String,
    pub signal: SignalKind,
    pub day: NaiveDate,
    #[serde(with = "millis")]
    pub deadline_at: DateTime<Utc>,
    #[serde(flatten)]
    pub state: CheckState,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VisitKind {
    Home,
    Phone,
    OnTheSpot,
    FollowUp,
}
snake_enum_text!(VisitKind, "visit kind");

/// A resident's satisfaction, asked on a follow-up visit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Satisfaction {
    VerySatisfied,
    Satisfied,
    Neutral,
    Dissatisfied,
}
snake_enum_text!(Satisfaction, "satisfaction");

/// A recorded visit to a household.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Visit {
    pub id: VisitId,
    pub household_id: HouseholdId,
    pub grid_id: GridId,
    pub kind: VisitKind,
    #[serde(with = "millis")]
    pub at: DateTime<Utc>,
    pub by: String,
    /// What the visit was for: safety, anti-fraud, anti-drowning publicity …
    pub purposes: Vec<String>,
    pub notes: String,
    pub satisfaction: Option<Satisfaction>,
}

/// The fields of a new visit. `at` defaults to now.
#[derive(Debug, Clone, PartialEq)]
pub struct NewVisit {
    pub kind: VisitKind,
    pub at: Option<DateTime<Utc>>,
    pub purposes: Vec<String>,
    pub notes: String,
    pub satisfaction: Option<Satisfaction>,
}

/// Visit coverage of a grid over a range of local days.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Coverage {
    pub grid_id: GridId,
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// Households in the grid that have not moved out.
    pub households: u32,
    pub visited: u32,
}

impl Coverage {
    /// Share of households visited, 0.0 ..= 1.0.
    pub fn ratio(&self) -> f64 {
        if self.households == 0 { 0.0 } else { f64::from(self.visited) / f64::from(self.households) }
    }
}

/// A household and its most recent visit.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LastVisit {
    pub household_id: HouseholdId,
    pub address: String,
    #[serde(with = "millis::option")]
    pub last_visit_at: Option<DateTime<Utc>>,
    pub last_visit_kind: Option<VisitKind>,
}
