//! The HTTP surface: `/v1/sync`, `/v1/enrol`, the photo endpoints, `/healthz` and `/metrics`.
//! Handlers only translate; storage work runs on the blocking pool so a slow disk never stalls the
//! async threads. Logs carry the device id, counts, sizes, durations and error kinds — never
//! personal data. What a request may hold is admitted first (see `admission`): a device's slot, then
//! its body's bytes, then the work on it.

use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Instant;

use axum::Router;
use axum::body::Body;
use axum::extract::rejection::QueryRejection;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use gridbook_core::sync::wire;
use serde::Deserialize;
use tower_http::catch_panic::CatchPanicLayer;

use crate::admission::{Refusal, exchange_cost};
use crate::enrol::Credential;
use crate::error::{ApiError, ApiResult};
use crate::storage::Device;
use crate::{Shared, auth, enrol, exchange, photos};

pub fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/v1/sync", post(sync))
        .route("/v1/enrol", post(enrol))
        .route("/v1/photos/{sha}/status", get(photo_status))
        .route("/v1/photos/{sha}", get(photo_get).put(photo_put))
        .route("/healthz", get(|| async { "ok" }))
        .route("/metrics", get(metrics))
        // Bodies are read with our own limits, so that refusals carry the JSON error.
        .layer(DefaultBodyLimit::disable())
        .layer(CatchPanicLayer::custom(|_| ApiError::Internal("a request handler failed".into()).into_response()))
        .with_state(shared)
}

/// Runs `f` on the blocking pool, at most [`crate::STORAGE_CONCURRENCY`] at once: past that, requests
/// wait here, holding only their (small, already read) bodies, instead of each holding a thread and
/// a database connection. A panic in `f` is an internal error, not a dead server.
async fn blocking<R: Send + 'static>(
    shared: &Arc<Shared>,
    f: impl FnOnce(&Shared) -> ApiResult<R> + Send + 'static,
) -> ApiResult<R> {
    let _permit = shared.gate.acquire().await.map_err(|_| ApiError::Internal("the server is shutting down".into()))?;
    let shared = shared.clone();
    tokio::task::spawn_blocking(move || f(&shared)).await?
}

/// The device behind the request's token, checked before its body is read.
async fn device(shared: &Arc<Shared>, headers: &HeaderMap) -> ApiResult<Device> {
    let headers = headers.clone();
    blocking(shared, move |s| auth::authenticate(s.storage.as_ref(), &headers)).await
}

fn fail(shared: &Shared, route: &'static str, e: Refusal) -> Response {
    shared.metrics.error(e.kind());
    tracing::info!(route, kind = e.kind(), "request refused");
    e.into_response()
}

async fn sync(State(shared): State<Arc<Shared>>, headers: HeaderMap, raw: Body) -> Response {
    let started = Instant::now();
    let outcome = async {
        let device = device(&shared, &headers).await?;
        let _slot = shared.admission.device(&device.id)?;
        let (bytes, _body) = shared.admission.read_body(&headers, raw, shared.config.max_body_bytes).await?;
        let (inflated, cost) = exchange_cost(&shared.config, bytes.len());
        let _work = shared.admission.work(cost).await?;
        // This request may inflate only as far as the work it reserved.
        let mut config = shared.config.clone();
        config.wire.max_message_bytes = inflated;
        let actor = headers.get("x-gridbook-actor").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
        let done = blocking(&shared, move |s| {
            let (reply, outcome) = exchange::run(s.storage.as_ref(), &config, &s.master, &device, &actor, &bytes)?;
            // Told with every answer, once what it sent is stored: the store wipes when it has
            // nothing more to send.
            let wipe = device.revoked_as.filter(|_| device.revoked_at.is_some());
            let wipe = wipe.map(|reason| auth::wipe_order(s.storage.as_ref(), &device, reason));
            Ok((device.id, bytes.len(), reply, outcome, wipe))
        })
        .await?;
        Ok::<_, Refusal>(done)
    }
    .await;
    match outcome {
        Ok((device, bytes_in, reply, outcome, wipe)) => {
            let m = &shared.metrics;
            m.bytes_in.fetch_add(bytes_in as u64, Relaxed);
            m.bytes_out.fetch_add(reply.len() as u64, Relaxed);
            m.changes_stored.fetch_add(outcome.changes_stored as u64, Relaxed);
            m.relayed_skipped.fetch_add(outcome.relayed_skipped as u64, Relaxed);
            m.docs_refused.fetch_add(outcome.docs_refused as u64, Relaxed);
            let seconds = started.elapsed().as_secs_f64();
            m.sync_done(seconds);
            tracing::info!(
                device = %device,
                docs_in = outcome.docs_in,
                stored = outcome.changes_stored,
                refused = outcome.docs_refused,
                relayed_skipped = outcome.relayed_skipped,
                changes_out = outcome.changes_out,
                bytes_in,
                bytes_out = reply.len(),
                ms = (seconds * 1000.0) as u64,
                "sync"
            );
            let codec = wire::Codec::of(&reply);
            let mut response = reply.into_response();
            let h = response.headers_mut();
            h.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/x-gridbook-sync"));
            if let Some(codec) = codec {
                h.insert(header::CONTENT_ENCODING, HeaderValue::from_static(codec.content_encoding()));
            }
            if let Some(value) = wipe.and_then(|order| HeaderValue::from_str(&order.header_value()).ok()) {
                h.insert(wire::WIPE_HEADER, value);
            }
            response
        }
        Err(e) => fail(&shared, "sync", e),
    }
}

/// The slot key of enrolments by code, which have no device until their code is used: they share
/// one device's slots, so that guessing codes cannot take the storage from syncs. No device's id
/// (a UUID) has spaces.
const ENROLMENT_BY_CODE: &str = "enrolment by code";

async fn enrol(State(shared): State<Arc<Shared>>, headers: HeaderMap, raw: Body) -> Response {
    let outcome = async {
        // Whether a code or the device's token vouches for the store is in the body, which is read
        // first: at most a few KiB, reserved like any other.
        let (bytes, _body) = shared.admission.read_body(&headers, raw, enrol::MAX_BODY_BYTES).await?;
        let request = enrol::Request::parse(&bytes)?;
        let (credential, slot, by) = match request.code() {
            Some(code) => (Credential::Code(code), ENROLMENT_BY_CODE.to_string(), "code"),
            None => {
                let device = device(&shared, &headers).await?;
                let id = device.id.clone();
                (Credential::Token(device), id, "token")
            }
        };
        let _slot = shared.admission.device(&slot)?;
        let _work = shared.admission.work(enrol::WORK_BYTES).await?;
        let now = chrono::Utc::now().timestamp_millis();
        let (device, enrolled, grids) =
            blocking(&shared, move |s| enrol::enrol(s.storage.as_ref(), credential, &request, now)).await?;
        Ok::<_, Refusal>((device, enrolled, grids, by))
    }
    .await;
    match outcome {
        Ok((device, enrolled, grids, by)) => {
            tracing::info!(device = %device.id, role = device.role.as_str(), by, grids, "enrolled");
            axum::Json(enrolled).into_response()
        }
        Err(e) => fail(&shared, "enrol", e),
    }
}

/// The event a photo request names, `?event=e/{grid}/{event}`: the one an upload is for, or the one
/// a reader reaches the photo through.
#[derive(Deserialize)]
struct ForEvent {
    event: Option<String>,
}

impl ForEvent {
    fn parse(at: Result<Query<ForEvent>, QueryRejection>) -> ApiResult<Option<gridbook_core::DocId>> {
        let Query(at) =
            at.map_err(|_| ApiError::Malformed("a photo request names at most ?event=e/{grid}/{event}".into()))?;
        at.event.as_deref().map(photos::parse_event).transpose()
    }
}

async fn photo_status(
    State(shared): State<Arc<Shared>>,
    Path(sha): Path<String>,
    at: Result<Query<ForEvent>, QueryRejection>,
    headers: HeaderMap,
) -> Response {
    let result = async {
        let event = ForEvent::parse(at)?;
        let device = device(&shared, &headers).await?;
        // A retired device may still ask how much of its own upload arrived, not read.
        let device = if event.is_some() { device } else { auth::receiving(device)? };
        let _slot = shared.admission.device(&device.id)?;
        let status = blocking(&shared, move |s| {
            let storage = s.storage.as_ref();
            // With an event, the uploader's view of its own copy; without, a reader's.
            match &event {
                Some(event) => photos::upload_status(storage, &s.photos, &device, &sha, event),
                None => photos::read_status(storage, &s.photos, &device, &sha, None),
            }
        })
        .await?;
        Ok::<_, Refusal>(status)
    }
    .await;
    match result {
        Ok(status) => axum::Json(status).into_response(),
        Err(e) => fail(&shared, "photo_status", e),
    }
}

#[derive(Deserialize)]
struct ChunkAt {
    event: String,
    offset: u64,
    total: u64,
}

async fn photo_put(
    State(shared): State<Arc<Shared>>,
    Path(sha): Path<String>,
    at: Result<Query<ChunkAt>, QueryRejection>,
    headers: HeaderMap,
    raw: Body,
) -> Response {
    let result = async {
        let Query(at) =
            at.map_err(|_| ApiError::Malformed("a photo chunk needs ?event=e/{grid}/{event}&offset=N&total=T".into()))?;
        let event = photos::parse_event(&at.event)?;
        let device = device(&shared, &headers).await?;
        let _slot = shared.admission.device(&device.id)?;
        if at.total > shared.config.max_photo_bytes {
            return Err(Refusal::from(ApiError::TooLarge(format!(
                "a photo may be at most {} MB",
                shared.config.max_photo_bytes >> 20
            ))));
        }
        let (chunk, _body) = shared.admission.read_body(&headers, raw, shared.config.max_chunk_bytes).await?;
        let done = blocking(&shared, move |s| {
            let at_bytes = (at.offset, at.total);
            let status = photos::upload(s.storage.as_ref(), &s.photos, &device, &sha, &event, at_bytes, &chunk)?;
            Ok((status, chunk.len(), device.id))
        })
        .await?;
        Ok::<_, Refusal>(done)
    }
    .await;
    match result {
        Ok((status, n, device)) => {
            shared.metrics.photo_bytes_in.fetch_add(n as u64, Relaxed);
            tracing::debug!(device = %device, bytes = n, complete = status.complete, "photo chunk");
            axum::Json(status).into_response()
        }
        Err(e) => fail(&shared, "photo_put", e),
    }
}

async fn photo_get(
    State(shared): State<Arc<Shared>>,
    Path(sha): Path<String>,
    at: Result<Query<ForEvent>, QueryRejection>,
    headers: HeaderMap,
) -> Response {
    let result = async {
        let event = ForEvent::parse(at)?;
        let device = auth::receiving(device(&shared, &headers).await?)?;
        let _slot = shared.admission.device(&device.id)?;
        // The photo is read whole into memory: as large as a photo may be.
        let _work = shared.admission.work(usize::try_from(shared.config.max_photo_bytes).unwrap_or(usize::MAX)).await?;
        let photo = blocking(&shared, move |s| {
            photos::authorise_read(s.storage.as_ref(), &device, &sha, event.as_ref())?;
            s.photos.read(&sha)
        })
        .await?;
        Ok::<_, Refusal>(photo)
    }
    .await;
    match result {
        Ok((bytes, kind)) => {
            shared.metrics.photo_bytes_out.fetch_add(bytes.len() as u64, Relaxed);
            (StatusCode::OK, [(header::CONTENT_TYPE, kind)], bytes).into_response()
        }
        Err(e) => fail(&shared, "photo_get", e),
    }
}

async fn metrics(State(shared): State<Arc<Shared>>) -> impl IntoResponse {
    let mut text = shared.metrics.render();
    let admission = &shared.admission;
    text.push_str(&format!(
        "# TYPE gridbook_request_budget_free_bytes gauge\ngridbook_request_budget_free_bytes {}\n\
         # TYPE gridbook_work_budget_free_bytes gauge\ngridbook_work_budget_free_bytes {}\n",
        admission.body_bytes_free(),
        admission.work_bytes_free()
    ));
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], text)
}
