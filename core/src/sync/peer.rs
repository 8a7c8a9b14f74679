//! Peer exchange: two phones with no signal sync with each other over any byte pipe the app
//! provides (Wi-Fi Direct, Bluetooth, a cable). Each side says which grids it holds and the heads of
//! its documents in them; each then sends the changes the other lacks, for the grids both hold and
//! no others, and refuses anything outside them. Received changes join the outbox, so they reach
//! the server with this device's next sync.
//!
//! Frames are a 4-byte big-endian length and a compressed message of [`super::wire`].

use std::collections::{BTreeMap, BTreeSet};

use automerge::ChangeHash;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use super::wire::{self, Limits, PeerHello, SyncRequest};
use crate::error::{Error, Result};
use crate::ids::{DocId, GridId};
use crate::merge::{ChangeSet, Heads, MergeReport};
use crate::store::Store;

/// What the exchange did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PeerReport {
    pub changes_sent: usize,
    pub received: MergeReport,
    pub bytes_out: u64,
    pub bytes_in: u64,
}

/// Largest frame either side accepts, compressed.
const MAX_FRAME: u32 = 16 << 20;

impl Store {
    /// Runs the exchange with a peer over `pipe`, sharing only documents of `grids` (the grids this
    /// device may share; the peer's own list narrows it further). Both sides call this.
    ///
    /// # Errors
    /// [`Error::Network`] if the pipe fails, [`Error::Protocol`] for a message that does not decode,
    /// [`Error::Forbidden`] if the peer sends a document outside the grids both hold (nothing of it is
    /// applied).
    pub async fn exchange_with_peer<P>(&self, pipe: P, grids: &[GridId]) -> Result<PeerReport>
    where
        P: AsyncRead + AsyncWrite + Unpin,
    {
        let limits = Limits::default();
        let mine: BTreeSet<GridId> = grids.iter().copied().collect();
        let heads = self.heads_in(&mine)?;
        let hello = PeerHello {
            grids: mine.iter().map(|g| *g.0.as_bytes()).collect(),
            heads: heads.0.iter().map(|(doc, h)| (doc.clone(), h.iter().map(|h| h.0).collect())).collect(),
        };
        let (mut rx, mut tx) = tokio::io::split(pipe);
        let mut report = PeerReport::default();
        let hello = hello.encode();
        // Both sides write before they read; doing both at once keeps a small pipe from deadlocking.
        let (sent, their_hello) = tokio::join!(write_frame(&mut tx, &hello), read_frame(&mut rx));
        let their_hello = their_hello?;
        report.bytes_out += sent?;
        report.bytes_in += their_hello.len() as u64 + 4;
        let their_hello = PeerHello::decode(&their_hello, &limits).map_err(|e| Error::Protocol(e.to_string()))?;
        let theirs: BTreeSet<GridId> = their_hello.grids.iter().map(|g| GridId(uuid::Uuid::from_bytes(*g))).collect();
        let shared: BTreeSet<GridId> = mine.intersection(&theirs).copied().collect();
        let known = Heads(
            their_hello
                .heads
                .into_iter()
                .map(|(doc, h)| (doc, h.into_iter().map(ChangeHash).collect()))
                .collect::<BTreeMap<_, _>>(),
        );
        let outgoing = self.changes_in(&known, &shared)?;
        report.changes_sent = outgoing.change_count();
        let message = SyncRequest { cursor: Vec::new(), docs: outgoing.docs, proofs: Vec::new() }.encode();
        let (out, incoming) = tokio::join!(write_frame(&mut tx, &message), read_frame(&mut rx));
        report.bytes_out += out?;
        let incoming = incoming?;
        report.bytes_in += incoming.len() as u64 + 4;
        tx.shutdown().await.map_err(|e| Error::Network(e.to_string()))?;
        let incoming = SyncRequest::decode(&incoming, &limits).map_err(|e| Error::Protocol(e.to_string()))?;
        for doc in &incoming.docs {
            let id: DocId = doc.doc.parse()?;
            if !shared.contains(&id.grid) {
                return Err(Error::Forbidden("the peer sent a document of a grid this device does not share".into()));
            }
        }
        report.received = self.apply_changes(&ChangeSet { docs: incoming.docs })?;
        Ok(report)
    }

    fn heads_in(&self, grids: &BTreeSet<GridId>) -> Result<Heads> {
        let mut heads = self.heads()?;
        heads.0.retain(|doc, _| doc.parse::<DocId>().is_ok_and(|id| grids.contains(&id.grid)));
        Ok(heads)
    }

    fn changes_in(&self, known: &Heads, grids: &BTreeSet<GridId>) -> Result<ChangeSet> {
        let mut set = self.changes_since(known)?;
        set.docs.retain(|d| d.doc.parse::<DocId>().is_ok_and(|id| grids.contains(&id.grid)));
        Ok(set)
    }
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
