//! The core's one error type. Variants are rich for callers inside Rust; [`Error::kind`] gives the
//! stable, flat kind that the CLI, the HTTP edge and the FFI edge expose. No message carries
//! personal data: an invalid ID number says what is wrong with it, never the number itself.

use std::path::PathBuf;

/// Everything that can go wrong in the store.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("invalid ID number: {0}")]
    InvalidIdNumber(String),
    /// The household is named as the command line names it (`GRID:ADDRESS`), so that the person
    /// can go and look; the number itself is never in the message.
    #[error("invalid ID number: a resident of the household {household} already has it; a person is entered once")]
    DuplicateIdNumber { household: String },
    #[error("invalid phone number: a mainland mobile number has 11 digits and starts with 1")]
    InvalidPhone,
    #[error("invalid {field}: {reason}")]
    InvalidInput { field: &'static str, reason: String },
    #[error("unknown {what} {id}")]
    NotFound { what: &'static str, id: String },
    #[error("cannot {step} an event that is {state}")]
    StepOutOfOrder { step: &'static str, state: &'static str },
    #[error("not a JPEG or PNG image")]
    NotAnImage,
    #[error("photo too large: {0}")]
    PhotoTooLarge(String),
    #[error("the change set could not be applied: {0}")]
    InvalidChanges(String),
    #[error("the store at {path} is corrupt; it was moved aside to {moved_to} and nothing was deleted")]
    CorruptStore { path: PathBuf, moved_to: PathBuf },
    #[error("the store was written by a newer Gridbook (schema {found}, this build knows {supported})")]
    SchemaTooNew { found: i64, supported: i64 },
    /// The store is encrypted and was opened without a key.
    #[error("the store is encrypted: open it with its key")]
    KeyNeeded,
    /// The key does not open the store. Nothing was changed or moved.
    #[error("the key does not open this store (or its first page is damaged); nothing was changed")]
    WrongKey,
    /// A sealed photo file on this device that does not open: cut short, altered, or not the
    /// photo its name says. Nothing was returned from it.
    #[error("the photo {sha256} on this device is damaged or was altered; it cannot be shown")]
    PhotoDamaged { sha256: String },
    /// A sensitive field of a document that does not open under its record's data key: altered,
    /// cut short, or moved from another field or record. The record is shown without it.
    #[error("a sealed field of a record is damaged or was altered")]
    SealedField,
    #[error("the store is in use by another process")]
    Busy,
    /// The store was wiped: its data is gone, on the district's order (a device revoked as lost or
    /// retired) or the app's. The app deletes the store's key.
    #[error("this store was wiped on the district's order; its data is gone from this device")]
    Wiped,
    /// The record was erased on the district's order: its data is gone from this store, and
    /// nothing more can be written to it.
    #[error("the {what} {id} was erased on the district's order")]
    Erased { what: &'static str, id: String },
    #[error("the server did not accept this device: {0}")]
    Unauthorized(String),
    /// The server ordered this device's stores wiped. A sync checks that the order is signed by the
    /// server the store enrolled with, then wipes the store and returns [`Error::Wiped`]; an order
    /// that is not that server's is [`Error::Unauthorized`] instead.
    #[error("the district centre revoked this device as {}", .0.reason.as_str())]
    WipeOrdered(crate::sync::wire::WipeOrder),
    #[error("not allowed: {0}")]
    Forbidden(String),
    #[error("no connection to the server: {0}")]
    Network(String),
    #[error("the server failed: {0}")]
    Server(String),
    #[error("the other side sent a message this build cannot read: {0}")]
    Protocol(String),
    /// The server no longer serves this build's sync version; the message says to update the app.
    #[error("{0}")]
    Outdated(String),
    #[error("storage error: {0}")]
    Storage(#[from] rusqlite::Error),
    #[error("file error: {0}")]
    Io(#[from] std::io::Error),
    #[error("document error: {0}")]
    Document(#[from] automerge::AutomergeError),
    #[error("record decoding error: {0}")]
    Record(#[from] serde_json::Error),
}

/// The flat, stable kind of an [`Error`], for callers that act on the kind rather than the detail.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    InvalidInput,
    NotFound,
    StepOutOfOrder,
    NotAnImage,
    Corrupt,
    /// The store is encrypted and its key is missing or wrong.
    Locked,
    Busy,
    /// The store was wiped.
    Wiped,
    /// The record was erased.
    Erased,
    Storage,
    Unauthorized,
    NotAllowed,
    Network,
    Server,
    Protocol,
}

impl ErrorKind {
    /// The kind as the stable string used in JSON output.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::InvalidInput => "invalid_input",
            ErrorKind::NotFound => "not_found",
            ErrorKind::StepOutOfOrder => "step_out_of_order",
            ErrorKind::NotAnImage => "not_an_image",
            ErrorKind::Corrupt => "corrupt",
            ErrorKind::Locked => "locked",
            ErrorKind::Busy => "busy",
            ErrorKind::Wiped => "wiped",
            ErrorKind::Erased => "erased",
            ErrorKind::Storage => "storage",
            ErrorKind::Unauthorized => "unauthorized",
            ErrorKind::NotAllowed => "not_allowed",
            ErrorKind::Network => "network",
            ErrorKind::Server => "server",
            ErrorKind::Protocol => "protocol",
        }
    }
}

impl Error {
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::InvalidIdNumber(_)
            | Error::DuplicateIdNumber { .. }
            | Error::InvalidPhone
            | Error::InvalidInput { .. }
            | Error::PhotoTooLarge(_)
            | Error::InvalidChanges(_) => ErrorKind::InvalidInput,
            Error::NotFound { .. } => ErrorKind::NotFound,
            Error::StepOutOfOrder { .. } => ErrorKind::StepOutOfOrder,
            Error::NotAnImage => ErrorKind::NotAnImage,
            Error::CorruptStore { .. }
            | Error::SchemaTooNew { .. }
            | Error::PhotoDamaged { .. }
            | Error::SealedField => ErrorKind::Corrupt,
            Error::KeyNeeded | Error::WrongKey => ErrorKind::Locked,
            Error::Busy => ErrorKind::Busy,
            Error::Wiped => ErrorKind::Wiped,
            Error::Erased { .. } => ErrorKind::Erased,
            Error::Unauthorized(_) | Error::WipeOrdered(_) => ErrorKind::Unauthorized,
            Error::Forbidden(_) => ErrorKind::NotAllowed,
            Error::Network(_) => ErrorKind::Network,
            Error::Server(_) => ErrorKind::Server,
            Error::Protocol(_) | Error::Outdated(_) => ErrorKind::Protocol,
            Error::Storage(_) | Error::Io(_) | Error::Document(_) | Error::Record(_) => ErrorKind::Storage,
        }
    }

    pub(crate) fn invalid(field: &'static str, reason: impl Into<String>) -> Self {
        Error::InvalidInput { field, reason: reason.into() }
    }

    pub(crate) fn erased(what: &'static str, id: impl ToString) -> Self {
        Error::Erased { what, id: id.to_string() }
    }

    pub(crate) fn not_found(what: &'static str, id: impl ToString) -> Self {
        Error::NotFound { what, id: id.to_string() }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
