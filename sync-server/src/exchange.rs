//! One sync exchange, on the server's side: decode the device's request within limits, judge every
//! document (`judge`) and check every change's author, store what is new in one commit, and answer
//! with what the device lacks from its scope since its cursor, naming the documents refused.
//!
//! Every byte from a device is hostile until checked: sizes are bounded before anything is
//! allocated (`wire`), automerge's decoders run behind `catch_unwind`, compressed change chunks
//! (which automerge would inflate without bound) are refused, and nothing is stored until the whole
//! request has been judged. A request that does not decode is refused whole; one that does has its
//! documents judged one by one, so that one document a device may not write (a grid member's
//! mistaken new grid) does not stop the rest of its work from syncing. A version 3 request, from an
//! app in the field that cannot hear of refused documents, is still refused whole.

use std::collections::HashMap;
use std::panic::{AssertUnwindSafe, catch_unwind};

use automerge::{Change, ChangeHash};
use ed25519_dalek::VerifyingKey;
use gridbook_core::sync::wire::{
    self, EraseRequest, KeyWant, Limits, Proof, Refusal, SERVER_ACTOR, SyncRequest, SyncResponse, Version, WireError,
    WireKey,
};
use gridbook_core::sync::{RefusalReason, event_facts};
use gridbook_core::{DocChanges, DocId, DocKind};

use crate::access_log;
use crate::config::ServerConfig;
use crate::cursor;
use crate::erasure::{self, Erasures};
use crate::error::{ApiError, ApiResult};
use crate::keys;
use crate::master_key::MasterKey;
use crate::registry::{self, GridChange};
use crate::scope::Scope;
use crate::storage::{Commit, Device, DocFacts, GridEntry, LogChange, LogPage, LogQuery, NewChange, Role, Storage};

/// What one exchange did, for logs and metrics.
#[derive(Debug, Clone, Copy, Default)]
pub struct Outcome {
    pub docs_in: usize,
    pub changes_stored: usize,
    pub docs_refused: usize,
    pub relayed_skipped: usize,
    pub changes_out: usize,
}

/// A decoded request: every document name parsed, every change decoded, nothing yet authorised.
#[derive(Debug)]
pub struct Decoded {
    /// The device's cursor, as it sent it.
    pub cursor: Vec<u8>,
    /// The version the request came in: it is answered in the same.
    pub version: Version,
    /// One entry per document, in the order of first appearance.
    pub docs: Vec<(DocId, Vec<Change>)>,
    /// Documents whose name does not parse or one of whose changes does not decode, by the name
    /// sent (always empty for version 3, which refuses the request instead).
    pub malformed: Vec<String>,
    /// The signed batches of the changes relayed for other devices, unchecked (version 5).
    pub proofs: Vec<Proof>,
    /// The store's signature over its own changes, unchecked (version 6).
    pub signed: Option<[u8; 64]>,
    /// The actor and hash of every plain change of the request, read from its bytes, decoded or
    /// not: what the store's signature covers.
    pub hashes: Vec<(Vec<u8>, [u8; 32])>,
    /// Data keys the store made, unchecked (version 7).
    pub keys: Vec<WireKey>,
    /// Data keys the store asks for (version 7).
    pub wants: Vec<KeyWant>,
    /// Erasures the store asks for, unchecked (version 8).
    pub erase: Vec<EraseRequest>,
    /// The last erasure notice the store carried out (version 8).
    pub erased_since: u64,
}

/// Decodes a sync request body without touching storage: the part of the server that any bytes
/// from the network reach, and what the fuzz target drives.
///
/// # Errors
/// [`ApiError::TooLarge`] past `limits`; [`ApiError::Outdated`] for a version older than this
/// server speaks; [`ApiError::Malformed`] for anything that does not decode (in version 3, also a
/// document whose name or changes do not).
pub fn decode_request(body: &[u8], limits: &Limits) -> ApiResult<Decoded> {
    let message = wire::decompress(body, limits).map_err(wire_error)?;
    let number = wire::request_version(&message).map_err(wire_error)?;
    let version = match Version::from_number(number) {
        Some(version) => version,
        None if number < Version::V3.number() => return Err(ApiError::outdated()),
        None => return Err(ApiError::Malformed("a sync version newer than this server speaks".into())),
    };
    let request = SyncRequest::decode(&message, limits).map_err(wire_error)?;
    let hashes = request
        .docs
        .iter()
        .flat_map(|d| &d.changes)
        .filter_map(|c| Some((wire::change_actor(c)?.to_vec(), wire::change_hash(c)?)))
        .collect();
    let mut malformed = Vec::new();
    let mut entries = Vec::new();
    for DocChanges { doc, changes } in request.docs {
        let parsed = doc.parse::<DocId>().map_err(|_| ApiError::Malformed("a document name is malformed".into()));
        let decoded = parsed.map(|id| (id, changes.into_iter().map(decode_change).collect::<ApiResult<_>>()));
        match decoded {
            Ok((id, changes)) => entries.push((id, vec![changes])),
            Err(e) if version == Version::V3 => return Err(e),
            Err(_) => malformed.push(doc),
        }
    }
    // One entry per document (by its parsed id, so two spellings of one name are one document), so
    // that its facts are read over all of its changes at once.
    let mut docs = Vec::new();
    for (id, parts) in wire::group_by_doc(entries) {
        match parts.into_iter().collect::<ApiResult<Vec<Vec<Change>>>>() {
            Ok(parts) => docs.push((id, parts.concat())),
            Err(e) if version == Version::V3 => return Err(e),
            Err(_) => malformed.push(id.to_string()),
        }
    }
    malformed.dedup();
    Ok(Decoded {
        cursor: request.cursor,
        version,
        docs,
        malformed,
        proofs: request.proofs,
        signed: request.signed,
        hashes,
        keys: request.keys,
        wants: request.wants,
        erase: request.erase,
        erased_since: request.erased_since,
    })
}

fn wire_error(e: WireError) -> ApiError {
    match e {
        WireError::TooLarge(_) => ApiError::TooLarge(e.to_string()),
        _ => ApiError::Malformed(e.to_string()),
    }
}

fn decode_change(bytes: Vec<u8>) -> ApiResult<Change> {
    // Chunk header: 4 magic bytes, 4 checksum bytes, then the type: 1 is a plain change; 2, a
    // deflated one, which automerge would inflate before any limit could apply.
    if bytes.get(8) != Some(&1) {
        return Err(ApiError::Malformed("a change is not a plain automerge change".into()));
    }
    catch_unwind(AssertUnwindSafe(|| Change::from_bytes(bytes)))
        .map_err(|_| ApiError::Malformed("a change could not be decoded".into()))?
        .map_err(|_| ApiError::Malformed("a change could not be decoded".into()))
}

/// Runs one exchange for an authenticated `device` presenting store actor `actor_hex`. A document
/// refused (see [`judge`]) is named in the answer, and nothing of it is stored; the rest of the
/// request is. In version 7 the data keys it uploads are kept or refused, and the answer carries
/// the keys its scope covers (see `keys`). In version 8 the erasures it asks for are carried out or
/// refused, and the answer carries the notices its scope covers (see `erasure`). A retired device's
/// request is stored as any other, and answered with nothing new.
///
/// # Errors
/// [`ApiError::Malformed`] / [`ApiError::TooLarge`] for a request that does not decode or is over
/// the limits, [`ApiError::Outdated`] for a version older than `config.oldest_wire`,
/// [`ApiError::Forbidden`] for an actor of another device or, from version 6, own changes not signed
/// by the store's enrolled key ([`check_signed`]), and for version 3 any document refused
/// ([`ApiError::Forbidden`] outside the device's write scope, [`ApiError::Malformed`] if its changes
/// do not apply); in every case nothing of the request is stored.
pub fn run(
    storage: &dyn Storage,
    config: &ServerConfig,
    master: &MasterKey,
    device: &Device,
    actor_hex: &str,
    body: &[u8],
) -> ApiResult<(Vec<u8>, Outcome)> {
    let actor = hex::decode(actor_hex.trim())
        .ok()
        .filter(|a| !a.is_empty() && a.len() <= 32)
        .ok_or_else(|| ApiError::Malformed("the X-Gridbook-Actor header must be the store's actor in hex".into()))?;
    let bind_actor = match storage.actor_owner(&actor)? {
        Some((owner, _)) if owner != device.id => {
            return Err(ApiError::Forbidden("this store's actor belongs to another device".into()));
        }
        Some(_) => None,
        None => Some(actor.clone()),
    };
    let decoded = decode_request(body, &config.wire)?;
    if decoded.version < config.oldest_wire {
        return Err(ApiError::outdated());
    }
    let signed = if decoded.version >= Version::V6 { check_signed(storage, &actor, &decoded)? } else { None };
    let sent = cursor::parse(&decoded.cursor, storage.instance())?;
    let after = sent.position;
    if decoded.docs.iter().flat_map(|(_, cs)| cs).any(|c| c.len() > config.max_ops_per_change) {
        return Err(ApiError::TooLarge(format!("a change has more than {} operations", config.max_ops_per_change)));
    }
    let mut scope = Scope::of(storage, device)?;
    let mut outcome = Outcome { docs_in: decoded.docs.len() + decoded.malformed.len(), ..Outcome::default() };

    // Each change is this store's own, which its token vouches for, or another's that it relays,
    // which only the author's signature does: one its author's enrolled key (or this server, over
    // a reply it sent) signed in a batch the request carries. Anything else is skipped; its author
    // uploads it. A change the server already has (a reply lost on the way, a peer's change relayed
    // twice) is not looked up first: the commit's insert skips it by its author and number, in the
    // index it probes anyway. Documents are judged over what the server will hold: a skipped change must
    // not grant or name anything.
    let mut proven = Proven::new(storage, decoded.proofs);
    let mut owners: HashMap<Vec<u8>, Option<(String, bool)>> = HashMap::new();
    let mut docs: Vec<(DocId, Vec<(Change, String)>)> = Vec::with_capacity(decoded.docs.len());
    for (id, changes) in decoded.docs {
        let mut kept = Vec::with_capacity(changes.len());
        for change in changes {
            let author = change.actor_id().to_bytes().to_vec();
            let author_device = if author == actor {
                Some(device.id.clone())
            } else {
                let owner = match owners.get(&author) {
                    Some(o) => o.clone(),
                    None => {
                        let o = storage.actor_owner(&author)?;
                        owners.insert(author.clone(), o.clone());
                        o
                    }
                };
                match owner {
                    Some((owner, false)) if proven.covers(&author, &change.hash().0)? => Some(owner),
                    // Unproven, or an author the server has never seen or has revoked.
                    _ => None,
                }
            };
            match author_device {
                Some(author_device) => kept.push((change, author_device)),
                None => outcome.relayed_skipped += 1,
            }
        }
        docs.push((id, kept));
    }

    let reused = reused_seqs(storage, &docs)?;
    let mut docs: Vec<_> = docs.into_iter().zip(reused).collect();
    let mut refused: Vec<Refusal> =
        decoded.malformed.into_iter().map(|doc| Refusal { doc, reason: RefusalReason::Malformed }).collect();
    // The batches that prove the changes' authors, kept with them so that every store can check
    // them: the store's own, and those of the changes it relays.
    let proofs = signed.into_iter().chain(proven.of_authors()).collect();
    let mut commit = Commit { device: device.id.clone(), bind_actor, proofs, ..Commit::default() };
    let erasures = Erasures::of(storage, docs.iter().map(|((id, _), _)| id))?;
    // Grid documents first: a grid a secretary registers here is in its scope for the rest.
    docs.sort_by_key(|((id, _), _)| id.kind != DocKind::Grid);
    for ((id, kept), reuses_seq) in docs {
        let (doc, grid) = (id.to_string(), id.grid.to_string());
        let accepted = match judge(storage, device, &mut scope, &erasures, &id, &kept, reuses_seq)? {
            Ok(accepted) => accepted,
            Err(reason) => {
                refused.push(Refusal { doc, reason });
                continue;
            }
        };
        commit.grids.extend(accepted.grid);
        commit.facts.extend(accepted.facts);
        for (change, author) in kept {
            commit.changes.push(NewChange {
                hash: change.hash().0,
                doc: doc.clone(),
                grid: grid.clone(),
                author,
                actor: change.actor_id().to_bytes().to_vec(),
                seq: change.seq(),
                bytes: change.raw_bytes().to_vec(),
            });
        }
    }
    if decoded.version == Version::V3 {
        let worst = refused.iter().find(|r| r.reason == RefusalReason::OutsideScope).or(refused.first());
        if let Some(refusal) = worst {
            return Err(whole_request_refused(refusal.reason));
        }
    }
    outcome.docs_refused = refused.len();
    // The keys go with the changes, in one write: judged in the scope the request's own grids
    // extended.
    let (upload, wants, screened_out) = erasure::screen_keys(storage, decoded.keys, decoded.wants)?;
    let screened = if decoded.version >= Version::V7 {
        keys::screen(master, &scope, storage, upload)?
    } else {
        keys::Screened::default()
    };
    commit.keys = screened.to_store();
    if !commit.changes.is_empty() || commit.bind_actor.is_some() || !commit.keys.is_empty() {
        outcome.changes_stored = storage.commit(commit)?;
    }
    let mut key_refused = screened_out;
    key_refused.extend(screened.settle(storage, master)?);

    // The answer: after the commit, so a secretary's new grid is already in its scope. A retired
    // device receives nothing new: its holder has left, and the store is about to be wiped.
    let scope = Scope::of(storage, device)?;
    let v8 = decoded.version >= Version::V8;
    // After the commit, so that a resident the request itself adds may be erased by it.
    let erase_refused =
        if v8 { erasure::carry_out(storage, config, device, &scope, &decoded.erase)? } else { Vec::new() };
    let page = if device.revoked_at.is_some() {
        LogPage { changes: Vec::new(), more: false, cursor: after }
    } else {
        storage.read_log(&LogQuery {
            after,
            scope: scope.for_log(),
            exclude_author: device.id.clone(),
            max_changes: config.reply_max_changes.max(1),
            max_bytes: config.reply_max_bytes,
        })?
    };
    outcome.changes_out = page.changes.len();
    let proof_ids: Vec<i64> = page.changes.iter().filter_map(|c| c.proof).collect();
    let proofs =
        if decoded.version >= Version::V9 && !proof_ids.is_empty() { storage.proofs(&proof_ids)? } else { Vec::new() };
    let docs: Vec<DocChanges> =
        wire::group_by_doc(page.changes.into_iter().map(|LogChange { doc, bytes, .. }| (doc, vec![bytes])))
            .into_iter()
            .map(|(doc, changes)| DocChanges { doc, changes })
            .collect();
    let (vouched, authors) = if decoded.version >= Version::V5 { vouch(storage, &docs)? } else { (None, Vec::new()) };
    let keys = if decoded.version >= Version::V7 && device.revoked_at.is_none() {
        let names: Vec<String> = docs.iter().map(|d| d.doc.clone()).collect();
        keys::reply(storage, master, &scope, &names, &wants)?
    } else {
        Vec::new()
    };
    let notices = if v8 {
        erasure::notices(storage, &scope, decoded.erased_since, sent.notices, !decoded.cursor.is_empty())?
    } else {
        // Told nothing, so it moves on with nothing: once updated, it hears of every erasure kept.
        erasure::Notices { through: sent.notices, ..Default::default() }
    };
    let response = SyncResponse {
        cursor: cursor::encode(storage.instance(), cursor::Cursor { position: page.cursor, notices: notices.through }),
        more: page.more || notices.more,
        docs,
        refused,
        vouched,
        authors,
        proofs,
        keys,
        key_refused,
        erased: notices.erased,
        resync: notices.resync,
        erase_refused,
    };
    // A device is answered in the codec and the version it asked in (see `wire::Codec`).
    let codec = wire::Codec::of(body).unwrap_or(wire::Codec::Zstd);
    Ok((wire::compress_as(codec, &response.encode_as(decoded.version)), outcome))
}

/// Checks a version 6 request's signature over the store's own changes (those of `actor`, decoded
/// or not) with the key enrolled for the actor. The token says which device sent the request; the
/// signature, that the store holding the actor's key made these changes, so that a request made or
/// altered by whoever saw the token cannot pass its changes off as the store's. An actor with no
/// key enrolled (a store that synced by token before enrolment existed) is vouched for by the token,
/// as in version 5.
///
/// Returns the verified batch, which the commit keeps with the changes; none for a request with no
/// changes of the actor, or an actor with no key.
///
/// # Errors
/// [`ApiError::Forbidden`] if the actor has a key and the signature is missing or does not cover
/// exactly the request's changes of the actor.
fn check_signed(storage: &dyn Storage, actor: &[u8], decoded: &Decoded) -> ApiResult<Option<Proof>> {
    let own: Vec<[u8; 32]> = decoded.hashes.iter().filter(|(a, _)| a == actor).map(|(_, h)| *h).collect();
    if own.is_empty() {
        return Ok(None);
    }
    let Some(key) = storage.actor_key(actor)? else { return Ok(None) };
    let key = VerifyingKey::from_bytes(&key).map_err(|_| ApiError::Forbidden("this store's key is damaged".into()))?;
    let signed = decoded.signed.map(|signature| Proof::new(actor.to_vec(), signature, own)).filter(|p| p.verify(&key));
    match signed {
        Some(proof) => Ok(Some(proof)),
        None => Err(ApiError::Forbidden("the request's changes are not signed by this store's enrolled key".into())),
    }
}

/// The server's signature over the changes of a reply, which a device passes on with them to a
/// peer, and the enrolled devices of their authors, which the device's history shows.
fn vouch(
    storage: &dyn Storage,
    docs: &[DocChanges],
) -> ApiResult<(Option<[u8; 64]>, Vec<gridbook_core::sync::wire::Author>)> {
    let changes = || docs.iter().flat_map(|d| d.changes.iter());
    if changes().next().is_none() {
        return Ok((None, Vec::new()));
    }
    let proof = Proof::sign(&storage.server_key(), SERVER_ACTOR, changes().filter_map(|c| wire::change_hash(c)));
    let mut actors: Vec<Vec<u8>> = changes().filter_map(|c| wire::change_actor(c)).map(<[u8]>::to_vec).collect();
    actors.sort_unstable();
    actors.dedup();
    Ok((Some(proof.signature), storage.authors(&actors)?))
}

/// The proofs a request carries, each verified once, when first needed.
struct Proven<'a> {
    storage: &'a dyn Storage,
    proofs: Vec<(Proof, Option<bool>)>,
}

impl<'a> Proven<'a> {
    fn new(storage: &'a dyn Storage, proofs: Vec<Proof>) -> Self {
        Self { storage, proofs: proofs.into_iter().map(|p| (p, None)).collect() }
    }

    /// Whether a verified proof of `actor` (with the key enrolled for it) or of this server covers
    /// the change of `hash`.
    fn covers(&mut self, actor: &[u8], hash: &[u8; 32]) -> ApiResult<bool> {
        for (proof, verified) in &mut self.proofs {
            if !(proof.actor == actor || proof.actor == SERVER_ACTOR) || !proof.covers(hash) {
                continue;
            }
            if verified.is_none() {
                let key = if proof.actor == SERVER_ACTOR {
                    Some(self.storage.server_key().verifying_key())
                } else {
                    self.storage.actor_key(&proof.actor)?.and_then(|k| VerifyingKey::from_bytes(&k).ok())
                };
                *verified = Some(key.is_some_and(|key| proof.verify(&key)));
            }
            if *verified == Some(true) {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// The authors' proofs that verified (not this server's own, over changes it already holds).
    fn of_authors(self) -> impl Iterator<Item = Proof> {
        self.proofs
            .into_iter()
            .filter(|(p, verified)| *verified == Some(true) && p.actor != SERVER_ACTOR)
            .map(|(p, _)| p)
    }
}

/// What a document judged acceptable brings to the commit besides its changes.
#[derive(Debug, Default)]
struct Accepted {
    /// A grid it registers, or the registered grid's name as its document now gives it.
    grid: Option<GridEntry>,
    /// An event's departments and photos.
    facts: Option<DocFacts>,
}

/// The one place a document's fate is decided, over the changes of it the server will hold:
/// `Ok(Ok(_))` to store them, `Ok(Err(reason))` to refuse the document, alone (`Err` is the server
/// failing). Outside the device's write `scope`; changes that reuse their author's sequence
/// number (`reuses_seq`) or do not apply; a grid change the district's registry does not allow
/// (moving a grid to another village, or registering a grid the device may not): each refuses the
/// document with its reason, and so does an event change of any device but the centre's that dispatches
/// the event to a department, a household change that merges a resident (`merged_into`) made by
/// any device but a secretary's or the centre's, and an access-log change that does more than add
/// entries ([`access_log::judge`]). A household change that writes what was erased is refused as
/// `erased` ([`Erasures::judge`]). A grid the device registers joins its `scope`.
fn judge(
    storage: &dyn Storage,
    device: &Device,
    scope: &mut Scope,
    erasures: &Erasures,
    id: &DocId,
    kept: &[(Change, String)],
    reuses_seq: bool,
) -> ApiResult<Result<Accepted, RefusalReason>> {
    if reuses_seq {
        return Ok(Err(RefusalReason::Malformed));
    }
    let mut accepted = Accepted::default();
    // The registry's entry of a grid whose document comes with changes (`Some(None)`: unknown).
    let entry =
        (id.kind == DocKind::Grid && !kept.is_empty()).then(|| storage.grid(&id.grid.to_string())).transpose()?;
    // A grid the registry does not know is in no one's scope until its first document registers it.
    let registering = matches!(entry, Some(None));
    if !registering && !scope.covers(storage, id)? {
        return Ok(Err(RefusalReason::OutsideScope));
    }
    if let Some(refusal) = erasures.judge(storage, id, kept)? {
        return Ok(Err(refusal));
    }
    // Only grids are rebuilt here; events are read from their changes' operations, and households
    // and journals, which grow, are read from neither.
    let changes = || kept.iter().map(|(c, _)| c.clone()).collect::<Vec<Change>>();
    match (id.kind, entry) {
        (_, _) if kept.is_empty() => {}
        (DocKind::Grid, Some(entry)) => match registry::judge(storage, device, id, entry, &changes()) {
            Ok(Ok(GridChange::Registers(entry))) => {
                scope.admit(entry.id.clone());
                accepted.grid = Some(entry);
            }
            Ok(Ok(GridChange::Updates(entry))) => accepted.grid = Some(entry),
            Ok(Err(_)) => return Ok(Err(RefusalReason::NotAllowed)),
            Err(ApiError::Malformed(_)) => return Ok(Err(RefusalReason::Malformed)),
            Err(e) => return Err(e),
        },
        (DocKind::Event, _) => match facts_of(id, kept.iter().map(|(c, _)| c)) {
            // Only the centre dispatches: a department named by another device's change would be
            // given the event, and its photos, by content that device wrote.
            Ok(facts) if device.role != Role::Centre && dispatches_anew(storage, &facts)? => {
                return Ok(Err(RefusalReason::NotAllowed));
            }
            Ok(facts) => accepted.facts = Some(facts),
            Err(ApiError::Malformed(_)) => return Ok(Err(RefusalReason::Malformed)),
            Err(e) => return Err(e),
        },
        (DocKind::Access, _) => {
            if let Err(refusal) = access_log::judge(storage, id, &changes())? {
                return Ok(Err(refusal));
            }
        }
        (DocKind::Household, _) if merges_without_authority(storage, device, kept)? => {
            return Ok(Err(RefusalReason::NotAllowed));
        }
        (DocKind::Grid | DocKind::Household | DocKind::Journal, _) => {}
    }
    Ok(Ok(accepted))
}

/// The key of [`gridbook_core::Resident::merged_into`] in a resident's record.
const MERGED_INTO: &str = "merged_into";

/// Whether a household change sets or clears a resident's `merged_into` and was made by a device
/// that may not merge residents: only a secretary or the centre resolves duplicates
/// (`gridbook_core::Store::merge_residents`), and every store derives the ledger from these facts,
/// so a grid member's crafted merge would hide a resident on every device. The author is the change's
/// enrolled device, not the one relaying it. Households are never rebuilt here, so the changes' own
/// operations are read: a merge is any operation on a key of that name.
fn merges_without_authority(storage: &dyn Storage, device: &Device, kept: &[(Change, String)]) -> ApiResult<bool> {
    let may_merge = |role: Role| matches!(role, Role::Secretary | Role::Centre);
    let mut roles: Option<HashMap<String, Role>> = None;
    for (change, author) in kept {
        let role = if *author == device.id {
            device.role
        } else {
            if roles.is_none() {
                roles = Some(storage.devices()?.into_iter().map(|d| (d.id, d.role)).collect());
            }
            match roles.as_ref().and_then(|r| r.get(author)) {
                Some(role) => *role,
                None => Role::GridMember,
            }
        };
        if may_merge(role) {
            continue;
        }
        // A change whose operations cannot be read cannot be shown not to merge.
        let merges = gridbook_core::sync::operations(change).is_none_or(|c| {
            c.operations.iter().any(|op| matches!(&op.key, automerge::legacy::Key::Map(k) if k.as_str() == MERGED_INTO))
        });
        if merges {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Per document of `docs`, whether it holds a change that reuses its author's sequence number:
/// another change is stored at that number, or the request holds two. No store could load it.
fn reused_seqs(storage: &dyn Storage, docs: &[(DocId, Vec<(Change, String)>)]) -> ApiResult<Vec<bool>> {
    let mut reused = vec![false; docs.len()];
    let names: Vec<String> = docs.iter().map(|(id, _)| id.to_string()).collect();
    let mut at: HashMap<(usize, &[u8], u64), ChangeHash> = HashMap::new();
    for (i, (_, kept)) in docs.iter().enumerate() {
        for (change, _) in kept {
            if at
                .insert((i, change.actor_id().to_bytes(), change.seq()), change.hash())
                .is_some_and(|h| h != change.hash())
            {
                reused[i] = true;
            }
        }
    }
    let (keys, hashes): (Vec<_>, Vec<_>) = at.into_iter().unzip();
    let probes: Vec<(&str, &[u8], u64)> = keys.iter().map(|&(i, actor, seq)| (names[i].as_str(), actor, seq)).collect();
    for ((i, _, _), (stored, hash)) in keys.iter().zip(storage.hashes_at(&probes)?.into_iter().zip(hashes)) {
        if stored.is_some_and(|stored| stored != hash.0) {
            reused[*i] = true;
        }
    }
    Ok(reused)
}

/// How a version 3 request, which cannot name a refused document, is refused instead.
fn whole_request_refused(reason: RefusalReason) -> ApiError {
    match reason {
        RefusalReason::OutsideScope => {
            ApiError::Forbidden("the request holds a document outside this device's scope".into())
        }
        RefusalReason::Malformed => ApiError::Malformed("a document's changes do not apply".into()),
        RefusalReason::NotAllowed | RefusalReason::Erased | RefusalReason::Other | RefusalReason::NotSigned => {
            ApiError::Forbidden("the request holds a change this device may not make".into())
        }
    }
}

/// Whether an event's facts name a department the event was not yet dispatched to.
fn dispatches_anew(storage: &dyn Storage, facts: &DocFacts) -> ApiResult<bool> {
    let granted = storage.departments_of(&facts.doc)?;
    Ok(facts.departments.iter().any(|d| !granted.contains(d)))
}

/// The departments and photos an event's `incoming` changes name: with those its earlier changes
/// named, already recorded, the event's own. Neither the event's stored changes nor the document
/// are read.
fn facts_of<'a>(id: &DocId, incoming: impl IntoIterator<Item = &'a Change>) -> ApiResult<DocFacts> {
    let e = event_facts(incoming).map_err(|_| ApiError::Malformed("an event's step or photo does not read".into()))?;
    Ok(DocFacts { doc: id.to_string(), departments: e.departments_ever, photos: e.photos })
}
