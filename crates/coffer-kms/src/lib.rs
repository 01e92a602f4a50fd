//! KMS's JSON API (`X-Amz-Target: TrentService.<Operation>`, `application/x-amz-json-1.1`)
//! for Coffer's key ring: the keys SSE-KMS seals objects' data keys under. An account's
//! administrators make and manage keys with `aws kms create-key` and the like; S3 uses them.
//!
//! [`KmsApi::handle`] authenticates the caller (SigV4 scoped to `kms`), dispatches on the
//! target to one function per operation ([`keys`]), each authorizing its own action on its
//! key's ARN, and writes the answer or KMS's error document. Keys have no key policies:
//! every key behaves as under KMS's default key policy, where the account's own IAM policies
//! decide and no other account may use it.

mod error;
mod keys;

use std::time::Instant;

use coffer_auth::{Authorizer, Principal, authenticate};
use coffer_store::{Store, ids};
use http::request::Parts;
use http::{HeaderValue, Response, StatusCode};

pub use error::KmsError;
pub use keys::is_kms_operation;

/// The largest request body KMS takes (its largest, a key policy, is 32 KiB).
pub const MAX_KMS_BODY: usize = 64 * 1024;

/// The prefix of a KMS request's `X-Amz-Target`.
const TARGET_PREFIX: &str = "TrentService.";

/// KMS's answer to a body over [`MAX_KMS_BODY`].
pub fn body_too_large() -> Response<String> {
    let err = KmsError::Validation(format!("The request body must be at most {MAX_KMS_BODY} bytes"));
    json_response(err.status(), &err.document(), &ids::request_id())
}

/// Whether a request is for KMS: its `X-Amz-Target` names KMS's service.
pub fn is_kms_request(parts: &Parts) -> bool {
    parts
        .headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|target| target.starts_with(TARGET_PREFIX))
}

#[derive(Clone)]
pub struct KmsApi {
    store: Store,
    authorizer: Authorizer,
}

/// One request being served: who asks, with their policies, in which region, with what.
pub(crate) struct Call<'a> {
    store: &'a Store,
    caller: coffer_auth::Caller,
    region: String,
    input: serde_json::Value,
}

impl Call<'_> {
    fn principal(&self) -> &Principal {
        self.caller.principal()
    }

    fn account(&self) -> &str {
        &self.principal().account_id
    }

    /// Authorizes `action` on `resource` of `resource_account`, with `kms:CallerAccount`.
    fn authorize(&self, action: &str, resource: &str, resource_account: &str) -> Result<(), KmsError> {
        self.caller
            .may(&coffer_auth::Request {
                action,
                resource,
                resource_account,
                keys: vec![("kms:CallerAccount", self.account().to_owned())],
                ..coffer_auth::Request::default()
            })
            .map_err(|_| {
                KmsError::AccessDenied(format!(
                    "User: {} is not authorized to perform: {action} on resource: {resource}",
                    self.principal().arn()
                ))
            })
    }

    /// A string parameter.
    fn string(&self, name: &str) -> Result<Option<&str>, KmsError> {
        match self.input.get(name) {
            None | Some(serde_json::Value::Null) => Ok(None),
            Some(serde_json::Value::String(text)) => Ok(Some(text)),
            Some(_) => Err(KmsError::Validation(format!("{name} must be a string"))),
        }
    }

    fn required(&self, name: &str) -> Result<&str, KmsError> {
        self.string(name)?
            .ok_or_else(|| KmsError::Validation(format!("1 validation error detected: Value null at '{name}' failed to satisfy constraint: Member must not be null")))
    }

    fn integer(&self, name: &str) -> Result<Option<i64>, KmsError> {
        match self.input.get(name) {
            None | Some(serde_json::Value::Null) => Ok(None),
            Some(value) => value
                .as_i64()
                .map(Some)
                .ok_or_else(|| KmsError::Validation(format!("{name} must be an integer"))),
        }
    }
}

impl KmsApi {
    pub fn new(store: Store, authorizer: Authorizer) -> KmsApi {
        KmsApi { store, authorizer }
    }

    /// Serves one KMS request whose body is `body`.
    pub async fn handle(&self, parts: &Parts, body: &[u8]) -> Response<String> {
        let started = Instant::now();
        let request_id = ids::request_id();
        let target = parts
            .headers
            .get("x-amz-target")
            .and_then(|v| v.to_str().ok())
            .and_then(|t| t.strip_prefix(TARGET_PREFIX))
            .unwrap_or("")
            .to_owned();
        let mut caller_arn = "-".to_owned();
        let result = self.serve(parts, body, &target, &mut caller_arn).await;
        let response = match result {
            Ok(output) => json_response(StatusCode::OK, &output, &request_id),
            Err(err) => {
                if err.status() == StatusCode::INTERNAL_SERVER_ERROR {
                    tracing::error!(%err, %request_id, "kms request failed");
                }
                json_response(err.status(), &err.document(), &request_id)
            }
        };
        tracing::info!(
            principal = %caller_arn,
            operation = %format_args!("kms:{}", if target.is_empty() { "-" } else { &target }),
            status = response.status().as_u16(),
            micros = started.elapsed().as_micros() as u64,
            %request_id,
            "kms request"
        );
        response
    }

    async fn serve(
        &self,
        parts: &Parts,
        body: &[u8],
        target: &str,
        caller_arn: &mut String,
    ) -> Result<serde_json::Value, KmsError> {
        let (principal, scope) = authenticate(&self.store, parts, body).await?;
        if scope.service != "kms" {
            return Err(KmsError::InvalidSignature(
                "Credential should be scoped to correct service: 'kms'.".to_owned(),
            ));
        }
        *caller_arn = principal.arn();
        // The region names keys in ARNs: one that could not be read back is refused.
        if scope.region.is_empty()
            || !scope
                .region
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        {
            return Err(KmsError::InvalidSignature(format!(
                "Credential should be scoped to a valid region, not '{}'.",
                scope.region
            )));
        }
        let input: serde_json::Value = match body {
            [] => serde_json::Value::Object(Default::default()),
            body => serde_json::from_slice(body).map_err(|_| KmsError::Serialization)?,
        };
        if !input.is_object() {
            return Err(KmsError::Serialization);
        }
        let facts =
            coffer_auth::RequestFacts::from_request(&parts.headers, &parts.extensions, Some(scope.region.clone()));
        let grants = self.authorizer.grants(&self.store, &principal).await?;
        let call = Call {
            store: &self.store,
            caller: coffer_auth::Caller::new(principal, grants, facts, self.authorizer.clone()),
            region: scope.region,
            input,
        };
        keys::dispatch(target, &call).await
    }
}

fn json_response(status: StatusCode, document: &serde_json::Value, request_id: &str) -> Response<String> {
    let mut response = Response::new(document.to_string());
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/x-amz-json-1.1"),
    );
    if let Ok(id) = HeaderValue::from_str(request_id) {
        headers.insert("x-amzn-requestid", id);
    }
    response
}
