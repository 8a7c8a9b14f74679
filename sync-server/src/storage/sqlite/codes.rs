//! The SQLite backend's one-time enrolment codes, kept only as hashes.

use rusqlite::{Connection, OptionalExtension, params};

use super::devices::{COLUMNS, device_row};
use crate::storage::{Device, StorageError, StorageResult};

/// Records a code for `device`, dropping the device's unused ones: a new code replaces the last.
pub(super) fn add(c: &Connection, device: &str, code_hash: &[u8; 32], expires_at: i64) -> StorageResult<()> {
    let exists: bool = c.query_row("SELECT EXISTS (SELECT 1 FROM devices WHERE id = ?1)", [device], |r| r.get(0))?;
    if !exists {
        return Err(StorageError::NoSuchDevice);
    }
    c.execute("DELETE FROM enrolment_codes WHERE device = ?1 AND used_at IS NULL", [device])?;
    c.execute(
        "INSERT INTO enrolment_codes (code_hash, device, expires_at) VALUES (?1, ?2, ?3)",
        params![&code_hash[..], device, expires_at],
    )?;
    Ok(())
}

/// Marks a usable code used by `key` and returns its device; in the writer's transaction, so a
/// code is used by one key however many present it at once.
pub(super) fn redeem(c: &Connection, code_hash: &[u8; 32], now: i64, key: &[u8; 32]) -> StorageResult<Option<Device>> {
    let device: Option<String> = c
        .query_row(
            "UPDATE enrolment_codes SET used_at = COALESCE(used_at, ?2), used_by_key = ?3
             WHERE code_hash = ?1 AND (used_at IS NULL OR used_by_key = ?3) AND expires_at > ?2
               AND device IN (SELECT id FROM devices WHERE revoked_at IS NULL)
             RETURNING device",
            params![&code_hash[..], now, &key[..]],
            |r| r.get(0),
        )
        .optional()?;
    let Some(device) = device else {
        return Ok(None);
    };
    let sql = format!("SELECT {COLUMNS} FROM devices WHERE id = ?1");
    Ok(Some(c.query_row(&sql, [device], device_row)?))
}
