//! A grid member's day, synced: 40 visits, 20 curtain-check records, 10 ledger edits and 5 events
//! with 2 photos each, on a store (and server) that already hold a year of the grid's history. Run
//! twice: once in words like the demo village's, on which the wire's zstd dictionary was trained,
//! and once in another place's names, addresses and notes, which the dictionary has never seen.
//! Reports round trips, bytes each way against the gzipped JSON of the same records (in plaintext,
//! and with the same fields sealed as the store seals them in the documents), sync metadata,
//! the time over a modelled 2G link, and the same day through automerge's stock sync protocol and as
//! automerge's experimental bundles.
//!
//! `cargo bench -p gridbook-e2e --bench sync_day`

use std::io::Write;

use automerge::sync::{State, SyncDoc};
use automerge::{Automerge, Change};
use chrono::{Duration, NaiveTime, TimeZone, Utc};
use flate2::Compression;
use flate2::write::GzEncoder;
use gridbook_core::sync::SyncOptions;
use gridbook_core::sync::wire::{self, SyncRequest};
use gridbook_core::{
    ChangeSet, Day, DocChanges, Durability, HouseholdEdit, NewEvent, NewHousehold, NewResident, NewRoutine, NewVisit,
    Page, Registration, Relation, SignalKind, Store, StoreConfig, Urgency, VisitKind,
};
use gridbook_e2e::proxy::Proxy;
use gridbook_e2e::{TestServer, grid, id_number, photo_file};

/// The 2G link of the issue: 250 kbit/s down, 50 kbit/s up, 300 ms round trip.
const DOWN_BPS: f64 = 250_000.0;
const UP_BPS: f64 = 50_000.0;
const RTT_S: f64 = 0.3;

fn gzip_len(bytes: &[u8]) -> usize {
    let mut enc = GzEncoder::new(Vec::new(), Compression::default());
    let _ = enc.write_all(bytes);
    enc.finish().map_or(0, |v| v.len())
}

/// The words of one place: the grid, its people, and what its grid member writes.
struct Words {
    what: &'static str,
    grid: &'static str,
    village: &'static str,
    address: fn(u16) -> String,
    head: &'static str,
    surname: &'static str,
    given: [&'static str; 3],
    purposes: [&'static str; 2],
    visit_notes: &'static str,
    household_note: fn(usize) -> String,
    category: &'static str,
    title: fn(usize) -> String,
    description: &'static str,
    /// Which household the day's `v`th visit goes to, out of 200.
    visit_order: fn(usize) -> usize,
}

/// Words like the demo village's, which trained the wire's dictionary.
const VILLAGE: Words = Words {
    what: "the demo village's words",
    grid: "幸福村第一网格",
    village: "幸福村",
    address: |h| format!("幸福村{}组{}号", h / 40 + 1, h % 40 + 1),
    head: "张德顺",
    surname: "张",
    given: ["德", "秀", "建"],
    purposes: ["安全检查", "反诈宣传"],
    visit_notes: "老人身体状况良好，家中无安全隐患",
    household_note: |i| format!("{i}号户：子女在杭州打工，每周来电"),
    category: "市政设施",
    title: |e| format!("{e}号路灯不亮"),
    description: "连续三晚不亮，老人夜里出门看不见",
    visit_order: |v| v * 5,
};

/// A city neighbourhood's words, which the dictionary has never seen.
const NEIGHBOURHOOD: Words = Words {
    what: "another place's words",
    grid: "光华社区第七网格",
    village: "光华社区",
    address: |h| format!("光华路{}弄{}号{}室", h / 20 + 12, h % 20 + 3, 101 + h % 6),
    head: "欧阳明远",
    surname: "欧阳",
    given: ["明", "慧", "涛"],
    purposes: ["医保政策宣讲", "独居老人探访"],
    visit_notes: "血压偏高，已叮嘱按时服药，约了社区医生周四上门",
    household_note: |i| format!("{i}室租户更换：新租户为外地务工人员，已登记暂住证"),
    category: "环境卫生",
    title: |e| format!("{e}号楼道堆放杂物"),
    description: "电动车和纸箱堵住楼道，存在消防隐患，已联系物业",
    visit_order: |v| (v * 37 + 11) % 200,
};

/// A year of one grid: 200 households, 600 residents, 20 curtain-check routines checked daily,
/// 40 visits a working day.
fn year_of_history(
    store: &Store,
    words: &Words,
) -> (gridbook_core::GridId, Vec<gridbook_core::HouseholdId>, Vec<gridbook_core::RoutineId>) {
    let g = store.create_grid(grid(words.grid, words.village)).expect("grid");
    let mut homes = Vec::new();
    let mut routines = Vec::new();
    for h in 0..200u16 {
        let home = store
            .add_household(
                g.id,
                NewHousehold { address: (words.address)(h), head_name: words.head.into(), ..Default::default() },
            )
            .expect("household");
        for r in 0..3u16 {
            let resident = store
                .add_resident(
                    home.id,
                    NewResident {
                        name: format!("{}{}{}", words.surname, words.given[r as usize], h),
                        id_number: Some(id_number(
                            "330102",
                            &format!("19{:02}0{}1{}", 40 + h % 50, 1 + r % 9, r % 9),
                            h * 3 + r,
                        )),
                        gender: None,
                        birth_date: None,
                        relation: if r == 0 { Relation::Head } else { Relation::Child },
                        phone: Some(format!("138{:08}", u32::from(h) * 10 + u32::from(r))),
                        registration: Registration::Registered,
                        care_tags: Default::default(),
                    },
                )
                .expect("resident");
            if r == 0 && h % 10 == 0 {
                let routine = NewRoutine {
                    signal: SignalKind::Curtains,
                    deadline: NaiveTime::from_hms_opt(7, 30, 0).expect("time"),
                    days: Day::ALL.into_iter().collect(),
                    note: String::new(),
                };
                routines.push(store.add_routine(resident.id, routine).expect("routine").id);
            }
        }
        homes.push(home.id);
    }
    let today = store.today();
    for back in (1..=365).rev() {
        let day = today - Duration::days(back);
        let morning = Utc.from_utc_datetime(&day.and_hms_opt(23, 10, 0).expect("time")) - Duration::days(1);
        for routine in &routines {
            store.record_sighting(*routine, Some(day), Some(morning), "").expect("sighting");
        }
        if back % 7 < 5 {
            for v in 0..40 {
                let at = morning + Duration::hours(2) + Duration::minutes(v * 5);
                visit(store, words, homes[(back as usize * 40 + v as usize) % homes.len()], at);
            }
        }
    }
    (g.id, homes, routines)
}

fn visit(
    store: &Store,
    words: &Words,
    home: gridbook_core::HouseholdId,
    at: chrono::DateTime<Utc>,
) -> gridbook_core::Visit {
    store
        .record_visit(
            home,
            NewVisit {
                kind: VisitKind::Home,
                at: Some(at),
                purposes: words.purposes.iter().map(|p| p.to_string()).collect(),
                notes: words.visit_notes.into(),
                satisfaction: None,
            },
        )
        .expect("visit")
}

#[tokio::main]
async fn main() {
    for words in [&VILLAGE, &NEIGHBOURHOOD] {
        day(words).await;
    }
}

/// One grid member's day in `words`, on a server of its own.
async fn day(words: &Words) {
    println!("# The day in {}", words.what);
    let server = TestServer::start().await;
    let dir = tempfile::tempdir().expect("dir");
    let mut config = StoreConfig::new("王芳", "phone-wang");
    config.durability = Durability::Normal;
    let store = Store::open(dir.path(), config).expect("store");
    let built = std::time::Instant::now();
    let (g, homes, routines) = year_of_history(&store, words);
    let history_changes = store.changes_since(&Default::default()).expect("changes").change_count();
    eprintln!("history: {history_changes} changes, built in {:.1?}", built.elapsed());
    let token = server.grid_member("phone-wang", &[&store.grid(g).expect("grid")]);
    let remote = server.remote(&token);
    let upload = SyncOptions { budget: 4 << 20, ..SyncOptions::default() };
    store.sync(&remote, &upload).await.expect("the year goes up");
    let before_day = store.changes_since(&Default::default()).expect("changes");

    // The day.
    let photos = tempfile::tempdir().expect("dir");
    let mut records: Vec<serde_json::Value> = Vec::new();
    let now = Utc::now();
    for v in 0..40 {
        records.push(
            serde_json::to_value(visit(
                &store,
                words,
                homes[(words.visit_order)(v)],
                now - Duration::minutes(400 - v as i64 * 5),
            ))
            .expect("json"),
        );
    }
    for routine in routines.iter().cycle().take(20) {
        records.push(
            serde_json::to_value(store.record_sighting(*routine, None, None, "").expect("sighting")).expect("json"),
        );
    }
    for (i, home) in homes.iter().take(10).enumerate() {
        let edit = HouseholdEdit { notes: Some((words.household_note)(i)), ..Default::default() };
        records.push(serde_json::to_value(store.edit_household(*home, edit).expect("edit")).expect("json"));
    }
    for (e, home) in homes.iter().enumerate().take(5) {
        let event = store
            .report_event(
                g,
                NewEvent {
                    category: words.category.into(),
                    title: (words.title)(e),
                    description: words.description.into(),
                    location: None,
                    household_id: Some(*home),
                    urgency: Urgency::Routine,
                },
            )
            .expect("event");
        for p in 0..2 {
            let file = photo_file(photos.path(), &format!("{e}-{p}.jpg"), 4000, 3000);
            store.attach_photo(event.id, &file, None, None).expect("photo");
        }
        records.push(serde_json::to_value(store.event(event.id).expect("event")).expect("json"));
    }
    let json = serde_json::to_vec(&records).expect("json");
    let json_gz = gzip_len(&json);
    let sealed_gz = gzip_len(&sealed_json(&records));

    let prepared = store.prepare_sync(upload.budget).expect("prepare");
    let (request, request_metadata) = prepared.request.encode_measured();
    payload_breakdown(&prepared.request, json_gz);

    let proxy = Proxy::start(server.addr()).await;
    let via_proxy = server.remote_at(&proxy.url(), &token);
    let records_only = SyncOptions { photos: false, ..SyncOptions::default() };
    let started = std::time::Instant::now();
    let report = store.sync(&via_proxy, &records_only).await.expect("the day syncs");
    let elapsed = started.elapsed();
    let (wire_up, wire_down, _) = proxy.traffic();
    proxy.cut(gridbook_e2e::proxy::Cut::Up(u64::MAX));
    let photo_report = store.sync(&via_proxy, &SyncOptions::default()).await.expect("photos");
    let (photo_up, _, _) = proxy.traffic();
    let photo_sizes: Vec<u64> = store
        .open_events(Some(g), None)
        .expect("events")
        .iter()
        .flat_map(|e| e.photos.iter().map(|p| p.bytes))
        .collect();

    // Connection setup (TCP + TLS 1.3) is two round trips; each exchange one more.
    let model_2g =
        RTT_S * (2 + report.round_trips) as f64 + wire_up as f64 * 8.0 / UP_BPS + wire_down as f64 * 8.0 / DOWN_BPS;
    println!("## A grid member's day in {} (history on device and server: {history_changes} changes)", words.what);
    println!("round trips: {}", report.round_trips);
    println!("sync payload up (compressed messages): {} B; down: {} B", report.bytes_up, report.bytes_down);
    println!("on the wire incl. HTTP headers: up {wire_up} B, down {wire_down} B");
    println!("same records as gzipped JSON: {json_gz} B (plain JSON {} B)", json.len());
    println!("payload / gzipped JSON: {:.2}", report.bytes_up as f64 / json_gz as f64);
    println!(
        "same records as gzipped JSON with the same fields sealed: {sealed_gz} B; payload / that: {:.2} (target 1.25)",
        report.bytes_up as f64 / sealed_gz as f64
    );
    // The same comparison like for like: the JSON through the wire's own zstd and dictionary, and
    // this request through gzip as the wire compressed it before the dictionary.
    let request_gz = gzip_len(&request);
    println!(
        "like for like: JSON through the wire's zstd + dictionary {} B; this request gzipped {request_gz} B ({:.2}× gzipped JSON)",
        wire::compress(&json).len(),
        request_gz as f64 / json_gz as f64
    );
    println!(
        "sync metadata: request {request_metadata} B before compression (framing, cursor, document names, dependency references), reply {} B",
        report.bytes_down
    );
    println!("time over modelled 2G (250/50 kbit/s, 300 ms RTT): {model_2g:.2} s; on loopback {elapsed:.1?}");
    println!(
        "photos: {} uploaded, {} B on the wire; sizes {:?} KB (max {} KB); chunk 64 KB",
        photo_report.photos_uploaded,
        photo_up,
        photo_sizes.iter().map(|b| b / 1024).collect::<Vec<_>>(),
        photo_sizes.iter().max().unwrap_or(&0) / 1024
    );

    let after_day = store.changes_since(&Default::default()).expect("changes");
    bundles(&before_day, &after_day);
    stock_automerge(&before_day, &after_day);
    let _ = store.households(g, false, Page::ALL);
}

/// The same day through automerge's stock sync protocol, one sync state per document, as a server
/// without per-device state would run it (fresh state) and as one that kept it from yesterday.
/// The records' JSON with the fields the store seals (see `gridbook_core`'s `doc::sealed`) sealed the
/// same way, base64-encoded since JSON carries no bytes: a version byte, the ciphertext and the tag
/// under AES-256-GCM-SIV, whose nonce is derived rather than carried; a journal entry's fields (a
/// visit's, a curtain check's) sealed together, a record's each on its own; an empty field left as
/// it is; a care-tag set's members as 32 hex digits each, the size of their keyed hashes.
fn sealed_json(records: &[serde_json::Value]) -> Vec<u8> {
    use aes_gcm_siv::aead::{Aead, KeyInit};
    use base64::Engine;
    use serde_json::Value;
    let empty = |value: &Value| value.is_null() || value.as_str().is_some_and(str::is_empty);
    // A key of its own each time, as each record has: the same note in two records seals to two
    // unrelated ciphertexts, which no compressor finds alike.
    let seal = |value: &Value| {
        let cipher = aes_gcm_siv::Aes256GcmSiv::new(&rand::random::<[u8; 32]>().into());
        let plain = serde_json::to_vec(value).expect("json");
        let sealed = cipher.encrypt(&rand::random::<[u8; 12]>().into(), plain.as_slice()).expect("seal");
        Value::String(base64::engine::general_purpose::STANDARD_NO_PAD.encode([&[2u8][..], &sealed].concat()))
    };
    // Which fields the store seals, and whether together (a journal entry).
    let fields = |record: &Value| -> (&'static [&'static str], bool) {
        if record.get("head_name").is_some() {
            (&["address", "head_name", "phone", "notes", "care_tags"], false)
        } else if record.get("purposes").is_some() {
            (&["notes"], true)
        } else if record.get("routine_id").is_some() {
            (&["note"], true)
        } else if record.get("title").is_some() {
            (&["title", "description"], false)
        } else {
            (&[], false)
        }
    };
    let sealed: Vec<Value> = records
        .iter()
        .map(|record| {
            let mut record = record.clone();
            let (names, together) = fields(&record.clone());
            let mut entry = serde_json::Map::new();
            for &field in names {
                let Some(value) = record.get_mut(field) else { continue };
                if empty(value) {
                    continue;
                }
                if together {
                    entry.insert(field.into(), value.take());
                    continue;
                }
                *value = match &*value {
                    Value::Object(members) => Value::Object(
                        members.keys().map(|_| (hex::encode(rand::random::<[u8; 16]>()), Value::Bool(true))).collect(),
                    ),
                    other => seal(other),
                };
            }
            if !entry.is_empty() {
                record["sealed"] = seal(&Value::Object(entry));
                if let Some(map) = record.as_object_mut() {
                    map.retain(|field, _| !names.contains(&field.as_str()));
                }
            }
            if let Some(Value::Array(steps)) = record.get_mut("steps") {
                for step in steps {
                    if let Some(note) = step.get_mut("note").filter(|n| !empty(n)) {
                        *note = seal(note);
                    }
                }
            }
            record
        })
        .collect();
    serde_json::to_vec(&sealed).expect("json")
}

fn stock_automerge(before: &ChangeSet, after: &ChangeSet) {
    let docs_of = |set: &ChangeSet, name: &str| -> Automerge {
        let mut doc = Automerge::new();
        let changes = set.docs.iter().filter(|d| d.doc == name).flat_map(|d| d.changes.iter());
        doc.apply_changes(changes.map(|c| Change::from_bytes(c.clone()).expect("change"))).expect("apply");
        doc
    };
    let touched: Vec<&str> = after
        .docs
        .iter()
        .filter(|d| before.docs.iter().find(|b| b.doc == d.doc).is_none_or(|b| b.changes.len() != d.changes.len()))
        .map(|d| d.doc.as_str())
        .collect();
    for fresh in [true, false] {
        let (mut up, mut down, mut rounds) = (0usize, 0usize, 0usize);
        for name in &touched {
            let device = docs_of(after, name);
            let mut server = docs_of(before, name);
            let (mut s_dev, mut s_srv) = (State::new(), State::new());
            if !fresh {
                // Yesterday's exchange left both states in sync: replay it without counting.
                let mut old_device = docs_of(before, name);
                exchange(&mut old_device, &mut server.clone(), &mut s_dev, &mut s_srv);
            }
            let (u, d, r) = exchange(&mut device.clone(), &mut server, &mut s_dev, &mut s_srv);
            up += u;
            down += d;
            rounds = rounds.max(r);
        }
        let label = if fresh { "fresh sync state" } else { "sync state kept from yesterday" };
        println!(
            "automerge stock sync ({label}): {} documents, {rounds} round trips batched across documents, up {up} B, down {down} B (each message gzipped)",
            touched.len()
        );
    }
}

fn exchange(
    device: &mut Automerge,
    server: &mut Automerge,
    s_dev: &mut State,
    s_srv: &mut State,
) -> (usize, usize, usize) {
    let (mut up, mut down, mut rounds) = (0, 0, 0);
    loop {
        let to_server = device.generate_sync_message(s_dev);
        let sent = to_server.is_some();
        if let Some(m) = to_server {
            let bytes = m.encode();
            up += gzip_len(&bytes);
            server.receive_sync_message(s_srv, automerge::sync::Message::decode(&bytes).expect("msg")).expect("recv");
        }
        let to_device = server.generate_sync_message(s_srv);
        let replied = to_device.is_some();
        if let Some(m) = to_device {
            let bytes = m.encode();
            down += gzip_len(&bytes);
            device.receive_sync_message(s_dev, automerge::sync::Message::decode(&bytes).expect("msg")).expect("recv");
        }
        if !sent && !replied {
            return (up, down, rounds);
        }
        rounds += 1;
    }
}

/// The same day's changes per document as automerge's experimental bundles (columnar, like a saved
/// document), beside this exchange's encoding of the same document alone, both gzipped.
fn bundles(before: &ChangeSet, after: &ChangeSet) {
    let decode = |c: &Vec<u8>| Change::from_bytes(c.clone()).expect("change");
    let (mut ours_total, mut bundles_total, mut round_trip) = (0, 0, true);
    for d in &after.docs {
        let old: std::collections::HashSet<_> = before
            .docs
            .iter()
            .filter(|b| b.doc == d.doc)
            .flat_map(|b| b.changes.iter().map(|c| decode(c).hash()))
            .collect();
        let all: Vec<Change> = d.changes.iter().map(decode).collect();
        let new: Vec<Change> = all.iter().filter(|c| !old.contains(&c.hash())).cloned().collect();
        if new.is_empty() {
            continue;
        }
        let mut doc = Automerge::new();
        doc.apply_changes(all).expect("apply");
        let bundle = doc.bundle(new.iter().map(Change::hash)).expect("bundle");
        let back = bundle.to_changes().expect("unbundle");
        round_trip &= back.iter().map(Change::hash).eq(new.iter().map(Change::hash));
        let request = SyncRequest {
            cursor: vec![],
            docs: vec![DocChanges {
                doc: d.doc.clone(),
                changes: new.iter().map(|c| c.raw_bytes().to_vec()).collect(),
            }],
            ..Default::default()
        };
        // The same gzip for both, so that the comparison is of the encodings alone.
        let (ours, bundled) = (gzip_len(&request.encode()), gzip_len(bundle.bytes()));
        if new.len() > 10 {
            println!(
                "automerge bundle of {}'s {} changes: {bundled} B gzipped; this exchange: {ours} B",
                d.doc,
                new.len()
            );
        }
        ours_total += ours;
        bundles_total += bundled;
    }
    println!(
        "per document, gzipped alone: this exchange {ours_total} B, automerge bundles {bundles_total} B (bundles give back the same change hashes: {round_trip})"
    );
}

/// Where the payload's bytes are: the same request re-encoded with one part of every change taken
/// out or rewritten, each compressed as the wire does. The changes are rebuilt in order with their
/// dependencies renamed, so a rewritten list still references its own earlier changes.
fn payload_breakdown(request: &SyncRequest, json_gz: usize) {
    use automerge::legacy::{Key, ObjectId, Op, OpType, SortedVec};
    use automerge::{ChangeHash, ExpandedChange, ScalarValue};
    type Rewrite<'a> = dyn Fn(&mut ExpandedChange, bool) + 'a;
    let size = |rewrite: &Rewrite<'_>| {
        let mut renamed: std::collections::HashMap<ChangeHash, ChangeHash> = Default::default();
        let mut out = request.clone();
        for d in &mut out.docs {
            for (i, bytes) in d.changes.iter_mut().enumerate() {
                let change = Change::try_from(&bytes[..]).expect("change");
                let mut expanded = change.decode();
                expanded.deps = expanded.deps.iter().map(|h| *renamed.get(h).unwrap_or(h)).collect();
                rewrite(&mut expanded, i == 0);
                let rebuilt = Change::from(expanded);
                renamed.insert(change.hash(), rebuilt.hash());
                *bytes = rebuilt.raw_bytes().to_vec();
            }
        }
        wire::compress(&out.encode()).len()
    };
    // A map made and filled by one change (a photo reference, an event's report) as one JSON string.
    fn as_entry(e: &mut ExpandedChange) {
        let Some(first) = e.operations.first().cloned() else { return };
        if !matches!(first.action, OpType::Make(_)) || e.operations.len() < 3 {
            return;
        }
        let fields: serde_json::Map<String, serde_json::Value> = e.operations[1..]
            .iter()
            .filter_map(|op| match (&op.key, &op.action) {
                (Key::Map(k), OpType::Put(v)) => Some((k.to_string(), serde_json::to_value(v).ok()?)),
                _ => None,
            })
            .collect();
        let value = ScalarValue::Str(serde_json::Value::Object(fields).to_string().into());
        e.operations = vec![Op {
            action: OpType::Put(value),
            obj: ObjectId::Root,
            key: first.key,
            pred: SortedVec::new(),
            insert: false,
        }];
    }
    let whole = size(&|_, _| {});
    let parts: [(&str, &Rewrite<'static>); 4] = [
        ("without the dependency hashes of each document's first change", &|e, first| {
            if first {
                e.deps.clear();
            }
        }),
        ("with maps made in one change as one JSON string", &|e, _| as_entry(e)),
        ("without commit messages (who, which device, what)", &|e, _| e.message = None),
        ("without timestamps", &|e, _| e.time = 0),
    ];
    let all_four = |e: &mut ExpandedChange, first: bool| parts.iter().for_each(|(_, rewrite)| rewrite(e, first));
    let variants = parts.iter().copied().chain([("all four", &all_four as &Rewrite<'_>)]);
    println!(
        "payload breakdown: the request rebuilt as it is, {whole} B ({:.2}× gzipped JSON)",
        whole as f64 / json_gz as f64
    );
    for (what, rewrite) in variants {
        let b = size(rewrite);
        println!("  {what}: {b} B ({:.2}×), {} B less", b as f64 / json_gz as f64, whole as i64 - b as i64);
    }
}
