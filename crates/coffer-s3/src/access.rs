//! Authorization for every S3 request, after s3s has verified the signature: the caller's
//! principal, the IAM action and resource of the operation, and the decision. Also records
//! the key's use and logs the request's principal and operation.

use coffer_auth::{Principal, authorize};
use coffer_store::Store;
use s3s::access::{S3Access, S3AccessContext};
use s3s::path::S3Path;
use s3s::{S3Result, s3_error};

pub struct StoreAccess {
    store: Store,
}

impl StoreAccess {
    pub fn new(store: Store) -> Self {
        StoreAccess { store }
    }
}

/// The IAM action and resource ARN an S3 operation is authorized as.
fn action_and_resource(op: &str, path: &S3Path) -> (String, String) {
    let action = match op {
        "ListBuckets" => "s3:ListAllMyBuckets".to_owned(),
        other => format!("s3:{other}"),
    };
    let resource = match path {
        S3Path::Root => "*".to_owned(),
        S3Path::Bucket { bucket } => format!("arn:aws:s3:::{bucket}"),
        S3Path::Object { bucket, key } => format!("arn:aws:s3:::{bucket}/{key}"),
    };
    (action, resource)
}

#[async_trait::async_trait]
impl S3Access for StoreAccess {
    async fn check(&self, cx: &mut S3AccessContext<'_>) -> S3Result<()> {
        let op = cx.s3_op().name();
        let (action, resource) = action_and_resource(op, cx.s3_path());
        let Some(credentials) = cx.credentials() else {
            tracing::info!(principal = "anonymous", operation = %format_args!("s3:{op}"), "denied");
            return Err(s3_error!(AccessDenied, "Access Denied"));
        };
        let credential = self
            .store
            .credential(&credentials.access_key)
            .await
            .map_err(|e| s3_error!(InternalError, "{e}"))?
            .ok_or_else(|| s3_error!(InvalidAccessKeyId))?;
        let region = coffer_auth::sigv4::credential_scope(cx.headers(), cx.uri())
            .map(|scope| scope.region)
            .unwrap_or_else(|| "us-east-1".to_owned());
        self.store.record_key_use(&credential.access_key_id, "s3", &region);
        let principal = Principal::from_credential(&credential);
        // Until buckets exist, every resource belongs to the caller's own account.
        let outcome = authorize(&principal, &action, &resource, &principal.account_id);
        tracing::info!(principal = %principal.arn(), operation = %format_args!("s3:{op}"), allowed = outcome.is_ok(), "s3 request");
        outcome.map_err(|denied| s3_error!(AccessDenied, "{denied}"))
    }
}
