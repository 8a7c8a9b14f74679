//! The primitives every message is written in: LEB128 varints, length-prefixed bytes, and a reader
//! that checks every length and count against the limits and against the bytes actually left
//! before it allocates anything.

use super::{Limits, WireError};

pub(super) fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    loop {
        let byte = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

pub(super) fn put_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    put_varint(out, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

pub(super) struct Reader<'a> {
    rest: &'a [u8],
    pub(super) limits: &'a Limits,
}

impl<'a> Reader<'a> {
    pub(super) fn new(bytes: &'a [u8], magic: &[u8; 4], limits: &'a Limits) -> Result<Self, WireError> {
        if bytes.len() > limits.max_message_bytes {
            return Err(WireError::TooLarge("message size"));
        }
        match bytes.split_at_checked(4) {
            Some((m, rest)) if m == magic => Ok(Self { rest, limits }),
            _ => Err(WireError::BadMagic),
        }
    }

    pub(super) fn byte(&mut self) -> Result<u8, WireError> {
        let (&b, rest) = self.rest.split_first().ok_or(WireError::Truncated)?;
        self.rest = rest;
        Ok(b)
    }

    pub(super) fn varint(&mut self) -> Result<u64, WireError> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.byte()?;
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(WireError::Malformed("varint"))
    }

    /// A count, checked against `max` and against the bytes left (each item takes at least one).
    pub(super) fn count(&mut self, max: usize, what: &'static str) -> Result<usize, WireError> {
        let n = self.varint()?;
        if n > max as u64 {
            return Err(WireError::TooLarge(what));
        }
        if n > self.rest.len() as u64 {
            return Err(WireError::Truncated);
        }
        Ok(n as usize)
    }

    pub(super) fn bytes(&mut self, max: usize) -> Result<&'a [u8], WireError> {
        let n = self.varint()?;
        if n > max as u64 {
            return Err(WireError::TooLarge("field size"));
        }
        self.take(n as usize)
    }

    pub(super) fn take(&mut self, n: usize) -> Result<&'a [u8], WireError> {
        let (head, rest) = self.rest.split_at_checked(n).ok_or(WireError::Truncated)?;
        self.rest = rest;
        Ok(head)
    }

    /// What is left to read, without reading it.
    pub(super) fn remaining(&self) -> &'a [u8] {
        self.rest
    }

    pub(super) fn array<const N: usize>(&mut self) -> Result<[u8; N], WireError> {
        let mut out = [0; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }

    pub(super) fn end(&self) -> Result<(), WireError> {
        if self.rest.is_empty() { Ok(()) } else { Err(WireError::Malformed("trailing bytes")) }
    }
}
