//! The SQLite backend's devices: registration, lookup by token, revocation, and the actors bound
//! to each device.

use rusqlite::{Connection, OptionalExtension, params};

use crate::storage::{Device, Role, StorageError, StorageResult};

const COLUMNS: &str = "id, name, role, grids, village, department, created_at, revoked_at";

fn device_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Device> {
    let role: String = r.get(2)?;
    let grids: String = r.get(3)?;
    Ok(Device {
        id: r.get(0)?,
        name: r.get(1)?,
        role: Role::parse(&role).unwrap_or(Role::GridMember),
        grids: serde_json::from_str(&grids).unwrap_or_default(),
        village: r.get(4)?,
        department: r.get(5)?,
        created_at: r.get(6)?,
        revoked_at: r.get(7)?,
    })
}

pub(super) fn add(c: &Connection, d: &Device, token_hash: &[u8; 32]) -> StorageResult<()> {
    let taken: bool = c.query_row("SELECT EXISTS (SELECT 1 FROM devices WHERE name = ?1)", [&d.name], |r| r.get(0))?;
    if taken {
        return Err(StorageError::NameTaken);
    }
    c.execute(
        "INSERT INTO devices (id, name, role, grids, village, department, token_hash, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![
            d.id,
            d.name,
            d.role.as_str(),
            serde_json::to_string(&d.grids).unwrap_or_else(|_| "[]".into()),
            d.village,
            d.department,
            &token_hash[..],
            d.created_at
        ],
    )?;
    Ok(())
}

pub(super) fn all(c: &Connection) -> StorageResult<Vec<Device>> {
    let mut stmt = c.prepare(&format!("SELECT {COLUMNS} FROM devices ORDER BY created_at, name"))?;
    Ok(stmt.query_map([], device_row)?.collect::<rusqlite::Result<_>>()?)
}

pub(super) fn by_token(c: &Connection, token_hash: &[u8; 32]) -> StorageResult<Option<Device>> {
    let sql = format!("SELECT {COLUMNS} FROM devices WHERE token_hash = ?1");
    Ok(c.prepare_cached(&sql)?.query_row([&token_hash[..]], device_row).optional()?)
}

/// Revokes by name or id, keeping the first revocation's time.
pub(super) fn revoke(c: &Connection, name_or_id: &str, at: i64) -> StorageResult<()> {
    let n = c.execute(
        "UPDATE devices SET revoked_at = COALESCE(revoked_at, ?2) WHERE name = ?1 OR id = ?1",
        params![name_or_id, at],
    )?;
    if n == 0 {
        return Err(StorageError::NoSuchDevice);
    }
    Ok(())
}

pub(super) fn actor_owner(c: &Connection, actor: &[u8]) -> StorageResult<Option<(String, bool)>> {
    let sql = "SELECT d.id, d.revoked_at IS NOT NULL FROM actors a JOIN devices d ON d.id = a.device
               WHERE a.actor = ?1";
    Ok(c.prepare_cached(sql)?.query_row([actor], |r| Ok((r.get(0)?, r.get(1)?))).optional()?)
}

/// Binds `actor` to `device` unless it is bound already; refused if it is bound to another device.
pub(super) fn bind_actor(c: &Connection, actor: &[u8], device: &str) -> StorageResult<()> {
    c.prepare_cached("INSERT OR IGNORE INTO actors (actor, device) VALUES (?1, ?2)")?
        .execute(params![actor, device])?;
    let owner: String =
        c.prepare_cached("SELECT device FROM actors WHERE actor = ?1")?.query_row([actor], |r| r.get(0))?;
    // Two devices presenting one actor at once: the first commit wins, the second is refused.
    if owner != device {
        return Err(StorageError::ActorTaken);
    }
    Ok(())
}
