//! Erasure from the app: asking the district's server to erase a resident or a household, and
//! where an erasure stands. The erasure itself happens at a sync, once the server carries it out.

use gridbook_core::{ErasureState, HouseholdId, ResidentId};

use crate::error::{GridbookError, guard};
use crate::gridbook::Gridbook;

#[uniffi::export]
impl Gridbook {
    /// Asks the district's server to erase a resident, for `reason` (what the user typed: why):
    /// their data key destroyed and their fields deleted on every device. Only the village's
    /// secretary or the district centre may erase; the server refuses anyone else. The next sync
    /// sends the request, and the resident stays until the server's notice comes back with a
    /// sync; `erasure_state` says where it stands.
    ///
    /// # Errors
    /// `InvalidInput` for an empty reason or one over 500 bytes; `NotFound` for an unknown
    /// resident; `Erased` for one already erased; `Storage` if the request cannot be written.
    pub fn erase_resident(&self, id: ResidentId, reason: String) -> Result<(), GridbookError> {
        guard(|| self.store.erase_resident(id, &reason))
    }

    /// Asks the district's server to erase a household with all its residents, as
    /// `erase_resident` does for one. The household's changes this device has not sent when the
    /// erasure arrives go with it (the sync's report counts them).
    ///
    /// # Errors
    /// As `erase_resident`, for the household.
    pub fn erase_household(&self, id: HouseholdId, reason: String) -> Result<(), GridbookError> {
        guard(|| self.store.erase_household(id, &reason))
    }

    /// Where an erasure of the resident or household `id` stands on this device: not requested,
    /// requested (waiting for a sync), refused by the server (and why), or erased.
    ///
    /// # Errors
    /// `InvalidInput` if `id` is not an id; `Storage` if the store cannot be read.
    pub fn erasure_state(&self, id: String) -> Result<ErasureState, GridbookError> {
        guard(|| {
            let id: ResidentId = id.parse()?;
            self.store.erasure_state(id.0)
        })
    }
}
