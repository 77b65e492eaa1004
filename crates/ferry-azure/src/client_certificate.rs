//! A service principal's certificate as its credential: a signed JWT (PS256, with the
//! certificate's SHA-256 thumbprint as `x5t#S256`) sent as the client assertion, valid ten
//! minutes. The file is read for every token, so a rotated certificate is picked up. It is a PEM
//! (certificate and RSA private key, unencrypted) or a PKCS#12 (`.pfx`/`.p12`, opened with the
//! password AzCopy reads from `AZCOPY_SPA_CERT_PASSWORD`; `p12-keystore` reads both OpenSSL 3's
//! AES form and the legacy 3DES/RC2 one).

use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use ferry_core::{ErrorKind, Secret, StoreError};
use ring::rand::SystemRandom;
use ring::signature::{RSA_PSS_SHA256, RsaKeyPair};
use rustls_pki_types::pem::PemObject as _;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use sha2::{Digest, Sha256};

const PEM_HINT: &str = "give a PEM file with the certificate and its RSA private key, or a PKCS#12 (.pfx) file with its password in AZCOPY_SPA_CERT_PASSWORD";

fn failed(path: &Path, why: impl std::fmt::Display) -> StoreError {
    StoreError::new(
        ErrorKind::Unauthenticated,
        "the token endpoint",
        format!("the certificate `{}` {why}", path.display()),
    )
    .with_hint(PEM_HINT)
}

fn b64url(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// A certificate (DER) and the RSA key that signs for it.
struct SigningCertificate {
    der: Vec<u8>,
    key: RsaKeyPair,
}

/// Reads the certificate and key at `path`: PEM when it looks like text, else PKCS#12.
fn load(path: &Path, password: Option<&Secret>) -> Result<SigningCertificate, StoreError> {
    let bytes = std::fs::read(path).map_err(|e| failed(path, format!("cannot be read ({e})")))?;
    if bytes.starts_with(b"-----") || bytes.windows(11).any(|w| w == b"-----BEGIN ") {
        return load_pem(path, &bytes);
    }
    load_pkcs12(path, &bytes, password)
}

fn load_pem(path: &Path, pem: &[u8]) -> Result<SigningCertificate, StoreError> {
    if pem.windows(26).any(|w| w == b"BEGIN ENCRYPTED PRIVATE KEY") {
        return Err(failed(path, "has an encrypted private key, which a PEM cannot carry here").with_hint(
            "give it as PKCS#12 with its password in AZCOPY_SPA_CERT_PASSWORD (openssl pkcs12 -export -in cert.pem -inkey key.pem -out cert.pfx)",
        ));
    }
    let der = CertificateDer::pem_slice_iter(pem)
        .next()
        .ok_or_else(|| failed(path, "holds no certificate"))?
        .map_err(|e| failed(path, format!("has an unreadable certificate ({e:?})")))?;
    let key = PrivateKeyDer::from_pem_slice(pem).map_err(|e| failed(path, format!("holds no private key ({e:?})")))?;
    let key = match &key {
        PrivateKeyDer::Pkcs8(der) => RsaKeyPair::from_pkcs8(der.secret_pkcs8_der()),
        PrivateKeyDer::Pkcs1(der) => RsaKeyPair::from_der(der.secret_pkcs1_der()),
        _ => return Err(failed(path, "has a key that is not RSA (Entra ID takes RSA certificates)")),
    }
    .map_err(|e| failed(path, format!("has an RSA key that cannot sign ({e})")))?;
    Ok(SigningCertificate { der: der.as_ref().to_vec(), key })
}

fn load_pkcs12(path: &Path, bytes: &[u8], password: Option<&Secret>) -> Result<SigningCertificate, StoreError> {
    use p12_keystore::error::Error;
    use p12_keystore::{KeyStore, Pkcs12ImportPolicy};
    let password = password.map_or("", Secret::expose);
    let store = KeyStore::from_pkcs12(bytes, password, Pkcs12ImportPolicy::Strict).map_err(|e| match e {
        Error::MacError(_) if password.is_empty() => failed(path, "is a PKCS#12 file protected by a password")
            .with_hint("set AZCOPY_SPA_CERT_PASSWORD to its password"),
        Error::MacError(_) => failed(path, "does not open with the password in AZCOPY_SPA_CERT_PASSWORD")
            .with_hint("check AZCOPY_SPA_CERT_PASSWORD (the password the .pfx was exported with)"),
        Error::DerError(_) => failed(path, "is neither PEM nor PKCS#12"),
        other => failed(path, format!("is a PKCS#12 file that cannot be read ({other})")),
    })?;
    let (_, chain) =
        store.private_key_chain().ok_or_else(|| failed(path, "holds no private key with its certificate"))?;
    let der = chain.certs().first().ok_or_else(|| failed(path, "holds no certificate"))?.as_der().to_vec();
    let key = RsaKeyPair::from_pkcs8(chain.key().as_der())
        .map_err(|e| failed(path, format!("has a key that is not a usable RSA key ({e})")))?;
    Ok(SigningCertificate { der, key })
}

/// Checks that the file at `path` opens (with `password`) and can sign, before anything is asked
/// of the token endpoint.
pub fn check(path: &Path, password: Option<&Secret>) -> Result<(), StoreError> {
    load(path, password).map(drop)
}

/// The client assertion for `client_id` at `audience` (the token endpoint), signed with the key
/// in the file at `path`.
pub(crate) fn assertion(
    path: &Path,
    password: Option<&Secret>,
    client_id: &str,
    audience: &str,
) -> Result<String, StoreError> {
    let certificate = load(path, password)?;
    let now = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let header =
        serde_json::json!({ "alg": "PS256", "typ": "JWT", "x5t#S256": b64url(&Sha256::digest(&certificate.der)) });
    let claims = serde_json::json!({
        "aud": audience, "iss": client_id, "sub": client_id, "jti": uuid::Uuid::new_v4().to_string(),
        "nbf": now.saturating_sub(60), "iat": now, "exp": now + 600,
    });
    let signed = format!("{}.{}", b64url(header.to_string().as_bytes()), b64url(claims.to_string().as_bytes()));
    let mut signature = vec![0u8; certificate.key.public().modulus_len()];
    certificate
        .key
        .sign(&RSA_PSS_SHA256, &SystemRandom::new(), signed.as_bytes(), &mut signature)
        .map_err(|_| failed(path, "could not sign the assertion"))?;
    Ok(format!("{signed}.{}", b64url(&signature)))
}
