//! Console sessions: a random token in a `Secure; HttpOnly; SameSite=Strict` cookie names a
//! session kept in the store (sealed there, found by the token's SHA-256), so every node
//! serves every signed-in person and a restart signs nobody out. A session holds the
//! signed-in principal and its CSRF token; one idle longer than the configured time is gone;
//! signing out removes it. Tokens are never stored, logged, or put in a URL.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

pub use coffer_auth::passwords::PasswordStamp;
use coffer_auth::{Identity, Principal};
use coffer_iam::QueryApi;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// The cookie that carries the session token. `__Host-`: browsers accept it only when it is
/// Secure, Path=/ and bound to this exact host, so another service on the same host (S3's
/// port, which serves uploaded HTML) cannot plant one.
pub const COOKIE: &str = "__Host-coffer_session";

/// However active, a session ends after this long (then sign in again).
pub const MAX_LIFETIME: Duration = Duration::from_secs(12 * 60 * 60);

/// The longest a session's use goes unrecorded (its expiry is moved on at most this often,
/// or a quarter of the idle timeout if that is shorter), so a page view is not a write.
const TOUCH_EVERY: Duration = Duration::from_secs(60);

/// Times a change is tried again when another request of the session changed it first.
const UPDATE_ATTEMPTS: usize = 4;

/// A signed-in person.
#[derive(Clone, Debug)]
pub struct Session {
    /// Who the console acts as: the person who signed in, or the role session they switched
    /// to (until it expires or they switch back).
    pub principal: Principal,
    /// Who signed in (their password keeps the session alive).
    pub signed_in: Principal,
    /// What the person typed to sign in: the account's alias if it has one, else its id.
    pub account_label: String,
    /// The token every form must send back (`csrf` field).
    pub csrf: String,
    /// The IAM user must choose a new password before anything else.
    pub must_change_password: bool,
    /// Which password the person signed in with: when the stored one changes (an
    /// administrator's reset, a change elsewhere), the session ends.
    pub password: PasswordStamp,
    /// A secret just created, kept until the one page that shows it.
    pending: Option<Reveal>,
    /// What the last action did, for the next page to say once ("Access key deactivated").
    notice: Option<String>,
    /// Unix milliseconds.
    started: u64,
    /// The stored record's version, for its next compare-and-set.
    version: i64,
    /// When the session ends unless used again (the database's word).
    expires_at: u64,
}

/// A secret between its creation and the one page that shows it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub enum Reveal {
    AccessKey {
        user_name: String,
        access_key_id: String,
        secret_access_key: String,
    },
    /// A new user's console password, and what of the rest of its creation failed.
    SignIn {
        user_name: String,
        password: String,
        problems: Vec<String>,
    },
}

impl Session {
    /// Whether a notice waits to be said (read with the session, so a page without one
    /// costs no second read).
    pub fn has_notice(&self) -> bool {
        self.notice.is_some()
    }

    /// Whether `token` is this session's CSRF token (compared in constant time).
    pub fn csrf_matches(&self, token: &str) -> bool {
        self.csrf.as_bytes().ct_eq(token.as_bytes()).into()
    }
}

/// A session as the store keeps it (JSON, sealed by the store).
#[derive(Serialize, Deserialize)]
struct Record {
    account_id: String,
    /// `None`: the root user.
    user: Option<(String, String, String)>,
    /// A role session switched to; it stands in for `user` until it expires.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    switched: Option<Switched>,
    access_key_id: String,
    account_label: String,
    csrf: String,
    must_change_password: bool,
    password: String,
    pending: Option<Reveal>,
    notice: Option<String>,
    started: u64,
}

/// A role session the console acts as (its key id names it in logs; the secret is not kept:
/// the console acts in process, it signs nothing).
#[derive(Serialize, Deserialize)]
struct Switched {
    account_id: String,
    identity: Identity,
    facts: coffer_auth::SessionFacts,
    access_key_id: String,
}

impl Record {
    fn of(session: &Session) -> Record {
        let signed_in = &session.signed_in;
        Record {
            account_id: signed_in.account_id.clone(),
            user: match &signed_in.identity {
                Identity::User { user_id, name, path } => Some((user_id.clone(), name.clone(), path.clone())),
                Identity::Root | Identity::AssumedRole { .. } | Identity::FederatedUser { .. } => None,
            },
            switched: match (&session.principal.identity, &session.principal.session) {
                (identity @ Identity::AssumedRole { .. }, Some(facts)) => Some(Switched {
                    account_id: session.principal.account_id.clone(),
                    identity: identity.clone(),
                    facts: (**facts).clone(),
                    access_key_id: session.principal.access_key_id.clone(),
                }),
                _ => None,
            },
            access_key_id: signed_in.access_key_id.clone(),
            account_label: session.account_label.clone(),
            csrf: session.csrf.clone(),
            must_change_password: session.must_change_password,
            password: session.password.to_hex(),
            pending: session.pending.clone(),
            notice: session.notice.clone(),
            started: session.started,
        }
    }

    fn session(self, version: i64, expires_at: u64) -> Option<Session> {
        let signed_in = Principal {
            account_id: self.account_id,
            identity: match self.user {
                None => Identity::Root,
                Some((user_id, name, path)) => Identity::User { user_id, name, path },
            },
            access_key_id: self.access_key_id,
            session: None,
        };
        // A role session past its expiry is over: the console is the person again.
        let now = (now_millis() / 1000) as i64;
        let principal = match self.switched {
            Some(switched) if switched.facts.expires_at > now => Principal {
                account_id: switched.account_id,
                identity: switched.identity,
                access_key_id: switched.access_key_id,
                session: Some(std::sync::Arc::new(switched.facts)),
            },
            _ => signed_in.clone(),
        };
        Some(Session {
            principal,
            signed_in,
            account_label: self.account_label,
            csrf: self.csrf,
            must_change_password: self.must_change_password,
            password: PasswordStamp::from_hex(&self.password)?,
            pending: self.pending,
            notice: self.notice,
            started: self.started,
            version,
            expires_at,
        })
    }
}

/// The sessions, kept in the store through [`QueryApi`].
#[derive(Clone, Debug)]
pub struct Sessions {
    query: QueryApi,
    idle_timeout: Duration,
}

fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

fn digest(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

fn now_millis() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

impl Sessions {
    pub fn new(query: QueryApi, idle_timeout: Duration) -> Sessions {
        Sessions { query, idle_timeout }
    }

    /// When a session used at `now` ends if not used again: idle from now, or at its
    /// lifetime.
    fn expiry(&self, started: u64, now: u64) -> time::OffsetDateTime {
        let idle_end = now + self.idle_timeout.as_millis() as u64;
        let life_end = started + MAX_LIFETIME.as_millis() as u64;
        let end = idle_end.min(life_end);
        time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(end) * 1_000_000)
            .unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
    }

    async fn load(&self, token: &str) -> Option<Session> {
        let stored = self.query.console_session(&digest(token)).await?;
        let expires_at = (stored.expires_at.unix_timestamp_nanos() / 1_000_000) as u64;
        serde_json::from_str::<Record>(&stored.record)
            .ok()?
            .session(stored.version, expires_at)
    }

    /// Starts a session for `principal`; returns its token (for the cookie only), or `None`
    /// when the store could not keep it.
    pub async fn start(
        &self,
        principal: Principal,
        account_label: String,
        must_change_password: bool,
        password: PasswordStamp,
    ) -> Option<String> {
        let token = random_token();
        let now = now_millis();
        let session = Session {
            signed_in: principal.clone(),
            principal,
            account_label,
            csrf: random_token(),
            must_change_password,
            password,
            pending: None,
            notice: None,
            started: now,
            version: 0,
            expires_at: 0,
        };
        let record = serde_json::to_string(&Record::of(&session)).ok()?;
        self.query
            .save_console_session(&digest(&token), self.expiry(now, now), &record)
            .await
            .then_some(token)
    }

    /// The session `token` names, if it is live; using it keeps it alive.
    pub async fn get(&self, token: &str) -> Option<Session> {
        let session = self.load(token).await?;
        let now = now_millis();
        if now.saturating_sub(session.started) >= MAX_LIFETIME.as_millis() as u64 {
            self.end(token).await;
            return None;
        }
        // Used again: its expiry moves on, once the last move is old enough.
        let idle = self.idle_timeout.as_millis() as u64;
        let since_last_use = (now + idle).saturating_sub(session.expires_at);
        if since_last_use >= TOUCH_EVERY.min(self.idle_timeout / 4).as_millis() as u64 {
            self.query
                .touch_console_session(&digest(token), self.expiry(session.started, now))
                .await;
        }
        Some(session)
    }

    /// Changes the session `token` names with `change` and keeps the change, unless another
    /// request of the session changed it first (then it is read again and changed again), or
    /// it ended.
    async fn update<R>(&self, token: &str, change: impl Fn(&mut Session) -> R) -> Option<R> {
        for _ in 0..UPDATE_ATTEMPTS {
            let mut session = self.load(token).await?;
            let result = change(&mut session);
            let record = serde_json::to_string(&Record::of(&session)).ok()?;
            if self
                .query
                .update_console_session(&digest(token), session.version, &record)
                .await
            {
                return Some(result);
            }
        }
        None
    }

    /// The session's person changed its password here: this session goes on with the new
    /// one (every other session of the person ends at its next request).
    pub async fn password_changed(&self, token: &str, password: PasswordStamp) {
        self.update(token, |session| {
            session.must_change_password = false;
            session.password = password;
        })
        .await;
    }

    /// Says `text` on the next page shown (after the redirect that follows an action).
    pub async fn notice(&self, token: &str, text: String) {
        self.update(token, |session| session.notice = Some(text.clone())).await;
    }

    /// The notice waiting for the page being shown, once.
    pub async fn take_notice(&self, token: &str) -> Option<String> {
        self.update(token, |session| session.notice.take()).await.flatten()
    }

    /// Keeps a new secret for the page that shows it.
    pub async fn stash(&self, token: &str, reveal: Reveal) {
        self.update(token, |session| session.pending = Some(reveal.clone()))
            .await;
    }

    /// The new secret, handed out once: a second look finds nothing.
    pub async fn take(&self, token: &str) -> Option<Reveal> {
        self.update(token, |session| session.pending.take()).await.flatten()
    }

    /// Acts as `role` (a role session) from now on, or, with `None`, as the person again.
    pub async fn switch(&self, token: &str, role: Option<Principal>) -> bool {
        self.update(token, |session| {
            session.principal = role.clone().unwrap_or_else(|| session.signed_in.clone());
        })
        .await
        .is_some()
    }

    /// Whether the console acts as a role the person switched to.
    pub fn is_switched(session: &Session) -> bool {
        session.principal != session.signed_in
    }

    pub async fn end(&self, token: &str) {
        self.query.end_console_session(&digest(token)).await;
    }
}

/// The session token in a request's `Cookie` header; none when there are several (one of
/// them could be planted).
pub fn token_from(headers: &http::HeaderMap) -> Option<String> {
    let mut tokens = headers
        .get_all(http::header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .filter(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value.to_owned());
    let token = tokens.next()?;
    tokens.next().is_none().then_some(token)
}

/// The `Set-Cookie` value that stores `token` (a session cookie: gone when the browser closes).
pub fn cookie(token: &str) -> String {
    format!("{COOKIE}={token}; Path=/; HttpOnly; Secure; SameSite=Strict")
}

/// The `Set-Cookie` value that removes the session cookie.
pub fn expired_cookie() -> String {
    format!("{COOKIE}=; Path=/; HttpOnly; Secure; SameSite=Strict; Max-Age=0")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alice() -> Principal {
        Principal {
            account_id: "111122223333".into(),
            identity: Identity::User {
                user_id: "AIDAEXAMPLE".into(),
                name: "alice".into(),
                path: "/eng/".into(),
            },
            access_key_id: String::new(),
            session: None,
        }
    }

    fn role_session(expires_at: i64) -> Principal {
        Principal {
            account_id: "444455556666".into(),
            identity: Identity::AssumedRole {
                role_id: "AROAEXAMPLE".into(),
                role_name: "admin".into(),
                role_path: "/".into(),
                session_name: "alice".into(),
            },
            access_key_id: "ASIAEXAMPLE".into(),
            session: Some(std::sync::Arc::new(coffer_auth::SessionFacts {
                issued_at: 1,
                expires_at,
                ..Default::default()
            })),
        }
    }

    #[test]
    fn a_switched_role_lasts_in_the_record_until_it_expires() {
        let mut session = Session {
            principal: role_session(i64::MAX / 2),
            signed_in: alice(),
            account_label: "acme".into(),
            csrf: "c".into(),
            must_change_password: false,
            password: PasswordStamp::of("hash"),
            pending: None,
            notice: None,
            started: 1,
            version: 1,
            expires_at: 9,
        };
        let round_trip = |session: &Session| {
            let text = serde_json::to_string(&Record::of(session)).unwrap();
            serde_json::from_str::<Record>(&text).unwrap().session(1, 9).unwrap()
        };
        let back = round_trip(&session);
        assert_eq!(back.principal, session.principal);
        assert_eq!(back.signed_in, alice());
        assert!(Sessions::is_switched(&back));
        // Past its expiry, the console is alice again.
        session.principal = role_session(1);
        let back = round_trip(&session);
        assert_eq!(back.principal, alice());
        assert!(!Sessions::is_switched(&back));
    }

    #[test]
    fn a_session_survives_its_record_whole() {
        let session = Session {
            principal: alice(),
            signed_in: alice(),
            account_label: "acme".into(),
            csrf: "c".into(),
            must_change_password: true,
            password: PasswordStamp::of("hash"),
            pending: Some(Reveal::SignIn {
                user_name: "bob".into(),
                password: "p".into(),
                problems: vec!["x".into()],
            }),
            notice: Some("done".into()),
            started: 1,
            version: 7,
            expires_at: 9,
        };
        let text = serde_json::to_string(&Record::of(&session)).unwrap();
        let back = serde_json::from_str::<Record>(&text).unwrap().session(7, 9).unwrap();
        assert_eq!(back.principal, session.principal);
        assert_eq!(back.password, session.password);
        assert!(back.must_change_password && back.notice.as_deref() == Some("done"));
        assert!(matches!(back.pending, Some(Reveal::SignIn { ref user_name, .. }) if user_name == "bob"));
        assert_eq!((back.started, back.version, back.expires_at), (1, 7, 9));
    }

    #[test]
    fn the_token_is_read_from_the_cookie_header() {
        let mut headers = http::HeaderMap::new();
        headers.insert(
            http::header::COOKIE,
            "a=b; __Host-coffer_session=abc123; c=d".parse().unwrap(),
        );
        assert_eq!(token_from(&headers).as_deref(), Some("abc123"));
        headers.append(http::header::COOKIE, "__Host-coffer_session=planted".parse().unwrap());
        assert_eq!(token_from(&headers), None, "two session cookies: trust neither");
        assert!(cookie("x").contains("HttpOnly; Secure; SameSite=Strict"));
    }
}
