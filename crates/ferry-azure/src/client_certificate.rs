//! A service principal's certificate as its credential: a signed JWT (PS256, with the
//! certificate's SHA-256 thumbprint as `x5t#S256`) sent as the client assertion, valid ten
//! minutes. The PEM file (certificate and RSA private key) is read for every token, so a rotated
//! certificate is picked up. PKCS#12 files are converted first (the message says how).

use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use ferry_core::{ErrorKind, StoreError};
use ring::rand::SystemRandom;
use ring::signature::{RSA_PSS_SHA256, RsaKeyPair};
use rustls_pki_types::pem::PemObject as _;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use sha2::{Digest, Sha256};

fn failed(path: &Path, why: impl std::fmt::Display) -> StoreError {
    StoreError::new(ErrorKind::Unauthenticated, "the token endpoint", format!("the certificate `{}` {why}", path.display()))
        .with_hint("give a PEM file with the certificate and its RSA private key (from a .pfx: openssl pkcs12 -in cert.pfx -out cert.pem -nodes)")
}

fn b64url(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// The client assertion for `client_id` at `audience` (the token endpoint), signed with the key
/// in the PEM file at `path`.
pub(crate) fn assertion(path: &Path, client_id: &str, audience: &str) -> Result<String, StoreError> {
    let pem = std::fs::read(path).map_err(|e| failed(path, format!("cannot be read ({e})")))?;
    if !pem.starts_with(b"-----") && !pem.windows(11).any(|w| w == b"-----BEGIN ") {
        return Err(failed(path, "is not PEM (a PKCS#12 .pfx must be converted first)"));
    }
    let cert = CertificateDer::pem_slice_iter(&pem)
        .next()
        .ok_or_else(|| failed(path, "holds no certificate"))?
        .map_err(|e| failed(path, format!("has an unreadable certificate ({e:?})")))?;
    let key = PrivateKeyDer::from_pem_slice(&pem).map_err(|e| failed(path, format!("holds no private key ({e:?})")))?;
    let pair = match &key {
        PrivateKeyDer::Pkcs8(der) => RsaKeyPair::from_pkcs8(der.secret_pkcs8_der()),
        PrivateKeyDer::Pkcs1(der) => RsaKeyPair::from_der(der.secret_pkcs1_der()),
        _ => return Err(failed(path, "has a key that is not RSA (Entra ID takes RSA certificates)")),
    }
    .map_err(|e| failed(path, format!("has an RSA key that cannot sign ({e})")))?;
    let now = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let header =
        serde_json::json!({ "alg": "PS256", "typ": "JWT", "x5t#S256": b64url(&Sha256::digest(cert.as_ref())) });
    let claims = serde_json::json!({
        "aud": audience, "iss": client_id, "sub": client_id, "jti": uuid::Uuid::new_v4().to_string(),
        "nbf": now.saturating_sub(60), "iat": now, "exp": now + 600,
    });
    let signed = format!("{}.{}", b64url(header.to_string().as_bytes()), b64url(claims.to_string().as_bytes()));
    let mut signature = vec![0u8; pair.public().modulus_len()];
    pair.sign(&RSA_PSS_SHA256, &SystemRandom::new(), signed.as_bytes(), &mut signature)
        .map_err(|_| failed(path, "could not sign the assertion"))?;
    Ok(format!("{signed}.{}", b64url(&signature)))
}
