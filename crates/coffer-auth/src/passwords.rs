//! Console passwords, hashed with argon2id (its defaults: 19 MiB, 2 passes, one lane, as
//! OWASP recommends) into PHC strings with a random salt. Verification is the crate's, which
//! compares in constant time. Hashing is deliberately slow and memory-hungry, so the async
//! forms ([`hash_async`], [`verify_async`]) run it off the async threads and at most one per
//! CPU at a time: a flood of sign-ins queues instead of taking the machine's memory.

use argon2::Argon2;
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};

/// A fingerprint of a stored password hash (SHA-256 of it): what a console session
/// remembers of the password it was made with, so it can end when that password changes
/// without holding the hash.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PasswordStamp([u8; 32]);

impl PasswordStamp {
    pub fn of(password_hash: &str) -> PasswordStamp {
        use sha2::Digest;
        PasswordStamp(sha2::Sha256::digest(password_hash.as_bytes()).into())
    }

    /// The stamp as 64 hex digits (to keep it in a stored session).
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// A stamp from [`PasswordStamp::to_hex`]'s digits.
    pub fn from_hex(text: &str) -> Option<PasswordStamp> {
        let bytes: [u8; 32] = hex::decode(text).ok()?.try_into().ok()?;
        Some(PasswordStamp(bytes))
    }
}

/// The PHC string of `password` (`$argon2id$v=19$m=19456,t=2,p=1$…`).
pub fn hash(password: &str) -> String {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .expect("argon2 with its default parameters hashes any password")
        .to_string()
}

/// Whether `password` is the one `phc` was made from (false for a malformed hash).
pub fn verify(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc).is_ok_and(|parsed| Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
}

/// At most this many hashes at once.
fn permits() -> &'static tokio::sync::Semaphore {
    static PERMITS: std::sync::OnceLock<tokio::sync::Semaphore> = std::sync::OnceLock::new();
    PERMITS.get_or_init(|| {
        tokio::sync::Semaphore::new(std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get))
    })
}

async fn bounded<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> Option<T> {
    let _permit = permits().acquire().await.ok()?;
    tokio::task::spawn_blocking(work).await.ok()
}

/// [`hash`], off the async threads and bounded.
pub async fn hash_async(password: &str) -> Option<String> {
    let password = password.to_owned();
    bounded(move || hash(&password)).await
}

/// [`verify`], off the async threads and bounded.
pub async fn verify_async(password: &str, phc: &str) -> bool {
    let (password, phc) = (password.to_owned(), phc.to_owned());
    bounded(move || verify(&password, &phc)).await.unwrap_or(false)
}

/// A hash to verify against when there is no account or no password, so that a sign-in for
/// a name that does not exist takes as long as one for a name that does.
pub fn decoy() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| hash("a password nobody has"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_verifies_against_its_own_hash_only() {
        let phc = hash("correct horse battery staple");
        assert!(phc.starts_with("$argon2id$"));
        assert!(verify("correct horse battery staple", &phc));
        assert!(!verify("correct horse battery stapl", &phc));
        assert_ne!(phc, hash("correct horse battery staple"), "salted");
        assert!(!verify("anything", "not a phc string"));
    }
}
