//! The population ledger from the app: grids, households and residents, their search, and who
//! changed what.

use gridbook_core::{
    CareTag, DuplicateResidents, Grid, GridId, HistoryEntry, Household, HouseholdId, NewGrid, NewHousehold,
    NewResident, Page, Resident, ResidentId,
};

use crate::error::{GridbookError, guard};
use crate::gridbook::Gridbook;
use crate::inputs::{HouseholdEdit, ResidentEdit};

#[uniffi::export]
impl Gridbook {
    /// Creates a grid.
    ///
    /// # Errors
    /// `InvalidInput` for an empty name; `Storage` if the write fails.
    pub fn create_grid(&self, new: NewGrid) -> Result<Grid, GridbookError> {
        guard(|| self.store.create_grid(new))
    }

    /// Every grid in this store, by name.
    ///
    /// # Errors
    /// `Storage` if the store cannot be read.
    pub fn grids(&self) -> Result<Vec<Grid>, GridbookError> {
        guard(|| self.store.grids())
    }

    /// One grid.
    ///
    /// # Errors
    /// `NotFound` for an unknown grid; `Storage` if the store cannot be read.
    pub fn grid(&self, id: GridId) -> Result<Grid, GridbookError> {
        guard(|| self.store.grid(id))
    }

    /// Adds a household to a grid.
    ///
    /// # Errors
    /// `NotFound` for an unknown grid; `InvalidInput` for an empty address or head of household, or a
    /// phone that is not a mainland mobile number; `Storage` if the write fails.
    pub fn add_household(&self, grid: GridId, new: NewHousehold) -> Result<Household, GridbookError> {
        guard(|| self.store.add_household(grid, new))
    }

    /// Changes the fields of a household that `edit` gives; the others stay as they are.
    ///
    /// # Errors
    /// `NotFound` for an unknown household; `InvalidInput` for an empty address or head of household, a
    /// phone that is not a mainland mobile number, or a phone both given and cleared; `Storage` if the
    /// write fails.
    pub fn edit_household(&self, id: HouseholdId, edit: HouseholdEdit) -> Result<Household, GridbookError> {
        let edit = edit.try_into()?;
        guard(|| self.store.edit_household(id, edit))
    }

    /// Marks a whole household as moved out (it stays in the ledger's history).
    ///
    /// # Errors
    /// `NotFound` for an unknown household; `Storage` if the write fails.
    pub fn move_out_household(&self, id: HouseholdId) -> Result<Household, GridbookError> {
        guard(|| self.store.move_out_household(id))
    }

    /// One household, its phone masked (`reveal_household` shows it in full).
    ///
    /// # Errors
    /// `NotFound` for an unknown household; `Storage` if the store cannot be read.
    pub fn household(&self, id: HouseholdId) -> Result<Household, GridbookError> {
        guard(|| self.store.household(id))
    }

    /// A grid's households in address order, a page at a time, phones masked.
    ///
    /// # Errors
    /// `Storage` if the store cannot be read.
    pub fn households(
        &self,
        grid: GridId,
        include_moved_out: bool,
        page: Page,
    ) -> Result<Vec<Household>, GridbookError> {
        guard(|| self.store.households(grid, include_moved_out, page))
    }

    /// Adds a resident; an ID number is checked (GB 11643) and must agree with gender and birth date.
    ///
    /// # Errors
    /// `NotFound` for an unknown household; `InvalidInput` for an empty name, an ID number that fails its
    /// check or disagrees with the gender or birth date given, neither an ID number nor gender and birth
    /// date, or a phone that is not a mainland mobile number; `Storage` if the write fails.
    pub fn add_resident(&self, household: HouseholdId, new: NewResident) -> Result<Resident, GridbookError> {
        guard(|| self.store.add_resident(household, new))
    }

    /// Changes the fields of a resident that `edit` gives; the others stay as they are.
    ///
    /// # Errors
    /// `NotFound` for an unknown resident; `InvalidInput` as for `add_resident`, or for an ID number or
    /// phone both given and cleared; `Storage` if the write fails.
    pub fn edit_resident(&self, id: ResidentId, edit: ResidentEdit) -> Result<Resident, GridbookError> {
        let edit = edit.try_into()?;
        guard(|| self.store.edit_resident(id, edit))
    }

    /// Marks a resident as moved out (they stay in the ledger's history).
    ///
    /// # Errors
    /// `NotFound` for an unknown resident; `Storage` if the write fails.
    pub fn move_out_resident(&self, id: ResidentId) -> Result<Resident, GridbookError> {
        guard(|| self.store.move_out_resident(id))
    }

    /// Marks a resident as deceased (they stay in the ledger's history).
    ///
    /// # Errors
    /// `NotFound` for an unknown resident; `Storage` if the write fails.
    pub fn mark_deceased(&self, id: ResidentId) -> Result<Resident, GridbookError> {
        guard(|| self.store.mark_deceased(id))
    }

    /// One resident, ID number and phone masked (`reveal_resident` shows them in full).
    ///
    /// # Errors
    /// `NotFound` for an unknown resident; `Storage` if the store cannot be read.
    pub fn resident(&self, id: ResidentId) -> Result<Resident, GridbookError> {
        guard(|| self.store.resident(id))
    }

    /// A household's residents, those still present first, ID numbers and phones masked.
    ///
    /// # Errors
    /// `Storage` if the store cannot be read.
    pub fn residents_of(&self, household: HouseholdId) -> Result<Vec<Resident>, GridbookError> {
        guard(|| self.store.residents_of(household))
    }

    /// Finds residents by any part of the name, by ID number (whole or its start) or by phone (whole
    /// or its end); in one grid or all. Present residents first; at most `limit`. The numbers are
    /// searched in full; the residents found come masked.
    ///
    /// # Errors
    /// `Storage` if the store cannot be read.
    pub fn search_residents(
        &self,
        text: String,
        grid: Option<GridId>,
        limit: u32,
    ) -> Result<Vec<Resident>, GridbookError> {
        guard(|| self.store.search_residents(&text, grid, limit))
    }

    /// Residents who share an ID number (the same person entered on two devices offline, once
    /// their work has merged), each group with the number masked, for the secretary to resolve.
    ///
    /// # Errors
    /// `Storage` if the store cannot be read.
    pub fn resident_duplicates(&self) -> Result<Vec<DuplicateResidents>, GridbookError> {
        guard(|| self.store.resident_duplicates())
    }

    /// Merges `other` into `keep`: one person entered twice. `other` is no longer listed, searched
    /// or counted as a duplicate (reading it shows `merged_into`); its routines, the visits to its
    /// household and its history show under `keep` (`routines_of`, `visits_of_resident`,
    /// `resident_history`). The ID number and phone `keep` lacks are taken from `other`, and its care
    /// tags are added; nothing `keep` has is overwritten. Every store that syncs the merge shows the
    /// same, and two merges that meet (each way round, or in a chain) settle alike everywhere.
    /// Returns `keep` as it now is.
    ///
    /// # Errors
    /// `NotFound` for an unknown resident; `InvalidInput` for a resident merged with itself, either
    /// resident already merged, residents of different grids, different ID numbers (two people), or
    /// an ID number of `other` that disagrees with `keep`'s gender or birth date; `NotAllowed` on a
    /// store enrolled as a grid member's or a department's; `Storage` if the write fails.
    pub fn merge_residents(&self, keep: ResidentId, other: ResidentId) -> Result<Resident, GridbookError> {
        guard(|| self.store.merge_residents(keep, other))
    }

    /// Present residents with a care tag, optionally only those at least `min_age` years old today.
    ///
    /// # Errors
    /// `Storage` if the store cannot be read.
    pub fn residents_with_tag(
        &self,
        tag: CareTag,
        min_age: Option<u32>,
        grid: Option<GridId>,
    ) -> Result<Vec<Resident>, GridbookError> {
        guard(|| self.store.residents_with_tag(tag, min_age, grid))
    }

    /// Who changed which field of a household and everyone in it, when; oldest first.
    ///
    /// # Errors
    /// `NotFound` for an unknown household; `Storage` if the store cannot be read.
    pub fn household_history(&self, id: HouseholdId) -> Result<Vec<HistoryEntry>, GridbookError> {
        guard(|| self.store.household_history(id))
    }

    /// Who changed which field of one resident, and of the residents merged into it, when; oldest
    /// first.
    ///
    /// # Errors
    /// `NotFound` for an unknown resident; `Storage` if the store cannot be read.
    pub fn resident_history(&self, id: ResidentId) -> Result<Vec<HistoryEntry>, GridbookError> {
        guard(|| self.store.resident_history(id))
    }
}
