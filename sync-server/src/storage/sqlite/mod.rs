//! The embedded default backend: one SQLite file in WAL mode with `synchronous=FULL`, so a reply is
//! sent only after what it acknowledges is on disk. One writer connection with group commit
//! (`writer`), a pool of readers, which in WAL mode never wait for the writer, and a thread that
//! copies the WAL back into the database (`checkpointer`), so that no request waits for that. The
//! SQL lives beside what it stores: `devices`, `codes` (enrolment codes), `log` (the change log),
//! `facts`, `erasures`; `schema` owns the schema.

mod checkpointer;
mod codes;
mod connection;
mod devices;
mod erasures;
mod facts;
mod log;
mod schema;
mod writer;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex, mpsc};

use ed25519_dalek::SigningKey;
use gridbook_core::StoreKey;
use gridbook_core::sync::wire::{Author, Proof};
use rusqlite::{Connection, OptionalExtension};

use super::{
    Commit, Device, Erased, Erasure, GridEntry, LogChange, LogPage, LogQuery, NoticePage, ReadScope, Revocation,
    Storage, StorageError, StorageResult, StoredKey, Tombstone,
};
use writer::Writer;

/// Readers kept open between requests; more are opened under load and closed after.
const IDLE_READERS: usize = 32;

/// The server's storage in one SQLite file, `server.sqlite3` in the data directory.
#[derive(Debug)]
pub struct SqliteStorage {
    path: PathBuf,
    district: String,
    instance: [u8; 8],
    /// Read once at open: every enrolment signs with it.
    server_key: SigningKey,
    /// The database's key, for every connection opened later.
    key: Option<StoreKey>,
    writer: Writer,
    readers: Mutex<Vec<Connection>>,
    /// Dropped with the storage, which stops the checkpoint thread.
    _stop_checkpoints: mpsc::Sender<()>,
}

impl SqliteStorage {
    /// The district a data directory was made for, if it was.
    ///
    /// # Errors
    /// [`StorageError::Corrupt`] or [`StorageError::Backend`] if its database cannot be read.
    pub fn stored_district(dir: &Path, key: Option<&StoreKey>) -> StorageResult<Option<String>> {
        let path = dir.join(connection::FILE);
        if !path.exists() {
            return Ok(None);
        }
        let conn = connection::connect_read_only(&path, key)?;
        let sql = "SELECT value FROM meta WHERE key = 'district'";
        // A directory whose database has no schema yet has no district either.
        Ok(conn.query_row(sql, [], |r| r.get(0)).optional().unwrap_or(None))
    }

    /// Opens (or creates) `server.sqlite3` in `dir` for `district`, encrypted under `key` if one is
    /// given (a plaintext database is encrypted first, crash-safely).
    ///
    /// # Errors
    /// [`StorageError::Locked`] for an encrypted database opened without its key or with another;
    /// [`StorageError::OtherDistrict`] for a database made for another district,
    /// [`StorageError::NewerSchema`] for one written by a newer server, [`StorageError::Corrupt`] for
    /// a damaged one, [`StorageError::Backend`] if the file cannot be opened.
    pub fn open(dir: &Path, district: &str, key: Option<StoreKey>) -> StorageResult<Self> {
        let path = dir.join(connection::FILE);
        connection::prepare(&path, key.as_ref())?;
        let commits = Arc::new(AtomicU64::new(0));
        let writer = Writer::open(&path, key.as_ref(), commits.clone())?;
        let (district, instance, server_key) = writer.with_connection(|c| {
            schema::migrate(c)?;
            let (district, instance) = identity(c, district)?;
            Ok((district, instance, server_key(c)?))
        })?;
        let stop_checkpoints = checkpointer::spawn(&path, key.as_ref(), commits)?;
        Ok(Self {
            path,
            key,
            district,
            instance,
            server_key,
            writer,
            readers: Mutex::new(Vec::new()),
            _stop_checkpoints: stop_checkpoints,
        })
    }

    /// Runs `f` in one read transaction on a pooled reader.
    fn read<R>(&self, f: impl FnOnce(&Connection) -> StorageResult<R>) -> StorageResult<R> {
        let pooled = self.readers.lock().unwrap_or_else(|p| p.into_inner()).pop();
        let mut conn = match pooled {
            Some(c) => c,
            None => connection::connect(&self.path, self.key.as_ref())?,
        };
        // One transaction: the page of the log and the cursor after it come from one snapshot.
        let tx = conn.transaction()?;
        let out = f(&tx);
        drop(tx);
        let mut readers = self.readers.lock().unwrap_or_else(|p| p.into_inner());
        if readers.len() < IDLE_READERS {
            readers.push(conn);
        }
        out
    }
}

/// The district and instance id the database keeps, set on first use: a database made for another
/// district is refused, and the instance id survives every restart (a device's cursor names it).
fn identity(c: &Connection, district: &str) -> StorageResult<(String, [u8; 8])> {
    let get = |key: &str| -> StorageResult<Option<String>> {
        Ok(c.query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0)).optional()?)
    };
    let (stored_district, stored_instance) = (get("district")?, get("instance")?);
    let district = match stored_district {
        Some(stored) if stored != district => {
            return Err(StorageError::OtherDistrict { stored, wanted: district.to_string() });
        }
        Some(d) => d,
        None => {
            c.execute("INSERT INTO meta (key, value) VALUES ('district', ?1)", [district])?;
            district.to_string()
        }
    };
    let instance = match stored_instance.and_then(|h| hex::decode(h).ok()).and_then(|b| b.try_into().ok()) {
        Some(i) => i,
        None => {
            let i: [u8; 8] = rand::random();
            c.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('instance', ?1)", [hex::encode(i)])?;
            i
        }
    };
    Ok((district, instance))
}

/// The server's signing key, which the schema made. A database without one, or with one that does
/// not read, is damaged: a new key would disown every certificate the server signed.
fn server_key(c: &Connection) -> StorageResult<SigningKey> {
    let hex: Option<String> =
        c.query_row("SELECT value FROM meta WHERE key = ?1", [schema::SERVER_KEY], |r| r.get(0)).optional()?;
    let secret: Option<[u8; 32]> = hex.and_then(|h| hex::decode(h).ok()).and_then(|b| b.try_into().ok());
    let secret =
        secret.ok_or_else(|| StorageError::Corrupt("the server's signing key is missing or damaged".into()))?;
    Ok(SigningKey::from_bytes(&secret))
}

impl Storage for SqliteStorage {
    fn district(&self) -> &str {
        &self.district
    }

    fn instance(&self) -> [u8; 8] {
        self.instance
    }

    fn server_key(&self) -> SigningKey {
        self.server_key.clone()
    }

    fn add_device(&self, device: &Device, token_hash: Option<&[u8; 32]>) -> StorageResult<()> {
        self.writer.write(|c| devices::add(c, device, token_hash))
    }

    fn devices(&self) -> StorageResult<Vec<Device>> {
        self.read(devices::all)
    }

    fn device_by_token(&self, token_hash: &[u8; 32]) -> StorageResult<Option<Device>> {
        self.read(|c| devices::by_token(c, token_hash))
    }

    fn set_token(&self, device_id: &str, token_hash: &[u8; 32]) -> StorageResult<()> {
        self.writer.write(|c| devices::set_token(c, device_id, token_hash))
    }

    fn revoke_device(&self, name_or_id: &str, at: i64, reason: Revocation) -> StorageResult<()> {
        self.writer.write(|c| devices::revoke(c, name_or_id, at, reason))
    }

    fn add_enrolment_code(&self, device_id: &str, code_hash: &[u8; 32], expires_at: i64) -> StorageResult<()> {
        self.writer.write(|c| codes::add(c, device_id, code_hash, expires_at))
    }

    fn redeem_code(&self, code_hash: &[u8; 32], now: i64, public_key: &[u8; 32]) -> StorageResult<Option<Device>> {
        self.writer.write(|c| codes::redeem(c, code_hash, now, public_key))
    }

    fn bind_key(&self, device_id: &str, actor: &[u8], public_key: &[u8; 32]) -> StorageResult<()> {
        self.writer.write(|c| devices::bind_key(c, device_id, actor, public_key))
    }

    fn actor_key(&self, actor: &[u8]) -> StorageResult<Option<[u8; 32]>> {
        self.read(|c| devices::actor_key(c, actor))
    }

    fn enrolled_keys(&self) -> StorageResult<HashMap<String, u64>> {
        self.read(devices::enrolled_keys)
    }

    fn authors(&self, actors: &[Vec<u8>]) -> StorageResult<Vec<Author>> {
        self.read(|c| devices::authors(c, actors))
    }

    fn actor_owner(&self, actor: &[u8]) -> StorageResult<Option<(String, bool)>> {
        self.read(|c| devices::actor_owner(c, actor))
    }

    fn doc_changes(&self, doc: &str) -> StorageResult<Vec<Vec<u8>>> {
        self.read(|c| log::doc_changes(c, doc))
    }

    fn access_log(&self) -> StorageResult<Vec<LogChange>> {
        self.read(log::access_log)
    }

    fn hashes_at(&self, at: &[(&str, &[u8], u64)]) -> StorageResult<Vec<Option<[u8; 32]>>> {
        self.read(|c| log::hashes_at(c, at))
    }

    fn grids_in_village(&self, village: &str) -> StorageResult<Vec<String>> {
        self.read(|c| facts::grids_in_village(c, village))
    }

    fn grid(&self, id: &str) -> StorageResult<Option<GridEntry>> {
        self.read(|c| facts::grid(c, id))
    }

    fn grids(&self) -> StorageResult<Vec<GridEntry>> {
        self.read(facts::grids)
    }

    fn data_key(&self, id: &[u8; 16]) -> StorageResult<Option<StoredKey>> {
        self.read(|c| facts::data_key(c, id))
    }

    fn put_data_keys(&self, keys: &[StoredKey]) -> StorageResult<Vec<bool>> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        self.writer.write(|c| keys.iter().map(|key| facts::put_data_key(c, key)).collect())
    }

    fn data_keys_of(&self, docs: &[String]) -> StorageResult<Vec<StoredKey>> {
        self.read(|c| facts::data_keys_of(c, docs))
    }

    fn departments_of(&self, doc: &str) -> StorageResult<Vec<String>> {
        self.read(|c| facts::departments_of(c, doc))
    }

    fn docs_with_photo(&self, sha: &str) -> StorageResult<Vec<String>> {
        self.read(|c| facts::docs_with_photo(c, sha))
    }

    fn bind_photo(&self, sha: &str, doc: &str) -> StorageResult<()> {
        self.writer.write(|c| facts::bind_photo(c, sha, doc))
    }

    fn photo_events(&self, sha: &str) -> StorageResult<Vec<String>> {
        self.read(|c| facts::photo_events(c, sha))
    }

    fn erase(&self, erasure: &Erasure) -> StorageResult<Erased> {
        let erased = self.writer.write(|c| erasures::erase(c, erasure))?;
        if erased != Erased::Before {
            self.writer.with_connection(|c| {
                erasures::checkpoint_after_erasure(c);
                Ok(())
            })?;
        }
        Ok(erased)
    }

    fn tombstones(&self, docs: &[String], ids: &[[u8; 16]]) -> StorageResult<Vec<Tombstone>> {
        if docs.is_empty() && ids.is_empty() {
            return Ok(Vec::new());
        }
        self.read(|c| erasures::tombstones(c, docs, ids))
    }

    fn erased_households(&self, grids: &[String]) -> StorageResult<Vec<Tombstone>> {
        if grids.is_empty() {
            return Ok(Vec::new());
        }
        self.read(|c| erasures::households_of(c, grids))
    }

    fn erasure_notices(&self, after: u64, scope: &ReadScope, max: usize) -> StorageResult<NoticePage> {
        self.read(|c| erasures::notices(c, after, scope, max))
    }

    fn prune_erasure_notices(&self, before: i64) -> StorageResult<u64> {
        self.writer.write(|c| erasures::prune(c, before))
    }

    fn commit(&self, commit: Commit) -> StorageResult<usize> {
        self.writer.commit(commit)
    }

    fn read_log(&self, q: &LogQuery) -> StorageResult<LogPage> {
        self.read(|c| log::read_log(c, q))
    }

    fn proofs(&self, ids: &[i64]) -> StorageResult<Vec<Proof>> {
        self.read(|c| log::proofs(c, ids))
    }

    fn change_count(&self) -> StorageResult<u64> {
        self.read(log::change_count)
    }
}

#[cfg(test)]
mod tests {
    use super::SqliteStorage;
    use crate::storage::contract::{self, DISTRICT};

    /// A SQLite storage in a temporary directory of its own.
    #[derive(Debug)]
    pub(crate) struct Fixture {
        dir: tempfile::TempDir,
        storage: Option<SqliteStorage>,
    }

    impl contract::Fixture for Fixture {
        type Storage = SqliteStorage;

        fn new() -> Self {
            let dir = tempfile::tempdir().expect("a temporary directory");
            let storage = SqliteStorage::open(dir.path(), DISTRICT, None).expect("open");
            Self { dir, storage: Some(storage) }
        }

        fn storage(&self) -> &SqliteStorage {
            self.storage.as_ref().expect("open")
        }

        fn reopen(&mut self) {
            drop(self.storage.take());
            self.storage = Some(SqliteStorage::open(self.dir.path(), DISTRICT, None).expect("reopen"));
        }
    }

    contract::storage_contract!(sqlite, Fixture);
}
