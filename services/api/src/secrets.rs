//! Receipts, tokens and hashes.
//!
//! Receipts and staff tokens are random (128 and 256 bits). When a request
//! carries an Idempotency-Key, they are derived from it with a keyed hash
//! under the server secret instead, so a retry returns the same receipt or
//! token while neither is ever stored in clear: only their SHA-256 reaches
//! the stream.

use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// The alphabet receipts are written in: RFC 4648 base32, no padding
/// (letters and 2–7: no 0/O or 1/I to confuse when copied by hand).
const RECEIPT_ENCODING: data_encoding::Encoding = data_encoding::BASE32_NOPAD;

/// The label the secret's fingerprint is the keyed hash of (the schema of
/// `org.secret_fingerprint` names it): changing it would refuse every
/// replica of every existing stream.
const FINGERPRINT_LABEL: &[u8] = b"lantern server secret fingerprint v1";

/// The server's secret for derived receipts and tokens (32 bytes).
#[derive(Clone)]
pub struct ServerSecret([u8; 32]);

impl std::fmt::Debug for ServerSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ServerSecret(..)")
    }
}

impl ServerSecret {
    /// A secret from its bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> ServerSecret {
        ServerSecret(bytes)
    }

    /// A fresh random secret.
    pub fn generate() -> ServerSecret {
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        ServerSecret(bytes)
    }

    /// Reads the secret from `path` (hex); `None` when there is no file.
    pub fn load(path: &std::path::Path) -> std::io::Result<Option<ServerSecret>> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e),
        };
        let bytes = data_encoding::HEXLOWER_PERMISSIVE
            .decode(text.trim().as_bytes())
            .ok()
            .and_then(|b| <[u8; 32]>::try_from(b).ok())
            .ok_or_else(|| {
                std::io::Error::other(format!(
                    "{} is not a 32-byte hex secret (64 hex digits, e.g. from `openssl rand -hex 32`)",
                    path.display()
                ))
            })?;
        Ok(Some(ServerSecret(bytes)))
    }

    /// Reads the secret from `path` (hex), creating it (mode 600) when missing.
    pub fn load_or_create(path: &std::path::Path) -> std::io::Result<ServerSecret> {
        if let Some(secret) = ServerSecret::load(path)? {
            return Ok(secret);
        }
        let secret = ServerSecret::generate();
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        write_private(path, &data_encoding::HEXLOWER.encode(&secret.0))?;
        Ok(secret)
    }

    /// What the stream records of the secret (`org.secret_fingerprint`),
    /// so that a replica with another secret is refused at start: a keyed
    /// hash of a fixed label, which tells secrets apart without revealing
    /// anything a derived receipt or token would (its label is in no other
    /// derivation). 64 lower-case hex digits.
    pub fn fingerprint(&self) -> String {
        let mut mac = match <Hmac<Sha256> as Mac>::new_from_slice(&self.0) {
            Ok(mac) => mac,
            Err(_) => unreachable!("HMAC takes keys of any length"),
        };
        mac.update(FINGERPRINT_LABEL);
        data_encoding::HEXLOWER.encode(&mac.finalize().into_bytes())
    }

    fn derive(&self, purpose: &str, idempotency: &str, len: usize) -> Vec<u8> {
        // HMAC-SHA256 accepts keys of any length, so new_from_slice cannot fail.
        let mut mac = match <Hmac<Sha256> as Mac>::new_from_slice(&self.0) {
            Ok(mac) => mac,
            Err(_) => unreachable!("HMAC takes keys of any length"),
        };
        mac.update(purpose.as_bytes());
        mac.update(b"\0");
        mac.update(idempotency.as_bytes());
        mac.finalize().into_bytes()[..len].to_vec()
    }

    /// A receipt: derived from the idempotency hash when there is one, else random.
    pub fn receipt(&self, idempotency: Option<&str>) -> String {
        let bytes = match idempotency {
            Some(key) => self.derive("receipt", key, 16),
            None => random(16),
        };
        RECEIPT_ENCODING.encode(&bytes)
    }

    /// The fingerprint of a request (method and body) under the secret:
    /// what tells a retry from another request reusing its Idempotency-Key.
    /// The path is not in it: the key's scope names the route as the
    /// handler reads it (a receipt typed in lower case is the same receipt).
    /// Keyed, so the body's text (before scrubbing) cannot be guessed back
    /// from what is stored.
    pub fn request_fingerprint(&self, method: &str, body: &[u8]) -> String {
        let mut mac = match <Hmac<Sha256> as Mac>::new_from_slice(&self.0) {
            Ok(mac) => mac,
            Err(_) => unreachable!("HMAC takes keys of any length"),
        };
        for part in [b"request".as_slice(), method.as_bytes(), body] {
            mac.update(part);
            mac.update(b"\0");
        }
        data_encoding::HEXLOWER.encode(&mac.finalize().into_bytes()[..16])
    }

    /// A keyed hash of `text` for one `purpose` (64 lower-case hex digits):
    /// what may be kept of a secret that must be recognised again but never
    /// guessed back from the store, however weak it is (an admin token
    /// chosen by a person). Purposes other than the receipts' and tokens'
    /// derivations never meet them.
    pub fn mark(&self, purpose: &str, text: &str) -> String {
        debug_assert!(!matches!(purpose, "receipt" | "token"));
        data_encoding::HEXLOWER.encode(&self.derive(purpose, text, 32))
    }

    /// A staff token: derived from the idempotency hash when there is one, else random.
    pub fn token(&self, idempotency: Option<&str>) -> String {
        let bytes = match idempotency {
            Some(key) => self.derive("token", key, 32),
            None => random(32),
        };
        format!("lt_{}", data_encoding::BASE64URL_NOPAD.encode(&bytes))
    }
}

#[cfg(unix)]
fn write_private(path: &std::path::Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(text.as_bytes())
}

#[cfg(not(unix))]
fn write_private(path: &std::path::Path, text: &str) -> std::io::Result<()> {
    std::fs::write(path, text)
}

fn random(len: usize) -> Vec<u8> {
    let mut bytes = vec![0u8; len];
    rand::rng().fill_bytes(&mut bytes);
    bytes
}

/// Lower-case hex SHA-256.
pub fn sha256_hex(bytes: &[u8]) -> String {
    data_encoding::HEXLOWER.encode(&Sha256::digest(bytes))
}

/// A receipt as typed by a person: case, spaces and dashes ignored. `None`
/// when it cannot be a receipt (wrong length or alphabet).
pub fn canonical_receipt(input: &str) -> Option<String> {
    let code: String = input
        .chars()
        .filter(|c| !matches!(c, ' ' | '-' | '\t'))
        .map(|c| c.to_ascii_uppercase())
        .collect();
    let bytes = RECEIPT_ENCODING.decode(code.as_bytes()).ok()?;
    (bytes.len() == 16).then_some(code)
}

/// The hash under which a receipt is known: only this is ever stored.
pub fn receipt_hash(canonical: &str) -> String {
    sha256_hex(canonical.as_bytes())
}

/// Compares two secrets without leaking where they differ.
pub fn constant_time_eq(a: &str, b: &str) -> bool {
    let (a, b) = (Sha256::digest(a.as_bytes()), Sha256::digest(b.as_bytes()));
    a.ct_eq(&b).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn receipts_are_128_bit_and_canonical() {
        let s = ServerSecret::generate();
        let r = s.receipt(None);
        assert_eq!(r.len(), 26);
        assert_ne!(r, s.receipt(None), "random receipts differ");
        let typed = format!(" {}-{} ", &r[..4].to_lowercase(), &r[4..]);
        assert_eq!(canonical_receipt(&typed).as_deref(), Some(r.as_str()));
        assert_eq!(canonical_receipt("TOOSHORT"), None);
        assert_eq!(
            canonical_receipt(&"1".repeat(26)),
            None,
            "1 is not in the alphabet"
        );
    }

    #[test]
    fn derived_receipts_repeat_per_key_and_secret() {
        let s = ServerSecret::generate();
        assert_eq!(s.receipt(Some("k")), s.receipt(Some("k")));
        assert_ne!(s.receipt(Some("k")), s.receipt(Some("k2")));
        assert_ne!(
            s.receipt(Some("k")),
            ServerSecret::generate().receipt(Some("k"))
        );
        assert_ne!(s.token(Some("k")), s.token(Some("k2")));
        assert!(s.token(None).starts_with("lt_"));
    }

    #[test]
    fn secret_file_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("secret");
        let a = ServerSecret::load_or_create(&path).unwrap();
        let b = ServerSecret::load_or_create(&path).unwrap();
        assert_eq!(a.receipt(Some("x")), b.receipt(Some("x")));
    }

    #[test]
    fn a_missing_secret_file_is_none_and_a_bad_one_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("secret");
        assert!(ServerSecret::load(&path).unwrap().is_none());
        std::fs::write(&path, "not hex").unwrap();
        assert!(ServerSecret::load(&path).is_err());
        std::fs::write(&path, "ab".repeat(31)).unwrap();
        assert!(ServerSecret::load(&path).is_err(), "31 bytes");
        std::fs::write(&path, format!("{}\n", "AB".repeat(32))).unwrap();
        let loaded = ServerSecret::load(&path).unwrap().unwrap();
        assert_eq!(
            loaded.fingerprint(),
            ServerSecret::from_bytes([0xab; 32]).fingerprint(),
            "upper-case hex and a trailing newline read as the same secret"
        );
    }

    /// Pinned: a fingerprint that changed between releases would refuse
    /// every replica of every existing stream.
    #[test]
    fn the_fingerprint_is_hmac_sha256_of_its_label_in_hex() {
        let secret = ServerSecret::from_bytes([0x0b; 32]);
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&[0x0b; 32]).unwrap();
        mac.update(b"lantern server secret fingerprint v1");
        let expected = data_encoding::HEXLOWER.encode(&mac.finalize().into_bytes());
        assert_eq!(secret.fingerprint(), expected);
        assert_eq!(secret.fingerprint().len(), 64);
        assert!(
            secret
                .fingerprint()
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        );
    }

    #[test]
    fn the_fingerprint_tells_secrets_apart_and_is_not_the_secret() {
        let a = ServerSecret::generate();
        let b = ServerSecret::generate();
        assert_eq!(a.fingerprint(), a.clone().fingerprint());
        assert_ne!(a.fingerprint(), b.fingerprint());
        let hex = data_encoding::HEXLOWER.encode(&a.0);
        assert!(
            !a.fingerprint().contains(&hex[..16]),
            "no part of the secret"
        );
        assert_ne!(a.fingerprint(), sha256_hex(&a.0), "keyed, not a plain hash");
    }

    #[test]
    fn marks_are_keyed_per_purpose_and_secret() {
        let s = ServerSecret::from_bytes([1; 32]);
        assert_eq!(s.mark("p", "x"), s.mark("p", "x"));
        assert_eq!(s.mark("p", "x").len(), 64);
        assert_ne!(s.mark("p", "x"), s.mark("q", "x"));
        assert_ne!(s.mark("p", "x"), s.mark("p", "y"));
        assert_ne!(
            s.mark("p", "x"),
            ServerSecret::from_bytes([2; 32]).mark("p", "x")
        );
        assert_ne!(s.mark("p", "x"), sha256_hex(b"x"), "keyed");
    }

    #[test]
    fn constant_time_comparison() {
        assert!(constant_time_eq("abc", "abc"));
        assert!(!constant_time_eq("abc", "abd"));
    }
}
