//! The store: one directory on the device, one SQLite database in it, and the machinery every write
//! goes through (validate → automerge change → one SQLite transaction with the change bytes and the
//! query rows).

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};

use automerge::transaction::{CommitOptions, Transaction};
use automerge::{ActorId, Automerge};
use chrono::{DateTime, NaiveDate, Utc};
use rusqlite::{Connection, OptionalExtension};

use crate::author::WorkingAs;
use crate::clock::{Clock, SystemClock};
use crate::db::cipher::StoreKey;
use crate::db::{self, Durability, schema, write_tx};
use crate::doc::{Seal, write_entry};
use crate::docstore::{self, DocCache};
use crate::error::{Error, Result};
use crate::ids::DocId;
use crate::image_prep::PhotoOptions;
use crate::maintenance::Maintenance;
use crate::materialise::{self, Entry, Tz};
use crate::model::EventPolicy;
use crate::sync::wire::Certificate;

/// Who is working, where, and how the store behaves.
#[derive(Debug, Clone)]
pub struct StoreConfig {
    /// The person working: recorded with every change. An enrolled store records the holder the
    /// district's centre named for its device instead (this, if the centre named none).
    pub user: String,
    /// This device's name: recorded with every change. An enrolled store records its device's
    /// name in the district's registry instead.
    pub device: String,
    /// The district's time zone; "today" and deadlines are computed in it.
    pub timezone: Tz,
    pub durability: Durability,
    pub photos: PhotoOptions,
    pub events: EventPolicy,
    pub clock: Arc<dyn Clock>,
    /// The key the store's database is encrypted with; none keeps it in plaintext. A plaintext
    /// store opened with a key is encrypted in place first, and its photo files sealed.
    /// [`Store::rekey`] changes it.
    pub key: Option<StoreKey>,
}

impl StoreConfig {
    /// Defaults: Asia/Shanghai, `synchronous=FULL`, photos at 1600 px, 2 h / 24 h event deadlines.
    pub fn new(user: impl Into<String>, device: impl Into<String>) -> Self {
        Self {
            user: user.into(),
            device: device.into(),
            timezone: chrono_tz::Asia::Shanghai,
            durability: Durability::Full,
            photos: PhotoOptions::default(),
            events: EventPolicy::default(),
            clock: Arc::new(SystemClock),
            key: None,
        }
    }

    /// Sets the time zone by its IANA name (`Asia/Urumqi`, say).
    pub fn with_timezone(mut self, name: &str) -> Result<Self> {
        self.timezone = name.parse().map_err(|_| Error::invalid("time zone", format!("unknown IANA name {name:?}")))?;
        Ok(self)
    }
}

/// Who made a change, kept as the change's message so that history can say who did what.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub(crate) struct ChangeMeta {
    pub by: String,
    pub device: String,
    pub action: String,
}

/// A grid member's, secretary's or centre's local store.
#[derive(Debug)]
pub struct Store {
    pub(crate) dir: PathBuf,
    pub(crate) config: StoreConfig,
    /// Where "now" comes from: the configured clock, but while [`Store::with_clock`] runs.
    clock: RwLock<Arc<dyn Clock>>,
    /// Who changes are made as: the configured user and device, but the enrolment's device and
    /// holder once the store is enrolled, or whoever [`Store::work_as`] names.
    author: RwLock<WorkingAs>,
    // Dropped before `inner`, so that the writer's connection closes last and checkpoints the WAL.
    // None only while `rekey` swaps the database file, and for good once the store is wiped.
    pub(crate) maintenance: RwLock<Option<Maintenance>>,
    inner: Mutex<Inner>,
}

#[derive(Debug)]
pub(crate) struct Inner {
    pub conn: Connection,
    pub docs: DocCache,
    /// The key the database is encrypted with now.
    pub(crate) key: Option<StoreKey>,
    /// The store was wiped: `conn` is an empty in-memory stand-in, and every call is refused.
    pub(crate) wiped: bool,
}

impl Store {
    /// Opens the store in `dir`, creating it if need be, under `config.key` if there is one (a
    /// plaintext store is encrypted first, crash-safely).
    ///
    /// # Errors
    /// A corrupt database is moved aside and reported as [`Error::CorruptStore`]; a newer schema
    /// as [`Error::SchemaTooNew`]. An encrypted store opened without a key is
    /// [`Error::KeyNeeded`], with a key that does not open it [`Error::WrongKey`]: neither changes
    /// anything. [`Error::InvalidInput`] when no user or device is named. A store that was wiped
    /// is [`Error::Wiped`] until [`Store::start_over`] lets a new one be made.
    pub fn open(dir: impl AsRef<Path>, config: StoreConfig) -> Result<Self> {
        if config.user.trim().is_empty() {
            return Err(Error::invalid("user", "say who is working"));
        }
        if config.device.trim().is_empty() {
            return Err(Error::invalid("device", "name this device"));
        }
        let dir = dir.as_ref().to_path_buf();
        std::fs::create_dir_all(&dir)?;
        Self::refuse_wiped(&dir)?;
        let key = config.key.clone();
        let conn = db::open(&dir, config.durability, key.as_ref())?;
        let actor = actor(&conn)?;
        let docs = DocCache::new(actor);
        let maintenance = RwLock::new(Some(Maintenance::start(&dir.join(db::FILE_NAME), key.as_ref())?));
        let clock = RwLock::new(Arc::clone(&config.clock));
        let author = RwLock::new(WorkingAs { user: config.user.trim().into(), device: config.device.trim().into() });
        let store = Self {
            dir,
            config,
            clock,
            author,
            maintenance,
            inner: Mutex::new(Inner { conn, docs, key, wiped: false }),
        };
        // A damaged enrolment does not keep the store from opening: syncing says what is wrong.
        if let Ok(Some(enrolment)) = store.enrolment() {
            store.follow_enrolment(&enrolment.certificate);
        }
        store.photos_follow_key();
        Ok(store)
    }

    /// Who this store's changes and records are made as now.
    pub(crate) fn author(&self) -> WorkingAs {
        self.author.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Makes changes and records as `who` from now on.
    pub(crate) fn set_author(&self, who: WorkingAs) {
        *self.author.write().unwrap_or_else(|p| p.into_inner()) = who;
    }

    /// Makes changes as the device the district's server certified, and as its holder if the
    /// centre named one: what a caller says is free text, the enrolment is the registry's.
    pub(crate) fn follow_enrolment(&self, certificate: &Certificate) {
        let mut who = self.author();
        who.device = certificate.device.clone();
        if !certificate.holder.is_empty() {
            who.user = certificate.holder.clone();
        }
        self.set_author(who);
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn config(&self) -> &StoreConfig {
        &self.config
    }

    /// This store's automerge actor (hex): the server binds it to the device that first presents it.
    pub fn actor(&self) -> String {
        self.guard().docs.actor().to_hex_string()
    }

    pub(crate) fn now(&self) -> DateTime<Utc> {
        // Records keep milliseconds: what a call returns must equal what is read back later.
        let now = self.clock.read().unwrap_or_else(|p| p.into_inner()).now();
        chrono::SubsecRound::trunc_subsecs(now, 3)
    }

    /// Runs `f` with the store's "now" read from `clock` instead of the configured clock, then goes
    /// back to the configured one, also if `f` panics. For a tool that enters records dated as they
    /// happened: the demo village walks a [`ManualClock`](crate::ManualClock) through past days. Every write made
    /// meanwhile, from any thread, is dated by `clock`.
    pub fn with_clock<R>(&self, clock: Arc<dyn Clock>, f: impl FnOnce() -> R) -> R {
        /// Puts the configured clock back when dropped, so that a panic in `f` cannot leave the
        /// store dating its writes by a clock that nobody walks any more.
        struct Restore<'a>(&'a Store);
        impl Drop for Restore<'_> {
            fn drop(&mut self) {
                *self.0.clock.write().unwrap_or_else(|p| p.into_inner()) = Arc::clone(&self.0.config.clock);
            }
        }
        *self.clock.write().unwrap_or_else(|p| p.into_inner()) = clock;
        let _restore = Restore(self);
        f()
    }

    /// Today in the district's time zone.
    pub fn today(&self) -> NaiveDate {
        self.now().with_timezone(&self.config.timezone).date_naive()
    }

    /// The store's connection and documents; [`Error::Wiped`] once the store is wiped. Every call
    /// that reads or writes the store comes through here.
    pub(crate) fn lock(&self) -> Result<MutexGuard<'_, Inner>> {
        let inner = self.guard();
        if inner.wiped {
            return Err(Error::Wiped);
        }
        Ok(inner)
    }

    /// The lock, wiped or not.
    pub(crate) fn guard(&self) -> MutexGuard<'_, Inner> {
        // Every write is one SQLite transaction and a failed one evicts its document, so the state
        // behind a poisoned lock is consistent and safe to keep using.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Runs `f` on the query tables.
    pub(crate) fn read<R>(&self, f: impl FnOnce(&Connection) -> Result<R>) -> Result<R> {
        f(&self.lock()?.conn)
    }

    /// Runs `f` in one write transaction on the local tables.
    pub(crate) fn write<R>(&self, f: impl FnOnce(&Connection) -> Result<R>) -> Result<R> {
        let out = write_tx(&self.lock()?.conn, f)?;
        self.committed(&[]);
        Ok(out)
    }

    /// Counts a committed write transaction that left the documents `written` with the given
    /// numbers of changes beside their snapshots, for the background checkpoint and fold.
    pub(crate) fn committed(&self, written: &[(DocId, i64)]) {
        let maintenance = self.maintenance.read().unwrap_or_else(|p| p.into_inner());
        let Some(maintenance) = maintenance.as_ref() else { return };
        for (id, pending) in written {
            maintenance.written(id, *pending);
        }
        maintenance.committed();
    }

    /// Encrypts the store under `new_key` from now on (none: decrypts it), in one call while the
    /// store stays open. The database is rewritten beside itself and renamed over the old file, so
    /// a kill at any point leaves the store whole under the old key or the new one; the app must
    /// keep both keys until this returns. Other processes must not have the store open meanwhile.
    /// Photo files are sealed under a key of their own inside the database and are not rewritten;
    /// a plaintext store given a key seals the plaintext files it has.
    ///
    /// # Errors
    /// [`Error::Busy`] when another connection holds a transaction; storage and file errors from
    /// the rewrite. On any error the store keeps its old key and stays usable.
    pub fn rekey(&self, new_key: Option<StoreKey>) -> Result<()> {
        let mut inner = self.lock()?;
        let mut maintenance = self.maintenance.write().unwrap_or_else(|p| p.into_inner());
        // Its connection holds the file open: stopped first, and started again on whichever file
        // stands afterwards.
        maintenance.take();
        let path = self.dir.join(db::FILE_NAME);
        // The writer's connection must close too; an in-memory one stands in meanwhile.
        drop(std::mem::replace(&mut inner.conn, Connection::open_in_memory()?));
        let rewritten = db::cipher::reencrypt(&path, inner.key.as_ref(), new_key.as_ref());
        if rewritten.is_ok() {
            inner.key = new_key;
        }
        inner.conn = db::open(&self.dir, self.config.durability, inner.key.as_ref())?;
        *maintenance = Some(Maintenance::start(&path, inner.key.as_ref())?);
        rewritten?;
        drop((maintenance, inner));
        self.photos_follow_key();
        Ok(())
    }

    /// Whether the database is encrypted now: photo files are sealed only then.
    ///
    /// # Errors
    /// [`Error::Wiped`] once the store is wiped.
    pub(crate) fn encrypted(&self) -> Result<bool> {
        Ok(self.lock()?.key.is_some())
    }

    /// Makes one change to document `id`: `f` edits it and names the root keys it touched, whose
    /// query rows are then read back from the document.
    pub(crate) fn edit<R>(
        &self,
        id: &DocId,
        action: &str,
        f: impl FnOnce(&mut Transaction<'_>) -> Result<(R, Vec<String>)>,
    ) -> Result<R> {
        let tz = self.config.timezone;
        self.change(id, action, f, |conn, doc, keys| {
            materialise::refresh(conn, tz, id, doc, keys.iter().map(String::as_str))
        })
    }

    /// As [`Store::edit`], with `check` reading the query tables inside the SQLite transaction
    /// that commits the edit: nothing can change what it read before the edit lands, in this
    /// process or another. When `check` refuses, the edit is dropped with the transaction.
    pub(crate) fn edit_checked<R>(
        &self,
        id: &DocId,
        action: &str,
        check: impl FnOnce(&Connection) -> Result<()>,
        f: impl FnOnce(&mut Transaction<'_>) -> Result<(R, Vec<String>)>,
    ) -> Result<R> {
        let tz = self.config.timezone;
        self.change(id, action, f, |conn, doc, keys| {
            check(conn)?;
            materialise::refresh(conn, tz, id, doc, keys.iter().map(String::as_str))
        })
    }

    /// Adds a journal entry at a key made for it: one change, whose query row is written from the
    /// entry itself. Reading it back would find the same value (nothing else is ever put at that
    /// key), at the cost of a lookup in the journal that would be a fair part of a sighting's time.
    /// Its notes are sealed under `seal`, its household's key, when the store holds it.
    pub(crate) fn append(&self, id: &DocId, action: &str, entry: Entry<'_>, seal: Option<Seal>) -> Result<()> {
        let tz = self.config.timezone;
        self.change(
            id,
            action,
            |tx| write_entry(tx, &entry.root_key(), &entry, seal.as_ref()).map(|()| ((), ())),
            |conn, _, ()| materialise::put_entry(conn, tz, entry),
        )
    }

    /// One change to document `id`: `f` edits it, and `rows` brings the query rows up to date with
    /// what `f` says it touched. The change bytes and the rows commit in one SQLite transaction; if
    /// that fails, the in-memory document is dropped so it can never run ahead of the disk.
    fn change<R, T>(
        &self,
        id: &DocId,
        action: &str,
        f: impl FnOnce(&mut Transaction<'_>) -> Result<(R, T)>,
        rows: impl FnOnce(&Connection, &Automerge, T) -> Result<()>,
    ) -> Result<R> {
        let WorkingAs { user: by, device } = self.author();
        let meta = ChangeMeta { by, device, action: action.into() };
        let options =
            CommitOptions::default().with_message(serde_json::to_string(&meta)?).with_time(self.now().timestamp());
        let mut inner = self.lock()?;
        let Inner { conn, docs, .. } = &mut *inner;
        if id.kind == crate::ids::DocKind::Household && crate::erasure::is_erased_doc(conn, &id.to_string())? {
            return Err(Error::erased("household", &id.part));
        }
        let doc = docs.get(conn, id)?;
        let mut tx = doc.transaction();
        let (out, touched) = match f(&mut tx) {
            Ok(v) => v,
            Err(e) => {
                tx.rollback();
                return Err(e);
            }
        };
        let (hash, _) = tx.commit_with(options);
        if hash.is_none() {
            return Ok(out);
        }
        let result = write_tx(conn, |conn| {
            let doc: &Automerge = doc;
            let change = doc.get_last_local_change().ok_or_else(|| Error::invalid("change", "no local change"))?;
            let pending = docstore::persist(conn, id, doc, &[change], true)?;
            rows(conn, doc, touched)?;
            Ok(pending)
        });
        match result {
            Ok(pending) => self.committed(&[(id.clone(), pending)]),
            Err(e) => {
                docs.evict(id);
                return Err(e);
            }
        }
        Ok(out)
    }

    /// Rebuilds every query table from the documents. The rows must come out exactly as the
    /// incremental updates left them; tests compare the two.
    pub fn rebuild_query_tables(&self) -> Result<()> {
        let tz = self.config.timezone;
        let mut inner = self.lock()?;
        let Inner { conn, docs, .. } = &mut *inner;
        docs.clear();
        write_tx(conn, |conn| {
            for table in schema::QUERY_TABLES {
                conn.execute(&format!("DELETE FROM {table}"), [])?;
            }
            for (name, _) in docstore::all_heads(conn)? {
                let id: DocId = name.parse()?;
                if let Some(doc) = docstore::load(conn, &id)? {
                    materialise::refresh_all(conn, tz, &id, &doc)?;
                }
            }
            Ok(())
        })
    }

    /// Every query table's rows in a fixed order, as text: for diagnostics and for tests that
    /// compare two stores or a store with its rebuild.
    pub fn dump_query_tables(&self) -> Result<String> {
        self.read(|conn| {
            let mut out = String::new();
            for table in schema::QUERY_TABLES {
                out.push_str(&format!("## {table}\n"));
                let mut stmt = conn.prepare(&format!("SELECT * FROM {table} ORDER BY 1, 2, 3"))?;
                let columns = stmt.column_count();
                let mut rows = stmt.query([])?;
                while let Some(row) = rows.next()? {
                    let cells: Vec<String> = (0..columns)
                        .map(|i| row.get_ref(i).map(|v| format!("{v:?}")))
                        .collect::<rusqlite::Result<_>>()?;
                    out.push_str(&cells.join(" | "));
                    out.push('\n');
                }
            }
            Ok(out)
        })
    }

    /// Checks every page and index of the database (SQLite's quick check). It reads the whole file,
    /// so an app runs it at idle time, not on open.
    ///
    /// # Errors
    /// [`Error::Storage`] if the database is damaged.
    pub fn verify(&self) -> Result<()> {
        self.read(crate::db::verify)
    }

    /// Folds the changes of every document that has enough of them waiting into its snapshot now,
    /// as the store does by itself once it falls idle, and checkpoints the WAL. For a tool that
    /// writes in bulk and never pauses (an import, the demo village): what it leaves then looks as if
    /// the fold at idle had run between the taps. Returns how many documents it folded.
    ///
    /// # Errors
    /// [`Error::Storage`] if the database cannot be read or written; [`Error::InvalidChanges`] if a
    /// stored change cannot be read or lacks its predecessors (the document then stays as it was).
    pub fn fold_pending(&self) -> Result<usize> {
        let mut inner = self.lock()?;
        let mut folded = 0;
        for name in docstore::foldable(&inner.conn, docstore::FOLD_AT_IDLE)? {
            // Nothing else writes through this connection while the lock is held: the fold always
            // proceeds. The cached documents stay valid, since a fold changes no content.
            if let docstore::Fold::Folded(_) = docstore::fold(&mut inner.conn, &name, || true)? {
                folded += 1;
            }
        }
        inner.conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()))?;
        Ok(folded)
    }

    /// Folds every document's pending changes into its snapshot (space on the phone's flash).
    pub fn compact(&self) -> Result<()> {
        let mut inner = self.lock()?;
        let Inner { conn, docs, .. } = &mut *inner;
        docs.clear();
        write_tx(conn, |conn| {
            let pending: Vec<String> = conn
                .prepare("SELECT id FROM docs WHERE pending > 0")?
                .query_map([], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?;
            for name in pending {
                if let Some(doc) = docstore::load(conn, &name.parse()?)? {
                    docstore::compact(conn, &name, &doc)?;
                }
            }
            Ok(())
        })?;
        conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE); VACUUM;")?;
        Ok(())
    }
}

/// This store's automerge actor, made once and kept: every change this device makes carries it.
fn actor(conn: &Connection) -> Result<ActorId> {
    let existing: Option<String> =
        conn.query_row("SELECT value FROM meta WHERE key = 'actor'", [], |r| r.get(0)).optional()?;
    if let Some(hex) = existing {
        return hex::decode(hex).map(ActorId::from).map_err(|_| Error::invalid("actor", "stored actor id is not hex"));
    }
    let actor = ActorId::from(uuid::Uuid::now_v7().as_bytes().as_slice());
    conn.execute("INSERT INTO meta (key, value) VALUES ('actor', ?1)", [hex::encode(actor.to_bytes())])?;
    Ok(actor)
}
