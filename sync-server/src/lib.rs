//! # gridbook-server
//!
//! The district's sync server. Devices (grid members' phones, secretaries' PCs, the centre, the
//! departments) exchange changes with it in batched, resumable rounds (see `PROTOCOL.md`); it keeps
//! the change log in SQLite and photos as files, and sends each device only what its scope covers.
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use gridbook_server::{Server, ServerConfig};
//! let server = Server::open(std::path::Path::new("/var/lib/gridbook"), ServerConfig::default())?;
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8750").await?;
//! server.serve(listener, async { let _ = tokio::signal::ctrl_c().await; }).await?;
//! # Ok(()) }
//! ```

pub mod access_log;
mod admission;
mod auth;
mod config;
mod connections;
mod cursor;
mod enrol;
mod erasure;
mod error;
mod exchange;
mod keys;
mod master_key;
mod metrics;
mod photos;
mod registry;
mod routes;
mod scope;
mod storage;

use std::collections::HashMap;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use gridbook_core::StoreKey;

pub use auth::CODE_LIFETIME_MS;
pub use config::ServerConfig;
pub use error::ApiError;
pub use exchange::{Decoded, decode_request};
pub use gridbook_core::NewGrid;
pub use master_key::MasterKey;
pub use storage::{
    Device, Erasure, ErasureRecord, GridEntry, Revocation, Role, SqliteStorage, Storage, StorageError, StorageResult,
    StoredKey,
};

use storage::{Commit, NewChange};

/// A device to register.
#[derive(Debug, Clone)]
pub struct NewDevice {
    pub name: String,
    pub role: Role,
    /// The grids the device serves: each a registered grid's id or name (one no other grid shares),
    /// or the id of a grid the registry does not know yet (made on a device, not yet synced), which
    /// is registered in `village`.
    pub grids: Vec<String>,
    /// A secretary's village; for a grid member, the village of its grids the registry does not
    /// know yet.
    pub village: Option<String>,
    pub department: Option<String>,
    /// The person the device is given to (may be empty), as its certificate names them.
    pub holder: String,
}

/// Requests doing storage work at once. A commit's fsync wait is shared by every request queued
/// behind it (group commit), and a small server's cores gain nothing from more: more would only hold
/// more memory.
const STORAGE_CONCURRENCY: usize = 32;

#[derive(Debug)]
struct Shared {
    storage: Arc<dyn Storage>,
    config: ServerConfig,
    master: MasterKey,
    metrics: metrics::Metrics,
    photos: photos::PhotoStore,
    gate: tokio::sync::Semaphore,
    admission: admission::Admission,
}

/// The server on its data directory.
#[derive(Debug, Clone)]
pub struct Server {
    shared: Arc<Shared>,
}

impl Server {
    /// Opens (or creates) the data directory: `server.sqlite3` and `photos/`.
    ///
    /// # Errors
    /// [`ApiError::Internal`] if the directory cannot be used, was made for another district, or by a
    /// newer server.
    pub fn open(data: &Path, config: ServerConfig) -> Result<Self, ApiError> {
        if !auth::valid_district(&config.district) {
            return Err(ApiError::Malformed("a district name is lowercase letters, digits and '-'".into()));
        }
        std::fs::create_dir_all(data)?;
        let storage = SqliteStorage::open(data, &config.district, config.key.clone())?;
        let master =
            MasterKey::load_or_make(&config.master_key_file.clone().unwrap_or_else(|| data.join("master.key")))?;
        Self::with_storage(Arc::new(storage), config, master, data.join("photos"))
    }

    /// A server over any storage backend, wrapping data keys under `master`, with photos under
    /// `photos_dir`.
    ///
    /// # Errors
    /// [`ApiError::Internal`] if the photo directory cannot be made.
    pub fn with_storage(
        storage: Arc<dyn Storage>,
        config: ServerConfig,
        master: MasterKey,
        photos_dir: PathBuf,
    ) -> Result<Self, ApiError> {
        let photos = photos::PhotoStore::open(photos_dir)?;
        let gate = tokio::sync::Semaphore::new(STORAGE_CONCURRENCY);
        let admission = admission::Admission::new(&config);
        let metrics = metrics::Metrics::default();
        Ok(Self { shared: Arc::new(Shared { storage, config, master, metrics, photos, gate, admission }) })
    }

    pub fn router(&self) -> axum::Router {
        routes::router(self.shared.clone())
    }

    /// Serves on `listener` until `shutdown` resolves; requests in flight then finish. A connection
    /// that does not send a request's header within the configured time is closed. Erasure notices
    /// past their days are dropped first and then daily ([`Server::prune_erasure_notices`]).
    ///
    /// # Errors
    /// If the notices cannot be pruned, or the server stops accepting connections; a failed
    /// connection is logged and dropped.
    pub async fn serve(
        self,
        listener: tokio::net::TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        self.prune_erasure_notices().map_err(std::io::Error::other)?;
        let pruner = tokio::spawn(prune_erasure_notices_daily(self.shared.clone()));
        let config = &self.shared.config;
        let bounds = connections::Bounds {
            header_read_timeout: config.header_read_timeout,
            max_connections: config.max_connections,
        };
        let served = connections::serve(listener, self.router(), bounds, shutdown).await;
        pruner.abort();
        served
    }

    /// Registers a device with a token, for apps of the previous version and for tools; returns it
    /// and its token, which is shown this once and stored hashed.
    ///
    /// # Errors
    /// [`ApiError::Malformed`] for a missing name, a taken name, a name or holder over 200 bytes, a
    /// grid that is neither a registered grid's name or id nor a grid id, a name several grids
    /// share, a grid the registry does not know without the village to register it in, or a role
    /// without what it needs (a grid member's grids, a secretary's village, a department's name).
    pub fn add_device(&self, new: NewDevice) -> Result<(Device, String), ApiError> {
        let token = auth::new_token(self.shared.storage.district());
        let device = self.register(new, Some(&auth::hash(&token)))?;
        Ok((device, token))
    }

    /// Registers a device with no token yet, and a one-time code (`XXXXX-XXXXX`, valid 24 hours,
    /// stored hashed) with which it enrols at `POST /v1/enrol` and gets its token; returns the
    /// device and the code.
    ///
    /// # Errors
    /// As [`Server::add_device`].
    pub fn add_device_with_code(&self, new: NewDevice) -> Result<(Device, String), ApiError> {
        let device = self.register(new, None)?;
        let code = self.code_for(&device)?;
        Ok((device, code))
    }

    /// A fresh one-time code for a registered device, by name or id (a replaced phone): it replaces
    /// the device's unused code, and the token it brings replaces the device's token.
    ///
    /// # Errors
    /// [`ApiError::NotFound`] if there is no such device, [`ApiError::Forbidden`] if it is revoked.
    pub fn new_code(&self, name_or_id: &str) -> Result<String, ApiError> {
        let name_or_id = name_or_id.trim();
        let devices = self.shared.storage.devices()?;
        let device = devices
            .iter()
            .find(|d| d.name == name_or_id || d.id == name_or_id)
            .ok_or_else(|| ApiError::from(StorageError::NoSuchDevice))?;
        if device.revoked_at.is_some() {
            return Err(ApiError::Forbidden("this device is revoked: register its replacement as a new device".into()));
        }
        self.code_for(device)
    }

    /// Records a fresh code for `device`; returns it as shown.
    fn code_for(&self, device: &Device) -> Result<String, ApiError> {
        let (code, hash) = auth::new_code();
        let expires_at = chrono::Utc::now().timestamp_millis() + auth::CODE_LIFETIME_MS;
        self.shared.storage.add_enrolment_code(&device.id, &hash, expires_at)?;
        Ok(code)
    }

    /// Checks a new device, registers the grids it names that the registry does not know, and
    /// registers the device with `token_hash` (none: it enrols by a code).
    fn register(&self, new: NewDevice, token_hash: Option<&[u8; 32]>) -> Result<Device, ApiError> {
        let name = new.name.trim().to_string();
        if name.is_empty() {
            return Err(ApiError::Malformed("name the device".into()));
        }
        let holder = new.holder.trim().to_string();
        if name.len().max(holder.len()) > enrol::MAX_CERTIFIED_TEXT_BYTES {
            return Err(ApiError::Malformed(format!(
                "a device's name and holder are at most {} bytes each",
                enrol::MAX_CERTIFIED_TEXT_BYTES
            )));
        }
        let village = new.village.map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
        let registry = self.shared.storage.grids()?;
        let mut grids = Vec::new();
        let mut unregistered = Vec::new();
        for given in &new.grids {
            match resolve_grid(&registry, given)? {
                Resolved::Registered(id) => grids.push(id),
                Resolved::Unregistered(id) => {
                    let Some(village) = village.clone() else {
                        return Err(ApiError::Malformed(format!(
                            "grid {id} is not registered: give --village, the village it belongs to, or register \
                             it first with `gridbook-server grid add`"
                        )));
                    };
                    grids.push(id.clone());
                    unregistered.push(GridEntry {
                        id,
                        name: String::new(),
                        village,
                        township: String::new(),
                        registered_by: SERVER_AUTHOR.into(),
                        registered_at: chrono::Utc::now().timestamp_millis(),
                    });
                }
            }
        }
        let department = new.department.map(|d| d.trim().to_string()).filter(|d| !d.is_empty());
        let missing = match new.role {
            Role::GridMember if grids.is_empty() => Some("a grid member needs --grid"),
            Role::Secretary if village.is_none() && grids.is_empty() => Some("a secretary needs --village"),
            Role::Department if department.is_none() => Some("a department device needs --department"),
            _ => None,
        };
        if let Some(missing) = missing {
            return Err(ApiError::Malformed(missing.into()));
        }
        let device = Device {
            id: uuid::Uuid::now_v7().to_string(),
            name,
            role: new.role,
            grids,
            // A grid member's village only placed its new grids; its scope is its grids.
            village: if new.role == Role::GridMember { None } else { village },
            department,
            holder,
            created_at: chrono::Utc::now().timestamp_millis(),
            revoked_at: None,
            revoked_as: None,
        };
        if !unregistered.is_empty() {
            // Named when its document arrives; a document naming another village is refused.
            self.shared.storage.commit(Commit {
                device: SERVER_AUTHOR.into(),
                grids: unregistered,
                ..Commit::default()
            })?;
        }
        self.shared.storage.add_device(&device, token_hash)?;
        Ok(device)
    }

    /// Registers a grid in the district's registry and makes its document, which every device whose
    /// scope covers the grid receives at its next sync: the centre's way of creating a grid before
    /// any device has. The grid keeps its village for good.
    ///
    /// # Errors
    /// [`ApiError::Malformed`] for an empty name or village, or a name the village already has.
    pub fn add_grid(&self, new: NewGrid) -> Result<GridEntry, ApiError> {
        let storage = &self.shared.storage;
        let now = chrono::Utc::now();
        let (grid, change) = gridbook_core::sync::new_grid_document(&new, "district centre", SERVER_AUTHOR, now)
            .map_err(|e| ApiError::Malformed(e.to_string()))?;
        if storage.grids()?.iter().any(|g| g.village == grid.village && g.name == grid.name) {
            return Err(ApiError::Malformed(format!("{} already has a grid named {}", grid.village, grid.name)));
        }
        let entry = GridEntry {
            id: grid.id.to_string(),
            name: grid.name,
            village: grid.village,
            township: grid.township,
            registered_by: SERVER_AUTHOR.into(),
            registered_at: now.timestamp_millis(),
        };
        storage.commit(Commit {
            device: SERVER_AUTHOR.into(),
            changes: vec![NewChange {
                hash: change.hash().0,
                doc: format!("g/{}", entry.id),
                grid: entry.id.clone(),
                author: SERVER_AUTHOR.into(),
                actor: change.actor_id().to_bytes().to_vec(),
                seq: change.seq(),
                bytes: change.raw_bytes().to_vec(),
            }],
            grids: vec![entry.clone()],
            ..Commit::default()
        })?;
        Ok(entry)
    }

    /// The district's grid registry: every grid, by village, then name.
    ///
    /// # Errors
    /// [`ApiError::Internal`] if storage fails.
    pub fn grids(&self) -> Result<Vec<GridEntry>, ApiError> {
        Ok(self.shared.storage.grids()?)
    }

    /// The district's access log: every reveal of full ID numbers or phones the devices synced,
    /// oldest first, each named by the enrolled device of the change that wrote it.
    ///
    /// # Errors
    /// [`ApiError::Internal`] if storage fails or a stored change does not decode.
    pub fn audit(&self, filter: &access_log::AuditFilter) -> Result<Vec<access_log::AuditEntry>, ApiError> {
        access_log::audit(self.shared.storage.as_ref(), filter)
    }

    /// Drops the notices of erasures older than the configured `erasure_notice_days`, as serving
    /// does at start, daily and after each erasure; a store that had not carried one out is then told to
    /// start over from the server's copy. The admin commands do not: their configuration is not the
    /// served one.
    ///
    /// # Errors
    /// [`ApiError::Internal`] if storage fails.
    pub fn prune_erasure_notices(&self) -> Result<(), ApiError> {
        erasure::prune(self.shared.storage.as_ref(), &self.shared.config)
    }

    /// The erasures whose notices the server keeps, oldest first: what was erased, where, when, by
    /// which enrolled device and why. Records erased before their notice was pruned are not listed.
    ///
    /// # Errors
    /// [`ApiError::Internal`] if storage fails.
    pub fn erasures(&self) -> Result<Vec<ErasureRecord>, ApiError> {
        Ok(self.shared.storage.erasure_notices(0, &storage::ReadScope::All, usize::MAX)?.records)
    }

    /// Every registered device, revoked ones included.
    ///
    /// # Errors
    /// [`ApiError::Internal`] if storage fails.
    pub fn list_devices(&self) -> Result<Vec<Device>, ApiError> {
        Ok(self.shared.storage.devices()?)
    }

    /// How many stores of each device have enrolled a key, by device id; a device with none is left
    /// out.
    ///
    /// # Errors
    /// [`ApiError::Internal`] if storage fails.
    pub fn enrolled_keys(&self) -> Result<HashMap<String, u64>, ApiError> {
        Ok(self.shared.storage.enrolled_keys()?)
    }

    /// Revokes a device by name or id, and has its stores wiped: one [`Revocation::Lost`] is
    /// refused from its next request on, which orders it to wipe and stores nothing of it; one
    /// [`Revocation::Retired`] may still upload what it has not sent, receives nothing new, and is
    /// ordered to wipe with every answer, which its stores obey once their upload is complete. A
    /// retired device may be revoked again as lost, never a lost one as retired.
    ///
    /// # Errors
    /// [`ApiError::NotFound`] if there is no such device.
    pub fn revoke_device(&self, name_or_id: &str, reason: Revocation) -> Result<(), ApiError> {
        let now = chrono::Utc::now().timestamp_millis();
        Ok(self.shared.storage.revoke_device(name_or_id.trim(), now, reason)?)
    }

    /// The district a data directory was made for, if it was: the admin commands need not be told.
    ///
    /// # Errors
    /// [`ApiError::Internal`] if the directory's database cannot be read.
    pub fn stored_district(data: &Path, key: Option<&StoreKey>) -> Result<Option<String>, ApiError> {
        Ok(SqliteStorage::stored_district(data, key)?)
    }

    /// How many changes the server holds.
    ///
    /// # Errors
    /// [`ApiError::Internal`] if storage fails.
    pub fn change_count(&self) -> Result<u64, ApiError> {
        Ok(self.shared.storage.change_count()?)
    }
}

/// How often a serving server drops the erasure notices past their days, besides at start and
/// after each erasure: a notice keeps who asked and why no longer than the district decided.
const PRUNE_EVERY: std::time::Duration = std::time::Duration::from_secs(24 * 60 * 60);

/// Drops the erasure notices past their days every [`PRUNE_EVERY`], until aborted.
async fn prune_erasure_notices_daily(shared: Arc<Shared>) {
    let mut every = tokio::time::interval(PRUNE_EVERY);
    every.tick().await;
    loop {
        every.tick().await;
        let shared = shared.clone();
        let pruned = tokio::task::spawn_blocking(move || erasure::prune(shared.storage.as_ref(), &shared.config)).await;
        if !matches!(pruned, Ok(Ok(()))) {
            tracing::warn!("pruning the erasure notices failed; the next day's pruning retries");
        }
    }
}

/// The author the server's own changes carry in its log (a grid the centre registers on the
/// server): no device's id, so every device in the grid's scope receives them.
const SERVER_AUTHOR: &str = "server";

/// A grid given to `device add`, by the registry.
enum Resolved {
    Registered(String),
    /// A grid id the registry does not know yet.
    Unregistered(String),
}

/// A grid given to `device add`, as the registry knows it: by id, or by a name one grid has.
fn resolve_grid(registry: &[GridEntry], given: &str) -> Result<Resolved, ApiError> {
    let given = given.trim();
    if registry.iter().any(|g| g.id == given) {
        return Ok(Resolved::Registered(given.to_string()));
    }
    let named: Vec<&GridEntry> = registry.iter().filter(|g| g.name == given).collect();
    match named[..] {
        [one] => Ok(Resolved::Registered(one.id.clone())),
        [] if let Ok(id) = uuid::Uuid::parse_str(given) => Ok(Resolved::Unregistered(id.to_string())),
        [] => Err(ApiError::Malformed(format!(
            "no registered grid is named {given:?}: `gridbook-server grid list` shows the district's grids"
        ))),
        _ => {
            let which: Vec<String> = named.iter().map(|g| format!("{} in {}", g.id, g.village)).collect();
            Err(ApiError::Malformed(format!("several grids are named {given:?}; give one's id: {}", which.join(", "))))
        }
    }
}
