//! From a signed Query API request to the [`Principal`] it speaks for.

use coffer_store::{KeyStatus, Store, StoreError};
use http::request::Parts;
use time::OffsetDateTime;

use crate::Principal;
use crate::sigv4::{Scope, SigError, Signature};

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error(transparent)]
    Signature(#[from] SigError),
    /// No such key, or the key is inactive.
    #[error("The security token included in the request is invalid.")]
    InvalidClientTokenId,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Verifies the request's SigV4 signature and records the key's use. Returns the caller and
/// the credential scope it signed for.
pub async fn authenticate(store: &Store, parts: &Parts, body: &[u8]) -> Result<(Principal, Scope), AuthError> {
    let signature = Signature::parse(parts)?;
    // Coffer issues no session tokens yet: a token never goes unchecked, so any is invalid.
    if has_session_token(parts) {
        return Err(AuthError::InvalidClientTokenId);
    }
    let credential = store
        .credential(&signature.access_key_id)
        .await?
        .filter(|c| c.status == KeyStatus::Active)
        .ok_or(AuthError::InvalidClientTokenId)?;
    signature.verify(parts, body, &credential.secret_access_key, OffsetDateTime::now_utc())?;
    store.record_key_use(
        &credential.access_key_id,
        &signature.scope.service,
        &signature.scope.region,
    );
    Ok((Principal::from_credential(&credential), signature.scope))
}

fn has_session_token(parts: &Parts) -> bool {
    parts.headers.contains_key("x-amz-security-token")
        || form_urlencoded::parse(parts.uri.query().unwrap_or("").as_bytes()).any(|(k, _)| k == "X-Amz-Security-Token")
}
