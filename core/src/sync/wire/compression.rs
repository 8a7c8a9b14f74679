//! How a sync message is compressed for the wire: zstd with a dictionary of the messages' shape.
//!
//! A day's request is a few dozen kilobytes of small automerge changes, each with its own column
//! layout, key names and enum strings. Compressed alone (gzip, or zstd without a dictionary) every
//! message pays again for the vocabulary that all of them share; a dictionary built in advance from
//! other messages lets each one refer to it instead (zstd's answer for small messages; the figures are in
//! docs/BENCHMARKS.md). The dictionary is trained by `cargo run -p gridbook-core --example train_dictionary`
//! on the demo village, never on the benchmark's day, and a frame names it by its id: a frame made
//! with a dictionary this build does not have is refused as malformed, not misread.
//!
//! gzip is still read, and answered in kind, so that a message made by hand (curl, a test) or by an
//! older tool can be sent; the two are told apart by their first bytes.
//!
//! Integrity on the way is checked here, before a message is decoded: a byte flipped inside a
//! change would otherwise rebuild into a valid change with another hash (the receiver recomputes
//! automerge's own checksum), stored everywhere and never matched by its sender again. A zstd frame
//! must carry zstd's content checksum (the low 4 bytes of the plain message's XXH64), and a gzip
//! member carries its CRC-32; a body is one frame or member and nothing after it.

use std::io::{self, BufReader, Read, Write};
use std::sync::OnceLock;

use flate2::Compression;
use flate2::write::GzEncoder;
use zstd::dict::{DecoderDictionary, EncoderDictionary};
use zstd::stream::raw::CParameter;
use zstd::zstd_safe::{self, zstd_sys::ZSTD_ErrorCode};

use super::{Limits, WireError};

/// The shared dictionary (see the module's doc for how it is made).
const DICTIONARY: &[u8] = include_bytes!("dictionary.zdict");

/// Messages up to this size get zstd's strongest level: on a day's request it costs the phone little,
/// and every byte saved is time on a slow link. Larger ones (a year's catch-up) get a fast one.
const STRONG_UP_TO: usize = 1 << 20;
const STRONG_LEVEL: i32 = 19;
const FAST_LEVEL: i32 = 6;

/// The largest back-reference window a frame may ask the decoder to keep: 8 MiB, the most that
/// [`compress`] uses at any level. A hostile frame cannot make the decoder allocate more.
const WINDOW_LOG_MAX: u32 = 23;

/// The bit of a zstd frame's header descriptor (the byte after the magic) saying the frame ends
/// with a checksum of its content. The decoder verifies a checksum only when this bit is set, so a
/// flip that clears it must not turn the check off: a frame without it is refused.
const CONTENT_CHECKSUM_FLAG: u8 = 1 << 2;

/// A compressed message's format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Codec {
    /// zstd with the shared dictionary: what devices send.
    Zstd,
    /// gzip, still accepted and answered in kind.
    Gzip,
}

impl Codec {
    /// The codec of a compressed body, by its magic bytes; `None` if it is neither.
    pub fn of(body: &[u8]) -> Option<Self> {
        match body {
            [0x28, 0xb5, 0x2f, 0xfd, ..] => Some(Self::Zstd),
            [0x1f, 0x8b, ..] => Some(Self::Gzip),
            _ => None,
        }
    }

    /// The HTTP `Content-Encoding` of the codec. zstd's registered coding forbids a dictionary, so
    /// the dictionary form has a name of its own.
    pub fn content_encoding(self) -> &'static str {
        match self {
            Self::Zstd => "x-gridbook-zstd",
            Self::Gzip => "gzip",
        }
    }
}

fn encoder_dictionary(strong: bool) -> &'static EncoderDictionary<'static> {
    static STRONG: OnceLock<EncoderDictionary<'static>> = OnceLock::new();
    static FAST: OnceLock<EncoderDictionary<'static>> = OnceLock::new();
    if strong {
        STRONG.get_or_init(|| EncoderDictionary::copy(DICTIONARY, STRONG_LEVEL))
    } else {
        FAST.get_or_init(|| EncoderDictionary::copy(DICTIONARY, FAST_LEVEL))
    }
}

fn decoder_dictionary() -> &'static DecoderDictionary<'static> {
    static DICT: OnceLock<DecoderDictionary<'static>> = OnceLock::new();
    DICT.get_or_init(|| DecoderDictionary::copy(DICTIONARY))
}

/// Compresses a message for the wire as devices send it: zstd with the shared dictionary.
pub fn compress(message: &[u8]) -> Vec<u8> {
    compress_as(Codec::Zstd, message)
}

/// Compresses a message in the given codec (a server answers in the codec it was asked in).
pub fn compress_as(codec: Codec, message: &[u8]) -> Vec<u8> {
    match codec {
        Codec::Zstd => {
            let dict = encoder_dictionary(message.len() <= STRONG_UP_TO);
            // A compressor with a valid dictionary only fails to allocate; fall back to gzip,
            // which the receiver reads as well, rather than lose the message.
            zstd::bulk::Compressor::with_prepared_dictionary(dict)
                .and_then(|mut c| {
                    c.set_parameter(CParameter::ChecksumFlag(true))?;
                    c.compress(message)
                })
                .unwrap_or_else(|_| compress_as(Codec::Gzip, message))
        }
        Codec::Gzip => {
            let mut enc = GzEncoder::new(Vec::with_capacity(message.len() / 2 + 64), Compression::best());
            // Writing to a Vec cannot fail.
            let _ = enc.write_all(message);
            enc.finish().unwrap_or_default()
        }
    }
}

/// Inflates a compressed message of either codec after checking its checksum, refusing one that
/// inflates past `limits.max_message_bytes`, asks for a larger window than [`compress`] ever uses,
/// was made with another dictionary, carries no checksum, or has bytes after its frame.
///
/// # Errors
/// [`WireError::Damaged`] when the checksum does not match the inflated message,
/// [`WireError::TooLarge`] past the limit, [`WireError::Malformed`] for anything else.
pub fn decompress(body: &[u8], limits: &Limits) -> Result<Vec<u8>, WireError> {
    let cap = limits.max_message_bytes as u64 + 1;
    let out = match Codec::of(body) {
        Some(Codec::Zstd) => inflate_zstd(body, cap)?,
        Some(Codec::Gzip) => inflate_gzip(body, cap)?,
        None => return Err(WireError::Malformed("neither zstd nor gzip")),
    };
    if out.len() as u64 >= cap {
        return Err(WireError::TooLarge("inflated size"));
    }
    Ok(out)
}

/// Up to `cap` bytes of a zstd frame's content, its checksum verified by the decoder at the frame's
/// end (the caller refuses `cap` bytes as too large, so a message it accepts was verified whole).
fn inflate_zstd(body: &[u8], cap: u64) -> Result<Vec<u8>, WireError> {
    if body.get(4).is_none_or(|descriptor| descriptor & CONTENT_CHECKSUM_FLAG == 0) {
        return Err(WireError::Malformed("a zstd frame without a checksum"));
    }
    // The decoder would read a second frame as more of the message, unchecked by the first's sum.
    if zstd_safe::find_frame_compressed_size(body) != Ok(body.len()) {
        return Err(WireError::Malformed("not exactly one zstd frame"));
    }
    let mut out = Vec::new();
    let mut decoder = zstd::stream::read::Decoder::with_prepared_dictionary(BufReader::new(body), decoder_dictionary())
        .map_err(|_| WireError::Malformed("zstd"))?;
    decoder.window_log_max(WINDOW_LOG_MAX).map_err(|_| WireError::Malformed("zstd"))?;
    decoder.take(cap).read_to_end(&mut out).map_err(|e| {
        let zstd = e.get_ref().and_then(|e| e.downcast_ref::<zstd::Error>());
        if zstd.is_some_and(|e| e.is(ZSTD_ErrorCode::ZSTD_error_checksum_wrong)) {
            WireError::Damaged
        } else {
            WireError::Malformed("zstd")
        }
    })?;
    Ok(out)
}

/// Up to `cap` bytes of a gzip member's content, its CRC-32 and length verified by flate2 at the
/// member's end.
fn inflate_gzip(body: &[u8], cap: u64) -> Result<Vec<u8>, WireError> {
    let mut out = Vec::new();
    let mut decoder = flate2::bufread::GzDecoder::new(body);
    (&mut decoder).take(cap).read_to_end(&mut out).map_err(|e| gzip_error(&e))?;
    // Past the cap the member is not read to its end; the caller refuses that as too large.
    if (out.len() as u64) < cap && !decoder.into_inner().is_empty() {
        return Err(WireError::Malformed("bytes after the gzip member"));
    }
    Ok(out)
}

/// flate2 reports a CRC mismatch (of the content, or of the header when it has one) as invalid
/// input with this one message; a test pins it.
fn gzip_error(e: &io::Error) -> WireError {
    if e.kind() == io::ErrorKind::InvalidInput && e.to_string().contains("matching checksum") {
        WireError::Damaged
    } else {
        WireError::Malformed("gzip")
    }
}
