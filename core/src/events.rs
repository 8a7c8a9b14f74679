//! Events: report, photos, steps through the lifecycle, and the lists the centre watches.

use std::path::Path;

use chrono::{DateTime, Utc};
use rusqlite::params;

use crate::db::query::{one, rows};
use crate::doc::{key, write_record};
use crate::error::{Error, Result};
use crate::ids::{DocId, EntryId, EventId, GridId};
use crate::lifecycle::Lifecycle;
use crate::model::*;
use crate::photos;
use crate::store::Store;

impl Store {
    /// Reports an event in a grid.
    ///
    /// # Errors
    /// [`Error::NotFound`] for an unknown grid or household, or a household of another grid;
    /// [`Error::InvalidInput`] for an empty category or title, or a location out of range.
    pub fn report_event(&self, grid: GridId, new: NewEvent) -> Result<Event> {
        self.grid(grid)?;
        if let Some(h) = new.household_id
            && self.household(h)?.grid_id != grid
        {
            return Err(Error::invalid("household", "belongs to another grid"));
        }
        if let Some(location) = &new.location {
            location.validate()?;
        }
        let report = EventReport {
            id: EventId::new(),
            grid_id: grid,
            household_id: new.household_id,
            category: crate::validate::line("category", &new.category)?,
            title: crate::validate::line("title", &new.title)?,
            description: crate::validate::text("description", &new.description)?,
            location: new.location,
            urgency: new.urgency,
            reported_at: self.now(),
            reported_by: self.author().user,
        };
        let doc = DocId::event(grid, report.id);
        let seal = self.seal_for(report.id.0, &doc, true)?;
        self.edit(&doc, "report event", |tx| {
            write_record(tx, key::EVENT, &report, seal.as_ref())?;
            Ok(((), vec![key::EVENT.into()]))
        })?;
        self.event(report.id)
    }

    /// Takes a step on an event, refusing one that is out of order.
    ///
    /// # Errors
    /// [`Error::NotFound`] for an unknown event; [`Error::StepOutOfOrder`]; [`Error::InvalidInput`]
    /// for a rating outside 1–5, a dispatch without a department or an escalation past the district.
    pub fn event_step(&self, id: EventId, action: StepAction, note: &str) -> Result<Event> {
        match &action {
            StepAction::Dispatch { department } => {
                crate::validate::line("department", department)?;
            }
            StepAction::Evaluate(e) => {
                crate::validate::text("comment", &e.comment)?;
            }
            _ => {}
        }
        let event = self.event(id)?;
        let now = self.now();
        let mut life = Lifecycle::replay(event.urgency, &event.steps);
        life.apply(event.urgency, &action, now)?;
        // A step after the last one keeps the replay order equal to the order steps were taken in.
        let at = event.steps.iter().map(|s| s.at).max().map_or(now, |last| now.max(last));
        let step =
            Step { id: EntryId::new(), at, by: self.author().user, action, note: crate::validate::text("note", note)? };
        let root_key = key::of(key::STEP, step.id);
        let doc = DocId::event(event.grid_id, id);
        let seal = self.seal_for(id.0, &doc, false)?;
        self.edit(&doc, step.action.name(), |tx| {
            write_record(tx, &root_key, &step, seal.as_ref())?;
            Ok(((), vec![root_key.clone()]))
        })?;
        self.event(id)
    }

    /// Attaches a photo from a file. The image is checked to be a JPEG or PNG, resized and
    /// re-encoded as configured, and stored once by its SHA-256.
    ///
    /// # Errors
    /// [`Error::NotFound`]; [`Error::NotAnImage`]; [`Error::PhotoTooLarge`]; [`Error::Io`] if the file
    /// cannot be read.
    pub fn attach_photo(
        &self,
        id: EventId,
        file: &Path,
        taken_at: Option<DateTime<Utc>>,
        location: Option<Location>,
    ) -> Result<PhotoRef> {
        let event = self.event(id)?;
        if let Some(location) = &location {
            location.validate()?;
        }
        let stored = photos::store_file(self, file)?;
        let photo = PhotoRef {
            id: EntryId::new(),
            sha256: stored.sha256,
            width: stored.width,
            height: stored.height,
            bytes: stored.bytes,
            taken_at: taken_at.unwrap_or_else(|| self.now()),
            location,
            by: self.author().user,
        };
        let root_key = key::of(key::PHOTO, photo.id);
        self.edit(&DocId::event(event.grid_id, id), "attach photo", |tx| {
            write_record(tx, &root_key, &photo, None)?;
            Ok(((), vec![root_key.clone()]))
        })?;
        Ok(photo)
    }

    /// # Errors
    /// [`Error::NotFound`] for an unknown event.
    pub fn event(&self, id: EventId) -> Result<Event> {
        let event = self.read(|c| one(c, "SELECT record FROM events WHERE id = ?1", id, "event"))?;
        Ok(self.with_deadline(event))
    }

    /// Open events (all grids, or one), optionally in one state, newest first.
    pub fn open_events(&self, grid: Option<GridId>, state: Option<EventState>) -> Result<Vec<Event>> {
        let events: Vec<Event> = self.read(|c| {
            rows(
                c,
                "SELECT record FROM events WHERE open AND (?1 IS NULL OR grid_id = ?1) AND (?2 IS NULL OR state = ?2)
                 ORDER BY reported_at DESC, id",
                params![grid, state.map(|s| s.to_string())],
            )
        })?;
        Ok(events.into_iter().map(|e| self.with_deadline(e)).collect())
    }

    /// Open events past their deadline whose deadline step has not been taken, oldest first.
    pub fn overdue_events(&self, grid: Option<GridId>) -> Result<Vec<Event>> {
        let now = self.now().timestamp_millis();
        let policy = self.config.events;
        let events: Vec<Event> = self.read(|c| {
            rows(
                c,
                "SELECT record FROM events WHERE open AND deadline_met_at IS NULL AND (?1 IS NULL OR grid_id = ?1)
                   AND reported_at < ?2 - CASE urgency WHEN 'urgent' THEN ?3 ELSE ?4 END
                 ORDER BY reported_at, id",
                params![
                    grid,
                    now,
                    policy.urgent_response.num_milliseconds(),
                    policy.routine_handling.num_milliseconds()
                ],
            )
        })?;
        Ok(events.into_iter().map(|e| self.with_deadline(e)).collect())
    }

    fn with_deadline(&self, mut event: Event) -> Event {
        event.deadline_at = Lifecycle::deadline(event.urgency, event.reported_at, &self.config.events);
        let life = Lifecycle::replay(event.urgency, &event.steps);
        event.overdue = event.state.is_open() && life.deadline_met_at.is_none() && self.now() > event.deadline_at;
        event
    }
}
