//! The S3 front door, whole and in process: a request head and body go through the checks
//! the server makes before s3s (`check_s3_request`, session tokens), then s3s's routing,
//! header, XML and aws-chunked parsing, and Coffer's operations on a real store. Requests
//! are signed with the root key as sent (so the parsers past the signature check are
//! reached); a head the signer refuses goes anonymous. A browser form POST goes where the
//! server sends it. Any 500 is a finding: bad input must get a client error.

use std::cell::RefCell;
use std::path::Path;
use std::time::SystemTime;

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{
    PercentEncodingMode, SignableBody, SignableRequest, SignatureLocation, SigningSettings, UriPathNormalizationMode,
    sign,
};
use aws_sigv4::sign::v4;
use bytes::Bytes;
use coffer_s3::{Body, S3Api};
use coffer_store::{Sealer, Store};
use http_body_util::BodyExt;

const KEY_ID: &str = "AKIAIOSFODNN7EXAMPLE";
const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
/// Requests served, and body bytes taken, before the store starts over: a long run's
/// objects stay bounded, and a run's stores are alike.
const REQUESTS_PER_STORE: u32 = 2_000;
const BYTES_PER_STORE: usize = 32 << 20;
/// The data dirs' prefix; a dir whose process is gone is swept at the next start (the
/// world lives until the process exits, so nothing else removes it).
const DIR_PREFIX: &str = "coffer-fuzz-";

struct World {
    runtime: tokio::runtime::Runtime,
    store: Option<Served>,
}

struct Served {
    api: S3Api,
    sealer: Sealer,
    served: u32,
    taken: usize,
    _dir: tempfile::TempDir,
}

thread_local! {
    /// One world per thread: libFuzzer runs on one, and tests running side by side each
    /// get their own, so one's state never decides another's answers.
    static WORLD: RefCell<Option<World>> = const { RefCell::new(None) };
}

/// One request: `METHOD URI`, `Name: value` lines, a blank line, the body.
pub fn s3_request(data: &[u8]) {
    if let Some((status, body)) = answer(data) {
        assert!(
            status != 500,
            "500 for a request (bad input must get a client error): {}",
            String::from_utf8_lossy(&body)
        );
    }
}

/// What the front door answers `data` (as [`s3_request`] reads it): the status and body;
/// `None` when it is no HTTP request at all.
pub fn answer(data: &[u8]) -> Option<(u16, Vec<u8>)> {
    let request = request_of(data)?;
    WORLD.with_borrow_mut(|world| {
        let world = world.get_or_insert_with(|| {
            sweep_stale_dirs();
            World {
                runtime: tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("a runtime"),
                store: None,
            }
        });
        let served = match &mut world.store {
            Some(served) if served.served < REQUESTS_PER_STORE && served.taken < BYTES_PER_STORE => served,
            store => store.insert(world.runtime.block_on(fresh_store())),
        };
        served.served += 1;
        served.taken += request.body().len();
        Some(world.runtime.block_on(serve(served, request)))
    })
}

/// Where data dirs go: /dev/shm where the machine has one (no disk syncs), else the temp dir.
fn data_root() -> std::path::PathBuf {
    match Path::new("/dev/shm").is_dir() {
        true => "/dev/shm".into(),
        false => std::env::temp_dir(),
    }
}

/// Removes the data dirs of processes that are gone (`coffer-fuzz-<pid>-…`).
fn sweep_stale_dirs() {
    let Ok(entries) = std::fs::read_dir(data_root()) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(pid) = name.strip_prefix(DIR_PREFIX).and_then(|rest| rest.split('-').next()) else {
            continue;
        };
        if !Path::new("/proc").join(pid).exists() {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

/// A store on a new data dir (in memory where the machine has /dev/shm) with the root key,
/// a bucket `fuzz` and an object `fuzz/k`, so the fuzzer starts where operations have work to do.
async fn fresh_store() -> Served {
    let dir = tempfile::Builder::new()
        .prefix(&format!("{DIR_PREFIX}{}-", std::process::id()))
        .tempdir_in(data_root())
        .expect("a data dir");
    let sealer = Sealer::new(&[7; 32]);
    let store = Store::open_sqlite(dir.path(), sealer.clone()).await.expect("a store");
    store
        .create_account("fuzz", Some((KEY_ID, SECRET)))
        .await
        .expect("an account");
    let api = S3Api::new(
        store,
        coffer_auth::Authorizer::default(),
        &coffer_s3::Options::default(),
    );
    let mut served = Served {
        api,
        sealer,
        served: 0,
        taken: 0,
        _dir: dir,
    };
    for seed in [&b"PUT /fuzz\n\n"[..], b"PUT /fuzz/k\n\nhello"] {
        let (status, body) = serve(&mut served, request_of(seed).expect("a request")).await;
        assert_eq!(status, 200, "seeding: {}", String::from_utf8_lossy(&body));
    }
    served
}

/// Serves `request` as the server does; the status and the whole body answered.
async fn serve(served: &mut Served, request: http::Request<Bytes>) -> (u16, Vec<u8>) {
    let (mut parts, body) = signed(request).into_parts();
    let log = coffer_s3::RequestLog::default();
    parts.extensions.insert(log.clone());
    let payload = parts.headers.get("x-amz-content-sha256").cloned();
    let response = if coffer_s3::is_form_post(&parts) {
        // As the server: a form goes to the bucket it is posted to, path style.
        let bucket = parts
            .uri
            .path()
            .trim_start_matches('/')
            .trim_end_matches('/')
            .to_owned();
        if bucket.contains('/') || !coffer_s3::valid_bucket_name(&bucket) {
            return (405, Vec::new());
        }
        let stream = futures::stream::once(async move { Ok::<_, std::io::Error>(body) });
        served
            .api
            .serve_form_upload(&bucket, parts, stream, &served.sealer)
            .await
    } else {
        let now = time::OffsetDateTime::now_utc();
        let checked = coffer_auth::signed_request::check_s3_request(&parts, now)
            .map_err(|_| ())
            .and_then(|()| coffer_auth::session::s3_session(&served.sealer, &parts, now).map_err(|_| ()));
        match checked {
            Err(()) => return (403, Vec::new()),
            Ok(session) => {
                let service = served.api.service();
                let call = service.call(http::Request::from_parts(parts, Body::from(body)));
                match coffer_s3::with_session(session.as_ref(), call).await {
                    // As the server answers: s3s's 500 for a body it could not read is a 400.
                    Ok(response) if log.body_unread(response.status()) => {
                        let fault = coffer_s3::error::S3Fault::unreadable_body(payload.as_ref());
                        coffer_s3::error::error_response(fault).map(Body::from)
                    }
                    Ok(response) => response,
                    Err(err) => panic!("s3s failed the request: {err:?}"),
                }
            }
        }
    };
    let status = response.status().as_u16();
    let body = response
        .into_body()
        .collect()
        .await
        .map(|c| c.to_bytes().to_vec())
        .unwrap_or_default();
    (status, body)
}

/// The request `data` writes, with a `Host` and the body's length unless it says otherwise;
/// `None` when it is no HTTP request at all.
fn request_of(data: &[u8]) -> Option<http::Request<Bytes>> {
    let (head, body) = crate::split_once(data, b"\n\n").unwrap_or((data, &[]));
    let head = std::str::from_utf8(head).ok()?;
    let mut lines = head.lines();
    let (method, uri) = lines.next()?.split_once(' ')?;
    let mut request = http::Request::builder().method(method).uri(uri);
    let (mut has_host, mut framed) = (false, false);
    for line in lines {
        if let Some((name, value)) = line.split_once(':') {
            let name = name.trim();
            has_host |= name.eq_ignore_ascii_case("host");
            framed |= name.eq_ignore_ascii_case("content-length") || name.eq_ignore_ascii_case("transfer-encoding");
            request = request.header(name, value.trim());
        }
    }
    if !has_host {
        request = request.header("host", "127.0.0.1");
    }
    // A client states its body's length, unless it streams it (`transfer-encoding: chunked`).
    if !framed {
        request = request.header("content-length", body.len());
    }
    request.body(Bytes::copy_from_slice(body)).ok()
}

/// `request` signed by the root key over its headers as sent (the payload as its
/// `x-amz-content-sha256` says, `UNSIGNED-PAYLOAD` without one); as sent when the signer
/// refuses it, when it already carries a signature of its own, or when it is a form.
fn signed(request: http::Request<Bytes>) -> http::Request<Bytes> {
    let (parts, body) = request.into_parts();
    // A browser form is signed in its fields, never in a header.
    if coffer_s3::is_form_post(&parts) {
        return http::Request::from_parts(parts, body);
    }
    let mut request = http::Request::from_parts(parts, body);
    let headers = request.headers();
    if headers.contains_key(http::header::AUTHORIZATION)
        || request.uri().query().is_some_and(|q| q.contains("Signature"))
    {
        return request;
    }
    if !headers.contains_key("x-amz-content-sha256") {
        request.headers_mut().insert(
            "x-amz-content-sha256",
            http::HeaderValue::from_static("UNSIGNED-PAYLOAD"),
        );
    }
    let _ = sign_in_place(&mut request);
    request
}

fn sign_in_place(request: &mut http::Request<Bytes>) -> Option<()> {
    let identity = Credentials::new(KEY_ID, SECRET, None, None, "fuzz").into();
    let mut settings = SigningSettings::default();
    settings.signature_location = SignatureLocation::Headers;
    settings.percent_encoding_mode = PercentEncodingMode::Single;
    settings.uri_path_normalization_mode = UriPathNormalizationMode::Disabled;
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region("us-east-1")
        .name("s3")
        .time(SystemTime::now())
        .settings(settings)
        .build()
        .ok()?
        .into();
    let payload = request.headers().get("x-amz-content-sha256")?.to_str().ok()?.to_owned();
    let headers: Vec<(&str, &str)> = request
        .headers()
        .iter()
        .filter_map(|(name, value)| Some((name.as_str(), value.to_str().ok()?)))
        .collect();
    let url = format!("http://127.0.0.1{}", request.uri());
    let signable = SignableRequest::new(
        request.method().as_str(),
        url,
        headers.into_iter(),
        SignableBody::Precomputed(payload),
    )
    .ok()?;
    let (instructions, _) = sign(signable, &params).ok()?.into_parts();
    instructions.apply_to_request_http1x(request);
    Some(())
}
