//! The population ledger: grids, households and residents.

use std::collections::BTreeSet;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::{millis, set, snake_enum_text};
use crate::ids::{GridId, HouseholdId, ResidentId};

/// A grid, with the village or community and the township or street above it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct Grid {
    /// The grid's own id.
    pub id: GridId,
    /// The grid's name, as its members call it.
    pub name: String,
    /// The village or community above the grid.
    pub village: String,
    /// The township or street above the village.
    pub township: String,
    /// When the grid was created.
    #[serde(with = "millis")]
    pub created_at: DateTime<Utc>,
}

/// Special-care groups a household or resident belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
#[serde(rename_all = "snake_case")]
pub enum CareTag {
    /// Lives alone.
    LivingAlone,
    /// Elderly.
    Elderly,
    /// On a low income or minimum-living allowance.
    LowIncome,
    /// Has a disability.
    Disability,
    /// A child whose parents work away from home.
    LeftBehindChild,
    /// Lives in rented housing.
    RentalHousing,
}
snake_enum_text!(CareTag, "care tag");

impl CareTag {
    /// Every care tag this build knows.
    pub const ALL: [CareTag; 6] = [
        CareTag::LivingAlone,
        CareTag::Elderly,
        CareTag::LowIncome,
        CareTag::Disability,
        CareTag::LeftBehindChild,
        CareTag::RentalHousing,
    ];
}

/// A resident's gender, as the resident ID number records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
#[serde(rename_all = "snake_case")]
pub enum Gender {
    /// Male.
    Male,
    /// Female.
    Female,
}
snake_enum_text!(Gender, "gender");

/// A resident's relation to the head of the household.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
#[serde(rename_all = "snake_case")]
pub enum Relation {
    /// The head of the household.
    Head,
    /// The head's husband or wife.
    Spouse,
    /// The head's son or daughter.
    Child,
    /// The head's son- or daughter-in-law.
    ChildInLaw,
    /// The head's father or mother.
    Parent,
    /// The head's grandchild.
    Grandchild,
    /// The head's grandparent.
    Grandparent,
    /// The head's brother or sister.
    Sibling,
    /// Any other relation, or none.
    Other,
}
snake_enum_text!(Relation, "relation");

/// Registration status: on the household register here, living here, or floating population.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
#[serde(rename_all = "snake_case")]
pub enum Registration {
    /// On the household register here.
    Registered,
    /// Registered elsewhere but living here.
    Resident,
    /// Floating population: here for a while.
    Floating,
}
snake_enum_text!(Registration, "registration status");

/// Whether a household still lives at its address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
#[serde(rename_all = "snake_case")]
pub enum HouseholdStatus {
    /// Lives here.
    Active,
    /// Moved out; kept in the ledger's history.
    MovedOut,
}
snake_enum_text!(HouseholdStatus, "household status");

/// Whether a resident is still part of the household.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
#[serde(rename_all = "snake_case")]
pub enum ResidentStatus {
    /// Lives in the household.
    Present,
    /// Moved out; kept in the ledger's history.
    MovedOut,
    /// Died; kept in the ledger's history.
    Deceased,
}
snake_enum_text!(ResidentStatus, "resident status");

/// A household of the ledger.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct Household {
    /// The household's own id.
    pub id: HouseholdId,
    /// The grid the household belongs to.
    pub grid_id: GridId,
    /// Building/unit/room, or village group and house number.
    pub address: String,
    /// The name of the head of the household.
    pub head_name: String,
    /// The household's mobile number, in canonical form; masked (`138****1111`) as the store
    /// hands it out, but from a reveal.
    pub phone: Option<String>,
    /// Special-care groups of the household as a whole.
    #[serde(with = "set")]
    pub care_tags: BTreeSet<CareTag>,
    /// Free notes of the grid member.
    pub notes: String,
    /// Whether the household still lives here.
    pub status: HouseholdStatus,
    /// When the household moved out, if it did.
    #[serde(with = "millis::option", default)]
    pub moved_out_at: Option<DateTime<Utc>>,
}

/// The fields of a new household.
#[derive(Debug, Clone, Default, PartialEq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct NewHousehold {
    /// Building/unit/room, or village group and house number; it must not be empty.
    pub address: String,
    /// The name of the head of the household; it must not be empty.
    pub head_name: String,
    /// A mainland mobile number (checked and put in canonical form).
    pub phone: Option<String>,
    /// Special-care groups of the household as a whole.
    pub care_tags: BTreeSet<CareTag>,
    /// Free notes of the grid member.
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
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct Resident {
    /// The resident's own id.
    pub id: ResidentId,
    /// The household the resident belongs to.
    pub household_id: HouseholdId,
    /// The household's grid.
    pub grid_id: GridId,
    /// The resident's full name.
    pub name: String,
    /// The 18-character resident ID number (GB 11643) in canonical form, if known; masked
    /// (`3709**********1633`) as the store hands it out, but from a reveal.
    pub id_number: Option<String>,
    /// The resident's gender (the ID number's, when there is one).
    pub gender: Gender,
    /// The resident's birth date (the ID number's, when there is one).
    pub birth_date: NaiveDate,
    /// Relation to the head of the household.
    pub relation: Relation,
    /// The resident's own mobile number, in canonical form; masked (`138****1111`) as the store
    /// hands it out, but from a reveal.
    pub phone: Option<String>,
    /// Registered here, living here, or floating population.
    pub registration: Registration,
    /// Special-care groups the resident belongs to.
    #[serde(with = "set")]
    pub care_tags: BTreeSet<CareTag>,
    /// Present, moved out or deceased.
    pub status: ResidentStatus,
    /// When the resident moved out or died, if they did.
    #[serde(with = "millis::option", default)]
    pub status_changed_at: Option<DateTime<Utc>>,
    /// The resident this one was merged into, after following every merge: the same person was
    /// entered twice and the secretary kept the other record ([`crate::Store::merge_residents`]).
    /// A merged resident is no longer listed; its routines, visits and history show under the one
    /// it was merged into. `None` (`null`/`nil`) for a resident not merged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merged_into: Option<ResidentId>,
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
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct NewResident {
    /// The resident's full name; it must not be empty.
    pub name: String,
    /// The 18-character resident ID number (GB 11643), checked.
    pub id_number: Option<String>,
    /// Read from the ID number when left out; it must agree with it when both are given.
    pub gender: Option<Gender>,
    /// Read from the ID number when left out; it must agree with it when both are given.
    pub birth_date: Option<NaiveDate>,
    /// Relation to the head of the household.
    pub relation: Relation,
    /// A mainland mobile number (checked and put in canonical form).
    pub phone: Option<String>,
    /// Registered here, living here, or floating population.
    pub registration: Registration,
    /// Special-care groups the resident belongs to.
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
