//! The one error that crosses the boundary: a flat kind the app can act on, with a message free of
//! personal data (the core's messages never carry it), and the guard that turns a panic into one.

use std::panic::{AssertUnwindSafe, catch_unwind};

use gridbook_core::{Error, ErrorKind};

/// What went wrong. Each variant carries a message a person understands.
#[derive(Debug, thiserror::Error, uniffi::Error)]
#[uniffi(flat_error)]
pub enum GridbookError {
    /// An invalid ID number, phone, id, date or other field.
    #[error("{0}")]
    InvalidInput(String),
    /// An unknown grid, household, resident, routine or event.
    #[error("{0}")]
    NotFound(String),
    /// An event step taken out of order.
    #[error("{0}")]
    StepOutOfOrder(String),
    /// A photo that is not a JPEG or PNG image.
    #[error("{0}")]
    NotAnImage(String),
    /// The store's database is damaged (it was moved aside, never deleted) or newer than this app.
    #[error("{0}")]
    Corrupt(String),
    /// Another process holds the store.
    #[error("{0}")]
    Busy(String),
    /// The phone's storage failed (full, unreadable).
    #[error("{0}")]
    Storage(String),
    /// The server did not accept this device's token (revoked, or for another district).
    #[error("{0}")]
    Unauthorized(String),
    /// Outside this device's scope.
    #[error("{0}")]
    NotAllowed(String),
    /// No connection, or it dropped: sync again later, nothing was lost.
    #[error("{0}")]
    Network(String),
    /// The server failed.
    #[error("{0}")]
    Server(String),
    /// The server answered something this build cannot read.
    #[error("{0}")]
    Protocol(String),
    /// A bug in Gridbook (a panic, caught): the call did nothing the store would keep half done.
    #[error("{0}")]
    Internal(String),
}

impl From<Error> for GridbookError {
    fn from(e: Error) -> Self {
        let message = e.to_string();
        match e.kind() {
            ErrorKind::InvalidInput => Self::InvalidInput(message),
            ErrorKind::NotFound => Self::NotFound(message),
            ErrorKind::StepOutOfOrder => Self::StepOutOfOrder(message),
            ErrorKind::NotAnImage => Self::NotAnImage(message),
            ErrorKind::Corrupt => Self::Corrupt(message),
            ErrorKind::Busy => Self::Busy(message),
            ErrorKind::Storage => Self::Storage(message),
            ErrorKind::Unauthorized => Self::Unauthorized(message),
            ErrorKind::NotAllowed => Self::NotAllowed(message),
            ErrorKind::Network => Self::Network(message),
            ErrorKind::Server => Self::Server(message),
            ErrorKind::Protocol => Self::Protocol(message),
        }
    }
}

/// Runs one call of the API, turning a panic into [`GridbookError::Internal`] so that it never
/// unwinds into the app's runtime. The store stays usable after one: every write is one SQLite
/// transaction, and its lock recovers from poisoning.
pub(crate) fn guard<T>(call: impl FnOnce() -> Result<T, Error>) -> Result<T, GridbookError> {
    match catch_unwind(AssertUnwindSafe(call)) {
        Ok(result) => result.map_err(GridbookError::from),
        Err(panic) => Err(internal(panic.as_ref())),
    }
}

pub(crate) fn internal(panic: &(dyn std::any::Any + Send)) -> GridbookError {
    let what = panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown cause".into());
    GridbookError::Internal(format!("Gridbook failed unexpectedly ({what}); please report it"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_inside_a_call_comes_back_as_an_internal_error() {
        let result: Result<(), _> = guard(|| panic!("index out of bounds"));
        match result {
            Err(GridbookError::Internal(message)) => assert!(message.contains("index out of bounds"), "{message}"),
            other => panic!("expected an internal error, got {other:?}"),
        }
    }

    #[test]
    fn core_errors_keep_their_kind_and_message() {
        let e = GridbookError::from(gridbook_core::parse_id_number("123").unwrap_err());
        assert!(matches!(&e, GridbookError::InvalidInput(m) if m.contains("18 characters")), "{e:?}");
    }
}
