//! What can go wrong in storage, as a caller can act on it, whatever the backend. The HTTP edge
//! turns it into an `ApiError` in one place (`crate::error`). Messages name what was wrong, never
//! the record it was wrong in, so that they may reach a log or a device.

/// A backend's own error (a SQLite error, later a PostgreSQL one), kept whole as the source.
pub type BackendError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Why a storage call failed.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// A device of that name is already registered.
    #[error("a device of that name is already registered")]
    NameTaken,
    /// The actor a commit would bind belongs to another device: the commit is refused whole.
    #[error("this store's actor belongs to another device")]
    ActorTaken,
    /// The actor an enrolment binds is already enrolled with another key.
    #[error("this store's actor is enrolled with another key")]
    KeyTaken,
    /// There is no device of that name or id.
    #[error("there is no such device")]
    NoSuchDevice,
    /// The data was made for another district.
    #[error("this data directory serves district {stored:?}, not {wanted:?}")]
    OtherDistrict { stored: String, wanted: String },
    /// The data was written by a newer server, whose schema this build does not know.
    #[error("the data directory was written by a newer server (schema {found}; this build knows {known})")]
    NewerSchema { found: i64, known: i64 },
    /// The database is encrypted and no key was given, or the key given does not open it. Nothing
    /// was changed.
    #[error("the server's database is encrypted: give its --key-file (this one does not open it, or none was given)")]
    Locked,
    /// The database is damaged or is not a database: it is left as it is for the engineer.
    #[error("the server's database is damaged")]
    Corrupt(#[source] BackendError),
    /// The backend failed (a disk, a lock, a connection); a retry may succeed.
    #[error("the storage backend failed")]
    Backend(#[source] BackendError),
}

/// What a storage call returns.
pub type StorageResult<T> = Result<T, StorageError>;
