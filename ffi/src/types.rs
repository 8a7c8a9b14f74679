//! The core's records and enums as they cross the boundary. Each `#[uniffi::remote]` item mirrors
//! the core's own definition (the compiler checks that it matches); the `///` comments become the
//! Kotlin and Swift documentation.
//!
//! Custom types: ids cross as their UUID text, times as milliseconds since the epoch (UTC), dates as
//! `YYYY-MM-DD` and local times as `HH:MM`. Text that does not parse is refused with
//! [`GridbookError::InvalidInput`] before the call runs (uniffi hands a failed argument's error back
//! as the call's own), so an app never sees an unexpected exception for a bad id or date.

use std::collections::BTreeSet;

use chrono::{DateTime, NaiveDate, NaiveTime, Timelike, Utc};
use gridbook_core::sync::SyncStatus;
use gridbook_core::{
    CareTag, CheckState, Coverage, Day, DueCheck, Durability, EntryId, Evaluation, Event, EventId, EventState, Gender,
    Grid, GridId, HistoryEntry, Household, HouseholdId, HouseholdStatus, IdNumberInfo, LastVisit, Level, Location,
    NewEvent, NewGrid, NewHousehold, NewResident, NewRoutine, NewVisit, Observation, Outcome, Page, PhotoRef,
    Registration, Relation, Resident, ResidentId, ResidentStatus, Routine, RoutineEdit, RoutineId, Satisfaction,
    SignalKind, Step, StepAction, Urgency, Visit, VisitId, VisitKind,
};

use crate::error::GridbookError;

/// uniffi's lift errors are `anyhow` errors (re-exported by uniffi); a [`GridbookError`] inside one
/// reaches the app as that typed error.
fn invalid(what: &str) -> uniffi::deps::anyhow::Error {
    GridbookError::InvalidInput(what.to_string()).into()
}

macro_rules! id_types {
    ($($ty:ident),*) => {$(
        uniffi::custom_type!($ty, String, {
            remote,
            lower: |id| id.to_string(),
            try_lift: |text| text.parse::<$ty>().map_err(|e| GridbookError::from(e).into()),
        });
    )*};
}
id_types!(GridId, HouseholdId, ResidentId, RoutineId, VisitId, EventId, EntryId);

/// A moment, as milliseconds since 1970-01-01 UTC.
pub type Timestamp = DateTime<Utc>;
uniffi::custom_type!(Timestamp, i64, {
    remote,
    lower: |t| t.timestamp_millis(),
    try_lift: |ms| DateTime::from_timestamp_millis(ms).ok_or_else(|| invalid("time out of range")),
});

/// A local day of the district, `YYYY-MM-DD`.
pub type IsoDate = NaiveDate;
uniffi::custom_type!(IsoDate, String, {
    remote,
    lower: |d| d.format("%Y-%m-%d").to_string(),
    try_lift: |text| {
        NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d").map_err(|_| invalid("a date is written YYYY-MM-DD"))
    },
});

/// A local wall-clock time of the district, `HH:MM` (or `HH:MM:SS`).
pub type IsoTime = NaiveTime;
uniffi::custom_type!(IsoTime, String, {
    remote,
    lower: |t| t.format(if t.second() == 0 { "%H:%M" } else { "%H:%M:%S" }).to_string(),
    try_lift: |text| {
        let text = text.trim();
        NaiveTime::parse_from_str(text, "%H:%M")
            .or_else(|_| NaiveTime::parse_from_str(text, "%H:%M:%S"))
            .map_err(|_| invalid("a time is written HH:MM"))
    },
});

/// Care tags as a list (a set in the core: duplicates collapse).
pub type CareTags = BTreeSet<CareTag>;
uniffi::custom_type!(CareTags, Vec<CareTag>, {
    remote,
    lower: |set| set.into_iter().collect(),
    try_lift: |list| Ok(list.into_iter().collect()),
});

/// Days of the week as a list (a set in the core: duplicates collapse).
pub type Days = BTreeSet<Day>;
uniffi::custom_type!(Days, Vec<Day>, {
    remote,
    lower: |set| set.into_iter().collect(),
    try_lift: |list| Ok(list.into_iter().collect()),
});

/// How hard a commit waits for the disk.
#[uniffi::remote(Enum)]
pub enum Durability {
    /// Survives the app being killed and a power cut (the default).
    Full,
    /// Survives the app being killed; a power cut may lose the last writes. Faster.
    Normal,
}

/// Special-care groups.
#[uniffi::remote(Enum)]
pub enum CareTag {
    LivingAlone,
    Elderly,
    LowIncome,
    Disability,
    LeftBehindChild,
    RentalHousing,
}

#[uniffi::remote(Enum)]
pub enum Gender {
    Male,
    Female,
}

/// Relation to the head of the household.
#[uniffi::remote(Enum)]
pub enum Relation {
    Head,
    Spouse,
    Child,
    ChildInLaw,
    Parent,
    Grandchild,
    Grandparent,
    Sibling,
    Other,
}

/// On the household register here, living here, or floating population.
#[uniffi::remote(Enum)]
pub enum Registration {
    Registered,
    Resident,
    Floating,
}

#[uniffi::remote(Enum)]
pub enum HouseholdStatus {
    Active,
    MovedOut,
}

#[uniffi::remote(Enum)]
pub enum ResidentStatus {
    Present,
    MovedOut,
    Deceased,
}

/// A grid, with the village or community and the township or street above it.
#[uniffi::remote(Record)]
pub struct Grid {
    pub id: GridId,
    pub name: String,
    pub village: String,
    pub township: String,
    pub created_at: Timestamp,
}

/// The fields of a new grid.
#[uniffi::remote(Record)]
pub struct NewGrid {
    pub name: String,
    pub village: String,
    pub township: String,
}

/// A page of a list: `offset` rows skipped, at most `limit` returned.
#[uniffi::remote(Record)]
pub struct Page {
    pub offset: u32,
    pub limit: u32,
}

/// A household of the ledger.
#[uniffi::remote(Record)]
pub struct Household {
    pub id: HouseholdId,
    pub grid_id: GridId,
    /// Building/unit/room, or village group and house number.
    pub address: String,
    pub head_name: String,
    pub phone: Option<String>,
    pub care_tags: CareTags,
    pub notes: String,
    pub status: HouseholdStatus,
    pub moved_out_at: Option<Timestamp>,
}

/// The fields of a new household.
#[uniffi::remote(Record)]
pub struct NewHousehold {
    pub address: String,
    pub head_name: String,
    pub phone: Option<String>,
    pub care_tags: CareTags,
    pub notes: String,
}

/// A resident of a household.
#[uniffi::remote(Record)]
pub struct Resident {
    pub id: ResidentId,
    pub household_id: HouseholdId,
    pub grid_id: GridId,
    pub name: String,
    /// The 18-character resident ID number (GB 11643), if known.
    pub id_number: Option<String>,
    pub gender: Gender,
    pub birth_date: IsoDate,
    pub relation: Relation,
    pub phone: Option<String>,
    pub registration: Registration,
    pub care_tags: CareTags,
    pub status: ResidentStatus,
    pub status_changed_at: Option<Timestamp>,
}

/// The fields of a new resident. Gender and birth date may be left out when an ID number is given
/// (they are read from it); when both are given they must agree with it.
#[uniffi::remote(Record)]
pub struct NewResident {
    pub name: String,
    pub id_number: Option<String>,
    pub gender: Option<Gender>,
    pub birth_date: Option<IsoDate>,
    pub relation: Relation,
    pub phone: Option<String>,
    pub registration: Registration,
    pub care_tags: CareTags,
}

/// What a resident ID number says about its holder.
#[uniffi::remote(Record)]
pub struct IdNumberInfo {
    /// The number in canonical form (upper-case check character).
    pub normalized: String,
    pub birth_date: IsoDate,
    pub gender: Gender,
}

/// The daily signal a resident agreed to give.
#[uniffi::remote(Enum)]
pub enum SignalKind {
    Curtains,
    Light,
    PhoneCheckIn,
    Other,
}

#[uniffi::remote(Enum)]
pub enum Day {
    Mon,
    Tue,
    Wed,
    Thu,
    Fri,
    Sat,
    Sun,
}

/// A resident's daily welfare signal with its local deadline.
#[uniffi::remote(Record)]
pub struct Routine {
    pub id: RoutineId,
    pub resident_id: ResidentId,
    pub household_id: HouseholdId,
    pub grid_id: GridId,
    pub signal: SignalKind,
    /// Local time of the district by which the signal is expected.
    pub deadline: IsoTime,
    pub days: Days,
    pub active: bool,
    pub note: String,
}

/// The fields of a new routine.
#[uniffi::remote(Record)]
pub struct NewRoutine {
    pub signal: SignalKind,
    pub deadline: IsoTime,
    pub days: Days,
    pub note: String,
}

/// An edit to a routine: `null`/`nil` leaves a field as it is; `active = false` pauses it.
#[uniffi::remote(Record)]
pub struct RoutineEdit {
    pub signal: Option<SignalKind>,
    pub deadline: Option<IsoTime>,
    pub days: Option<Days>,
    pub active: Option<bool>,
    pub note: Option<String>,
}

/// How a missed signal was followed up at the door.
#[uniffi::remote(Enum)]
pub enum Outcome {
    AllWell,
    NeededHelp,
    NotHome,
    Escalated,
    RelativesCalled,
}

/// One observation of a routine on a local day: the signal seen, or a follow-up.
#[uniffi::remote(Record)]
pub struct Observation {
    pub id: EntryId,
    pub routine_id: RoutineId,
    pub day: IsoDate,
    pub at: Timestamp,
    pub by: String,
    pub note: String,
    /// `null`/`nil` for a sighting; the outcome for a follow-up.
    pub outcome: Option<Outcome>,
}

/// A routine's state on one local day.
#[uniffi::remote(Enum)]
pub enum CheckState {
    /// Before the deadline, nothing seen yet.
    Waiting,
    Seen {
        at: Timestamp,
        by: String,
        note: String,
    },
    /// The deadline passed with nothing seen: someone must go to the door.
    Missed,
    FollowedUp {
        outcome: Outcome,
        at: Timestamp,
        by: String,
        note: String,
    },
}

/// A routine due on a day, with what has happened so far.
#[uniffi::remote(Record)]
pub struct DueCheck {
    pub routine_id: RoutineId,
    pub resident_id: ResidentId,
    pub resident_name: String,
    pub household_id: HouseholdId,
    pub address: String,
    pub signal: SignalKind,
    pub day: IsoDate,
    pub deadline_at: Timestamp,
    pub state: CheckState,
}

#[uniffi::remote(Enum)]
pub enum VisitKind {
    Home,
    Phone,
    OnTheSpot,
    FollowUp,
}

/// A resident's satisfaction, asked on a follow-up visit.
#[uniffi::remote(Enum)]
pub enum Satisfaction {
    VerySatisfied,
    Satisfied,
    Neutral,
    Dissatisfied,
}

/// A recorded visit to a household.
#[uniffi::remote(Record)]
pub struct Visit {
    pub id: VisitId,
    pub household_id: HouseholdId,
    pub grid_id: GridId,
    pub kind: VisitKind,
    pub at: Timestamp,
    pub by: String,
    /// What the visit was for: safety, anti-fraud, anti-drowning publicity …
    pub purposes: Vec<String>,
    pub notes: String,
    pub satisfaction: Option<Satisfaction>,
}

/// The fields of a new visit; `at` defaults to now.
#[uniffi::remote(Record)]
pub struct NewVisit {
    pub kind: VisitKind,
    pub at: Option<Timestamp>,
    pub purposes: Vec<String>,
    pub notes: String,
    pub satisfaction: Option<Satisfaction>,
}

/// Visit coverage of a grid over a range of local days.
#[uniffi::remote(Record)]
pub struct Coverage {
    pub grid_id: GridId,
    pub from: IsoDate,
    pub to: IsoDate,
    /// Households in the grid that have not moved out.
    pub households: u32,
    pub visited: u32,
}

/// A household and its most recent visit.
#[uniffi::remote(Record)]
pub struct LastVisit {
    pub household_id: HouseholdId,
    pub address: String,
    pub last_visit_at: Option<Timestamp>,
    pub last_visit_kind: Option<VisitKind>,
}

/// A place on the map, as the phone's location service reports it.
#[uniffi::remote(Record)]
pub struct Location {
    pub lat: f64,
    pub lon: f64,
    /// Radius of uncertainty, in metres.
    pub accuracy_m: f64,
}

#[uniffi::remote(Enum)]
pub enum Urgency {
    Urgent,
    Routine,
}

/// The level of government that currently holds an event.
#[uniffi::remote(Enum)]
pub enum Level {
    Community,
    Street,
    District,
}

/// Where an event is in its life.
#[uniffi::remote(Enum)]
pub enum EventState {
    Reported,
    SolvedOnSpot,
    Dispatched,
    Accepted,
    Resolved,
    Evaluated,
    Closed,
}

/// The reporter's evaluation of how a department handled an event; each rating 1 (very poor) to
/// 5 (very good).
#[uniffi::remote(Record)]
pub struct Evaluation {
    pub response_speed: u8,
    pub performance: u8,
    pub completion: u8,
    pub feedback: u8,
    pub comment: String,
}

/// One step taken on an event.
#[uniffi::remote(Enum)]
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

/// A step as kept in the event's history: who, when, what and a note.
#[uniffi::remote(Record)]
pub struct Step {
    pub id: EntryId,
    pub at: Timestamp,
    pub by: String,
    pub action: StepAction,
    pub note: String,
}

/// A photo attached to an event; the image itself is stored once, by its SHA-256.
#[uniffi::remote(Record)]
pub struct PhotoRef {
    pub id: EntryId,
    /// Hex SHA-256 of the stored (re-encoded) JPEG.
    pub sha256: String,
    pub width: u32,
    pub height: u32,
    pub bytes: u64,
    pub taken_at: Timestamp,
    pub location: Option<Location>,
    pub by: String,
}

/// The fields of a new event.
#[uniffi::remote(Record)]
pub struct NewEvent {
    pub category: String,
    pub title: String,
    pub description: String,
    pub location: Option<Location>,
    pub household_id: Option<HouseholdId>,
    pub urgency: Urgency,
}

/// An event as reported, with its derived state, steps and photos.
#[uniffi::remote(Record)]
pub struct Event {
    pub id: EventId,
    pub grid_id: GridId,
    pub household_id: Option<HouseholdId>,
    pub category: String,
    pub title: String,
    pub description: String,
    pub location: Option<Location>,
    pub urgency: Urgency,
    pub reported_at: Timestamp,
    pub reported_by: String,
    pub state: EventState,
    pub level: Level,
    pub department: Option<String>,
    /// When the event must be responded to (urgent) or handled (routine).
    pub deadline_at: Timestamp,
    pub overdue: bool,
    pub steps: Vec<Step>,
    pub photos: Vec<PhotoRef>,
}

/// One field set (or removed) by one change: who, when, on which device.
#[uniffi::remote(Record)]
pub struct HistoryEntry {
    pub at: Timestamp,
    pub by: String,
    pub device: String,
    /// What the person was doing ("edit resident").
    pub action: String,
    /// `household`, or `resident:<id>` / `routine:<id>`.
    pub record: String,
    pub field: String,
    /// The new value as text; for a set, `+member` or `-member`; `null`/`nil` when removed.
    pub value: Option<String>,
}

/// The state of sync, for the app's status line.
#[uniffi::remote(Record)]
pub struct SyncStatus {
    pub last_success_at: Option<Timestamp>,
    /// Changes made or received here that the server has not acknowledged.
    pub pending_changes: u64,
    /// Bytes of local photos the server does not have yet.
    pub pending_photo_bytes: u64,
    pub last_error: Option<String>,
}
