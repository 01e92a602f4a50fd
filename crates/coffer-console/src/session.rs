//! Console sessions: a random token in a `Secure; HttpOnly; SameSite=Strict` cookie names a
//! session held in memory, with the signed-in principal and the session's CSRF token. A
//! session that is idle longer than the configured time is gone; signing out removes it.
//! Tokens are compared by map lookup on their SHA-256, never logged, and never put in a URL.

use std::collections::HashMap;
use std::sync::Arc;

use parking_lot::Mutex;
use std::time::{Duration, Instant};

use coffer_auth::Principal;
pub use coffer_auth::passwords::PasswordStamp;
use rand::RngCore;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// The cookie that carries the session token. `__Host-`: browsers accept it only when it is
/// Secure, Path=/ and bound to this exact host, so another service on the same host (S3's
/// port, which serves uploaded HTML) cannot plant one.
pub const COOKIE: &str = "__Host-coffer_session";

/// However active, a session ends after this long (then sign in again).
pub const MAX_LIFETIME: Duration = Duration::from_secs(12 * 60 * 60);

/// A signed-in person.
#[derive(Clone, Debug)]
pub struct Session {
    pub principal: Principal,
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
    started: Instant,
    last_seen: Instant,
}

/// A secret between its creation and the one page that shows it.
#[derive(Clone, Debug)]
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
    /// Whether `token` is this session's CSRF token (compared in constant time).
    pub fn csrf_matches(&self, token: &str) -> bool {
        self.csrf.as_bytes().ct_eq(token.as_bytes()).into()
    }
}

/// Every live session, by the SHA-256 of its token.
#[derive(Clone, Debug)]
pub struct Sessions {
    live: Arc<Mutex<HashMap<[u8; 32], Session>>>,
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

impl Sessions {
    pub fn new(idle_timeout: Duration) -> Sessions {
        Sessions {
            live: Arc::default(),
            idle_timeout,
        }
    }

    /// Starts a session for `principal`; returns its token (for the cookie only).
    pub fn start(
        &self,
        principal: Principal,
        account_label: String,
        must_change_password: bool,
        password: PasswordStamp,
    ) -> String {
        let token = random_token();
        let session = Session {
            principal,
            account_label,
            csrf: random_token(),
            must_change_password,
            password,
            pending: None,
            notice: None,
            started: Instant::now(),
            last_seen: Instant::now(),
        };
        let mut live = self.live.lock();
        let timeout = self.idle_timeout;
        live.retain(|_, s| s.last_seen.elapsed() < timeout);
        live.insert(digest(&token), session);
        token
    }

    /// The session `token` names, if it is live; touching it keeps it alive.
    pub fn get(&self, token: &str) -> Option<Session> {
        let mut live = self.live.lock();
        let key = digest(token);
        let session = live.get_mut(&key)?;
        if session.last_seen.elapsed() >= self.idle_timeout || session.started.elapsed() >= MAX_LIFETIME {
            live.remove(&key);
            return None;
        }
        session.last_seen = Instant::now();
        Some(session.clone())
    }

    /// The session's person changed its password here: this session goes on with the new
    /// one (every other session of the person ends at its next request).
    pub fn password_changed(&self, token: &str, password: PasswordStamp) {
        if let Some(session) = self.live.lock().get_mut(&digest(token)) {
            session.must_change_password = false;
            session.password = password;
        }
    }

    /// Says `text` on the next page shown (after the redirect that follows an action).
    pub fn notice(&self, token: &str, text: String) {
        if let Some(session) = self.live.lock().get_mut(&digest(token)) {
            session.notice = Some(text);
        }
    }

    /// The notice waiting for the page being shown, once.
    pub fn take_notice(&self, token: &str) -> Option<String> {
        self.live.lock().get_mut(&digest(token))?.notice.take()
    }

    /// Keeps a new secret for the page that shows it.
    pub fn stash(&self, token: &str, reveal: Reveal) {
        if let Some(session) = self.live.lock().get_mut(&digest(token)) {
            session.pending = Some(reveal);
        }
    }

    /// The new secret, handed out once: a second look finds nothing.
    pub fn take(&self, token: &str) -> Option<Reveal> {
        let mut live = self.live.lock();
        live.get_mut(&digest(token))?.pending.take()
    }

    pub fn end(&self, token: &str) {
        self.live.lock().remove(&digest(token));
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
    use coffer_auth::Identity;

    fn root() -> Principal {
        Principal {
            account_id: "111122223333".into(),
            identity: Identity::Root,
            access_key_id: String::new(),
        }
    }

    #[test]
    fn a_session_lives_while_used_and_ends_when_idle_or_signed_out() {
        let sessions = Sessions::new(Duration::from_millis(200));
        let token = sessions.start(root(), "111122223333".into(), false, PasswordStamp::of("hash"));
        assert_eq!(token.len(), 64);
        let session = sessions.get(&token).expect("live");
        assert!(session.csrf_matches(&session.csrf.clone()));
        assert!(!session.csrf_matches("forged"));
        assert!(sessions.get("not-a-token").is_none());
        std::thread::sleep(Duration::from_millis(250));
        assert!(sessions.get(&token).is_none(), "idle too long");
        let again = sessions.start(root(), "111122223333".into(), false, PasswordStamp::of("hash"));
        sessions.end(&again);
        assert!(sessions.get(&again).is_none());
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
