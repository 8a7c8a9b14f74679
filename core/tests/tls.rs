//! The sync client over `https://`: with the roots compiled into the library (what Android uses,
//! since the platform verifier there needs JNI) and with the platform's, each with and without a
//! district's own CA, against a TLS server on a loopback port whose certificate that CA signed.
//! `tls/` holds a test CA and a certificate for localhost and 127.0.0.1, valid until 2126.

#![allow(clippy::unwrap_used)]

mod common;

use std::sync::Arc;

use common::Fixture;
use gridbook_core::sync::{Remote, Roots, SyncOptions, Trust};
use gridbook_core::{Error, ErrorKind};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};

const CA: &str = include_str!("tls/ca.pem");

/// A TLS server that answers every request as the sync server answers a revoked token: reaching
/// it proves the handshake passed, and the client's error says which side refused.
async fn district_server() -> String {
    let certs = CertificateDer::pem_slice_iter(include_bytes!("tls/server.pem")).collect::<Result<Vec<_>, _>>();
    let key = PrivateKeyDer::from_pem_slice(include_bytes!("tls/server.key")).unwrap();
    let config = ServerConfig::builder().with_no_client_auth().with_single_cert(certs.unwrap(), key).unwrap();
    let acceptor = TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                // A handshake the client refuses ends here, as it should.
                let Ok(mut tls) = acceptor.accept(tcp).await else { return };
                let mut request = Vec::new();
                let mut buf = [0u8; 4096];
                while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                    match tls.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => request.extend_from_slice(&buf[..n]),
                    }
                }
                let body = r#"{"error":{"kind":"unauthorized","message":"this device's token was revoked"}}"#;
                let reply = format!(
                    "HTTP/1.1 401 Unauthorized\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = tls.write_all(reply.as_bytes()).await;
                let _ = tls.shutdown().await;
            });
        }
    });
    format!("https://localhost:{port}")
}

async fn sync_with(trust: Trust) -> Error {
    let url = district_server().await;
    let f = Fixture::new("王芳");
    let options = SyncOptions { trust, ..SyncOptions::default() };
    let remote = Remote::new(&url, "token", &options).unwrap();
    f.store.sync(&remote, &options).await.unwrap_err()
}

fn district(roots: Roots) -> Trust {
    Trust { roots, district_ca: Some(CA.into()) }
}

#[tokio::test]
async fn bundled_roots_with_the_district_ca_reach_the_server() {
    let err = sync_with(district(Roots::Bundled)).await;
    assert_eq!(err.kind(), ErrorKind::Unauthorized, "{err}");
}

#[tokio::test]
async fn platform_roots_with_the_district_ca_reach_the_server() {
    let err = sync_with(district(Roots::Platform)).await;
    assert_eq!(err.kind(), ErrorKind::Unauthorized, "{err}");
}

#[tokio::test]
async fn a_certificate_no_trusted_root_signed_is_refused_with_a_network_error_that_says_so() {
    for roots in [Roots::Bundled, Roots::Platform] {
        let err = sync_with(Trust { roots, district_ca: None }).await;
        assert_eq!(err.kind(), ErrorKind::Network, "{roots:?}: {err}");
        assert!(err.to_string().to_lowercase().contains("certificate"), "{roots:?}: {err}");
    }
}

#[test]
fn a_district_ca_that_is_not_a_certificate_is_invalid_input() {
    for pem in ["", "not a certificate", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"] {
        let options = SyncOptions {
            trust: Trust { roots: Roots::Bundled, district_ca: Some(pem.into()) },
            ..SyncOptions::default()
        };
        let err = Remote::new("https://localhost:1", "token", &options).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{pem:?}: {err}");
    }
}
