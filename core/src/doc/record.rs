//! Records as serde values, written into automerge maps field by field and read back.
//!
//! A write compares each field with what the document holds and only puts what differs, so an
//! edit to one field is one operation and two devices editing different fields merge cleanly.
//!
//! Entries — records made once and never edited (a curtain-check observation, a visit) — have
//! nothing to merge field by field, so each is one JSON string: one operation instead of one a
//! field, which on a month's journal is most of the cost of recording one (automerge splices every
//! operation into its columns). Readers take either form, since documents written by earlier builds
//! hold entries as maps.

use automerge::transaction::Transactable;
use automerge::{ObjId, ObjType, ROOT, ReadDoc, ScalarValue, Value};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Number, Value as Json};

use super::sealed::{self, Keys, Readable, Seal};
use crate::error::{Error, Result};
use crate::ids::DocId;

/// Writes `record` at `root_key`, creating the record's map if the document does not have it; its
/// sensitive fields sealed under `seal` when the store holds the record's key (see `sealed`).
pub(crate) fn write_record<T: Serialize>(
    tx: &mut impl Transactable,
    root_key: &str,
    record: &T,
    seal: Option<&Seal>,
) -> Result<()> {
    let Json::Object(mut fields) = serde_json::to_value(record)? else {
        return Err(Error::invalid("record", "a record must be a map"));
    };
    let (obj, fresh) = match tx.get(ROOT, root_key)? {
        Some((Value::Object(ObjType::Map), id)) => (id, false),
        _ => (tx.put_object(ROOT, root_key, ObjType::Map)?, true),
    };
    if let Some(seal) = seal {
        sealed::seal_fields(tx, &obj, root_key, &mut fields, seal, fresh)?;
    }
    // A record's own unknown keys (fields a newer app added) are kept; nested sets are replaced.
    sync_map(tx, &obj, &fields, MapWrite { prune: false, fresh })
}

/// Writes `entry` at `root_key`, a key no one else writes (its id is fresh), as one JSON string; or,
/// with sensitive fields sealed under `seal` (the store holds the key), as bytes: the JSON, a zero
/// byte, and the fields sealed together (see `sealed`).
pub(crate) fn write_entry<T: Serialize>(
    tx: &mut impl Transactable,
    root_key: &str,
    entry: &T,
    seal: Option<&Seal>,
) -> Result<()> {
    let mut json = serde_json::to_value(entry)?;
    let sealed = match (seal, &mut json) {
        (Some(seal), Json::Object(fields)) => sealed::seal_entry(root_key, fields, seal)?,
        _ => None,
    };
    let text = serde_json::to_string(&json)?;
    match sealed {
        None => tx.put(ROOT, root_key, ScalarValue::Str(text.into()))?,
        Some(sealed) => {
            let mut bytes = text.into_bytes();
            bytes.push(0);
            bytes.extend_from_slice(&sealed);
            tx.put(ROOT, root_key, ScalarValue::Bytes(bytes))?;
        }
    }
    Ok(())
}

/// Reads the record at `root_key` (a map, or an entry's JSON string), or `None` if the document has
/// none there; for records with no sensitive fields (sealed ones read as placeholders).
pub(crate) fn read_record<T: DeserializeOwned>(doc: &impl ReadDoc, root_key: &str) -> Result<Option<T>> {
    Ok(read_opened(doc, None, root_key, &|_| Ok(None))?.map(|(record, _)| record))
}

/// Reads the record at `root_key` of document `id`, its sealed fields opened with `keys`; says
/// whether every field read, and which key it lacks. With no `id`, no key is looked up.
pub(crate) fn read_opened<T: DeserializeOwned>(
    doc: &impl ReadDoc,
    id: Option<&DocId>,
    root_key: &str,
    keys: Keys<'_>,
) -> Result<Option<(T, Readable)>> {
    let (mut json, readable) = match doc.get(ROOT, root_key)? {
        Some((Value::Object(ObjType::Map), obj)) => {
            let mut json = read_object(doc, &obj, ObjType::Map)?;
            let readable = sealed::open_map(doc, &obj, id, root_key, &mut json, keys)?;
            (json, readable)
        }
        Some((Value::Scalar(s), by)) => match s.as_ref() {
            ScalarValue::Str(text) => {
                let mut json: Json = serde_json::from_str(text)?;
                let readable = sealed::open_entry(id, root_key, &mut json, None, keys)?;
                (json, readable)
            }
            ScalarValue::Bytes(bytes) => {
                let Some(at) = bytes.iter().position(|b| *b == 0) else {
                    return Err(Error::invalid("journal entry", "sealed fields without their JSON"));
                };
                let mut json: Json = serde_json::from_slice(&bytes[..at])?;
                let sealed = Some((&bytes[at + 1..], sealed::writer(&by)));
                let readable = sealed::open_entry(id, root_key, &mut json, sealed, keys)?;
                (json, readable)
            }
            _ => return Ok(None),
        },
        _ => return Ok(None),
    };
    if let Json::Object(map) = &mut json {
        map.remove("sealed");
    }
    Ok(Some((serde_json::from_value(json)?, readable)))
}

/// How `sync_map` treats the map: `prune` removes keys the new fields lack; `fresh` says the map was
/// just created, so there is nothing in it to compare with (a lookup per field saved).
#[derive(Clone, Copy)]
struct MapWrite {
    prune: bool,
    fresh: bool,
}

fn sync_map(tx: &mut impl Transactable, obj: &ObjId, fields: &Map<String, Json>, how: MapWrite) -> Result<()> {
    if how.prune && !how.fresh {
        let stale: Vec<String> = tx.keys(obj).filter(|k| !fields.contains_key(k)).collect();
        for key in stale {
            tx.delete(obj, key.as_str())?;
        }
    }
    for (key, value) in fields {
        let current = if how.fresh { None } else { tx.get(obj, key.as_str())? };
        match value {
            Json::Object(inner) => {
                let (child, fresh) = match current {
                    Some((Value::Object(ObjType::Map), id)) => (id, false),
                    _ => (tx.put_object(obj, key.as_str(), ObjType::Map)?, true),
                };
                sync_map(tx, &child, inner, MapWrite { prune: true, fresh })?;
            }
            Json::Array(items) => {
                let same = match &current {
                    Some((Value::Object(ObjType::List), id)) => read_object(tx, id, ObjType::List)? == *value,
                    _ => false,
                };
                if !same {
                    let list = tx.put_object(obj, key.as_str(), ObjType::List)?;
                    for (i, item) in items.iter().enumerate() {
                        insert_item(tx, &list, i, item)?;
                    }
                }
            }
            scalar => {
                let same = matches!(&current, Some((Value::Scalar(s), _)) if scalar_to_json(s) == *scalar);
                if !same {
                    tx.put(obj, key.as_str(), json_to_scalar(scalar))?;
                }
            }
        }
    }
    Ok(())
}

fn insert_item(tx: &mut impl Transactable, list: &ObjId, index: usize, item: &Json) -> Result<()> {
    match item {
        Json::Object(inner) => {
            let child = tx.insert_object(list, index, ObjType::Map)?;
            sync_map(tx, &child, inner, MapWrite { prune: true, fresh: true })
        }
        Json::Array(items) => {
            let child = tx.insert_object(list, index, ObjType::List)?;
            for (i, it) in items.iter().enumerate() {
                insert_item(tx, &child, i, it)?;
            }
            Ok(())
        }
        scalar => Ok(tx.insert(list, index, json_to_scalar(scalar))?),
    }
}

fn read_object(doc: &impl ReadDoc, obj: &ObjId, kind: ObjType) -> Result<Json> {
    let read = |value: Value<'_>, id: ObjId| -> Result<Json> {
        match value {
            Value::Object(kind) => read_object(doc, &id, kind),
            Value::Scalar(s) => Ok(scalar_to_json(&s)),
        }
    };
    match kind {
        ObjType::Map | ObjType::Table => {
            let mut map = Map::new();
            for key in doc.keys(obj) {
                if let Some((value, id)) = doc.get(obj, key.as_str())? {
                    map.insert(key, read(value, id)?);
                }
            }
            Ok(Json::Object(map))
        }
        ObjType::List => {
            let mut items = Vec::new();
            for i in 0..doc.length(obj) {
                if let Some((value, id)) = doc.get(obj, i)? {
                    items.push(read(value, id)?);
                }
            }
            Ok(Json::Array(items))
        }
        ObjType::Text => Ok(Json::String(doc.text(obj)?)),
    }
}

fn json_to_scalar(value: &Json) -> ScalarValue {
    match value {
        Json::Null => ScalarValue::Null,
        Json::Bool(b) => ScalarValue::Boolean(*b),
        Json::Number(n) => match n.as_i64() {
            Some(i) => ScalarValue::Int(i),
            None => ScalarValue::F64(n.as_f64().unwrap_or_default()),
        },
        Json::String(s) => ScalarValue::Str(s.as_str().into()),
        // Objects and arrays are written as automerge objects, never as scalars.
        Json::Array(_) | Json::Object(_) => ScalarValue::Null,
    }
}

pub(crate) fn scalar_to_json(value: &ScalarValue) -> Json {
    match value {
        ScalarValue::Str(s) => Json::String(s.to_string()),
        ScalarValue::Int(i) | ScalarValue::Timestamp(i) => Json::Number((*i).into()),
        ScalarValue::Uint(u) => Json::Number((*u).into()),
        ScalarValue::F64(f) => Number::from_f64(*f).map_or(Json::Null, Json::Number),
        ScalarValue::Boolean(b) => Json::Bool(*b),
        ScalarValue::Counter(c) => Json::Number(i64::from(c).into()),
        ScalarValue::Bytes(_) | ScalarValue::Unknown { .. } | ScalarValue::Null => Json::Null,
    }
}

#[cfg(test)]
mod tests {
    use automerge::Automerge;
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD_NO_PAD as B64;

    use super::*;
    use crate::ids::{EntryId, RoutineId};
    use crate::model::{Observation, Outcome};

    fn observation(outcome: Option<Outcome>) -> Observation {
        Observation {
            id: EntryId::new(),
            routine_id: RoutineId::new(),
            day: chrono::NaiveDate::from_ymd_opt(2026, 11, 20).expect("day"),
            at: chrono::DateTime::from_timestamp_millis(1_795_140_000_123).expect("at"),
            by: "王芳".into(),
            note: "上门敲门确认".into(),
            outcome,
        }
    }

    #[test]
    fn an_entry_is_one_operation_and_reads_back_as_written() {
        let mut doc = Automerge::new();
        let o = observation(Some(Outcome::NotHome));
        let mut tx = doc.transaction();
        write_entry(&mut tx, "check:a", &o, None).expect("write");
        assert_eq!(tx.pending_ops(), 1);
        tx.commit();
        assert_eq!(read_record::<Observation>(&doc, "check:a").expect("read"), Some(o));
    }

    #[test]
    fn entries_written_as_maps_by_earlier_builds_still_read() {
        let mut doc = Automerge::new();
        let o = observation(None);
        let mut tx = doc.transaction();
        write_record(&mut tx, "check:a", &o, None).expect("write");
        tx.commit();
        assert_eq!(read_record::<Observation>(&doc, "check:a").expect("read"), Some(o));
        assert_eq!(read_record::<Observation>(&doc, "check:b").expect("read"), None);
    }

    mod sealed_entries {
        use chacha20poly1305::aead::{Aead, KeyInit, Payload};
        use uuid::Uuid;

        use super::*;
        use crate::datakey::{DataKey, OVERHEAD, field_aad};
        use crate::doc::Seal;
        use crate::ids::GridId;

        const ACTOR: [u8; 16] = [5; 16];

        fn setup() -> (DocId, Uuid, DataKey) {
            let day = chrono::NaiveDate::from_ymd_opt(2026, 11, 20).expect("day");
            (DocId::journal(GridId::new(), day), Uuid::now_v7(), DataKey::generate())
        }

        fn doc_of(write: impl FnOnce(&mut automerge::transaction::Transaction<'_>)) -> Automerge {
            let mut doc = Automerge::new().with_actor(automerge::ActorId::from(ACTOR.as_slice()));
            let mut tx = doc.transaction();
            write(&mut tx);
            tx.commit();
            doc
        }

        #[test]
        fn an_entrys_fields_are_sealed_together_in_one_operation_with_one_tag() {
            let (journal, household, key) = setup();
            let o = observation(Some(Outcome::NotHome));
            let seal = Seal { id: household, key: key.clone(), actor: ACTOR.to_vec() };
            let doc = doc_of(|tx| {
                write_entry(tx, "check:a", &o, Some(&seal)).expect("write");
                assert_eq!(tx.pending_ops(), 1);
            });
            let Some((Value::Scalar(s), _)) = doc.get(ROOT, "check:a").expect("get") else { panic!("no entry") };
            let ScalarValue::Bytes(bytes) = s.as_ref() else { panic!("not bytes: {s:?}") };
            let at = bytes.iter().position(|b| *b == 0).expect("the JSON ends");
            let fields = serde_json::to_vec(&serde_json::json!({ "note": o.note })).expect("json");
            assert_eq!(bytes.len() - at - 1, OVERHEAD + fields.len(), "one version byte and one tag, no nonce");
            assert!(!bytes.windows(o.note.len()).any(|w| w == o.note.as_bytes()), "the note is sealed");
            let keys = |id: Uuid| Ok((id == household).then(|| key.clone()));
            let (read, readable) =
                read_opened::<Observation>(&doc, Some(&journal), "check:a", &keys).expect("read").expect("some");
            assert_eq!((read, readable.complete, readable.wants), (o, true, None));
            let (_, without) = read_opened::<Observation>(&doc, Some(&journal), "check:a", &|_| Ok(None))
                .expect("read")
                .expect("some");
            assert_eq!((without.complete, without.wants), (false, Some((household, false))));
        }

        #[test]
        fn an_empty_note_is_not_sealed_and_asks_for_no_key() {
            let (journal, household, key) = setup();
            let o = Observation { note: String::new(), ..observation(None) };
            let seal = Seal { id: household, key, actor: ACTOR.to_vec() };
            let doc = doc_of(|tx| write_entry(tx, "check:a", &o, Some(&seal)).expect("write"));
            let Some((Value::Scalar(s), _)) = doc.get(ROOT, "check:a").expect("get") else { panic!("no entry") };
            assert!(matches!(s.as_ref(), ScalarValue::Str(_)), "plain JSON: {s:?}");
            let (read, readable) = read_opened::<Observation>(&doc, Some(&journal), "check:a", &|_| Ok(None))
                .expect("read")
                .expect("some");
            assert_eq!((read, readable.complete, readable.wants), (o, true, None));
        }

        #[test]
        fn entries_with_fields_sealed_one_by_one_by_earlier_builds_still_read() {
            let (journal, household, key) = setup();
            let o = observation(None);
            // As earlier builds wrote it: each field under XChaCha20-Poly1305 with a random nonce,
            // base64 under "sealed".
            let aad = field_aad(household, "check:a", "note");
            let nonce = [3u8; 24];
            let body = chacha20poly1305::XChaCha20Poly1305::new(key.bytes().into())
                .encrypt(&nonce.into(), Payload { msg: &serde_json::to_vec(&o.note).expect("json"), aad: &aad })
                .expect("seal");
            let mut json = serde_json::to_value(&o).expect("json");
            json["note"] = Json::Null;
            let Json::Object(map) = &mut json else { panic!("a map") };
            map.remove("note");
            let v1 = [&[1u8][..], &nonce, &body].concat();
            map.insert("sealed".into(), serde_json::json!({ "note": B64.encode(v1) }));
            map.insert("household_id".into(), Json::String(household.to_string()));
            let text = serde_json::to_string(&json).expect("json");
            let doc = doc_of(|tx| tx.put(ROOT, "check:a", ScalarValue::Str(text.into())).map(drop).expect("put"));
            let keys = |id: Uuid| Ok((id == household).then(|| key.clone()));
            let (read, readable) =
                read_opened::<Observation>(&doc, Some(&journal), "check:a", &keys).expect("read").expect("some");
            assert_eq!((read, readable.complete), (o, true));
        }
    }
}
