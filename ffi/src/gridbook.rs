//! The object an app opens on a directory, and the calls that need no store. Its local calls, each
//! synchronous and fast (reads come from the query tables) and each behind the panic guard, are in
//! the modules named for what they do: `ledger`, `checks` and `events`; sync and peer exchange in
//! `sync` and `peer`.

use std::sync::{Arc, OnceLock};

use chrono::Duration;
use gridbook_core::sync::Trust;
use gridbook_core::{self as gb, Durability, IdNumberInfo, IsoDate, Store, StoreConfig, StoreKey, Timestamp};

use crate::error::{GridbookError, guard};

/// Who is working on this device, and how the store behaves. Only `user` and `device` are required.
#[derive(Debug, Clone, uniffi::Record)]
pub struct OpenOptions {
    /// The person working: recorded with every change. An enrolled store records the holder the
    /// district's centre named for its device instead (this, if the centre named none).
    pub user: String,
    /// This device's name: recorded with every change. An enrolled store records its device's
    /// name in the district's registry instead.
    pub device: String,
    /// The district's IANA time zone; "today" and deadlines are computed in it. Default Asia/Shanghai.
    #[uniffi(default)]
    pub timezone: Option<String>,
    /// Default `Full`: a write survives a power cut.
    #[uniffi(default)]
    pub durability: Option<Durability>,
    /// Longest edge of a stored photo, in pixels. Default 1600.
    #[uniffi(default)]
    pub photo_long_edge: Option<u32>,
    /// JPEG quality of a stored photo, 1–100. Default 80.
    #[uniffi(default)]
    pub photo_quality: Option<u8>,
    /// An urgent event must be accepted within this many minutes. Default 120.
    #[uniffi(default)]
    pub urgent_response_minutes: Option<u32>,
    /// A routine event must be resolved within this many minutes. Default 1440 (24 hours).
    #[uniffi(default)]
    pub routine_handling_minutes: Option<u32>,
    /// The district server's own certificate authority (PEM), if its `https://` certificate is not
    /// from a public CA. Otherwise certificates are checked against the system's roots on iOS, and
    /// on Android against Mozilla's, compiled into the library.
    #[uniffi(default)]
    pub district_ca: Option<String>,
    /// The 32-byte key the store is encrypted with (see [`new_store_key`]), kept by the app in
    /// the Android Keystore or the iOS Keychain. None keeps the store in plaintext. A plaintext
    /// store opened with a key is encrypted first, crash-safely.
    #[uniffi(default)]
    pub key: Option<Vec<u8>>,
}

/// A grid member's, secretary's or centre's store on this device. Safe to call from several
/// threads at once: the UI thread reads while a background job syncs.
///
/// Every call that fails throws a `GridbookError`. Besides the kinds each method names, an id, date
/// or time argument whose text does not parse is refused with `InvalidInput` before the call runs,
/// and a bug in Gridbook comes back as `Internal` instead of crashing the app.
#[derive(Debug, uniffi::Object)]
pub struct Gridbook {
    pub(crate) store: Arc<Store>,
    /// Sync's network runtime, started on the first sync: an app that never syncs runs no threads.
    pub(crate) runtime: OnceLock<tokio::runtime::Runtime>,
    pub(crate) trust: Trust,
}

impl Drop for Gridbook {
    fn drop(&mut self) {
        // Dropping a runtime blocks until its threads stop, which tokio refuses inside another
        // runtime (an app's own async code may hold the last reference).
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

fn config(options: OpenOptions) -> gb::Result<StoreConfig> {
    let mut config = StoreConfig::new(options.user, options.device);
    config.key = options.key.as_deref().map(StoreKey::from_bytes).transpose()?;
    if let Some(zone) = options.timezone {
        config = config.with_timezone(&zone)?;
    }
    if let Some(durability) = options.durability {
        config.durability = durability;
    }
    if let Some(edge) = options.photo_long_edge {
        config.photos.max_long_edge = edge;
    }
    if let Some(quality) = options.photo_quality {
        config.photos.jpeg_quality = quality;
    }
    if let Some(minutes) = options.urgent_response_minutes {
        config.events.urgent_response = Duration::minutes(minutes.into());
    }
    if let Some(minutes) = options.routine_handling_minutes {
        config.events.routine_handling = Duration::minutes(minutes.into());
    }
    Ok(config)
}

#[uniffi::export]
impl Gridbook {
    /// Opens the store in `dir`, creating it if need be, under `options.key` if given. A damaged
    /// database is moved aside (never deleted) and reported as `Corrupt`.
    ///
    /// # Errors
    /// `InvalidInput` for an empty `user` or `device`, an unknown time zone, a `district_ca` with no
    /// usable certificate, or a key that is not 32 bytes; `Locked` for an encrypted store opened
    /// without its key or with another key (nothing is changed); `Corrupt` for a damaged database
    /// or one written by a newer app; `Busy` if another process holds the store; `Storage` if the
    /// directory cannot be written; `Wiped` if the store in `dir` was wiped (delete its key from
    /// the key store; [`start_over`] lets a new store be made there).
    #[uniffi::constructor]
    pub fn open(dir: String, options: OpenOptions) -> Result<Arc<Self>, GridbookError> {
        let trust = Trust { district_ca: options.district_ca.clone(), ..Trust::default() };
        let store = guard(|| Store::open(&dir, config(options)?))?;
        Ok(Arc::new(Self { store: Arc::new(store), runtime: OnceLock::new(), trust }))
    }

    /// Encrypts the store under `new_key` from now on (none: stores it in plaintext), while it
    /// stays open. A kill during the call leaves the store whole under the old key or the new one:
    /// keep both in the platform's key store until the call returns, then drop the old one.
    ///
    /// # Errors
    /// `InvalidInput` for a key that is not 32 bytes; `Busy` if another connection holds a
    /// transaction; `Storage` if the rewrite fails (the store keeps its old key).
    pub fn rekey(&self, new_key: Option<Vec<u8>>) -> Result<(), GridbookError> {
        guard(|| self.store.rekey(new_key.as_deref().map(StoreKey::from_bytes).transpose()?))
    }

    /// Destroys this store's data for good, as the district's server orders when it revokes the
    /// device (sync then does it by itself and throws `Wiped`): closes the database and deletes
    /// it, its journal files and its photos. Every call afterwards throws `Wiped`. Then delete the
    /// store's key from the Android Keystore or the iOS Keychain.
    ///
    /// # Errors
    /// `Storage` if a file cannot be deleted: the store is closed and marked wiped all the same,
    /// and the next `open` deletes what is left.
    pub fn wipe(&self) -> Result<(), GridbookError> {
        guard(|| self.store.wipe())
    }

    /// Whether this store was wiped (on the server's order, or by [`Gridbook::wipe`]): an app
    /// checks it after a sync that threw, or at start, to delete the key and tell the person.
    pub fn is_wiped(&self) -> bool {
        self.store.is_wiped()
    }

    /// Today in the district's time zone.
    pub fn today(&self) -> IsoDate {
        self.store.today()
    }

    /// The district's local day of a moment.
    pub fn local_day(&self, at: Timestamp) -> IsoDate {
        at.with_timezone(&self.store.config().timezone).date_naive()
    }
}

/// A new random 32-byte store key, for an app to keep in the Android Keystore or the iOS Keychain
/// and pass in [`OpenOptions`] at every open.
#[uniffi::export]
pub fn new_store_key() -> Vec<u8> {
    StoreKey::generate().as_bytes().to_vec()
}

/// Whether the store in `dir` was wiped: `Gridbook.open` then throws `Wiped`.
#[uniffi::export]
pub fn is_wiped_store(dir: String) -> bool {
    Store::is_wiped_dir(dir)
}

/// Lets `Gridbook.open` make a new, empty store in `dir` after a wipe (the phone is given to a new
/// holder, who enrols it again): deletes whatever the wipe left. A directory that was not wiped is
/// left as it is. Open the new store under a new key from [`new_store_key`].
///
/// # Errors
/// `Storage` if a file cannot be deleted.
#[uniffi::export]
pub fn start_over(dir: String) -> Result<(), GridbookError> {
    guard(|| Store::start_over(dir))
}

/// Checks a resident ID number (GB 11643) as people type it and reads the birth date and gender in
/// it. Spaces around it are ignored, full-width digits and `Ｘ`/`ｘ` count as ASCII, a lower-case
/// `x` becomes `X`, and a 15-digit first-generation number is converted to its 18-digit form
/// (`IdNumberInfo.converted_from_15` says so; tell the person). A birth date counts as in the
/// future only after today's date everywhere on earth; the store checks against its own day when
/// a resident is saved.
///
/// # Errors
/// `InvalidInput` for a number of the wrong length (the message gives the length found) or
/// characters, first two digits that name no province-level division, an impossible or future
/// birth date, or a wrong check character. The message never contains the number.
#[uniffi::export]
pub fn parse_id_number(raw: String) -> Result<IdNumberInfo, GridbookError> {
    guard(|| gb::parse_id_number(&raw))
}

/// A mainland mobile number in canonical form (11 digits starting with 1).
///
/// # Errors
/// `InvalidInput` for anything else.
#[uniffi::export]
pub fn normalize_phone(raw: String) -> Result<String, GridbookError> {
    guard(|| gb::normalize_phone(&raw))
}
