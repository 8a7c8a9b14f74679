//! Events: a problem reported with photos, dispatched, handled and evaluated, every step kept.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{Location, millis, snake_enum_text};
use crate::ids::{EntryId, EventId, GridId, HouseholdId};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Urgency {
    Urgent,
    Routine,
}
snake_enum_text!(Urgency, "urgency");

/// The level of government that currently holds an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    Community,
    Street,
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
#[serde(rename_all = "snake_case")]
pub enum EventState {
    Reported,
    SolvedOnSpot,
    Dispatched,
    Accepted,
    Resolved,
    Evaluated,
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

/// The reporter's evaluation of how a department handled an event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Evaluation {
    pub response_speed: Rating,
    pub performance: Rating,
    pub completion: Rating,
    pub feedback: Rating,
    pub comment: String,
}

/// One step taken on an event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum StepAction {
    SolveOnSpot,
    Dispatch { department: String },
    Accept,
    SendBack,
    Resolve,
    Escalate,
    Evaluate(Evaluation),
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
pub struct Step {
    pub id: EntryId,
    #[serde(with = "millis")]
    pub at: DateTime<Utc>,
    pub by: String,
    #[serde(flatten)]
    pub action: StepAction,
    pub note: String,
}

/// A photo attached to an event. The image itself is stored once, by its SHA-256.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PhotoRef {
    pub id: EntryId,
    /// Hex SHA-256 of the stored (re-encoded) JPEG.
    pub sha256: String,
    pub width: u32,
    pub height: u32,
    pub bytes: u64,
    #[serde(with = "millis")]
    pub taken_at: DateTime<Utc>,
    pub location: Option<Location>,
    pub by: String,
}

/// The fields of a new event.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEvent {
    pub category: String,
    pub title: String,
    pub description: String,
    pub location: Option<Location>,
    pub household_id: Option<HouseholdId>,
    pub urgency: Urgency,
}

/// An event as reported, with its derived state, steps and photos.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
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
    pub state: EventState,
    pub level: Level,
    pub department: Option<String>,
    /// When the event must be responded to (urgent) or handled (routine).
    #[serde(with = "millis")]
    pub deadline_at: DateTime<Utc>,
    pub overdue: bool,
    pub steps: Vec<Step>,
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
