//! The store's own key pair, and its enrolment with the district's server: the token it syncs with,
//! the certificate the server signed for its key, and the server's public key, by which it checks
//! what the server vouches for and the certificates peers show it.
//!
//! The secret key is made on the device, the first time it is needed, and never leaves the store.

use ed25519_dalek::{SigningKey, VerifyingKey};
use rusqlite::{Connection, OptionalExtension, params};

use super::wire::{Author, Certificate};
use crate::error::{Error, Result};
use crate::ids::GridId;
use crate::store::Store;

/// This store's enrolment with the district's server.
#[derive(Debug, Clone)]
pub struct Enrolment {
    /// The server's address.
    pub server: String,
    /// The device's bearer token.
    pub token: String,
    /// What the server certified about this store.
    pub certificate: Certificate,
    /// The certificate as the server signed it, shown to peers.
    pub certificate_bytes: Vec<u8>,
    /// The key the server signs certificates and replies with.
    pub server_key: VerifyingKey,
}

impl Enrolment {
    /// The grids the certificate names.
    pub fn grids(&self) -> Vec<GridId> {
        self.certificate.grids.iter().map(|g| GridId(uuid::Uuid::from_bytes(*g))).collect()
    }
}

impl Store {
    /// The store's signing key, made and kept the first time it is needed.
    pub(crate) fn signing_key(&self) -> Result<SigningKey> {
        self.write(|c| {
            if let Some(key) = stored_key(c)? {
                return Ok(key);
            }
            let key = SigningKey::from_bytes(&rand::random());
            c.execute("INSERT INTO identity (id, secret) VALUES (1, ?1)", [&key.to_bytes()[..]])?;
            Ok(key)
        })
    }

    /// The public half of the store's key: what the server certifies at enrolment.
    ///
    /// # Errors
    /// [`Error::Storage`] if the key cannot be read or kept.
    pub fn public_key(&self) -> Result<[u8; 32]> {
        Ok(self.signing_key()?.verifying_key().to_bytes())
    }

    /// The store's enrolment, if it has one.
    ///
    /// # Errors
    /// [`Error::Storage`] if it cannot be read; [`Error::InvalidInput`] if it is damaged.
    pub fn enrolment(&self) -> Result<Option<Enrolment>> {
        self.read(read_enrolment)
    }

    /// Keeps an enrolment the server answered, after checking that its certificate is the server's
    /// and certifies this store's own actor and key; this store's own author entry comes from it.
    pub(crate) fn save_enrolment(
        &self,
        server: &str,
        token: &str,
        certificate: &[u8],
        server_key: &[u8; 32],
    ) -> Result<Enrolment> {
        let server_key = VerifyingKey::from_bytes(server_key)
            .map_err(|_| Error::Protocol("the server's key is not an Ed25519 key".into()))?;
        let cert = Certificate::verify(certificate, &server_key, self.now().timestamp())
            .map_err(|e| Error::Protocol(format!("the server's certificate: {e}")))?;
        let actor = hex::decode(self.actor()).unwrap_or_default();
        if cert.actor != actor || cert.public_key != self.public_key()? {
            return Err(Error::Protocol("the server certified another store's key".into()));
        }
        self.write(|c| {
            c.execute(
                "INSERT OR REPLACE INTO enrolment (id, server, token, certificate, server_key)
                 VALUES (1, ?1, ?2, ?3, ?4)",
                params![server, token, certificate, &server_key.to_bytes()[..]],
            )?;
            let own = Author {
                actor: actor.clone(),
                device_id: cert.device_id.clone(),
                device: cert.device.clone(),
                holder: cert.holder.clone(),
                role: cert.role.clone(),
                public_key: Some(cert.public_key),
            };
            save_authors(c, std::slice::from_ref(&own), Some(certificate))
        })?;
        self.follow_enrolment(&cert);
        Ok(Enrolment {
            server: server.to_string(),
            token: token.to_string(),
            certificate: cert,
            certificate_bytes: certificate.to_vec(),
            server_key,
        })
    }
}

/// The store's signing key, if it has made one.
pub(crate) fn stored_key(c: &Connection) -> Result<Option<SigningKey>> {
    let stored: Option<Vec<u8>> =
        c.query_row("SELECT secret FROM identity WHERE id = 1", [], |r| r.get(0)).optional()?;
    stored
        .map(|secret| {
            let secret: [u8; 32] =
                secret.try_into().map_err(|_| Error::invalid("identity", "the stored key is damaged"))?;
            Ok(SigningKey::from_bytes(&secret))
        })
        .transpose()
}

fn read_enrolment(c: &Connection) -> Result<Option<Enrolment>> {
    let row = c
        .query_row("SELECT server, token, certificate, server_key FROM enrolment WHERE id = 1", [], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, Vec<u8>>(2)?, r.get::<_, Vec<u8>>(3)?))
        })
        .optional()?;
    let Some((server, token, certificate_bytes, key)) = row else { return Ok(None) };
    let damaged = || Error::invalid("enrolment", "the stored enrolment is damaged; enrol this device again");
    let key: [u8; 32] = key.try_into().map_err(|_| damaged())?;
    let server_key = VerifyingKey::from_bytes(&key).map_err(|_| damaged())?;
    // An expired certificate still says who this store is; it is renewed at the next sync.
    let certificate = Certificate::verify(&certificate_bytes, &server_key, i64::MIN).map_err(|_| damaged())?;
    Ok(Some(Enrolment { server, token, certificate, certificate_bytes, server_key }))
}

/// Keeps the devices the server (or a certificate it signed) names as authors of actors. The first
/// key named for an actor is pinned: a later one never replaces it (the caller refuses an author
/// whose key differs, see `authorship`).
pub(crate) fn save_authors(c: &Connection, authors: &[Author], certificate: Option<&[u8]>) -> Result<()> {
    let mut stmt = c.prepare_cached(
        "INSERT INTO authors (actor, device_id, device, holder, role, certificate, public_key)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
         ON CONFLICT (actor) DO UPDATE SET device_id = excluded.device_id, device = excluded.device,
             holder = excluded.holder, role = excluded.role,
             certificate = COALESCE(excluded.certificate, authors.certificate),
             public_key = COALESCE(authors.public_key, excluded.public_key)",
    )?;
    for a in authors {
        let key = a.public_key.as_ref().map(|k| &k[..]);
        stmt.execute(params![a.actor, a.device_id, a.device, a.holder, a.role, certificate, key])?;
    }
    Ok(())
}

/// The author the server vouched for under `actor`, if any.
pub(crate) fn author(c: &Connection, actor: &[u8]) -> Result<Option<Author>> {
    Ok(c.prepare_cached("SELECT device_id, device, holder, role, public_key FROM authors WHERE actor = ?1")?
        .query_row([actor], |r| {
            Ok(Author {
                actor: actor.to_vec(),
                device_id: r.get(0)?,
                device: r.get(1)?,
                holder: r.get(2)?,
                role: r.get(3)?,
                // Only `save_authors` writes a key, always of 32 bytes.
                public_key: r.get::<_, Option<Vec<u8>>>(4)?.and_then(|k| k.try_into().ok()),
            })
        })
        .optional()?)
}

/// The certificate kept for `actor`'s store, if a peer showed it.
pub(crate) fn certificate_of(c: &Connection, actor: &[u8]) -> Result<Option<Vec<u8>>> {
    Ok(c.prepare_cached("SELECT certificate FROM authors WHERE actor = ?1")?
        .query_row([actor], |r| r.get::<_, Option<Vec<u8>>>(0))
        .optional()?
        .flatten())
}
