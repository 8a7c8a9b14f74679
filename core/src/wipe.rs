//! Destroying a store when the district's server orders it (a device revoked as lost or retired):
//! its connections closed, its database, WAL, shared memory, any unfinished export and its photos
//! deleted. A mark left in the directory first makes the wipe survive a kill halfway: the next open
//! finishes it, and makes a new store there only when the app asks ([`Store::start_over`]).
//!
//! The database is SQLCipher under a key the app keeps: once the app deletes that key, what flash
//! keeps of the deleted pages cannot be read. Overwriting the files first would buy nothing on
//! flash, whose controller writes elsewhere.

use std::fs::File;
use std::path::Path;

use rusqlite::Connection;

use crate::db::{self, cipher};
use crate::error::{Error, Result};
use crate::store::Store;

/// The mark a wipe leaves in the store's directory, before it deletes anything.
const MARK: &str = "WIPED";

impl Store {
    /// Destroys this store's data for good: closes its connections and deletes its database (with
    /// its WAL, shared memory and any unfinished export) and its photos. From then on every call on
    /// this store returns [`Error::Wiped`], and so does [`Store::open`] on its directory. The app
    /// then deletes the store's key from the platform's key store. Sync calls it when the server
    /// orders it; an app may call it itself (signing out for good).
    ///
    /// # Errors
    /// [`Error::Io`] if a file cannot be deleted: the store is closed and marked wiped all the same,
    /// and the next [`Store::open`] deletes what is left.
    pub fn wipe(&self) -> Result<()> {
        let mut inner = self.guard();
        let mut maintenance = self.maintenance.write().unwrap_or_else(|p| p.into_inner());
        mark(&self.dir)?;
        inner.wiped = true;
        inner.docs.clear();
        inner.key = None;
        // Its connection holds the file open; so does the writer's, which an in-memory one replaces.
        maintenance.take();
        drop(std::mem::replace(&mut inner.conn, Connection::open_in_memory()?));
        destroy(&self.dir)
    }

    /// Whether this store was wiped.
    pub fn is_wiped(&self) -> bool {
        self.guard().wiped
    }

    /// Whether the store in `dir` was wiped: [`Store::open`] then returns [`Error::Wiped`].
    pub fn is_wiped_dir(dir: impl AsRef<Path>) -> bool {
        dir.as_ref().join(MARK).exists()
    }

    /// Lets [`Store::open`] make a new, empty store in `dir` after a wipe: deletes whatever the
    /// wipe left, then its mark. A directory that was not wiped is left as it is. Give the new
    /// store a new key: the old one was to be deleted with the data.
    ///
    /// # Errors
    /// [`Error::Io`] if a file cannot be deleted.
    pub fn start_over(dir: impl AsRef<Path>) -> Result<()> {
        let dir = dir.as_ref();
        if !Self::is_wiped_dir(dir) {
            return Ok(());
        }
        destroy(dir)?;
        std::fs::remove_file(dir.join(MARK))?;
        sync_dir(dir)
    }

    /// Before a store opens: a wiped directory is finished off and refused.
    pub(crate) fn refuse_wiped(dir: &Path) -> Result<()> {
        if Self::is_wiped_dir(dir) {
            destroy(dir)?;
            return Err(Error::Wiped);
        }
        Ok(())
    }
}

/// Leaves the mark, on disk before anything is deleted.
fn mark(dir: &Path) -> Result<()> {
    File::create(dir.join(MARK))?.sync_all()?;
    sync_dir(dir)
}

/// Deletes the store's files in `dir`, whichever are there.
fn destroy(dir: &Path) -> Result<()> {
    let path = dir.join(db::FILE_NAME);
    cipher::drop_unfinished_export(&path)?;
    for suffix in ["-wal", "-shm", "-journal", ""] {
        let mut name = path.as_os_str().to_owned();
        name.push(suffix);
        match std::fs::remove_file(&name) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e.into()),
            _ => {}
        }
    }
    match std::fs::remove_dir_all(dir.join("photos")) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e.into()),
        _ => {}
    }
    sync_dir(dir)
}

fn sync_dir(dir: &Path) -> Result<()> {
    #[cfg(unix)]
    File::open(dir)?.sync_all()?;
    Ok(())
}
