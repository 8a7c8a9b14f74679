//! The one error the apps see (only with the `uniffi` feature): a flat kind they can act on, with
//! a message free of personal data (the core's messages never carry it).
//!
//! It lives in the core, not in gridbook-ffi, because a custom type that fails to lift (a bad id
//! or date inside a record) must fail with the call's own error type for uniffi to hand it back as
//! that error; the core's conversions can only name a type of the core.

use crate::error::{Error, ErrorKind};

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
    /// The store's database is damaged (it was moved aside, never deleted) or newer than this app,
    /// or a photo's file on the device is damaged or was altered.
    #[error("{0}")]
    Corrupt(String),
    /// The store is encrypted and the key given is missing or does not open it: nothing was
    /// changed. Ask the platform's key store again; never make a new key for an existing store.
    #[error("{0}")]
    Locked(String),
    /// Another process holds the store.
    #[error("{0}")]
    Busy(String),
    /// The store was wiped on the district's order (this device was revoked as lost or retired):
    /// its data is gone. Delete the store's key from the platform's key store; a new store starts
    /// only after `start_over`.
    #[error("{0}")]
    Wiped(String),
    /// The resident or household was erased on the district's order: its data is gone from this
    /// device and nothing more can be written to it. Drop it from the screen.
    #[error("{0}")]
    Erased(String),
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
    /// The server answered something this build cannot read, or no longer serves this app's
    /// version: the message then says to update the app.
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
            ErrorKind::Locked => Self::Locked(message),
            ErrorKind::Busy => Self::Busy(message),
            ErrorKind::Wiped => Self::Wiped(message),
            ErrorKind::Erased => Self::Erased(message),
            ErrorKind::Storage => Self::Storage(message),
            ErrorKind::Unauthorized => Self::Unauthorized(message),
            ErrorKind::NotAllowed => Self::NotAllowed(message),
            ErrorKind::Network => Self::Network(message),
            ErrorKind::Server => Self::Server(message),
            ErrorKind::Protocol => Self::Protocol(message),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn core_errors_keep_their_kind_and_message() {
        let e = GridbookError::from(crate::parse_id_number("123").unwrap_err());
        assert!(matches!(&e, GridbookError::InvalidInput(m) if m.contains("has 18")), "{e:?}");
    }
}
