//! Photos: checked to be real JPEG or PNG images, decoded within limits (a small file can claim a
//! huge canvas), turned upright, resized so they travel over 2G, re-encoded as JPEG and stored once
//! under their SHA-256.

use std::io::{Cursor, Write};
use std::path::{Path, PathBuf};

use image::imageops::FilterType;
use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader, Limits};
use rusqlite::params;
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::store::Store;

/// How photos are prepared on the device.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PhotoOptions {
    /// Longest edge after resizing, in pixels.
    pub max_long_edge: u32,
    /// JPEG quality, 1–100.
    pub jpeg_quality: u8,
    /// Largest file accepted.
    pub max_input_bytes: u64,
    /// Largest canvas accepted (width × height).
    pub max_input_pixels: u64,
}

impl Default for PhotoOptions {
    fn default() -> Self {
        Self { max_long_edge: 1600, jpeg_quality: 80, max_input_bytes: 40 << 20, max_input_pixels: 64_000_000 }
    }
}

/// A photo as stored on this device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredPhoto {
    pub sha256: String,
    pub width: u32,
    pub height: u32,
    pub bytes: u64,
}

/// Re-encodes an image as the store keeps it.
///
/// # Errors
/// [`Error::NotAnImage`] for anything but a decodable JPEG or PNG; [`Error::PhotoTooLarge`] past the
/// limits in `options`.
pub fn prepare(input: &[u8], options: &PhotoOptions) -> Result<(Vec<u8>, u32, u32)> {
    if input.len() as u64 > options.max_input_bytes {
        return Err(Error::PhotoTooLarge(format!("the file is over {} MB", options.max_input_bytes >> 20)));
    }
    let format = image::guess_format(input).map_err(|_| Error::NotAnImage)?;
    if !matches!(format, ImageFormat::Jpeg | ImageFormat::Png) {
        return Err(Error::NotAnImage);
    }
    // The JPEG decoder fills a cut-off file with grey rather than failing; a half-copied photo must
    // be refused, not stored as evidence.
    if format == ImageFormat::Jpeg && !jpeg_is_complete(input) {
        return Err(Error::NotAnImage);
    }
    let mut reader = ImageReader::with_format(Cursor::new(input), format);
    let mut limits = Limits::default();
    limits.max_alloc = Some(options.max_input_pixels.saturating_mul(4));
    reader.limits(limits);
    let mut decoder = reader.into_decoder().map_err(|_| Error::NotAnImage)?;
    let (w, h) = decoder.dimensions();
    if u64::from(w) * u64::from(h) > options.max_input_pixels {
        return Err(Error::PhotoTooLarge(format!("{w}×{h} pixels is more than this device accepts")));
    }
    let orientation = decoder.orientation().unwrap_or(image::metadata::Orientation::NoTransforms);
    let mut img = DynamicImage::from_decoder(decoder).map_err(|e| match e {
        image::ImageError::Limits(_) => Error::PhotoTooLarge("the image needs too much memory to decode".into()),
        _ => Error::NotAnImage,
    })?;
    img.apply_orientation(orientation);
    let edge = options.max_long_edge.max(1);
    if img.width().max(img.height()) > edge {
        img = img.resize(edge, edge, FilterType::Triangle);
    }
    let rgb = flatten_on_white(img);
    let mut out = Vec::new();
    let quality = options.jpeg_quality.clamp(1, 100);
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, quality)
        .encode_image(&rgb)
        .map_err(|e| Error::Io(std::io::Error::other(e)))?;
    Ok((out, rgb.width(), rgb.height()))
}

/// Whether the last scan of a JPEG is followed by its end-of-image marker. Inside entropy-coded data
/// a 0xFF byte is always followed by 0x00 or a restart marker, so the markers cannot occur by
/// chance; an embedded thumbnail's end marker comes before the main image's scans.
fn jpeg_is_complete(bytes: &[u8]) -> bool {
    let last = |marker: u8| bytes.windows(2).rposition(|w| w[0] == 0xFF && w[1] == marker);
    matches!((last(0xDA), last(0xD9)), (Some(scan), Some(end)) if end > scan)
}

/// JPEG has no transparency: transparent pixels become white, not black.
fn flatten_on_white(img: DynamicImage) -> image::RgbImage {
    if !img.color().has_alpha() {
        return img.into_rgb8();
    }
    let rgba = img.into_rgba8();
    image::RgbImage::from_fn(rgba.width(), rgba.height(), |x, y| {
        let p = rgba.get_pixel(x, y).0;
        let a = u16::from(p[3]);
        let blend = |c: u8| ((u16::from(c) * a + 255 * (255 - a)) / 255) as u8;
        image::Rgb([blend(p[0]), blend(p[1]), blend(p[2])])
    })
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
