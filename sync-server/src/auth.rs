//! A device's credentials. Tokens: `gbt_<district>_<64 hex>`, shown once when a device is given one
//! and stored only as a SHA-256 hash. Every request is checked against the store, so a revocation
//! made by `gridbook-server device revoke` in another process takes effect at the device's next
//! request. One-time enrolment codes, which a device trades for its token: ten Crockford base32
//! characters (50 random bits), short enough to type from a screen or a slip of paper, shown as
//! `XXXXX-XXXXX`, single use and valid a day, stored only as the SHA-256 of their ten characters.

use axum::http::HeaderMap;
use sha2::{Digest, Sha256};

use gridbook_core::sync::wire::WipeOrder;

use crate::error::{ApiError, ApiResult};
use crate::storage::{Device, Revocation, Storage};

/// What a revoked device is told when it is told nothing more.
pub const REVOKED: &str = "this device has been revoked; ask the district centre";

/// A fresh token for a device of `district`.
pub fn new_token(district: &str) -> String {
    let secret: [u8; 32] = rand::random();
    format!("gbt_{district}_{}", hex::encode(secret))
}

pub fn hash(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

/// Crockford's base32: no I, L, O or U, so that what is typed is what was printed.
const CODE_ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
const CODE_CHARS: usize = 10;

/// How long a code enrols its device, in milliseconds: a day to hand the phone over.
pub const CODE_LIFETIME_MS: i64 = 24 * 60 * 60 * 1000;

/// A fresh enrolment code, as shown (`XXXXX-XXXXX`), and the hash it is stored under.
pub fn new_code() -> (String, [u8; 32]) {
    let random: [u8; CODE_CHARS] = rand::random();
    // 256 is a multiple of 32: each character is uniform.
    let chars: String = random.iter().map(|b| char::from(CODE_ALPHABET[usize::from(b % 32)])).collect();
    let hash = Sha256::digest(chars.as_bytes()).into();
    (format!("{}-{}", &chars[..5], &chars[5..]), hash)
}

/// The hash of a code as a person typed it: case, `-` and spaces do not matter, and I, L and O are
/// read as 1, 1 and 0, as Crockford's base32 prescribes. `None` if it is not ten characters of the
/// alphabet.
pub fn code_hash(typed: &str) -> Option<[u8; 32]> {
    let mut chars = String::with_capacity(CODE_CHARS);
    for c in typed.chars().filter(|c| *c != '-' && !c.is_whitespace()) {
        let c = match c.to_ascii_uppercase() {
            'I' | 'L' => '1',
            'O' => '0',
            c => c,
        };
        if !c.is_ascii() || !CODE_ALPHABET.contains(&(c as u8)) || chars.len() == CODE_CHARS {
            return None;
        }
        chars.push(c);
    }
    (chars.len() == CODE_CHARS).then(|| Sha256::digest(chars.as_bytes()).into())
}

/// A district name fit to be part of a token.
pub fn valid_district(district: &str) -> bool {
    !district.is_empty()
        && district.len() <= 40
        && district.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// The device presenting the request's bearer token, if it may still upload: an active device, or
/// one retired (the routes that send data check [`receiving`] too). A device revoked as lost is
/// refused with the order to wipe, signed with the server's key; one revoked before reasons were
/// kept is refused.
pub fn authenticate(storage: &dyn Storage, headers: &HeaderMap) -> ApiResult<Device> {
    let token = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .ok_or_else(|| ApiError::Unauthorized("this request carries no device token".into()))?;
    let district = token
        .strip_prefix("gbt_")
        .and_then(|rest| rest.rsplit_once('_'))
        .map(|(district, _)| district)
        .ok_or_else(|| ApiError::Unauthorized("this is not a Gridbook device token".into()))?;
    if district != storage.district() {
        return Err(ApiError::Unauthorized(format!(
            "this token belongs to district {district:?}; this server serves {:?}",
            storage.district()
        )));
    }
    let device = storage
        .device_by_token(&hash(token))?
        .ok_or_else(|| ApiError::Unauthorized("this device token is not registered here".into()))?;
    match (device.revoked_at, device.revoked_as) {
        (None, _) | (Some(_), Some(Revocation::Retired)) => Ok(device),
        (Some(_), Some(Revocation::Lost)) => Err(ApiError::Wipe(wipe_order(storage, &device, Revocation::Lost))),
        (Some(_), None) => Err(ApiError::Unauthorized(REVOKED.into())),
    }
}

/// The device, if it may receive data: a retired device receives nothing new.
pub fn receiving(device: Device) -> ApiResult<Device> {
    if device.revoked_at.is_some() {
        return Err(ApiError::Unauthorized(REVOKED.into()));
    }
    Ok(device)
}

/// The server's order to wipe `device`, revoked for `reason`.
pub fn wipe_order(storage: &dyn Storage, device: &Device, reason: Revocation) -> WipeOrder {
    WipeOrder::sign(&storage.server_key(), reason.wipe(), &device.id)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Pins what a code is stored under, so that codes handed out survive an upgrade.
    #[test]
    fn a_code_is_stored_as_the_sha256_of_its_ten_characters() {
        let expected = "83eb07bfcc5861d39ffb3b79b1ddaa40a956c03d612ec09b20755792a5261798";
        assert_eq!(code_hash("1A2B3-C4D5E").map(hex::encode).as_deref(), Some(expected));
    }

    #[test]
    fn a_code_is_read_as_a_person_types_it() {
        let printed = code_hash("01234-56789");
        for typed in ["0123456789", "o1234 56789", "OI234-56789", "ol234 - 56789\n", "0L23456789"] {
            assert_eq!(code_hash(typed), printed, "{typed:?}");
        }
        for wrong in ["", "012345678", "01234567890", "01234-5678U", "01234-5678\u{ff10}", "01234_56789"] {
            assert_eq!(code_hash(wrong), None, "{wrong:?}");
        }
    }

    #[test]
    fn a_new_code_is_shown_in_two_halves_and_stored_by_its_hash() {
        let (shown, hash) = new_code();
        assert_eq!(shown.len(), 11);
        assert_eq!(shown.as_bytes()[5], b'-');
        assert!(shown.bytes().filter(|b| *b != b'-').all(|b| CODE_ALPHABET.contains(&b)), "{shown}");
        assert_eq!(code_hash(&shown), Some(hash));
        assert_eq!(code_hash(&shown.to_lowercase()), Some(hash));
        assert_ne!(new_code().1, hash, "random");
    }
}
