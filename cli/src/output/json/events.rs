//! The shapes of events: the event with its steps and photos.

use gridbook_core::{Evaluation, Event, Location, PhotoRef, Step, StepAction};
use serde::Serialize;

use super::names::Name;
use super::{JsonShape, instant};

#[derive(Debug, Serialize)]
pub struct LocationJson {
    lat: f64,
    lon: f64,
    accuracy_m: f64,
}

fn location(l: &Location) -> LocationJson {
    LocationJson { lat: l.lat, lon: l.lon, accuracy_m: l.accuracy_m }
}

#[derive(Debug, Serialize)]
pub struct EventJson {
    id: String,
    grid_id: String,
    household_id: Option<String>,
    category: String,
    title: String,
    description: String,
    location: Option<LocationJson>,
    urgency: &'static str,
    reported_at: String,
    reported_by: String,
    state: &'static str,
    level: &'static str,
    department: Option<String>,
    deadline_at: String,
    overdue: bool,
    steps: Vec<StepJson>,
    photos: Vec<PhotoJson>,
}

impl JsonShape for Event {
    type Shape = EventJson;
    fn json_shape(&self) -> EventJson {
        EventJson {
            id: self.id.to_string(),
            grid_id: self.grid_id.to_string(),
            household_id: self.household_id.map(|h| h.to_string()),
            category: self.category.clone(),
            title: self.title.clone(),
            description: self.description.clone(),
            location: self.location.as_ref().map(location),
            urgency: self.urgency.json_name(),
            reported_at: instant(self.reported_at),
            reported_by: self.reported_by.clone(),
            state: self.state.json_name(),
            level: self.level.json_name(),
            department: self.department.clone(),
            deadline_at: instant(self.deadline_at),
            overdue: self.overdue,
            steps: self.steps.json_shape(),
            photos: self.photos.json_shape(),
        }
    }
}

/// A step always has every key: `department` is set by a dispatch and `evaluation` by an
/// evaluation; both are null otherwise.
#[derive(Debug, Serialize)]
pub struct StepJson {
    id: String,
    at: String,
    by: String,
    action: &'static str,
    note: String,
    department: Option<String>,
    evaluation: Option<EvaluationJson>,
}

#[derive(Debug, Serialize)]
pub struct EvaluationJson {
    response_speed: u8,
    performance: u8,
    completion: u8,
    feedback: u8,
    comment: String,
}

impl JsonShape for Step {
    type Shape = StepJson;
    fn json_shape(&self) -> StepJson {
        let (department, evaluation) = match &self.action {
            StepAction::Dispatch { department } => (Some(department.clone()), None),
            StepAction::Evaluate(Evaluation { response_speed, performance, completion, feedback, comment }) => {
                let evaluation = EvaluationJson {
                    response_speed: *response_speed,
                    performance: *performance,
                    completion: *completion,
                    feedback: *feedback,
                    comment: comment.clone(),
                };
                (None, Some(evaluation))
            }
            _ => (None, None),
        };
        StepJson {
            id: self.id.to_string(),
            at: instant(self.at),
            by: self.by.clone(),
            action: self.action.json_name(),
            note: self.note.clone(),
            department,
            evaluation,
        }
    }
}

#[derive(Debug, Serialize)]
pub struct PhotoJson {
    id: String,
    sha256: String,
    width: u32,
    height: u32,
    bytes: u64,
    taken_at: String,
    location: Option<LocationJson>,
    by: String,
}

impl JsonShape for PhotoRef {
    type Shape = PhotoJson;
    fn json_shape(&self) -> PhotoJson {
        PhotoJson {
            id: self.id.to_string(),
            sha256: self.sha256.clone(),
            width: self.width,
            height: self.height,
            bytes: self.bytes,
            taken_at: instant(self.taken_at),
            location: self.location.as_ref().map(location),
            by: self.by.clone(),
        }
    }
}
