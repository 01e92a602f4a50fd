//! Signing in to the console, behind the IAM API: which account a typed name means, whether a
//! password proves the root user or an IAM user, what must come next (a new password, or
//! none at all once expired under HardExpiry), and the stamp of the password a session was
//! made with. The console never reads the store; it asks here.

use coffer_auth::passwords::PasswordStamp;
use coffer_auth::{Identity, Principal};
use coffer_store::{Account, SigninAttemptId, SigninHistory, SigninKey, StoreError};

use crate::QueryApi;

/// What a correct password leads to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Next {
    Proceed,
    /// The login profile requires a new password, or the password policy says it is too old.
    ChangePassword,
    /// Too old under a policy with HardExpiry: only an administrator can set a new one.
    Expired,
}

impl QueryApi {
    /// Records a console sign-in attempt (`ConsoleLogin`): `failure` is why it failed, if it
    /// did. A user name that is not one of the account's users is not recorded as typed.
    pub async fn record_sign_in(
        &self,
        account: Option<&Account>,
        username: &str,
        failure: Option<&str>,
        facts: &coffer_auth::RequestFacts,
        login_to: &str,
    ) -> Result<(), coffer_audit::NotRecorded> {
        let caller = match account {
            Some(account) => {
                let user = match username.is_empty() {
                    true => None,
                    false => {
                        let known = self.store.user(&account.account_id, username).await.ok();
                        Some(coffer_audit::SigningInUser {
                            known: known.map(|user| (user.user_id.clone(), user.arn())),
                            name: username.to_owned(),
                        })
                    }
                };
                coffer_audit::Caller::SigningIn {
                    account_id: account.account_id.clone(),
                    user,
                }
            }
            None => coffer_audit::Caller::Unknown { access_key_id: None },
        };
        let mut event =
            coffer_audit::Event::new(coffer_audit::Source::Signin, "ConsoleLogin", caller).from_client(facts);
        let outcome = match failure {
            Some(message) => {
                event.error = Some((String::new(), message.to_owned()));
                "Failure"
            }
            None => "Success",
        };
        event.response_elements = serde_json::json!({ "ConsoleLogin": outcome });
        event.additional = Some(serde_json::json!({
            "LoginTo": login_to,
            "MobileVersion": "No",
            "MFAUsed": "No",
        }));
        self.audit.record(event).await
    }

    /// The audit trail every call is recorded in.
    pub fn audit(&self) -> &coffer_audit::Audit {
        &self.audit
    }

    /// The account with this id, else the one with this alias (an id always wins: an alias can
    /// never capture another account's sign-ins).
    pub async fn sign_in_account(&self, wanted: &str) -> Option<Account> {
        let accounts = self.store.list_accounts().await.ok()?;
        let by_id = accounts.iter().position(|a| a.account_id == wanted);
        let by_alias = || {
            accounts.iter().position(|a| {
                a.alias
                    .as_deref()
                    .is_some_and(|alias| alias.eq_ignore_ascii_case(wanted))
            })
        };
        let at = by_id.or_else(by_alias)?;
        accounts.into_iter().nth(at)
    }

    /// What a password proves: the principal, and what comes next.
    pub async fn sign_in(
        &self,
        account: Option<&Account>,
        username: &str,
        password: &str,
    ) -> Option<(Principal, Next, PasswordStamp)> {
        // Look everything up first, then verify once, against a decoy when something is missing,
        // so a wrong name takes as long as a wrong password.
        let (hash, principal, next) = match account {
            None => (None, None, Next::Proceed),
            Some(account) if username.is_empty() => {
                let hash = self.store.root_password_hash(&account.account_id).await.ok().flatten();
                let root = Principal {
                    account_id: account.account_id.clone(),
                    identity: Identity::Root,
                    access_key_id: String::new(),
                    session: None,
                };
                (hash, Some(root), Next::Proceed)
            }
            Some(account) => match self.store.user(&account.account_id, username).await {
                Ok(user) => match self.store.login_profile(&user.user_id).await {
                    Ok(profile) => {
                        let principal = Principal {
                            account_id: account.account_id.clone(),
                            identity: Identity::User {
                                user_id: user.user_id.clone(),
                                name: user.name.clone(),
                                path: user.path.clone(),
                            },
                            access_key_id: String::new(),
                            session: None,
                        };
                        let next = match self.expiry(account, &profile).await {
                            Some(true) => Next::Expired,
                            Some(false) => Next::ChangePassword,
                            None if profile.password_reset_required => Next::ChangePassword,
                            None => Next::Proceed,
                        };
                        (Some(profile.password_hash), Some(principal), next)
                    }
                    Err(StoreError::NoSuchLoginProfile) | Err(_) => (None, None, Next::Proceed),
                },
                Err(_) => (None, None, Next::Proceed),
            },
        };
        let found = hash.is_some();
        let stored = hash.unwrap_or_else(|| coffer_auth::passwords::decoy().to_owned());
        let matches = coffer_auth::passwords::verify_async(password, &stored).await;
        let stamp = PasswordStamp::of(&stored);
        (found && matches).then_some(principal?).map(|p| (p, next, stamp))
    }

    /// The stamp of the password `principal` signs in with now; `None` when it has none (its
    /// login profile was deleted, or the user itself).
    pub async fn password_stamp(&self, principal: &Principal) -> Option<PasswordStamp> {
        let hash = match &principal.identity {
            Identity::User { user_id, .. } => self.store.login_profile(user_id).await.ok()?.password_hash,
            _ => self.store.root_password_hash(&principal.account_id).await.ok()??,
        };
        Some(PasswordStamp::of(&hash))
    }

    /// Whether the account's password policy says the password is too old: `Some(hard)` if so,
    /// with whether only an administrator may then set a new one (HardExpiry).
    async fn expiry(&self, account: &Account, profile: &coffer_store::LoginProfile) -> Option<bool> {
        let policy = self.store.password_policy(&account.account_id).await.ok()?;
        let days = policy.max_password_age?;
        let expired = time::OffsetDateTime::now_utc() - profile.password_changed_at > time::Duration::days(days);
        expired.then_some(policy.hard_expiry)
    }

    /// Records a sign-in with the password as its last use (IAM users' PasswordLastUsed).
    pub async fn record_password_use(&self, principal: &Principal) {
        if let Identity::User { user_id, .. } = &principal.identity
            && let Err(err) = self.store.record_password_use(user_id).await
        {
            tracing::warn!(%err, "could not record the password's use");
        }
    }

    /// Why `password` would be refused as a console password in `principal`'s account (its
    /// password policy, or IAM's default), if it would: to check before a multi-step create.
    pub async fn password_problem(&self, principal: &Principal, password: &str) -> Option<String> {
        let policy = match self.store.password_policy(&principal.account_id).await {
            Ok(policy) => Some(policy),
            Err(StoreError::NoPasswordPolicy) => None,
            Err(_) => return None,
        };
        let account = self.store.account(&principal.account_id).await.ok()?;
        crate::password_policy::check(policy.as_ref(), &account.name, password)
            .err()
            .map(|e| e.to_string())
    }

    /// Stores a new console session's record (see `Store::put_console_session`), so every
    /// node serves it; false when the database could not take it.
    pub async fn save_console_session(
        &self,
        digest: &[u8; 32],
        expires_at: time::OffsetDateTime,
        record: &str,
    ) -> bool {
        match self.store.put_console_session(digest, expires_at, record).await {
            Ok(()) => true,
            Err(err) => {
                tracing::error!(%err, "could not store a console session");
                false
            }
        }
    }

    /// A live console session; `None` also when the database cannot be read (the person is
    /// asked to sign in again rather than let in unchecked).
    pub async fn console_session(&self, digest: &[u8; 32]) -> Option<coffer_store::StoredSession> {
        self.store
            .console_session(digest)
            .await
            .inspect_err(|err| tracing::error!(%err, "could not read a console session"))
            .ok()
            .flatten()
    }

    /// Changes a console session's record if it is still at `version` (see
    /// `Store::update_console_session`); false when it changed meanwhile or is gone.
    pub async fn update_console_session(&self, digest: &[u8; 32], version: i64, record: &str) -> bool {
        self.store
            .update_console_session(digest, version, record)
            .await
            .inspect_err(|err| tracing::error!(%err, "could not change a console session"))
            .unwrap_or(false)
    }

    /// Keeps a used console session alive until `expires_at`.
    pub async fn touch_console_session(&self, digest: &[u8; 32], expires_at: time::OffsetDateTime) {
        if let Err(err) = self.store.touch_console_session(digest, expires_at).await {
            tracing::warn!(%err, "could not record a console session's use");
        }
    }

    /// Ends a console session, and forgets expired ones.
    pub async fn end_console_session(&self, digest: &[u8; 32]) {
        if let Err(err) = self.store.delete_console_session(digest).await {
            tracing::error!(%err, "could not end a console session");
        }
        if let Err(err) = self.store.delete_expired_console_sessions().await {
            tracing::warn!(%err, "could not forget expired console sessions");
        }
    }

    /// What the sign-in throttle keeps of an address or a typed name (a keyed digest).
    pub fn signin_key(&self, text: &str) -> SigninKey {
        self.store.signin_key(text)
    }

    /// The address's sign-in attempts since `since`, and the oldest one's time; `None` when
    /// the database cannot be read.
    pub async fn signin_address_attempts(
        &self,
        address: &SigninKey,
        since: time::OffsetDateTime,
    ) -> Option<(u64, Option<time::OffsetDateTime>)> {
        self.store
            .signin_address_attempts(address, since)
            .await
            .inspect_err(|err| tracing::error!(%err, "could not read sign-in attempts"))
            .ok()
    }

    /// Records a sign-in attempt and reads the history it is judged by (see
    /// `Store::record_signin_attempt`); `None` when the database could not take it.
    pub async fn record_signin_attempt(
        &self,
        address: &SigninKey,
        name: &SigninKey,
        at: time::OffsetDateTime,
        since: time::OffsetDateTime,
    ) -> Option<(SigninAttemptId, SigninHistory)> {
        self.store
            .record_signin_attempt(address, name, at, since)
            .await
            .inspect_err(|err| tracing::error!(%err, "could not record a sign-in attempt"))
            .ok()
    }

    /// Takes a sign-in attempt back: it counts for neither its address nor its name.
    pub async fn withdraw_signin_attempt(&self, id: SigninAttemptId) {
        if let Err(err) = self.store.withdraw_signin_attempt(id).await {
            tracing::warn!(%err, "could not take back a sign-in attempt");
        }
    }

    /// Dates a failed sign-in attempt at its failure.
    pub async fn date_signin_failure(&self, id: SigninAttemptId, at: time::OffsetDateTime) {
        if let Err(err) = self.store.date_signin_failure(id, at).await {
            tracing::warn!(%err, "could not date a failed sign-in attempt");
        }
    }

    /// Keeps a sign-in attempt against its address only.
    pub async fn unname_signin_attempt(&self, id: SigninAttemptId) {
        if let Err(err) = self.store.unname_signin_attempt(id).await {
            tracing::warn!(%err, "could not change a sign-in attempt");
        }
    }

    /// Remembers an address a name signed in from, keeping its `keep` latest.
    pub async fn remember_signin_address(
        &self,
        name: &SigninKey,
        address: &SigninKey,
        at: time::OffsetDateTime,
        keep: u32,
    ) {
        if let Err(err) = self.store.remember_signin_address(name, address, at, keep).await {
            tracing::warn!(%err, "could not remember a sign-in address");
        }
    }

    /// Forgets sign-in attempts before `attempts_before`, addresses unused since
    /// `known_before`, and expired console sessions.
    pub async fn forget_signin_records(
        &self,
        attempts_before: time::OffsetDateTime,
        known_before: time::OffsetDateTime,
    ) {
        if let Err(err) = self.store.forget_signin_records(attempts_before, known_before).await {
            tracing::warn!(%err, "could not forget old sign-in records");
        }
        if let Err(err) = self.store.delete_expired_console_sessions().await {
            tracing::warn!(%err, "could not forget expired console sessions");
        }
    }

    /// Whether the metadata database answers (for the health check), within a second.
    pub async fn database_reachable(&self) -> bool {
        self.store.ping(std::time::Duration::from_secs(1)).await
    }
}
