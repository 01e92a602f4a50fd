//! From a signed Query API request to the [`Principal`] it speaks for.

use coffer_store::{KeyStatus, Store, StoreError, ids};
use http::request::Parts;
use time::OffsetDateTime;

use crate::Principal;
use crate::session::{self, TokenError};
use crate::sigv4::{Scope, SigError, Signature};

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error(transparent)]
    Signature(#[from] SigError),
    /// No such key, or the key is inactive, or a session token that does not open.
    #[error("The security token included in the request is invalid.")]
    InvalidClientTokenId,
    /// Temporary credentials past their expiration.
    #[error("The security token included in the request is expired")]
    ExpiredToken,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Verifies the request's SigV4 signature and records the key's use. Returns the caller and
/// the credential scope it signed for. Temporary credentials (`ASIA…`) are verified from
/// their session token alone, without the store.
pub async fn authenticate(store: &Store, parts: &Parts, body: &[u8]) -> Result<(Principal, Scope), AuthError> {
    let signature = Signature::parse(parts)?;
    let now = OffsetDateTime::now_utc();
    let token = session::token_of(parts);
    if ids::is_session_key_id(&signature.access_key_id) {
        let token = token.ok_or(AuthError::InvalidClientTokenId)?;
        let opened = session::open(store.sealer(), &token, &signature.access_key_id, now).map_err(|err| match err {
            TokenError::Invalid => AuthError::InvalidClientTokenId,
            TokenError::Expired => AuthError::ExpiredToken,
        })?;
        signature.verify(parts, body, &opened.secret_access_key, now)?;
        return Ok((opened.principal, signature.scope));
    }
    // A long-term key carries no token: one sent with it never goes unchecked.
    if token.is_some() {
        return Err(AuthError::InvalidClientTokenId);
    }
    let credential = store
        .credential(&signature.access_key_id)
        .await?
        .filter(|c| c.status == KeyStatus::Active)
        .ok_or(AuthError::InvalidClientTokenId)?;
    signature.verify(parts, body, &credential.secret_access_key, now)?;
    store.record_key_use(
        &credential.access_key_id,
        &signature.scope.service,
        &signature.scope.region,
    );
    Ok((Principal::from_credential(&credential), signature.scope))
}
