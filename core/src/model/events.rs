//! Events: a problem reported with photos, dispatched, handled and evaluated, every step kept.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{Location, millis, snake_enum_text};
use crate::ids::{EntryId, EventId, GridId, HouseholdId};

/// How soon an event must be handled; each has its own deadline (see `EventPolicy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
#[serde(rename_all = "snake_case")]
pub enum Urgency {
    /// Must be accepted (or solved on the spot) soon after it is reported.
    Urgent,
    /// Must be resolved (or solved on the spot) within the routine handling time.
    Routine,
}
snake_enum_text!(Urgency, "urgency");

/// The level of government that currently holds an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
#[serde(rename_all = "snake_case")]
pub enum Level {
    /// The community (or village), where every event starts.
    Community,
    /// The street (or township).
    Street,
    /// The district's centre.
    District,
}
snake_enum_text!(Level, "level");

impl Level {
    pub fn above(self) -> Option<Level> {
        match self {
            Level::Community => Some(Level::Street),
            Level::Street => Some(Level::District),
            Level::District => None,
        }
    }
}

/// Where an event is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
#[serde(rename_all = "snake_case")]
pub enum EventState {
    /// Reported, not yet taken up.
    Reported,
    /// Solved on the spot by the person who reported it.
    SolvedOnSpot,
    /// Sent to a department.
    Dispatched,
    /// The department took it on.
    Accepted,
    /// The department says it is handled.
    Resolved,
    /// The reporter evaluated the handling.
    Evaluated,
    /// Done; no step is taken after this.
    Closed,
}
snake_enum_text!(EventState, "event state");

impl EventState {
    pub fn is_open(self) -> bool {
        !matches!(self, EventState::Closed)
    }
}

/// A rating from 1 (very poor) to 5 (very good).
pub type Rating = u8;

/// The reporter's evaluation of how a department handled an event; each rating 1 (very poor) to
/// 5 (very good).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct Evaluation {
    /// How quickly the department responded.
    pub response_speed: Rating,
    /// How well it worked.
    pub performance: Rating,
    /// How completely the problem was solved.
    pub completion: Rating,
    /// How well it kept the reporter informed.
    pub feedback: Rating,
    /// The reporter's words.
    pub comment: String,
}

/// One step taken on an event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum StepAction {
    /// Solved on the spot by the person who reported it.
    SolveOnSpot,
    /// Sent to the named department.
    Dispatch {
        /// The department that is to handle the event.
        department: String,
    },
    /// The department takes the event on.
    Accept,
    /// The department sends it back as not theirs.
    SendBack,
    /// The department has handled it.
    Resolve,
    /// Handed up to the level above.
    Escalate,
    /// The reporter rates the handling.
    Evaluate(Evaluation),
    /// Closes the event.
    Close,
}

impl StepAction {
    pub fn name(&self) -> &'static str {
        match self {
            StepAction::SolveOnSpot => "solve on the spot",
            StepAction::Dispatch { .. } => "dispatch",
            StepAction::Accept => "accept",
            StepAction::SendBack => "send back",
            StepAction::Resolve => "resolve",
            StepAction::Escalate => "escalate",
            StepAction::Evaluate(_) => "evaluate",
            StepAction::Close => "close",
        }
    }
}

/// A step as kept in the event's history: who, when, what and a note.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct Step {
    /// The step's own id.
    pub id: EntryId,
    /// When the step was taken.
    #[serde(with = "millis")]
    pub at: DateTime<Utc>,
    /// Who took it.
    pub by: String,
    /// What was done.
    #[serde(flatten)]
    pub action: StepAction,
    /// A note of the person who took it.
    pub note: String,
}

/// A photo attached to an event. The image itself is stored once, by its SHA-256.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct PhotoRef {
    /// The attachment's own id.
    pub id: EntryId,
    /// Hex SHA-256 of the stored (re-encoded) JPEG.
    pub sha256: String,
    /// Width of the stored image, in pixels.
    pub width: u32,
    /// Height of the stored image, in pixels.
    pub height: u32,
    /// Size of the stored image.
    pub bytes: u64,
    /// When the photo was taken.
    #[serde(with = "millis")]
    pub taken_at: DateTime<Utc>,
    /// Where it was taken, if the phone knew.
    pub location: Option<Location>,
    /// Who attached it.
    pub by: String,
}

/// The fields of a new event.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct NewEvent {
    /// The kind of problem, in the district's own categories; it must not be empty.
    pub category: String,
    /// A short title; it must not be empty.
    pub title: String,
    /// What is wrong, in the reporter's words.
    pub description: String,
    /// Where it is, if known.
    pub location: Option<Location>,
    /// The household concerned, if any; it must be in the event's grid.
    pub household_id: Option<HouseholdId>,
    /// How soon it must be handled.
    pub urgency: Urgency,
}

/// An event as reported, with its derived state, steps and photos.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct Event {
    /// The event's own id.
    pub id: EventId,
    /// The grid the event was reported in.
    pub grid_id: GridId,
    /// The household concerned, if any.
    pub household_id: Option<HouseholdId>,
    /// The kind of problem, in the district's own categories.
    pub category: String,
    /// A short title.
    pub title: String,
    /// What is wrong, in the reporter's words.
    pub description: String,
    /// Where it is, if known.
    pub location: Option<Location>,
    /// How soon it must be handled.
    pub urgency: Urgency,
    /// When it was reported.
    #[serde(with = "millis")]
    pub reported_at: DateTime<Utc>,
    /// Who reported it.
    pub reported_by: String,
    /// Where the event is in its life, derived from its steps.
    pub state: EventState,
    /// The level of government that holds it now.
    pub level: Level,
    /// The department it was dispatched to, if any.
    pub department: Option<String>,
    /// When the event must be responded to (urgent) or handled (routine).
    #[serde(with = "millis")]
    pub deadline_at: DateTime<Utc>,
    /// Still open past its deadline.
    pub overdue: bool,
    /// Every step taken on it.
    pub steps: Vec<Step>,
    /// The photos attached to it.
    pub photos: Vec<PhotoRef>,
}

/// The stored part of an event's report; state and history live in its steps.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct EventReport {
    pub id: EventId,
    pub grid_id: GridId,
    pub household_id: Option<HouseholdId>,
    pub category: String,
    pub title: String,
    pub description: String,
    pub location: Option<Location>,
    pub urgency: Urgency,
    #[serde(with = "millis")]
    pub reported_at: DateTime<Utc>,
    pub reported_by: String,
}

/// Deadlines by urgency.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventPolicy {
    /// An urgent event must be accepted (or solved on the spot) within this time of its report.
    pub urgent_response: chrono::Duration,
    /// A routine event must be resolved (or solved on the spot) within this time of its report.
    pub routine_handling: chrono::Duration,
}

impl Default for EventPolicy {
    fn default() -> Self {
        Self { urgent_response: chrono::Duration::hours(2), routine_handling: chrono::Duration::hours(24) }
    }
}
