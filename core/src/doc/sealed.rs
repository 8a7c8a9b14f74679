//! Sensitive fields under their record's data key, in the documents.
//!
//! Which fields: a household's address, head's name, phone, notes and care tags; a resident's
//! name, ID number, phone, birth date, gender (the ID number gives it away) and care tags; the free
//! text of routines, visits, curtain checks, events and their steps. Which key: a household's own
//! for its record, its routines and the notes of its visits and checks in the journals; a
//! resident's own for the resident (so that one resident can be erased alone); an event's own for
//! the event and its steps (it travels to the departments the event is dispatched to, which never
//! get a household's or resident's key).
//!
//! In a record's map each sensitive field is its own automerge `Bytes` value, the field's JSON
//! sealed under the key (`datakey`), so two devices editing different fields still merge field by
//! field; a write that leaves a field's value as it was leaves its ciphertext as it was. A care-tag
//! set stays a map of `member → true` whose members are keyed hashes. A journal entry is written
//! once and never edited, so its sensitive fields are sealed together, one tag for all: the entry
//! is then `Bytes`, its JSON (naming the household whose key it is under), a zero byte (which JSON
//! never holds), and the sealed fields as one JSON object. Earlier builds wrote an entry as one
//! JSON string with each field sealed on its own, base64-encoded under `"sealed"`. An empty field
//! (`null`, `""`) is not sealed: it says nothing but that it is empty, and sealing it would cost
//! its tag.
//!
//! Reading accepts plaintext fields (documents written by earlier builds, or by a store that held
//! no key for the record). Plaintext already in a document's history stays there, readable by
//! anyone who has the document's bytes: destroying a key covers only what was sealed under it, so
//! a record of an earlier build is covered from its first sealed write on, not before. A sealed field whose key the store
//! lacks, or that does not open, reads as a placeholder and the record is reported incomplete, so
//! that the caller never shows ciphertext or a placeholder and asks for the key instead.

use automerge::transaction::Transactable;
use automerge::{ObjId, ReadDoc, ScalarValue, Value};
use base64::Engine;
use base64::engine::general_purpose::STANDARD_NO_PAD as B64;
use serde_json::{Map, Value as Json};
use uuid::Uuid;

use super::key;
use crate::datakey::{DataKey, field_aad};
use crate::error::Result;
use crate::ids::{DocId, DocKind};
use crate::model::CareTag;

/// The key a record is written under, and by whom.
#[derive(Debug)]
pub(crate) struct Seal {
    /// The record whose key it is (a household, resident or event id).
    pub id: Uuid,
    pub key: DataKey,
    /// The automerge actor of the store that writes (the sealed bytes' nonce comes from it).
    pub actor: Vec<u8>,
}

/// The actor that wrote a value, as the value's id names it.
pub(crate) fn writer(id: &ObjId) -> &[u8] {
    match id {
        ObjId::Id(_, actor, _) => actor.to_bytes(),
        ObjId::Root => &[],
    }
}

/// Whether a field's value is empty, and so left unsealed.
fn empty(value: &Json) -> bool {
    matches!(value, Json::Null) || value.as_str().is_some_and(str::is_empty)
}

/// Looks a data key up by its id.
pub(crate) type Keys<'a> = &'a dyn Fn(Uuid) -> Result<Option<DataKey>>;

/// How a record read: whole, or with fields that wait for a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Readable {
    /// Every sensitive field read as written.
    pub complete: bool,
    /// The key this record needs and the store lacks, and whether no one may have made it yet
    /// (only plaintext fields seen: a record of an earlier build).
    pub wants: Option<(Uuid, bool)>,
}

pub(crate) const SET_FIELDS: [&str; 1] = ["care_tags"];
const JOURNAL_KEY_FIELD: &str = "household_id";
/// The name an entry's sealed fields are bound to, together.
const ENTRY_FIELDS: &str = "sealed";

/// The sensitive fields of a record of `collection`.
pub(crate) fn sensitive(collection: &str) -> &'static [&'static str] {
    match collection {
        key::HOUSEHOLD => &["address", "head_name", "phone", "notes", "care_tags"],
        key::RESIDENT => &["name", "id_number", "phone", "birth_date", "gender", "care_tags"],
        key::ROUTINE | key::OBSERVATION | key::STEP => &["note", "comment"],
        key::VISIT => &["notes"],
        key::EVENT => &["title", "description"],
        _ => &[],
    }
}

/// Whose key the record at `root_key` of document `doc` is under: the event's in an event
/// document; the resident's for a resident; the household's for the rest of a household document;
/// in a journal, the household its entry names.
pub(crate) fn key_id(doc: Option<&DocId>, root_key: &str, record: &Json) -> Option<Uuid> {
    let doc = doc?;
    let (collection, id) = key::split(root_key);
    let text = match (doc.kind, collection) {
        (DocKind::Event, _) | (DocKind::Household, key::HOUSEHOLD | key::ROUTINE) => doc.part.as_str(),
        (DocKind::Household, key::RESIDENT) => id,
        (DocKind::Journal, _) => record.get(JOURNAL_KEY_FIELD)?.as_str()?,
        _ => return None,
    };
    Uuid::parse_str(text).ok()
}

/// Writes the sensitive fields of `fields` (the record at `root_key`, in map `obj`) sealed under
/// `seal`, and takes them out of `fields`; a care-tag set stays in `fields` with its members hashed.
pub(crate) fn seal_fields(
    tx: &mut impl Transactable,
    obj: &ObjId,
    root_key: &str,
    fields: &mut Map<String, Json>,
    seal: &Seal,
    fresh: bool,
) -> Result<()> {
    let (collection, _) = key::split(root_key);
    for &field in sensitive(collection) {
        let aad = field_aad(seal.id, root_key, field);
        if SET_FIELDS.contains(&field) {
            if let Some(Json::Object(members)) = fields.get_mut(field) {
                *members = members.keys().map(|m| (seal.key.member(&aad, m), Json::Bool(true))).collect();
            }
            continue;
        }
        if fields.get(field).is_none_or(empty) {
            continue;
        }
        let Some(value) = fields.remove(field) else { continue };
        let plain = serde_json::to_vec(&value)?;
        if !fresh
            && let Some((Value::Scalar(s), by)) = tx.get(obj, field)?
            && let ScalarValue::Bytes(sealed) = s.as_ref()
            && seal.key.open(writer(&by), &aad, sealed).is_ok_and(|was| *was == plain)
        {
            continue;
        }
        tx.put(obj, field, ScalarValue::Bytes(seal.key.seal(&seal.actor, &aad, &plain)))?;
    }
    Ok(())
}

/// Takes the sensitive fields out of a journal entry's JSON and seals them together under `seal`;
/// `None` when the entry has none that is not empty.
pub(crate) fn seal_entry(root_key: &str, entry: &mut Map<String, Json>, seal: &Seal) -> Result<Option<Vec<u8>>> {
    let (collection, _) = key::split(root_key);
    let mut fields = Map::new();
    for &field in sensitive(collection) {
        if entry.get(field).is_some_and(|v| !empty(v))
            && let Some(value) = entry.remove(field)
        {
            fields.insert(field.into(), value);
        }
    }
    if fields.is_empty() {
        return Ok(None);
    }
    entry.entry(JOURNAL_KEY_FIELD).or_insert_with(|| Json::String(seal.id.to_string()));
    let aad = field_aad(seal.id, root_key, ENTRY_FIELDS);
    Ok(Some(seal.key.seal(&seal.actor, &aad, &serde_json::to_vec(&fields)?)))
}

/// Opens the sensitive fields of the record map `obj` at `root_key`, read as `json` (where sealed
/// bytes read as `null`).
pub(crate) fn open_map(
    doc: &impl ReadDoc,
    obj: &ObjId,
    id: Option<&DocId>,
    root_key: &str,
    json: &mut Json,
    keys: Keys<'_>,
) -> Result<Readable> {
    let (collection, _) = key::split(root_key);
    let fields = sensitive(collection);
    let mut readable = Readable { complete: true, wants: None };
    if fields.is_empty() {
        return Ok(readable);
    }
    let key_id = key_id(id, root_key, json);
    let key = match key_id {
        Some(key_id) => keys(key_id)?,
        None => None,
    };
    let (mut sealed_seen, mut plain_seen) = (false, false);
    let Json::Object(map) = json else { return Ok(readable) };
    for &field in fields {
        let aad = field_aad(key_id.unwrap_or_default(), root_key, field);
        if SET_FIELDS.contains(&field) {
            if let Some(Json::Object(members)) = map.get_mut(field) {
                let (opened, hashed) = open_set(members, key.as_ref(), &aad);
                *members = opened;
                sealed_seen |= hashed;
                plain_seen |= !hashed && !members.is_empty();
                readable.complete &= !hashed || key.is_some();
            }
            continue;
        }
        if let Some((Value::Scalar(s), by)) = doc.get(obj, field)? {
            match s.as_ref() {
                ScalarValue::Bytes(sealed) => {
                    sealed_seen = true;
                    match key.as_ref().map(|k| k.open(writer(&by), &aad, sealed)) {
                        Some(Ok(plain)) => {
                            map.insert(field.into(), serde_json::from_slice(&plain)?);
                        }
                        _ => {
                            readable.complete = false;
                            map.insert(field.into(), placeholder(field));
                        }
                    }
                }
                ScalarValue::Null => {}
                ScalarValue::Str(text) if text.is_empty() => {}
                _ => plain_seen = true,
            }
        }
    }
    if let Some(key_id) = key_id
        && key.is_none()
        && (sealed_seen || plain_seen)
    {
        readable.wants = Some((key_id, !sealed_seen));
    }
    Ok(readable)
}

/// Opens the sealed fields of a journal entry: `json`, and the bytes of its fields sealed together
/// by `actor` when it has them (an earlier build's entry holds them in `json`, each on its own).
pub(crate) fn open_entry(
    id: Option<&DocId>,
    root_key: &str,
    json: &mut Json,
    sealed: Option<(&[u8], &[u8])>,
    keys: Keys<'_>,
) -> Result<Readable> {
    let mut readable = Readable { complete: true, wants: None };
    let key_id = key_id(id, root_key, json);
    let (collection, _) = key::split(root_key);
    let Json::Object(map) = json else { return Ok(readable) };
    let per_field = match map.remove("sealed") {
        Some(Json::Object(fields)) => Some(fields),
        _ => None,
    };
    if sealed.is_none() && per_field.is_none() {
        let plain = sensitive(collection).iter().any(|f| map.get(*f).is_some_and(|v| !empty(v)));
        if let Some(key_id) = key_id.filter(|_| plain) {
            readable.wants = keys(key_id)?.is_none().then_some((key_id, true));
        }
        return Ok(readable);
    }
    let key = match key_id {
        Some(key_id) => keys(key_id)?.map(|k| (key_id, k)),
        None => None,
    };
    if key.is_none() {
        readable.wants = key_id.map(|k| (k, false));
    }
    if let Some((bytes, actor)) = sealed {
        let opened = key
            .as_ref()
            .and_then(|(key_id, key)| key.open(actor, &field_aad(*key_id, root_key, ENTRY_FIELDS), bytes).ok());
        match opened.map(|plain| serde_json::from_slice::<Map<String, Json>>(&plain)).transpose()? {
            Some(fields) => map.extend(fields),
            None => {
                readable.complete = false;
                for &field in sensitive(collection) {
                    map.entry(field).or_insert_with(|| placeholder(field));
                }
            }
        }
    }
    for (field, value) in per_field.unwrap_or_default() {
        let plain = match (&key, value.as_str().and_then(|v| B64.decode(v).ok())) {
            (Some((key_id, key)), Some(bytes)) => key.open(&[], &field_aad(*key_id, root_key, &field), &bytes).ok(),
            _ => None,
        };
        let value = match plain {
            Some(plain) => serde_json::from_slice(&plain)?,
            None => {
                readable.complete = false;
                placeholder(&field)
            }
        };
        map.insert(field, value);
    }
    Ok(readable)
}

/// The value of field `field` of the record at `root_key` of document `id`, from its sealed bytes
/// in one change (a record's history), written as the value `by`; `None` if the store lacks the key or the bytes do not open.
pub(crate) fn open_value(
    id: &DocId,
    root_key: &str,
    field: &str,
    sealed: &[u8],
    by: &ObjId,
    keys: Keys<'_>,
) -> Result<Option<Json>> {
    let Some(key_id) = key_id(Some(id), root_key, &Json::Null) else { return Ok(None) };
    let Some(key) = keys(key_id)? else { return Ok(None) };
    match key.open(writer(by), &field_aad(key_id, root_key, field), sealed) {
        Ok(plain) => Ok(Some(serde_json::from_slice(&plain)?)),
        Err(_) => Ok(None),
    }
}

/// The member a set's map key stands for: itself if in plaintext, else the known member whose
/// keyed hash it is; `None` if the store lacks the key or knows no such member.
pub(crate) fn open_member(
    id: &DocId,
    root_key: &str,
    field: &str,
    member: &str,
    keys: Keys<'_>,
) -> Result<Option<String>> {
    let mut one = Map::new();
    one.insert(member.to_string(), Json::Bool(true));
    let key = match key_id(Some(id), root_key, &Json::Null) {
        Some(key_id) => keys(key_id)?.map(|k| (key_id, k)),
        None => None,
    };
    let aad = field_aad(key.as_ref().map(|(id, _)| *id).unwrap_or_default(), root_key, field);
    let (opened, _) = open_set(&one, key.as_ref().map(|(_, k)| k), &aad);
    Ok(opened.keys().next().cloned())
}

/// A set's members: hashed ones (sealed) turned back into the members they stand for, by hashing
/// every member this build knows; plaintext ones kept. Returns whether any member was hashed.
fn open_set(members: &Map<String, Json>, key: Option<&DataKey>, aad: &[u8]) -> (Map<String, Json>, bool) {
    let known: Vec<String> = CareTag::ALL.iter().map(ToString::to_string).collect();
    let hashed = |m: &str| m.len() == 32 && m.bytes().all(|b| b.is_ascii_hexdigit());
    let mut opened = Map::new();
    let mut any_hashed = false;
    for member in members.keys() {
        if !hashed(member) {
            opened.insert(member.clone(), Json::Bool(true));
            continue;
        }
        any_hashed = true;
        if let Some(key) = key
            && let Some(name) = known.iter().find(|name| key.member(aad, name) == *member)
        {
            opened.insert(name.clone(), Json::Bool(true));
        }
    }
    (opened, any_hashed)
}

/// What an unreadable field reads as, only so that its record deserialises: never shown, since the
/// record is reported incomplete.
fn placeholder(field: &str) -> Json {
    match field {
        "birth_date" => Json::String("1900-01-01".into()),
        "gender" => Json::String("female".into()),
        "id_number" | "phone" => Json::Null,
        "care_tags" => Json::Object(Map::new()),
        _ => Json::String(String::new()),
    }
}
