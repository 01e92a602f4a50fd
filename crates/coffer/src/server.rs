//! The front door: one listener for every service. A request naming KMS's target
//! (`X-Amz-Target: TrentService.*`) goes to the KMS API; one whose SigV4 credential scope
//! names `iam` or `sts` (or a form POST to `/` not scoped to `s3`) to the Query APIs;
//! everything else to S3 (s3s, and the front door's own browser form uploads). `GET /_coffer/health` answers without authentication; no bucket
//! can be named `_coffer`, so it shadows nothing.

use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use coffer_auth::signed_request::Refusal;
use coffer_iam::{MAX_QUERY_BODY, QueryApi, Service};
use coffer_s3::error::S3Fault;
use http::StatusCode;
use http::request::Parts;
use http_body_util::{BodyExt, Limited};
use tower::ServiceExt;

pub struct AppState {
    pub query: QueryApi,
    /// KMS's JSON API for the key ring SSE-KMS uses.
    pub kms: coffer_kms::KmsApi,
    /// Fed by every request's log line; served at /_coffer/metrics.
    pub metrics: crate::metrics::Metrics,
    pub s3: s3s::service::S3Service,
    /// The same S3 API, for what happens outside s3s: CORS preflights and headers.
    pub s3_api: coffer_s3::S3Api,
    /// `<bucket>.<domain>` hosts, when `--domain` is set.
    pub s3_host: Option<coffer_s3::CofferHost>,
    /// Opens S3 requests' session tokens.
    pub sealer: coffer_store::Sealer,
}

pub fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/_coffer/health", get(health))
        .route("/_coffer/metrics", get(metrics))
        .fallback(dispatch)
        .with_state(state)
}

/// `200 ok` while the metadata database answers; `503` naming it when it does not, so an
/// orchestrator or balancer stops sending requests this node cannot serve.
async fn health(State(state): State<Arc<AppState>>) -> Response {
    if state.query.database_reachable().await {
        "ok\n".into_response()
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "database unreachable\n").into_response()
    }
}

/// Counts a Query or KMS answer (a `String` body: its length is what was answered).
fn observe(
    state: &AppState,
    service: &'static str,
    operation: &str,
    answer: &http::Response<String>,
    started: Instant,
) {
    state.metrics.observe(
        service,
        operation,
        answer.status().as_u16(),
        started.elapsed().as_secs_f64(),
        Some(answer.body().len() as u64),
    );
    if answer.status().is_client_error() {
        let error = match service {
            "kms" => serde_json::from_str::<serde_json::Value>(answer.body()).ok().map(|v| {
                let text = |name: &str| v[name].as_str().unwrap_or("").to_owned();
                (text("__type"), text("message"))
            }),
            _ => crate::request_id::error_of(answer.body()),
        };
        if let Some((code, message)) = error {
            state.metrics.observe_error(service, &code, &message);
        }
    }
}

/// Prometheus text for the metrics' bearer token (see [`crate::metrics`]).
async fn metrics(State(state): State<Arc<AppState>>, headers: http::HeaderMap) -> Response {
    let authorization = headers.get(http::header::AUTHORIZATION).and_then(|v| v.to_str().ok());
    let (status, text) = state.metrics.answer(authorization).await;
    (
        status,
        [(http::header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")],
        text,
    )
        .into_response()
}

/// A form `POST /` is a Query API call even when its signature names no usable scope (it
/// then gets the Query API's authentication error); S3 has no such request.
fn is_form_post_to_root(parts: &Parts) -> bool {
    parts.method == http::Method::POST
        && parts.uri.path() == "/"
        && parts
            .headers
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"))
}

/// The most bytes of headers a request may carry: S3 allows 8 KiB; long presigned queries
/// and keys are in the URI, not counted here.
const MAX_HEADER_SECTION: usize = 16 * 1024;

fn header_section_len(parts: &Parts) -> usize {
    parts
        .headers
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len() + 4)
        .sum()
}

/// S3's answer to a header section over the limit (hyper's own buffer bound is looser).
fn header_section_too_large() -> Response {
    coffer_s3::error::error_response(S3Fault::RequestHeaderSectionTooLarge).into_response()
}

/// An S3 POST other than a browser form carries XML (DeleteObjects, CompleteMultipartUpload);
/// one declaring more than s3s's XML limit is refused here: s3s 0.14 reports its own limit
/// as an InternalError.
fn oversized_xml_post(parts: &Parts) -> bool {
    let is_form = parts
        .headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.to_ascii_lowercase().starts_with("multipart/form-data"));
    let declared = parts
        .headers
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    parts.method == http::Method::POST && !is_form && declared.is_some_and(|len| len > coffer_s3::MAX_XML_BODY)
}

async fn dispatch(State(state): State<Arc<AppState>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    if header_section_len(&parts) > MAX_HEADER_SECTION {
        return header_section_too_large();
    }
    if coffer_kms::is_kms_request(&parts) {
        let body = match Limited::new(body, coffer_kms::MAX_KMS_BODY).collect().await {
            Ok(collected) => collected.to_bytes(),
            Err(err) if err.is::<http_body_util::LengthLimitError>() => {
                return coffer_kms::body_too_large().into_response();
            }
            Err(_) => return StatusCode::REQUEST_TIMEOUT.into_response(),
        };
        let started = Instant::now();
        let answer = state.kms.handle(&parts, &body).await;
        // The target, unless KMS did not know it (no label value a client can invent).
        let target = parts
            .headers
            .get("x-amz-target")
            .and_then(|v| v.to_str().ok())
            .and_then(|t| t.split_once('.'))
            .map_or("-", |(_, operation)| operation);
        let operation = if coffer_kms::is_kms_operation(target) {
            target
        } else {
            "-"
        };
        observe(&state, "kms", operation, &answer, started);
        return answer.into_response();
    }
    let scope = coffer_auth::sigv4::credential_scope(&parts.headers, &parts.uri);
    let service = scope.as_ref().and_then(|s| Service::from_scope(&s.service));
    let s3_scope = scope.as_ref().is_some_and(|s| s.service == "s3");
    if service.is_some() || (!s3_scope && is_form_post_to_root(&parts)) {
        let body = match Limited::new(body, MAX_QUERY_BODY).collect().await {
            Ok(collected) => collected.to_bytes(),
            Err(err) if err.is::<http_body_util::LengthLimitError>() => {
                return state.query.body_too_large(service).into_response();
            }
            // Too slow (the listener's pace) or cut off: the client is not listening.
            Err(_) => return StatusCode::REQUEST_TIMEOUT.into_response(),
        };
        let started = Instant::now();
        let action = form_urlencoded::parse(parts.uri.query().unwrap_or("").as_bytes())
            .chain(form_urlencoded::parse(&body))
            .find(|(name, _)| name == "Action")
            .map(|(_, value)| value.into_owned())
            .filter(|action| coffer_iam::is_aws_operation(action))
            .unwrap_or_else(|| "-".to_owned());
        // Run to the end even if the client goes away: a change that was made is recorded in
        // the audit trail, whoever is still listening.
        let query = state.query.clone();
        let answer = tokio::spawn(async move { query.handle(service, &parts, &body).await })
            .await
            .unwrap_or_else(|_| {
                let mut failed = http::Response::new(String::new());
                *failed.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
                failed
            });
        let label = match service {
            Some(Service::Iam) => "iam",
            Some(Service::Sts) => "sts",
            None => "query",
        };
        observe(&state, label, &action, &answer, started);
        return answer.into_response();
    }
    let ids = crate::request_id::S3RequestId::new();
    let resource = parts.uri.path().to_owned();
    let head = parts.method == http::Method::HEAD;
    // CORS: a preflight is answered from the bucket's rules without credentials, and every
    // answer to a cross-origin request carries what the rules allow (errors too).
    let host = parts.headers.get(http::header::HOST).and_then(|h| h.to_str().ok());
    let bucket = coffer_s3::bucket_of(&parts.uri, host, state.s3_host.as_ref());
    if parts.method == http::Method::OPTIONS {
        let answer = state
            .s3_api
            .preflight(bucket.as_deref(), &parts.headers)
            .await
            .map(Body::new);
        return crate::request_id::stamp(answer, &ids, &resource, false).await.0;
    }
    let origin = parts
        .headers
        .get(http::header::ORIGIN)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let cors = origin
        .zip(bucket)
        .map(|(origin, bucket)| (origin, bucket, parts.method.clone()));
    let line = coffer_s3::access_log::RequestLine::of(&parts);
    let (mut response, logged) = serve_s3(&state, parts, body, &ids).await;
    if let Some((origin, bucket, method)) = cors {
        for (name, value) in state.s3_api.cors_headers(&bucket, &method, &origin).await {
            if let Ok(value) = http::HeaderValue::from_str(&value) {
                response.headers_mut().insert(name, value);
            }
        }
    }
    let (response, error) = crate::request_id::stamp(response, &ids, &resource, head).await;
    if let Some((code, message)) = &error {
        state.metrics.observe_error("s3", code, message);
    }
    // A request refused before authorization (a bad signature, an unknown key) is logged
    // too, as S3 logs it, when its bucket logs.
    let logged = match logged {
        Some(logged) => Some(logged),
        None => state.s3_api.unauthorized_logged(&line).await,
    };
    if let Some(logged) = logged.filter(|logged| logged.access_log.is_some()) {
        let error_code = error.as_ref().map(|(code, _)| code.as_str());
        let ids = (ids.id.as_str(), ids.host_id.as_str());
        state
            .s3_api
            .log_access(&logged, &line, response.status(), response.headers(), error_code, ids);
    }
    response
}

/// An S3 request, signed or anonymous, checked and served, with one log line.
async fn serve_s3(
    state: &AppState,
    parts: Parts,
    body: Body,
    ids: &crate::request_id::S3RequestId,
) -> (Response, Option<coffer_s3::Logged>) {
    if oversized_xml_post(&parts) {
        let refused = coffer_s3::error::error_response(S3Fault::MaxMessageLengthExceeded).into_response();
        return (refused, None);
    }
    let started = Instant::now();
    let log = coffer_s3::RequestLog::default();
    let summary = state.s3_api.audits().then(|| coffer_s3::audit::CallSummary::of(&parts));
    let summary = summary.as_ref();
    let pace = parts.extensions.get::<crate::paced_body::BodyPace>().cloned();
    let payload = parts.headers.get("x-amz-content-sha256").cloned();
    // What s3s 0.14 does not check of a signature: unsigned x-amz-* headers, SigV2 replay,
    // session tokens.
    let now = time::OffsetDateTime::now_utc();
    if coffer_s3::is_form_post(&parts) {
        // A browser form is signed in its fields, and checked there.
        let Some(bucket) = form_upload_bucket(state, &parts) else {
            let refused = coffer_s3::error::error_response(S3Fault::MethodNotAllowed).into_response();
            return finish(state, started, &log, summary, ids, refused).await;
        };
        let mut parts = parts;
        parts.extensions.insert(log.clone());
        let response = state
            .s3_api
            .serve_form_upload(&bucket, parts, body.into_data_stream(), &state.sealer)
            .await
            .map(Body::new);
        // A form whose body came too slowly failed for that, whatever broke first.
        let response = if response.status().is_client_error() || response.status().is_server_error() {
            match pace.is_some_and(|p| p.too_slow()) {
                true => coffer_s3::error::error_response(S3Fault::RequestTimeout).into_response(),
                false => response,
            }
        } else {
            response
        };
        return finish(state, started, &log, summary, ids, response).await;
    }
    let checked = coffer_auth::signed_request::check_s3_request(&parts, now).and_then(|()| {
        coffer_auth::session::s3_session(&state.sealer, &parts, now).map_err(|err| match err {
            coffer_auth::session::TokenError::Invalid => Refusal::InvalidToken,
            coffer_auth::session::TokenError::Expired => Refusal::ExpiredToken,
        })
    });
    let response = match checked {
        Err(refusal) => coffer_s3::error::error_response(refusal).into_response(),
        Ok(session) => {
            let mut parts = parts;
            parts.extensions.insert(log.clone());
            if let Some(opened) = &session {
                coffer_auth::signed_request::sigv2_query_token_as_header(&mut parts);
                parts
                    .extensions
                    .insert(coffer_s3::SessionPrincipal(opened.principal.clone()));
            }
            let virtual_hosted = state.s3_host.as_ref().is_some_and(|host| {
                parts
                    .headers
                    .get(http::header::HOST)
                    .and_then(|h| h.to_str().ok())
                    .is_some_and(|h| host.bucket_of(h).is_some())
            });
            let serve = async {
                match coffer_auth::signed_request::is_sigv2(&parts)
                    .then(|| coffer_s3::quirks::sigv2_bucket_root(&parts.uri, virtual_hosted))
                    .flatten()
                {
                    Some(with_slash) => sigv2_bucket_root(state, parts, body, with_slash).await,
                    None => call_s3(state, parts, body).await,
                }
            };
            coffer_s3::with_session(session.as_ref(), serve).await
        }
    };
    // s3s reads XML bodies itself and answers a failed read with a 500: a body too slow
    // timed out, one it could not read was the client's.
    let response = if response.status() == StatusCode::INTERNAL_SERVER_ERROR && pace.is_some_and(|p| p.too_slow()) {
        coffer_s3::error::error_response(S3Fault::RequestTimeout).into_response()
    } else if log.body_unread(response.status()) {
        coffer_s3::error::error_response(S3Fault::unreadable_body(payload.as_ref())).into_response()
    } else {
        response
    };
    finish(state, started, &log, summary, ids, response).await
}

/// A served S3 request's audit record and log line; and what authorization learnt of it.
async fn finish(
    state: &AppState,
    started: Instant,
    log: &coffer_s3::RequestLog,
    summary: Option<&coffer_s3::audit::CallSummary>,
    ids: &crate::request_id::S3RequestId,
    response: Response,
) -> (Response, Option<coffer_s3::Logged>) {
    let (response, logged) = match summary {
        Some(summary) => {
            let ids = Some((ids.id.as_str(), ids.host_id.as_str()));
            state
                .s3_api
                .audit_call(log, summary, response, ids, Body::from, false)
                .await
        }
        None => (response, log.take()),
    };
    let attributes = logged.as_ref().is_some_and(|l| l.operation == "GetObjectAttributes");
    let response = if attributes && response.status().is_success() {
        unquote_attributes_etag(response).await
    } else {
        response
    };
    let principal = logged
        .as_ref()
        .map_or_else(|| "-".to_owned(), coffer_s3::Logged::principal_arn);
    let operation = logged.as_ref().map_or("-", |l| l.operation.as_str());
    let response = log_s3_request(state, started, &principal, operation, ids, response);
    (response, logged)
}

/// One line per request: its id (as the answer gives it), who (requests refused before
/// authorization, a bad signature or an unknown key, name no principal), what, how it ended,
/// and the bytes answered when the answer says.
fn log_s3_request(
    state: &AppState,
    started: Instant,
    principal: &str,
    operation: &str,
    ids: &crate::request_id::S3RequestId,
    response: Response,
) -> Response {
    let bytes = response
        .headers()
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    tracing::info!(
        request_id = %ids.id,
        %principal,
        operation = %format_args!("s3:{operation}"),
        status = response.status().as_u16(),
        bytes,
        micros = started.elapsed().as_micros() as u64,
        "s3 request"
    );
    state.metrics.observe(
        "s3",
        operation,
        response.status().as_u16(),
        started.elapsed().as_secs_f64(),
        bytes,
    );
    response
}

/// The bucket a form POST uploads to: the bucket whose root it is posted to (path style or
/// virtual-hosted; a query is ignored). `None` for a form posted anywhere else, or naming
/// no valid bucket (a `%2F` must not split into a bucket and a key later).
fn form_upload_bucket(state: &AppState, parts: &Parts) -> Option<String> {
    let host = parts.headers.get(http::header::HOST).and_then(|h| h.to_str().ok());
    let virtual_hosted = state
        .s3_host
        .as_ref()
        .zip(host)
        .is_some_and(|(d, h)| d.bucket_of(h).is_some());
    let path = parts.uri.path().trim_start_matches('/');
    let root = match virtual_hosted {
        true => path.is_empty(),
        false => !path.strip_suffix('/').unwrap_or(path).contains('/'),
    };
    let bucket = coffer_s3::bucket_of(&parts.uri, host, state.s3_host.as_ref())?;
    (root && coffer_s3::valid_bucket_name(&bucket)).then_some(bucket)
}

/// See [`coffer_s3::quirks::get_object_attributes_body`]; the answer is a small XML document.
async fn unquote_attributes_etag(response: Response) -> Response {
    let (mut parts, body) = response.into_parts();
    let Ok(collected) = Limited::new(body, coffer_s3::MAX_XML_BODY).collect().await else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let bytes = collected.to_bytes();
    match coffer_s3::quirks::get_object_attributes_body(&bytes) {
        Some(fixed) => {
            parts.headers.insert(http::header::CONTENT_LENGTH, fixed.len().into());
            Response::from_parts(parts, Body::from(fixed))
        }
        None => Response::from_parts(parts, Body::from(bytes)),
    }
}

async fn call_s3(state: &AppState, parts: Parts, body: Body) -> Response {
    match state.s3.clone().oneshot(Request::from_parts(parts, body)).await {
        Ok(response) => response.map(Body::new),
        Err(err) => {
            tracing::error!(?err, "s3 request failed");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

/// A SigV2 request for a bucket's root, path style: clients sign its resource as `/bucket`
/// (the path as sent: rclone, aws-sdk-go) or as `/bucket/` (botocore: boto3, AWS CLI v1).
/// s3s checks the path as sent; when that signature does not match, the same request is
/// tried once more as `/bucket/`. A refused signature has done nothing yet, and such
/// requests carry at most a small XML body, kept for the second try.
async fn sigv2_bucket_root(state: &AppState, parts: Parts, body: Body, with_slash: http::Uri) -> Response {
    let Ok(collected) = Limited::new(body, coffer_s3::MAX_XML_BODY).collect().await else {
        return coffer_s3::error::error_response(S3Fault::MaxMessageLengthExceeded).into_response();
    };
    let bytes = collected.to_bytes();
    let first = call_s3(state, parts.clone(), Body::from(bytes.clone())).await;
    if first.status() != StatusCode::FORBIDDEN {
        return first;
    }
    let (head, answer) = first.into_parts();
    let Ok(answer) = Limited::new(answer, 64 * 1024).collect().await.map(|c| c.to_bytes()) else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    const MISMATCH: &[u8] = b"<Code>SignatureDoesNotMatch</Code>";
    if !answer.windows(MISMATCH.len()).any(|w| w == MISMATCH) {
        return Response::from_parts(head, Body::from(answer));
    }
    let mut parts = parts;
    parts.uri = with_slash;
    call_s3(state, parts, Body::from(bytes)).await
}
