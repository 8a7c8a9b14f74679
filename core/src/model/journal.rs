//! Curtain-check routines, their daily observations, and visits.

use std::collections::BTreeSet;

use chrono::{DateTime, NaiveDate, NaiveTime, Utc, Weekday};
use serde::{Deserialize, Serialize};

use super::{millis, set, snake_enum_text};
use crate::ids::{EntryId, GridId, HouseholdId, ResidentId, RoutineId, VisitId};

/// The daily signal a resident agreed to give.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
#[serde(rename_all = "snake_case")]
pub enum SignalKind {
    /// The curtains opened in the morning.
    Curtains,
    /// A light switched on.
    Light,
    /// A call or message to the grid member.
    PhoneCheckIn,
    /// Another agreed sign, described in the routine's note.
    Other,
}
snake_enum_text!(SignalKind, "signal kind");

/// A day of the week, stored by its English abbreviation (`mon` … `sun`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
#[serde(rename_all = "snake_case")]
pub enum Day {
    /// Monday.
    Mon,
    /// Tuesday.
    Tue,
    /// Wednesday.
    Wed,
    /// Thursday.
    Thu,
    /// Friday.
    Fri,
    /// Saturday.
    Sat,
    /// Sunday.
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
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct Routine {
    /// The routine's own id.
    pub id: RoutineId,
    /// The resident who gives the signal.
    pub resident_id: ResidentId,
    /// The resident's household.
    pub household_id: HouseholdId,
    /// The household's grid.
    pub grid_id: GridId,
    /// The signal agreed.
    pub signal: SignalKind,
    /// Local time of the district by which the signal is expected.
    pub deadline: NaiveTime,
    /// The days of the week the signal is due.
    #[serde(with = "set")]
    pub days: BTreeSet<Day>,
    /// `false` while the routine is paused (the resident is away, in hospital …).
    pub active: bool,
    /// What was agreed, in the grid member's words.
    pub note: String,
}

/// The fields of a new routine.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct NewRoutine {
    /// The signal agreed.
    pub signal: SignalKind,
    /// Local time of the district by which the signal is expected.
    pub deadline: NaiveTime,
    /// The days of the week the signal is due; at least one.
    pub days: BTreeSet<Day>,
    /// What was agreed, in the grid member's words.
    pub note: String,
}

/// An edit to a routine: `None` (`null`/`nil`) leaves a field as it is; `active = false` pauses
/// the routine.
#[derive(Debug, Clone, Default, PartialEq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct RoutineEdit {
    /// A new signal.
    pub signal: Option<SignalKind>,
    /// A new local deadline.
    pub deadline: Option<NaiveTime>,
    /// The new days of the week (replacing the old ones); at least one.
    pub days: Option<BTreeSet<Day>>,
    /// `false` pauses the routine, `true` resumes it.
    pub active: Option<bool>,
    /// A new note.
    pub note: Option<String>,
}

/// How a missed signal was followed up at the door.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The resident was fine.
    AllWell,
    /// The resident needed help, and got it.
    NeededHelp,
    /// Nobody answered the door.
    NotHome,
    /// Handed on to the community, the police or a doctor.
    Escalated,
    /// The resident's relatives were called.
    RelativesCalled,
}
snake_enum_text!(Outcome, "follow-up outcome");

/// One observation of a routine on a local day: the signal seen, or a follow-up. Observations
/// only accumulate, so several devices recording the same day never overwrite each other.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct Observation {
    /// The observation's own id.
    pub id: EntryId,
    /// The routine observed.
    pub routine_id: RoutineId,
    /// The local day the observation counts for.
    pub day: NaiveDate,
    /// When it was made.
    #[serde(with = "millis")]
    pub at: DateTime<Utc>,
    /// Who made it.
    pub by: String,
    /// A note of the person who made it.
    pub note: String,
    /// `None` (`null`/`nil`) for a sighting; the outcome for a follow-up.
    pub outcome: Option<Outcome>,
}

/// A routine's state on one local day.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum CheckState {
    /// Before the deadline, nothing seen yet.
    Waiting,
    /// The signal was seen: when, by whom, and their note.
    Seen {
        /// When it was seen.
        #[serde(with = "millis")]
        at: DateTime<Utc>,
        /// Who saw it.
        by: String,
        /// Their note.
        note: String,
    },
    /// The deadline passed with nothing seen: someone must go to the door.
    Missed,
    /// The missed signal was followed up, with this outcome.
    FollowedUp {
        /// What was found at the door.
        outcome: Outcome,
        /// When it was followed up.
        #[serde(with = "millis")]
        at: DateTime<Utc>,
        /// Who followed it up.
        by: String,
        /// Their note.
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
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct DueCheck {
    /// The routine due.
    pub routine_id: RoutineId,
    /// The resident who gives the signal.
    pub resident_id: ResidentId,
    /// The resident's name, for the list.
    pub resident_name: String,
    /// The resident's household.
    pub household_id: HouseholdId,
    /// The household's address, where to go if the signal is missed.
    pub address: String,
    /// The signal expected.
    pub signal: SignalKind,
    /// The local day the check is for.
    pub day: NaiveDate,
    /// The routine's deadline on that day, as a moment.
    #[serde(with = "millis")]
    pub deadline_at: DateTime<Utc>,
    /// What has happened so far.
    #[serde(flatten)]
    pub state: CheckState,
}

/// How a household was visited.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
#[serde(rename_all = "snake_case")]
pub enum VisitKind {
    /// At the household's home.
    Home,
    /// By phone.
    Phone,
    /// Met on the spot, in passing.
    OnTheSpot,
    /// A return visit about an earlier matter.
    FollowUp,
}
snake_enum_text!(VisitKind, "visit kind");

/// A resident's satisfaction, asked on a follow-up visit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
#[serde(rename_all = "snake_case")]
pub enum Satisfaction {
    /// Very satisfied.
    VerySatisfied,
    /// Satisfied.
    Satisfied,
    /// Neither satisfied nor dissatisfied.
    Neutral,
    /// Dissatisfied.
    Dissatisfied,
}
snake_enum_text!(Satisfaction, "satisfaction");

/// A recorded visit to a household.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct Visit {
    /// The visit's own id.
    pub id: VisitId,
    /// The household visited.
    pub household_id: HouseholdId,
    /// The household's grid.
    pub grid_id: GridId,
    /// How the household was visited.
    pub kind: VisitKind,
    /// When the visit took place.
    #[serde(with = "millis")]
    pub at: DateTime<Utc>,
    /// Who visited.
    pub by: String,
    /// What the visit was for: safety, anti-fraud, anti-drowning publicity …
    pub purposes: Vec<String>,
    /// What was found or said.
    pub notes: String,
    /// The resident's satisfaction, if asked.
    pub satisfaction: Option<Satisfaction>,
}

/// The fields of a new visit; `at` defaults to now.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct NewVisit {
    /// How the household was visited.
    pub kind: VisitKind,
    /// When the visit took place; `None` (`null`/`nil`) for now.
    pub at: Option<DateTime<Utc>>,
    /// What the visit was for: safety, anti-fraud, anti-drowning publicity …
    pub purposes: Vec<String>,
    /// What was found or said.
    pub notes: String,
    /// The resident's satisfaction, if asked.
    pub satisfaction: Option<Satisfaction>,
}

/// Visit coverage of a grid over a range of local days.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct Coverage {
    /// The grid counted.
    pub grid_id: GridId,
    /// The first local day of the range.
    pub from: NaiveDate,
    /// The last local day of the range (included).
    pub to: NaiveDate,
    /// Households in the grid that have not moved out.
    pub households: u32,
    /// Of those, the households visited at least once in the range.
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
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct LastVisit {
    /// The household.
    pub household_id: HouseholdId,
    /// Its address, for the list.
    pub address: String,
    /// When the household was last visited; `None` (`null`/`nil`) if never.
    #[serde(with = "millis::option")]
    pub last_visit_at: Option<DateTime<Utc>>,
    /// How it was last visited; `None` (`null`/`nil`) if never.
    pub last_visit_kind: Option<VisitKind>,
}
