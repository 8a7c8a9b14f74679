//! Events from the app: reporting a problem, taking its steps, and its photos.

use std::path::Path;

use gridbook_core::{Event, EventId, EventState, GridId, Location, NewEvent, PhotoRef, StepAction, Timestamp};

use crate::error::{GridbookError, guard};
use crate::gridbook::Gridbook;

#[uniffi::export]
impl Gridbook {
    /// Reports an event in a grid; its deadline follows from its urgency.
    ///
    /// # Errors
    /// `NotFound` for an unknown grid or household; `InvalidInput` for an empty category or title, a
    /// household of another grid, or a location out of range; `Storage` if the write fails.
    pub fn report_event(&self, grid: GridId, new: NewEvent) -> Result<Event, GridbookError> {
        guard(|| self.store.report_event(grid, new))
    }

    /// Takes a step on an event; one out of order is refused with `StepOutOfOrder`.
    ///
    /// # Errors
    /// `NotFound` for an unknown event; `StepOutOfOrder` for a step the event's state does not allow;
    /// `InvalidInput` for a rating outside 1–5, a dispatch without a department or an escalation past the
    /// district; `Storage` if the write fails.
    pub fn event_step(&self, id: EventId, action: StepAction, note: String) -> Result<Event, GridbookError> {
        guard(|| self.store.event_step(id, action, &note))
    }

    /// Attaches the JPEG or PNG at `path`: checked, resized, re-encoded and stored once by its
    /// SHA-256. A file that is not such an image is refused with `NotAnImage`.
    ///
    /// # Errors
    /// `NotFound` for an unknown event; `NotAnImage` for a file that is not a JPEG or PNG image;
    /// `InvalidInput` for an image too large to decode; `Storage` if the file cannot be read or the
    /// photo cannot be stored.
    pub fn attach_photo(
        &self,
        event: EventId,
        path: String,
        taken_at: Option<Timestamp>,
        location: Option<Location>,
    ) -> Result<PhotoRef, GridbookError> {
        guard(|| self.store.attach_photo(event, Path::new(&path), taken_at, location))
    }

    /// The photo with this SHA-256 as JPEG bytes, if it is on this device: decrypted in memory
    /// when the store is encrypted (its file on the device is sealed), to show as it is.
    ///
    /// # Errors
    /// `InvalidInput` if `sha256` is not 64 hex digits; `Corrupt` if the photo's file is damaged or
    /// was altered (nothing of it is returned); `Storage` if it cannot be read.
    pub fn photo(&self, sha256: String) -> Result<Option<Vec<u8>>, GridbookError> {
        guard(|| self.store.photo(&sha256))
    }

    /// One event, with its steps and photos.
    ///
    /// # Errors
    /// `NotFound` for an unknown event; `Storage` if the store cannot be read.
    pub fn event(&self, id: EventId) -> Result<Event, GridbookError> {
        guard(|| self.store.event(id))
    }

    /// Open events (one grid, or all), optionally in one state, newest first.
    ///
    /// # Errors
    /// `Storage` if the store cannot be read.
    pub fn open_events(&self, grid: Option<GridId>, state: Option<EventState>) -> Result<Vec<Event>, GridbookError> {
        guard(|| self.store.open_events(grid, state))
    }

    /// Open events past their deadline, oldest first.
    ///
    /// # Errors
    /// `Storage` if the store cannot be read.
    pub fn overdue_events(&self, grid: Option<GridId>) -> Result<Vec<Event>, GridbookError> {
        guard(|| self.store.overdue_events(grid))
    }
}
