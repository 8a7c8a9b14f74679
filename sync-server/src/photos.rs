//! Photos as content-addressed files under `photos/`, uploaded in chunks that resume where a dropped
//! connection left them: the server keeps what arrived in a partial file per device, answers how much
//! it has, and accepts only the chunk that continues it. A finished photo is checked against its
//! SHA-256 and for being a JPEG or PNG before it takes its name. A device may upload or fetch only
//! photos that an event in its scope references.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

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

fn final_path(dir: &Path, sha: &str) -> PathBuf {
    dir.join(&sha[..2]).join(sha)
}

fn partial_path(dir: &Path, sha: &str, device: &Device) -> PathBuf {
    dir.join("partial").join(format!("{sha}.{}", device.id))
}

pub fn status(dir: &Path, sha: &str, device: &Device) -> ApiResult<PhotoStatus> {
    if let Ok(meta) = fs::metadata(final_path(dir, sha)) {
        return Ok(PhotoStatus { received: meta.len(), complete: true });
    }
    let received = fs::metadata(partial_path(dir, sha, device)).map_or(0, |m| m.len());
    Ok(PhotoStatus { received, complete: false })
}

/// Appends `chunk` at `offset` of a photo of `total` bytes.
pub fn put_chunk(
    dir: &Path,
    sha: &str,
    device: &Device,
    offset: u64,
    total: u64,
    chunk: &[u8],
    max_photo: u64,
) -> ApiResult<PhotoStatus> {
    if total > max_photo {
        return Err(ApiError::TooLarge(format!("a photo may be at most {} MB", max_photo >> 20)));
    }
    let now = status(dir, sha, device)?;
    if now.complete {
        return Ok(now);
    }
    if offset != now.received {
        return Err(ApiError::Conflict { received: now.received });
    }
    if offset + chunk.len() as u64 > total {
        return Err(ApiError::Malformed("the chunk runs past the photo's size".into()));
    }
    let partial = partial_path(dir, sha, device);
    fs::create_dir_all(partial.parent().unwrap_or(dir))?;
    let mut file = OpenOptions::new().create(true).append(true).open(&partial)?;
    file.write_all(chunk)?;
    file.sync_all()?;
    let received = offset + chunk.len() as u64;
    if received < total {
        return Ok(PhotoStatus { received, complete: false });
    }
    let bytes = fs::read(&partial)?;
    let fail = |message: &str| -> ApiResult<PhotoStatus> {
        let _ = fs::remove_file(&partial);
        Err(ApiError::Malformed(message.into()))
    };
    if hex::encode(Sha256::digest(&bytes)) != sha {
        return fail("the photo's bytes do not match its SHA-256; upload it again");
    }
    if !(bytes.starts_with(&[0xFF, 0xD8, 0xFF]) || bytes.starts_with(b"\x89PNG\r\n\x1a\n")) {
        return fail("not an image: a photo must be a JPEG or PNG");
    }
    let done = final_path(dir, sha);
    fs::create_dir_all(done.parent().unwrap_or(dir))?;
    fs::rename(&partial, &done)?;
    if let Some(parent) = done.parent() {
        fs::File::open(parent)?.sync_all()?;
    }
    Ok(PhotoStatus { received, complete: true })
}

/// The photo's bytes and content type, if the server has it whole.
pub fn read(dir: &Path, sha: &str) -> ApiResult<(Vec<u8>, &'static str)> {
    let bytes = fs::read(final_path(dir, sha))
        .map_err(|_| ApiError::NotFound("the server does not have this photo yet".into()))?;
    let kind = if bytes.starts_with(b"\x89PNG") { "image/png" } else { "image/jpeg" };
    Ok((bytes, kind))
}
