//! The embedded default: one SQLite file in WAL mode with `synchronous=FULL`, so a reply is sent only
//! after what it acknowledges is on disk. One writer connection behind a lock (SQLite has one writer
//! anyway) and a small pool of readers, which in WAL mode never wait for the writer.

use std::collections::HashSet;
use std::path::Path;
use std::sync::Mutex;
use std::time::Duration;

use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};

use super::{Commit, Device, LogPage, LogQuery, ReadScope, Role, Storage, schema};
use crate::error::{ApiError, ApiResult};

#[derive(Debug)]
pub struct SqliteStorage {
    path: std::path::PathBuf,
    district: String,
    instance: [u8; 8],
    writer: Mutex<Connection>,
    readers: Mutex<Vec<Connection>>,
}

/// Readers kept open between requests; more are opened under load and closed after.
const IDLE_READERS: usize = 8;

fn connect(path: &Path) -> ApiResult<Connection> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(Duration::from_secs(10))?;
    // WAL: readers never block the writer. FULL: a commit is on disk before the reply says so.
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    Ok(conn)
}

impl SqliteStorage {
    /// Opens (or creates) `server.sqlite3` in `dir` for `district`. A database made for another
    /// district is refused.
    pub fn open(dir: &Path, district: &str) -> ApiResult<Self> {
        let path = dir.join("server.sqlite3");
        let mut writer = connect(&path)?;
        schema::migrate(&mut writer)?;
        let get = |key: &str| -> ApiResult<Option<String>> {
            Ok(writer.query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0)).optional()?)
        };
        let (stored_district, stored_instance) = (get("district")?, get("instance")?);
        let district = match stored_district {
            Some(d) if d != district => {
                return Err(ApiError::Internal(format!("this data directory serves district {d:?}, not {district:?}")));
            }
            Some(d) => d,
            None => {
                writer.execute("INSERT INTO meta (key, value) VALUES ('district', ?1)", [district])?;
                district.to_string()
            }
        };
        let instance = match stored_instance.and_then(|h| hex::decode(h).ok()).and_then(|b| b.try_into().ok()) {
            Some(i) => i,
            None => {
                let i: [u8; 8] = rand::random();
                writer.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('instance', ?1)", [hex::encode(i)])?;
                i
            }
        };
        Ok(Self { path, district, instance, writer: Mutex::new(writer), readers: Mutex::new(Vec::new()) })
    }

    fn read<R>(&self, f: impl FnOnce(&Connection) -> ApiResult<R>) -> ApiResult<R> {
        let pooled = self.readers.lock().unwrap_or_else(|p| p.into_inner()).pop();
        let mut conn = match pooled {
            Some(c) => c,
            None => connect(&self.path)?,
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

    fn write<R>(&self, f: impl FnOnce(&Connection) -> ApiResult<R>) -> ApiResult<R> {
        // A poisoned lock means a panic mid-transaction, which rolled back: the connection is fine.
        let mut conn = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let out = f(&tx)?;
        tx.commit()?;
        Ok(out)
    }
}

fn device_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Device> {
    let role: String = r.get(2)?;
    let grids: String = r.get(3)?;
    Ok(Device {
        id: r.get(0)?,
        name: r.get(1)?,
        role: Role::parse(&role).unwrap_or(Role::GridMember),
        grids: serde_json::from_str(&grids).unwrap_or_default(),
        village: r.get(4)?,
        department: r.get(5)?,
        created_at: r.get(6)?,
        revoked_at: r.get(7)?,
    })
}

const DEVICE_COLUMNS: &str = "id, name, role, grids, village, department, created_at, revoked_at";

impl Storage for SqliteStorage {
    fn district(&self) -> &str {
        &self.district
    }

    fn instance(&self) -> [u8; 8] {
        self.instance
    }

    fn add_device(&self, d: &Device, token_hash: &[u8; 32]) -> ApiResult<()> {
        self.write(|c| {
            let taken: bool =
                c.query_row("SELECT EXISTS (SELECT 1 FROM devices WHERE name = ?1)", [&d.name], |r| r.get(0))?;
            if taken {
                return Err(ApiError::Malformed(format!("a device named {:?} is already registered", d.name)));
            }
            c.execute(
                "INSERT INTO devices (id, name, role, grids, village, department, token_hash, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                params![
                    d.id,
                    d.name,
                    d.role.as_str(),
                    serde_json::to_string(&d.grids).unwrap_or_else(|_| "[]".into()),
                    d.village,
                    d.department,
                    &token_hash[..],
                    d.created_at
                ],
            )?;
            Ok(())
        })
    }

    fn devices(&self) -> ApiResult<Vec<Device>> {
        self.read(|c| {
            let mut stmt = c.prepare(&format!("SELECT {DEVICE_COLUMNS} FROM devices ORDER BY created_at, name"))?;
            Ok(stmt.query_map([], device_row)?.collect::<rusqlite::Result<_>>()?)
        })
    }

    fn device_by_token(&self, token_hash: &[u8; 32]) -> ApiResult<Option<Device>> {
        self.read(|c| {
            let sql = format!("SELECT {DEVICE_COLUMNS} FROM devices WHERE token_hash = ?1");
            Ok(c.prepare_cached(&sql)?.query_row([&token_hash[..]], device_row).optional()?)
        })
    }

    fn revoke_device(&self, name_or_id: &str, at: i64) -> ApiResult<bool> {
        self.write(|c| {
            let n = c.execute(
                "UPDATE devices SET revoked_at = COALESCE(revoked_at, ?2) WHERE name = ?1 OR id = ?1",
                params![name_or_id, at],
            )?;
            Ok(n > 0)
        })
    }

    fn actor_owner(&self, actor: &[u8]) -> ApiResult<Option<(String, bool)>> {
        self.read(|c| {
            let sql = "SELECT d.id, d.revoked_at IS NOT NULL FROM actors a JOIN devices d ON d.id = a.device
                       WHERE a.actor = ?1";
            Ok(c.prepare_cached(sql)?.query_row([actor], |r| Ok((r.get(0)?, r.get(1)?))).optional()?)
        })
    }

    fn known(&self, hashes: &[[u8; 32]]) -> ApiResult<HashSet<[u8; 32]>> {
        self.read(|c| {
            let mut stmt = c.prepare_cached("SELECT 1 FROM changes WHERE hash = ?1")?;
            let mut known = HashSet::new();
            for h in hashes {
                if stmt.exists([&h[..]])? {
                    known.insert(*h);
                }
            }
            Ok(known)
        })
    }

    fn doc_changes(&self, doc: &str) -> ApiResult<Vec<Vec<u8>>> {
        self.read(|c| {
            let mut stmt = c.prepare_cached("SELECT bytes FROM changes WHERE doc = ?1 ORDER BY seq")?;
            Ok(stmt.query_map([doc], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?)
        })
    }

    fn grids_in_village(&self, village: &str) -> ApiResult<Vec<String>> {
        self.read(|c| {
            let mut stmt = c.prepare_cached("SELECT grid FROM grid_villages WHERE village = ?1")?;
            Ok(stmt.query_map([village], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?)
        })
    }

    fn grid_village(&self, grid: &str) -> ApiResult<Option<String>> {
        self.read(|c| {
            let sql = "SELECT village FROM grid_villages WHERE grid = ?1";
            Ok(c.prepare_cached(sql)?.query_row([grid], |r| r.get(0)).optional()?)
        })
    }

    fn departments_of(&self, doc: &str) -> ApiResult<Vec<String>> {
        self.read(|c| {
            let mut stmt = c.prepare_cached("SELECT department FROM grants WHERE doc = ?1")?;
            Ok(stmt.query_map([doc], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?)
        })
    }

    fn docs_with_photo(&self, sha: &str) -> ApiResult<Vec<String>> {
        self.read(|c| {
            let mut stmt = c.prepare_cached("SELECT doc FROM photo_refs WHERE sha = ?1")?;
            Ok(stmt.query_map([sha], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?)
        })
    }

    fn commit(&self, commit: Commit) -> ApiResult<()> {
        self.write(|c| {
            if let Some(actor) = &commit.bind_actor {
                c.execute(
                    "INSERT OR IGNORE INTO actors (actor, device) VALUES (?1, ?2)",
                    params![actor, commit.device],
                )?;
                let owner: String = c.query_row("SELECT device FROM actors WHERE actor = ?1", [actor], |r| r.get(0))?;
                if owner != commit.device {
                    return Err(ApiError::Forbidden("this store's actor belongs to another device".into()));
                }
            }
            let mut insert = c.prepare_cached(
                "INSERT OR IGNORE INTO changes (hash, doc, grid, author, bytes) VALUES (?1, ?2, ?3, ?4, ?5)",
            )?;
            let mut last_seq: std::collections::HashMap<&str, i64> = std::collections::HashMap::new();
            for ch in &commit.changes {
                if insert.execute(params![&ch.hash[..], ch.doc, ch.grid, ch.author, ch.bytes])? == 1 {
                    last_seq.insert(&ch.doc, c.last_insert_rowid());
                }
            }
            let top: i64 = c.query_row("SELECT COALESCE(MAX(seq), 0) FROM changes", [], |r| r.get(0))?;
            for f in &commit.facts {
                if let Some(village) = &f.village {
                    let grid = f.doc.strip_prefix("g/").unwrap_or(&f.doc);
                    c.execute(
                        "INSERT INTO grid_villages (grid, village) VALUES (?1, ?2)
                         ON CONFLICT (grid) DO UPDATE SET village = excluded.village",
                        params![grid, village],
                    )?;
                }
                let granted = last_seq.get(f.doc.as_str()).copied().unwrap_or(top);
                for department in &f.departments {
                    c.execute(
                        "INSERT OR IGNORE INTO grants (department, doc, granted_seq) VALUES (?1, ?2, ?3)",
                        params![department, f.doc, granted],
                    )?;
                }
                for sha in &f.photos {
                    c.execute("INSERT OR IGNORE INTO photo_refs (sha, doc) VALUES (?1, ?2)", params![sha, f.doc])?;
                }
            }
            Ok(())
        })
    }

    fn read_log(&self, q: &LogQuery) -> ApiResult<LogPage> {
        self.read(|c| {
            let limit = q.max_changes as i64 + 1;
            let rows: Vec<(i64, String, Vec<u8>)> = match &q.scope {
                ReadScope::All => {
                    let sql =
                        "SELECT seq, doc, bytes FROM changes WHERE seq > ?1 AND author != ?2 ORDER BY seq LIMIT ?3";
                    let mut stmt = c.prepare_cached(sql)?;
                    let rows = stmt.query_map(params![q.after, q.exclude_author, limit], |r| {
                        Ok((r.get(0)?, r.get(1)?, r.get(2)?))
                    })?;
                    rows.collect::<rusqlite::Result<_>>()?
                }
                ReadScope::Grids(grids) => {
                    // Per grid, a range on the (grid, seq) index: the cost is what changed in scope,
                    // not what the district changed.
                    let sql = "SELECT seq, doc, bytes FROM changes INDEXED BY changes_by_grid
                               WHERE grid IN (SELECT value FROM json_each(?1)) AND seq > ?2 AND author != ?3
                               ORDER BY seq LIMIT ?4";
                    let grids = serde_json::to_string(grids).unwrap_or_else(|_| "[]".into());
                    let mut stmt = c.prepare_cached(sql)?;
                    let rows = stmt.query_map(params![grids, q.after, q.exclude_author, limit], |r| {
                        Ok((r.get(0)?, r.get(1)?, r.get(2)?))
                    })?;
                    rows.collect::<rusqlite::Result<_>>()?
                }
                ReadScope::Department(department) => {
                    // An event granted after the cursor comes whole, its older changes included.
                    let sql = "SELECT c.seq, c.doc, c.bytes FROM grants g JOIN changes c ON c.doc = g.doc
                               WHERE g.department = ?1 AND (c.seq > ?2 OR g.granted_seq > ?2) AND c.author != ?3
                               ORDER BY c.seq LIMIT ?4";
                    let mut stmt = c.prepare_cached(sql)?;
                    let rows = stmt.query_map(params![department, q.after, q.exclude_author, limit], |r| {
                        Ok((r.get(0)?, r.get(1)?, r.get(2)?))
                    })?;
                    rows.collect::<rusqlite::Result<_>>()?
                }
            };
            let mut page = LogPage::default();
            let mut bytes = 0;
            for row in rows {
                if page.changes.len() >= q.max_changes
                    || (!page.changes.is_empty() && bytes + row.2.len() > q.max_bytes)
                {
                    page.more = true;
                    break;
                }
                bytes += row.2.len();
                page.changes.push(row);
            }
            page.cursor = if page.more {
                page.changes.last().map_or(q.after, |r| r.0)
            } else {
                // Nothing more in scope up to the newest change: the device moves past it all.
                c.query_row("SELECT COALESCE(MAX(seq), 0) FROM changes", [], |r| r.get::<_, i64>(0))?.max(q.after)
            };
            Ok(page)
        })
    }

    fn change_count(&self) -> ApiResult<u64> {
        self.read(|c| Ok(c.query_row("SELECT COUNT(*) FROM changes", [], |r| r.get::<_, i64>(0))? as u64))
    }
}
