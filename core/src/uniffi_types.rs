//! How the ids, times, dates and sets of the domain cross the uniffi boundary (only with the
//! `uniffi` feature): as custom types over plain strings, integers and lists, which every language
//! reads without a helper of ours.
//!
//! Ids cross as their UUID text, times as milliseconds since the epoch (UTC), dates as `YYYY-MM-DD`
//! and local times as `HH:MM`. Text that does not parse is refused with
//! [`GridbookError::InvalidInput`] before the call runs: uniffi hands a failed argument's error back
//! as the call's own only when it is the call's error type itself, which is why that type lives
//! here beside the conversions rather than in gridbook-ffi.

use std::collections::BTreeSet;

use chrono::{DateTime, NaiveDate, NaiveTime, Timelike, Utc};

use crate::flat_error::GridbookError;
use crate::ids::{EntryId, EventId, GridId, HouseholdId, ResidentId, RoutineId, VisitId};
use crate::model::{CareTag, Day};

fn invalid(what: &str) -> uniffi::deps::anyhow::Error {
    GridbookError::InvalidInput(what.to_string()).into()
}

macro_rules! id_types {
    ($($ty:ident),*) => {$(
        uniffi::custom_type!($ty, String, {
            lower: |id| id.to_string(),
            try_lift: |text| text.parse::<$ty>().map_err(|e| GridbookError::from(e).into()),
        });
    )*};
}
id_types!(GridId, HouseholdId, ResidentId, RoutineId, VisitId, EventId, EntryId);

/// A moment, as milliseconds since 1970-01-01 UTC.
pub type Timestamp = DateTime<Utc>;
uniffi::custom_type!(Timestamp, i64, {
    remote,
    lower: |t| t.timestamp_millis(),
    try_lift: |ms| DateTime::from_timestamp_millis(ms).ok_or_else(|| invalid("time out of range")),
});

/// A local day of the district, `YYYY-MM-DD`.
pub type IsoDate = NaiveDate;
uniffi::custom_type!(IsoDate, String, {
    remote,
    lower: |d| d.format("%Y-%m-%d").to_string(),
    try_lift: |text| {
        NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d").map_err(|_| invalid("a date is written YYYY-MM-DD"))
    },
});

/// A local wall-clock time of the district, `HH:MM` (or `HH:MM:SS`).
pub type IsoTime = NaiveTime;
uniffi::custom_type!(IsoTime, String, {
    remote,
    lower: |t| t.format(if t.second() == 0 { "%H:%M" } else { "%H:%M:%S" }).to_string(),
    try_lift: |text| {
        let text = text.trim();
        NaiveTime::parse_from_str(text, "%H:%M")
            .or_else(|_| NaiveTime::parse_from_str(text, "%H:%M:%S"))
            .map_err(|_| invalid("a time is written HH:MM"))
    },
});

/// Care tags as a list (a set in the core: duplicates collapse).
pub type CareTags = BTreeSet<CareTag>;
uniffi::custom_type!(CareTags, Vec<CareTag>, {
    remote,
    lower: |set| set.into_iter().collect(),
    try_lift: |list| Ok(list.into_iter().collect()),
});

/// Days of the week as a list (a set in the core: duplicates collapse).
pub type Days = BTreeSet<Day>;
uniffi::custom_type!(Days, Vec<Day>, {
    remote,
    lower: |set| set.into_iter().collect(),
    try_lift: |list| Ok(list.into_iter().collect()),
});

#[cfg(test)]
mod tests {
    use uniffi::{Lift, Lower, RustBuffer};

    use super::*;
    use crate::UniFfiTag;

    fn lift<T: Lift<UniFfiTag>>(value: T::FfiType) -> Result<T, GridbookError> {
        T::try_lift(value).map_err(|e| e.downcast::<GridbookError>().expect("a lift error is a GridbookError"))
    }

    fn text(s: &str) -> RustBuffer {
        <String as Lower<UniFfiTag>>::lower(s.to_string())
    }

    #[test]
    fn ids_times_and_dates_cross_as_text_and_millis() {
        let id = GridId::new();
        assert_eq!(lift::<GridId>(<GridId as Lower<UniFfiTag>>::lower(id)).ok(), Some(id));
        let day = NaiveDate::from_ymd_opt(2026, 3, 1).expect("a real day");
        assert_eq!(lift::<IsoDate>(text("2026-03-01")).ok(), Some(day));
        let deadline = NaiveTime::from_hms_opt(7, 30, 0).expect("a real time");
        assert_eq!(lift::<IsoTime>(text("07:30")).ok(), Some(deadline));
        let t = DateTime::from_timestamp_millis(1_700_000_000_123).expect("in range");
        assert_eq!(<Timestamp as Lower<UniFfiTag>>::lower(t), 1_700_000_000_123);
    }

    #[test]
    fn bad_text_is_refused_as_invalid_input() {
        for result in [
            lift::<GridId>(text("not-an-id")).map(|_| ()),
            lift::<IsoDate>(text("2026-13-45")).map(|_| ()),
            lift::<IsoTime>(text("7:30pm")).map(|_| ()),
            lift::<Timestamp>(i64::MAX).map(|_| ()),
        ] {
            assert!(matches!(result, Err(GridbookError::InvalidInput(_))), "{result:?}");
        }
    }
}
