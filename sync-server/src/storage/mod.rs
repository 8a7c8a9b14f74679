//! What the server keeps, behind a trait: devices and their tokens (hashed), the actors bound to
//! each device, the change log, the district's grid registry (which village each grid belongs to:
//! the server's own record, which no document changes), and the facts that authorise event
//! documents (the departments an event was dispatched to, the photos it references). The exchange logic in
//! `exchange.rs` only speaks to this trait, so a PostgreSQL backend can follow without touching it.
//!
//! It also keeps what enrolment needs: the server's own signing key, one-time codes (hashed), and
//! the public key each store enrolled for its actor.
//!
//! Contract every backend keeps, and `contract` tests against each: a change is stored once per
//! document (by document and hash); `commit` is all or nothing; sequence numbers grow in commit
//! order and are never handed out again, so that a reader's snapshot never sees a gap that a later
//! commit fills (PostgreSQL would take a lock or use a commit-ordered log for this); a page of the
//! log delivers every change in scope once; a revoked device stays listed, marked revoked with its
//! reason, and a lost one is never made retired again; a grid,
//! once registered, keeps its village (a commit may rename it, never move it); a photo
//! is bound only to the events it is bound for, and a reference from another event binds nothing;
//! a code enrols once, before it expires, and never a revoked device; an actor keeps the first key
//! enrolled for it, and the server its key, restarts included; a record erased is erased once,
//! remembered for good, and its key never kept again; a notice's number is never handed out again.
//! Failures are a [`StorageError`], which the HTTP edge maps in one place.

#[cfg(test)]
mod contract;
mod error;
mod sqlite;

use std::collections::HashMap;

use gridbook_core::sync::wire::{Author, ErasedKind, Proof, WipeReason};
use serde::{Deserialize, Serialize};

pub use error::{StorageError, StorageResult};
pub use sqlite::SqliteStorage;

/// What a registered device does, which decides what it may see. Spelt in storage and on the wire
/// as [`Role::as_str`] gives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    /// Its own grids.
    GridMember,
    /// Every grid of its village (and any grids listed).
    Secretary,
    /// The whole district.
    Centre,
    /// The events dispatched to its department, never the ledger behind them.
    Department,
}

impl Role {
    /// Every role.
    pub const ALL: [Role; 4] = [Role::GridMember, Role::Secretary, Role::Centre, Role::Department];

    /// The role's name: `grid-member`, `secretary`, `centre`, `department`.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::GridMember => "grid-member",
            Role::Secretary => "secretary",
            Role::Centre => "centre",
            Role::Department => "department",
        }
    }

    /// The role of that name, as [`Role::as_str`] spells it.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

/// Why the district centre revoked a device, which decides what becomes of the data on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Revocation {
    /// Lost or stolen: refused from its next request on, and told to wipe.
    Lost,
    /// Its holder left: it may still upload what it has not sent, receives nothing new, and is told
    /// to wipe once its upload is complete.
    Retired,
}

impl Revocation {
    /// The reason's name: `lost`, `retired`.
    pub fn as_str(self) -> &'static str {
        self.wipe().as_str()
    }

    /// The reason of that name, as [`Revocation::as_str`] spells it.
    pub fn parse(s: &str) -> Option<Self> {
        [Revocation::Lost, Revocation::Retired].into_iter().find(|r| r.as_str() == s)
    }

    /// The order a device revoked for this reason is given.
    pub fn wipe(self) -> WipeReason {
        match self {
            Revocation::Lost => WipeReason::Lost,
            Revocation::Retired => WipeReason::Retired,
        }
    }
}

/// A registered device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Device {
    pub id: String,
    pub name: String,
    pub role: Role,
    /// Grid ids (UUIDs) it serves.
    pub grids: Vec<String>,
    pub village: Option<String>,
    pub department: Option<String>,
    /// The person the device was given to (empty if not recorded).
    pub holder: String,
    /// Milliseconds since the epoch.
    pub created_at: i64,
    pub revoked_at: Option<i64>,
    /// Why it was revoked; none for a device revoked before reasons were kept, which is refused
    /// and told nothing more.
    pub revoked_as: Option<Revocation>,
}

impl Device {
    /// Whether the device may still upload what it has not sent: active, or retired.
    pub fn may_upload(&self) -> bool {
        self.revoked_at.is_none() || self.revoked_as == Some(Revocation::Retired)
    }
}

/// One change to store.
#[derive(Debug, Clone)]
pub struct NewChange {
    pub hash: [u8; 32],
    pub doc: String,
    pub grid: String,
    /// The device that authored it (the owner of its actor).
    pub author: String,
    /// Its automerge actor and sequence number: one change per actor and number in a document.
    pub actor: Vec<u8>,
    pub seq: u64,
    pub bytes: Vec<u8>,
}

/// A grid in the district's registry: the server's own record of where a grid belongs, from which
/// a secretary's scope is computed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GridEntry {
    /// The grid's id (a UUID), as its documents' names carry it.
    pub id: String,
    /// Its name, as its grid document last said (empty for a grid registered before names were kept
    /// whose document has not been written since).
    pub name: String,
    /// Its village, fixed when the grid was registered.
    pub village: String,
    pub township: String,
    /// Who registered it: `server` (the centre, on the server), a device's id (the centre's or the
    /// village secretary's device, by syncing the grid's first document), or `before-registry`.
    pub registered_by: String,
    /// Milliseconds since the epoch.
    pub registered_at: i64,
}

/// Facts about an event document after a commit.
#[derive(Debug, Clone, Default)]
pub struct DocFacts {
    pub doc: String,
    /// For an event: every department it was dispatched to.
    pub departments: Vec<String>,
    /// For an event: the photos it references.
    pub photos: Vec<String>,
}

/// Everything one sync request stores, at once.
#[derive(Debug, Clone, Default)]
pub struct Commit {
    pub device: String,
    /// An actor seen for the first time, to bind to `device`.
    pub bind_actor: Option<Vec<u8>>,
    pub changes: Vec<NewChange>,
    pub facts: Vec<DocFacts>,
    /// Grids to register, or whose name to bring up to date: a grid already registered keeps its
    /// village whatever an entry here says.
    pub grids: Vec<GridEntry>,
    /// The batches their authors signed that cover `changes`: each change stored is kept with the
    /// first of these of its own actor that covers it, and a batch is kept once if any change is.
    pub proofs: Vec<Proof>,
    /// Records' data keys the request uploaded, kept as [`Storage::put_data_keys`] keeps them (the
    /// first key of a record wins; none of an erased record): in the request's own transaction,
    /// not one more of the writer's.
    pub keys: Vec<StoredKey>,
}

/// Which changes a device may read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReadScope {
    All,
    Grids(Vec<String>),
    Department(String),
}

/// A place in the change log as one device sees it. A change becomes visible to a device at its own
/// sequence number, or — for a department — at the later sequence number of the grant that made its
/// event visible. Delivered are all changes visible before `seq`, and those visible at `seq` whose own
/// sequence number is at most `tie` (`tie >= seq`: all of them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Position {
    pub seq: i64,
    pub tie: i64,
}

impl Position {
    /// Everything up to and including `seq`.
    pub fn through(seq: i64) -> Self {
        Self { seq, tie: seq }
    }

    /// Whether this position is inside a group of changes visible at the same sequence number.
    pub fn is_partial(&self) -> bool {
        self.tie < self.seq
    }
}

/// A page of the change log for one device.
#[derive(Debug, Clone)]
pub struct LogQuery {
    pub after: Position,
    pub scope: ReadScope,
    /// Changes authored by this device are not sent back to it.
    pub exclude_author: String,
    pub max_changes: usize,
    pub max_bytes: usize,
}

/// One change of a page.
#[derive(Debug, Clone)]
pub struct LogChange {
    pub seq: i64,
    pub doc: String,
    pub bytes: Vec<u8>,
    /// The batch its author signed it in ([`Storage::proofs`]); none for a change stored before
    /// proofs were kept, or unsigned.
    pub proof: Option<i64>,
}

#[derive(Debug, Clone, Default)]
pub struct LogPage {
    /// In the order the device sees them (visible sequence, then sequence).
    pub changes: Vec<LogChange>,
    pub more: bool,
    /// Where the next page starts: never before the query's `after`.
    pub cursor: Position,
}

/// A record's data key as the server keeps it: wrapped under the server's master key
/// (`crate::master_key`), never in the clear.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredKey {
    /// The record's id.
    pub id: [u8; 16],
    /// The document the record lives in.
    pub doc: String,
    /// A nonce and the key sealed under the master key, bound to `id` and `doc`.
    pub wrapped: Vec<u8>,
}

/// An erasure to carry out: what is erased, where, and who asked for it and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Erasure {
    /// The resident's or household's id.
    pub id: [u8; 16],
    /// The household document the record lives in.
    pub doc: String,
    /// The document's grid, which decides which devices are told.
    pub grid: String,
    pub kind: ErasedKind,
    /// Milliseconds since the epoch.
    pub at: i64,
    /// The enrolled device that asked for it.
    pub by_device: String,
    /// Why, as the device gave it (bounded by the wire).
    pub reason: String,
}

/// An erasure carried out, as the server keeps its notice until the notice is pruned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErasureRecord {
    /// The notice's place in the server's list: grows with every erasure, never handed out again.
    pub seq: u64,
    pub erasure: Erasure,
}

/// Notices as one snapshot of storage gives them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NoticePage {
    pub records: Vec<ErasureRecord>,
    /// The newest notice number ever handed out, pruned or not (0 for none).
    pub newest: u64,
    /// The highest notice number ever pruned (0 for none).
    pub pruned_through: u64,
}

/// What [`Storage::erase`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Erased {
    /// Carried out now: the notice's sequence number, and how many data keys and stored changes
    /// were destroyed.
    Now { seq: u64, keys: usize, changes: usize },
    /// The record (or its household) was erased before: nothing changed.
    Before,
}

/// A record erased for good, as the server remembers it forever: its id, document and kind only.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Tombstone {
    pub id: [u8; 16],
    pub doc: String,
    pub kind: ErasedKind,
}

/// The server's storage. Every call may fail with [`StorageError::Backend`] (or
/// [`StorageError::Corrupt`]); the others name the calls that return them.
pub trait Storage: Send + Sync + std::fmt::Debug + 'static {
    /// The district this storage serves; set once, when the storage is created.
    fn district(&self) -> &str;
    /// A random id of this database, so a cursor from another server is recognised. It never
    /// changes, restarts included.
    fn instance(&self) -> [u8; 8];

    /// The server's Ed25519 key, which signs its devices' certificates: made with the storage, the
    /// same for as long as the storage lasts.
    fn server_key(&self) -> ed25519_dalek::SigningKey;

    /// Registers a device, with its token's hash or (to enrol by a code) none yet;
    /// [`StorageError::NameTaken`] if its name is.
    fn add_device(&self, device: &Device, token_hash: Option<&[u8; 32]>) -> StorageResult<()>;
    /// Every device, revoked ones included, oldest first.
    fn devices(&self) -> StorageResult<Vec<Device>>;
    fn device_by_token(&self, token_hash: &[u8; 32]) -> StorageResult<Option<Device>>;
    /// Gives a device a new token, replacing any it had; [`StorageError::NoSuchDevice`] if there is
    /// no device of that id.
    fn set_token(&self, device_id: &str, token_hash: &[u8; 32]) -> StorageResult<()>;
    /// Revokes by name or id for `reason`, keeping the time of a first revocation. A retired device
    /// may be revoked again as lost, never a lost one as retired (its uploads must stay refused):
    /// it stays lost. [`StorageError::NoSuchDevice`] if there is no such device.
    fn revoke_device(&self, name_or_id: &str, at: i64, reason: Revocation) -> StorageResult<()>;

    /// Records a one-time code (its hash) that enrols device `device_id` until `expires_at`
    /// (milliseconds since the epoch). A device has one code at a time: its unused ones are
    /// dropped. [`StorageError::NoSuchDevice`] if there is no device of that id.
    fn add_enrolment_code(&self, device_id: &str, code_hash: &[u8; 32], expires_at: i64) -> StorageResult<()>;
    /// Uses a code at `now` (milliseconds since the epoch) for the store of `public_key`,
    /// atomically: the device it enrols, if the code is known, unexpired, its device not revoked,
    /// and unused or used by this same key (an answer lost on the way: the store asks again);
    /// otherwise `None`, and the code is left as it was.
    fn redeem_code(&self, code_hash: &[u8; 32], now: i64, public_key: &[u8; 32]) -> StorageResult<Option<Device>>;
    /// Binds `actor` to device `device_id` with its store's `public_key`. An actor bound to
    /// another device is [`StorageError::ActorTaken`]; one bound to this device keeps the first key
    /// enrolled for it ([`StorageError::KeyTaken`] for another, nothing changes for the same);
    /// [`StorageError::NoSuchDevice`] if there is no device of that id.
    fn bind_key(&self, device_id: &str, actor: &[u8], public_key: &[u8; 32]) -> StorageResult<()>;
    /// The public key enrolled for `actor`, if any.
    fn actor_key(&self, actor: &[u8]) -> StorageResult<Option<[u8; 32]>>;
    /// How many actors of each device have a key enrolled, by device id; a device with none is
    /// left out.
    fn enrolled_keys(&self) -> StorageResult<HashMap<String, u64>>;
    /// The device each of `actors` is bound to, as a sync's authors name it, in the order given,
    /// each actor once; an actor bound to no device is left out.
    fn authors(&self, actors: &[Vec<u8>]) -> StorageResult<Vec<Author>>;

    /// The device an actor is bound to, and whether that device is revoked.
    fn actor_owner(&self, actor: &[u8]) -> StorageResult<Option<(String, bool)>>;
    /// Every stored change of one document, in order.
    fn doc_changes(&self, doc: &str) -> StorageResult<Vec<Vec<u8>>>;
    /// Every stored change of the access-log documents (`a/…`), in log order.
    fn access_log(&self) -> StorageResult<Vec<LogChange>>;
    /// For each `(document, actor, sequence number)`, the hash of the stored change there, if any.
    fn hashes_at(&self, at: &[(&str, &[u8], u64)]) -> StorageResult<Vec<Option<[u8; 32]>>>;
    /// The ids of the registered grids of a village.
    fn grids_in_village(&self, village: &str) -> StorageResult<Vec<String>>;
    /// A registered grid by id.
    fn grid(&self, id: &str) -> StorageResult<Option<GridEntry>>;
    /// Every registered grid, by village, then name.
    fn grids(&self) -> StorageResult<Vec<GridEntry>>;
    /// A record's data key, wrapped, if the server holds it.
    fn data_key(&self, id: &[u8; 16]) -> StorageResult<Option<StoredKey>>;
    /// Keeps records' data keys, all at once, each unless one is held for its id (the first key
    /// wins) or its record, or the household of its document, was erased; says of each whether it
    /// was kept.
    fn put_data_keys(&self, keys: &[StoredKey]) -> StorageResult<Vec<bool>>;
    /// The data keys of the records of `docs`.
    fn data_keys_of(&self, docs: &[String]) -> StorageResult<Vec<StoredKey>>;
    /// Departments an event document was dispatched to.
    fn departments_of(&self, doc: &str) -> StorageResult<Vec<String>>;
    /// Event documents that reference a photo.
    fn docs_with_photo(&self, sha: &str) -> StorageResult<Vec<String>>;
    /// Binds a photo to an event it was uploaded for, once its bytes are proven; binding it again
    /// changes nothing.
    fn bind_photo(&self, sha: &str, doc: &str) -> StorageResult<()>;
    /// The events a photo is bound to: the only ones through which it may be read.
    fn photo_events(&self, sha: &str) -> StorageResult<Vec<String>>;

    /// Erases a record, all or nothing: remembers it for good ([`Tombstone`]), destroys its data
    /// key (a household's: every key kept under its document), for a household deletes its
    /// document's stored changes, and records a notice. A record erased before, or one of a
    /// household erased before, is [`Erased::Before`] and changes nothing. What is deleted is
    /// overwritten, not only unlinked, in the backend's files.
    fn erase(&self, erasure: &Erasure) -> StorageResult<Erased>;
    /// The records erased whose document is one of `docs` or whose id is one of `ids`.
    fn tombstones(&self, docs: &[String], ids: &[[u8; 16]]) -> StorageResult<Vec<Tombstone>>;
    /// The households erased in the grids `grids` (their ids as the documents name them).
    fn erased_households(&self, grids: &[String]) -> StorageResult<Vec<Tombstone>>;
    /// Up to `max` retained notices after sequence number `after` whose document `scope` covers
    /// (none for a department's), oldest first, with the newest number handed out and the highest
    /// dropped, all from one snapshot.
    fn erasure_notices(&self, after: u64, scope: &ReadScope, max: usize) -> StorageResult<NoticePage>;
    /// Drops the notices of erasures made before `before` (milliseconds since the epoch) and
    /// returns the highest sequence number ever dropped (0 for none), which survives a restart.
    fn prune_erasure_notices(&self, before: i64) -> StorageResult<u64>;

    /// Stores a request's commit, all or nothing, and says how many of its changes were new: a
    /// change the log already holds in its document (by author and number) is skipped, and so is a
    /// change to the document of an erased household.
    /// [`StorageError::ActorTaken`] if the actor it binds belongs to another device.
    fn commit(&self, commit: Commit) -> StorageResult<usize>;
    fn read_log(&self, query: &LogQuery) -> StorageResult<LogPage>;
    /// The author proofs of these ids ([`LogChange::proof`]), each once; an id unknown is left out.
    fn proofs(&self, ids: &[i64]) -> StorageResult<Vec<Proof>>;
    fn change_count(&self) -> StorageResult<u64>;
}
