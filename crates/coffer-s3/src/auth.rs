//! Secret keys for s3s's signature check: a long-term key's from the store (cached there), a
//! session's from its token, which the front door opened for this request alone.

use std::future::Future;

use crate::error::S3Fault;
use coffer_auth::Principal;
use coffer_auth::session::OpenedSession;
use coffer_store::{KeyStatus, Store, ids};
use s3s::S3Result;
use s3s::auth::{S3Auth, SecretKey};

tokio::task_local! {
    /// The session the request being served opened from its token (its key id and secret).
    static SESSION_SECRET: (String, String);
}

/// The principal of a request signed with temporary credentials, put into its extensions by
/// the front door once its token opened. Only code can put it there.
#[derive(Clone, Debug)]
pub struct SessionPrincipal(pub Principal);

/// Runs `serve` (one request through s3s) with `session`'s secret at hand for the signature
/// check: the secret never outlives the request, and no other request can see it.
pub async fn with_session<F: Future>(session: Option<&OpenedSession>, serve: F) -> F::Output {
    match session {
        Some(opened) => {
            let secret = (opened.principal.access_key_id.clone(), opened.secret_access_key.clone());
            SESSION_SECRET.scope(secret, serve).await
        }
        None => serve.await,
    }
}

pub struct StoreAuth {
    store: Store,
}

impl StoreAuth {
    pub fn new(store: Store) -> Self {
        StoreAuth { store }
    }
}

#[async_trait::async_trait]
impl S3Auth for StoreAuth {
    async fn get_secret_key(&self, access_key: &str) -> S3Result<SecretKey> {
        if ids::is_session_key_id(access_key) {
            // Without its token (or with another key's) a temporary key is unknown, as in S3.
            return SESSION_SECRET
                .try_with(|(key, secret)| (key == access_key).then(|| SecretKey::from(secret.clone())))
                .ok()
                .flatten()
                .ok_or_else(|| S3Fault::InvalidAccessKeyId.into());
        }
        match self.store.credential(access_key).await {
            Ok(Some(credential)) if credential.status == KeyStatus::Active => {
                Ok(SecretKey::from(credential.secret_access_key.clone()))
            }
            Ok(_) => Err(S3Fault::InvalidAccessKeyId.into()),
            Err(err) => Err(S3Fault::from(err).into()),
        }
    }
}
