//! Device tokens: `gbt_<district>_<64 hex>`, shown once when a device is registered and stored only
//! as a SHA-256 hash. Every request is checked against the store, so a revocation made by
//! `gridbook-server device revoke` in another process takes effect at the device's next request.

use axum::http::HeaderMap;
use sha2::{Digest, Sha256};

use crate::error::{ApiError, ApiResult};
use crate::storage::{Device, Storage};

/// A fresh token for a device of `district`.
pub fn new_token(district: &str) -> String {
    let secret: [u8; 32] = rand::random();
    format!("gbt_{district}_{}", hex::encode(secret))
}

pub fn hash(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

/// A district name fit to be part of a token.
pub fn valid_district(district: &str) -> bool {
    !district.is_empty()
        && district.len() <= 40
        && district.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// The device presenting the request's bearer token.
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
    if device.revoked_at.is_some() {
        return Err(ApiError::Unauthorized("this device has been revoked; ask the district centre".into()));
    }
    Ok(device)
}
