//! Photos in the store: prepared (`image_prep.rs`) and kept once under their SHA-256 in the store's
//! `photos/` directory, with a row saying whether the server has them yet. In an encrypted store
//! each file is sealed (`seal.rs`) under a photo key kept in the database; a plaintext store keeps
//! plaintext files, and reading takes either.

mod seal;

use std::io::{Cursor, Write};
use std::path::{Path, PathBuf};

use image::{ImageFormat, ImageReader};
use rusqlite::{OptionalExtension, params};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use self::seal::PhotoKey;
use crate::error::{Error, Result};
use crate::image_prep::prepare;
use crate::store::Store;

/// The `meta` row that holds the photo key, in hex.
const KEY_ROW: &str = "photo_key";
/// The `meta` row set once every photo file of an encrypted store is sealed, so that opening the
/// store does not read every photo file to find out.
const SEALED_ROW: &str = "photos_sealed";

/// A photo as stored on this device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredPhoto {
    pub sha256: String,
    pub width: u32,
    pub height: u32,
    pub bytes: u64,
}

/// Prepares the photo in `file` and stores it under the store's `photos/` directory, once.
pub(crate) fn store_file(store: &Store, file: &Path) -> Result<StoredPhoto> {
    let len = std::fs::metadata(file)?.len();
    let options = store.config.photos;
    if len > options.max_input_bytes {
        return Err(Error::PhotoTooLarge(format!("the file is over {} MB", options.max_input_bytes >> 20)));
    }
    let (bytes, width, height) = prepare(&std::fs::read(file)?, &options)?;
    let sha256 = hex::encode(Sha256::digest(&bytes));
    if !photo_path(store.dir(), &sha256).exists() {
        store.write_photo(&sha256, &bytes)?;
    }
    let stored = StoredPhoto { sha256, width, height, bytes: bytes.len() as u64 };
    store.write(|c| {
        c.execute(
            "INSERT OR IGNORE INTO photos (sha256, bytes, width, height) VALUES (?1, ?2, ?3, ?4)",
            params![stored.sha256, stored.bytes as i64, stored.width, stored.height],
        )?;
        Ok(())
    })?;
    Ok(stored)
}

pub(crate) fn photo_path(dir: &Path, sha256: &str) -> PathBuf {
    dir.join("photos").join(&sha256[..2.min(sha256.len())]).join(format!("{sha256}.jpg"))
}

/// A photo's name as the store keeps it: its SHA-256 in lowercase hex.
pub(crate) fn photo_name(sha256: &str) -> Result<String> {
    let sha = sha256.trim().to_ascii_lowercase();
    if sha.len() != 64 || !sha.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(Error::invalid("photo", "a photo is named by its SHA-256, 64 hex digits"));
    }
    Ok(sha)
}

impl Store {
    /// The photo with this SHA-256, as the JPEG it was stored as, if it is on this device. In an
    /// encrypted store it is decrypted here: the app shows it from memory, and no plaintext copy
    /// is written anywhere.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] if `sha256` is not 64 hex digits; [`Error::PhotoDamaged`] if its
    /// file is damaged or was altered (no bytes of it are returned); [`Error::Io`] or
    /// [`Error::Storage`] if the file or the photo key cannot be read.
    pub fn photo(&self, sha256: &str) -> Result<Option<Vec<u8>>> {
        let sha = photo_name(sha256)?;
        let file = match std::fs::read(photo_path(self.dir(), &sha)) {
            Ok(file) => file,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        let damaged = || Error::PhotoDamaged { sha256: sha.clone() };
        let jpeg = if seal::is_sealed(&file) {
            let key = self.photo_key()?.ok_or_else(damaged)?;
            seal::open(&key, &sha, &file)?
        } else {
            file
        };
        // A plaintext file has no tag, and a file whose magic was altered reads as plaintext:
        // its name is the only check there is.
        if hex::encode(Sha256::digest(&jpeg)) != sha {
            return Err(damaged());
        }
        Ok(Some(jpeg))
    }

    /// Writes photo `sha256`'s file: sealed if the store is encrypted.
    fn write_photo(&self, sha256: &str, jpeg: &[u8]) -> Result<()> {
        let path = photo_path(self.dir(), sha256);
        if self.encrypted()? {
            write_atomically(&path, &seal::seal(&self.photo_key_or_new()?, sha256, jpeg))
        } else {
            write_atomically(&path, jpeg)
        }
    }

    fn photo_key(&self) -> Result<Option<PhotoKey>> {
        let hex_digits: Option<Zeroizing<String>> = self.read(|c| {
            let mut stmt = c.prepare_cached("SELECT value FROM meta WHERE key = ?1")?;
            Ok(stmt.query_row([KEY_ROW], |r| r.get(0)).optional()?.map(Zeroizing::new))
        })?;
        hex_digits.map(|h| PhotoKey::from_hex(&h)).transpose()
    }

    /// The photo key, made the first time an encrypted store needs one. Made and read back in one
    /// transaction, so that two writers never seal under different keys.
    fn photo_key_or_new(&self) -> Result<PhotoKey> {
        let hex_digits: Zeroizing<String> = self.write(|c| {
            c.execute(
                "INSERT OR IGNORE INTO meta (key, value) VALUES (?1, ?2)",
                [KEY_ROW, &PhotoKey::generate().to_hex()],
            )?;
            Ok(Zeroizing::new(c.query_row("SELECT value FROM meta WHERE key = ?1", [KEY_ROW], |r| r.get(0))?))
        })?;
        PhotoKey::from_hex(&hex_digits)
    }

    /// Brings the photo files in line with the store's key, after an open or a rekey: an encrypted
    /// store seals the plaintext files it still has (a store encrypted in place); a plaintext one
    /// forgets that its files were sealed, so that the files it writes from now on are sealed when
    /// it is encrypted again. A failure is logged, not returned: the database is already under its
    /// new key, which the caller must keep, and the files left are sealed at the next open.
    pub(crate) fn photos_follow_key(&self) {
        let done = self
            .encrypted()
            .and_then(|sealed| if sealed { self.seal_plaintext_photos() } else { self.forget_sealed() });
        if let Err(e) = done {
            tracing::warn!(error = %e, "photo files not all sealed yet; the next open tries again");
        }
    }

    fn sealed_row(&self) -> Result<bool> {
        self.read(|c| {
            let mut stmt = c.prepare_cached("SELECT 1 FROM meta WHERE key = ?1")?;
            Ok(stmt.exists([SEALED_ROW])?)
        })
    }

    fn forget_sealed(&self) -> Result<()> {
        if !self.sealed_row()? {
            return Ok(());
        }
        self.write(|c| {
            c.execute("DELETE FROM meta WHERE key = ?1", [SEALED_ROW])?;
            Ok(())
        })
    }

    /// Seals every plaintext photo file, each replaced atomically, and only then records that all
    /// are: a kill on the way leaves each file whole, sealed or not, and the next open goes on.
    fn seal_plaintext_photos(&self) -> Result<()> {
        if self.sealed_row()? {
            return Ok(());
        }
        let mut key = None;
        let mut failed = None;
        for file in photo_files(&self.dir().join("photos"))? {
            let sealed = (|| -> Result<()> {
                let Some(sha) = photo_file_name(&file) else {
                    return if is_unfinished_write(&file) {
                        // Cut off before its rename, it may hold a whole plaintext photo.
                        remove_if_present(&file)
                    } else {
                        Ok(())
                    };
                };
                let bytes = Zeroizing::new(std::fs::read(&file)?);
                if seal::is_sealed(&bytes) {
                    return Ok(());
                }
                let key = match &key {
                    Some(key) => key,
                    None => key.insert(self.photo_key_or_new()?),
                };
                write_atomically(&file, &seal::seal(key, &sha, &bytes))
            })();
            // One file that cannot be sealed does not keep the others in plaintext.
            if let Err(e) = sealed {
                failed = Some(e);
            }
        }
        if let Some(e) = failed {
            return Err(e);
        }
        self.write(|c| {
            c.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?1, '1')", [SEALED_ROW])?;
            Ok(())
        })
    }
}

/// Every file under `photos/`, in its two-digit directories.
fn photo_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    let subdirs = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(files),
        Err(e) => return Err(e.into()),
    };
    for subdir in subdirs {
        let subdir = subdir?.path();
        if subdir.is_dir() {
            for file in std::fs::read_dir(&subdir)? {
                files.push(file?.path());
            }
        }
    }
    files.sort();
    Ok(files)
}

/// The photo a file under `photos/` is, by its name (`<sha256>.jpg`); none for anything else.
fn photo_file_name(path: &Path) -> Option<String> {
    let stem = path.file_name()?.to_str()?.strip_suffix(".jpg")?;
    photo_name(stem).ok().filter(|sha| sha == stem)
}

/// A temporary file of [`write_atomically`]'s.
fn is_unfinished_write(path: &Path) -> bool {
    path.extension().and_then(|e| e.to_str()).is_some_and(|e| e.starts_with("tmp"))
}

fn remove_if_present(path: &Path) -> Result<()> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e.into()),
        _ => Ok(()),
    }
}

/// Writes to a temporary file, syncs it and renames it into place, so a photo file is never seen
/// half written.
fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path.parent().ok_or_else(|| Error::invalid("photo path", "has no directory"))?;
    std::fs::create_dir_all(dir)?;
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    let mut f = std::fs::File::create(&tmp)?;
    f.write_all(bytes)?;
    f.sync_all()?;
    std::fs::rename(&tmp, path)?;
    std::fs::File::open(dir)?.sync_all()?;
    Ok(())
}

impl Store {
    /// Photos taken here that the server does not have yet, with their sizes.
    pub(crate) fn pending_photos(&self) -> Result<Vec<(String, u64)>> {
        self.read(|c| {
            let mut stmt = c.prepare_cached("SELECT sha256, bytes FROM photos WHERE NOT uploaded ORDER BY sha256")?;
            let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)? as u64)))?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
    }

    pub(crate) fn mark_photo_uploaded(&self, sha256: &str) -> Result<()> {
        self.write(|c| {
            c.execute("UPDATE photos SET uploaded = 1 WHERE sha256 = ?1", [sha256])?;
            Ok(())
        })
    }

    /// Keeps a photo that came from elsewhere, once it is checked to be the photo named and an image.
    pub(crate) fn keep_fetched_photo(&self, sha256: &str, bytes: &[u8]) -> Result<()> {
        if hex::encode(Sha256::digest(bytes)) != sha256 {
            return Err(Error::Protocol("the photo received is not the photo asked for".into()));
        }
        let (width, height) = ImageReader::new(Cursor::new(bytes))
            .with_guessed_format()
            .ok()
            .filter(|r| matches!(r.format(), Some(ImageFormat::Jpeg | ImageFormat::Png)))
            .and_then(|r| r.into_dimensions().ok())
            .ok_or(Error::NotAnImage)?;
        self.write_photo(sha256, bytes)?;
        self.write(|c| {
            c.execute(
                "INSERT OR IGNORE INTO photos (sha256, bytes, width, height, uploaded) VALUES (?1, ?2, ?3, ?4, 1)",
                params![sha256, bytes.len() as i64, width, height],
            )?;
            Ok(())
        })
    }
}
