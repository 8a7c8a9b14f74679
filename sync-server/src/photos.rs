//! Photos as content-addressed files under `photos/`, uploaded in chunks that resume where a dropped
//! connection left them: the server keeps what arrived in a partial file, answers how much it has,
//! and accepts only the chunk that continues it. A finished photo is checked against its
//! SHA-256 and for being a JPEG or PNG before it takes its name.
//!
//! Access follows the event a photo was uploaded for. An upload names its event, which must be in
//! the uploader's scope and reference the photo; when the bytes are whole and are their name, the
//! photo is bound to that event. A device reads a photo only through a bound event in its scope:
//! knowing a hash grants nothing. Another event carrying the same photo gets its own binding only
//! by uploading the bytes for itself (a partial file of its own, checked the same way), so that a
//! reference alone never reaches another grid's photo. Whatever a device may not see is answered
//! exactly as a photo that does not exist, so that existence does not leak either.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard};

use gridbook_core::{DocId, DocKind};
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

/// The one answer for a photo this device may not see and for one that does not exist.
fn no_such_photo() -> ApiError {
    ApiError::NotFound("no such photo for this device".into())
}

fn check_sha(sha: &str) -> ApiResult<()> {
    if valid_sha(sha) {
        Ok(())
    } else {
        Err(ApiError::Malformed("a photo is named by its SHA-256 in lowercase hex".into()))
    }
}

/// The event an upload names (`e/{grid}/{event}`).
///
/// # Errors
/// [`ApiError::Malformed`] for a name that is not an event document's.
pub fn parse_event(event: &str) -> ApiResult<DocId> {
    match event.parse::<DocId>() {
        Ok(id) if id.kind == DocKind::Event => Ok(id),
        _ => Err(ApiError::Malformed("a photo upload names its event as e/{grid}/{event}".into())),
    }
}

/// Allows an upload of photo `sha` for `event` only if the event is in the device's scope and
/// references the photo (as the server recorded at commit); anything else is
/// [`ApiError::NotFound`], as for a photo that does not exist.
pub fn authorise_upload(storage: &dyn Storage, device: &Device, sha: &str, event: &DocId) -> ApiResult<()> {
    check_sha(sha)?;
    let scope = Scope::of(storage, device)?;
    let name = event.to_string();
    if scope.covers(storage, event)? && storage.docs_with_photo(sha)?.contains(&name) {
        Ok(())
    } else {
        Err(no_such_photo())
    }
}

/// Allows a read of photo `sha` only through an event it is bound to that the device's scope covers
/// (and, if the request names one, through that event); anything else is [`ApiError::NotFound`], as
/// for a photo that does not exist.
pub fn authorise_read(storage: &dyn Storage, device: &Device, sha: &str, event: Option<&DocId>) -> ApiResult<()> {
    check_sha(sha)?;
    let scope = Scope::of(storage, device)?;
    for doc in storage.photo_events(sha)? {
        let Ok(id) = doc.parse::<DocId>() else { continue };
        if event.is_none_or(|e| *e == id) && scope.covers(storage, &id)? {
            return Ok(());
        }
    }
    Err(no_such_photo())
}

/// How much of photo `sha` the server has for an upload for `event`: the whole photo once it is
/// bound to that event, else what arrived of this event's own copy.
///
/// # Errors
/// As [`authorise_upload`].
pub fn upload_status(
    storage: &dyn Storage,
    photos: &PhotoStore,
    device: &Device,
    sha: &str,
    event: &DocId,
) -> ApiResult<PhotoStatus> {
    authorise_upload(storage, device, sha, event)?;
    if storage.photo_events(sha)?.contains(&event.to_string())
        && let Some(status) = photos.complete(sha)
    {
        return Ok(status);
    }
    Ok(photos.partial(sha, event))
}

/// Takes a chunk of photo `sha` for `event`, and binds the photo to the event once its bytes are
/// whole and proven.
///
/// # Errors
/// As [`authorise_upload`] and [`PhotoStore::put_chunk`].
pub fn upload(
    storage: &dyn Storage,
    photos: &PhotoStore,
    device: &Device,
    sha: &str,
    event: &DocId,
    at: (u64, u64),
    chunk: &[u8],
) -> ApiResult<PhotoStatus> {
    let now = upload_status(storage, photos, device, sha, event)?;
    if now.complete {
        return Ok(now);
    }
    let status = photos.put_chunk(sha, event, at.0, at.1, chunk)?;
    if status.complete {
        // After the file: a crash between the two leaves a photo that the next upload binds.
        storage.bind_photo(sha, &event.to_string())?;
    }
    Ok(status)
}

/// What a device that may read photo `sha` learns of it: whether the server has it whole.
///
/// # Errors
/// As [`authorise_read`].
pub fn read_status(
    storage: &dyn Storage,
    photos: &PhotoStore,
    device: &Device,
    sha: &str,
    event: Option<&DocId>,
) -> ApiResult<PhotoStatus> {
    authorise_read(storage, device, sha, event)?;
    // Bound by a migration from before bindings, the photo may never have arrived whole.
    Ok(photos.complete(sha).unwrap_or(PhotoStatus { received: 0, complete: false }))
}

/// The photo files: `photos/{sha}` once complete and checked, and while arriving
/// `photos/partial/{sha}.{event}`, one per event it is uploaded for.
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

    fn partial_path(&self, sha: &str, event: &DocId) -> PathBuf {
        // A parsed event's name is a tag and two UUIDs: no path separator survives the swap.
        self.dir.join("partial").join(format!("{sha}.{}", event.to_string().replace('/', "_")))
    }

    /// The whole photo's size, if the server has it.
    pub fn complete(&self, sha: &str) -> Option<PhotoStatus> {
        fs::metadata(self.complete_path(sha)).ok().map(|meta| PhotoStatus { received: meta.len(), complete: true })
    }

    /// How much of the photo arrived for `event` so far.
    pub fn partial(&self, sha: &str, event: &DocId) -> PhotoStatus {
        let received = fs::metadata(self.partial_path(sha, event)).map_or(0, |m| m.len());
        PhotoStatus { received, complete: false }
    }

    /// Appends `chunk` at `offset` of `event`'s copy of a photo of `total` bytes; the last chunk
    /// makes it complete if the bytes are its SHA-256 and an image. A photo already whole is not
    /// stored again: the copy only proved that its uploader has it.
    ///
    /// # Errors
    /// [`ApiError::Conflict`] for a chunk that does not start where the server's copy ends;
    /// [`ApiError::Malformed`] for a chunk past `total`, or a whole photo that is not its name or
    /// not a JPEG or PNG (the partial copy is then dropped).
    pub fn put_chunk(&self, sha: &str, event: &DocId, offset: u64, total: u64, chunk: &[u8]) -> ApiResult<PhotoStatus> {
        let _guard = self.lock(sha);
        let now = self.partial(sha, event);
        if offset != now.received {
            return Err(ApiError::Conflict { received: now.received });
        }
        if offset + chunk.len() as u64 > total {
            return Err(ApiError::Malformed("the chunk runs past the photo's size".into()));
        }
        let partial = self.partial_path(sha, event);
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
        if self.complete(sha).is_some() {
            fs::remove_file(&partial)?;
        } else {
            fs::rename(&partial, self.complete_path(sha))?;
        }
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

    fn event(n: u128) -> DocId {
        let (grid, id) = (uuid::Uuid::from_u128(n), uuid::Uuid::from_u128(n + 1000));
        format!("e/{grid}/{id}").parse().unwrap()
    }

    #[test]
    fn a_whole_photo_that_is_not_an_image_is_refused_and_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let photos = PhotoStore::open(dir.path().join("photos")).unwrap();
        let text = b"hello, this is not a photo";
        let err = photos.put_chunk(&sha(text), &event(1), 0, text.len() as u64, text).unwrap_err();
        assert!(matches!(&err, ApiError::Malformed(m) if m.contains("not an image")), "{err}");
        assert_eq!(photos.partial(&sha(text), &event(1)), PhotoStatus { received: 0, complete: false });
        assert_eq!(photos.complete(&sha(text)), None);
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
            assert_eq!(photos.put_chunk(&name, &event(1), 0, total, &image[..30]).unwrap().received, 30);
            assert!(matches!(
                photos.put_chunk(&name, &event(1), 10, total, &image[10..]),
                Err(ApiError::Conflict { received: 30 })
            ));
            // Another event's copy is its own: it starts from nothing.
            assert_eq!(photos.partial(&name, &event(2)).received, 0);
            assert!(photos.put_chunk(&name, &event(1), 30, total, &image[30..]).unwrap().complete);
            assert_eq!(photos.read(&name).unwrap().0, image);
            // The second copy proves its uploader has the photo and leaves nothing behind.
            assert!(photos.put_chunk(&name, &event(2), 0, total, &image).unwrap().complete);
            assert_eq!(photos.partial(&name, &event(2)).received, 0);
        }
        assert_eq!(photos.read(&sha(b"x")).unwrap_err().kind(), "not_found");
    }
}
