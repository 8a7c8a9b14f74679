//! Photo preparation, knowing nothing of a store: an image is checked to be a real JPEG or PNG,
//! decoded within limits (a small file can claim a huge canvas), turned upright, resized so that it
//! travels over 2G, and re-encoded as JPEG. The store keeps what comes out (`photos.rs`); a tool can
//! run the same preparation on its own.

use std::io::Cursor;

use image::imageops::FilterType;
use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader, Limits};

use crate::error::{Error, Result};

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
