//! Photos over HTTP: uploads of the photos taken here, each for the events that carry it, in chunks
//! that resume where a dropped connection left them, and fetches of the photos of events in scope.
//! The server lets a photo be read only through an event it was uploaded for, so every request
//! names its event (`e/{grid}/{event}`); this device knows it from its own events.

use std::collections::HashSet;

use reqwest::StatusCode;

use super::retry::{Attempt, retrying};
use super::{PhotoStatus, Remote, SyncOptions, SyncProgress, SyncReport, checked, network, read_body};
use crate::error::{Error, Result};
use crate::ids::{DocId, EventId, GridId};
use crate::store::Store;

impl Remote {
    async fn photo_status(&self, sha: &str, event: &str) -> Result<PhotoStatus> {
        retrying(|| self.photo_status_once(sha, event)).await
    }

    async fn photo_status_once(&self, sha: &str, event: &str) -> Attempt<PhotoStatus> {
        let response = self
            .http
            .get(format!("{}/v1/photos/{sha}/status?event={event}", self.base))
            .bearer_auth(&self.token)
            .send()
            .await
            .map_err(network)?;
        photo_status(response, sha).await
    }

    async fn put_chunk(&self, sha: &str, event: &str, at: (u64, u64), chunk: &[u8]) -> Result<PhotoStatus> {
        retrying(|| self.put_chunk_once(sha, event, at, chunk.to_vec())).await
    }

    async fn put_chunk_once(&self, sha: &str, event: &str, at: (u64, u64), chunk: Vec<u8>) -> Attempt<PhotoStatus> {
        // An event's name (`e/{grid}/{event}`, two UUIDs) needs no escaping in a query.
        let (offset, total) = at;
        let response = self
            .http
            .put(format!("{}/v1/photos/{sha}?event={event}&offset={offset}&total={total}", self.base))
            .bearer_auth(&self.token)
            .header(reqwest::header::CONTENT_TYPE, "application/octet-stream")
            .body(chunk)
            .send()
            .await
            .map_err(network)?;
        if response.status() == StatusCode::CONFLICT {
            // The server has a different amount than we thought (an earlier chunk did arrive): ask.
            return Ok(self.photo_status(sha, event).await?);
        }
        photo_status(response, sha).await
    }

    async fn get_photo(&self, sha: &str, event: Option<&str>, max: usize) -> Result<Vec<u8>> {
        retrying(|| self.get_photo_once(sha, event, max)).await
    }

    async fn get_photo_once(&self, sha: &str, event: Option<&str>, max: usize) -> Attempt<Vec<u8>> {
        let query = event.map(|e| format!("?event={e}")).unwrap_or_default();
        let request = self.http.get(format!("{}/v1/photos/{sha}{query}", self.base));
        let response = request.bearer_auth(&self.token).send().await.map_err(network)?;
        if response.status() == StatusCode::NOT_FOUND {
            // Not uploaded yet (records-only syncs over 2G leave photos for Wi-Fi), or not this
            // device's to see: the server answers both alike. The app shows "not yet".
            return Err(Error::not_found("photo on the server", sha).into());
        }
        Ok(read_body(checked(response).await?, max).await?)
    }
}

/// A photo status answer; `404` is [`Error::NotFound`]: the server does not (yet) know the photo
/// for that event.
async fn photo_status(response: reqwest::Response, sha: &str) -> Attempt<PhotoStatus> {
    if response.status() == StatusCode::NOT_FOUND {
        return Err(Error::not_found("photo on the server", sha).into());
    }
    let body = read_body(checked(response).await?, 64 << 10).await?;
    Ok(serde_json::from_slice(&body).map_err(|_| Error::Protocol("unreadable photo status".into()))?)
}

impl Store {
    /// The events here that carry photo `sha`, as the server names them (`e/{grid}/{event}`).
    fn photo_events(&self, sha: &str) -> Result<Vec<String>> {
        let rows: Vec<(String, String)> = self.read(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT DISTINCT json_extract(e.record, '$.grid_id'), json_extract(e.record, '$.id')
                 FROM events e, json_each(e.record, '$.photos') p
                 WHERE json_extract(p.value, '$.sha256') = ?1 ORDER BY 1, 2",
            )?;
            let rows = stmt.query_map([sha], |r| Ok((r.get(0)?, r.get(1)?)))?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })?;
        let mut events = Vec::with_capacity(rows.len());
        for (grid, id) in rows {
            let grid: GridId = grid.parse()?;
            let id: EventId = id.parse()?;
            events.push(DocId::event(grid, id).to_string());
        }
        Ok(events)
    }

    pub(super) async fn upload_photos(
        &self,
        remote: &Remote,
        options: &SyncOptions,
        progress: &(dyn Fn(SyncProgress) + Send + Sync),
        report: &mut SyncReport,
    ) -> Result<()> {
        let pending = self.pending_photos()?;
        // An event the server refused is not there to upload a photo for: asking would only be
        // answered 404, every sync, until the user discards the event or sends it again.
        let refused: HashSet<String> = self.refused_docs()?.into_iter().map(|r| r.doc).collect();
        let total: u64 = pending.iter().map(|(_, bytes)| bytes).sum();
        let mut sent = 0;
        for (sha, _) in pending {
            let bytes = match self.photo(&sha) {
                Ok(Some(bytes)) => bytes,
                // Recorded but its file is gone (cleared by the user), or damaged past reading:
                // nothing to send, ever, and no reason to hold back the photos after it.
                Ok(None) => {
                    self.mark_photo_uploaded(&sha)?;
                    continue;
                }
                Err(e @ Error::PhotoDamaged { .. }) => {
                    tracing::warn!(error = %e, "a damaged photo is not uploaded");
                    self.mark_photo_uploaded(&sha)?;
                    continue;
                }
                Err(e) => return Err(e),
            };
            let len = bytes.len() as u64;
            // A photo no event carries yet stays waiting for the event it is taken for.
            let mut events = self.photo_events(&sha)?;
            events.retain(|event| !refused.contains(event));
            let mut uploaded = !events.is_empty();
            for event in &events {
                let upload = Upload { remote, sha: &sha, event, bytes: &bytes, chunk: options.chunk };
                match upload.run(&mut |received| progress(SyncProgress::Photos { sent: sent + received, total })).await
                {
                    Ok(new_bytes) => report.photo_bytes_uploaded += new_bytes,
                    // The server does not know the event carries it yet (its records are still
                    // to come): the photo waits for the next sync.
                    Err(Error::NotFound { .. }) => uploaded = false,
                    Err(e) => return Err(e),
                }
            }
            if !uploaded {
                continue;
            }
            self.mark_photo_uploaded(&sha)?;
            report.photos_uploaded += 1;
            sent += len;
            progress(SyncProgress::Photos { sent, total });
        }
        Ok(())
    }

    /// The photo of an event in this device's scope, as [`Store::photo`] reads it: fetched from
    /// the server if it is not here, checked to be the photo asked for, and kept (sealed in an
    /// encrypted store); a photo already here is not fetched again.
    ///
    /// # Errors
    /// As [`Store::sync`]; [`Error::InvalidInput`] if `sha256` is not 64 hex digits;
    /// [`Error::NotFound`] if the server has no such photo for this device (not uploaded yet, or
    /// not this device's to see); [`Error::Protocol`] if the bytes are not the photo named;
    /// [`Error::NotAnImage`] if they are not a JPEG or PNG image; [`Error::PhotoDamaged`] if the
    /// copy here is damaged and the server has no other; as [`Store::photo`] if the copy here
    /// cannot be read; [`Error::Wiped`] if the server ordered this device wiped as lost, and it was.
    pub async fn fetch_photo(&self, remote: &Remote, sha256: &str) -> Result<Vec<u8>> {
        let sha = crate::photos::photo_name(sha256)?;
        // A damaged copy here is fetched again over; if the server has none, the damage is the answer.
        let missing = match self.photo(&sha) {
            Ok(Some(bytes)) => return Ok(bytes),
            Ok(None) => Error::not_found("photo on the server", &sha),
            Err(e @ Error::PhotoDamaged { .. }) => e,
            Err(e) => return Err(e),
        };
        let max = self.config.photos.max_input_bytes as usize;
        let events = self.photo_events(&sha)?;
        // Through each event here that carries it: the server lets it be read through those it was
        // uploaded for. With none here, the server still answers for any event in scope.
        for event in events.iter().map(|e| Some(e.as_str())).chain(events.is_empty().then_some(None)) {
            match remote.get_photo(&sha, event, max).await {
                Ok(bytes) => return self.keep_fetched_photo(&sha, &bytes).map(|()| bytes),
                Err(Error::NotFound { .. }) => {}
                // A lost phone is told at any contact, this one too.
                Err(Error::WipeOrdered(order)) => return Err(self.obey(order)),
                Err(e) => return Err(e),
            }
        }
        Err(missing)
    }
}

/// One photo's upload for one event, from where the server's copy ends.
struct Upload<'a> {
    remote: &'a Remote,
    sha: &'a str,
    event: &'a str,
    bytes: &'a [u8],
    chunk: usize,
}

impl Upload<'_> {
    /// Sends what the server lacks; returns how many bytes it took.
    async fn run(&self, progress: &mut (dyn FnMut(u64) + Send)) -> Result<u64> {
        let len = self.bytes.len() as u64;
        let mut status = self.remote.photo_status(self.sha, self.event).await?;
        let mut taken = 0;
        // Bounded: each pass either advances or fails with an error.
        let mut stalls = 0;
        while !status.complete {
            let offset = status.received.min(len);
            let end = (offset as usize + self.chunk.max(1)).min(self.bytes.len());
            let next =
                self.remote.put_chunk(self.sha, self.event, (offset, len), &self.bytes[offset as usize..end]).await?;
            if next.received <= status.received && !next.complete {
                stalls += 1;
                if stalls > 3 {
                    return Err(Error::Protocol("the server does not take the photo's chunks".into()));
                }
            } else {
                taken += next.received.saturating_sub(status.received);
            }
            status = next;
            progress(status.received.min(len));
        }
        Ok(taken)
    }
}
