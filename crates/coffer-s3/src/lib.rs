//! The S3 REST API, on top of s3s: s3s parses requests, verifies SigV4/SigV2 signatures and
//! renders S3's XML; this crate supplies the keys ([`StoreAuth`]), the authorization
//! ([`StoreAccess`]) and the operations ([`CofferS3`]), each operation group in its module.
//! Operations Coffer does not implement answer s3s's default, AWS's `NotImplemented`.

mod access;
pub mod access_log;
mod acl;
mod api;
pub mod audit;
mod auth;
mod body;
mod bucket;
mod bucket_policy;
mod checksums;
mod copy;
mod cors;
mod delete;
mod encryption;
pub mod error;
mod get;
mod headers;
mod host;
mod lifecycle;
mod list;
mod multipart;
mod object_lock;
mod post_object;
mod put;
pub mod quirks;
mod reading;
pub mod routes;
mod tagging;
mod unserved;
mod versioning;

use coffer_auth::Caller;
use coffer_store::{Bucket, Store};
use s3s::S3Request;

use crate::error::{Result, S3Fault};
use sha2::{Digest, Sha256};

pub use access::{Logged, RequestLog, StoreAccess};
pub use api::{Body, PresignError, S3Api};
pub use auth::{SessionPrincipal, StoreAuth, with_session};
pub use bucket::valid_bucket_name;
pub use cors::bucket_of;
pub use host::CofferHost;
pub use post_object::{FormUpload, is_form_post};

/// How the S3 endpoint is set up.
#[derive(Clone, Debug)]
pub struct Options {
    /// The domain under which `<bucket>.<domain>` is virtual-hosted style; `None`: path style only.
    pub domain: Option<String>,
    /// How long an upload may send nothing before it fails with `RequestTimeout`.
    pub idle_timeout: std::time::Duration,
    /// How long a lifecycle "day" is (shorter only in tests).
    pub lifecycle_day: std::time::Duration,
    /// What a new bucket starts with (Block Public Access, Object Ownership).
    pub new_buckets: coffer_store::NewBucket,
    /// Whether buckets without a default encryption of their own encrypt new objects with
    /// SSE-S3 (AWS's rule since 2023).
    pub new_buckets_encrypted: bool,
    /// Take SSE-C keys over plain HTTP (S3 refuses them without TLS); for tests and for
    /// deployments whose TLS ends at a proxy Coffer does not trust.
    pub sse_c_over_http: bool,
    /// Where calls are recorded.
    pub audit: coffer_audit::Audit,
    /// How long server access-log records wait before they are delivered.
    pub access_log_roll: std::time::Duration,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            domain: None,
            idle_timeout: std::time::Duration::from_secs(60),
            lifecycle_day: coffer_store::LIFECYCLE_DAY,
            new_buckets: coffer_store::NewBucket::CURRENT_DEFAULTS,
            sse_c_over_http: false,
            new_buckets_encrypted: true,
            audit: coffer_audit::Audit::off(),
            access_log_roll: std::time::Duration::from_secs(300),
        }
    }
}

/// Builds the s3s service with Coffer's auth, access and operations.
fn service(store: Store, authorizer: coffer_auth::Authorizer, options: &Options) -> s3s::service::S3Service {
    let mut builder = s3s::service::S3ServiceBuilder::new(CofferS3 {
        store: store.clone(),
        authorizer: authorizer.clone(),
        idle_timeout: options.idle_timeout,
        lifecycle_day: coffer_store::LifecycleDay(options.lifecycle_day),
        new_buckets: options.new_buckets.clone(),
        sse_c_over_http: options.sse_c_over_http,
        encrypt_by_default: options.new_buckets_encrypted,
    });
    builder.set_config(std::sync::Arc::new(s3s::config::StaticConfigProvider::new(
        std::sync::Arc::new(s3_config()),
    )));
    builder.set_auth(StoreAuth::new(store.clone()));
    builder.set_access(StoreAccess::new(store, authorizer));
    if let Some(domain) = &options.domain {
        builder.set_host(host::CofferHost::new(domain));
    }
    builder.build()
}

/// The largest XML request body (DeleteObjects, CompleteMultipartUpload).
pub const MAX_XML_BODY: usize = 4 * 1024 * 1024;

/// s3s's limits, tightened: XML bodies (CompleteMultipartUpload with 10,000 parts is about
/// 1 MiB, DeleteObjects with 1,000 keys about as much) and POST forms, which s3s buffers in
/// memory before it authenticates them. No form reaches s3s: the front door streams browser
/// uploads itself and refuses other form POSTs (`post_object`).
fn s3_config() -> s3s::config::S3Config {
    let mut config = s3s::config::S3Config::default();
    config.xml_max_body_size = MAX_XML_BODY;
    config.post_object_max_file_size = 64 * 1024;
    config.form_max_field_size = 64 * 1024;
    config.form_max_fields_size = 256 * 1024;
    config.form_max_parts = 64;
    config
}

/// S3's canonical user id for an account: 64 hex digits, stable for the account.
pub fn canonical_user_id(account_id: &str) -> String {
    hex::encode(Sha256::digest(format!("coffer canonical user {account_id}")))
}

/// The authenticated caller, put into the request by [`StoreAccess`] (an anonymous
/// request has none).
pub(crate) fn caller<T>(req: &S3Request<T>) -> Result<&Caller> {
    req.extensions
        .get::<Caller>()
        .ok_or_else(|| S3Fault::AccessDenied("Access Denied".to_owned()))
}

pub struct CofferS3 {
    store: Store,
    /// For what an anonymous caller may do (its requests have no `Caller`).
    authorizer: coffer_auth::Authorizer,
    idle_timeout: std::time::Duration,
    lifecycle_day: coffer_store::LifecycleDay,
    new_buckets: coffer_store::NewBucket,
    sse_c_over_http: bool,
    /// Buckets without a default encryption of their own encrypt with SSE-S3.
    encrypt_by_default: bool,
}

impl CofferS3 {
    /// The bucket called `name`, or `NoSuchBucket`.
    pub(crate) async fn bucket(&self, name: &str) -> Result<Bucket> {
        self.store
            .bucket(name)
            .await
            .map_err(S3Fault::from)?
            .ok_or(S3Fault::NoSuchBucket)
    }
}
