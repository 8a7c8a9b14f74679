//! Peer exchange: two phones with no signal sync with each other over any byte pipe the app
//! provides (Wi-Fi Direct, Bluetooth, a cable). Neither believes what the other says about itself:
//! each shows the certificate the district's server signed for its store at enrolment and proves it
//! holds the certified key; each then offers the heads of its documents in the grids both
//! certificates cover, and sends the changes the other lacks there, every one with a signed proof
//! of its author — its own changes in one batch it signs now, others' with the proof they arrived
//! with (their author's, or the server's over a reply). A change without a proof that verifies, a
//! document outside the shared grids, or an author writing outside its certified grids refuses the
//! whole exchange, and nothing of it is applied. Received changes join the outbox, with their
//! proofs, so they reach the server with this device's next sync.
//!
//! The pipe itself is not encrypted here: the link (Bluetooth pairing, Wi-Fi Direct's WPA2) is.
//! Frames are a 4-byte big-endian length and a compressed message of [`super::wire`].

use std::collections::{BTreeMap, BTreeSet, HashMap};

use automerge::{Change, ChangeHash};
use ed25519_dalek::{Signature, Signer, VerifyingKey};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use super::identity::{Enrolment, save_authors};
use super::proofs;
use super::wire::{
    self, Author, Certificate, Limits, PeerChanges, PeerIntro, PeerOffer, Proof, SERVER_ACTOR, change_hash,
};
use crate::datakey::keyring::KeyEntry;
use crate::error::{Error, Result};
use crate::ids::{DocId, DocKind, GridId};
use crate::merge::{ChangeSet, DocChanges, Heads, MergeReport};
use crate::store::Store;

/// What the exchange did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PeerReport {
    pub changes_sent: usize,
    pub received: MergeReport,
    pub bytes_out: u64,
    pub bytes_in: u64,
    /// Documents not sent because a change in them has no proof this store can pass on (a change
    /// kept from before proofs existed): the other phone gets them from the server.
    pub docs_withheld: usize,
}

/// Largest frame either side accepts, compressed.
const MAX_FRAME: u32 = 16 << 20;

impl Store {
    /// Runs the exchange with a peer over `pipe`, sharing only documents of `grids` that both
    /// stores' certificates cover. Both sides call this; both must be enrolled.
    ///
    /// # Errors
    /// [`Error::Forbidden`] if this store is not enrolled, if the peer's certificate is not the
    /// district server's or has expired, if it does not prove it holds the certified key, or if it
    /// sends a document outside the shared grids or a change without a valid proof of its author
    /// (nothing of the exchange is applied); [`Error::Network`] if the pipe fails;
    /// [`Error::Protocol`] for a message that does not decode.
    pub async fn exchange_with_peer<P>(&self, pipe: P, grids: &[GridId]) -> Result<PeerReport>
    where
        P: AsyncRead + AsyncWrite + Unpin,
    {
        let limits = Limits::default();
        let me = self.enrolment()?.ok_or_else(|| {
            Error::Forbidden("enrol this device with the district's server before exchanging with a peer".into())
        })?;
        let (mut rx, mut tx) = tokio::io::split(pipe);
        let mut report = PeerReport::default();

        let nonce: [u8; 32] = rand::random();
        let intro = PeerIntro { certificate: me.certificate_bytes.clone(), nonce };
        let theirs = PeerIntro::decode(&talk(&mut rx, &mut tx, intro.encode(), &mut report).await?, &limits)
            .map_err(protocol)?;
        let now = self.now().timestamp();
        let peer = Certificate::verify(&theirs.certificate, &me.server_key, now)
            .map_err(|e| Error::Forbidden(format!("the peer's certificate: {e}")))?;
        let peer_key = peer.key().map_err(|e| Error::Forbidden(format!("the peer's certificate: {e}")))?;
        let shared: BTreeSet<GridId> = grids
            .iter()
            .copied()
            .filter(|g| me.certificate.grids.contains(g.0.as_bytes()) && peer.grids.contains(g.0.as_bytes()))
            .collect();

        let key = self.signing_key()?;
        let statement =
            PeerOffer::possession_statement(&me.certificate_bytes, &theirs.certificate, &theirs.nonce, &nonce);
        let heads = self.heads_in(&shared)?;
        let offer = PeerOffer {
            possession: key.sign(&statement).to_bytes(),
            heads: heads.0.iter().map(|(doc, h)| (doc.clone(), h.iter().map(|h| h.0).collect())).collect(),
        };
        let their_offer = PeerOffer::decode(&talk(&mut rx, &mut tx, offer.encode(), &mut report).await?, &limits)
            .map_err(protocol)?;
        let expected =
            PeerOffer::possession_statement(&theirs.certificate, &me.certificate_bytes, &nonce, &theirs.nonce);
        if peer_key.verify_strict(&expected, &Signature::from_bytes(&their_offer.possession)).is_err() {
            return Err(Error::Forbidden("the peer does not hold the key its certificate names".into()));
        }
        let known = Heads(
            their_offer
                .heads
                .into_iter()
                .map(|(doc, h)| (doc, h.into_iter().map(ChangeHash).collect()))
                .collect::<BTreeMap<_, _>>(),
        );
        let outgoing = self.proven_changes(&known, &shared, &me)?;
        report.changes_sent = outgoing.docs.iter().map(|d| d.changes.len()).sum();
        report.docs_withheld = outgoing.withheld;
        let keys = self.keys_for_docs(&outgoing.docs)?;
        let message =
            PeerChanges { docs: outgoing.docs, proofs: outgoing.proofs, certificates: outgoing.certificates, keys };
        let incoming = talk(&mut rx, &mut tx, message.encode(), &mut report).await?;
        tx.shutdown().await.map_err(|e| Error::Network(e.to_string()))?;
        let incoming = PeerChanges::decode(&incoming, &limits).map_err(protocol)?;
        let Received { set, proofs, authors, keys } =
            check_incoming(incoming, &shared, &me, (&peer, &theirs.certificate))?;
        report.received = self.merge_in(&set, &keys, true, |c| {
            for proof in &proofs {
                proofs::save(c, proof)?;
            }
            for (author, certificate) in &authors {
                save_authors(c, std::slice::from_ref(author), Some(certificate))?;
            }
            Ok(())
        })?;
        Ok(report)
    }

    fn heads_in(&self, grids: &BTreeSet<GridId>) -> Result<Heads> {
        let mut heads = self.heads()?;
        heads.0.retain(|doc, _| doc.parse::<DocId>().is_ok_and(|id| grids.contains(&id.grid)));
        Ok(heads)
    }

    /// The changes a peer with `known` heads lacks in `grids`, with the proofs of their authors: a
    /// document holding a change this store cannot prove is withheld whole.
    fn proven_changes(&self, known: &Heads, grids: &BTreeSet<GridId>, me: &Enrolment) -> Result<Outgoing> {
        let mut set = self.changes_since(known)?;
        set.docs.retain(|d| d.doc.parse::<DocId>().is_ok_and(|id| grids.contains(&id.grid)));
        let mut changes = Vec::with_capacity(set.docs.len());
        for doc in set.docs {
            let parsed = doc
                .changes
                .iter()
                .map(|bytes| {
                    let change =
                        Change::try_from(bytes.as_slice()).map_err(|e| Error::InvalidChanges(e.to_string()))?;
                    Ok((change.actor_id().to_bytes().to_vec(), change.hash().0))
                })
                .collect::<Result<Vec<_>>>()?;
            changes.push((doc, parsed));
        }
        let own = &me.certificate.actor;
        let others = changes.iter().flat_map(|(_, p)| p.iter().filter(|(a, _)| a != own).map(|(_, h)| *h));
        let (held, certificates) = self.read(|c| {
            let held = proofs::covering(c, others.collect::<Vec<_>>())?;
            let mut certificates = HashMap::new();
            for proof in &held {
                if proof.actor != SERVER_ACTOR && !certificates.contains_key(&proof.actor) {
                    certificates.insert(proof.actor.clone(), super::identity::certificate_of(c, &proof.actor)?);
                }
            }
            Ok((held, certificates))
        })?;
        // The author's own proof where the peer can check it (this store holds the author's
        // certificate), else the server's.
        let proof_of = |actor: &[u8], hash: &[u8; 32]| {
            let certified = certificates.get(actor).is_some_and(Option::is_some);
            held.iter()
                .position(|p| p.covers(hash) && p.actor == actor && certified)
                .or_else(|| held.iter().position(|p| p.covers(hash) && p.actor == SERVER_ACTOR))
        };
        let mut out = Outgoing::default();
        let (mut used, mut own_hashes) = (BTreeSet::new(), Vec::new());
        for (doc, parsed) in changes {
            let mut needs = Vec::new();
            let proven = parsed
                .iter()
                .all(|(actor, hash)| actor == own || proof_of(actor, hash).map(|at| needs.push(at)).is_some());
            if !proven {
                out.withheld += 1;
                continue;
            }
            used.extend(needs);
            own_hashes.extend(parsed.iter().filter(|(a, _)| a == own).map(|(_, h)| *h));
            out.docs.push(doc);
        }
        if !own_hashes.is_empty() {
            out.proofs.push(Proof::sign(&self.signing_key()?, own, own_hashes));
        }
        for at in used {
            let proof = held[at].clone();
            if let Some(Some(certificate)) = certificates.get(&proof.actor)
                && !out.certificates.contains(certificate)
            {
                out.certificates.push(certificate.clone());
            }
            out.proofs.push(proof);
        }
        Ok(out)
    }
}

/// What one side sends: changes, the proofs covering them, and the certificates of their authors.
#[derive(Debug, Default)]
struct Outgoing {
    docs: Vec<DocChanges>,
    proofs: Vec<Proof>,
    certificates: Vec<Vec<u8>>,
    withheld: usize,
}

/// What a peer sent, checked: its changes, the proofs covering them and their authors' certificates.
struct Received {
    set: ChangeSet,
    proofs: Vec<Proof>,
    authors: Vec<(Author, Vec<u8>)>,
    keys: Vec<KeyEntry>,
}

/// The received changes, if every one is in the shared `grids` and covered by a proof that
/// verifies (with the server's key, or with the certified key of its author, certified for the
/// change's grid); with the proofs and the authors' certificates to keep.
fn check_incoming(
    incoming: PeerChanges,
    grids: &BTreeSet<GridId>,
    me: &Enrolment,
    peer: (&Certificate, &[u8]),
) -> Result<Received> {
    let forbidden = |what: &str| Error::Forbidden(format!("the peer sent {what}; nothing of the exchange was applied"));
    let mut certified: HashMap<Vec<u8>, (Certificate, Vec<u8>)> = HashMap::new();
    certified.insert(peer.0.actor.clone(), (peer.0.clone(), peer.1.to_vec()));
    for bytes in incoming.certificates {
        // A relayed batch was signed while its author's certificate was valid; expiry is the
        // concern of the peer's own certificate, checked at the start.
        let cert = Certificate::verify(&bytes, &me.server_key, i64::MIN)
            .map_err(|_| forbidden("a certificate the district's server did not sign"))?;
        certified.entry(cert.actor.clone()).or_insert((cert, bytes));
    }
    let mut proofs = Vec::with_capacity(incoming.proofs.len());
    for proof in incoming.proofs {
        let key: VerifyingKey = if proof.actor == SERVER_ACTOR {
            me.server_key
        } else {
            let (cert, _) =
                certified.get(&proof.actor).ok_or_else(|| forbidden("a proof of an author it did not certify"))?;
            cert.key().map_err(|_| forbidden("a certificate with a damaged key"))?
        };
        if !proof.verify(&key) {
            return Err(forbidden("a proof that does not verify"));
        }
        proofs.push(proof);
    }
    let mut authors = BTreeMap::new();
    for doc in &incoming.docs {
        let id: DocId = doc.doc.parse()?;
        if !grids.contains(&id.grid) {
            return Err(forbidden("a document of a grid both phones do not share"));
        }
        for bytes in &doc.changes {
            let change = Change::try_from(bytes.as_slice()).map_err(|e| Error::InvalidChanges(e.to_string()))?;
            let (actor, hash) = (change.actor_id().to_bytes(), change_hash(bytes).unwrap_or_default());
            let by_server = proofs.iter().any(|p| p.actor == SERVER_ACTOR && p.covers(&hash));
            let by_author = proofs.iter().any(|p| p.actor == actor && p.covers(&hash))
                && certified.get(actor).is_some_and(|(cert, _)| cert.grids.contains(id.grid.0.as_bytes()));
            if !(by_server || by_author) {
                return Err(forbidden("a change it cannot prove was made by its author"));
            }
            if let (false, Some((cert, bytes))) = (by_server, certified.get(actor)) {
                authors.insert(actor.to_vec(), (author_of(cert), bytes.clone()));
            }
        }
    }
    // A key only for a record of a household or event of the shared grids, under the document it
    // names: a peer cannot hand this store a key for anything else.
    let mut keys = Vec::with_capacity(incoming.keys.len());
    for key in &incoming.keys {
        let id: DocId = key.doc.parse().map_err(|_| forbidden("a key of a malformed document"))?;
        if !grids.contains(&id.grid) || !matches!(id.kind, DocKind::Household | DocKind::Event) {
            return Err(forbidden("a key of a grid both phones do not share"));
        }
        keys.push(crate::datakey::keyring::from_wire(key)?);
    }
    let peer_author = (author_of(peer.0), peer.1.to_vec());
    authors.insert(peer.0.actor.clone(), peer_author);
    Ok(Received {
        set: ChangeSet { docs: incoming.docs, keys: Vec::new() },
        proofs,
        authors: authors.into_values().collect(),
        keys,
    })
}

fn author_of(cert: &Certificate) -> Author {
    Author {
        actor: cert.actor.clone(),
        device_id: cert.device_id.clone(),
        device: cert.device.clone(),
        holder: cert.holder.clone(),
        role: cert.role.clone(),
        public_key: Some(cert.public_key),
    }
}

fn protocol(e: wire::WireError) -> Error {
    Error::Protocol(e.to_string())
}

/// Sends `message` and reads the other side's: both sides write before they read, and doing both at
/// once keeps a small pipe from deadlocking.
async fn talk<R, W>(rx: &mut R, tx: &mut W, message: Vec<u8>, report: &mut PeerReport) -> Result<Vec<u8>>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let (sent, received) = tokio::join!(write_frame(tx, &message), read_frame(rx));
    let received = received?;
    report.bytes_out += sent?;
    report.bytes_in += received.len() as u64 + 4;
    Ok(received)
}

async fn write_frame<W: AsyncWrite + Unpin>(w: &mut W, message: &[u8]) -> Result<u64> {
    let body = wire::compress(message);
    let len = u32::try_from(body.len()).ok().filter(|&n| n <= MAX_FRAME);
    let len = len.ok_or_else(|| Error::Protocol("too much to send to a peer in one exchange".into()))?;
    let io = |e: std::io::Error| Error::Network(e.to_string());
    w.write_all(&len.to_be_bytes()).await.map_err(io)?;
    w.write_all(&body).await.map_err(io)?;
    w.flush().await.map_err(io)?;
    Ok(u64::from(len) + 4)
}

async fn read_frame<R: AsyncRead + Unpin>(r: &mut R) -> Result<Vec<u8>> {
    let io = |e: std::io::Error| Error::Network(e.to_string());
    let mut len = [0; 4];
    r.read_exact(&mut len).await.map_err(io)?;
    let len = u32::from_be_bytes(len);
    if len > MAX_FRAME {
        return Err(Error::Protocol("the peer's message is larger than this device accepts".into()));
    }
    let mut body = vec![0; len as usize];
    r.read_exact(&mut body).await.map_err(io)?;
    wire::decompress(&body, &Limits::default()).map_err(|e| Error::Protocol(e.to_string()))
}
