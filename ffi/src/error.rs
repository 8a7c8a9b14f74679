//! The guard that turns a panic into the one error that crosses the boundary. That error,
//! [`GridbookError`], is the core's (its `uniffi` feature): a bad id or date inside a record fails
//! while the core converts it, and uniffi hands such a failure back as the call's own error only
//! when it is of that very type.

use std::panic::{AssertUnwindSafe, catch_unwind};

use gridbook_core::Error;
pub use gridbook_core::GridbookError;

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
}
