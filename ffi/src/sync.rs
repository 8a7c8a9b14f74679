//! Sync from the app: an async call (a Kotlin `suspend fun`, a Swift `async` method) that runs on a
//! small network runtime of this object's own, so it works the same from a WorkManager
//! `CoroutineWorker`, a `BGTaskScheduler` task or a button, whatever executor awaits it.

use gridbook_core::sync::{Remote, SyncOptions, SyncStatus};
use gridbook_core::{self as gb};

use crate::error::{GridbookError, guard, internal};
use crate::gridbook::Gridbook;

/// What a sync did.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct SyncReport {
    /// Requests made to the server.
    pub round_trips: u32,
    /// Changes sent to the server.
    pub changes_sent: u64,
    /// Changes of other devices applied here.
    pub changes_received: u64,
    /// Documents (households, journals, events) that changed here.
    pub docs_changed: u64,
    /// Compressed bytes of sync messages sent (photos not included).
    pub bytes_up: u64,
    /// Compressed bytes of sync messages received.
    pub bytes_down: u64,
    /// Photos uploaded.
    pub photos_uploaded: u64,
    /// Photo bytes the server received in this sync.
    pub photo_bytes_uploaded: u64,
    /// Residents and households erased on this device on the district's order: drop them from
    /// the screen.
    pub erased: u64,
    /// This device's changes to erased households that had not been sent: they went with them.
    pub discarded_changes: u64,
    /// This device had missed erasures: it dropped its data keys and asked the server for each
    /// again, which erased here what the server had erased (its own work is kept).
    pub resynced: bool,
    /// The round limit was reached with more waiting: sync again.
    pub incomplete: bool,
}

impl From<gb::sync::SyncReport> for SyncReport {
    fn from(r: gb::sync::SyncReport) -> Self {
        let n = |v: usize| v as u64;
        Self {
            round_trips: u32::try_from(r.round_trips).unwrap_or(u32::MAX),
            changes_sent: n(r.changes_sent),
            changes_received: n(r.changes_received),
            docs_changed: n(r.docs_changed),
            bytes_up: r.bytes_up,
            bytes_down: r.bytes_down,
            photos_uploaded: n(r.photos_uploaded),
            photo_bytes_uploaded: r.photo_bytes_uploaded,
            erased: r.erasure.erased,
            discarded_changes: r.erasure.discarded_changes,
            resynced: r.erasure.resynced,
            incomplete: r.incomplete,
        }
    }
}

impl Gridbook {
    fn runtime(&self) -> Result<&tokio::runtime::Runtime, GridbookError> {
        if let Some(runtime) = self.runtime.get() {
            return Ok(runtime);
        }
        // One worker: sync is a few requests in a row, and a phone has few cores to spare.
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("gridbook-sync")
            .enable_all()
            .build()
            .map_err(|e| GridbookError::Internal(format!("cannot start the sync runtime: {e}")))?;
        // Another thread may have won the race; its runtime is kept and this one dropped unused.
        Ok(self.runtime.get_or_init(|| runtime))
    }

    /// Runs `work` on the sync runtime and waits for it from whatever executor called; a panic
    /// inside comes back as [`GridbookError::Internal`].
    pub(crate) async fn on_runtime<T, F>(&self, work: F) -> Result<T, GridbookError>
    where
        T: Send + 'static,
        F: Future<Output = gb::Result<T>> + Send + 'static,
    {
        match self.runtime()?.spawn(work).await {
            Ok(result) => result.map_err(GridbookError::from),
            Err(e) if e.is_panic() => Err(internal(e.into_panic().as_ref())),
            Err(_) => Err(GridbookError::Internal("the sync was cancelled".into())),
        }
    }
}

#[uniffi::export]
impl Gridbook {
    /// Exchanges everything new with the district's server at `server` (`https://…`) using this
    /// device's `token`: this device's changes go up, the others' in its scope come down, then (if
    /// `with_photos`) the photos the server lacks go up in chunks that resume after a drop. A sync
    /// cut off at any point loses and duplicates nothing; the next one completes it.
    ///
    /// # Errors
    /// `InvalidInput` for a URL that is not `http(s)://` or an empty token; `Network` when the connection
    /// fails or drops (sync again later); `Unauthorized` for a refused token; `NotAllowed` for a write
    /// outside this device's scope (from an app of the version before; now such a document is refused
    /// alone, see `sync_status`); `Protocol` also when the server no longer serves this app's version
    /// (its message says to update the app); `Server` or `Protocol` when the server fails or answers something
    /// this build cannot read; `Storage` if the store fails. The error is also kept for `sync_status`.
    /// `Wiped` when the district's server ordered this device wiped and the store was: at once for
    /// a device revoked as lost (nothing it had not sent was taken), after everything it had not
    /// sent (photos included, whatever `with_photos` says) for a device retired. Every call throws
    /// `Wiped` from then on: delete the store's key from the platform's key store.
    pub async fn sync(&self, server: String, token: String, with_photos: bool) -> Result<SyncReport, GridbookError> {
        let store = self.store.clone();
        let trust = self.trust.clone();
        self.on_runtime(async move {
            let options = SyncOptions { photos: with_photos, trust, ..SyncOptions::default() };
            let remote = Remote::new(&server, &token, &options)?;
            store.sync(&remote, &options).await.map(SyncReport::from)
        })
        .await
    }

    /// Fetches a photo of an event in this device's scope from the server (once; a photo already
    /// here is not fetched again), keeps it (sealed in an encrypted store) and returns its JPEG
    /// bytes, as `photo` does.
    ///
    /// # Errors
    /// As `sync`, and `InvalidInput` for a `sha256` that is not 64 hex digits; `Protocol` if the bytes
    /// received are not the photo named; `NotAnImage` if they are not an image; `Corrupt` if the
    /// copy here is damaged and the server has no other.
    pub async fn fetch_photo(&self, server: String, token: String, sha256: String) -> Result<Vec<u8>, GridbookError> {
        let store = self.store.clone();
        let options = SyncOptions { trust: self.trust.clone(), ..SyncOptions::default() };
        self.on_runtime(async move {
            let remote = Remote::new(&server, &token, &options)?;
            store.fetch_photo(&remote, &sha256).await
        })
        .await
    }

    /// Last successful sync, changes and photo bytes waiting to go, the last error, and the
    /// documents the server refused (their changes held back until `discard_refused` or
    /// `retry_refused`).
    ///
    /// # Errors
    /// `Storage` if the store cannot be read.
    pub fn sync_status(&self) -> Result<SyncStatus, GridbookError> {
        guard(|| self.store.sync_status())
    }

    /// Undoes what this device did to a document the server refused (`doc`, as named in
    /// `sync_status`): its changes waiting to go up, and any made on top of them, are dropped, and
    /// the document, with its records in every list and search, goes back to what the server
    /// acknowledged; a document the server never had goes entirely. Nothing else changes.
    ///
    /// # Errors
    /// `NotFound` if `doc` is not a refused document; `InvalidInput` if it is not a document's name
    /// or its stored changes cannot be read; `Storage` if the store fails.
    pub fn discard_refused(&self, doc: String) -> Result<(), GridbookError> {
        guard(|| self.store.discard_refused(&doc))
    }

    /// Clears the refusal of `doc`, so that the next sync sends its changes again (once the cause
    /// was put right on the server).
    ///
    /// # Errors
    /// `NotFound` if `doc` is not a refused document; `Storage` if the store fails.
    pub fn retry_refused(&self, doc: String) -> Result<(), GridbookError> {
        guard(|| self.store.retry_refused(&doc))
    }
}
