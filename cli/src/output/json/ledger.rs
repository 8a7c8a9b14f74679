//! The ledger's shapes: grid, household and resident.

use gridbook_core::{DuplicateResidents, Grid, Household, Resident};
use serde::Serialize;

use super::names::{Name, names};
use super::{JsonShape, day, instant};

#[derive(Debug, Serialize)]
pub struct GridJson {
    id: String,
    name: String,
    village: String,
    township: String,
    created_at: String,
}

impl JsonShape for Grid {
    type Shape = GridJson;
    fn json_shape(&self) -> GridJson {
        GridJson {
            id: self.id.to_string(),
            name: self.name.clone(),
            village: self.village.clone(),
            township: self.township.clone(),
            created_at: instant(self.created_at),
        }
    }
}

#[derive(Debug, Serialize)]
pub struct HouseholdJson {
    id: String,
    grid_id: String,
    address: String,
    head_name: String,
    phone: Option<String>,
    care_tags: Vec<&'static str>,
    notes: String,
    status: &'static str,
    moved_out_at: Option<String>,
}

impl JsonShape for Household {
    type Shape = HouseholdJson;
    fn json_shape(&self) -> HouseholdJson {
        HouseholdJson {
            id: self.id.to_string(),
            grid_id: self.grid_id.to_string(),
            address: self.address.clone(),
            head_name: self.head_name.clone(),
            phone: self.phone.clone(),
            care_tags: names(&self.care_tags),
            notes: self.notes.clone(),
            status: self.status.json_name(),
            moved_out_at: self.moved_out_at.map(instant),
        }
    }
}

#[derive(Debug, Serialize)]
pub struct ResidentJson {
    id: String,
    household_id: String,
    grid_id: String,
    name: String,
    id_number: Option<String>,
    gender: &'static str,
    birth_date: String,
    relation: &'static str,
    phone: Option<String>,
    registration: &'static str,
    care_tags: Vec<&'static str>,
    status: &'static str,
    status_changed_at: Option<String>,
    merged_into: Option<String>,
}

impl JsonShape for Resident {
    type Shape = ResidentJson;
    fn json_shape(&self) -> ResidentJson {
        ResidentJson {
            id: self.id.to_string(),
            household_id: self.household_id.to_string(),
            grid_id: self.grid_id.to_string(),
            name: self.name.clone(),
            id_number: self.id_number.clone(),
            gender: self.gender.json_name(),
            birth_date: day(self.birth_date),
            relation: self.relation.json_name(),
            phone: self.phone.clone(),
            registration: self.registration.json_name(),
            care_tags: names(&self.care_tags),
            status: self.status.json_name(),
            status_changed_at: self.status_changed_at.map(instant),
            merged_into: self.merged_into.map(|id| id.to_string()),
        }
    }
}

#[derive(Debug, Serialize)]
pub struct DuplicatesJson {
    id_number_masked: String,
    residents: Vec<ResidentJson>,
}

impl JsonShape for DuplicateResidents {
    type Shape = DuplicatesJson;
    fn json_shape(&self) -> DuplicatesJson {
        DuplicatesJson {
            id_number_masked: self.id_number_masked.clone(),
            residents: self.residents.iter().map(JsonShape::json_shape).collect(),
        }
    }
}
