//! Documents the server refused. One document the server will not take (outside this device's
//! scope, changes it cannot read, a change this device's role may not make) must not stop the rest
//! from syncing, nor go up again at every sync: it is noted here, its changes are held back from
//! the outbox, and it waits for the user to discard it or to send it again. A document of a reply
//! that this store refused itself (a change not signed by its author, see `authorship`) is noted
//! here the same way.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;

use super::wire::Refusal;
use crate::db::write_tx;
use crate::docstore;
use crate::error::{Error, Result};
use crate::ids::DocId;
use crate::materialise;
use crate::model::millis;
use crate::store::{Inner, Store};

/// Why the server refused a document (or, [`RefusalReason::NotSigned`], this store refused what the
/// server sent of it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
pub enum RefusalReason {
    /// The document is outside what this device may write (another grid, another village).
    OutsideScope,
    /// Its changes could not be read or do not apply.
    Malformed,
    /// This device's role may not make the change (a grid member creating a grid, a grid moved to
    /// another village).
    NotAllowed,
    /// It writes into a resident or household that was erased (version 8).
    Erased,
    /// Another reason, or one this app is too old to know.
    Other,
    /// The server sent a change of it that its author did not sign (version 9): nothing of the
    /// document was applied from that reply. Found by this store, never sent by a server.
    NotSigned,
}

impl RefusalReason {
    /// The reasons a server sends.
    const WIRE: [RefusalReason; 5] = [
        RefusalReason::Other,
        RefusalReason::OutsideScope,
        RefusalReason::Malformed,
        RefusalReason::NotAllowed,
        RefusalReason::Erased,
    ];

    /// The reason's byte on the wire ([`RefusalReason::NotSigned`], which no server sends, as
    /// other).
    pub fn code(self) -> u8 {
        match self {
            RefusalReason::Other | RefusalReason::NotSigned => 0,
            RefusalReason::OutsideScope => 1,
            RefusalReason::Malformed => 2,
            RefusalReason::NotAllowed => 3,
            RefusalReason::Erased => 4,
        }
    }

    /// The reason of a byte on the wire; one a newer server added reads as [`RefusalReason::Other`].
    pub fn from_code(code: u8) -> Self {
        Self::WIRE.into_iter().find(|r| r.code() == code).unwrap_or(RefusalReason::Other)
    }

    /// The stable name, as in the store, the CLI's output and `PROTOCOL.md`.
    pub fn as_str(self) -> &'static str {
        match self {
            RefusalReason::OutsideScope => "outside_scope",
            RefusalReason::Malformed => "malformed",
            RefusalReason::NotAllowed => "not_allowed",
            RefusalReason::Erased => "erased",
            RefusalReason::Other => "other",
            RefusalReason::NotSigned => "not_signed",
        }
    }

    pub(crate) fn parse(text: &str) -> Self {
        Self::WIRE
            .into_iter()
            .chain([RefusalReason::NotSigned])
            .find(|r| r.as_str() == text)
            .unwrap_or(RefusalReason::Other)
    }
}

/// A local document the server refused: its changes are held back until the user discards it
/// ([`Store::discard_refused`]) or sends it again ([`Store::retry_refused`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct RefusedDoc {
    /// The document's name (`g/<grid>`, `h/<grid>/<household>`, …).
    pub doc: String,
    /// Why the server refused it.
    pub reason: RefusalReason,
    /// When the server first refused it.
    #[serde(with = "millis")]
    pub first_refused_at: DateTime<Utc>,
    /// When the server last refused it (a document sent again may be refused again).
    #[serde(with = "millis")]
    pub last_refused_at: DateTime<Utc>,
}

/// Notes the documents the server refused, in the caller's transaction: their unsent changes then
/// stay unsent, and no later request carries them.
pub(crate) fn record(conn: &Connection, refused: &[Refusal], now: DateTime<Utc>) -> Result<()> {
    let mut stmt = conn.prepare_cached(
        "INSERT INTO sync_refusals (doc, reason, first_refused_at, last_refused_at) VALUES (?1, ?2, ?3, ?3)
         ON CONFLICT (doc) DO UPDATE SET reason = excluded.reason, last_refused_at = excluded.last_refused_at",
    )?;
    for refusal in refused {
        stmt.execute(params![refusal.doc, refusal.reason.as_str(), now.timestamp_millis()])?;
    }
    Ok(())
}

/// Every refused document, by name.
pub(crate) fn list(conn: &Connection) -> Result<Vec<RefusedDoc>> {
    let mut stmt =
        conn.prepare_cached("SELECT doc, reason, first_refused_at, last_refused_at FROM sync_refusals ORDER BY doc")?;
    let time = |ms: i64| DateTime::from_timestamp_millis(ms).unwrap_or_default();
    let rows = stmt.query_map([], |r| {
        Ok(RefusedDoc {
            doc: r.get(0)?,
            reason: RefusalReason::parse(&r.get::<_, String>(1)?),
            first_refused_at: time(r.get(2)?),
            last_refused_at: time(r.get(3)?),
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

fn is_refused(conn: &Connection, doc: &str) -> Result<bool> {
    Ok(conn
        .prepare_cached("SELECT 1 FROM sync_refusals WHERE doc = ?1")?
        .query_row([doc], |_| Ok(()))
        .optional()?
        .is_some())
}

impl Store {
    /// The documents the server refused, by name (also in [`Store::sync_status`]).
    ///
    /// # Errors
    /// [`Error::Storage`] if the store cannot be read.
    pub fn refused_docs(&self) -> Result<Vec<RefusedDoc>> {
        self.read(list)
    }

    /// Drops what this store did to a refused document and the server never took: its changes
    /// waiting to go up, and any made on top of them. The document goes back to what the server
    /// acknowledged (a household edited in a way the server refused is the household as it was
    /// before the edit), with its records in every list and search; a document the server never
    /// had goes entirely. Other documents are untouched.
    ///
    /// # Errors
    /// [`Error::NotFound`] if `doc` is not a refused document; [`Error::InvalidInput`] for a name
    /// that is not a document's; [`Error::InvalidChanges`] if its stored changes cannot be read (it
    /// then stays as it was); [`Error::Storage`] if the store cannot be written.
    pub fn discard_refused(&self, doc: &str) -> Result<()> {
        let id: DocId = doc.parse()?;
        let key = id.to_string();
        let tz = self.config().timezone;
        let mut inner = self.lock()?;
        let Inner { conn, docs, .. } = &mut *inner;
        docs.evict(&id);
        write_tx(conn, |conn| {
            if !is_refused(conn, &key)? {
                return Err(Error::not_found("refused document", doc));
            }
            match docstore::load(conn, &id)? {
                Some(loaded) => {
                    materialise::forget(conn, &id, &loaded)?;
                    if let Some(left) = docstore::roll_back_unsent(conn, &key, &loaded)? {
                        materialise::refresh_all(conn, tz, &id, &left)?;
                    }
                }
                None => docstore::remove(conn, &key)?,
            }
            conn.execute("DELETE FROM sync_refusals WHERE doc = ?1", [&key])?;
            Ok(())
        })?;
        drop(inner);
        self.committed(&[]);
        Ok(())
    }

    /// Clears a document's refusal, so that the next sync sends its changes again (after the cause
    /// was put right on the server, say, a grid added to this device).
    ///
    /// # Errors
    /// [`Error::NotFound`] if `doc` is not a refused document; [`Error::Storage`] if the store
    /// cannot be written.
    pub fn retry_refused(&self, doc: &str) -> Result<()> {
        self.write(|conn| match conn.execute("DELETE FROM sync_refusals WHERE doc = ?1", [doc])? {
            0 => Err(Error::not_found("refused document", doc)),
            _ => Ok(()),
        })
    }
}
