//! Admission: what a request may hold in memory, decided before it holds it, so that no mix of
//! clients takes the server past its budget.
//!
//! - **Bodies** reserve their declared length (or the route's cap when none is declared) from the
//!   request budget before a byte is read; past the budget the answer is `503` with `Retry-After`,
//!   the body unread. A big body may not take the budget's last quarter, so that ordinary syncs and
//!   photo chunks still get in while big uploads hold the rest.
//! - **Work** (a body inflated and decoded, a reply built, a photo read) reserves from a second
//!   budget, waiting its turn: its body is already read and reserved, and the two budgets never
//!   wait on each other.
//! - **Devices** have at most a few requests at once; more is `429` with `Retry-After`.
//! - A body that does not arrive within the body read timeout is `408`.
//!
//! Reservations are released when dropped, whatever way the request ends.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use axum::Json;
use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use http_body_util::BodyExt;
use serde_json::json;
use tokio::sync::{Semaphore, SemaphorePermit};

use crate::config::ServerConfig;
use crate::error::ApiError;

/// What a refused client is told to wait before trying again.
const RETRY_AFTER_SECONDS: u64 = 1;

/// Bodies over this are big uploads, larger than any sync request the device's client sends (its
/// batches are bounded before compression to less): they leave the budget's last quarter free.
const BULK_BODY_BYTES: usize = 1 << 20;

/// A sync message may inflate to at most this many times its compressed body (and at least
/// [`MIN_INFLATED_BYTES`], whatever the body), so that what a request will hold is known from its
/// body before it is inflated. Real messages stay far below; a compression bomb does not.
const MAX_INFLATION: usize = 32;
const MIN_INFLATED_BYTES: usize = 1 << 20;

/// Copies of an inflated message alive at once while it is decoded: the message, the changes
/// rebuilt from it, and automerge's decoded form of them.
const DECODED_COPIES: usize = 3;

/// Why a request was not served: one of the server's errors, or admission's refusal.
#[derive(Debug)]
pub enum Refusal {
    /// The request budget is spent: `503`.
    Busy(String),
    /// The device has its most requests in flight: `429`.
    TooMany(String),
    /// The body did not arrive in time: `408`.
    Timeout(String),
    Api(ApiError),
}

impl From<ApiError> for Refusal {
    fn from(e: ApiError) -> Self {
        Refusal::Api(e)
    }
}

impl Refusal {
    pub fn kind(&self) -> &'static str {
        match self {
            Refusal::Busy(_) => "busy",
            Refusal::TooMany(_) => "too_many_requests",
            Refusal::Timeout(_) => "timeout",
            Refusal::Api(e) => e.kind(),
        }
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        let kind = self.kind();
        let (status, message) = match self {
            Refusal::Busy(m) => (StatusCode::SERVICE_UNAVAILABLE, m),
            Refusal::TooMany(m) => (StatusCode::TOO_MANY_REQUESTS, m),
            Refusal::Timeout(m) => (StatusCode::REQUEST_TIMEOUT, m),
            Refusal::Api(e) => return e.into_response(),
        };
        let mut response = (status, Json(json!({ "error": { "kind": kind, "message": message } }))).into_response();
        if status != StatusCode::REQUEST_TIMEOUT {
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(RETRY_AFTER_SECONDS));
        }
        response
    }
}

/// The server's budgets and the requests each device has in flight.
#[derive(Debug)]
pub struct Admission {
    body_limit: usize,
    bodies_in_use: Mutex<usize>,
    /// Permits are KiB, so that a budget of gibibytes fits a semaphore's count.
    work: Semaphore,
    work_kib: usize,
    per_device: usize,
    devices: Mutex<HashMap<String, usize>>,
    body_read_timeout: Duration,
}

/// Part of the request budget, held by a body; returned on drop.
#[derive(Debug)]
pub struct BodyHold<'a> {
    admission: &'a Admission,
    bytes: usize,
}

/// Part of the work budget; returned on drop.
pub type WorkHold<'a> = SemaphorePermit<'a>;

/// One of a device's request slots; returned on drop.
#[derive(Debug)]
pub struct DeviceSlot<'a> {
    admission: &'a Admission,
    device: String,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // Counters stay consistent whatever panicked while holding them: every update is one statement.
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Admission {
    pub fn new(config: &ServerConfig) -> Self {
        let work_kib = (config.work_budget_bytes >> 10).clamp(1, Semaphore::MAX_PERMITS);
        Self {
            body_limit: config.request_budget_bytes,
            bodies_in_use: Mutex::new(0),
            work: Semaphore::new(work_kib),
            work_kib,
            per_device: config.device_concurrency.max(1),
            devices: Mutex::new(HashMap::new()),
            body_read_timeout: config.body_read_timeout,
        }
    }

    /// Bytes of the request budget not held by a body.
    pub fn body_bytes_free(&self) -> usize {
        self.body_limit.saturating_sub(*lock(&self.bodies_in_use))
    }

    /// Bytes of the work budget not held.
    pub fn work_bytes_free(&self) -> usize {
        self.work.available_permits() << 10
    }

    /// A request slot of `device`, or `429` when it has all of them in flight.
    pub fn device(&self, device: &str) -> Result<DeviceSlot<'_>, Refusal> {
        let mut devices = lock(&self.devices);
        let n = devices.entry(device.to_string()).or_default();
        if *n >= self.per_device {
            return Err(Refusal::TooMany(format!(
                "this device has {} requests in flight; wait for one to finish",
                self.per_device
            )));
        }
        *n += 1;
        Ok(DeviceSlot { admission: self, device: device.to_string() })
    }

    fn reserve_body(&self, bytes: usize) -> Result<BodyHold<'_>, Refusal> {
        let keep_free = if bytes > BULK_BODY_BYTES { self.body_limit / 4 } else { 0 };
        let mut in_use = lock(&self.bodies_in_use);
        if in_use.saturating_add(bytes).saturating_add(keep_free) > self.body_limit {
            return Err(Refusal::Busy("the server is receiving as much as it can hold; try again shortly".into()));
        }
        *in_use += bytes;
        Ok(BodyHold { admission: self, bytes })
    }

    /// Reads a request body of at most `limit` bytes into memory reserved for it first. A declared
    /// length over `limit` is `413` and one over the budget `503`, both before a byte is read; a
    /// body that does not arrive within the body read timeout is `408`.
    pub async fn read_body(
        &self,
        headers: &HeaderMap,
        body: Body,
        limit: usize,
    ) -> Result<(Vec<u8>, BodyHold<'_>), Refusal> {
        let too_large = || ApiError::TooLarge(format!("the request body is over {} KB", limit >> 10));
        let declared =
            headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|n| n > limit as u64) {
            return Err(too_large().into());
        }
        let expected = declared.map_or(limit, |n| n as usize);
        let hold = self.reserve_body(expected)?;
        let read = async {
            let mut body = body;
            let mut out = Vec::with_capacity(expected);
            while let Some(frame) = body.frame().await {
                let frame = frame.map_err(|_| ApiError::Malformed("the request body was cut off".into()))?;
                if let Ok(data) = frame.into_data() {
                    if out.len() + data.len() > limit {
                        return Err(too_large());
                    }
                    out.extend_from_slice(&data);
                }
            }
            Ok(out)
        };
        match tokio::time::timeout(self.body_read_timeout, read).await {
            Ok(Ok(bytes)) => Ok((bytes, hold)),
            Ok(Err(e)) => Err(e.into()),
            Err(_) => Err(Refusal::Timeout(format!(
                "the request body did not arrive within {} s",
                self.body_read_timeout.as_secs()
            ))),
        }
    }

    /// Waits for `bytes` of the work budget (at most all of it).
    pub async fn work(&self, bytes: usize) -> Result<WorkHold<'_>, Refusal> {
        let kib = bytes.div_ceil(1 << 10).clamp(1, self.work_kib);
        let kib = u32::try_from(kib).unwrap_or(u32::MAX);
        self.work.acquire_many(kib).await.map_err(|_| Refusal::Busy("the server is shutting down".into()))
    }
}

/// What a sync request whose body is `body_len` bytes may inflate to, and the work it reserves for
/// that and for its reply.
pub fn exchange_cost(config: &ServerConfig, body_len: usize) -> (usize, usize) {
    let inflated = body_len.saturating_mul(MAX_INFLATION).max(MIN_INFLATED_BYTES).min(config.wire.max_message_bytes);
    (inflated, inflated.saturating_mul(DECODED_COPIES).saturating_add(config.reply_max_bytes))
}

impl Drop for BodyHold<'_> {
    fn drop(&mut self) {
        let mut in_use = lock(&self.admission.bodies_in_use);
        *in_use = in_use.saturating_sub(self.bytes);
    }
}

impl Drop for DeviceSlot<'_> {
    fn drop(&mut self) {
        let mut devices = lock(&self.admission.devices);
        if let Some(n) = devices.get_mut(&self.device) {
            *n -= 1;
            if *n == 0 {
                devices.remove(&self.device);
            }
        }
    }
}
