//! What the store holds, before the import writes anything, for the grids an import writes to:
//! households by address (with the ones the import creates added as it goes), and present
//! residents by household, as the store lists them (ID numbers and phones masked). Which of them
//! has a full number the file gives is asked of the store, number by number: the import never
//! holds a number the file did not bring.

use std::collections::{HashMap, HashSet};

use gridbook_core::{GridId, Household, HouseholdId, Page, Resident, ResidentId, ResidentStatus, Store};

use super::columns::{Given, Row};
use crate::error::CliError;

#[derive(Default)]
pub struct Known {
    loaded: HashSet<GridId>,
    households: HashMap<(GridId, String), HouseholdId>,
    addresses: HashMap<HouseholdId, String>,
    residents: HashMap<ResidentId, Resident>,
    /// A full ID number of the file → the present resident the store finds with it.
    by_id_number: HashMap<String, ResidentId>,
    /// A full phone of the file → the residents who have it.
    by_phone: HashMap<String, HashSet<ResidentId>>,
    by_household: HashMap<HouseholdId, Vec<ResidentId>>,
}

impl Known {
    /// Reads a grid's active households and their present residents, once.
    pub fn load(&mut self, store: &Store, grid: GridId) -> Result<(), CliError> {
        if !self.loaded.insert(grid) {
            return Ok(());
        }
        for h in store.households(grid, false, Page::ALL)? {
            for r in store.residents_of(h.id)? {
                // Who moved out or died is the ledger's history, not someone a row can be.
                if r.status == ResidentStatus::Present {
                    self.remember(r);
                }
            }
            self.add_household(&h);
        }
        Ok(())
    }

    pub fn household(&self, grid: GridId, address: &str) -> Option<HouseholdId> {
        self.households.get(&(grid, address.to_string())).copied()
    }

    pub fn address(&self, household: HouseholdId) -> &str {
        self.addresses.get(&household).map_or("", String::as_str)
    }

    pub fn add_household(&mut self, h: &Household) {
        self.households.insert((h.grid_id, h.address.clone()), h.id);
        self.addresses.insert(h.id, h.address.clone());
    }

    /// Asks the store who has each full ID number and phone of `rows`.
    pub fn learn(&mut self, store: &Store, rows: &[(usize, GridId, Row)]) -> Result<(), CliError> {
        for (_, _, row) in rows {
            if let Some(number) = row.id_number.as_ref().and_then(Given::full)
                && !self.by_id_number.contains_key(number)
                && let Some(r) = store.resident_with_id_number(number)?
            {
                self.by_id_number.insert(number.to_string(), r.id);
            }
            if let Some(phone) = row.phone.as_ref().and_then(Given::full)
                && !self.by_phone.contains_key(phone)
            {
                let owners = store.residents_with_phone(phone)?.into_iter().map(|r| r.id).collect();
                self.by_phone.insert(phone.to_string(), owners);
            }
        }
        Ok(())
    }

    /// Whether `r` has the ID number `given`: the full number, or the mask the store shows of it.
    pub fn has_id_number(&self, r: &Resident, given: &Given) -> bool {
        match given {
            Given::Full(n) => self.by_id_number.get(n) == Some(&r.id),
            Given::Masked(m) => r.id_number.as_deref() == Some(m.as_str()),
        }
    }

    /// Whether `r` has the phone `given`: the full number, or the mask the store shows of it.
    pub fn has_phone(&self, r: &Resident, given: &Given) -> bool {
        match given {
            Given::Full(p) => self.by_phone.get(p).is_some_and(|owners| owners.contains(&r.id)),
            Given::Masked(m) => r.phone.as_deref() == Some(m.as_str()),
        }
    }

    fn remember(&mut self, r: Resident) {
        self.by_household.entry(r.household_id).or_default().push(r.id);
        self.residents.insert(r.id, r);
    }

    /// The present resident of `grid` with ID number `number`. A person entered in another grid
    /// is not one an import of this grid may move; the store refuses the row, naming where.
    pub fn with_id_number(&self, number: &str, grid: GridId) -> Option<&Resident> {
        self.by_id_number.get(number).and_then(|id| self.residents.get(id)).filter(|r| r.grid_id == grid)
    }

    /// The present residents of `household`, in the order the store lists them.
    pub fn residents_in(&self, household: HouseholdId) -> impl Iterator<Item = &Resident> {
        self.by_household.get(&household).into_iter().flatten().filter_map(|id| self.residents.get(id))
    }
}
