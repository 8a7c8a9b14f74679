//! Masked numbers revealed on purpose: the full ID number and phone of one resident, or the phone
//! of one household, each logged in the grid's access log with the reason the user gave, and the
//! access log the store holds. Every other call returns ID numbers and phones masked.

use gridbook_core::{AccessEntry, Household, HouseholdId, Resident, ResidentId};

use crate::error::{GridbookError, guard};
use crate::gridbook::Gridbook;

#[uniffi::export]
impl Gridbook {
    /// One resident with the full ID number and phone, for `reason` (what the user typed: why
    /// they need them). The reveal is written into the access log of the resident's grid first —
    /// who (this store's enrolled device and holder), when, which resident, which fields, why —
    /// and syncs to the district's server with the rest of the store's work. Show the values only
    /// as long as the user needs them.
    ///
    /// # Errors
    /// `InvalidInput` for an empty or overlong reason; `NotFound` for an unknown resident;
    /// `Storage` if the log entry cannot be written (nothing is revealed then).
    pub fn reveal_resident(&self, id: ResidentId, reason: String) -> Result<Resident, GridbookError> {
        guard(|| self.store.reveal_resident(id, &reason))
    }

    /// One household with its full phone, for `reason`, logged as `reveal_resident` is.
    ///
    /// # Errors
    /// `InvalidInput` for an empty or overlong reason; `NotFound` for an unknown household;
    /// `Storage` if the log entry cannot be written (nothing is revealed then).
    pub fn reveal_household(&self, id: HouseholdId, reason: String) -> Result<Household, GridbookError> {
        guard(|| self.store.reveal_household(id, &reason))
    }

    /// The access log this store holds, newest first: its own reveals, and those of other devices
    /// in its grids that the server sent it. `verified` entries name the device and holder the
    /// district's server registered for the store that made the reveal.
    ///
    /// # Errors
    /// `Storage` if the store cannot be read.
    pub fn access_log(&self) -> Result<Vec<AccessEntry>, GridbookError> {
        guard(|| self.store.access_log())
    }
}
