//! A hostile client's findings (issue 18), each tried as it was found: unsigned headers that
//! change a signed request, SigV2 replay, log flooding, a junk session token, who may read
//! the data dir, and bodies trickled to hold connections.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::{Duration, Instant, SystemTime};

use aws_credential_types::Credentials;
use aws_sdk_s3::presigning::PresigningConfig;
use aws_sdk_s3::primitives::ByteStream;
use base64::Engine;
use s3s::crypto::{Checksum, Md5, Sha1};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::harness::{Coffer, ROOT_KEY_ID, ROOT_SECRET, code};
use crate::s3::s3_code;
use crate::s3_raw::{Payload, send, sign_s3};

const PAYROLL: &[u8] = b"name,salary\nalice,1000000\n";
const AVATAR: &[u8] = b"an avatar";

/// The finding's bucket: `up/avatar.png` and `secret/payroll.csv`.
async fn probe_bucket(coffer: &Coffer) -> aws_sdk_s3::Client {
    let s3 = coffer.root_s3();
    s3.create_bucket().bucket("probe-a").send().await.unwrap();
    for (key, body) in [("up/avatar.png", AVATAR), ("secret/payroll.csv", PAYROLL)] {
        s3.put_object()
            .bucket("probe-a")
            .key(key)
            .body(ByteStream::from_static(body))
            .send()
            .await
            .unwrap();
    }
    s3
}

/// The finding's user: may put under `up/` and get under `secret/`.
async fn narrow_user(coffer: &Coffer) -> aws_sdk_s3::Client {
    let (id, secret) = coffer.user_with_key("uploader").await;
    let policy = r#"{"Version":"2012-10-17","Statement":[
        {"Effect":"Allow","Action":"s3:PutObject","Resource":"arn:aws:s3:::probe-a/up/*"},
        {"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::probe-a/secret/*"}]}"#;
    coffer
        .root_iam()
        .put_user_policy()
        .user_name("uploader")
        .policy_name("narrow")
        .policy_document(policy)
        .send()
        .await
        .unwrap();
    coffer.s3(&id, &secret)
}

async fn object(s3: &aws_sdk_s3::Client, key: &str) -> (Vec<u8>, usize) {
    let got = s3.get_object().bucket("probe-a").key(key).send().await.unwrap();
    let metadata = got.metadata().map_or(0, |m| m.len());
    (got.body.collect().await.unwrap().into_bytes().to_vec(), metadata)
}

fn assert_headers_not_signed(status: u16, body: &str, name: &str) {
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("<Code>AccessDenied</Code>"), "{body}");
    assert!(
        body.contains(&format!("<HeadersNotSigned>{name}</HeadersNotSigned>")),
        "{body}"
    );
}

#[tokio::test]
async fn unsigned_headers_cannot_change_a_presigned_put() {
    let coffer = Coffer::start();
    let root = probe_bucket(&coffer).await;
    let user = narrow_user(&coffer).await;
    let url = user
        .put_object()
        .bucket("probe-a")
        .key("up/avatar.png")
        .presigned(PresigningConfig::expires_in(Duration::from_secs(600)).unwrap())
        .await
        .unwrap();
    let client = reqwest::Client::new();
    for (name, value) in [
        ("x-amz-copy-source", "/probe-a/secret/payroll.csv"),
        ("x-amz-meta-owner", "mallory"),
        ("x-amz-acl", "public-read"),
        ("x-amz-tagging", "owner=mallory"),
    ] {
        let response = client
            .put(url.uri())
            .header(name, value)
            .body("replaced")
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        assert_headers_not_signed(status, &response.text().await.unwrap(), name);
        assert_eq!(object(&root, "up/avatar.png").await, (AVATAR.to_vec(), 0));
    }
    // Nor can a second way of signing sent along make Coffer look at the other one.
    for auth in [
        "Bearer x".to_owned(),
        format!(
            "AWS4-HMAC-SHA256 Credential={ROOT_KEY_ID}/20260101/us-east-1/s3/aws4_request, SignedHeaders=host;x-amz-copy-source, Signature=0"
        ),
    ] {
        let response = client
            .put(url.uri())
            .header("authorization", &auth)
            .header("x-amz-copy-source", "/probe-a/secret/payroll.csv")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 400, "{auth}");
        assert!(response.text().await.unwrap().contains("<Code>InvalidArgument</Code>"));
        assert_eq!(object(&root, "up/avatar.png").await, (AVATAR.to_vec(), 0));
    }
    // The URL as it was signed still works.
    let response = client.put(url.uri()).body("a new avatar").send().await.unwrap();
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(object(&root, "up/avatar.png").await.0, b"a new avatar");
}

/// A PUT of `up/avatar.png` signed by `key` (header auth), not sent.
fn signed_put(coffer: &Coffer, key: (&str, &str)) -> http::Request<Vec<u8>> {
    sign_s3(
        key,
        coffer,
        "PUT",
        "/probe-a/up/avatar.png",
        &[],
        b"replaced".to_vec(),
        Payload::Signed,
        SystemTime::now(),
    )
}

#[tokio::test]
async fn unsigned_headers_cannot_change_a_header_signed_request() {
    let coffer = Coffer::start();
    let root = probe_bucket(&coffer).await;
    let (id, secret) = coffer.user_with_key("uploader").await;
    for (name, value) in [
        ("x-amz-copy-source", "/probe-a/secret/payroll.csv"),
        ("x-amz-meta-owner", "mallory"),
    ] {
        let mut request = signed_put(&coffer, (&id, &secret));
        request.headers_mut().insert(name, value.parse().unwrap());
        let reply = send(request).await;
        assert_headers_not_signed(reply.status, &String::from_utf8_lossy(&reply.body), name);
    }
    // Nor by listing the header where s3s cannot find it (s3s skips a listed name it does not
    // find, so the signature still matches): another case, or text after it.
    for listed in ["X-Amz-Copy-Source", "x-amz-copy-source junk"] {
        let mut request = signed_put(&coffer, (&id, &secret));
        let auth = request.headers()["authorization"].to_str().unwrap().replacen(
            ", Signature=",
            &format!(";{listed}, Signature="),
            1,
        );
        request.headers_mut().insert("authorization", auth.parse().unwrap());
        request
            .headers_mut()
            .insert("x-amz-copy-source", "/probe-a/secret/payroll.csv".parse().unwrap());
        let reply = send(request).await;
        assert_headers_not_signed(reply.status, &String::from_utf8_lossy(&reply.body), "x-amz-copy-source");
    }
    assert_eq!(object(&root, "up/avatar.png").await, (AVATAR.to_vec(), 0));
    // s3s never reads the algorithm's name: renaming it must not hide the signature.
    let mut request = signed_put(&coffer, (&id, &secret));
    let auth = request.headers()["authorization"]
        .to_str()
        .unwrap()
        .replacen("AWS4-HMAC-SHA256", "X", 1);
    request.headers_mut().insert("authorization", auth.parse().unwrap());
    request
        .headers_mut()
        .insert("x-amz-copy-source", "/probe-a/secret/payroll.csv".parse().unwrap());
    let reply = send(request).await;
    assert_eq!((reply.status, reply.code().as_str()), (400, "InvalidArgument"));
    assert_eq!(object(&root, "up/avatar.png").await, (AVATAR.to_vec(), 0));
}

/// A SigV2 header signature (as boto3's `signature_version="s3"` makes it) with `date`;
/// `unsigned` headers are added after signing.
fn sigv2(coffer: &Coffer, method: &str, path: &str, date: &str, unsigned: &[(&str, &str)]) -> http::Request<Vec<u8>> {
    sigv2_signing(coffer, method, path, path, date, unsigned)
}

/// As [`sigv2`], signing `resource` while sending `path`.
fn sigv2_signing(
    coffer: &Coffer,
    method: &str,
    path: &str,
    resource: &str,
    date: &str,
    unsigned: &[(&str, &str)],
) -> http::Request<Vec<u8>> {
    let string_to_sign = format!("{method}\n\n\n{date}\n{resource}");
    let mut request = http::Request::builder()
        .method(method)
        .uri(format!("{}{path}", coffer.endpoint))
        .header("date", date)
        .header(
            "authorization",
            format!("AWS {ROOT_KEY_ID}:{}", sigv2_signature(&string_to_sign)),
        );
    for (name, value) in unsigned {
        request = request.header(*name, *value);
    }
    request.body(Vec::new()).unwrap()
}

/// Base64 of HMAC-SHA1 (RFC 2104) of `string_to_sign` under the root secret.
fn sigv2_signature(string_to_sign: &str) -> String {
    let mut key = [0u8; 64];
    key[..ROOT_SECRET.len()].copy_from_slice(ROOT_SECRET.as_bytes());
    let pad = |byte: u8| key.map(|k| k ^ byte);
    let mut inner = Sha1::new();
    inner.update(&pad(0x36));
    inner.update(string_to_sign.as_bytes());
    let mut outer = Sha1::new();
    outer.update(&pad(0x5c));
    outer.update(inner.finalize().as_ref());
    base64::engine::general_purpose::STANDARD.encode(outer.finalize())
}

fn http_date(at: SystemTime) -> String {
    let t = time::OffsetDateTime::from(at);
    t.format(time::macros::format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
    ))
    .unwrap()
}

#[tokio::test]
async fn sigv2_requests_cannot_be_replayed_later_or_dated_ahead() {
    let coffer = Coffer::start();
    let root = probe_bucket(&coffer).await;
    let now = SystemTime::now();
    for date in [
        "Mon, 01 Jan 2001 00:00:00 GMT".to_owned(),
        "Fri, 01 Jan 2038 00:00:00 GMT".to_owned(),
        http_date(now - Duration::from_secs(16 * 60)),
        http_date(now + Duration::from_secs(16 * 60)),
    ] {
        let reply = send(sigv2(&coffer, "DELETE", "/probe-a/up/avatar.png", &date, &[])).await;
        assert_eq!(
            (reply.status, reply.code().as_str()),
            (403, "RequestTimeTooSkewed"),
            "{date}"
        );
        assert_eq!(object(&root, "up/avatar.png").await.0, AVATAR);
    }
    // SigV2 signs every x-amz-* header: one added afterwards breaks the signature.
    let reply = send(sigv2(
        &coffer,
        "DELETE",
        "/probe-a/up/avatar.png",
        &http_date(now),
        &[("x-amz-meta-a", "1")],
    ))
    .await;
    assert_eq!((reply.status, reply.code().as_str()), (403, "SignatureDoesNotMatch"));
    // A fresh one works.
    let reply = send(sigv2(&coffer, "DELETE", "/probe-a/up/avatar.png", &http_date(now), &[])).await;
    assert_eq!(reply.status, 204);
    let err = root
        .head_object()
        .bucket("probe-a")
        .key("up/avatar.png")
        .send()
        .await
        .unwrap_err();
    assert_eq!(s3_code(&err), "NotFound");
}

/// A bucket's root signed as sent (rclone, aws-sdk-go) or with its slash (botocore) works;
/// a replay into another subresource by naming it twice does not.
#[tokio::test]
async fn sigv2_bucket_roots_are_read_both_ways_and_subresources_cannot_be_repeated() {
    let coffer = Coffer::start();
    probe_bucket(&coffer).await;
    let now = http_date(SystemTime::now());
    for resource in ["/probe-a", "/probe-a/"] {
        let reply = send(sigv2_signing(&coffer, "GET", "/probe-a", resource, &now, &[])).await;
        assert_eq!(
            reply.status,
            200,
            "{resource}: {}",
            String::from_utf8_lossy(&reply.body)
        );
        assert!(String::from_utf8_lossy(&reply.body).contains("<Key>up/avatar.png</Key>"));
    }
    let reply = send(sigv2_signing(&coffer, "GET", "/probe-a", "/other", &now, &[])).await;
    assert_eq!((reply.status, reply.code().as_str()), (403, "SignatureDoesNotMatch"));
    let reply = send(sigv2_signing(
        &coffer,
        "GET",
        "/probe-a?policy&policy",
        "/probe-a",
        &now,
        &[],
    ))
    .await;
    assert_eq!((reply.status, reply.code().as_str()), (400, "InvalidArgument"));
}

#[tokio::test]
async fn sigv2_presigned_urls_live_at_most_seven_days() {
    let coffer = Coffer::start();
    probe_bucket(&coffer).await;
    let url = |ahead: u64| {
        let expires = (SystemTime::now() + Duration::from_secs(ahead))
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let path = "/probe-a/up/avatar.png";
        let signature = sigv2_signature(&format!("GET\n\n\n{expires}\n{path}"));
        let signature: String = form_urlencoded_value(&signature);
        format!(
            "{}{path}?AWSAccessKeyId={ROOT_KEY_ID}&Expires={expires}&Signature={signature}",
            coffer.endpoint
        )
    };
    let ten_years = reqwest::get(url(10 * 365 * 24 * 3600)).await.unwrap();
    assert_eq!(ten_years.status().as_u16(), 400);
    assert!(
        ten_years
            .text()
            .await
            .unwrap()
            .contains("<Code>AuthorizationQueryParametersError</Code>")
    );
    let an_hour = reqwest::get(url(3600)).await.unwrap();
    assert_eq!(an_hour.status().as_u16(), 200);
    assert_eq!(an_hour.bytes().await.unwrap().as_ref(), AVATAR);
}

fn form_urlencoded_value(value: &str) -> String {
    percent_encoding::utf8_percent_encode(value, percent_encoding::NON_ALPHANUMERIC).to_string()
}

#[tokio::test]
async fn malformed_bodies_from_a_user_without_policies_barely_grow_the_log() {
    let logs = tempfile::tempdir().unwrap();
    let log = logs.path().join("coffer.log");
    let coffer = Coffer::start_logging_to(&log);
    coffer.root_s3().create_bucket().bucket("flood").send().await.unwrap();
    let (id, secret) = coffer.user_with_key("nobody").await;
    let mut junk = b"<Delete><Object><Key>".to_vec();
    junk.resize(900 * 1024, b'A');
    let before = std::fs::metadata(&log).unwrap().len();
    const REQUESTS: u64 = 10;
    for _ in 0..REQUESTS {
        let request = sign_s3(
            (&id, &secret),
            &coffer,
            "POST",
            "/flood?delete",
            &[("content-md5", &md5_base64(&junk))],
            junk.clone(),
            Payload::Signed,
            SystemTime::now(),
        );
        let reply = send(request).await;
        assert!((400..500).contains(&reply.status), "{}", reply.status);
    }
    let grown = std::fs::metadata(&log).unwrap().len() - before;
    assert!(
        grown < REQUESTS * 2048,
        "the log grew {grown} bytes for {REQUESTS} requests"
    );
}

fn md5_base64(data: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(Md5::checksum(data))
}

#[tokio::test]
async fn a_junk_session_token_with_a_long_term_key_is_refused() {
    let coffer = Coffer::start();
    let credentials = Credentials::new(ROOT_KEY_ID, ROOT_SECRET, Some("junk".to_owned()), None, "test");
    let config = aws_sdk_s3::Config::builder()
        .behavior_version(aws_sdk_s3::config::BehaviorVersion::latest())
        .region(aws_sdk_s3::config::Region::new("us-east-1"))
        .endpoint_url(&coffer.endpoint)
        .force_path_style(true)
        .credentials_provider(credentials.clone())
        .http_client(aws_smithy_http_client::Builder::new().build_http())
        .build();
    let s3 = aws_sdk_s3::Client::from_conf(config);
    let err = s3.list_buckets().send().await.unwrap_err();
    assert_eq!(s3_code(&err), "InvalidToken");
    assert_eq!(err.raw_response().unwrap().status().as_u16(), 400);
    let config = aws_sdk_iam::Config::builder()
        .behavior_version(aws_sdk_iam::config::BehaviorVersion::latest())
        .region(aws_sdk_iam::config::Region::new("us-east-1"))
        .endpoint_url(&coffer.endpoint)
        .credentials_provider(credentials)
        .http_client(aws_smithy_http_client::Builder::new().build_http())
        .build();
    let err = aws_sdk_iam::Client::from_conf(config)
        .list_users()
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "InvalidClientTokenId");
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[tokio::test]
async fn the_data_dir_is_readable_by_its_owner_only() {
    let coffer = Coffer::start();
    let s3 = probe_bucket(&coffer).await;
    // A large object streams through a temp file; a multipart upload keeps parts.
    s3.put_object()
        .bucket("probe-a")
        .key("large")
        .body(ByteStream::from(vec![7u8; 1 << 20]))
        .send()
        .await
        .unwrap();
    s3.create_multipart_upload()
        .bucket("probe-a")
        .key("parts")
        .send()
        .await
        .unwrap();
    coffer.user_with_key("alice").await;
    // The harness made the data dir itself; one Coffer makes is private too.
    let parent = tempfile::tempdir().unwrap();
    let made = parent.path().join("made-by-coffer");
    let out = std::process::Command::new(crate::harness::coffer_bin())
        .args(["account", "list", "--data-dir"])
        .arg(&made)
        .env("COFFER_LOG", "warn")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(mode(&made), 0o700);
    let mut dirs: Vec<_> = std::fs::read_dir(coffer.data_dir())
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.is_dir())
        .collect();
    let mut files: Vec<_> = std::fs::read_dir(coffer.data_dir())
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| !path.is_dir())
        .collect();
    while let Some(dir) = dirs.pop() {
        assert_eq!(mode(&dir), 0o700, "{}", dir.display());
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path)
            } else {
                files.push(path)
            }
        }
    }
    let names: Vec<String> = files
        .iter()
        .filter_map(|f| f.file_name()?.to_str().map(str::to_owned))
        .collect();
    // SQLite's files are in the data dir unless the metadata lives in PostgreSQL.
    let expected: &[&str] = match coffer.database_url() {
        None => &["meta.db", "meta.db-wal", "meta.db-shm", "master.key"],
        Some(_) => &["master.key"],
    };
    for expected in expected {
        assert!(names.iter().any(|n| n == expected), "{expected} in {names:?}");
    }
    // The master key and SQLite's files (when there), and three objects' blobs.
    assert!(files.len() > expected.len() + 2, "{names:?}");
    for file in files {
        assert_eq!(mode(&file), 0o600, "{}", file.display());
    }
}

/// Sends `head` and then the body ten bytes a second; returns what the server answered and
/// when.
async fn trickle(address: String, head: String) -> (String, Duration) {
    let started = Instant::now();
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut answer = vec![0u8; 4096];
    loop {
        tokio::select! {
            read = stream.read(&mut answer) => {
                let n = read.unwrap_or(0);
                return (String::from_utf8_lossy(&answer[..n]).into_owned(), started.elapsed());
            }
            () = tokio::time::sleep(Duration::from_secs(1)) => {
                if stream.write_all(b"0123456789").await.is_err() {
                    return (String::new(), started.elapsed());
                }
            }
        }
        assert!(started.elapsed() < Duration::from_secs(30), "never cut off");
    }
}

#[tokio::test]
async fn a_trickled_body_is_cut_off_while_other_clients_are_served() {
    let coffer = Coffer::start_with(&[
        ("COFFER_ROOT_ACCESS_KEY_ID", ROOT_KEY_ID),
        ("COFFER_ROOT_SECRET_ACCESS_KEY", ROOT_SECRET),
        ("COFFER_IDLE_TIMEOUT_SECS", "2"),
    ]);
    let s3 = probe_bucket(&coffer).await;
    let url = s3
        .put_object()
        .bucket("probe-a")
        .key("slow")
        .presigned(PresigningConfig::expires_in(Duration::from_secs(600)).unwrap())
        .await
        .unwrap();
    // DeleteObjects cannot be presigned: sign its headers for a body that is never sent whole.
    let delete = sign_s3(
        (ROOT_KEY_ID, ROOT_SECRET),
        &coffer,
        "POST",
        "/probe-a?delete",
        &[("content-length", "100000")],
        Vec::new(),
        Payload::Declared("UNSIGNED-PAYLOAD"),
        SystemTime::now(),
    );
    let delete_head: String = delete
        .headers()
        .iter()
        .map(|(name, value)| format!("{name}: {}\r\n", value.to_str().unwrap()))
        .collect();
    let address = coffer.endpoint.trim_start_matches("http://").to_owned();
    let path = url.uri().trim_start_matches(&coffer.endpoint).to_owned();
    let mut slow = Vec::new();
    for n in 0..42 {
        // A third to S3 with a body Coffer streams (a presigned PUT), a third to S3 with a
        // body s3s reads itself (DeleteObjects), a third to the Query API (a form POST).
        let head = match n % 3 {
            0 => format!("PUT {path} HTTP/1.1\r\nHost: {address}\r\nContent-Length: 100000\r\n\r\n"),
            1 => format!("POST /probe-a?delete HTTP/1.1\r\n{delete_head}\r\n"),
            _ => format!(
                "POST / HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100000\r\n\r\n"
            ),
        };
        slow.push(tokio::spawn(trickle(address.clone(), head)));
    }
    // Others are served meanwhile.
    for _ in 0..20 {
        assert_eq!(object(&s3, "up/avatar.png").await.0, AVATAR);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for (n, task) in slow.into_iter().enumerate() {
        let (answer, after) = task.await.unwrap();
        assert!(after < Duration::from_secs(8), "cut off after {after:?}");
        let first_line = answer.lines().next().unwrap_or("");
        if n % 3 == 2 {
            assert!(first_line.contains(" 408 "), "{n}: {answer}");
        } else {
            assert!(
                first_line.contains(" 400 ") && answer.contains("RequestTimeout"),
                "{n}: {answer}"
            );
        }
    }
    let err = s3.head_object().bucket("probe-a").key("slow").send().await.unwrap_err();
    assert_eq!(s3_code(&err), "NotFound", "nothing of a cut-off body is stored");
}
