//! Authorization for every S3 request, after s3s has verified the signature: the caller's
//! principal, the IAM action and resource of the operation, and the decision. Also records
//! the key's use, and tells the front door (through [`RequestLog`]) who asked for what, so it
//! can log one line per request with the status.

use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};

use parking_lot::Mutex;

use crate::error::S3Fault;

use coffer_auth::{Authorizer, Caller, Principal, Request, RequestFacts, authorize_anonymous};
use coffer_store::{Store, ids};

use crate::auth::SessionPrincipal;
use s3s::S3Result;
use s3s::access::{S3Access, S3AccessContext};
use s3s::path::S3Path;

/// Put into a request's extensions by the front door (and the console's in-process calls);
/// filled in here with who asked for what, read back once the response is known.
#[derive(Clone, Default)]
pub struct RequestLog {
    logged: Arc<Mutex<Option<Logged>>>,
    /// How far the request got: [`AUTHORIZED`], then [`SERVED`].
    stage: Arc<AtomicU8>,
}

/// The access hook allowed the request (s3s reads an XML body after it).
const AUTHORIZED: u8 = 1;
/// The operation itself ran.
const SERVED: u8 = 2;

/// What authorization learnt of a request: for its log line and its audit record.
#[derive(Clone, Debug)]
pub struct Logged {
    /// `None`: anonymous.
    pub principal: Option<Principal>,
    /// The operation's AWS name (`GetObject`).
    pub operation: String,
    pub bucket: Option<String>,
    pub key: Option<String>,
    /// The bucket's owner and region, when the bucket exists.
    pub owner: Option<(String, String)>,
    /// The bucket's server access logging, when it is on.
    pub access_log: Option<coffer_store::BucketLogging>,
    /// The keys a DeleteObjects deleted (each a `BATCH.DELETE.OBJECT` access-log line).
    pub batch_deleted: Vec<String>,
}

impl Logged {
    /// The caller's ARN, or `anonymous`.
    pub fn principal_arn(&self) -> String {
        self.principal
            .as_ref()
            .map_or_else(|| "anonymous".to_owned(), Principal::arn)
    }
}

impl RequestLog {
    fn set(&self, principal: Option<Principal>, operation: &str, path: &S3Path) {
        let (bucket, key) = match path {
            S3Path::Root => (None, None),
            S3Path::Bucket { bucket } => (Some(bucket.to_string()), None),
            S3Path::Object { bucket, key } => (Some(bucket.to_string()), Some(key.to_string())),
        };
        *self.logged.lock() = Some(Logged {
            principal,
            operation: operation.to_owned(),
            bucket,
            key,
            owner: None,
            access_log: None,
            batch_deleted: Vec::new(),
        });
    }

    fn set_owner(&self, bucket: &coffer_store::Bucket) {
        if let Some(logged) = self.logged.lock().as_mut() {
            logged.owner = Some((bucket.account_id.clone(), bucket.region.clone()));
            logged.access_log = bucket.logging.clone();
        }
    }

    pub(crate) fn note_batch_deleted(&self, keys: impl Iterator<Item = String>) {
        if let Some(logged) = self.logged.lock().as_mut() {
            logged.batch_deleted.extend(keys);
        }
    }

    /// What was learnt, if the request got as far as authorization.
    pub fn take(&self) -> Option<Logged> {
        self.logged.lock().take()
    }

    /// The operation is running (every route notes it).
    pub(crate) fn note_served(&self) {
        self.stage.store(SERVED, Ordering::Relaxed);
    }

    /// Whether a response of `status` is s3s's own 500 for a body it could not read: the
    /// request was authorized, and s3s failed before the operation ran, which after
    /// authorization only reading the body does (a broken aws-chunked framing, a body that
    /// ends early). That is the client's fault: [`S3Fault::unreadable_body`] says so.
    pub fn body_unread(&self, status: http::StatusCode) -> bool {
        status == http::StatusCode::INTERNAL_SERVER_ERROR && self.stage.load(Ordering::Relaxed) == AUTHORIZED
    }
}

pub struct StoreAccess {
    store: Store,
    authorizer: Authorizer,
}

impl StoreAccess {
    pub fn new(store: Store, authorizer: Authorizer) -> Self {
        StoreAccess { store, authorizer }
    }
}

/// S3's request condition keys from the request's headers and signature: `s3:x-amz-acl`,
/// `s3:x-amz-grant-*`, `s3:x-amz-copy-source`, `s3:x-amz-metadata-directive`,
/// `s3:x-amz-storage-class`, `s3:x-amz-content-sha256`, Object Lock's, `s3:signatureversion`
/// and `s3:authType`.
fn s3_request_keys(cx: &S3AccessContext<'_>, form: Option<&crate::FormUpload>) -> Vec<(&'static str, String)> {
    let headers = cx.headers();
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let mut keys = Vec::new();
    if let Some(acl) = header("x-amz-acl") {
        keys.push(("s3:x-amz-acl", acl));
    }
    if let Some(ownership) = header("x-amz-object-ownership") {
        keys.push(("s3:x-amz-object-ownership", ownership));
    }
    // A copy names its source as `bucket/key` (percent-decoded, as policies write it).
    if let Some(source) = header("x-amz-copy-source") {
        let decoded = percent_encoding::percent_decode_str(&source).decode_utf8_lossy();
        keys.push(("s3:x-amz-copy-source", decoded.trim_start_matches('/').to_owned()));
    }
    for (name, key) in [
        ("x-amz-server-side-encryption", "s3:x-amz-server-side-encryption"),
        (
            "x-amz-server-side-encryption-aws-kms-key-id",
            "s3:x-amz-server-side-encryption-aws-kms-key-id",
        ),
        (
            "x-amz-server-side-encryption-customer-algorithm",
            "s3:x-amz-server-side-encryption-customer-algorithm",
        ),
        ("x-amz-metadata-directive", "s3:x-amz-metadata-directive"),
        ("x-amz-storage-class", "s3:x-amz-storage-class"),
        ("x-amz-grant-read", "s3:x-amz-grant-read"),
        ("x-amz-grant-write", "s3:x-amz-grant-write"),
        ("x-amz-grant-read-acp", "s3:x-amz-grant-read-acp"),
        ("x-amz-grant-write-acp", "s3:x-amz-grant-write-acp"),
        ("x-amz-grant-full-control", "s3:x-amz-grant-full-control"),
    ] {
        if let Some(grantees) = header(name) {
            keys.push((key, grantees));
        }
    }
    if let Some(sha) = header("x-amz-content-sha256") {
        keys.push(("s3:x-amz-content-sha256", sha));
    }
    // Object Lock's keys, from a write's lock headers (a policy can cap a retention).
    if let Some(mode) = header("x-amz-object-lock-mode") {
        keys.push(("s3:object-lock-mode", mode));
    }
    if let Some(hold) = header("x-amz-object-lock-legal-hold") {
        keys.push(("s3:object-lock-legal-hold", hold));
    }
    if let Some(until) = header("x-amz-object-lock-retain-until-date") {
        let parsed = time::OffsetDateTime::parse(&until, &time::format_description::well_known::Rfc3339);
        if let Ok(until) = parsed {
            let left = (until - time::OffsetDateTime::now_utc()).whole_seconds().max(0) as u64;
            keys.push((
                "s3:object-lock-remaining-retention-days",
                left.div_ceil(86_400).to_string(),
            ));
        }
        keys.push(("s3:object-lock-retain-until-date", until));
    }
    // A browser form upload was checked by the front door: POST, with the form's scheme.
    if let Some(form) = form {
        if let Some(version) = form.signature_version {
            keys.push(("s3:signatureversion", version.to_owned()));
        }
        keys.push(("s3:authType", "POST".to_owned()));
        return keys;
    }
    // By exact parameter names, as s3s chose the scheme it verified.
    let query = cx.uri().query().unwrap_or("");
    let has = |name: &str| form_urlencoded::parse(query.as_bytes()).any(|(k, _)| k == name);
    let (version, auth_type) = if has("X-Amz-Signature") {
        ("AWS4-HMAC-SHA256", "REST-QUERY-STRING")
    } else if has("Signature") {
        ("AWS", "REST-QUERY-STRING")
    } else if header("authorization").is_some_and(|a| a.starts_with("AWS ")) {
        ("AWS", "REST-HEADER")
    } else {
        ("AWS4-HMAC-SHA256", "REST-HEADER")
    };
    keys.push(("s3:signatureversion", version.to_owned()));
    keys.push(("s3:authType", auth_type.to_owned()));
    keys
}

/// The tags a write asks for (`x-amz-tagging`): `s3:RequestObjectTag/<key>` for each, with
/// its value, and `s3:RequestObjectTagKeys` with each key. Owned names: a tag key is the
/// client's.
fn request_tag_keys(headers: &http::HeaderMap) -> Vec<(String, String)> {
    let Some(tagging) = headers.get("x-amz-tagging").and_then(|v| v.to_str().ok()) else {
        return Vec::new();
    };
    form_urlencoded::parse(tagging.as_bytes())
        .flat_map(|(key, value)| {
            [
                ("s3:RequestObjectTagKeys".to_owned(), key.to_string()),
                (format!("s3:RequestObjectTag/{key}"), value.into_owned()),
            ]
        })
        .collect()
}

/// The S3 condition keys a listing offers (`s3:prefix`, `s3:delimiter`, `s3:max-keys`).
fn listing_keys(op: &str, uri: &http::Uri) -> Vec<(&'static str, String)> {
    if !matches!(op, "ListObjects" | "ListObjectsV2" | "ListObjectVersions") {
        return Vec::new();
    }
    let Some(query) = uri.query() else { return Vec::new() };
    form_urlencoded::parse(query.as_bytes())
        .filter_map(|(name, value)| {
            let key = match name.as_ref() {
                "prefix" => "s3:prefix",
                "delimiter" => "s3:delimiter",
                "max-keys" => "s3:max-keys",
                _ => return None,
            };
            Some((key, value.into_owned()))
        })
        .collect()
}

/// The `versionId` a request names, if any.
fn version_id(uri: &http::Uri) -> Option<String> {
    let query = uri.query()?;
    form_urlencoded::parse(query.as_bytes())
        .find(|(name, _)| name == "versionId")
        .map(|(_, value)| value.into_owned())
}

/// The IAM action and resource ARN an S3 operation is authorized as (`versioned`: the
/// request names a version by id, which S3 authorizes as the `…Version` action).
fn action_and_resource(op: &str, path: &S3Path, versioned: bool) -> (String, String) {
    // The IAM action each S3 operation is authorized as, where it differs from the name.
    let action = match op {
        "GetObject" | "HeadObject" if versioned => "s3:GetObjectVersion",
        "DeleteObject" if versioned => "s3:DeleteObjectVersion",
        "GetObjectAttributes" if versioned => "s3:GetObjectVersion",
        "PutObjectTagging" if versioned => "s3:PutObjectVersionTagging",
        "GetObjectTagging" if versioned => "s3:GetObjectVersionTagging",
        "DeleteObjectTagging" if versioned => "s3:DeleteObjectVersionTagging",
        "GetObjectAcl" if versioned => "s3:GetObjectVersionAcl",
        "PutObjectAcl" if versioned => "s3:PutObjectVersionAcl",
        "PutBucketOwnershipControls" | "DeleteBucketOwnershipControls" => "s3:PutBucketOwnershipControls",
        "PutBucketTagging" | "DeleteBucketTagging" => "s3:PutBucketTagging",
        "ListBuckets" => "s3:ListAllMyBuckets",
        "ListObjects" | "ListObjectsV2" | "HeadBucket" => "s3:ListBucket",
        "HeadObject" | "GetObjectAttributes" => "s3:GetObject",
        "CreateMultipartUpload" | "UploadPart" | "UploadPartCopy" | "CompleteMultipartUpload" | "CopyObject" => {
            "s3:PutObject"
        }
        "DeleteObjects" => "s3:DeleteObject",
        "ListParts" => "s3:ListMultipartUploadParts",
        "ListMultipartUploads" => "s3:ListBucketMultipartUploads",
        "ListObjectVersions" => "s3:ListBucketVersions",
        "PutPublicAccessBlock" | "DeletePublicAccessBlock" => "s3:PutBucketPublicAccessBlock",
        "GetPublicAccessBlock" => "s3:GetBucketPublicAccessBlock",
        "PutObjectLockConfiguration" => "s3:PutBucketObjectLockConfiguration",
        "PutBucketLifecycleConfiguration" | "DeleteBucketLifecycle" => "s3:PutLifecycleConfiguration",
        "GetBucketLifecycleConfiguration" => "s3:GetLifecycleConfiguration",
        "GetObjectLockConfiguration" => "s3:GetBucketObjectLockConfiguration",
        "GetBucketReplication" => "s3:GetReplicationConfiguration",
        "PutBucketEncryption" | "DeleteBucketEncryption" => "s3:PutEncryptionConfiguration",
        "GetBucketEncryption" => "s3:GetEncryptionConfiguration",
        "PutBucketCors" | "DeleteBucketCors" => "s3:PutBucketCORS",
        "GetBucketCors" => "s3:GetBucketCORS",
        "GetBucketNotificationConfiguration" => "s3:GetBucketNotification",
        "GetBucketAccelerateConfiguration" => "s3:GetAccelerateConfiguration",
        "GetBucketAnalyticsConfiguration" | "ListBucketAnalyticsConfigurations" => "s3:GetAnalyticsConfiguration",
        "GetBucketInventoryConfiguration" | "ListBucketInventoryConfigurations" => "s3:GetInventoryConfiguration",
        "GetBucketMetricsConfiguration" | "ListBucketMetricsConfigurations" => "s3:GetMetricsConfiguration",
        "GetBucketIntelligentTieringConfiguration" | "ListBucketIntelligentTieringConfigurations" => {
            "s3:GetIntelligentTieringConfiguration"
        }
        other => return (format!("s3:{other}"), resource_arn(path)),
    };
    (action.to_owned(), resource_arn(path))
}

fn resource_arn(path: &S3Path) -> String {
    match path {
        // ListAllMyBuckets names no bucket. AWS's own examples grant it with
        // `"Resource": "arn:aws:s3:::*"` as well as `"*"`: both match this.
        S3Path::Root => "arn:aws:s3:::".to_owned(),
        S3Path::Bucket { bucket } => format!("arn:aws:s3:::{bucket}"),
        S3Path::Object { bucket, key } => format!("arn:aws:s3:::{bucket}/{key}"),
    }
}

/// A SigV4 presigned URL may live at most seven days; s3s checks the signature and expiry
/// but not this bound.
fn check_presign_expiry(uri: &http::Uri) -> crate::error::Result<()> {
    const MAX_EXPIRES: u64 = 7 * 24 * 60 * 60;
    let Some(query) = uri.query() else { return Ok(()) };
    let expires = form_urlencoded::parse(query.as_bytes()).find(|(name, _)| name == "X-Amz-Expires");
    match expires.map(|(_, value)| value.parse::<u64>()) {
        Some(Ok(seconds)) if seconds > MAX_EXPIRES => Err(S3Fault::AuthorizationQueryParametersError(
            "X-Amz-Expires must be less than a week (in seconds) that is 604800".to_owned(),
        )),
        _ => Ok(()),
    }
}

/// The operations on an existing object (a version): they offer `s3:ExistingObjectTag/<key>`,
/// and while the bucket's ACLs are enabled they are judged as the object's owner's resource
/// with its ACL ("objects owned by other accounts use ACLs for permissions"). Writing a new
/// object and deleting one stay the bucket owner's to judge.
const EXISTING_OBJECT_OPERATIONS: [&str; 12] = [
    "GetObject",
    "HeadObject",
    "GetObjectAttributes",
    "GetObjectAcl",
    "PutObjectAcl",
    "GetObjectTagging",
    "PutObjectTagging",
    "DeleteObjectTagging",
    "GetObjectRetention",
    "PutObjectRetention",
    "GetObjectLegalHold",
    "PutObjectLegalHold",
];

impl StoreAccess {
    /// `s3:ExistingObjectTag/<key>` for each tag of the object a request is on, read only
    /// for the operations that offer the key and when a policy in play reads it.
    async fn existing_tag_keys(
        &self,
        op: &str,
        path: &S3Path,
        version: Option<&str>,
        read: impl FnOnce() -> bool,
    ) -> crate::error::Result<Vec<(String, String)>> {
        let S3Path::Object { bucket, key } = path else {
            return Ok(Vec::new());
        };
        if !EXISTING_OBJECT_OPERATIONS.contains(&op) || !read() {
            return Ok(Vec::new());
        }
        let version = version.filter(|v| crate::versioning::check_version_id(Some(v)).is_ok());
        let tags = self.store.object_tags(bucket, key, version).await?.unwrap_or_default();
        Ok(tags
            .into_iter()
            .map(|tag| (format!("s3:ExistingObjectTag/{}", tag.key), tag.value))
            .collect())
    }

    /// Whose resource a request is on, and the resource policy it is judged by. For the
    /// operations on an existing object, while the bucket's ACLs are enabled, that is the
    /// object's owner and its grants beside the bucket policy; otherwise the bucket's owner
    /// and its policy (with its ACL's grants). `outsider`: the caller is not of the bucket
    /// owner's account (or is anonymous).
    async fn judged_by(
        &self,
        op: &str,
        bucket: &coffer_store::Bucket,
        path: &S3Path,
        version: Option<&str>,
        outsider: bool,
    ) -> crate::error::Result<(String, Option<Arc<coffer_auth::ResourcePolicy>>)> {
        let key = match path {
            S3Path::Object { key, .. } if bucket.acls_enabled() && EXISTING_OBJECT_OPERATIONS.contains(&op) => key,
            _ => {
                return Ok((
                    bucket.account_id.clone(),
                    self.authorizer.bucket_policy(bucket, outsider),
                ));
            }
        };
        // A version that does not exist is judged as the bucket owner's: the operation then
        // answers NoSuchKey to whoever may know.
        let access = self
            .store
            .object_access(
                bucket,
                key,
                version.filter(|v| crate::versioning::check_version_id(Some(v)).is_ok()),
            )
            .await?;
        Ok(match access {
            Some(access) => (
                access.owner.clone(),
                self.authorizer.object_policy(bucket, outsider, &access),
            ),
            None => (
                bucket.account_id.clone(),
                self.authorizer.bucket_policy(bucket, outsider),
            ),
        })
    }

    /// A request without credentials: only a bucket policy that allows anyone lets it through.
    async fn check_anonymous(
        &self,
        op: &str,
        action: &str,
        resource: &str,
        cx: &mut S3AccessContext<'_>,
    ) -> crate::error::Result<()> {
        let denied = || S3Fault::AccessDenied("Access Denied".to_owned());
        let Some(name) = cx.s3_path().get_bucket_name() else {
            return Err(denied());
        };
        // A bucket that does not exist is NoSuchBucket to anyone, as in S3; creating one
        // needs credentials.
        let missing = || match op {
            "CreateBucket" => denied(),
            _ => S3Fault::NoSuchBucket,
        };
        let bucket = self.store.bucket(name).await?.ok_or_else(missing)?;
        if let Some(log) = cx.extensions_mut().get::<RequestLog>() {
            log.set_owner(&bucket);
        }
        let version = version_id(cx.uri());
        let (owner, policy) = self
            .judged_by(op, &bucket, cx.s3_path(), version.as_deref(), true)
            .await?;
        let policy = policy.ok_or_else(denied)?;
        // Anonymous callers are judged on the same request keys as signed ones.
        let peer = cx.extensions_mut().get::<coffer_auth::PeerAddr>().cloned();
        let form = cx.extensions_mut().get::<crate::FormUpload>().cloned();
        let facts = RequestFacts::new(cx.headers(), peer.as_ref(), None);
        let mut tag_keys = request_tag_keys(cx.headers());
        let reads = || policy.reads_key_prefix("s3:existingobjecttag/");
        tag_keys.extend(
            self.existing_tag_keys(op, cx.s3_path(), version.as_deref(), reads)
                .await?,
        );
        let keys: Vec<(&str, String)> = listing_keys(op, cx.uri())
            .into_iter()
            .chain(s3_request_keys(cx, form.as_ref()))
            .chain(tag_keys.iter().map(|(k, v)| (k.as_str(), v.clone())))
            .collect();
        let request = Request {
            action,
            resource,
            resource_account: &owner,
            resource_policy: Some(&policy),
            keys,
            facts: Some(&facts),
            values: Vec::new(),
            trust: false,
        };
        let Err(refusal) = authorize_anonymous(&request) else {
            return Ok(());
        };
        let may_list = || {
            let arn = format!("arn:aws:s3:::{}", bucket.name);
            let policy = self.authorizer.bucket_policy(&bucket, true);
            let list = Request {
                action: "s3:ListBucket",
                resource: &arn,
                resource_account: &bucket.account_id,
                resource_policy: policy.as_deref(),
                facts: Some(&facts),
                ..Request::default()
            };
            authorize_anonymous(&list).is_ok()
        };
        match self
            .missing(op, cx.s3_path(), version.as_deref(), &refusal, may_list)
            .await?
        {
            Some(missing) => Err(missing),
            None => Err(denied()),
        }
    }

    /// A read refused (implicitly) of an object that is not there: S3 tells a caller who may
    /// list the bucket that it is missing (GetObject and HeadObject, "Permissions"), as the
    /// operation itself would.
    async fn missing(
        &self,
        op: &str,
        path: &S3Path,
        version: Option<&str>,
        refusal: &coffer_auth::Denied,
        may_list: impl FnOnce() -> bool,
    ) -> crate::error::Result<Option<S3Fault>> {
        let S3Path::Object { bucket, key } = path else {
            return Ok(None);
        };
        if refusal.explicit || !matches!(op, "GetObject" | "HeadObject") {
            return Ok(None);
        }
        let Ok(version) = crate::versioning::check_version_id(version) else {
            return Ok(None);
        };
        let found = self.store.object_version(bucket, key, version).await?;
        if found.is_some_and(|object| !object.is_delete_marker) || !may_list() {
            return Ok(None);
        }
        Ok(Some(match version {
            Some(_) => S3Fault::NoSuchVersion,
            None => S3Fault::NoSuchKey,
        }))
    }
}

#[async_trait::async_trait]
impl S3Access for StoreAccess {
    async fn check(&self, cx: &mut S3AccessContext<'_>) -> S3Result<()> {
        self.authorize(cx).await?;
        if let Some(log) = cx.extensions_mut().get::<RequestLog>() {
            log.stage.store(AUTHORIZED, Ordering::Relaxed);
        }
        Ok(())
    }
}

impl StoreAccess {
    /// Who is asking, and whether they may: s3s's access hook, run once the signature is
    /// checked and before the request's body is read.
    async fn authorize(&self, cx: &mut S3AccessContext<'_>) -> S3Result<()> {
        let op = cx.s3_op().name().to_owned();
        let op = op.as_str();
        let version = version_id(cx.uri());
        let (action, resource) = action_and_resource(op, cx.s3_path(), version.is_some());
        let log = cx.extensions_mut().get::<RequestLog>().cloned();
        check_presign_expiry(cx.uri())?;
        let form_region = cx
            .extensions_mut()
            .get::<crate::FormUpload>()
            .and_then(|form| form.region.clone());
        let region = coffer_auth::sigv4::credential_scope(cx.headers(), cx.uri())
            .map(|scope| scope.region)
            .or(form_region)
            .unwrap_or_else(|| "us-east-1".to_owned());
        let in_process = cx.extensions_mut().get::<coffer_auth::InProcessCaller>().cloned();
        let session = cx.extensions_mut().get::<crate::auth::SessionPrincipal>().cloned();
        let principal = match (cx.credentials(), in_process) {
            (Some(credentials), _) if ids::is_session_key_id(&credentials.access_key) => {
                // s3s verified the signature with the secret of the token the front door
                // opened; that token's principal is the caller.
                match session {
                    Some(SessionPrincipal(principal)) if principal.access_key_id == credentials.access_key => principal,
                    _ => return Err(S3Fault::InvalidAccessKeyId.into()),
                }
            }
            (Some(credentials), _) => {
                let credential = self
                    .store
                    .credential(&credentials.access_key)
                    .await
                    .map_err(S3Fault::from)?
                    .ok_or_else(|| S3Fault::InvalidAccessKeyId)?;
                self.store.record_key_use(&credential.access_key_id, "s3", &region);
                Principal::from_credential(&credential)
            }
            // The console, acting for its signed-in principal.
            (None, Some(caller)) => caller.0,
            (None, None) => {
                if let Some(log) = &log {
                    log.set(None, op, cx.s3_path());
                }
                return Ok(self.check_anonymous(op, &action, &resource, cx).await?);
            }
        };
        if let Some(log) = &log {
            log.set(Some(principal.clone()), op, cx.s3_path());
        }
        // A bucket's resources belong to its owner; a bucket that does not exist (yet) is
        // judged as the caller's own, so CreateBucket can create it and others say NoSuchBucket.
        // CreateBucket is judged against the caller: a name taken by another account is
        // `BucketAlreadyExists`, not a denial.
        let bucket = match cx.s3_path().get_bucket_name() {
            Some(name) if op != "CreateBucket" => self.store.bucket(name).await.map_err(S3Fault::from)?,
            _ => None,
        };
        if let (Some(log), Some(bucket)) = (&log, &bucket) {
            log.set_owner(bucket);
        }
        let (owner, resource_policy) = match &bucket {
            Some(bucket) => {
                let outsider = bucket.account_id != principal.account_id;
                self.judged_by(op, bucket, cx.s3_path(), version.as_deref(), outsider)
                    .await?
            }
            None => (principal.account_id.clone(), None),
        };
        let grants = self
            .authorizer
            .grants(&self.store, &principal)
            .await
            .map_err(S3Fault::internal)?;
        let mut keys = listing_keys(op, cx.uri());
        if matches!(op, "ListObjects" | "ListObjectsV2" | "ListObjectVersions")
            && !keys.iter().any(|(k, _)| *k == "s3:prefix")
        {
            // A listing without a prefix lists from the root: `s3:prefix` is "".
            keys.push(("s3:prefix", String::new()));
        }
        let form = cx.extensions_mut().get::<crate::FormUpload>().cloned();
        keys.extend(s3_request_keys(cx, form.as_ref()));
        if let Some(version) = &version {
            keys.push(("s3:VersionId", version.clone()));
        }
        let peer = cx.extensions_mut().get::<coffer_auth::PeerAddr>().cloned();
        let facts = RequestFacts::new(cx.headers(), peer.as_ref(), Some(region.clone()));
        let caller = Caller::new(principal, grants, facts, self.authorizer.clone());
        let mut tag_keys = request_tag_keys(cx.headers());
        let reads = || {
            const PREFIX: &str = "s3:existingobjecttag/";
            caller.reads_key_prefix(PREFIX) || resource_policy.as_ref().is_some_and(|p| p.reads_key_prefix(PREFIX))
        };
        tag_keys.extend(
            self.existing_tag_keys(op, cx.s3_path(), version.as_deref(), reads)
                .await?,
        );
        let request = Request {
            action: &action,
            resource: &resource,
            resource_account: &owner,
            resource_policy: resource_policy.as_deref(),
            keys: keys
                .iter()
                .map(|(k, v)| (*k, v.clone()))
                .chain(tag_keys.iter().map(|(k, v)| (k.as_str(), v.clone())))
                .collect(),
            ..Request::default()
        };
        // DeleteObjects is authorized key by key (s3:DeleteObject on each object), in the
        // operation: a policy on `bucket/*` must allow it, and a denied key is a per-key error.
        if op != "DeleteObjects" {
            if let Err(refusal) = caller.may_on_bucket(&request) {
                let may_list = || {
                    bucket
                        .as_ref()
                        .is_some_and(|b| caller.may_in_bucket("s3:ListBucket", b, None).is_ok())
                };
                return Err(
                    match self
                        .missing(op, cx.s3_path(), version.as_deref(), &refusal, may_list)
                        .await?
                    {
                        Some(missing) => missing.into(),
                        None => S3Fault::from(refusal).into(),
                    },
                );
            }
        }
        // The operation asks the same caller about what this hook cannot see: a copy source,
        // each key of DeleteObjects.
        cx.extensions_mut().insert(caller);
        Ok(())
    }
}
