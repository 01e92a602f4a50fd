//! The S3 API as Coffer's front ends hold it: the front door hands it signed HTTP requests
//! ([`S3Api::service`]); the console calls it as its signed-in principal
//! ([`S3Api::call_as`], the twin of `QueryApi::call_as`), through the same routing,
//! authorization and operations, so the console can do exactly what the API allows.

use coffer_auth::{InProcessCaller, PeerAddr, Principal};
use coffer_store::Store;

pub use s3s::Body;

use crate::Options;

/// Cheap to clone.
#[derive(Clone, Debug)]
pub struct S3Api {
    service: s3s::service::S3Service,
    pub(crate) store: Store,
    authorizer: coffer_auth::Authorizer,
    audit: coffer_audit::Audit,
    access_logs: crate::access_log::AccessLogs,
}

/// Why a presigned URL could not be made.
#[derive(Debug, PartialEq, Eq)]
pub enum PresignError {
    /// The principal has no active access key to sign with.
    NoActiveKey,
    Failed(String),
}

impl S3Api {
    pub fn new(store: Store, authorizer: coffer_auth::Authorizer, options: &Options) -> S3Api {
        S3Api {
            service: crate::service(store.clone(), authorizer.clone(), options),
            store,
            authorizer,
            audit: options.audit.clone(),
            access_logs: crate::access_log::AccessLogs::new(options.access_log_roll),
        }
    }

    /// Adds the access-log record of a request `logged` (its bucket logs) to its batch.
    pub fn log_access(
        &self,
        logged: &crate::Logged,
        line: &crate::access_log::RequestLine,
        status: http::StatusCode,
        headers: &http::HeaderMap,
        error_code: Option<&str>,
        (request_id, host_id): (&str, &str),
    ) {
        let (Some(bucket), Some((owner, region)), Some(logging)) = (&logged.bucket, &logged.owner, &logged.access_log)
        else {
            return;
        };
        let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
        // A HEAD's error has no body to name it: S3's log gives the code all the same.
        let error_code = error_code.or(match (status.as_u16(), logged.key.is_some()) {
            (403, _) => Some("AccessDenied"),
            (404, true) => Some("NoSuchKey"),
            (404, false) => Some("NoSuchBucket"),
            _ => None,
        });
        let ending = crate::access_log::Ending {
            status: status.as_u16(),
            error_code: error_code.filter(|_| !status.is_success()),
            // A HEAD answers headers only.
            bytes_sent: header("content-length")
                .and_then(|v| v.parse().ok())
                .filter(|_| logged.operation != "HeadObject" && logged.operation != "HeadBucket"),
            // A range's answer names the whole object's size after its `/`.
            object_size: header("content-range")
                .and_then(|range| range.rsplit_once('/'))
                .and_then(|(_, total)| total.parse().ok())
                .or_else(|| header("content-length").and_then(|v| v.parse().ok())),
            version_id: header("x-amz-version-id"),
            request_id,
            host_id,
        };
        let canonical = crate::canonical_user_id(owner);
        let record = crate::access_log::record(logged, &canonical, line, &ending);
        let source = crate::access_log::Source {
            bucket: bucket.clone(),
            account_id: owner.clone(),
            region: region.clone(),
        };
        self.access_logs.add(source.clone(), logging, record);
        for key in &logged.batch_deleted {
            let line = crate::access_log::batch_delete_record(logged, &canonical, line, key, &ending);
            self.access_logs.add(source.clone(), logging, line);
        }
    }

    /// What the access log knows of a request refused before authorization (no principal,
    /// no operation): its bucket, when that bucket exists and logs, and its key.
    pub async fn unauthorized_logged(&self, line: &crate::access_log::RequestLine) -> Option<crate::Logged> {
        let (bucket, key) = line.bucket_and_key()?;
        let found = self.store.bucket(&bucket).await.ok().flatten()?;
        let logging = found.logging.clone()?;
        Some(crate::Logged {
            principal: None,
            operation: "-".to_owned(),
            bucket: Some(bucket),
            key,
            owner: Some((found.account_id, found.region)),
            access_log: Some(logging),
            batch_deleted: Vec::new(),
        })
    }

    /// Server access-log records waiting for delivery.
    pub fn access_logs(&self) -> &crate::access_log::AccessLogs {
        &self.access_logs
    }

    /// Delivers the access-log batches that have waited their roll time (`all`: every one,
    /// at shutdown) into their target buckets. Best effort, as S3's: a batch whose bucket
    /// turned logging off, whose target is gone or does not permit delivery is dropped, and
    /// logged.
    pub async fn deliver_access_logs(&self, all: bool) -> usize {
        let mut delivered = 0;
        for batch in self.access_logs.due(all) {
            match self.deliver_access_batch(&batch).await {
                Ok(true) => delivered += 1,
                Ok(false) => {}
                Err(err) => {
                    tracing::warn!(bucket = %batch.source.bucket, %err, "an access-log batch was not delivered")
                }
            }
        }
        delivered
    }

    async fn deliver_access_batch(&self, batch: &crate::access_log::DueBatch) -> Result<bool, String> {
        let (source, logging) = (&batch.source, &batch.logging);
        let target = self
            .store
            .bucket(&logging.target_bucket)
            .await
            .map_err(|e| e.to_string())?
            .ok_or_else(|| format!("the target bucket {} does not exist", logging.target_bucket))?;
        // A target deleted and made again by someone else is not the one configured.
        if target.account_id != source.account_id || target.region != source.region {
            return Err(format!(
                "the target bucket {} is no longer the source bucket owner's",
                target.name
            ));
        }
        let now = time::OffsetDateTime::now_utc();
        let key = crate::access_log::log_key(logging, source, batch.first_event, now);
        if !crate::access_log::delivery_allowed(&target, &key, source) {
            return Err(format!(
                "the policy of {} does not allow {} to put {key}",
                target.name,
                crate::access_log::LOGGING_SERVICE
            ));
        }
        let mut body = batch.lines.join("\n");
        body.push('\n');
        let path = percent_encoding::utf8_percent_encode(&key, crate::access_log::KEY_ESCAPES);
        let mut request = http::Request::put(format!("/{}/{path}", target.name))
            .header(http::header::HOST, "127.0.0.1")
            .header(http::header::CONTENT_TYPE, "text/plain")
            .header(http::header::CONTENT_LENGTH, body.len());
        // One header per permission, its grantees comma-separated.
        let mut grants: std::collections::BTreeMap<&str, Vec<String>> = std::collections::BTreeMap::new();
        for grant in &logging.target_grants {
            let (name, value) = crate::acl::grant_header(grant);
            grants.entry(name).or_default().push(value);
        }
        for (name, values) in grants {
            request = request.header(name, values.join(", "));
        }
        let request = request.body(Body::from(body)).map_err(|e| e.to_string())?;
        // Written as the target bucket's owner, which owns its log objects.
        let owner = Principal {
            account_id: target.account_id.clone(),
            identity: coffer_auth::Identity::Root,
            access_key_id: String::new(),
            session: None,
        };
        let response = self.call_unrecorded(&owner, request).await;
        match response.status().is_success() {
            true => Ok(true),
            false => Err(format!("putting {key} answered {}", response.status())),
        }
    }

    /// Whether calls are recorded (then the front door summarises each request for it).
    pub fn audits(&self) -> bool {
        self.audit.is_on()
    }

    /// Records an S3 call in the audit trail, if it is one the trail records, and returns its
    /// answer (an error's body read for its code). `log` is the request's.
    pub async fn audit_call<B>(
        &self,
        log: &crate::RequestLog,
        summary: &crate::audit::CallSummary,
        response: http::Response<B>,
        ids: Option<(&str, &str)>,
        rebuild: impl Fn(bytes::Bytes) -> B,
        console: bool,
    ) -> (http::Response<B>, Option<crate::Logged>)
    where
        B: http_body::Body<Data = bytes::Bytes>,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let Some(logged) = log.take() else {
            return (response, None);
        };
        let wanted = self.audit.is_on() && (!crate::audit::is_data_event(&logged) || self.audit.records_data_events());
        if !wanted {
            return (response, Some(logged));
        }
        let status = response.status().as_u16();
        let bytes_out = response
            .headers()
            .get(http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse().ok());
        let (response, error) = crate::audit::read_error(response, &rebuild).await;
        let outcome = crate::audit::Outcome {
            status,
            error,
            request_id: ids.map(|(id, _)| id),
            host_id: ids.map(|(_, host)| host),
            bytes_out,
            console,
        };
        match self.audit.record(crate::audit::event(&logged, summary, outcome)).await {
            Ok(()) => (response, Some(logged)),
            // A call the trail could not record is not acknowledged.
            Err(coffer_audit::NotRecorded) => {
                let failed = crate::error::error_response(crate::error::S3Fault::internal("audit record not written"));
                (failed.map(|text| rebuild(bytes::Bytes::from(text))), Some(logged))
            }
        }
    }

    /// The service for signed requests from the wire.
    pub fn service(&self) -> s3s::service::S3Service {
        self.service.clone()
    }

    /// Sends `request` as `principal` (unsigned: the principal travels as an extension that
    /// only code can set), from the client at `peer` (for `aws:SourceIp`). The request's
    /// `Host` should be an address, which no `--domain` can read as a bucket.
    pub async fn call_as(
        &self,
        principal: &Principal,
        peer: Option<PeerAddr>,
        mut request: http::Request<Body>,
    ) -> http::Response<Body> {
        request.extensions_mut().insert(InProcessCaller(principal.clone()));
        if let Some(peer) = peer {
            request.extensions_mut().insert(peer);
        }
        let log = crate::RequestLog::default();
        request.extensions_mut().insert(log.clone());
        let (parts, body) = request.into_parts();
        let payload = parts.headers.get("x-amz-content-sha256").cloned();
        let summary = crate::audit::CallSummary::of(&parts);
        let line = crate::access_log::RequestLine::of(&parts);
        let response = match self.service.call(http::Request::from_parts(parts, body)).await {
            Ok(response) if log.body_unread(response.status()) => {
                crate::error::error_response(crate::error::S3Fault::unreadable_body(payload.as_ref())).map(Body::from)
            }
            Ok(response) => response,
            Err(err) => {
                tracing::error!(?err, "an in-process S3 request failed");
                crate::error::error_response(crate::error::S3Fault::internal("in-process request failed"))
                    .map(Body::from)
            }
        };
        let (response, logged) = self.audit_call(&log, &summary, response, None, Body::from, true).await;
        // The console's requests are in the bucket's access log, as the AWS console's are.
        if let Some(logged) = logged.filter(|logged| logged.access_log.is_some()) {
            let request_id = format!("{:016X}", rand::random::<u64>());
            let host_id = hex::encode(rand::random::<[u8; 32]>());
            self.log_access(
                &logged,
                &line,
                response.status(),
                response.headers(),
                None,
                (&request_id, &host_id),
            );
        }
        response
    }

    /// Sends `request` as `principal`, as [`S3Api::call_as`] does, without an audit record:
    /// for the audit trail's own delivery, which would otherwise record itself forever.
    pub async fn call_unrecorded(
        &self,
        principal: &Principal,
        mut request: http::Request<Body>,
    ) -> http::Response<Body> {
        request.extensions_mut().insert(InProcessCaller(principal.clone()));
        // Never on the network: a policy that denies insecure transport does not refuse it.
        request.extensions_mut().insert(PeerAddr {
            addr: std::net::SocketAddr::from(([127, 0, 0, 1], 0)),
            proxies: Default::default(),
            tls: true,
        });
        match self.service.call(request).await {
            Ok(response) => response,
            Err(err) => {
                tracing::error!(?err, "an in-process S3 request failed");
                crate::error::error_response(crate::error::S3Fault::internal("in-process request failed"))
                    .map(Body::from)
            }
        }
    }

    /// Which of `actions` `principal` may do in `bucket`, on objects under `prefix` when one
    /// is given (else on the bucket): its policies and the bucket's policy decide, as for a
    /// request. For a page that shows controls it may not use as disabled; advisory only (an
    /// object's own key and the request's condition keys are not known yet). A bucket that
    /// cannot be read leaves every action allowed: the operation will say.
    pub async fn permits(
        &self,
        principal: &Principal,
        facts: &coffer_auth::RequestFacts,
        bucket: &str,
        prefix: Option<&str>,
        actions: &[&'static str],
    ) -> Vec<(&'static str, bool)> {
        let (Ok(Some(bucket)), Ok(grants)) = (
            self.store.bucket(bucket).await,
            self.authorizer.grants(&self.store, principal).await,
        ) else {
            return actions.iter().map(|action| (*action, true)).collect();
        };
        let caller = coffer_auth::Caller::new(principal.clone(), grants, facts.clone(), self.authorizer.clone());
        actions
            .iter()
            .map(|action| (*action, caller.may_in_bucket(action, &bucket, prefix).is_ok()))
            .collect()
    }

    /// A presigned GET of `url` (`http://host/bucket/key`, encoded once) signed with
    /// `principal`'s first active access key, valid for `expires`.
    pub async fn presigned_get(
        &self,
        principal: &Principal,
        url: &str,
        expires: std::time::Duration,
    ) -> Result<String, PresignError> {
        let owner = match &principal.identity {
            coffer_auth::Identity::Root => coffer_store::KeyOwnerName::Root,
            coffer_auth::Identity::User { name, .. } => coffer_store::KeyOwnerName::User(name),
            // A role session has no access key of its own to sign with.
            coffer_auth::Identity::AssumedRole { .. } | coffer_auth::Identity::FederatedUser { .. } => {
                return Err(PresignError::NoActiveKey);
            }
        };
        let credential = self
            .store
            .signing_credential(&principal.account_id, owner)
            .await
            .map_err(|e| PresignError::Failed(e.to_string()))?
            .ok_or(PresignError::NoActiveKey)?;
        coffer_auth::presign::presigned_get(
            &credential.access_key_id,
            &credential.secret_access_key,
            url,
            expires,
            std::time::SystemTime::now(),
        )
        .map_err(PresignError::Failed)
    }
}
