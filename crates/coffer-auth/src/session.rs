//! Temporary credentials: an `ASIA…` key id, a secret, and a session token that holds both
//! with the session's identity and facts, sealed under the master key. Any node opens a token
//! without reading or writing the store; nobody without the master key can read or forge one.
//! What a session may do is decided at request time from its role's current policies, so a
//! token grants nothing by itself.

use std::sync::Arc;

use coffer_store::{Sealer, ids};
use http::request::Parts;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::{Identity, Principal, SessionFacts};

/// Temporary credentials, as STS answers them.
#[derive(Clone, Debug)]
pub struct SessionCredentials {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: String,
    pub expiration: OffsetDateTime,
}

/// What a token holds.
#[derive(Serialize, Deserialize)]
struct Claims {
    key: String,
    secret: String,
    account: String,
    identity: Identity,
    facts: SessionFacts,
}

/// Why a token does not authenticate a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenError {
    /// Garbled, forged, sealed under another master key, or not for the signing key id.
    Invalid,
    /// Past its expiration.
    Expired,
}

/// A verified session: who it speaks for and the secret its requests are signed with.
#[derive(Clone, Debug)]
pub struct OpenedSession {
    pub principal: Principal,
    pub secret_access_key: String,
}

/// New credentials for `identity` in `account_id`, with `facts` (their times included).
pub fn issue(sealer: &Sealer, account_id: &str, identity: Identity, facts: SessionFacts) -> SessionCredentials {
    let claims = Claims {
        key: ids::session_key_id(),
        secret: ids::secret_access_key(),
        account: account_id.to_owned(),
        identity,
        facts,
    };
    let json = serde_json::to_vec(&claims).expect("claims serialize");
    SessionCredentials {
        session_token: sealer.seal_token(&json),
        expiration: OffsetDateTime::from_unix_timestamp(claims.facts.expires_at).unwrap_or(OffsetDateTime::UNIX_EPOCH),
        access_key_id: claims.key,
        secret_access_key: claims.secret,
    }
}

/// Opens `token` for a request signed with `access_key_id` at `now`.
pub fn open(
    sealer: &Sealer,
    token: &str,
    access_key_id: &str,
    now: OffsetDateTime,
) -> Result<OpenedSession, TokenError> {
    let json = sealer.open_token(token).ok_or(TokenError::Invalid)?;
    let claims: Claims = serde_json::from_slice(&json).map_err(|_| TokenError::Invalid)?;
    // A token speaks only for the key it was issued with: another session's token cannot
    // stand in for this one's.
    if claims.key != access_key_id {
        return Err(TokenError::Invalid);
    }
    if now.unix_timestamp() >= claims.facts.expires_at {
        return Err(TokenError::Expired);
    }
    Ok(OpenedSession {
        principal: Principal {
            account_id: claims.account,
            identity: claims.identity,
            access_key_id: claims.key,
            session: Some(Arc::new(claims.facts)),
        },
        secret_access_key: claims.secret,
    })
}

/// The request's session token, from its `X-Amz-Security-Token` header or query parameter
/// (presigned URLs, SigV4 and SigV2 alike). A header that is not text, or sent twice, is a
/// token that opens for nothing (never no token: it must not go unchecked).
pub fn token_of(parts: &Parts) -> Option<String> {
    let mut headers = parts.headers.get_all("x-amz-security-token").iter();
    if let Some(value) = headers.next() {
        if headers.next().is_some() {
            return Some(String::new());
        }
        return Some(value.to_str().map(str::to_owned).unwrap_or_default());
    }
    form_urlencoded::parse(parts.uri.query().unwrap_or("").as_bytes())
        .find(|(name, _)| name.eq_ignore_ascii_case("x-amz-security-token"))
        .map(|(_, value)| value.into_owned())
}

/// The session an S3 request speaks for, from its token; `Ok(None)` when it carries none.
/// A token opens only for the key that signed the request (an unsigned request's token is
/// invalid). The signature itself is s3s's to check, with the secret the token holds.
pub fn s3_session(sealer: &Sealer, parts: &Parts, now: OffsetDateTime) -> Result<Option<OpenedSession>, TokenError> {
    let Some(token) = token_of(parts) else {
        return Ok(None);
    };
    let key = crate::signed_request::signing_key_id(parts).ok_or(TokenError::Invalid)?;
    open(sealer, &token, &key, now).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn role() -> Identity {
        Identity::AssumedRole {
            role_id: "AROAEXAMPLE".into(),
            role_name: "deployer".into(),
            role_path: "/ci/".into(),
            session_name: "run-7".into(),
        }
    }

    fn facts(expires_at: i64) -> SessionFacts {
        SessionFacts {
            issued_at: 1_000,
            expires_at,
            policy: Some("{}".into()),
            tags: vec![("team".into(), "blue".into())],
            ..SessionFacts::default()
        }
    }

    #[test]
    fn a_token_header_that_is_not_text_or_is_repeated_is_still_a_token() {
        let request = |headers: &[&[u8]]| {
            let mut builder = http::Request::builder().uri("/b/k");
            for value in headers {
                builder = builder.header("x-amz-security-token", http::HeaderValue::from_bytes(value).unwrap());
            }
            builder.body(()).unwrap().into_parts().0
        };
        assert_eq!(token_of(&request(&[b"abc"])).as_deref(), Some("abc"));
        assert_eq!(token_of(&request(&[b"\xff\xfe"])).as_deref(), Some(""));
        assert_eq!(token_of(&request(&[b"a", b"b"])).as_deref(), Some(""));
        assert_eq!(token_of(&request(&[])), None);
    }

    #[test]
    fn issued_credentials_open_for_their_key_until_they_expire() {
        let sealer = Sealer::new(&[3; 32]);
        let issued = issue(&sealer, "111122223333", role(), facts(5_000));
        assert!(ids::is_session_key_id(&issued.access_key_id));
        assert!(ids::is_secret_access_key(&issued.secret_access_key));
        assert_eq!(issued.expiration.unix_timestamp(), 5_000);
        let at = |t| OffsetDateTime::from_unix_timestamp(t).unwrap();
        let opened = open(&sealer, &issued.session_token, &issued.access_key_id, at(4_999)).unwrap();
        assert_eq!(opened.secret_access_key, issued.secret_access_key);
        assert_eq!(
            opened.principal.arn(),
            "arn:aws:sts::111122223333:assumed-role/deployer/run-7"
        );
        assert_eq!(
            opened.principal.entity_arn(),
            "arn:aws:iam::111122223333:role/ci/deployer"
        );
        assert_eq!(opened.principal.user_id(), "AROAEXAMPLE:run-7");
        assert_eq!(*opened.principal.session.unwrap(), facts(5_000));
        assert_eq!(
            open(&sealer, &issued.session_token, &issued.access_key_id, at(5_000)).unwrap_err(),
            TokenError::Expired
        );
        // Another key's token, another master key, a garbled token: invalid.
        let other = issue(&sealer, "111122223333", role(), facts(5_000));
        assert_eq!(
            open(&sealer, &other.session_token, &issued.access_key_id, at(1)).unwrap_err(),
            TokenError::Invalid
        );
        assert_eq!(
            open(
                &Sealer::new(&[4; 32]),
                &issued.session_token,
                &issued.access_key_id,
                at(1)
            )
            .unwrap_err(),
            TokenError::Invalid
        );
        let garbled = issued.session_token.replacen('A', "B", 1);
        if garbled != issued.session_token {
            assert_eq!(
                open(&sealer, &garbled, &issued.access_key_id, at(1)).unwrap_err(),
                TokenError::Invalid
            );
        }
        // The secret is not readable in the token.
        assert!(!issued.session_token.contains(&issued.secret_access_key));
    }
}
