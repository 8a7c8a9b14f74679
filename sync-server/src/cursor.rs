//! The sync cursor. Opaque to a device, which only keeps it and sends it back: 8 bytes naming this
//! server's database, then the device's position in the log as big-endian integers — the sequence
//! number, and only when a page stopped inside a group of changes that became visible together (a
//! department's newly granted event), the sequence number within that group — and, once there are
//! erasures, the erasure notice number through which every notice in the device's scope has been
//! sent to it (after the group's number, which is then the sequence number itself when there is no
//! group). A store that never hears of an erasure in its scope still moves on with it, so that it is
//! told to start over only when a notice it was never sent was pruned.
//!
//! The database id makes a cursor of another server (a rebuilt one, a restored backup with a new
//! id) count as "from the beginning": the device then receives changes it may have, which is
//! harmless, instead of skipping changes it lacks, which is not.

use crate::error::{ApiError, ApiResult};
use crate::storage::Position;

/// What a cursor names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Cursor {
    pub position: Position,
    /// Every erasure notice up to this number that the device's scope covers was sent to it.
    pub notices: u64,
}

/// The cursor for `cursor` on the server with database id `instance`.
pub fn encode(instance: [u8; 8], cursor: Cursor) -> Vec<u8> {
    let Cursor { position, notices } = cursor;
    let mut out = Vec::with_capacity(32);
    out.extend_from_slice(&instance);
    out.extend_from_slice(&position.seq.to_be_bytes());
    if position.is_partial() || notices > 0 {
        out.extend_from_slice(&position.tie.to_be_bytes());
    }
    if notices > 0 {
        out.extend_from_slice(&notices.to_be_bytes());
    }
    out
}

/// What a device's cursor names.
///
/// # Errors
/// [`ApiError::Malformed`] for a cursor no server of this protocol writes.
pub fn parse(cursor: &[u8], instance: [u8; 8]) -> ApiResult<Cursor> {
    let malformed = || ApiError::Malformed("the sync cursor is malformed".into());
    let int = |bytes: &[u8]| -> ApiResult<i64> {
        let bytes: [u8; 8] = bytes.try_into().map_err(|_| malformed())?;
        Ok(i64::from_be_bytes(bytes))
    };
    let position = |seq: i64, tie: i64| {
        let seq = seq.max(0);
        Position { seq, tie: tie.clamp(0, seq) }
    };
    match cursor.len() {
        0 => Ok(Cursor::default()),
        16 | 24 | 32 if cursor[..8] != instance => Ok(Cursor::default()),
        16 => Ok(Cursor { position: Position::through(int(&cursor[8..16])?.max(0)), notices: 0 }),
        24 => Ok(Cursor { position: position(int(&cursor[8..16])?, int(&cursor[16..24])?), notices: 0 }),
        32 => Ok(Cursor {
            position: position(int(&cursor[8..16])?, int(&cursor[16..24])?),
            notices: int(&cursor[24..32])?.max(0) as u64,
        }),
        _ => Err(malformed()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HERE: [u8; 8] = *b"instance";

    #[test]
    fn round_trips() {
        let at = |position| Cursor { position, notices: 0 };
        for p in [Position::default(), Position::through(42), Position { seq: 42, tie: 7 }] {
            assert_eq!(parse(&encode(HERE, at(p)), HERE).unwrap(), at(p));
            let with_notices = Cursor { position: p, notices: 5 };
            assert_eq!(parse(&encode(HERE, with_notices), HERE).unwrap(), with_notices);
        }
        assert_eq!(encode(HERE, at(Position::through(1))).len(), 16);
        assert_eq!(encode(HERE, at(Position { seq: 9, tie: 3 })).len(), 24);
        assert_eq!(encode(HERE, Cursor { position: Position::through(1), notices: 1 }).len(), 32);
    }

    #[test]
    fn another_servers_cursor_starts_again() {
        let theirs = Cursor { position: Position::through(42), notices: 3 };
        assert_eq!(parse(&encode(*b"elsewher", theirs), HERE).unwrap(), Cursor::default());
    }

    #[test]
    fn odd_lengths_are_malformed() {
        assert!(parse(&[1, 2, 3], HERE).is_err());
        assert!(parse(&[0; 64], HERE).is_err());
    }
}
