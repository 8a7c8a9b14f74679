use automerge::transaction::Transactable;
use automerge::{AutoCommit, ROOT};
use std::io::Write;
use zstd::stream::raw::CParameter;

use super::*;

fn sample() -> SyncResponse {
    SyncResponse {
        cursor: vec![1, 2, 3],
        more: true,
        docs: vec![DocChanges { doc: "g/x".into(), changes: vec![vec![9; 300], vec![]] }],
        refused: vec![Refusal { doc: format!("g/{GRID}"), reason: RefusalReason::NotAllowed }],
        ..Default::default()
    }
}

const GRID: &str = "01a20427-e6d5-74b4-ab19-58aa52cdf9fa";
const ID: &str = "01a20427-e6d9-752c-8089-15fee0f65389";

/// A document's changes in causal order: a chain by one actor, then a merge of another actor's
/// branch, whose change depends on two heads.
fn chain() -> Vec<Vec<u8>> {
    let mut a = AutoCommit::new();
    for i in 0..3 {
        a.put(ROOT, format!("k{i}"), "value").unwrap();
        a.commit();
    }
    let mut b = a.fork();
    b.put(ROOT, "b", 1).unwrap();
    b.commit();
    a.put(ROOT, "a", 2).unwrap();
    a.commit();
    a.merge(&mut b).unwrap();
    a.put(ROOT, "merged", true).unwrap();
    a.commit();
    a.get_changes(&[]).iter().map(|c| c.raw_bytes().to_vec()).collect()
}

fn real() -> SyncRequest {
    let names = [
        format!("g/{GRID}"),
        format!("h/{GRID}/{ID}"),
        format!("j/{GRID}/2026-03"),
        format!("e/{ID}/{GRID}"),
        // Not in the canonical form a binary id decodes to: sent as text, unchanged.
        format!("h/{}/{ID}", GRID.to_uppercase()),
        format!("j/{GRID}/2026-3"),
        "x/y".into(),
    ];
    let mut changes = chain();
    changes.push(vec![9; 30]);
    changes.push(Vec::new());
    let docs = names.into_iter().map(|doc| DocChanges { doc, changes: changes.clone() }).collect();
    SyncRequest { cursor: vec![4; 24], docs, ..Default::default() }
}

#[test]
fn round_trips() {
    let limits = Limits::default();
    let resp = sample();
    assert_eq!(SyncResponse::decode(&resp.encode(), &limits), Ok(resp.clone()));
    let req = SyncRequest { cursor: vec![], docs: resp.docs.clone(), ..Default::default() };
    assert_eq!(SyncRequest::decode(&req.encode(), &limits), Ok(req));
    let packed = compress(&resp.encode());
    assert_eq!(decompress(&packed, &limits).map(|b| SyncResponse::decode(&b, &limits)), Ok(Ok(resp)));
    let real = real();
    assert_eq!(SyncRequest::decode(&real.encode(), &limits), Ok(real));
    // A list that starts after changes sent before (a day after yesterday's sync): its first change
    // names one dependency in full.
    let later = SyncRequest {
        cursor: vec![],
        docs: vec![DocChanges { doc: format!("g/{GRID}"), changes: chain()[1..].to_vec() }],
        ..Default::default()
    };
    assert_eq!(SyncRequest::decode(&later.encode(), &limits), Ok(later));
}

#[test]
fn names_are_binary_and_dependencies_are_references() {
    let changes = chain();
    let docs = |doc: String| vec![DocChanges { doc, changes: changes.clone() }];
    let request = SyncRequest { cursor: Vec::new(), docs: docs(format!("h/{GRID}/{ID}")), ..Default::default() };
    let (bytes, metadata) = request.encode_measured();
    // Of each change, its 10-byte header and its count of dependencies, and all 6 dependencies, each
    // on a change before it in the list, stay at home.
    let raw: usize = changes.iter().map(Vec::len).sum();
    assert_eq!(bytes.len() - metadata, raw - 6 * 11 - 6 * 32);
    // Magic, cursor, the grid, the name, and per change its form (its body giving its own length),
    // plus the dependency lists of the three changes that do not depend on just the change before
    // them: the first (an empty list), a change two places back, and the merge of two. Then the
    // empty list of relayed changes' proofs, the flag of the store's signature, absent, and the
    // empty keys sections, the empty list of erasures and the last notice carried out, none.
    let v8_metadata = 4 + 1 + 1 + 16 + 1 + 17 + 1 + 6 + 1 + 2 + 3 + 1 + 1 + 2 + 2;
    assert_eq!(request.encode_in(Version::V8).1, v8_metadata);
    // Version 9 leaves out the five first bytes the household's id shares with its grid's (both
    // made the same second), and the first change's empty list of dependencies.
    assert_eq!(metadata, v8_metadata - 5 - 1);
    // Version 5 gave each change's length, in one varint with its form, and had no signature.
    let (v5, v5_metadata) = request.encode_in(Version::V5);
    assert_eq!(v5.len() - v5_metadata, bytes.len() - metadata);
    assert_eq!(v5_metadata, 4 + 1 + 1 + 16 + 1 + 17 + 1 + 6 * 2 + 1 + 2 + 3 + 1);
    assert_eq!(SyncRequest::decode(&v5, &Limits::default()), Ok(request.clone()));
    let signed = SyncRequest { signed: Some([7; 64]), ..request.clone() };
    assert_eq!(signed.encode_measured().1, metadata + 64);
    assert_eq!(SyncRequest::decode(&signed.encode(), &Limits::default()), Ok(signed));
    let text =
        SyncRequest { cursor: Vec::new(), docs: docs(format!("h/{GRID}/{}", ID.to_uppercase())), ..Default::default() };
    assert_eq!(text.encode_measured().1, metadata - 16 - (17 - 5) + 77);
}

/// A day's journal: entries one after another, each depending only on the one before.
fn journal(entries: usize) -> Vec<Vec<u8>> {
    let mut doc = AutoCommit::new();
    for i in 0..entries {
        doc.put(ROOT, format!("entry {i}"), "8:10 窗帘已拉开").unwrap();
        doc.commit();
    }
    doc.get_changes(&[]).iter().map(|c| c.raw_bytes().to_vec()).collect()
}

#[test]
fn a_chain_of_changes_travels_without_a_head_each_from_version_9() {
    let limits = Limits::default();
    let docs = vec![
        DocChanges { doc: format!("j/{GRID}/2026-12"), changes: journal(60) },
        // Not a chain (a merge): each change keeps its head.
        DocChanges { doc: format!("h/{GRID}/{ID}"), changes: chain() },
        DocChanges { doc: format!("e/{GRID}/{ID}"), changes: journal(1) },
    ];
    let request = SyncRequest { docs, ..Default::default() };
    let ((v9, v9_metadata), (v8, v8_metadata)) = (request.encode_measured(), request.encode_in(Version::V8));
    // A head saved on each of the journal's entries after its first; a byte on each document's
    // first change (no dependencies); the five bytes the household's id shares with its grid's,
    // and fifteen of the event's, whose id is the household's.
    let saved = 59 + 3 + 5 + 15;
    assert_eq!(v8_metadata - v9_metadata, saved);
    assert_eq!(v8.len() - v9.len(), saved);
    assert_eq!(SyncRequest::decode(&v9, &limits), Ok(request.clone()));
    assert_eq!(SyncRequest::decode(&v8, &limits), Ok(request));
}

#[test]
fn a_chain_flag_on_fewer_than_two_changes_is_malformed() {
    let change = &journal(1)[0];
    let (parts, _) = chunk::split(change).unwrap();
    let mut bytes = Version::V9.magic(REQUEST_TAG).to_vec();
    bytes.extend([0, 1]);
    bytes.extend(uuid::Uuid::parse_str(GRID).unwrap().as_bytes());
    // One document, the grid's, of one change flagged as a chain; the change's head (listed
    // dependencies, none), then its body.
    bytes.extend([1, 1, 1 << 1 | 1, 3, 0]);
    bytes.extend(parts.rest);
    assert_eq!(SyncRequest::decode(&bytes, &Limits::default()), Err(WireError::Malformed("chained changes")));
    // The same change unflagged is read (and the rest of the request is missing).
    let flag = 4 + 2 + 16 + 2;
    bytes[flag] = 1 << 1;
    assert_eq!(SyncRequest::decode(&bytes, &Limits::default()), Err(WireError::Truncated));
    // A name without an id (the grid's) that says it shares bytes of one.
    bytes[flag - 1] = 3 << 3 | 1;
    assert_eq!(SyncRequest::decode(&bytes, &Limits::default()), Err(WireError::Malformed("document name")));
}

#[test]
fn a_change_with_bytes_after_its_columns_travels_with_its_length() {
    let limits = Limits::default();
    let mut changes = chain();
    let (parts, _) = chunk::split(&changes[1]).unwrap();
    let rest = [parts.rest, &[0xee, 0xff]].concat();
    let (padded, _) = chunk::rebuild(&chunk::Parts { deps: parts.deps, rest: &rest });
    changes[1] = padded;
    let request = SyncRequest { docs: vec![DocChanges { doc: format!("h/{GRID}/{ID}"), changes }], ..real() };
    for version in [Version::V9, Version::V6, Version::V5] {
        assert_eq!(SyncRequest::decode(&request.encode_as(version), &limits), Ok(request.clone()), "{version:?}");
    }
}

#[test]
fn a_delimited_change_head_that_names_no_body_is_malformed() {
    // One document whose one change has the delimited head 0: a whole chunk, of no stated length.
    let mut bytes = b"GBQ6".to_vec();
    bytes.extend([0, 1]);
    bytes.extend(uuid::Uuid::parse_str(GRID).unwrap().as_bytes());
    bytes.extend([1, 1, 1, 0, 0, 0]);
    assert_eq!(SyncRequest::decode(&bytes, &Limits::default()), Err(WireError::Malformed("change head")));
    // The same head flagged as sized is an empty chunk, which decodes (and the server refuses).
    let head = bytes.len() - 3;
    bytes[head] = 4;
    assert!(SyncRequest::decode(&bytes, &Limits::default()).is_ok());
}

/// A request of one document, `g/{GRID}`, whose changes section is `changes` (in version 4, which
/// ends there).
fn crafted(changes: &[u8]) -> Vec<u8> {
    let mut bytes = Version::V4.magic(REQUEST_TAG).to_vec();
    bytes.extend([0, 1]);
    bytes.extend(uuid::Uuid::parse_str(GRID).map(|g| *g.as_bytes()).unwrap_or_default());
    bytes.extend([1, 1]);
    bytes.extend(changes);
    bytes
}

/// Where the name of [`crafted`]'s document starts.
const NAME: usize = 4 + 2 + 16 + 1;

#[test]
fn malformed_documents_are_typed_errors() {
    let limits = Limits::default();
    let decode = |bytes: &[u8]| SyncRequest::decode(bytes, &limits);
    let empty = DocChanges { doc: format!("g/{GRID}"), changes: vec![] };
    assert_eq!(decode(&crafted(&[0])), Ok(SyncRequest { cursor: vec![], docs: vec![empty], ..Default::default() }));
    let mut bad_grid = crafted(&[0]);
    bad_grid[NAME] = 1 << 3 | 1;
    assert_eq!(decode(&bad_grid), Err(WireError::Malformed("grid index")));
    for kind in [7, 1 << 3] {
        let mut bad_kind = crafted(&[0]);
        bad_kind[NAME] = kind;
        assert_eq!(decode(&bad_kind), Err(WireError::Malformed("document kind")));
    }
    let mut month = crafted(&[0]);
    month[NAME] = 3;
    month.splice(NAME + 1..NAME + 1, [0xc0, 0xa9, 0x07]);
    assert_eq!(decode(&month), Err(WireError::Malformed("journal month")));
    assert_eq!(decode(&crafted(&[1, 0xfc, 0xff, 0xff, 0xff, 0x0f])), Err(WireError::TooLarge("field size")));
    // A first change cannot depend on the change before it; nor any change on one sent whole.
    assert_eq!(decode(&crafted(&[1, 1])), Err(WireError::Malformed("dependency")));
    assert_eq!(decode(&crafted(&[2, 1 << 2, 9, 3, 1, 1])), Err(WireError::Malformed("dependency")));
    assert_eq!(decode(&crafted(&[1, 3, 2, 0])), Err(WireError::Truncated));
    assert_eq!(decode(&crafted(&[1, 2, 0])), Err(WireError::Truncated));
    assert_eq!(decode(&crafted(&[1, 3, 0x81, 0x08])), Err(WireError::TooLarge("dependencies")));
}

#[test]
fn references_cannot_inflate_a_message_past_its_limit() {
    // Each change names the one before it 1,024 times: 1 KB on the wire, 32 KB rebuilt.
    let first = chain().remove(0);
    let Some((parts, _)) = chunk::split(&first) else { panic!("a plain change") };
    let n = 60;
    let mut changes = vec![n + 1];
    codec::put_varint(&mut changes, (parts.rest.len() as u64) << 2 | 3);
    changes.push(0);
    changes.extend(parts.rest);
    for _ in 0..n {
        changes.push(3);
        codec::put_varint(&mut changes, 1024);
        changes.extend([1; 1024]);
    }
    let bytes = crafted(&changes);
    assert!(bytes.len() < 64 << 10);
    let limits = Limits { max_message_bytes: 256 << 10, ..Limits::default() };
    assert_eq!(SyncRequest::decode(&bytes, &limits), Err(WireError::TooLarge("rebuilt size")));
    let roomy = Limits { max_message_bytes: 4 << 20, ..Limits::default() };
    assert_eq!(SyncRequest::decode(&bytes, &roomy).map(|r| r.docs[0].changes.len()), Ok(61));
}

#[test]
fn every_truncation_is_an_error_not_a_panic() {
    for bytes in [sample().encode(), SyncResponse { docs: real().docs, ..sample() }.encode()] {
        for cut in 0..bytes.len() {
            assert!(SyncResponse::decode(&bytes[..cut], &Limits::default()).is_err());
        }
    }
}

#[test]
fn huge_counts_are_refused_before_allocating() {
    let mut bytes = Version::CURRENT.magic(RESPONSE_TAG).to_vec();
    bytes.extend([0, 0]);
    put_varint(&mut bytes, u64::MAX >> 1);
    assert!(SyncResponse::decode(&bytes, &Limits::default()).is_err());
}

#[test]
fn a_compression_bomb_is_refused_in_either_codec() {
    let limits = Limits { max_message_bytes: 1 << 20, ..Limits::default() };
    for codec in [Codec::Zstd, Codec::Gzip] {
        let bomb = compress_as(codec, &vec![0u8; 8 << 20]);
        assert_eq!(decompress(&bomb, &limits), Err(WireError::TooLarge("inflated size")), "{codec:?}");
    }
}

#[test]
fn both_codecs_carry_a_message_and_are_told_apart_by_their_bytes() {
    let request = SyncRequest { cursor: vec![1, 2, 3], docs: vec![], ..Default::default() }.encode();
    for codec in [Codec::Zstd, Codec::Gzip] {
        let body = compress_as(codec, &request);
        assert_eq!(Codec::of(&body), Some(codec));
        assert_eq!(decompress(&body, &Limits::default()).as_deref(), Ok(&request[..]));
    }
    assert_eq!(Codec::of(&compress(&request)), Some(Codec::Zstd), "devices send zstd");
    assert_eq!(
        decompress(b"GBQ3 not compressed", &Limits::default()),
        Err(WireError::Malformed("neither zstd nor gzip"))
    );
}

#[test]
fn a_frame_made_with_another_dictionary_is_refused() {
    // A dictionary's id is the four bytes after its magic.
    let mut other = include_bytes!("dictionary.zdict").to_vec();
    other[4..8].copy_from_slice(&0x4242_4242u32.to_le_bytes());
    let request = SyncRequest { cursor: vec![9; 40], docs: vec![], ..Default::default() }.encode();
    let mut compressor = zstd::bulk::Compressor::with_dictionary(3, &other).expect("compressor");
    compressor.set_parameter(CParameter::ChecksumFlag(true)).expect("checksum");
    let body = compressor.compress(&request).expect("compress");
    assert_eq!(decompress(&body, &Limits::default()), Err(WireError::Malformed("zstd")));
}

#[test]
fn a_frame_asking_for_a_huge_window_is_refused_before_allocating_it() {
    let mut enc = zstd::stream::write::Encoder::new(Vec::new(), 3).expect("encoder");
    enc.include_checksum(true).expect("checksum");
    enc.set_parameter(CParameter::WindowLog(30)).expect("window");
    enc.write_all(b"a small message in a frame that declares a 1 GiB window").expect("write");
    let body = enc.finish().expect("finish");
    assert_eq!(decompress(&body, &Limits::default()), Err(WireError::Malformed("zstd")));
}

/// A zstd frame made with the shared dictionary, with or without the content checksum.
fn zstd_frame(message: &[u8], checksum: bool) -> Vec<u8> {
    let mut compressor = zstd::bulk::Compressor::with_dictionary(19, include_bytes!("dictionary.zdict")).expect("c");
    compressor.set_parameter(CParameter::ChecksumFlag(checksum)).expect("checksum");
    compressor.compress(message).expect("compress")
}

#[test]
fn every_frame_carries_a_checksum_and_one_without_is_refused() {
    let request = real().encode();
    assert_eq!(compress(&request)[4] & 1 << 2, 1 << 2, "devices send the checksum");
    assert_eq!(decompress(&zstd_frame(&request, true), &Limits::default()).as_deref(), Ok(&request[..]));
    let unchecked = zstd_frame(&request, false);
    assert_eq!(
        decompress(&unchecked, &Limits::default()),
        Err(WireError::Malformed("a zstd frame without a checksum"))
    );
    // Clearing the flag of a checksummed frame cannot switch the check off: the frame is refused.
    let mut cleared = compress(&request);
    cleared[4] &= !(1 << 2);
    assert!(decompress(&cleared, &Limits::default()).is_err());
    assert_eq!(
        decompress(&compress(&request)[..4], &Limits::default()),
        Err(WireError::Malformed("a zstd frame without a checksum"))
    );
}

#[test]
fn a_body_is_one_frame_and_nothing_after_it() {
    let request = real().encode();
    for codec in [Codec::Zstd, Codec::Gzip] {
        let body = compress_as(codec, &request);
        let doubled = [body.clone(), body.clone()].concat();
        assert!(decompress(&doubled, &Limits::default()).is_err(), "{codec:?}: two frames");
        let trailing = [body.clone(), vec![0]].concat();
        assert!(decompress(&trailing, &Limits::default()).is_err(), "{codec:?}: a byte after the frame");
        assert!(decompress(&body[..body.len() - 1], &Limits::default()).is_err(), "{codec:?}: the last byte cut");
    }
}

#[test]
fn a_damaged_peer_offer_or_response_is_refused_too() {
    let hello = PeerOffer {
        possession: [9; 64],
        heads: vec![(format!("g/{GRID}"), vec![[3; 32], [4; 32]]), (format!("h/{GRID}/{ID}"), vec![[5; 32]])],
    };
    let response = SyncResponse { docs: real().docs, ..sample() };
    for (plain, what) in [(hello.encode(), "hello"), (response.encode(), "response")] {
        let body = compress(&plain);
        for at in 0..body.len() {
            let mut flipped = body.clone();
            flipped[at] ^= 0x10;
            if let Ok(got) = decompress(&flipped, &Limits::default()) {
                assert_eq!(got, plain, "{what}: byte {at} was accepted, changed");
            }
        }
    }
}

#[test]
fn refused_documents_round_trip_and_none_cost_one_byte() {
    let limits = Limits::default();
    let reasons =
        [RefusalReason::OutsideScope, RefusalReason::Malformed, RefusalReason::NotAllowed, RefusalReason::Other];
    let refused: Vec<Refusal> =
        reasons.iter().enumerate().map(|(i, &reason)| Refusal { doc: format!("h/{GRID}/{ID}{i}"), reason }).collect();
    let response = SyncResponse { refused, ..sample() };
    assert_eq!(SyncResponse::decode(&response.encode(), &limits), Ok(response.clone()));
    let none = SyncResponse { refused: vec![], ..sample() };
    assert_eq!(none.encode_as(Version::V4).len(), none.encode_as(Version::V3).len() + 1, "an empty list is one byte");
    // A reason a newer server added reads as `Other`.
    let mut newer = none.encode_as(Version::V4);
    newer.pop();
    newer.extend([1, 3, b'g', b'/', b'x', 42]);
    let decoded = SyncResponse::decode(&newer, &limits).map(|r| r.refused);
    assert_eq!(decoded, Ok(vec![Refusal { doc: "g/x".into(), reason: RefusalReason::Other }]));
}

#[test]
fn version_3_is_still_read_and_written() {
    let limits = Limits::default();
    let request = real();
    let old = request.encode_as(Version::V3);
    assert_eq!(&old[..4], b"GBQ3");
    assert_eq!(&request.encode()[..4], b"GBQ9");
    assert_eq!(request_version(&old), Ok(3));
    assert_eq!(SyncRequest::decode(&old, &limits), Ok(request));
    let response = SyncResponse { refused: vec![], ..sample() };
    assert_eq!(SyncResponse::decode(&response.encode_as(Version::V3), &limits), Ok(response));
    // A version this build does not speak is not a message it can read; its number still shows.
    let older = [b"GBQ2".as_slice(), &old[4..]].concat();
    assert_eq!(request_version(&older), Ok(2));
    assert_eq!(SyncRequest::decode(&older, &limits), Err(WireError::BadMagic));
    assert_eq!(request_version(b"GBH1"), Err(WireError::BadMagic));
}

#[test]
fn proofs_vouches_and_authors_round_trip_and_version_4_leaves_them_out() {
    let limits = Limits::default();
    let key = ed25519_dalek::SigningKey::from_bytes(&[4; 32]);
    let request = SyncRequest { proofs: vec![Proof::sign(&key, &[1; 16], [[2; 32], [1; 32]])], ..real() };
    assert_eq!(SyncRequest::decode(&request.encode(), &limits), Ok(request.clone()));
    let v4 = SyncRequest::decode(&request.encode_as(Version::V4), &limits).expect("v4");
    assert!(v4.proofs.is_empty());
    let author = Author {
        actor: vec![1; 16],
        device_id: "d".into(),
        device: "phone-a".into(),
        holder: "王芳".into(),
        role: "grid-member".into(),
        public_key: None,
    };
    let response = SyncResponse { vouched: Some([7; 64]), authors: vec![author], ..sample() };
    assert_eq!(SyncResponse::decode(&response.encode(), &limits), Ok(response.clone()));
    let v8 = SyncResponse::decode(&response.encode_as(Version::V8), &limits).expect("v8");
    assert_eq!(v8, response, "no key and no proofs: version 8 carries all of it");
    let v4 = SyncResponse::decode(&response.encode_as(Version::V4), &limits).expect("v4");
    assert_eq!((v4.vouched, v4.authors.len()), (None, 0));
}

#[test]
fn a_proof_verifies_only_for_its_key_actor_and_changes() {
    let key = ed25519_dalek::SigningKey::from_bytes(&[4; 32]);
    let other = ed25519_dalek::SigningKey::from_bytes(&[5; 32]);
    let proof = Proof::sign(&key, &[1; 16], [[2; 32], [1; 32], [2; 32]]);
    assert!(proof.verify(&key.verifying_key()));
    assert!(proof.covers(&[1; 32]) && proof.covers(&[2; 32]) && !proof.covers(&[3; 32]));
    assert!(!proof.verify(&other.verifying_key()), "another key");
    let renamed = Proof::new(vec![9; 16], proof.signature, proof.hashes().iter().copied());
    assert!(!renamed.verify(&key.verifying_key()), "another actor");
    let widened = Proof::new(vec![1; 16], proof.signature, [[1; 32], [2; 32], [3; 32]]);
    assert!(!widened.verify(&key.verifying_key()), "another batch");
    let stored = Proof::from_stored(proof.actor.clone(), &proof.signature, &proof.hashes_blob()).expect("stored");
    assert!(stored.verify(&key.verifying_key()));
}

#[test]
fn a_certificate_verifies_with_its_servers_key_until_it_expires() {
    let server = ed25519_dalek::SigningKey::from_bytes(&[6; 32]);
    let cert = Certificate {
        device_id: "id".into(),
        device: "phone-a".into(),
        holder: "王芳".into(),
        role: "grid-member".into(),
        grids: vec![[7; 16]],
        actor: vec![1; 16],
        public_key: [8; 32],
        issued_at: 100,
        expires_at: 200,
    };
    let bytes = cert.sign(&server);
    assert_eq!(Certificate::verify(&bytes, &server.verifying_key(), 150), Ok(cert));
    assert_eq!(Certificate::verify(&bytes, &server.verifying_key(), 200), Err(CertificateError::Expired));
    let stranger = ed25519_dalek::SigningKey::from_bytes(&[7; 32]);
    assert_eq!(Certificate::verify(&bytes, &stranger.verifying_key(), 150), Err(CertificateError::NotSigned));
    let mut tampered = bytes.clone();
    tampered[10] ^= 1;
    assert_eq!(Certificate::verify(&tampered, &server.verifying_key(), 150), Err(CertificateError::NotSigned));
    assert!(Certificate::verify(&bytes[..10], &server.verifying_key(), 150).is_err());
}

#[test]
fn a_changes_hash_and_actor_read_from_its_bytes_are_automerges() {
    for change in &chain() {
        let parsed = automerge::Change::from_bytes(change.clone()).expect("a change");
        assert_eq!(change_hash(change), Some(parsed.hash().0));
        assert_eq!(change_actor(change), Some(parsed.actor_id().to_bytes()));
    }
    assert_eq!(change_hash(&[1, 2, 3]), None);
    assert_eq!(change_actor(&[1, 2, 3]), None);
}

fn key_of(request: &SyncRequest) -> WireKey {
    request.keys[0].clone()
}

#[test]
fn keys_round_trip_and_version_6_leaves_them_out() {
    let limits = Limits::default();
    let key = WireKey { id: [3; 16], doc: format!("h/{GRID}/{ID}"), key: zeroize::Zeroizing::new([9; 32]) };
    let want = KeyWant { id: [4; 16], doc: format!("e/{GRID}/{ID}"), make: true };
    let request = SyncRequest { keys: vec![key.clone()], wants: vec![want], ..real() };
    assert_eq!(SyncRequest::decode(&request.encode(), &limits), Ok(request.clone()));
    let v6 = SyncRequest::decode(&request.encode_as(Version::V6), &limits).expect("v6");
    assert!(v6.keys.is_empty() && v6.wants.is_empty());
    let refusal = KeyRefusal { id: [5; 16], reason: RefusalReason::NotAllowed };
    let response = SyncResponse { keys: vec![key], key_refused: vec![refusal], ..sample() };
    assert_eq!(SyncResponse::decode(&response.encode(), &limits), Ok(response.clone()));
    let v6 = SyncResponse::decode(&response.encode_as(Version::V6), &limits).expect("v6");
    assert!(v6.keys.is_empty() && v6.key_refused.is_empty());
    assert!(!format!("{:?}", response.keys).contains("9, 9"), "Debug never shows a key");
    // A key of one of the message's documents costs its place there, not its name; the key of the
    // record the document is named for, not its id either.
    let doc = request.docs[1].doc.clone();
    assert!(doc.starts_with("h/"));
    let household = uuid::Uuid::parse_str(ID).expect("id").into_bytes();
    let own = WireKey { id: household, doc: doc.clone(), ..key_of(&request) };
    let resident = WireKey { id: [8; 16], doc: doc.clone(), ..key_of(&request) };
    for (key, saved) in [(own, doc.len() + 1 + 16 - 1), (resident, doc.len() + 1 - 1)] {
        let with = SyncRequest { keys: vec![key], wants: vec![], ..request.clone() };
        let (named, placed) = (with.encode_as(Version::V7), with.encode_as(Version::V8));
        assert_eq!(named.len() - placed.len(), saved - 2, "less v8's two bytes of erasure sections");
        assert_eq!(SyncRequest::decode(&placed, &limits), Ok(with.clone()));
        // A place past the message's documents is malformed, not another document's key.
        let mut past = placed.clone();
        let at = past.len() - 1 - 1 - 1 - 32 - if saved > doc.len() { 0 } else { 16 } - 1;
        assert_eq!(past[at] >> 1, 2, "the key's place");
        past[at] = 100 << 1 | (past[at] & 1);
        assert_eq!(SyncRequest::decode(&past, &limits), Err(WireError::Malformed("a key's document")));
    }
    // The own record of a document that has none (a journal) is malformed.
    let journal = SyncRequest { keys: vec![], wants: vec![], ..request.clone() };
    let mut bytes = journal.encode();
    let tail = bytes.split_off(bytes.len() - 4);
    assert_eq!(tail, [0, 0, 0, 0], "no keys, wants or erasures; nothing since");
    assert!(journal.docs[2].doc.starts_with("j/"));
    bytes.extend([1, 3 << 1 | 1]);
    bytes.extend([7; 32]);
    bytes.extend([0, 0, 0]);
    assert_eq!(SyncRequest::decode(&bytes, &limits), Err(WireError::Malformed("a key's record")));
    // Every cut of the keys sections is an error, never a panic or a short key.
    let bytes = request.encode();
    for end in 0..bytes.len() {
        assert!(SyncRequest::decode(&bytes[..end], &limits).is_err());
    }
}

#[test]
fn erasures_round_trip_and_version_7_leaves_them_out() {
    let limits = Limits::default();
    let ask = EraseRequest {
        id: [6; 16],
        doc: format!("h/{GRID}/{ID}"),
        kind: ErasedKind::Resident,
        reason: "asked in person".into(),
    };
    let request = SyncRequest { erase: vec![ask], erased_since: 300, ..real() };
    assert_eq!(SyncRequest::decode(&request.encode(), &limits), Ok(request.clone()));
    let v7 = SyncRequest::decode(&request.encode_as(Version::V7), &limits).expect("v7");
    assert!(v7.erase.is_empty() && v7.erased_since == 0);
    let notice = ErasureNotice { seq: 301, id: [7; 16], doc: format!("h/{GRID}/{ID}"), kind: ErasedKind::Household };
    let refusal = EraseRefusal { id: [6; 16], reason: RefusalReason::NotAllowed };
    let response = SyncResponse { erased: vec![notice], resync: true, erase_refused: vec![refusal], ..sample() };
    assert_eq!(SyncResponse::decode(&response.encode(), &limits), Ok(response.clone()));
    let v7 = SyncResponse::decode(&response.encode_as(Version::V7), &limits).expect("v7");
    assert!(v7.erased.is_empty() && !v7.resync && v7.erase_refused.is_empty());
    // An erasure of a kind this build does not know is malformed, not guessed at.
    let mut unknown = response.encode();
    // From the end: the refusals (a count, an id, a reason), the resync flag, then the kind.
    let at = unknown.len() - (1 + 16 + 1) - 1 - 1;
    assert_eq!(unknown[at], 1, "the notice's kind");
    unknown[at] = 9;
    assert_eq!(SyncResponse::decode(&unknown, &limits), Err(WireError::Malformed("erasure kind")));
    for end in 0..request.encode().len() {
        assert!(SyncRequest::decode(&request.encode()[..end], &limits).is_err());
    }
}

fn author_with_key(key: Option<[u8; 32]>) -> Author {
    Author {
        actor: vec![0xaa],
        device_id: "d".into(),
        device: "p".into(),
        holder: String::new(),
        role: "r".into(),
        public_key: key,
    }
}

#[test]
fn a_reply_carries_its_authors_proofs_by_place_and_their_keys() {
    let limits = Limits::default();
    let key = ed25519_dalek::SigningKey::from_bytes(&[4; 32]);
    let changes = chain();
    let hashes: Vec<[u8; 32]> = changes.iter().map(|c| change_hash(c).expect("a change")).collect();
    let docs = vec![
        DocChanges { doc: format!("h/{GRID}/{ID}"), changes: changes[..2].to_vec() },
        DocChanges { doc: format!("j/{GRID}/2026-03"), changes: changes[2..].to_vec() },
    ];
    // One batch wholly in the reply, one with a change the store already has (sent in full).
    let inside = Proof::sign(&key, &[1; 16], [hashes[0], hashes[3]]);
    let outside = Proof::sign(&key, &[1; 16], [hashes[1], [9; 32]]);
    let response = SyncResponse {
        docs,
        vouched: Some([7; 64]),
        authors: vec![author_with_key(Some(key.verifying_key().to_bytes()))],
        proofs: vec![inside.clone(), outside],
        ..Default::default()
    };
    let decoded = SyncResponse::decode(&response.encode(), &limits).expect("v9");
    assert_eq!(decoded, response);
    assert!(decoded.proofs[0].verify(&key.verifying_key()));
    // A hash of the reply costs its place (one byte here), not its 32 bytes.
    let without = SyncResponse { proofs: Vec::new(), ..response.clone() }.encode().len();
    let one = SyncResponse { proofs: vec![inside], ..response.clone() }.encode().len();
    assert_eq!(one - without, 17 + 64 + 1 + 2, "actor, signature, count, two places");
    // Version 8 has neither: it reads as before, without them.
    let v8 = SyncResponse::decode(&response.encode_as(Version::V8), &limits).expect("v8");
    let expected = SyncResponse { authors: vec![author_with_key(None)], proofs: Vec::new(), ..response.clone() };
    assert_eq!(v8, expected);
    for end in 0..response.encode().len() {
        assert!(SyncResponse::decode(&response.encode()[..end], &limits).is_err());
    }
}

#[test]
fn a_version_8_reply_is_written_as_before() {
    let response = SyncResponse {
        cursor: vec![9],
        authors: vec![author_with_key(Some([3; 32]))],
        proofs: vec![Proof::new(vec![0xaa], [5; 64], [[6; 32]])],
        ..Default::default()
    };
    let mut expected = b"GBP8".to_vec();
    // cursor, more, docs (no grids, no documents), refused, vouched
    expected.extend([1, 9, 0, 0, 0, 0, 0]);
    // one author: actor, device id, device, holder, role — no key
    expected.extend([1, 1, 0xaa, 1, b'd', 1, b'p', 0, 1, b'r']);
    // keys, key_refused, erased, resync, erase_refused
    expected.extend([0, 0, 0, 0, 0]);
    assert_eq!(response.encode_as(Version::V8), expected);
}

#[test]
fn a_replys_proofs_are_bounded_and_refer_only_to_its_changes() {
    let limits = Limits::default();
    let reply = |proven: &[u8]| {
        let mut bytes = b"GBP9".to_vec();
        // cursor, more, docs, refused, vouched, authors
        bytes.extend([0, 0, 0, 0, 0, 0, 0]);
        bytes.extend_from_slice(proven);
        // keys, key_refused, erased, resync, erase_refused
        bytes.extend([0, 0, 0, 0, 0]);
        bytes
    };
    assert_eq!(SyncResponse::decode(&reply(&[0]), &limits).map(|r| r.proofs.len()), Ok(0));
    let mut huge = Vec::new();
    put_varint(&mut huge, u64::MAX >> 1);
    assert_eq!(SyncResponse::decode(&reply(&huge), &limits), Err(WireError::TooLarge("author proofs")));
    // One proof claiming more changes than a message may hold.
    let mut many = vec![1, 1, 0xaa];
    many.extend([0; 64]);
    put_varint(&mut many, limits.max_changes as u64 + 1);
    assert_eq!(SyncResponse::decode(&reply(&many), &limits), Err(WireError::TooLarge("proven changes")));
    // A reference to the first change of a reply that has none.
    let mut dangling = vec![1, 1, 0xaa];
    dangling.extend([0; 64]);
    dangling.extend([1, 1]);
    assert_eq!(
        SyncResponse::decode(&reply(&dangling), &limits),
        Err(WireError::Malformed("a proof's reference to a change"))
    );
}
