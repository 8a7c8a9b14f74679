//! The access log's entries: one per reveal of full ID numbers or phones.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{millis, snake_enum_text};
use crate::ids::{EntryId, GridId};

/// What a reveal was for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
#[serde(rename_all = "snake_case")]
pub enum AccessAction {
    /// One resident's full ID number and phone were shown.
    RevealResident,
    /// One household's full phone was shown.
    RevealHousehold,
    /// A grid's roster was exported with full ID numbers and phones.
    ExportRoster,
}
snake_enum_text!(AccessAction, "access action");

/// One entry of the access log: who saw which full values, when, and why. Written once, at a key
/// of its own, into the month's access log of the grid of the records revealed, and never changed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct AccessEntry {
    /// The entry's own id.
    pub id: EntryId,
    /// The grid of the records revealed.
    pub grid_id: GridId,
    /// When the values were revealed.
    #[serde(with = "millis")]
    pub at: DateTime<Utc>,
    /// Who revealed them: when `verified`, the holder the district's server registered for the
    /// device whose change wrote the entry (if it registered one); otherwise what the entry says.
    pub by: String,
    /// The device they were revealed on (the enrolled device's name when `verified`).
    pub device: String,
    /// The automerge actor (hex) of the change that wrote the entry: the store that revealed.
    #[serde(skip)]
    pub actor: String,
    /// Whether `device` (and `by`, if the server registered a holder) is the district server's
    /// record of the change's author rather than the entry's own words.
    #[serde(skip)]
    pub verified: bool,
    /// What the reveal was for.
    pub action: AccessAction,
    /// The ids of the residents or households revealed (every resident exported, for an export).
    pub records: Vec<String>,
    /// The fields shown in full: `id_number`, `phone`.
    pub fields: Vec<String>,
    /// Why, in the words of the person who revealed.
    pub reason: String,
}
