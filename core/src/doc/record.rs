//! Records as serde values, written into automerge maps field by field and read back.
//!
//! A write compares each field with what the document holds and only puts what differs, so an
//! edit to one field is one operation and two devices editing different fields merge cleanly.

use automerge::transaction::Transactable;
use automerge::{ObjId, ObjType, ROOT, ReadDoc, ScalarValue, Value};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Number, Value as Json};

use crate::error::{Error, Result};

/// Writes `record` at `root_key`, creating the record's map if the document does not have it.
pub(crate) fn write_record<T: Serialize>(tx: &mut impl Transactable, root_key: &str, record: &T) -> Result<()> {
    let Json::Object(fields) = serde_json::to_value(record)? else {
        return Err(Error::invalid("record", "a record must be a map"));
    };
    let obj = match tx.get(ROOT, root_key)? {
        Some((Value::Object(ObjType::Map), id)) => id,
        _ => tx.put_object(ROOT, root_key, ObjType::Map)?,
    };
    // A record's own unknown keys (fields a newer app added) are kept; nested sets are replaced.
    sync_map(tx, &obj, &fields, false)
}

/// Reads the record at `root_key`, or `None` if the document has none there.
pub(crate) fn read_record<T: DeserializeOwned>(doc: &impl ReadDoc, root_key: &str) -> Result<Option<T>> {
    match doc.get(ROOT, root_key)? {
        Some((Value::Object(ObjType::Map), id)) => {
            Ok(Some(serde_json::from_value(read_object(doc, &id, ObjType::Map)?)?))
        }
        _ => Ok(None),
    }
}

fn sync_map(tx: &mut impl Transactable, obj: &ObjId, fields: &Map<String, Json>, prune: bool) -> Result<()> {
    if prune {
        let stale: Vec<String> = tx.keys(obj).filter(|k| !fields.contains_key(k)).collect();
        for key in stale {
            tx.delete(obj, key.as_str())?;
        }
    }
    for (key, value) in fields {
        let current = tx.get(obj, key.as_str())?;
        match value {
            Json::Object(inner) => {
                let child = match current {
                    Some((Value::Object(ObjType::Map), id)) => id,
                    _ => tx.put_object(obj, key.as_str(), ObjType::Map)?,
                };
                sync_map(tx, &child, inner, true)?;
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
            sync_map(tx, &child, inner, true)
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
