//! Enrolment from the app: the store shows its key and the one-time code the district centre gave
//! its holder to the server, and keeps the token and certificate it answers with; later syncs need
//! nothing more.

use gridbook_core::GridId;
use gridbook_core::sync::{Enrolment as CoreEnrolment, SyncOptions};

use crate::error::{GridbookError, guard};
use crate::gridbook::Gridbook;
use crate::sync::SyncReport;

/// Who the district's server certified this store to be.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Enrolment {
    /// The server's address.
    pub server: String,
    /// The device's name in the district's registry.
    pub device: String,
    /// The person the device was given to (empty if the centre did not record one).
    pub holder: String,
    /// `centre`, `secretary`, `grid-member` or `department`.
    pub role: String,
    /// The grids the device holds, as the certificate names them (peers share only these).
    pub grids: Vec<GridId>,
    /// When the certificate expires, in Unix milliseconds; a sync renews it in its last week.
    pub expires_at_ms: i64,
}

impl From<CoreEnrolment> for Enrolment {
    fn from(e: CoreEnrolment) -> Self {
        let grids = e.grids();
        let c = e.certificate;
        Self {
            server: e.server,
            device: c.device,
            holder: c.holder,
            role: c.role,
            grids,
            expires_at_ms: c.expires_at.saturating_mul(1000),
        }
    }
}

#[uniffi::export]
impl Gridbook {
    /// Enrols this store with the district's server at `server` with the one-time `code` from the
    /// centre (`gridbook-server device add`). The store keeps the token and certificate; use
    /// `sync_enrolled` afterwards.
    ///
    /// # Errors
    /// `InvalidInput` for an address that is not `http(s)://` or an empty code; `Unauthorized` for a
    /// code that is unknown, used or expired (ask the centre for a new one); `NotAllowed` if the
    /// server has this store's key for another device; `Network`, `Server` and `Protocol` as for
    /// `sync`; `Storage` if the store fails.
    pub async fn enrol(&self, server: String, code: String) -> Result<Enrolment, GridbookError> {
        let store = self.store.clone();
        let options = SyncOptions { trust: self.trust.clone(), ..SyncOptions::default() };
        self.on_runtime(async move { store.enrol(&server, &code, &options).await.map(Enrolment::from) }).await
    }

    /// This store's enrolment, or `None` (`null`/`nil`) if it has none.
    ///
    /// # Errors
    /// `Storage` if the store cannot be read; `InvalidInput` if the kept enrolment is damaged (enrol
    /// again).
    pub fn enrolment(&self) -> Result<Option<Enrolment>, GridbookError> {
        guard(|| self.store.enrolment().map(|e| e.map(Enrolment::from)))
    }

    /// `sync` with the server and token this store enrolled with.
    ///
    /// # Errors
    /// `InvalidInput` if the store is not enrolled; otherwise as `sync`.
    pub async fn sync_enrolled(&self, with_photos: bool) -> Result<SyncReport, GridbookError> {
        let store = self.store.clone();
        let options = SyncOptions { photos: with_photos, trust: self.trust.clone(), ..SyncOptions::default() };
        self.on_runtime(async move {
            let remote = store.enrolled_remote(&options)?;
            store.sync(&remote, &options).await.map(SyncReport::from)
        })
        .await
    }

    /// `fetch_photo` from the server this store enrolled with: the photo of an event in this
    /// device's scope, checked against its SHA-256 and kept (a photo already here is not fetched
    /// again); returns its JPEG bytes, as `photo` does.
    ///
    /// # Errors
    /// `InvalidInput` if the store is not enrolled; otherwise as `fetch_photo`.
    pub async fn fetch_photo_enrolled(&self, sha256: String) -> Result<Vec<u8>, GridbookError> {
        let store = self.store.clone();
        let options = SyncOptions { trust: self.trust.clone(), ..SyncOptions::default() };
        self.on_runtime(async move {
            let remote = store.enrolled_remote(&options)?;
            store.fetch_photo(&remote, &sha256).await
        })
        .await
    }
}
