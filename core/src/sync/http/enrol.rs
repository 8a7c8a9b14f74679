//! Enrolment over HTTP (`POST /v1/enrol`): the store shows its public key, signed with the key
//! itself, and either the one-time code the centre gave its holder or the token it already syncs
//! with; the server answers with the certificate for that key (and, for a code, the token).

use ed25519_dalek::Signer;
use reqwest::header;
use serde::{Deserialize, Serialize};

use super::retry::{Attempt, retrying};
use super::{Remote, SyncOptions, checked, network, read_body};
use crate::error::{Error, Result};
use crate::store::Store;
use crate::sync::identity::Enrolment;
use crate::sync::wire::enrolment_statement;

#[derive(Serialize)]
struct EnrolRequest<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    code: Option<&'a str>,
    actor: String,
    public_key: String,
    signature: String,
}

#[derive(Deserialize)]
struct EnrolAnswer {
    token: Option<String>,
    certificate: String,
    server_key: String,
}

/// A certificate this close to its expiry is renewed by the next sync.
const RENEW_WITHIN_SECS: i64 = 7 * 24 * 3600;

impl Store {
    /// Enrols this store with the district's server at `server`, with the one-time `code` the
    /// centre gave its holder (`gridbook-server device add`): the server records this store's key
    /// for the device and answers with the device's token and certificate, which the store keeps.
    /// Afterwards [`Store::enrolled_remote`] gives the server to sync with.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for an address that is not http(s) or an empty code;
    /// [`Error::Unauthorized`] for a code that is unknown, used or expired; [`Error::Forbidden`] if
    /// the server has this store's key for another device; [`Error::Network`], [`Error::Server`]
    /// and [`Error::Protocol`] as for a sync.
    pub async fn enrol(&self, server: &str, code: &str, options: &SyncOptions) -> Result<Enrolment> {
        let code = code.trim();
        if code.is_empty() {
            return Err(Error::invalid("code", "give the one-time code the district centre gave you"));
        }
        // The remote's token is only a placeholder: a code's request carries none.
        let remote = Remote::new(server, "-", options)?;
        let answer = self.post_enrolment(&remote, Some(code)).await?;
        let token = answer.token.clone().ok_or_else(|| Error::Protocol("the server sent no token".into()))?;
        self.keep_enrolment(&remote.base, &token, &answer)
    }

    /// The server this store enrolled with, to sync with.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] if the store is not enrolled (or for a district CA in `options` that is
    /// not a certificate).
    pub fn enrolled_remote(&self, options: &SyncOptions) -> Result<Remote> {
        let enrolment = self.enrolment()?.ok_or_else(|| {
            Error::invalid("server", "this store is not enrolled: run `gridbook enrol` with the centre's code")
        })?;
        Remote::new(&enrolment.server, &enrolment.token, options)
    }

    /// This store's enrolment with `remote`, registering its key by token first if the store has
    /// none there yet or its certificate is about to expire.
    pub(super) async fn enrolled_with(&self, remote: &Remote) -> Result<Enrolment> {
        if let Some(enrolment) = self.enrolment()? {
            let fresh = enrolment.certificate.expires_at - self.now().timestamp() > RENEW_WITHIN_SECS;
            // The token names the device at its district's server, by whatever address it is reached.
            if fresh && enrolment.token == remote.token {
                return Ok(enrolment);
            }
        }
        let answer = self.post_enrolment(remote, None).await?;
        self.keep_enrolment(&remote.base, &remote.token, &answer)
    }

    async fn post_enrolment(&self, remote: &Remote, code: Option<&str>) -> Result<EnrolAnswer> {
        let key = self.signing_key()?;
        let actor = hex::decode(self.actor()).unwrap_or_default();
        let public_key = key.verifying_key().to_bytes();
        let request = EnrolRequest {
            code,
            actor: hex::encode(&actor),
            public_key: hex::encode(public_key),
            signature: hex::encode(key.sign(&enrolment_statement(&actor, &public_key)).to_bytes()),
        };
        let body = serde_json::to_vec(&request)?;
        let answer = retrying(|| remote.enrol_once(code.is_none(), body.clone())).await?;
        serde_json::from_slice(&answer)
            .map_err(|_| Error::Protocol("the server's enrolment answer does not read".into()))
    }

    fn keep_enrolment(&self, server: &str, token: &str, answer: &EnrolAnswer) -> Result<Enrolment> {
        let bad = |_| Error::Protocol("the server's enrolment answer is not hex".into());
        let certificate = hex::decode(&answer.certificate).map_err(bad)?;
        let server_key: [u8; 32] = hex::decode(&answer.server_key)
            .map_err(bad)?
            .try_into()
            .map_err(|_| Error::Protocol("the server's key is not 32 bytes".into()))?;
        self.save_enrolment(server, token, &certificate, &server_key)
    }
}

impl Remote {
    async fn enrol_once(&self, with_token: bool, body: Vec<u8>) -> Attempt<Vec<u8>> {
        let mut request = self
            .http
            .post(format!("{}/v1/enrol", self.base))
            .header(header::CONTENT_TYPE, "application/json")
            .body(body);
        if with_token {
            request = request.bearer_auth(&self.token);
        }
        let response = request.send().await.map_err(network)?;
        Ok(read_body(checked(response).await?, 64 << 10).await?)
    }
}
