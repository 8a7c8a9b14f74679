//! The object an app opens on a directory: every local call, each synchronous and fast (reads come
//! from the query tables), each behind the panic guard.

use std::path::Path;
use std::sync::{Arc, OnceLock};

use chrono::Duration;
use gb::{
    CareTag, Coverage, DueCheck, Durability, Event, EventId, EventState, Grid, GridId, HistoryEntry, Household,
    HouseholdId, IdNumberInfo, LastVisit, Location, NewEvent, NewGrid, NewHousehold, NewResident, NewRoutine, NewVisit,
    Observation, Page, PhotoRef, Resident, ResidentId, Routine, RoutineEdit, RoutineId, StepAction, Visit,
};
use gridbook_core::sync::Trust;
use gridbook_core::{self as gb, Store, StoreConfig};

use crate::error::{GridbookError, guard};
use crate::inputs::{FollowUp, HouseholdEdit, ResidentEdit, Sighting};
use crate::types::{IsoDate, Timestamp};

/// Who is working on this device, and how the store behaves. Only `user` and `device` are required.
#[derive(Debug, Clone, uniffi::Record)]
pub struct OpenOptions {
    /// The person working: recorded with every change.
    pub user: String,
    /// This device's name: recorded with every change.
    pub device: String,
    /// The district's IANA time zone; "today" and deadlines are computed in it. Default Asia/Shanghai.
    #[uniffi(default)]
    pub timezone: Option<String>,
    /// Default `Full`: a write survives a power cut.
    #[uniffi(default)]
    pub durability: Option<Durability>,
    /// Longest edge of a stored photo, in pixels. Default 1600.
    #[uniffi(default)]
    pub photo_long_edge: Option<u32>,
    /// JPEG quality of a stored photo, 1–100. Default 80.
    #[uniffi(default)]
    pub photo_quality: Option<u8>,
    /// An urgent event must be accepted within this many minutes. Default 120.
    #[uniffi(default)]
    pub urgent_response_minutes: Option<u32>,
    /// A routine event must be resolved within this many minutes. Default 1440 (24 hours).
    #[uniffi(default)]
    pub routine_handling_minutes: Option<u32>,
    /// The district server's own certificate authority (PEM), if its `https://` certificate is not
    /// from a public CA. Otherwise certificates are checked against the system's roots on iOS, and
    /// on Android against Mozilla's, compiled into the library.
    #[uniffi(default)]
    pub district_ca: Option<String>,
}

/// A grid member's, secretary's or centre's store on this device. Safe to call from several
/// threads at once: the UI thread reads while a background job syncs.
#[derive(Debug, uniffi::Object)]
pub struct Gridbook {
    pub(crate) store: Arc<Store>,
    /// Sync's network runtime, started on the first sync: an app that never syncs runs no threads.
    pub(crate) runtime: OnceLock<tokio::runtime::Runtime>,
    pub(crate) trust: Trust,
}

impl Drop for Gridbook {
    fn drop(&mut self) {
        // Dropping a runtime blocks until its threads stop, which tokio refuses inside another
        // runtime (an app's own async code may hold the last reference).
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

fn config(options: OpenOptions) -> gb::Result<StoreConfig> {
    let mut config = StoreConfig::new(options.user, options.device);
    if let Some(zone) = options.timezone {
        config = config.with_timezone(&zone)?;
    }
    if let Some(durability) = options.durability {
        config.durability = durability;
    }
    if let Some(edge) = options.photo_long_edge {
        config.photos.max_long_edge = edge;
    }
    if let Some(quality) = options.photo_quality {
        config.photos.jpeg_quality = quality;
    }
    if let Some(minutes) = options.urgent_response_minutes {
        config.events.urgent_response = Duration::minutes(minutes.into());
    }
    if let Some(minutes) = options.routine_handling_minutes {
        config.events.routine_handling = Duration::minutes(minutes.into());
    }
    Ok(config)
}

#[uniffi::export]
impl Gridbook {
    /// Opens the store in `dir`, creating it if need be. A damaged database is moved aside (never
    /// deleted) and reported as `Corrupt`.
    #[uniffi::constructor]
    pub fn open(dir: String, options: OpenOptions) -> Result<Arc<Self>, GridbookError> {
        let trust = Trust { district_ca: options.district_ca.clone(), ..Trust::default() };
        let store = guard(|| Store::open(&dir, config(options)?))?;
        Ok(Arc::new(Self { store: Arc::new(store), runtime: OnceLock::new(), trust }))
    }

    /// Today in the district's time zone.
    pub fn today(&self) -> IsoDate {
        self.store.today()
    }

    /// The district's local day of a moment.
    pub fn local_day(&self, at: Timestamp) -> IsoDate {
        at.with_timezone(&self.store.config().timezone).date_naive()
    }

    // The population ledger.

    /// Creates a grid.
    pub fn create_grid(&self, new: NewGrid) -> Result<Grid, GridbookError> {
        guard(|| self.store.create_grid(new))
    }

    /// Every grid in this store, by name.
    pub fn grids(&self) -> Result<Vec<Grid>, GridbookError> {
        guard(|| self.store.grids())
    }

    pub fn grid(&self, id: GridId) -> Result<Grid, GridbookError> {
        guard(|| self.store.grid(id))
    }

    /// Adds a household to a grid.
    pub fn add_household(&self, grid: GridId, new: NewHousehold) -> Result<Household, GridbookError> {
        guard(|| self.store.add_household(grid, new))
    }

    pub fn edit_household(&self, id: HouseholdId, edit: HouseholdEdit) -> Result<Household, GridbookError> {
        let edit = edit.try_into()?;
        guard(|| self.store.edit_household(id, edit))
    }

    /// Marks a whole household as moved out (it stays in the ledger's history).
    pub fn move_out_household(&self, id: HouseholdId) -> Result<Household, GridbookError> {
        guard(|| self.store.move_out_household(id))
    }

    pub fn household(&self, id: HouseholdId) -> Result<Household, GridbookError> {
        guard(|| self.store.household(id))
    }

    /// A grid's households in address order, a page at a time.
    pub fn households(
        &self,
        grid: GridId,
        include_moved_out: bool,
        page: Page,
    ) -> Result<Vec<Household>, GridbookError> {
        guard(|| self.store.households(grid, include_moved_out, page))
    }

    /// Adds a resident; an ID number is checked (GB 11643) and must agree with gender and birth date.
    pub fn add_resident(&self, household: HouseholdId, new: NewResident) -> Result<Resident, GridbookError> {
        guard(|| self.store.add_resident(household, new))
    }

    pub fn edit_resident(&self, id: ResidentId, edit: ResidentEdit) -> Result<Resident, GridbookError> {
        let edit = edit.try_into()?;
        guard(|| self.store.edit_resident(id, edit))
    }

    pub fn move_out_resident(&self, id: ResidentId) -> Result<Resident, GridbookError> {
        guard(|| self.store.move_out_resident(id))
    }

    pub fn mark_deceased(&self, id: ResidentId) -> Result<Resident, GridbookError> {
        guard(|| self.store.mark_deceased(id))
    }

    pub fn resident(&self, id: ResidentId) -> Result<Resident, GridbookError> {
        guard(|| self.store.resident(id))
    }

    /// A household's residents, those still present first.
    pub fn residents_of(&self, household: HouseholdId) -> Result<Vec<Resident>, GridbookError> {
        guard(|| self.store.residents_of(household))
    }

    /// Finds residents by any part of the name, by ID number (whole or its start) or by phone (whole
    /// or its end); in one grid or all. Present residents first; at most `limit`.
    pub fn search_residents(
        &self,
        text: String,
        grid: Option<GridId>,
        limit: u32,
    ) -> Result<Vec<Resident>, GridbookError> {
        guard(|| self.store.search_residents(&text, grid, limit))
    }

    /// Present residents with a care tag, optionally only those at least `min_age` years old today.
    pub fn residents_with_tag(
        &self,
        tag: CareTag,
        min_age: Option<u32>,
        grid: Option<GridId>,
    ) -> Result<Vec<Resident>, GridbookError> {
        guard(|| self.store.residents_with_tag(tag, min_age, grid))
    }

    // Curtain checks.

    /// Defines a daily signal for a resident.
    pub fn add_routine(&self, resident: ResidentId, new: NewRoutine) -> Result<Routine, GridbookError> {
        guard(|| self.store.add_routine(resident, new))
    }

    /// Changes a routine; `active = false` pauses it.
    pub fn edit_routine(&self, id: RoutineId, edit: RoutineEdit) -> Result<Routine, GridbookError> {
        guard(|| self.store.edit_routine(id, edit))
    }

    pub fn routine(&self, id: RoutineId) -> Result<Routine, GridbookError> {
        guard(|| self.store.routine(id))
    }

    pub fn routines_of(&self, resident: ResidentId) -> Result<Vec<Routine>, GridbookError> {
        guard(|| self.store.routines_of(resident))
    }

    /// Records that the signal was seen.
    pub fn record_sighting(&self, sighting: Sighting) -> Result<Observation, GridbookError> {
        let Sighting { routine, day, at, note } = sighting;
        guard(|| self.store.record_sighting(routine, day, at, &note))
    }

    /// Records the follow-up of a missed signal, with its outcome.
    pub fn record_follow_up(&self, follow_up: FollowUp) -> Result<Observation, GridbookError> {
        let FollowUp { routine, day, outcome, note } = follow_up;
        guard(|| self.store.record_follow_up(routine, day, outcome, &note))
    }

    /// The routines due on a local day (one grid, or all) with their state; missed ones first.
    pub fn due_checks(&self, grid: Option<GridId>, day: IsoDate) -> Result<Vec<DueCheck>, GridbookError> {
        guard(|| self.store.due_checks(grid, day))
    }

    // Visits.

    pub fn record_visit(&self, household: HouseholdId, new: NewVisit) -> Result<Visit, GridbookError> {
        guard(|| self.store.record_visit(household, new))
    }

    /// A household's visits, newest first.
    pub fn visits_of(&self, household: HouseholdId) -> Result<Vec<Visit>, GridbookError> {
        guard(|| self.store.visits_of(household))
    }

    /// Households visited out of households, over local days `from` to `to` inclusive.
    pub fn coverage(&self, grid: GridId, from: IsoDate, to: IsoDate) -> Result<Coverage, GridbookError> {
        guard(|| self.store.coverage(grid, from, to))
    }

    /// Each household of a grid with its most recent visit.
    pub fn last_visits(&self, grid: GridId) -> Result<Vec<LastVisit>, GridbookError> {
        guard(|| self.store.last_visits(grid))
    }

    // Events.

    pub fn report_event(&self, grid: GridId, new: NewEvent) -> Result<Event, GridbookError> {
        guard(|| self.store.report_event(grid, new))
    }

    /// Takes a step on an event; one out of order is refused with `StepOutOfOrder`.
    pub fn event_step(&self, id: EventId, action: StepAction, note: String) -> Result<Event, GridbookError> {
        guard(|| self.store.event_step(id, action, &note))
    }

    /// Attaches the JPEG or PNG at `path`: checked, resized, re-encoded and stored once by its
    /// SHA-256. A file that is not such an image is refused with `NotAnImage`.
    pub fn attach_photo(
        &self,
        event: EventId,
        path: String,
        taken_at: Option<Timestamp>,
        location: Option<Location>,
    ) -> Result<PhotoRef, GridbookError> {
        guard(|| self.store.attach_photo(event, Path::new(&path), taken_at, location))
    }

    /// Where the photo with this SHA-256 is on this device, if it is here.
    pub fn photo_file(&self, sha256: String) -> Option<String> {
        self.store.photo_file(&sha256).map(|p| p.to_string_lossy().into_owned())
    }

    pub fn event(&self, id: EventId) -> Result<Event, GridbookError> {
        guard(|| self.store.event(id))
    }

    /// Open events (one grid, or all), optionally in one state, newest first.
    pub fn open_events(&self, grid: Option<GridId>, state: Option<EventState>) -> Result<Vec<Event>, GridbookError> {
        guard(|| self.store.open_events(grid, state))
    }

    /// Open events past their deadline, oldest first.
    pub fn overdue_events(&self, grid: Option<GridId>) -> Result<Vec<Event>, GridbookError> {
        guard(|| self.store.overdue_events(grid))
    }

    // History.

    /// Who changed which field of a household and everyone in it, when; oldest first.
    pub fn household_history(&self, id: HouseholdId) -> Result<Vec<HistoryEntry>, GridbookError> {
        guard(|| self.store.household_history(id))
    }

    /// Who changed which field of one resident, when; oldest first.
    pub fn resident_history(&self, id: ResidentId) -> Result<Vec<HistoryEntry>, GridbookError> {
        guard(|| self.store.resident_history(id))
    }
}

/// Checks an 18-character resident ID number (GB 11643) and reads the birth date and gender in it.
#[uniffi::export]
pub fn parse_id_number(raw: String) -> Result<IdNumberInfo, GridbookError> {
    guard(|| gb::parse_id_number(&raw))
}

/// A mainland mobile number in canonical form (11 digits starting with 1), or `InvalidInput`.
#[uniffi::export]
pub fn normalize_phone(raw: String) -> Result<String, GridbookError> {
    guard(|| gb::normalize_phone(&raw))
}
