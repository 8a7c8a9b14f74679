//! The SQLite backend's devices: registration, lookup by token, revocation, and the actors bound
//! to each device with the keys their stores enrolled.

use std::collections::{HashMap, HashSet};

use gridbook_core::sync::wire::Author;
use rusqlite::{Connection, OptionalExtension, params};

use crate::storage::{Device, Revocation, Role, StorageError, StorageResult};

pub(super) const COLUMNS: &str =
    "id, name, role, grids, village, department, holder, created_at, revoked_at, revoked_as";

pub(super) fn device_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Device> {
    let role: String = r.get(2)?;
    let grids: String = r.get(3)?;
    Ok(Device {
        id: r.get(0)?,
        name: r.get(1)?,
        role: Role::parse(&role).unwrap_or(Role::GridMember),
        grids: serde_json::from_str(&grids).unwrap_or_default(),
        village: r.get(4)?,
        department: r.get(5)?,
        holder: r.get(6)?,
        created_at: r.get(7)?,
        revoked_at: r.get(8)?,
        revoked_as: r.get::<_, Option<String>>(9)?.as_deref().and_then(Revocation::parse),
    })
}

pub(super) fn add(c: &Connection, d: &Device, token_hash: Option<&[u8; 32]>) -> StorageResult<()> {
    let taken: bool = c.query_row("SELECT EXISTS (SELECT 1 FROM devices WHERE name = ?1)", [&d.name], |r| r.get(0))?;
    if taken {
        return Err(StorageError::NameTaken);
    }
    c.execute(
        "INSERT INTO devices (id, name, role, grids, village, department, holder, token_hash, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        params![
            d.id,
            d.name,
            d.role.as_str(),
            serde_json::to_string(&d.grids).unwrap_or_else(|_| "[]".into()),
            d.village,
            d.department,
            d.holder,
            token_hash.map(|h| &h[..]),
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

pub(super) fn set_token(c: &Connection, device_id: &str, token_hash: &[u8; 32]) -> StorageResult<()> {
    let n = c.execute("UPDATE devices SET token_hash = ?2 WHERE id = ?1", params![device_id, &token_hash[..]])?;
    if n == 0 {
        return Err(StorageError::NoSuchDevice);
    }
    Ok(())
}

/// Revokes by name or id, keeping the first revocation's time; a lost device stays lost.
pub(super) fn revoke(c: &Connection, name_or_id: &str, at: i64, reason: Revocation) -> StorageResult<()> {
    let n = c.execute(
        "UPDATE devices SET revoked_at = COALESCE(revoked_at, ?2),
                revoked_as = CASE WHEN revoked_as = 'lost' THEN 'lost' ELSE ?3 END
         WHERE name = ?1 OR id = ?1",
        params![name_or_id, at, reason.as_str()],
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

/// Binds `actor` with its store's key to `device`: an actor keeps its device and its first key.
pub(super) fn bind_key(c: &Connection, device: &str, actor: &[u8], key: &[u8; 32]) -> StorageResult<()> {
    let exists: bool = c.query_row("SELECT EXISTS (SELECT 1 FROM devices WHERE id = ?1)", [device], |r| r.get(0))?;
    if !exists {
        return Err(StorageError::NoSuchDevice);
    }
    bind_actor(c, actor, device)?;
    let bound: Option<Vec<u8>> =
        c.query_row("SELECT public_key FROM actors WHERE actor = ?1", [actor], |r| r.get(0))?;
    match bound {
        None => {
            c.execute("UPDATE actors SET public_key = ?2 WHERE actor = ?1", params![actor, &key[..]])?;
            Ok(())
        }
        Some(bound) if bound == key => Ok(()),
        Some(_) => Err(StorageError::KeyTaken),
    }
}

pub(super) fn actor_key(c: &Connection, actor: &[u8]) -> StorageResult<Option<[u8; 32]>> {
    let sql = "SELECT public_key FROM actors WHERE actor = ?1";
    let key: Option<Option<Vec<u8>>> = c.prepare_cached(sql)?.query_row([actor], |r| r.get(0)).optional()?;
    // Only `bind_key` writes a key, always of 32 bytes.
    Ok(key.flatten().and_then(|k| k.try_into().ok()))
}

pub(super) fn enrolled_keys(c: &Connection) -> StorageResult<HashMap<String, u64>> {
    let sql = "SELECT device, COUNT(*) FROM actors WHERE public_key IS NOT NULL GROUP BY device";
    let mut stmt = c.prepare(sql)?;
    let counts = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))?;
    Ok(counts.map(|c| c.map(|(device, n)| (device, n.unsigned_abs()))).collect::<rusqlite::Result<_>>()?)
}

pub(super) fn authors(c: &Connection, actors: &[Vec<u8>]) -> StorageResult<Vec<Author>> {
    let mut stmt = c.prepare_cached(
        "SELECT d.id, d.name, d.holder, d.role, a.public_key FROM actors a JOIN devices d ON d.id = a.device
         WHERE a.actor = ?1",
    )?;
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for actor in actors.iter().filter(|a| seen.insert(a.as_slice())) {
        let found = stmt
            .query_row([actor], |r| {
                let role: String = r.get(3)?;
                Ok(Author {
                    actor: actor.clone(),
                    device_id: r.get(0)?,
                    device: r.get(1)?,
                    holder: r.get(2)?,
                    role: Role::parse(&role).unwrap_or(Role::GridMember).as_str().into(),
                    // Only `bind_key` writes a key, always of 32 bytes.
                    public_key: r.get::<_, Option<Vec<u8>>>(4)?.and_then(|k| k.try_into().ok()),
                })
            })
            .optional()?;
        out.extend(found);
    }
    Ok(out)
}
