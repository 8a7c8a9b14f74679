//! The domain's records, as callers see them and as they are stored in documents (serde both ways).

mod access;
mod events;
mod journal;
mod ledger;

pub use access::*;
pub use events::*;
pub use journal::*;
pub use ledger::*;

/// Sets are stored as automerge maps of `key → true`, so two devices adding different members
/// concurrently both keep theirs (a list would be replaced whole by the last writer).
pub(crate) mod set {
    use std::collections::{BTreeMap, BTreeSet};

    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<T: Serialize + Ord, S: Serializer>(set: &BTreeSet<T>, s: S) -> Result<S::Ok, S::Error> {
        let map: BTreeMap<String, bool> = set
            .iter()
            .filter_map(|t| match serde_json::to_value(t) {
                Ok(serde_json::Value::String(key)) => Some((key, true)),
                _ => None,
            })
            .collect();
        map.serialize(s)
    }

    pub fn deserialize<'de, T, D>(d: D) -> Result<BTreeSet<T>, D::Error>
    where
        T: serde::de::DeserializeOwned + Ord,
        D: Deserializer<'de>,
    {
        let map = BTreeMap::<String, serde_json::Value>::deserialize(d)?;
        // A member this build does not know (added by a newer app) is skipped, not an error.
        Ok(map.into_keys().filter_map(|k| serde_json::from_value(serde_json::Value::String(k)).ok()).collect())
    }
}

/// Timestamps are stored as milliseconds since the epoch (compact in automerge's columns).
pub(crate) mod millis {
    use chrono::{DateTime, Utc};
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_i64(t.timestamp_millis())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
        let ms = i64::deserialize(d)?;
        DateTime::from_timestamp_millis(ms).ok_or_else(|| serde::de::Error::custom("time out of range"))
    }

    pub mod option {
        use super::*;

        pub fn serialize<S: Serializer>(t: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
            match t {
                Some(t) => s.serialize_i64(t.timestamp_millis()),
                None => s.serialize_none(),
            }
        }

        pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<DateTime<Utc>>, D::Error> {
            Option::<i64>::deserialize(d)?
                .map(|ms| {
                    DateTime::from_timestamp_millis(ms).ok_or_else(|| serde::de::Error::custom("time out of range"))
                })
                .transpose()
        }
    }
}

/// A place on the map, as the phone's location service reports it.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct Location {
    /// Latitude in degrees, -90 to 90.
    pub lat: f64,
    /// Longitude in degrees, -180 to 180.
    pub lon: f64,
    /// Radius of uncertainty, in metres.
    pub accuracy_m: f64,
}

impl Location {
    pub(crate) fn validate(&self) -> crate::Result<()> {
        let ok = (-90.0..=90.0).contains(&self.lat)
            && (-180.0..=180.0).contains(&self.lon)
            && self.accuracy_m.is_finite()
            && self.accuracy_m >= 0.0;
        if ok { Ok(()) } else { Err(crate::Error::invalid("location", "latitude, longitude or accuracy out of range")) }
    }
}

/// Implements `Display` and `FromStr` for a serde enum with snake_case names, so the CLI, CSV
/// files and JSON all use the one spelling.
macro_rules! snake_enum_text {
    ($ty:ty, $what:literal) => {
        impl std::fmt::Display for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                match serde_json::to_value(self) {
                    Ok(serde_json::Value::String(s)) => f.write_str(&s),
                    _ => Err(std::fmt::Error),
                }
            }
        }

        impl std::str::FromStr for $ty {
            type Err = crate::Error;
            fn from_str(s: &str) -> crate::Result<Self> {
                serde_json::from_value(serde_json::Value::String(s.trim().replace('-', "_")))
                    .map_err(|_| crate::Error::invalid($what, format!("unknown value {s:?}")))
            }
        }
    };
}
pub(crate) use snake_enum_text;
