//! Identifiers shaped as AWS shapes them, so clients that check prefixes or lengths accept them.

use rand::Rng;

/// AWS unique ids and key ids use upper-case letters and the digits 2–7 (base32).
const BASE32: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
/// Secret access keys use the base64 alphabet.
const BASE64: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

fn pick(alphabet: &[u8], len: usize) -> String {
    let mut rng = rand::rng();
    (0..len)
        .map(|_| alphabet[rng.random_range(0..alphabet.len())] as char)
        .collect()
}

/// A 12-digit account id that never starts with 0.
pub fn account_id() -> String {
    let mut rng = rand::rng();
    let first = rng.random_range(1..=9u8);
    let rest: String = (0..11).map(|_| char::from(b'0' + rng.random_range(0..10u8))).collect();
    format!("{first}{rest}")
}

/// `AIDA` + 17 characters, as IAM user ids are.
pub fn user_id() -> String {
    format!("AIDA{}", pick(BASE32, 17))
}

/// `AROA` + 17 characters, as IAM role ids are.
pub fn role_id() -> String {
    format!("AROA{}", pick(BASE32, 17))
}

/// The internal key of an OpenID Connect provider (AWS shows none; its ARN names it).
pub fn oidc_provider_id() -> String {
    format!("OIDC{}", pick(BASE32, 17))
}

/// `AGPA` + 17 characters, as IAM group ids are.
pub fn group_id() -> String {
    format!("AGPA{}", pick(BASE32, 17))
}

/// `ANPA` + 17 characters, as managed policy ids are.
pub fn policy_id() -> String {
    format!("ANPA{}", pick(BASE32, 17))
}

/// `AKIA` + 16 characters: a long-term access key id.
pub fn access_key_id() -> String {
    format!("AKIA{}", pick(BASE32, 16))
}

/// `ASIA` + 16 characters: a temporary access key id (its session token says the rest).
pub fn session_key_id() -> String {
    format!("ASIA{}", pick(BASE32, 16))
}

/// Whether `id` looks like a temporary access key id.
pub fn is_session_key_id(id: &str) -> bool {
    id.len() == 20 && id.starts_with("ASIA") && id.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
}

/// 40 characters of the base64 alphabet: a secret access key.
pub fn secret_access_key() -> String {
    pick(BASE64, 40)
}

/// A request id in the UUID shape AWS uses.
pub fn request_id() -> String {
    uuid_text(rand::rng().random())
}

/// 16 bytes written as a UUID: 8-4-4-4-12 lower-case hex digits.
fn uuid_text(bytes: [u8; 16]) -> String {
    let h = hex::encode(bytes);
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

/// Whether `id` looks like a long-term access key id (`AKIA` + 16 upper-case alphanumerics).
pub fn is_access_key_id(id: &str) -> bool {
    id.len() == 20 && id.starts_with("AKIA") && id.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
}

/// Whether `secret` looks like a secret access key (40 characters of the base64 alphabet).
pub fn is_secret_access_key(secret: &str) -> bool {
    secret.len() == 40 && secret.bytes().all(|b| BASE64.contains(&b))
}

/// A KMS key id: a random (version 4) UUID, as KMS writes them.
pub fn kms_key_id() -> String {
    let mut bytes: [u8; 16] = rand::rng().random();
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    uuid_text(bytes)
}

/// An audit record's `eventID`: a random UUID, as CloudTrail writes them.
pub fn event_id() -> String {
    kms_key_id()
}

/// A multipart upload id: opaque, URL-safe, unguessable.
pub fn upload_id() -> String {
    use base64::Engine;
    let bytes: [u8; 48] = rand::rng().random();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_have_aws_shapes() {
        for _ in 0..100 {
            let account = account_id();
            assert_eq!(account.len(), 12);
            assert!(account.bytes().all(|b| b.is_ascii_digit()) && !account.starts_with('0'));
            assert!(user_id().starts_with("AIDA") && user_id().len() == 21);
            assert!(is_access_key_id(&access_key_id()));
            assert!(is_session_key_id(&session_key_id()) && !is_access_key_id(&session_key_id()));
            assert!(is_secret_access_key(&secret_access_key()));
        }
    }

    #[test]
    fn request_ids_are_uuid_shaped() {
        let id = request_id();
        assert_eq!(id.len(), 36);
        assert_eq!(id.matches('-').count(), 4);
    }

    #[test]
    fn key_shape_checks_reject_near_misses() {
        assert!(is_access_key_id("AKIAIOSFODNN7EXAMPLE"));
        assert!(!is_access_key_id("ASIAIOSFODNN7EXAMPLE"));
        assert!(!is_access_key_id("AKIAiosfodnn7example"));
        assert!(!is_access_key_id("AKIA123"));
        assert!(is_secret_access_key("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"));
        assert!(!is_secret_access_key("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKE!"));
        assert!(!is_secret_access_key("short"));
    }
}
