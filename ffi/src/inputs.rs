//! Inputs whose shape differs from the core's. The edits: there, `Some(None)` clears an optional
//! field, which Kotlin and Swift cannot tell apart from `None`, so here clearing is a flag of its
//! own. The curtain-check records: the core takes their fields as arguments, but every argument
//! that is not a number crosses the boundary in a buffer of its own — on Android a JNA round trip
//! each way — so the most frequent call of the day takes one record instead.

use gridbook_core as gb;

use crate::error::GridbookError;
use gb::{CareTags, Gender, IsoDate, Outcome, Registration, Relation, RoutineId, Timestamp};

/// A curtain-check signal seen.
#[derive(Debug, Clone, uniffi::Record)]
pub struct Sighting {
    /// The routine whose signal was seen.
    pub routine: RoutineId,
    /// The local day it counts for; default today.
    #[uniffi(default)]
    pub day: Option<IsoDate>,
    /// When it was seen; default now.
    #[uniffi(default)]
    pub at: Option<Timestamp>,
    /// A note of the person who saw it.
    #[uniffi(default)]
    pub note: String,
}

/// The follow-up of a missed signal: someone went to the door, or phoned.
#[derive(Debug, Clone, uniffi::Record)]
pub struct FollowUp {
    /// The routine whose signal was missed.
    pub routine: RoutineId,
    /// The local day of the missed signal; default today.
    #[uniffi(default)]
    pub day: Option<IsoDate>,
    /// What was found at the door.
    pub outcome: Outcome,
    /// A note of the person who followed it up.
    #[uniffi(default)]
    pub note: String,
}

/// An edit to a household: `null`/`nil` leaves a field as it is.
#[derive(Debug, Clone, Default, uniffi::Record)]
pub struct HouseholdEdit {
    /// A new address.
    #[uniffi(default)]
    pub address: Option<String>,
    /// A new name of the head of the household.
    #[uniffi(default)]
    pub head_name: Option<String>,
    /// A new phone number; to remove the phone, set `clear_phone` instead.
    #[uniffi(default)]
    pub phone: Option<String>,
    /// `true` removes the household's phone.
    #[uniffi(default)]
    pub clear_phone: bool,
    /// The new set of care tags (replacing the old one).
    #[uniffi(default)]
    pub care_tags: Option<CareTags>,
    /// New notes (replacing the old ones).
    #[uniffi(default)]
    pub notes: Option<String>,
}

/// An edit to a resident: `null`/`nil` leaves a field as it is.
#[derive(Debug, Clone, Default, uniffi::Record)]
pub struct ResidentEdit {
    /// A new name.
    #[uniffi(default)]
    pub name: Option<String>,
    /// A new ID number (checked, and it must agree with the gender and birth date); to remove it,
    /// set `clear_id_number` instead.
    #[uniffi(default)]
    pub id_number: Option<String>,
    /// `true` removes the resident's ID number.
    #[uniffi(default)]
    pub clear_id_number: bool,
    /// A corrected gender (it must agree with the ID number).
    #[uniffi(default)]
    pub gender: Option<Gender>,
    /// A corrected birth date (it must agree with the ID number).
    #[uniffi(default)]
    pub birth_date: Option<IsoDate>,
    /// A new relation to the head of the household.
    #[uniffi(default)]
    pub relation: Option<Relation>,
    /// A new phone number; to remove the phone, set `clear_phone` instead.
    #[uniffi(default)]
    pub phone: Option<String>,
    /// `true` removes the resident's phone.
    #[uniffi(default)]
    pub clear_phone: bool,
    /// A new registration status.
    #[uniffi(default)]
    pub registration: Option<Registration>,
    /// The new set of care tags (replacing the old one).
    #[uniffi(default)]
    pub care_tags: Option<CareTags>,
}

/// `Some(None)` to clear, `Some(Some(v))` to set, `None` to leave.
fn optional(field: &str, value: Option<String>, clear: bool) -> Result<Option<Option<String>>, GridbookError> {
    match (value, clear) {
        (Some(_), true) => Err(GridbookError::InvalidInput(format!("give a new {field} or clear it, not both"))),
        (None, true) => Ok(Some(None)),
        (value, false) => Ok(value.map(Some)),
    }
}

impl TryFrom<HouseholdEdit> for gb::HouseholdEdit {
    type Error = GridbookError;

    fn try_from(e: HouseholdEdit) -> Result<Self, GridbookError> {
        Ok(Self {
            address: e.address,
            head_name: e.head_name,
            phone: optional("phone", e.phone, e.clear_phone)?,
            care_tags: e.care_tags,
            notes: e.notes,
        })
    }
}

impl TryFrom<ResidentEdit> for gb::ResidentEdit {
    type Error = GridbookError;

    fn try_from(e: ResidentEdit) -> Result<Self, GridbookError> {
        Ok(Self {
            name: e.name,
            id_number: optional("ID number", e.id_number, e.clear_id_number)?,
            gender: e.gender,
            birth_date: e.birth_date,
            relation: e.relation,
            phone: optional("phone", e.phone, e.clear_phone)?,
            registration: e.registration,
            care_tags: e.care_tags,
        })
    }
}
