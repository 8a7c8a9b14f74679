//! The sync cursor. Opaque to a device, which only keeps it and sends it back: 8 bytes naming this
//! server's database, then the device's position in the log as big-endian integers — the sequence
//! number, and only when a page stopped inside a group of changes that became visible together (a
//! department's newly granted event), the sequence number within that group.
//!
//! The database id makes a cursor of another server (a rebuilt one, a restored backup with a new
//! id) count as "from the beginning": the device then receives changes it may have, which is
//! harmless, instead of skipping changes it lacks, which is not.

use crate::error::{ApiError, ApiResult};
use crate::storage::Position;

/// The cursor for `position` on the server with database id `instance`.
pub fn encode(instance: [u8; 8], position: Position) -> Vec<u8> {
    let mut out = Vec::with_capacity(24);
    out.extend_from_slice(&instance);
    out.extend_from_slice(&position.seq.to_be_bytes());
    if position.is_partial() {
        out.extend_from_slice(&position.tie.to_be_bytes());
    }
    out
}

/// The position a device's cursor names.
///
/// # Errors
/// [`ApiError::Malformed`] for a cursor no server of this protocol writes.
pub fn parse(cursor: &[u8], instance: [u8; 8]) -> ApiResult<Position> {
    let malformed = || ApiError::Malformed("the sync cursor is malformed".into());
    let int = |bytes: &[u8]| -> ApiResult<i64> {
        let bytes: [u8; 8] = bytes.try_into().map_err(|_| malformed())?;
        Ok(i64::from_be_bytes(bytes))
    };
    match cursor.len() {
        0 => Ok(Position::default()),
        16 | 24 if cursor[..8] != instance => Ok(Position::default()),
        16 => Ok(Position::through(int(&cursor[8..16])?.max(0))),
        24 => {
            let (seq, tie) = (int(&cursor[8..16])?.max(0), int(&cursor[16..24])?.max(0));
            Ok(Position { seq, tie: tie.min(seq) })
        }
        _ => Err(malformed()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HERE: [u8; 8] = *b"instance";

    #[test]
    fn round_trips() {
        for p in [Position::default(), Position::through(42), Position { seq: 42, tie: 7 }] {
            assert_eq!(parse(&encode(HERE, p), HERE).unwrap(), p);
        }
        assert_eq!(encode(HERE, Position::through(1)).len(), 16);
        assert_eq!(encode(HERE, Position { seq: 9, tie: 3 }).len(), 24);
    }

    #[test]
    fn another_servers_cursor_starts_again() {
        assert_eq!(parse(&encode(*b"elsewher", Position::through(42)), HERE).unwrap(), Position::default());
    }

    #[test]
    fn odd_lengths_are_malformed() {
        assert!(parse(&[1, 2, 3], HERE).is_err());
        assert!(parse(&[0; 64], HERE).is_err());
    }
}
