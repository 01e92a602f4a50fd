//! The S3 REST API, on top of s3s: s3s parses requests, verifies SigV4/SigV2 signatures and
//! renders S3's XML; this crate supplies the keys ([`StoreAuth`]), the authorization
//! ([`StoreAccess`]) and the operations ([`CofferS3`]).
//!
//! Until object storage lands, only `ListBuckets` is served (an account has no buckets yet);
//! every other operation answers s3s's default, AWS's `NotImplemented`.

mod access;
mod auth;

use coffer_auth::Principal;
use coffer_store::Store;
use s3s::dto::{ListBucketsInput, ListBucketsOutput, Owner};
use s3s::{S3, S3Request, S3Response, S3Result, s3_error};
use sha2::{Digest, Sha256};

pub use access::{RequestLog, StoreAccess};
pub use auth::StoreAuth;

/// Builds the s3s service with Coffer's auth, access and operations.
pub fn service(store: Store) -> s3s::service::S3Service {
    let mut builder = s3s::service::S3ServiceBuilder::new(CofferS3 { store: store.clone() });
    builder.set_auth(StoreAuth::new(store.clone()));
    builder.set_access(StoreAccess::new(store));
    builder.build()
}

/// S3's canonical user id for an account: 64 hex digits, stable for the account.
pub fn canonical_user_id(account_id: &str) -> String {
    hex::encode(Sha256::digest(format!("coffer canonical user {account_id}")))
}

/// A server fault: logged in full, answered without detail (store errors name files and SQL).
pub(crate) fn internal(err: impl std::fmt::Display) -> s3s::S3Error {
    tracing::error!(%err, "s3 request failed");
    s3_error!(InternalError, "We encountered an internal error. Please try again.")
}

pub struct CofferS3 {
    store: Store,
}

#[async_trait::async_trait]
impl S3 for CofferS3 {
    async fn list_buckets(&self, req: S3Request<ListBucketsInput>) -> S3Result<S3Response<ListBucketsOutput>> {
        // Set by StoreAccess once the caller was authenticated and authorized.
        let Some(principal) = req.extensions.get::<Principal>() else {
            return Err(s3_error!(AccessDenied));
        };
        let account = self.store.account(&principal.account_id).await.map_err(internal)?;
        Ok(S3Response::new(ListBucketsOutput {
            buckets: Some(Vec::new()),
            owner: Some(Owner {
                display_name: Some(account.alias.unwrap_or(account.name)),
                id: Some(canonical_user_id(&account.account_id)),
            }),
            continuation_token: None,
            prefix: req.input.prefix,
        }))
    }
}
