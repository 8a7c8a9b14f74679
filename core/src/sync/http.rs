//! The sync client over HTTP to the district's server: rounds of the exchange until neither side
//! has more, then the photos the server lacks, in chunks that resume where a dropped connection
//! left them. The protocol is written down in `sync-server/PROTOCOL.md`.
//!
//! A busy server is asked again after the wait it names (see `retry`).

use std::time::Duration;

use reqwest::{Response, StatusCode, header};
use serde::{Deserialize, Serialize};

use self::retry::{Attempt, Failed, retrying};
use super::trust::Trust;
use super::wire::{self, Limits, SyncResponse, WIPE_HEADER, WipeOrder, WipeReason};
use crate::error::{Error, Result};
use crate::store::Store;

mod enrol;
mod photos;
mod retry;

/// How a sync behaves; the defaults suit a 2G link.
#[derive(Debug, Clone)]
pub struct SyncOptions {
    /// Largest batch of changes sent in one request, before compression.
    pub budget: usize,
    /// Size of one photo chunk: a dropped connection loses at most this much.
    pub chunk: usize,
    /// A sync stops after this many rounds and reports that more is waiting.
    pub max_rounds: usize,
    /// Longest wait for one request, including its body over a slow link.
    pub timeout: Duration,
    /// Upload photos too; an app may leave them for Wi-Fi and sync only records over 2G.
    pub photos: bool,
    /// The certificates an `https://` server must chain to.
    pub trust: Trust,
}

impl Default for SyncOptions {
    fn default() -> Self {
        Self {
            budget: 1 << 20,
            chunk: 64 << 10,
            max_rounds: 64,
            timeout: Duration::from_secs(120),
            photos: true,
            trust: Trust::default(),
        }
    }
}

/// What a sync did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SyncReport {
    pub round_trips: usize,
    pub changes_sent: usize,
    pub changes_received: usize,
    pub docs_changed: usize,
    /// Compressed bytes of sync messages, each way (photos not included).
    pub bytes_up: u64,
    pub bytes_down: u64,
    pub photos_uploaded: usize,
    pub photo_bytes_uploaded: u64,
    /// Erasures carried out on this store, and what went with them.
    pub erasure: super::ErasureReport,
    /// The round limit was reached with more waiting: sync again.
    pub incomplete: bool,
}

/// Progress, for a progress bar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SyncProgress {
    /// A round of the exchange finished.
    Round { round: usize, changes_sent: usize, changes_received: usize },
    /// Photo bytes sent so far out of all photo bytes waiting.
    Photos { sent: u64, total: u64 },
}

/// The district's sync server, as this device knows it.
#[derive(Debug, Clone)]
pub struct Remote {
    base: String,
    token: String,
    http: reqwest::Client,
}

#[derive(Deserialize)]
struct ErrorBody {
    error: ErrorDetail,
}

#[derive(Deserialize)]
struct ErrorDetail {
    kind: String,
    message: String,
}

#[derive(Deserialize)]
struct PhotoStatus {
    received: u64,
    complete: bool,
}

/// Largest sync reply this device reads.
const MAX_REPLY_BYTES: usize = 16 << 20;
const SYNC_CONTENT_TYPE: &str = "application/x-gridbook-sync";

impl Remote {
    /// A server at `url` (`https://…`, or `http://` on a trusted network), with this device's token.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for a URL that is not http(s), an empty token, or a district CA that
    /// is not a PEM certificate.
    pub fn new(url: &str, token: &str, options: &SyncOptions) -> Result<Self> {
        let base = url.trim().trim_end_matches('/').to_string();
        if !(base.starts_with("http://") || base.starts_with("https://")) {
            return Err(Error::invalid("server", "give the server's address as http(s)://host:port"));
        }
        if token.trim().is_empty() {
            return Err(Error::invalid("token", "this device has no token; ask the district centre for one"));
        }
        let builder = reqwest::Client::builder().timeout(options.timeout).connect_timeout(Duration::from_secs(20));
        let http = options.trust.client(builder)?;
        Ok(Self { base, token: token.trim().to_string(), http })
    }

    /// One round: the server's reply, and its order to wipe once everything is sent, if it gave one
    /// (a device retired).
    async fn exchange(&self, actor: &str, body: Vec<u8>) -> Result<(Vec<u8>, Option<WipeOrder>)> {
        retrying(|| self.exchange_once(actor, body.clone())).await
    }

    async fn exchange_once(&self, actor: &str, body: Vec<u8>) -> Attempt<(Vec<u8>, Option<WipeOrder>)> {
        let response = self
            .http
            .post(format!("{}/v1/sync", self.base))
            .bearer_auth(&self.token)
            .header("X-Gridbook-Actor", actor)
            .header(header::CONTENT_TYPE, SYNC_CONTENT_TYPE)
            .header(header::CONTENT_ENCODING, wire::Codec::Zstd.content_encoding())
            .body(body)
            .send()
            .await
            .map_err(network)?;
        let response = checked(response).await?;
        let order = wipe_order(&response).filter(|o| o.reason == WipeReason::Retired);
        Ok((read_body(response, MAX_REPLY_BYTES).await?, order))
    }
}

impl Store {
    /// Exchanges everything new with the server: this device's changes go up, the changes of others
    /// in its scope come down (query tables updated as they arrive), then the photos the server lacks
    /// go up. A sync cut off at any point loses and duplicates nothing; the next one completes it.
    ///
    /// # Errors
    /// [`Error::Network`] when the connection fails, [`Error::Unauthorized`] for a refused token,
    /// [`Error::Forbidden`] for the actor of another device, [`Error::Outdated`] when the server no
    /// longer serves this build's sync version, [`Error::Server`] and [`Error::Protocol`] when the
    /// server fails or answers nonsense. [`Error::Wiped`] when the server ordered this store wiped
    /// and it was: at once for a device revoked as lost (nothing of the request was stored), after
    /// every unsent change and photo is up for a device retired; the store is unusable from then
    /// on. The error is also kept for [`Store::sync_status`]. A
    /// document the server refused does not fail the sync: it is noted in
    /// [`SyncStatus::refused`](super::SyncStatus::refused), and its changes are held back.
    pub async fn sync(&self, remote: &Remote, options: &SyncOptions) -> Result<SyncReport> {
        self.sync_with_progress(remote, options, &|_| {}).await
    }

    /// [`Store::sync`], reporting progress as it goes.
    pub async fn sync_with_progress(
        &self,
        remote: &Remote,
        options: &SyncOptions,
        progress: &(dyn Fn(SyncProgress) + Send + Sync),
    ) -> Result<SyncReport> {
        let mut report = SyncReport::default();
        let result = async {
            let retired = self.exchange_rounds(remote, options, progress, &mut report).await?;
            // A retired device's photos go up whatever the app chose: nothing stays to send them later.
            if options.photos || retired.is_some() {
                self.upload_photos(remote, options, progress, &mut report).await?;
            }
            match retired {
                Some(order) => Err(self.obey(order)),
                None => Ok(()),
            }
        }
        .await;
        let result = match result {
            Err(Error::WipeOrdered(order)) => Err(self.obey(order)),
            other => other,
        };
        if let Err(Error::Wiped) = &result {
            tracing::warn!(rounds = report.round_trips, "store wiped on the server's order");
            return Err(Error::Wiped);
        }
        if let Err(e) = &result {
            // The status line is best effort: failing to note the error must not hide it.
            let _ = self.record_sync_error(&e.to_string());
            tracing::warn!(kind = e.kind().as_str(), rounds = report.round_trips, "sync failed");
        }
        result.map(|()| report)
    }

    /// The rounds of the exchange; the server's order to wipe if it gave one and every change this
    /// store had to send is up.
    async fn exchange_rounds(
        &self,
        remote: &Remote,
        options: &SyncOptions,
        progress: &(dyn Fn(SyncProgress) + Send + Sync),
        report: &mut SyncReport,
    ) -> Result<Option<WipeOrder>> {
        let actor = self.actor();
        let limits = Limits::default();
        // The server's key, to check what it vouches for, comes with the store's certificate.
        self.enrolled_with(remote).await?;
        for round in 1..=options.max_rounds.max(1) {
            let prepared = self.prepare_sync(options.budget)?;
            let body = wire::compress(&prepared.request.encode());
            report.bytes_up += body.len() as u64;
            let (reply, order) = remote.exchange(&actor, body).await?;
            report.bytes_down += reply.len() as u64;
            let message = wire::decompress(&reply, &limits).map_err(|e| Error::Protocol(e.to_string()))?;
            let response = SyncResponse::decode(&message, &limits).map_err(|e| Error::Protocol(e.to_string()))?;
            let done = self.finish_sync(&prepared, response)?;
            report.round_trips += 1;
            report.changes_sent += done.changes_sent;
            report.changes_received += done.merged.changes_applied;
            report.docs_changed += done.merged.docs_changed;
            report.erasure.add(done.erasure);
            progress(SyncProgress::Round {
                round,
                changes_sent: report.changes_sent,
                changes_received: report.changes_received,
            });
            if !done.again {
                return Ok(order);
            }
        }
        report.incomplete = true;
        Ok(None)
    }

    /// Wipes this store if `order` is signed by the server it enrolled with, for its own device;
    /// returns the error the sync ends with: [`Error::Wiped`], or [`Error::Unauthorized`] for an
    /// order from anyone else, which changes nothing.
    fn obey(&self, order: WipeOrder) -> Error {
        let enrolment = match self.enrolment() {
            Ok(enrolment) => enrolment,
            Err(e) => return e,
        };
        let ordered = enrolment.is_some_and(|e| order.verify(&e.server_key, &e.certificate.device_id));
        if !ordered {
            return Error::Unauthorized("an order to wipe this device that its district's server did not sign".into());
        }
        match self.wipe() {
            Ok(()) => Error::Wiped,
            Err(e) => {
                // The store is closed and marked all the same; its next open deletes what is left.
                tracing::warn!(kind = e.kind().as_str(), "a file of the wiped store could not be deleted");
                Error::Wiped
            }
        }
    }
}

/// The order a response carries in its header, if it reads.
fn wipe_order(response: &Response) -> Option<WipeOrder> {
    response.headers().get(WIPE_HEADER).and_then(|v| v.to_str().ok()).and_then(WipeOrder::parse)
}

async fn checked(response: Response) -> Attempt<Response> {
    let status = response.status();
    if status.is_success() {
        return Ok(response);
    }
    let retry_after = if matches!(status, StatusCode::SERVICE_UNAVAILABLE | StatusCode::TOO_MANY_REQUESTS) {
        response
            .headers()
            .get(header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs)
    } else {
        None
    };
    let order = wipe_order(&response).filter(|o| o.reason == WipeReason::Lost);
    let body = read_body(response, 64 << 10).await.unwrap_or_default();
    let detail = serde_json::from_slice::<ErrorBody>(&body).ok().map(|b| b.error);
    let message = detail.as_ref().map_or_else(|| status.to_string(), |d| d.message.clone());
    if status == StatusCode::UNAUTHORIZED
        && let Some(order) = order
    {
        return Err(Failed::from(Error::WipeOrdered(order)));
    }
    let error = match (status, detail.as_ref().map(|d| d.kind.as_str())) {
        (StatusCode::UNAUTHORIZED, _) | (_, Some("unauthorized")) => Error::Unauthorized(message),
        (StatusCode::FORBIDDEN, _) | (_, Some("forbidden")) => Error::Forbidden(message),
        (StatusCode::UPGRADE_REQUIRED, _) | (_, Some("outdated")) => Error::Outdated(message),
        (s, _) if s.is_server_error() || s == StatusCode::TOO_MANY_REQUESTS => Error::Server(message),
        _ => Error::Protocol(format!("the server refused the request ({status}): {message}")),
    };
    Err(Failed { error, retry_after })
}

/// Reads a body up to `max` bytes: a server (or whatever answers in its place) cannot make the
/// phone allocate without bound.
async fn read_body(mut response: Response, max: usize) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(network)? {
        if out.len() + chunk.len() > max {
            return Err(Error::Protocol("the server's answer is larger than this device accepts".into()));
        }
        out.extend_from_slice(&chunk);
    }
    Ok(out)
}

fn network(e: reqwest::Error) -> Error {
    // reqwest's own message is only "error sending request"; the cause (a refused certificate, a
    // reset connection) is in its sources. None carries a token or personal data, and the URL is
    // dropped.
    let e = e.without_url();
    let mut message = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    Error::Network(message)
}
