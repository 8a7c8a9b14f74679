//! An automerge change chunk without the bytes the receiver can rebuild. A chunk is a header (magic
//! bytes, a checksum that is the start of the change's hash, the chunk type, the body's length) and
//! a body that starts with the hashes of the change's dependencies. On the wire only the
//! dependencies that are not the previous changes of the same list, and the rest of the body,
//! travel: 32 random bytes per dependency and a 10-byte header that gzip cannot shrink, on a
//! change of typically 150–300 bytes. The receiver rebuilds the exact chunk, so its hash, which
//! names the change everywhere, is the same on both sides.

use sha2::{Digest, Sha256};

use super::codec::put_varint;

const MAGIC: [u8; 4] = [0x85, 0x6f, 0x4a, 0x83];
/// A plain change; a deflated one (type 2) is sent as it is, and the server refuses it.
const CHANGE: u8 = 1;

/// A change chunk taken apart: its dependencies and the body after them.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Parts<'a> {
    pub deps: Vec<[u8; 32]>,
    pub rest: &'a [u8],
}

/// Splits a plain change chunk, or `None` if it is anything else or if rebuilding it would not give
/// back the same bytes (a checksum that does not match, a length not in its shortest form): such a
/// chunk travels whole, so that the receiver sees exactly what was sent and judges it itself.
pub(super) fn split(chunk: &[u8]) -> Option<(Parts<'_>, [u8; 32])> {
    let body = chunk.strip_prefix(&MAGIC)?.get(5..)?;
    let (len, body) = varint(body)?;
    let (count, mut at) = varint(body)?;
    if len != body.len() as u64 {
        return None;
    }
    let mut deps = Vec::with_capacity(count.min(64) as usize);
    for _ in 0..count {
        let (dep, rest) = at.split_first_chunk::<32>()?;
        deps.push(*dep);
        at = rest;
    }
    let parts = Parts { deps, rest: at };
    let (rebuilt, hash) = rebuild(&parts);
    (rebuilt == chunk).then_some((parts, hash))
}

/// The hash of a change chunk (automerge's `ChangeHash`): SHA-256 over everything after the magic
/// bytes and the checksum. `None` for bytes too short to be a chunk.
pub(super) fn hash(chunk: &[u8]) -> Option<[u8; 32]> {
    Some(Sha256::digest(chunk.get(8..).filter(|b| !b.is_empty())?).into())
}

/// The actor of a plain change chunk: the first field of its body after the dependencies.
pub(super) fn actor(chunk: &[u8]) -> Option<&[u8]> {
    let (parts, _) = split(chunk)?;
    let (len, rest) = varint(parts.rest)?;
    rest.get(..usize::try_from(len).ok()?)
}

/// The length of a plain change's body after its dependencies, read from the body's own fields:
/// its actor, sequence number, first op, time, message, other actors and op columns, whose lengths
/// it gives. `None` if `rest` does not hold all of them. Automerge allows bytes after the columns; a
/// change with any is not delimited this way, and travels with its length.
pub(super) fn body_len(rest: &[u8]) -> Option<usize> {
    fn skip(at: &mut &[u8], n: u64) -> Option<()> {
        *at = at.get(usize::try_from(n).ok()?..)?;
        Some(())
    }
    fn next(at: &mut &[u8]) -> Option<u64> {
        let (v, rest) = varint(at)?;
        *at = rest;
        Some(v)
    }
    let mut at = rest;
    let actor = next(&mut at)?;
    skip(&mut at, actor)?;
    // The sequence number, the first op and the time (a signed varint, skipped the same way).
    for _ in 0..3 {
        next(&mut at)?;
    }
    let message = next(&mut at)?;
    skip(&mut at, message)?;
    // Each item takes at least a byte, so a count larger than what is left fails as it runs out.
    for _ in 0..next(&mut at)? {
        let other = next(&mut at)?;
        skip(&mut at, other)?;
    }
    let mut data = 0u64;
    for _ in 0..next(&mut at)? {
        let _spec = next(&mut at)?;
        data = data.checked_add(next(&mut at)?)?;
    }
    skip(&mut at, data)?;
    Some(rest.len() - at.len())
}

/// The chunk and its hash (automerge's `ChangeHash`).
pub(super) fn rebuild(parts: &Parts<'_>) -> (Vec<u8>, [u8; 32]) {
    let mut body = Vec::with_capacity(parts.deps.len() * 32 + parts.rest.len() + 4);
    put_varint(&mut body, parts.deps.len() as u64);
    for dep in &parts.deps {
        body.extend_from_slice(dep);
    }
    body.extend_from_slice(parts.rest);
    let mut head = vec![CHANGE];
    put_varint(&mut head, body.len() as u64);
    let hash: [u8; 32] = Sha256::new().chain_update(&head).chain_update(&body).finalize().into();
    let mut chunk = Vec::with_capacity(8 + head.len() + body.len());
    chunk.extend_from_slice(&MAGIC);
    chunk.extend_from_slice(&hash[..4]);
    chunk.extend_from_slice(&head);
    chunk.extend_from_slice(&body);
    (chunk, hash)
}

/// A varint and what follows it; `None` if it runs past the end or past 64 bits.
fn varint(bytes: &[u8]) -> Option<(u64, &[u8])> {
    let mut v = 0u64;
    for (i, &b) in bytes.iter().enumerate().take(10) {
        v |= u64::from(b & 0x7f).checked_shl(7 * i as u32)?;
        if b & 0x80 == 0 {
            return Some((v, &bytes[i + 1..]));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use automerge::transaction::Transactable;
    use automerge::{AutoCommit, ROOT};

    use super::*;

    fn changes() -> Vec<automerge::Change> {
        let mut doc = AutoCommit::new();
        for i in 0..3 {
            doc.put(ROOT, format!("k{i}"), "value").unwrap();
            doc.commit();
        }
        doc.get_changes(&[])
    }

    #[test]
    fn a_change_is_rebuilt_exactly_with_its_hash() {
        for change in changes() {
            let bytes = change.raw_bytes();
            let (parts, hash) = split(bytes).unwrap();
            assert_eq!(parts.deps, change.deps().iter().map(|h| h.0).collect::<Vec<_>>());
            assert_eq!(hash, change.hash().0);
            assert_eq!(rebuild(&parts), (bytes.to_vec(), hash));
        }
    }

    #[test]
    fn a_change_body_gives_its_own_length() {
        let mut doc = AutoCommit::new();
        doc.put(ROOT, "name", "王芳").unwrap();
        doc.commit_with(automerge::transaction::CommitOptions::default().with_message("a visit"));
        let mut changes = changes();
        changes.extend(doc.get_changes(&[]));
        for change in changes {
            let (parts, _) = split(change.raw_bytes()).unwrap();
            assert_eq!(body_len(parts.rest), Some(parts.rest.len()));
            for cut in [1, parts.rest.len() / 2, parts.rest.len()] {
                assert_eq!(body_len(&parts.rest[..parts.rest.len() - cut]), None);
            }
        }
    }

    #[test]
    fn anything_else_is_not_split() {
        let good = changes().remove(1).raw_bytes().to_vec();
        let mut bad_checksum = good.clone();
        bad_checksum[4] ^= 1;
        let mut deflated = good.clone();
        deflated[8] = 2;
        let mut padded_len = good[..9].to_vec();
        padded_len.extend([(good[9] & 0x7f) | 0x80, 0]);
        padded_len.extend(&good[10..]);
        for bad in [vec![], good[..20].to_vec(), bad_checksum, deflated, padded_len, [&good[..], &[0]].concat()] {
            assert_eq!(split(&bad), None);
        }
    }
}
