//! The population ledger: grids, households and residents.

use std::collections::BTreeSet;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::{millis, set, snake_enum_text};
use crate::ids::{GridId, HouseholdId, ResidentId};

/// A grid, with the village or community and the township or street above it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Grid {
    pub id: GridId,
    pub name: String,
    pub village: String,
    pub township: String,
    #[serde(with = "millis")]
    pub created_at: DateTime<Utc>,
}

/// Special-care groups a household or resident belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CareTag {
    LivingAlone,
    Elderly,
    LowIncome,
    Disability,
    LeftBehindChild,
    RentalHousing,
}
snake_enum_text!(CareTag, "care tag");

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Gender {
    Male,
    Female,
}
snake_enum_text!(Gender, "gender");

/// A resident's relation to the head of the household.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
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
snake_enum_text!(Relation, "relation");

/// Registration status: on the household register here, living here, or floating population.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Registration {
    Registered,
    Resident,
    Floating,
}
snake_enum_text!(Registration, "registration status");

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HouseholdStatus {
    Active,
    MovedOut,
}
snake_enum_text!(HouseholdStatus, "household status");

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResidentStatus {
    Present,
    MovedOut,
    Deceased,
}
snake_enum_text!(ResidentStatus, "resident status");

/// A household of the ledger.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Household {
    pub id: HouseholdId,
    pub grid_id: GridId,
    /// Building/unit/room, or village group and house number.
    pub address: String,
    pub head_name: String,
    pub phone: Option<String>,
    #[serde(with = "set")]
    pub care_tags: BTreeSet<CareTag>,
    pub notes: String,
    pub status: HouseholdStatus,
    /// When the household moved out, if it did.
    #[serde(with = "millis::option", default)]
    pub moved_out_at: Option<DateTime<Utc>>,
}

/// The fields of a new household.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NewHousehold {
    pub address: String,
    pub head_name: String,
    pub phone: Option<String>,
    pub care_tags: BTreeSet<CareTag>,
    pub notes: String,
}

/// An edit to a household: `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HouseholdEdit {
    pub address: Option<String>,
    pub head_name: Option<String>,
    /// `Some(None)` clears the phone.
    pub phone: Option<Option<String>>,
    pub care_tags: Option<BTreeSet<CareTag>>,
    pub notes: Option<String>,
}

/// A resident of a household.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Resident {
    pub id: ResidentId,
    pub household_id: HouseholdId,
    pub grid_id: GridId,
    pub name: String,
    pub id_number: Option<String>,
    pub gender: Gender,
    pub birth_date: NaiveDate,
    pub relation: Relation,
    pub phone: Option<String>,
    pub registration: Registration,
    #[serde(with = "set")]
    pub care_tags: BTreeSet<CareTag>,
    pub status: ResidentStatus,
    #[serde(with = "millis::option", default)]
    pub status_changed_at: Option<DateTime<Utc>>,
}

impl Resident {
    /// Age in whole years on `day`.
    pub fn age_on(&self, day: NaiveDate) -> u32 {
        day.years_since(self.birth_date).unwrap_or(0)
    }
}

/// The fields of a new resident. Gender and birth date may be left out when an ID number is given
/// (they are read from it); when both are given they must agree with it.
#[derive(Debug, Clone, PartialEq)]
pub struct NewResident {
    pub name: String,
    pub id_number: Option<String>,
    pub gender: Option<Gender>,
    pub birth_date: Option<NaiveDate>,
    pub relation: Relation,
    pub phone: Option<String>,
    pub registration: Registration,
    pub care_tags: BTreeSet<CareTag>,
}

/// An edit to a resident: `None` leaves a field as it is; `Some(None)` clears an optional one.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ResidentEdit {
    pub name: Option<String>,
    pub id_number: Option<Option<String>>,
    pub gender: Option<Gender>,
    pub birth_date: Option<NaiveDate>,
    pub relation: Option<Relation>,
    pub phone: Option<Option<String>>,
    pub registration: Option<Registration>,
    pub care_tags: Option<BTreeSet<CareTag>>,
}
