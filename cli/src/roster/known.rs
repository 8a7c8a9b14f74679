//! What the store holds, before the import writes anything, for the grids an import writes to:
//! households by address (with the ones the import creates added as it goes), and present
//! residents by ID number and by household.

use std::collections::{HashMap, HashSet};

use gridbook_core::{GridId, Household, HouseholdId, Page, Resident, ResidentId, ResidentStatus, Store};

use crate::error::CliError;

#[derive(Default)]
pub struct Known {
    loaded: HashSet<GridId>,
    households: HashMap<(GridId, String), HouseholdId>,
    addresses: HashMap<HouseholdId, String>,
    residents: HashMap<ResidentId, Resident>,
    by_id_number: HashMap<String, ResidentId>,
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

    fn remember(&mut self, r: Resident) {
        if let Some(number) = &r.id_number {
            self.by_id_number.insert(number.clone(), r.id);
        }
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
