//! Which certificates a `https://` sync server must chain to.
//!
//! reqwest's default verifier is the platform's own (rustls-platform-verifier): the OS trust store
//! on iOS, macOS, Windows and Linux. On Android that verifier calls into the JVM, and it must first
//! be handed the app's `Context` through JNI — which a library reached through uniffi cannot do, and
//! without which the first `https://` request panics. So on Android the library verifies against
//! Mozilla's root set compiled into it. Android apps trust only the system's CAs by default anyway
//! (not user-installed ones), so a district that runs its own CA says so explicitly on any platform.

use reqwest::{Certificate, Client, ClientBuilder};

use crate::error::{Error, Result};

/// The trust anchors a sync server's certificate is checked against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Roots {
    /// The operating system's trust store and verifier.
    Platform,
    /// Mozilla's root certificates, compiled into the library (`webpki-root-certs`).
    Bundled,
}

/// How a sync client checks the server it talks to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trust {
    pub roots: Roots,
    /// A district's own certificate authority (PEM, one or more certificates), trusted beside the
    /// roots: for a server whose certificate no public CA signed.
    pub district_ca: Option<String>,
}

impl Default for Trust {
    fn default() -> Self {
        let roots = if cfg!(target_os = "android") { Roots::Bundled } else { Roots::Platform };
        Self { roots, district_ca: None }
    }
}

impl Trust {
    /// Finishes a client being built with this trust.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] if `district_ca` holds no certificate this device can use.
    pub(super) fn client(&self, builder: ClientBuilder) -> Result<Client> {
        let bad_ca = |detail: &dyn std::fmt::Display| {
            Error::invalid("district_ca", format!("the district's CA is not a usable PEM certificate: {detail}"))
        };
        let district = match &self.district_ca {
            None => Vec::new(),
            Some(pem) => match Certificate::from_pem_bundle(pem.as_bytes()) {
                Ok(certs) if !certs.is_empty() => certs,
                Ok(_) => return Err(bad_ca(&"no -----BEGIN CERTIFICATE----- block")),
                Err(e) => return Err(bad_ca(&e)),
            },
        };
        let given = !district.is_empty();
        let builder = match self.roots {
            Roots::Platform if district.is_empty() => builder,
            Roots::Platform => builder.tls_certs_merge(district),
            Roots::Bundled => builder.tls_certs_only(bundled().chain(district)),
        };
        // With the timeouts set by the caller, only the certificates can make the build fail.
        builder.build().map_err(|e| if given { bad_ca(&e) } else { Error::Network(e.to_string()) })
    }
}

fn bundled() -> impl Iterator<Item = Certificate> {
    // Each is a DER certificate that webpki itself parses; one that reqwest refused would only
    // narrow the set, never widen it.
    webpki_root_certs::TLS_SERVER_ROOT_CERTS.iter().filter_map(|der| Certificate::from_der(der.as_ref()).ok())
}
