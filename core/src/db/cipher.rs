//! Encryption at rest: the store's database is a SQLCipher file under a raw 32-byte key, so a phone
//! left in a taxi gives its finder pages of ciphertext. A plaintext store from an older build is
//! encrypted when it is first opened with a key, and a key is changed, by one path: SQLCipher's
//! export into a new file beside the old one, made durable, then renamed over it. Until the rename
//! the old file is whole; after it, the new one is. A kill at any point loses nothing.

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use rusqlite::{Connection, OpenFlags};
use zeroize::Zeroizing;

use crate::error::{Error, Result};

/// What every plaintext SQLite file starts with. SQLCipher encrypts the header too, so a file that
/// does not start with it is either encrypted or not a database at all.
const PLAIN_HEADER: &[u8; 16] = b"SQLite format 3\0";

/// The export's file, beside the database until it is renamed over it.
const EXPORT_SUFFIX: &str = ".rekey";

/// The 32 random bytes a store is encrypted with. The app keeps them in the Android Keystore or
/// the iOS Keychain and passes them in at every open; the CLI keeps them in a key file. They are
/// used as SQLCipher's raw key: no key derivation on the open path. `Debug` never shows them, and
/// they are wiped from memory when dropped.
#[derive(Clone)]
pub struct StoreKey(Zeroizing<[u8; StoreKey::LEN]>);

impl StoreKey {
    /// A store key's length in bytes.
    pub const LEN: usize = 32;

    /// A new random key, from the operating system's generator.
    pub fn generate() -> Self {
        Self(Zeroizing::new(rand::random()))
    }

    /// The key from its 32 bytes.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] when `bytes` is not 32 bytes long.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let bytes: [u8; Self::LEN] =
            bytes.try_into().map_err(|_| Error::invalid("store key", format!("a store key is {} bytes", Self::LEN)))?;
        Ok(Self(Zeroizing::new(bytes)))
    }

    /// The key's bytes, to keep in the platform's key store.
    pub fn as_bytes(&self) -> &[u8; Self::LEN] {
        &self.0
    }

    /// The key as a key file holds it: its 32 bytes, or 64 hex digits (spaces and a newline
    /// around them are ignored).
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for anything else; the message never shows the file's content.
    pub fn from_file_contents(bytes: &[u8]) -> Result<Self> {
        if bytes.len() == Self::LEN {
            return Self::from_bytes(bytes);
        }
        let hex_digits = std::str::from_utf8(bytes).ok().map(str::trim).filter(|t| t.len() == 2 * Self::LEN);
        let decoded = hex_digits.and_then(|t| hex::decode(t).ok()).map(Zeroizing::new);
        match decoded {
            Some(bytes) => Self::from_bytes(&bytes),
            None => Err(Error::invalid(
                "key file",
                format!("a key file holds {} bytes or {} hex digits", Self::LEN, 2 * Self::LEN),
            )),
        }
    }

    /// The key as SQLCipher reads a raw key: `x'…'` with 64 hex digits.
    fn sql_literal(&self) -> Zeroizing<String> {
        Zeroizing::new(format!("x'{}'", hex::encode(*self.0)))
    }
}

impl std::fmt::Debug for StoreKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StoreKey(..)")
    }
}

/// What a database file holds, as far as its first bytes tell without a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileState {
    /// No file, or an empty one: SQLite makes a new database.
    New,
    Plain,
    /// Encrypted, or not a database at all: only a key can tell.
    Encrypted,
}

/// What the database file at `path` holds.
///
/// # Errors
/// [`Error::Io`] if it exists and cannot be read.
pub fn file_state(path: &Path) -> Result<FileState> {
    let mut file = match File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(FileState::New),
        Err(e) => return Err(e.into()),
    };
    let mut header = Vec::with_capacity(PLAIN_HEADER.len());
    file.by_ref().take(PLAIN_HEADER.len() as u64).read_to_end(&mut header)?;
    Ok(match header.as_slice() {
        [] => FileState::New,
        h if h == PLAIN_HEADER => FileState::Plain,
        _ => FileState::Encrypted,
    })
}

/// Keys a connection just opened. It must come before anything reads the file.
///
/// # Errors
/// SQLite's error if SQLCipher refuses the statement.
pub fn apply_key(conn: &Connection, key: &StoreKey) -> rusqlite::Result<()> {
    // SQLCipher writes its own errors (a wrong key's failed page check) to stderr or logcat; the
    // caller gets them as typed errors, and a command's stderr stays its own.
    conn.execute_batch("PRAGMA cipher_log_level = NONE;")?;
    conn.execute_batch(&format!("PRAGMA key = \"{}\";", key.sql_literal().as_str()))
}

/// Removes what an export cut off before its rename left beside the database: the database itself
/// is still the old, whole file.
///
/// # Errors
/// [`Error::Io`] if a leftover cannot be removed.
pub fn drop_unfinished_export(path: &Path) -> Result<()> {
    let export = with_suffix(path, EXPORT_SUFFIX);
    for file in [export.clone(), with_suffix(&export, "-journal")] {
        remove_if_present(&file)?;
    }
    Ok(())
}

/// Rewrites the database at `path`, now under `from` (none: plaintext), under `to` (none:
/// plaintext). No other connection may have the file open: the rename replaces the file under it.
///
/// # Errors
/// [`Error::Busy`] when another connection holds a transaction open; storage errors from reading
/// the old file (a wrong `from` key reads as "not a database") or writing the new one.
pub fn reencrypt(path: &Path, from: Option<&StoreKey>, to: Option<&StoreKey>) -> Result<()> {
    drop_unfinished_export(path)?;
    let export = with_suffix(path, EXPORT_SUFFIX);
    {
        // CREATE: an attached database is opened with the main one's flags, and the export is new.
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(path, flags)?;
        if let Some(key) = from {
            apply_key(&conn, key)?;
        }
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        // Every commit into the file first: the export reads the file, and the emptied WAL left
        // beside the path must hold nothing the new file would misread as its own.
        let blocked: i64 = conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| r.get(0))?;
        if blocked != 0 {
            return Err(Error::Busy);
        }
        let export_path = export.to_str().ok_or_else(|| Error::invalid("store directory", "its path is not UTF-8"))?;
        let key = to.map(StoreKey::sql_literal).unwrap_or_default();
        conn.execute("ATTACH DATABASE ?1 AS rekeyed KEY ?2", (export_path, key.as_str()))?;
        conn.query_row("SELECT sqlcipher_export('rekeyed')", [], |_| Ok(()))?;
        // The schema's version lives in the header, which the export does not copy.
        let version: i64 = conn.query_row("PRAGMA main.user_version", [], |r| r.get(0))?;
        conn.execute_batch(&format!("PRAGMA rekeyed.user_version = {version}; DETACH DATABASE rekeyed;"))?;
    }
    File::open(&export)?.sync_all()?;
    std::fs::rename(&export, path)?;
    if let Some(dir) = path.parent() {
        File::open(dir)?.sync_all()?;
    }
    // The old file's shared-memory index must not be taken for the new file's.
    remove_if_present(&with_suffix(path, "-shm"))?;
    Ok(())
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

fn remove_if_present(path: &Path) -> Result<()> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e.into()),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn count(conn: &Connection) -> i64 {
        conn.query_row("SELECT COUNT(*) FROM t", [], |r| r.get(0)).expect("count")
    }

    fn plain_db(path: &Path) {
        let conn = Connection::open(path).expect("open");
        conn.execute_batch(
            "PRAGMA journal_mode=WAL; PRAGMA user_version=7; CREATE TABLE t(x); INSERT INTO t VALUES ('王芳');",
        )
        .expect("fill");
    }

    #[test]
    fn a_plain_file_is_encrypted_and_opens_only_with_its_key() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("db");
        plain_db(&path);
        assert_eq!(file_state(&path).expect("state"), FileState::Plain);
        let key = StoreKey::generate();
        reencrypt(&path, None, Some(&key)).expect("encrypt");
        assert_eq!(file_state(&path).expect("state"), FileState::Encrypted);
        let bytes = std::fs::read(&path).expect("read");
        assert!(!bytes.windows("王芳".len()).any(|w| w == "王芳".as_bytes()));

        let conn = Connection::open(&path).expect("open");
        apply_key(&conn, &key).expect("key");
        assert_eq!(count(&conn), 1);
        assert_eq!(conn.query_row("PRAGMA user_version", [], |r| r.get::<_, i64>(0)).expect("version"), 7);
        drop(conn);

        let wrong = Connection::open(&path).expect("open");
        apply_key(&wrong, &StoreKey::generate()).expect("key");
        let e =
            wrong.query_row("SELECT COUNT(*) FROM sqlite_master", [], |r| r.get::<_, i64>(0)).expect_err("wrong key");
        assert_eq!(e.sqlite_error_code(), Some(rusqlite::ErrorCode::NotADatabase));
    }

    #[test]
    fn a_key_changes_and_an_export_cut_off_before_its_rename_is_dropped() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("db");
        plain_db(&path);
        let (old, new) = (StoreKey::generate(), StoreKey::generate());
        reencrypt(&path, None, Some(&old)).expect("encrypt");
        std::fs::write(with_suffix(&path, EXPORT_SUFFIX), b"half an export").expect("leftover");
        reencrypt(&path, Some(&old), Some(&new)).expect("rekey");
        assert!(!with_suffix(&path, EXPORT_SUFFIX).exists());
        let conn = Connection::open(&path).expect("open");
        apply_key(&conn, &new).expect("key");
        assert_eq!(count(&conn), 1);
    }

    #[test]
    fn a_key_is_32_bytes_and_never_shown() {
        assert!(StoreKey::from_bytes(&[7; 31]).is_err());
        let text = format!("{}\n", hex::encode([7u8; 32]));
        assert_eq!(StoreKey::from_file_contents(text.as_bytes()).expect("hex").as_bytes(), &[7; 32]);
        assert_eq!(StoreKey::from_file_contents(&[7; 32]).expect("raw").as_bytes(), &[7; 32]);
        assert!(StoreKey::from_file_contents(b"not a key").is_err());
        let key = StoreKey::from_bytes(&[7; 32]).expect("key");
        assert_eq!(format!("{key:?}"), "StoreKey(..)");
    }
}
