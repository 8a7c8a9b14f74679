//! The event state machine. Local steps are refused when out of order; steps merged from several
//! devices are replayed in time order and any that no longer fit are kept in the history but do not
//! move the state, so every device derives the same state from the same steps.

use chrono::{DateTime, Utc};

use crate::error::{Error, Result};
use crate::model::{EventPolicy, EventState, Level, Step, StepAction, Urgency};

/// The state an event's steps lead to.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Lifecycle {
    pub state: EventState,
    pub level: Level,
    pub department: Option<String>,
    /// When the step that meets the event's deadline was taken.
    pub deadline_met_at: Option<DateTime<Utc>>,
}

impl Lifecycle {
    pub fn new() -> Self {
        Self { state: EventState::Reported, level: Level::Community, department: None, deadline_met_at: None }
    }

    /// Replays steps in time order, skipping the ones that do not fit.
    pub fn replay<'a>(urgency: Urgency, steps: impl IntoIterator<Item = &'a Step>) -> Self {
        let mut steps: Vec<&Step> = steps.into_iter().collect();
        steps.sort_by_key(|s| (s.at, s.id));
        let mut life = Self::new();
        for step in steps {
            // A step that does not fit after a merge is history, not state.
            let _ = life.apply(urgency, &step.action, step.at);
        }
        life
    }

    /// Applies one step, or says why it is out of order.
    pub fn apply(&mut self, urgency: Urgency, action: &StepAction, at: DateTime<Utc>) -> Result<()> {
        use EventState::*;
        let refuse = || Error::StepOutOfOrder { step: action.name(), state: state_name(self.state) };
        let next = match (action, self.state) {
            (StepAction::SolveOnSpot, Reported) => SolvedOnSpot,
            (StepAction::Dispatch { department }, Reported) => {
                if department.trim().is_empty() {
                    return Err(Error::invalid("department", "a dispatch needs a department"));
                }
                self.department = Some(department.trim().to_string());
                Dispatched
            }
            (StepAction::Accept, Dispatched) => Accepted,
            (StepAction::SendBack, Dispatched | Accepted) => {
                self.department = None;
                Reported
            }
            (StepAction::Resolve, Accepted) => Resolved,
            (StepAction::Escalate, Reported | Dispatched | Accepted) => {
                self.level = self
                    .level
                    .above()
                    .ok_or_else(|| Error::invalid("escalation", "the event is already at district level"))?;
                self.department = None;
                Reported
            }
            (StepAction::Evaluate(e), Resolved) => {
                let ratings = [e.response_speed, e.performance, e.completion, e.feedback];
                if ratings.iter().any(|r| !(1..=5).contains(r)) {
                    return Err(Error::invalid("rating", "ratings go from 1 to 5"));
                }
                Evaluated
            }
            (StepAction::Close, SolvedOnSpot | Evaluated) => Closed,
            _ => return Err(refuse()),
        };
        let meets_deadline = match urgency {
            Urgency::Urgent => matches!(next, SolvedOnSpot | Accepted | Resolved),
            Urgency::Routine => matches!(next, SolvedOnSpot | Resolved),
        };
        if meets_deadline && self.deadline_met_at.is_none() {
            self.deadline_met_at = Some(at);
        }
        self.state = next;
        Ok(())
    }

    pub fn deadline(urgency: Urgency, reported_at: DateTime<Utc>, policy: &EventPolicy) -> DateTime<Utc> {
        reported_at
            + match urgency {
                Urgency::Urgent => policy.urgent_response,
                Urgency::Routine => policy.routine_handling,
            }
    }
}

fn state_name(state: EventState) -> &'static str {
    match state {
        EventState::Reported => "reported",
        EventState::SolvedOnSpot => "solved on the spot",
        EventState::Dispatched => "dispatched",
        EventState::Accepted => "accepted",
        EventState::Resolved => "resolved",
        EventState::Evaluated => "evaluated",
        EventState::Closed => "closed",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::EntryId;
    use crate::model::Evaluation;

    fn at(min: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + min * 60, 0).expect("time")
    }

    #[test]
    fn full_path_and_refusals() {
        let mut life = Lifecycle::new();
        assert!(matches!(life.apply(Urgency::Urgent, &StepAction::Accept, at(1)), Err(Error::StepOutOfOrder { .. })));
        life.apply(Urgency::Urgent, &StepAction::Dispatch { department: "gas company".into() }, at(1)).expect("ok");
        life.apply(Urgency::Urgent, &StepAction::Accept, at(2)).expect("ok");
        assert_eq!(life.deadline_met_at, Some(at(2)));
        life.apply(Urgency::Urgent, &StepAction::Resolve, at(3)).expect("ok");
        let bad = Evaluation { response_speed: 6, performance: 5, completion: 5, feedback: 5, comment: String::new() };
        assert!(life.apply(Urgency::Urgent, &StepAction::Evaluate(bad), at(4)).is_err());
        let good = Evaluation { response_speed: 5, performance: 4, completion: 5, feedback: 5, comment: String::new() };
        life.apply(Urgency::Urgent, &StepAction::Evaluate(good), at(4)).expect("ok");
        life.apply(Urgency::Urgent, &StepAction::Close, at(5)).expect("ok");
        assert_eq!(life.state, EventState::Closed);
    }

    #[test]
    fn escalation_stops_at_district() {
        let mut life = Lifecycle::new();
        life.apply(Urgency::Routine, &StepAction::Escalate, at(1)).expect("street");
        life.apply(Urgency::Routine, &StepAction::Escalate, at(2)).expect("district");
        assert_eq!(life.level, Level::District);
        assert!(life.apply(Urgency::Routine, &StepAction::Escalate, at(3)).is_err());
    }

    #[test]
    fn replay_orders_by_time_and_skips_what_no_longer_fits() {
        let step = |min, action| Step { id: EntryId::new(), at: at(min), by: "x".into(), action, note: String::new() };
        let steps = [
            step(2, StepAction::SolveOnSpot),
            step(1, StepAction::Dispatch { department: "housing bureau".into() }),
            step(3, StepAction::Accept),
        ];
        let life = Lifecycle::replay(Urgency::Routine, &steps);
        assert_eq!(life.state, EventState::Accepted);
        assert_eq!(life.department.as_deref(), Some("housing bureau"));
    }
}
