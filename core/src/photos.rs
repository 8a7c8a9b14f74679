//! Photos in the store: prepared (`image_prep.rs`) and kept once under their SHA-256 in the store's
//! `photos/` directory, with a row saying whether the server has them yet.

use std::io::{Cursor, Write};
use std::path::{Path, PathBuf};

use image::{ImageFormat, ImageReader};
use rusqlite::params;
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::image_prep::prepare;
use crate::store::Store;

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
    let path = photo_path(store.dir(), &sha256);
    if !path.exists() {
        write_atomically(&path, &bytes)?;
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

impl Store {
    /// Where the photo with this SHA-256 is on this device, if it is here.
    pub fn photo_file(&self, sha256: &str) -> Option<PathBuf> {
        let valid = sha256.len() == 64 && sha256.bytes().all(|b| b.is_ascii_hexdigit());
        let path = photo_path(self.dir(), &sha256.to_ascii_lowercase());
        (valid && path.exists()).then_some(path)
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
    pub(crate) fn keep_fetched_photo(&self, sha256: &str, bytes: &[u8]) -> Result<PathBuf> {
        if hex::encode(Sha256::digest(bytes)) != sha256 {
            return Err(Error::Protocol("the photo received is not the photo asked for".into()));
        }
        let (width, height) = ImageReader::new(Cursor::new(bytes))
            .with_guessed_format()
            .ok()
            .filter(|r| matches!(r.format(), Some(ImageFormat::Jpeg | ImageFormat::Png)))
            .and_then(|r| r.into_dimensions().ok())
            .ok_or(Error::NotAnImage)?;
        let path = photo_path(self.dir(), sha256);
        write_atomically(&path, bytes)?;
        self.write(|c| {
            c.execute(
                "INSERT OR IGNORE INTO photos (sha256, bytes, width, height, uploaded) VALUES (?1, ?2, ?3, ?4, 1)",
                params![sha256, bytes.len() as i64, width, height],
            )?;
            Ok(())
        })?;
        Ok(path)
    }
}
