//! The server's errors. Inside, rich variants; at the HTTP edge, a status and a JSON body
//! `{"error":{"kind","message"}}` with a stable kind the device maps to a typed error. Messages
//! never carry personal data: they name what was wrong, not the record it was wrong in.

use axum::Json;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use gridbook_core::sync::wire::{WIPE_HEADER, WipeOrder};
use serde_json::json;

use crate::storage::StorageError;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    Malformed(String),
    #[error("{0}")]
    TooLarge(String),
    #[error("the server has {received} bytes of this photo")]
    Conflict { received: u64 },
    #[error("{0}")]
    NotFound(String),
    /// A sync version older than the server serves: the app must be updated.
    #[error("{0}")]
    Outdated(String),
    #[error("the server failed: {0}")]
    Internal(String),
    /// A device revoked as lost: refused, and ordered to wipe (`401`, with the order in the
    /// `Gridbook-Wipe` header; kind `wipe`).
    #[error("this device was reported lost: its data is being wiped; ask the district centre")]
    Wipe(WipeOrder),
}

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    pub fn kind(&self) -> &'static str {
        match self {
            ApiError::Unauthorized(_) => "unauthorized",
            ApiError::Forbidden(_) => "forbidden",
            ApiError::Malformed(_) => "malformed",
            ApiError::TooLarge(_) => "too_large",
            ApiError::Conflict { .. } => "conflict",
            ApiError::NotFound(_) => "not_found",
            ApiError::Outdated(_) => "outdated",
            ApiError::Internal(_) => "internal",
            ApiError::Wipe(_) => "wipe",
        }
    }

    /// The refusal of an app whose sync version the server no longer serves, in words its user can
    /// act on.
    pub fn outdated() -> Self {
        ApiError::Outdated("this app is too old for the district's server: update the app".into())
    }

    fn status(&self) -> StatusCode {
        match self {
            ApiError::Unauthorized(_) | ApiError::Wipe(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::Malformed(_) => StatusCode::BAD_REQUEST,
            ApiError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::Conflict { .. } => StatusCode::CONFLICT,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Outdated(_) => StatusCode::UPGRADE_REQUIRED,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

/// The one place a storage failure becomes an HTTP error. A failure of the backend keeps its
/// causes in the message, for the engineer reading it; they name a table or a lock, never a record.
impl From<StorageError> for ApiError {
    fn from(e: StorageError) -> Self {
        let message = e.to_string();
        match e {
            StorageError::NameTaken => ApiError::Malformed(message),
            StorageError::ActorTaken | StorageError::KeyTaken => ApiError::Forbidden(message),
            StorageError::NoSuchDevice => ApiError::NotFound(message),
            StorageError::OtherDistrict { .. } | StorageError::NewerSchema { .. } | StorageError::Locked => {
                ApiError::Internal(message)
            }
            StorageError::Corrupt(_) | StorageError::Backend(_) => {
                let mut message = message;
                let mut source = std::error::Error::source(&e);
                while let Some(cause) = source {
                    message.push_str(": ");
                    message.push_str(&cause.to_string());
                    source = cause.source();
                }
                ApiError::Internal(message)
            }
        }
    }
}

impl From<std::io::Error> for ApiError {
    fn from(e: std::io::Error) -> Self {
        ApiError::Internal(format!("file: {}", e.kind()))
    }
}

impl From<tokio::task::JoinError> for ApiError {
    fn from(_: tokio::task::JoinError) -> Self {
        ApiError::Internal("a request handler failed".into())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut body = json!({ "error": { "kind": self.kind(), "message": self.to_string() } });
        if let ApiError::Conflict { received } = self {
            body["error"]["received"] = received.into();
        }
        let mut response = (self.status(), Json(body)).into_response();
        if let ApiError::Wipe(order) = &self
            && let Ok(value) = HeaderValue::from_str(&order.header_value())
        {
            response.headers_mut().insert(WIPE_HEADER, value);
        }
        response
    }
}
