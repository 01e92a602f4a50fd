//! Secrets at rest: access-key secrets are sealed with AES-256-GCM under the master key, with
//! the key's identity (key id, account, owning user) as associated data, so a sealed secret
//! copied onto another row, or a row whose owner was edited, fails to open instead of
//! authenticating as someone else.

use std::io::Write;
use std::path::Path;

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use rand::Rng;

use crate::StoreError;

const NONCE_LEN: usize = 12;

fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    use hmac::Mac;
    let mut mac = <hmac::Hmac<sha2::Sha256> as Mac>::new_from_slice(key).expect("HMAC takes a key of any length");
    mac.update(message);
    mac.finalize().into_bytes().into()
}
pub const MASTER_KEY_FILE: &str = "master.key";

/// Seals `data` under a key derived from `root` and a random salt:
/// `version || salt || nonce || ciphertext+tag`, bound to `binding`. One root seals any number
/// of keys without two ever sharing a (key, nonce).
pub(crate) fn seal_under(root: &[u8; 32], binding: &str, data: &[u8]) -> Vec<u8> {
    let salt: [u8; 16] = rand::rng().random();
    let nonce: [u8; NONCE_LEN] = rand::rng().random();
    let sealed = Aes256Gcm::new((&hmac_sha256(root, &salt)).into())
        .encrypt(
            Nonce::from_slice(&nonce),
            Payload {
                msg: data,
                aad: binding.as_bytes(),
            },
        )
        .expect("AES-GCM encryption of a key cannot fail");
    [&[DATA_KEY_VERSION][..], &salt, &nonce, &sealed].concat()
}

/// Opens what [`seal_under`] sealed under the same root for the same `binding`.
pub(crate) fn open_under(root: &[u8; 32], binding: &str, sealed: &[u8]) -> Result<Vec<u8>, StoreError> {
    let (&version, rest) = sealed.split_first().ok_or(StoreError::SealBroken)?;
    if version != DATA_KEY_VERSION || rest.len() < 16 + NONCE_LEN {
        return Err(StoreError::SealBroken);
    }
    let (salt, rest) = rest.split_at(16);
    let (nonce, ciphertext) = rest.split_at(NONCE_LEN);
    Aes256Gcm::new((&hmac_sha256(root, salt)).into())
        .decrypt(
            Nonce::from_slice(nonce),
            Payload {
                msg: ciphertext,
                aad: binding.as_bytes(),
            },
        )
        .map_err(|_| StoreError::SealBroken)
}

/// The master key, loaded once; it seals and opens secrets, and keys digests.
#[derive(Clone)]
pub struct Sealer {
    cipher: Aes256Gcm,
    /// Session tokens' root key, derived from the master key (so a token can never be opened
    /// as a stored secret nor a stored secret passed off as a token). Each token is sealed
    /// under a key of its own derived from it and a random salt: tokens are minted without
    /// limit, and no number of them can make two share a (key, nonce).
    token_root: [u8; 32],
    /// Derived from the master key, never the key itself.
    digest_key: [u8; 32],
    /// The root of the keys that seal objects' data keys (SSE-S3), derived from the master key.
    data_key_root: [u8; 32],
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sealer(..)")
    }
}

impl Sealer {
    /// A sealer from 32 raw key bytes.
    pub fn new(key: &[u8; 32]) -> Self {
        Self {
            cipher: Aes256Gcm::new(key.into()),
            token_root: hmac_sha256(key, b"coffer session tokens v1"),
            digest_key: hmac_sha256(key, b"coffer keyed digests v1"),
            data_key_root: hmac_sha256(key, b"coffer object data keys v1"),
        }
    }

    /// A keyed digest of `text` for `purpose`: a row can name what someone typed (a sign-in
    /// name, an address) without holding it, and a copy of the database alone allows no
    /// dictionary attack on it.
    pub fn digest(&self, purpose: &str, text: &str) -> [u8; 32] {
        let mut message = Vec::with_capacity(purpose.len() + 1 + text.len());
        message.extend_from_slice(purpose.as_bytes());
        message.push(0);
        message.extend_from_slice(text.as_bytes());
        hmac_sha256(&self.digest_key, &message)
    }

    /// Parses a master key written as 64 hex digits (the form of `master.key` and
    /// `COFFER_MASTER_KEY`).
    pub fn from_hex(text: &str) -> Result<Self, StoreError> {
        let bytes = hex::decode(text.trim()).map_err(|_| StoreError::BadMasterKey)?;
        let key: [u8; 32] = bytes.try_into().map_err(|_| StoreError::BadMasterKey)?;
        Ok(Self::new(&key))
    }

    /// Loads `<data_dir>/master.key`, creating it (mode 0600) on first use. Refuses to create
    /// one beside an existing `meta.db`: a new key could open none of the sealed secrets. Creation is atomic
    /// (write a temporary file, then hard-link it into place), so two processes starting on one
    /// data dir agree on a single key.
    pub fn load_or_create(data_dir: &Path) -> Result<Self, StoreError> {
        let path = data_dir.join(MASTER_KEY_FILE);
        if let Ok(text) = std::fs::read_to_string(&path) {
            return Self::from_hex(&text);
        }
        if data_dir.join(crate::META_DB_FILE).exists() {
            return Err(StoreError::MasterKeyMissing(path));
        }
        let key: [u8; 32] = rand::rng().random();
        let tmp = data_dir.join(format!(
            ".{MASTER_KEY_FILE}.{}",
            hex::encode(rand::rng().random::<[u8; 8]>())
        ));
        let mut file = crate::private_fs::new_file().open(&tmp)?;
        file.write_all(hex::encode(key).as_bytes())?;
        file.sync_all()?;
        drop(file);
        let linked = std::fs::hard_link(&tmp, &path);
        std::fs::remove_file(&tmp)?;
        match linked {
            Ok(()) => {
                std::fs::File::open(data_dir)?.sync_all()?;
                Ok(Self::new(&key))
            }
            // Another process created it first: use theirs.
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Self::from_hex(&std::fs::read_to_string(&path)?),
            Err(e) => Err(e.into()),
        }
    }

    /// `nonce || ciphertext+tag`, bound to `binding` (see [`key_binding`]).
    pub fn seal(&self, binding: &str, secret: &str) -> Vec<u8> {
        let nonce: [u8; NONCE_LEN] = rand::rng().random();
        let sealed = self
            .cipher
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: secret.as_bytes(),
                    aad: binding.as_bytes(),
                },
            )
            .expect("AES-GCM encryption of a short secret cannot fail");
        [nonce.as_slice(), &sealed].concat()
    }

    /// Seals an object's data key: `version || salt || nonce || ciphertext+tag`, under a key
    /// of its own derived from the data keys' root (itself derived from the master key) and a
    /// random salt, so the master key's own cipher never seals an unbounded number of keys.
    pub fn seal_data_key(&self, binding: &str, data_key: &[u8]) -> Vec<u8> {
        seal_under(&self.data_key_root, binding, data_key)
    }

    /// Opens what [`Sealer::seal_data_key`] sealed for the same `binding`.
    pub fn open_data_key(&self, binding: &str, sealed: &[u8]) -> Result<Vec<u8>, StoreError> {
        open_under(&self.data_key_root, binding, sealed)
    }

    /// A salted keyed digest of `secret` for `purpose`: `salt || HMAC`, to check a secret
    /// that is not kept (an SSE-C key) without equal secrets showing as equal digests.
    pub fn salted_digest(&self, purpose: &str, secret: &[u8]) -> Vec<u8> {
        let salt: [u8; 16] = rand::rng().random();
        [salt.as_slice(), &self.salted(purpose, &salt, secret)].concat()
    }

    /// Whether `secret` is the one [`Sealer::salted_digest`] digested (compared in constant
    /// time).
    pub fn matches_salted_digest(&self, purpose: &str, digest: &[u8], secret: &[u8]) -> bool {
        use subtle::ConstantTimeEq;
        if digest.len() != 16 + 32 {
            return false;
        }
        let (salt, mac) = digest.split_at(16);
        self.salted(purpose, salt, secret).ct_eq(mac).into()
    }

    fn salted(&self, purpose: &str, salt: &[u8], secret: &[u8]) -> [u8; 32] {
        let message = [purpose.as_bytes(), &[0], salt, secret].concat();
        hmac_sha256(&self.digest_key, &message)
    }

    /// Opens what [`Sealer::seal`] produced for the same `binding`.
    pub fn open(&self, binding: &str, sealed: &[u8]) -> Result<String, StoreError> {
        if sealed.len() < NONCE_LEN {
            return Err(StoreError::SealBroken);
        }
        let (nonce, ciphertext) = sealed.split_at(NONCE_LEN);
        let plain = self
            .cipher
            .decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: ciphertext,
                    aad: binding.as_bytes(),
                },
            )
            .map_err(|_| StoreError::SealBroken)?;
        String::from_utf8(plain).map_err(|_| StoreError::SealBroken)
    }
}

impl Sealer {
    /// A session token holding `claims`: `version || nonce || ciphertext+tag`, base64. Any
    /// node with the master key opens it; nobody else can read or forge one.
    pub fn seal_token(&self, claims: &[u8]) -> String {
        use base64::Engine;
        let salt: [u8; TOKEN_SALT_LEN] = rand::rng().random();
        let nonce: [u8; NONCE_LEN] = rand::rng().random();
        let sealed = self
            .token_cipher(&salt)
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: claims,
                    aad: TOKEN_AAD,
                },
            )
            .expect("AES-GCM encryption of a token's claims cannot fail");
        let bytes = [&[TOKEN_VERSION][..], &salt, &nonce, &sealed].concat();
        base64::engine::general_purpose::STANDARD.encode(bytes)
    }

    /// The claims of a token [`Sealer::seal_token`] made; `None` for anything else (garbled,
    /// truncated, sealed under another master key, or of an unknown version).
    pub fn open_token(&self, token: &str) -> Option<Vec<u8>> {
        use base64::Engine;
        let bytes = base64::engine::general_purpose::STANDARD.decode(token).ok()?;
        let (&version, rest) = bytes.split_first()?;
        if version != TOKEN_VERSION || rest.len() < TOKEN_SALT_LEN + NONCE_LEN {
            return None;
        }
        let (salt, rest) = rest.split_at(TOKEN_SALT_LEN);
        let (nonce, ciphertext) = rest.split_at(NONCE_LEN);
        self.token_cipher(salt)
            .decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: ciphertext,
                    aad: TOKEN_AAD,
                },
            )
            .ok()
    }
}

impl Sealer {
    /// The cipher of the token salted with `salt`.
    fn token_cipher(&self, salt: &[u8]) -> Aes256Gcm {
        Aes256Gcm::new((&hmac_sha256(&self.token_root, salt)).into())
    }
}

const TOKEN_VERSION: u8 = 1;
const DATA_KEY_VERSION: u8 = 1;
const TOKEN_SALT_LEN: usize = 16;
const TOKEN_AAD: &[u8] = b"coffer session token";

/// What a sealed secret is bound to: the key id, its account and its owner (a user's
/// immutable id, or `root`).
pub(crate) fn key_binding(key_id: &str, account_id: &str, user_id: Option<&str>) -> String {
    format!("{key_id}|{account_id}|{}", user_id.unwrap_or("root"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_secret_opens_only_for_its_key_id() {
        let sealer = Sealer::new(&[7; 32]);
        let sealed = sealer.seal("AKIAAAAAAAAAAAAAAAAA", "secret");
        assert_eq!(sealer.open("AKIAAAAAAAAAAAAAAAAA", &sealed).unwrap(), "secret");
        assert!(sealer.open("AKIABBBBBBBBBBBBBBBB", &sealed).is_err());
        assert!(Sealer::new(&[8; 32]).open("AKIAAAAAAAAAAAAAAAAA", &sealed).is_err());
        assert!(!sealed.windows(6).any(|w| w == b"secret"));
    }

    #[test]
    fn a_token_opens_only_unchanged_and_under_its_master_key() {
        let sealer = Sealer::new(&[7; 32]);
        let token = sealer.seal_token(b"{\"k\":\"v\"}");
        assert_eq!(sealer.open_token(&token).unwrap(), b"{\"k\":\"v\"}");
        assert!(Sealer::new(&[8; 32]).open_token(&token).is_none());
        assert!(!token.contains("\"k\""));
        // Any changed byte, a cut, or junk fails.
        use base64::Engine;
        let bytes = base64::engine::general_purpose::STANDARD.decode(&token).unwrap();
        for i in 0..bytes.len() {
            let mut changed = bytes.clone();
            changed[i] ^= 1;
            let changed = base64::engine::general_purpose::STANDARD.encode(changed);
            assert!(sealer.open_token(&changed).is_none(), "byte {i}");
        }
        assert!(sealer.open_token(&token[..token.len() - 4]).is_none());
        assert!(sealer.open_token("junk").is_none());
        assert!(sealer.open_token("").is_none());
        // A stored secret's seal is no token.
        let secret = base64::engine::general_purpose::STANDARD.encode([&[1u8][..], &sealer.seal("", "x")].concat());
        assert!(sealer.open_token(&secret).is_none());
    }

    #[test]
    fn a_digest_is_keyed_by_the_master_key_and_its_purpose() {
        let sealer = Sealer::new(&[7; 32]);
        let digest = sealer.digest("signin-throttle", "name:1/alice");
        assert_eq!(digest, Sealer::new(&[7; 32]).digest("signin-throttle", "name:1/alice"));
        assert_ne!(digest, Sealer::new(&[8; 32]).digest("signin-throttle", "name:1/alice"));
        assert_ne!(digest, sealer.digest("another-purpose", "name:1/alice"));
        assert_ne!(digest, sealer.digest("signin-throttle", "name:1/alicf"));
        // Not the plain hash anyone could compute from a guess.
        use sha2::Digest;
        assert_ne!(digest[..], sha2::Sha256::digest(b"name:1/alice")[..]);
    }

    #[test]
    fn master_key_file_is_created_once_with_mode_0600() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let first = Sealer::load_or_create(dir.path()).unwrap();
        let sealed = first.seal("k", "v");
        let second = Sealer::load_or_create(dir.path()).unwrap();
        assert_eq!(second.open("k", &sealed).unwrap(), "v");
        let mode = std::fs::metadata(dir.path().join(MASTER_KEY_FILE))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            1,
            "no temporary file left behind"
        );
    }

    #[test]
    fn master_key_must_be_64_hex_digits() {
        assert!(Sealer::from_hex(&"ab".repeat(32)).is_ok());
        assert!(Sealer::from_hex("abcd").is_err());
        assert!(Sealer::from_hex(&"zz".repeat(32)).is_err());
    }
}
