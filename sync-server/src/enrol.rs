//! `POST /v1/enrol`: a store registers the public key of its actor with the district's server and
//! gets back the server's certificate of it (who holds the device, its role, the grids it may see,
//! the key), which its peers check. A store new to the district enrols with the one-time code the
//! centre gave its device, and gets the device's token with the certificate; a store that already
//! has a token (an app of the previous version, a tool) enrols by that token, on its first sync with
//! a key. The store proves it holds the key by signing `enrolment_statement(actor, key)` with it.

use ed25519_dalek::{Signature, VerifyingKey};
use gridbook_core::sync::wire::{Certificate, enrolment_statement};
use serde::{Deserialize, Serialize};

use crate::auth;
use crate::error::{ApiError, ApiResult};
use crate::scope::Scope;
use crate::storage::{Device, Storage};

/// Largest enrolment body: a code, an actor, a key and a signature, in hex, fit in far less.
pub const MAX_BODY_BYTES: usize = 8 << 10;

/// Work an enrolment may hold: its body, and a certificate of every grid of a large district.
pub const WORK_BYTES: usize = 256 << 10;

/// The longest name a certificate (or a sync's list of authors) carries, in bytes, as
/// `gridbook_core::sync::wire` reads them: a device's name and holder are kept within it.
pub const MAX_CERTIFIED_TEXT_BYTES: usize = 200;

/// How long a certificate is valid, in seconds. A store enrols again by its token before then.
const CERTIFICATE_LIFETIME_SECS: i64 = 30 * 24 * 60 * 60;

/// What a refused code is told, whatever the reason: an unknown code says nothing of which exist.
const UNUSABLE_CODE: &str = "this enrolment code is unknown, used or expired: ask the district centre for a new one";

/// What a second store presenting a device's token is told.
const ANOTHER_STORE: &str =
    "this device already has a store enrolled: a new store enrols with a one-time code from the district centre";

/// An enrolment request as sent, every field hex but the code.
#[derive(Deserialize)]
struct Body {
    code: Option<String>,
    actor: String,
    public_key: String,
    signature: String,
}

/// An enrolment request whose signature has been verified.
pub struct Request {
    /// The hash of the code it carries, if it carries one.
    code: Option<[u8; 32]>,
    actor: Vec<u8>,
    public_key: [u8; 32],
}

/// The code's hash is left out: it is as good as the code for a day.
impl std::fmt::Debug for Request {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Request")
            .field("by_code", &self.code.is_some())
            .field("actor", &hex::encode(&self.actor))
            .finish()
    }
}

impl Request {
    /// Reads a request body and verifies its signature.
    ///
    /// # Errors
    /// [`ApiError::Malformed`] for a body that is not the JSON of an enrolment, an actor of other
    /// than 1 to 32 bytes, a public key that is not an Ed25519 key, a code of the wrong shape, or a
    /// signature that does not verify.
    pub fn parse(body: &[u8]) -> ApiResult<Self> {
        let malformed = |what: &str| ApiError::Malformed(format!("an enrolment's {what}"));
        let body: Body = serde_json::from_slice(body).map_err(|_| {
            ApiError::Malformed("an enrolment is JSON {\"code\"?, \"actor\", \"public_key\", \"signature\"}".into())
        })?;
        let actor = hex::decode(&body.actor).ok().filter(|a| (1..=32).contains(&a.len()));
        let actor = actor.ok_or_else(|| malformed("actor is 1 to 32 bytes in hex"))?;
        let public_key: [u8; 32] = hex::decode(&body.public_key)
            .ok()
            .and_then(|k| k.try_into().ok())
            .ok_or_else(|| malformed("public key is 32 bytes in hex"))?;
        let signature: [u8; 64] = hex::decode(&body.signature)
            .ok()
            .and_then(|s| s.try_into().ok())
            .ok_or_else(|| malformed("signature is 64 bytes in hex"))?;
        let key = VerifyingKey::from_bytes(&public_key).map_err(|_| malformed("public key is not an Ed25519 key"))?;
        key.verify_strict(&enrolment_statement(&actor, &public_key), &Signature::from_bytes(&signature))
            .map_err(|_| malformed("signature does not verify with its public key"))?;
        let code = match body.code.as_deref() {
            Some(code) => Some(
                auth::code_hash(code)
                    .ok_or_else(|| malformed("code is ten letters and digits, as printed: XXXXX-XXXXX"))?,
            ),
            None => None,
        };
        Ok(Self { code, actor, public_key })
    }

    /// The hash of the request's one-time code, if it carries one.
    pub fn code(&self) -> Option<[u8; 32]> {
        self.code
    }
}

/// What lets a store enrol for a device. No `Debug`: a code's hash is as good as the code.
pub enum Credential {
    /// The hash of a one-time code of the device.
    Code([u8; 32]),
    /// The device, authenticated by its token.
    Token(Device),
}

/// The answer to an enrolment.
#[derive(Serialize)]
pub struct Enrolled {
    /// The device's new token, for an enrolment by code.
    #[serde(skip_serializing_if = "Option::is_none")]
    token: Option<String>,
    /// The certificate, signed by the server's key, in hex.
    certificate: String,
    /// The server's public key, in hex.
    server_key: String,
}

/// Binds the request's actor and key to the credential's device and certifies them at `now_ms`
/// (milliseconds since the epoch). A code is used up by it, and the token it brings replaces any
/// the device had: a lost phone's token stops working when its replacement enrols.
///
/// # Errors
/// [`ApiError::Unauthorized`] for a code that is unknown, used, expired or of a revoked device, and
/// for a token of a retired device that is not renewing its store's certificate;
/// [`ApiError::Forbidden`] for a token whose device already has another store's key enrolled, and
/// for an actor bound to another device or enrolled with another key (a
/// code is used up by such a refusal too: the store is not the device's, which the centre sorts
/// out); a storage error as it comes.
pub fn enrol(
    storage: &dyn Storage,
    credential: Credential,
    request: &Request,
    now_ms: i64,
) -> ApiResult<(Device, Enrolled, usize)> {
    let (device, token) = match credential {
        Credential::Code(hash) => {
            let device = storage
                .redeem_code(&hash, now_ms, &request.public_key)?
                .ok_or_else(|| ApiError::Unauthorized(UNUSABLE_CODE.into()))?;
            certifiable(&device)?;
            storage.bind_key(&device.id, &request.actor, &request.public_key)?;
            let token = auth::new_token(storage.district());
            storage.set_token(&device.id, &auth::hash(&token))?;
            (device, Some(token))
        }
        Credential::Token(device) => {
            certifiable(&device)?;
            // A token registers a device's first key, or renews the certificate of the key it has:
            // another store (a reinstalled app, a copy of the token) enrols with a code from the
            // centre, so that a leaked token cannot be turned into a key of its own.
            let renewal = matches!(storage.actor_owner(&request.actor)?, Some((owner, _)) if owner == device.id)
                && storage.actor_key(&request.actor)?.is_some();
            let keys = storage.enrolled_keys()?.get(&device.id).copied().unwrap_or(0);
            if keys > 0 && !renewal {
                return Err(ApiError::Forbidden(ANOTHER_STORE.into()));
            }
            // A retired device renews its certificate to finish its upload; it enrols nothing new.
            if device.revoked_at.is_some() && !renewal {
                return Err(ApiError::Unauthorized(auth::REVOKED.into()));
            }
            storage.bind_key(&device.id, &request.actor, &request.public_key)?;
            (device, None)
        }
    };
    let key = storage.server_key();
    let grids = certified_grids(storage, &device)?;
    let granted = grids.len();
    let issued_at = now_ms.div_euclid(1000);
    let certificate = Certificate {
        device_id: device.id.clone(),
        device: device.name.clone(),
        holder: device.holder.clone(),
        role: device.role.as_str().into(),
        grids,
        actor: request.actor.clone(),
        public_key: request.public_key,
        issued_at,
        expires_at: issued_at + CERTIFICATE_LIFETIME_SECS,
    };
    let enrolled = Enrolled {
        token,
        certificate: hex::encode(certificate.sign(&key)),
        server_key: hex::encode(key.verifying_key().as_bytes()),
    };
    Ok((device, enrolled, granted))
}

/// Refuses a device whose name or holder a certificate cannot carry (only one registered before
/// names were bounded), before anything is bound to it.
fn certifiable(device: &Device) -> ApiResult<()> {
    if [&device.name, &device.holder].iter().any(|t| t.len() > MAX_CERTIFIED_TEXT_BYTES) {
        return Err(ApiError::Internal(
            "this device's name or holder is too long to certify: register it again with a shorter one".into(),
        ));
    }
    Ok(())
}

/// The grids a device may read, as its certificate names them: its scope's, the whole registry for
/// the centre, none for a department (which reads only the events dispatched to it). A grid id
/// that is not a UUID cannot be named in a certificate and is left out.
fn certified_grids(storage: &dyn Storage, device: &Device) -> ApiResult<Vec<[u8; 16]>> {
    let ids: Vec<String> = match Scope::of(storage, device)? {
        Scope::All => storage.grids()?.into_iter().map(|g| g.id).collect(),
        Scope::Grids(grids) => grids.into_iter().collect(),
        Scope::Department(_) => Vec::new(),
    };
    let mut grids: Vec<[u8; 16]> =
        ids.iter().filter_map(|id| uuid::Uuid::parse_str(id).ok()).map(uuid::Uuid::into_bytes).collect();
    grids.sort_unstable();
    grids.dedup();
    Ok(grids)
}
