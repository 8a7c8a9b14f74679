//! Photos as content-addressed files under `photos/`, uploaded in chunks that resume where a dropped
//! connection left them: the server keeps what arrived in a partial file, answers how much it has,
//! and accepts only the chunk that continues it. A finished photo is checked against its
//! SHA-256 and for being a JPEG or PNG before it takes its name. A device may upload or fetch only
//! photos that an event in its scope references.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard};

use gridbook_core::DocId;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::error::{ApiError, ApiResult};
use crate::scope::Scope;
use crate::storage::{Device, Storage};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct PhotoStatus {
    pub received: u64,
    pub complete: bool,
}

pub fn valid_sha(sha: &str) -> bool {
    sha.len() == 64 && sha.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// Refuses a photo no event in the device's scope references; a photo nobody references is refused
/// the same way, so that a device cannot learn what exists outside its scope.
pub fn authorise(storage: &dyn Storage, device: &Device, sha: &str) -> ApiResult<()> {
    if !valid_sha(sha) {
        return Err(ApiError::Malformed("a photo is named by its SHA-256 in lowercase hex".into()));
    }
    let scope = Scope::of(storage, device)?;
    for doc in storage.docs_with_photo(sha)? {
        if let Ok(id) = doc.parse::<DocId>()
            && scope.covers(storage, &id)?
        {
            return Ok(());
        }
    }
    Err(ApiError::Forbidden("no event in this device's scope has this photo".into()))
}

/// The photo files: `photos/{sha}` once complete and checked, `photos/partial/{sha}` while arriving.
#[derive(Debug)]
pub struct PhotoStore {
    dir: PathBuf,
    /// Chunks of one photo are appended one at a time: two uploads of the same photo (a device and a
    /// peer it relayed for) must not interleave between the offset check and the append.
    locks: [Mutex<()>; 64],
}

impl PhotoStore {
    pub fn open(dir: PathBuf) -> std::io::Result<Self> {
        fs::create_dir_all(dir.join("partial"))?;
        Ok(Self { dir, locks: std::array::from_fn(|_| Mutex::new(())) })
    }

    fn lock(&self, sha: &str) -> MutexGuard<'_, ()> {
        let stripe = sha.bytes().fold(0usize, |h, b| h.wrapping_mul(31).wrapping_add(b.into())) % self.locks.len();
        // A panic while holding it left at worst a partial file, which the offset check handles.
        self.locks[stripe].lock().unwrap_or_else(|p| p.into_inner())
    }

    fn complete_path(&self, sha: &str) -> PathBuf {
        self.dir.join(sha)
    }

    fn partial_path(&self, sha: &str) -> PathBuf {
        self.dir.join("partial").join(sha)
    }

    /// How much of the photo the server has.
    pub fn status(&self, sha: &str) -> ApiResult<PhotoStatus> {
        if let Ok(meta) = fs::metadata(self.complete_path(sha)) {
            return Ok(PhotoStatus { received: meta.len(), complete: true });
        }
        let received = fs::metadata(self.partial_path(sha)).map_or(0, |m| m.len());
        Ok(PhotoStatus { received, complete: false })
    }

    /// Appends `chunk` at `offset` of a photo of `total` bytes; the last chunk makes it complete if
    /// the bytes are its SHA-256 and an image.
    ///
    /// # Errors
    /// [`ApiError::Conflict`] for a chunk that does not start where the server's copy ends;
    /// [`ApiError::Malformed`] for a chunk past `total`, or a whole photo that is not its name or
    /// not a JPEG or PNG (the partial copy is then dropped).
    pub fn put_chunk(&self, sha: &str, offset: u64, total: u64, chunk: &[u8]) -> ApiResult<PhotoStatus> {
        let _guard = self.lock(sha);
        let now = self.status(sha)?;
        if now.complete {
            return Ok(now);
        }
        if offset != now.received {
            return Err(ApiError::Conflict { received: now.received });
        }
        if offset + chunk.len() as u64 > total {
            return Err(ApiError::Malformed("the chunk runs past the photo's size".into()));
        }
        let partial = self.partial_path(sha);
        let mut file = OpenOptions::new().create(true).append(true).open(&partial)?;
        file.write_all(chunk)?;
        // What the reply acknowledges is on disk: the device will not send it again.
        file.sync_all()?;
        let received = offset + chunk.len() as u64;
        if received < total {
            return Ok(PhotoStatus { received, complete: false });
        }
        let bytes = fs::read(&partial)?;
        let refuse = |message: &str| -> ApiResult<PhotoStatus> {
            let _ = fs::remove_file(&partial);
            Err(ApiError::Malformed(message.into()))
        };
        if hex::encode(Sha256::digest(&bytes)) != sha {
            return refuse("the photo's bytes do not match its SHA-256; upload it again");
        }
        if !(bytes.starts_with(&[0xFF, 0xD8, 0xFF]) || bytes.starts_with(b"\x89PNG\r\n\x1a\n")) {
            return refuse("not an image: a photo must be a JPEG or PNG");
        }
        fs::rename(&partial, self.complete_path(sha))?;
        fs::File::open(&self.dir)?.sync_all()?;
        Ok(PhotoStatus { received, complete: true })
    }

    /// The photo's bytes and content type, if the server has it whole.
    ///
    /// # Errors
    /// [`ApiError::NotFound`] until the photo is complete.
    pub fn read(&self, sha: &str) -> ApiResult<(Vec<u8>, &'static str)> {
        let bytes = fs::read(self.complete_path(sha))
            .map_err(|_| ApiError::NotFound("the server does not have this photo yet".into()))?;
        let kind = if bytes.starts_with(b"\x89PNG") { "image/png" } else { "image/jpeg" };
        Ok((bytes, kind))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sha(bytes: &[u8]) -> String {
        hex::encode(Sha256::digest(bytes))
    }

    #[test]
    fn a_whole_photo_that_is_not_an_image_is_refused_and_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let photos = PhotoStore::open(dir.path().join("photos")).unwrap();
        let text = b"hello, this is not a photo";
        let err = photos.put_chunk(&sha(text), 0, text.len() as u64, text).unwrap_err();
        assert!(matches!(&err, ApiError::Malformed(m) if m.contains("not an image")), "{err}");
        assert_eq!(photos.status(&sha(text)).unwrap(), PhotoStatus { received: 0, complete: false });
    }

    #[test]
    fn jpeg_and_png_are_kept_in_chunks() {
        let dir = tempfile::tempdir().unwrap();
        let photos = PhotoStore::open(dir.path().join("photos")).unwrap();
        for image in
            [[&[0xFF, 0xD8, 0xFF, 0xE0][..], &[7; 100]].concat(), [&b"\x89PNG\r\n\x1a\n"[..], &[9; 50]].concat()]
        {
            let name = sha(&image);
            let total = image.len() as u64;
            assert_eq!(photos.put_chunk(&name, 0, total, &image[..30]).unwrap().received, 30);
            assert!(matches!(
                photos.put_chunk(&name, 10, total, &image[10..]),
                Err(ApiError::Conflict { received: 30 })
            ));
            assert!(photos.put_chunk(&name, 30, total, &image[30..]).unwrap().complete);
            assert_eq!(photos.read(&name).unwrap().0, image);
        }
        assert_eq!(photos.read(&sha(b"x")).unwrap_err().kind(), "not_found");
    }
}
