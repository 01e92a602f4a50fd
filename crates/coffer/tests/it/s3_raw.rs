//! S3 over raw signed HTTP, for what the SDK does not send over `http://`: checksum trailers
//! in aws-chunked bodies, wrong digests, and presigned URLs fetched by a plain client.

use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use aws_sdk_s3::presigning::PresigningConfig;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{ChecksumAlgorithm, ChecksumMode};
use aws_sigv4::http_request::{PayloadChecksumKind, SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;

use crate::harness::{Coffer, ROOT_KEY_ID, ROOT_SECRET};
use crate::s3::s3_code;

pub struct Reply {
    pub status: u16,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn code(&self) -> String {
        let text = String::from_utf8_lossy(&self.body);
        text.split("<Code>")
            .nth(1)
            .and_then(|r| r.split("</Code>").next())
            .unwrap_or("")
            .to_owned()
    }
}

/// How the payload is declared in `x-amz-content-sha256`.
#[derive(Clone, Copy)]
pub enum Payload<'a> {
    /// The hex SHA-256 of the body.
    Signed,
    /// A literal such as `STREAMING-UNSIGNED-PAYLOAD-TRAILER` or a deliberately wrong hash.
    Declared(&'a str),
}

/// Signs a request to `path` with the root key (SigV4, us-east-1) and sends it.
pub async fn signed_s3(
    coffer: &Coffer,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Vec<u8>,
    payload: Payload<'_>,
) -> Reply {
    signed_s3_at(coffer, method, path, headers, body, payload, SystemTime::now()).await
}

/// As [`signed_s3`], signed as if at `at`.
pub async fn signed_s3_at(
    coffer: &Coffer,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Vec<u8>,
    payload: Payload<'_>,
    at: SystemTime,
) -> Reply {
    send(sign_s3(
        (ROOT_KEY_ID, ROOT_SECRET),
        coffer,
        method,
        path,
        headers,
        body,
        payload,
        at,
    ))
    .await
}

/// A request to `path` signed with `key` (id, secret; SigV4, us-east-1) as if at `at`, not sent.
#[allow(clippy::too_many_arguments)]
pub fn sign_s3(
    key: (&str, &str),
    coffer: &Coffer,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Vec<u8>,
    payload: Payload<'_>,
    at: SystemTime,
) -> http::Request<Vec<u8>> {
    let url = format!("{}{}", coffer.endpoint, path);
    let host = coffer.endpoint.trim_start_matches("http://").to_owned();
    let mut request = http::Request::builder().method(method).uri(&url).header("host", &host);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let mut request = request.body(body).unwrap();
    let identity = Credentials::new(key.0, key.1, None, None, "test").into();
    let mut settings = SigningSettings::default();
    settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region("us-east-1")
        .name("s3")
        .time(at)
        .settings(settings)
        .build()
        .unwrap()
        .into();
    let header_pairs: Vec<(String, String)> = request
        .headers()
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_str().unwrap().to_owned()))
        .collect();
    let body_for_signing = match payload {
        Payload::Signed => SignableBody::Bytes(request.body()),
        Payload::Declared(value) => SignableBody::Precomputed(value.to_owned()),
    };
    let signable = SignableRequest::new(
        method,
        &url,
        header_pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        body_for_signing,
    )
    .unwrap();
    let (instructions, _) = sign(signable, &params).unwrap().into_parts();
    instructions.apply_to_request_http1x(&mut request);
    request
}

pub async fn send(request: http::Request<Vec<u8>>) -> Reply {
    let client = reqwest::Client::new();
    let mut builder = client.request(request.method().clone(), request.uri().to_string());
    for (name, value) in request.headers() {
        if name != "host" {
            builder = builder.header(name.as_str(), value.as_bytes());
        }
    }
    let response = builder.body(request.into_body()).send().await.expect("request sent");
    Reply {
        status: response.status().as_u16(),
        body: response.bytes().await.unwrap().to_vec(),
    }
}

/// An aws-chunked body of `data` in `chunk`-byte chunks, ending with one trailer.
fn aws_chunked(data: &[u8], chunk: usize, trailer: Option<(&str, &str)>) -> Vec<u8> {
    let mut body = Vec::new();
    for piece in data.chunks(chunk) {
        body.extend(format!("{:x}\r\n", piece.len()).as_bytes());
        body.extend(piece);
        body.extend(b"\r\n");
    }
    body.extend(b"0\r\n");
    if let Some((name, value)) = trailer {
        body.extend(format!("{name}:{value}\r\n").as_bytes());
    }
    body.extend(b"\r\n");
    body
}

/// The checksum Coffer stores for `data` in `algorithm`, learned through the SDK.
async fn reference_checksum(s3: &aws_sdk_s3::Client, data: &[u8], algorithm: ChecksumAlgorithm) -> String {
    s3.put_object()
        .bucket("raw")
        .key("reference")
        .checksum_algorithm(algorithm.clone())
        .body(ByteStream::from(data.to_vec()))
        .send()
        .await
        .unwrap();
    let head = s3
        .head_object()
        .bucket("raw")
        .key("reference")
        .checksum_mode(ChecksumMode::Enabled)
        .send()
        .await
        .unwrap();
    match algorithm {
        ChecksumAlgorithm::Crc32 => head.checksum_crc32(),
        ChecksumAlgorithm::Crc32C => head.checksum_crc32_c(),
        ChecksumAlgorithm::Crc64Nvme => head.checksum_crc64_nvme(),
        ChecksumAlgorithm::Sha1 => head.checksum_sha1(),
        ChecksumAlgorithm::Sha256 => head.checksum_sha256(),
        _ => None,
    }
    .expect("a stored checksum")
    .to_owned()
}

async fn with_bucket() -> (Coffer, aws_sdk_s3::Client) {
    let coffer = Coffer::start();
    let s3 = coffer.root_s3();
    s3.create_bucket().bucket("raw").send().await.unwrap();
    (coffer, s3)
}

fn blob_count(coffer: &Coffer) -> usize {
    coffer.blob_files().len()
}

#[tokio::test]
async fn checksum_trailers_are_verified_and_never_stored_as_framing() {
    let (coffer, s3) = with_bucket().await;
    let data: Vec<u8> = (0..70_000u32).map(|i| (i * 7) as u8).collect();
    let decoded_len = data.len().to_string();
    for (algorithm, trailer) in [
        (ChecksumAlgorithm::Crc32, "x-amz-checksum-crc32"),
        (ChecksumAlgorithm::Crc32C, "x-amz-checksum-crc32c"),
        (ChecksumAlgorithm::Crc64Nvme, "x-amz-checksum-crc64nvme"),
        (ChecksumAlgorithm::Sha1, "x-amz-checksum-sha1"),
        (ChecksumAlgorithm::Sha256, "x-amz-checksum-sha256"),
    ] {
        let value = reference_checksum(&s3, &data, algorithm.clone()).await;
        let headers = [
            ("content-encoding", "aws-chunked"),
            ("x-amz-decoded-content-length", decoded_len.as_str()),
            ("x-amz-trailer", trailer),
        ];
        let good = aws_chunked(&data, 8192, Some((trailer, &value)));
        let reply = signed_s3(
            &coffer,
            "PUT",
            "/raw/trailed",
            &headers,
            good,
            Payload::Declared("STREAMING-UNSIGNED-PAYLOAD-TRAILER"),
        )
        .await;
        assert_eq!(reply.status, 200, "{trailer}: {}", String::from_utf8_lossy(&reply.body));
        let got = s3
            .get_object()
            .bucket("raw")
            .key("trailed")
            .checksum_mode(ChecksumMode::Enabled)
            .send()
            .await
            .unwrap();
        assert_eq!(got.content_encoding(), None, "aws-chunked is not a stored encoding");
        assert!(
            got.body.collect().await.unwrap().into_bytes().as_ref() == data.as_slice(),
            "{trailer}"
        );

        // A wrong trailer value: BadDigest, and the previous object stays.
        let wrong = if value.starts_with('A') {
            value.replacen('A', "B", 1)
        } else {
            format!("A{}", &value[1..])
        };
        let bad = aws_chunked(&data[..1000], 512, Some((trailer, &wrong)));
        let blobs = blob_count(&coffer);
        let reply = signed_s3(
            &coffer,
            "PUT",
            "/raw/trailed",
            &[headers[0], ("x-amz-decoded-content-length", "1000"), headers[2]],
            bad,
            Payload::Declared("STREAMING-UNSIGNED-PAYLOAD-TRAILER"),
        )
        .await;
        assert_eq!((reply.status, reply.code().as_str()), (400, "BadDigest"), "{trailer}");
        assert_eq!(blob_count(&coffer), blobs);
        let head = s3.head_object().bucket("raw").key("trailed").send().await.unwrap();
        assert_eq!(head.content_length(), Some(data.len() as i64));
    }
    // A declared trailer that never comes.
    let missing = aws_chunked(b"abc", 3, None);
    let reply = signed_s3(
        &coffer,
        "PUT",
        "/raw/missing",
        &[
            ("content-encoding", "aws-chunked"),
            ("x-amz-decoded-content-length", "3"),
            ("x-amz-trailer", "x-amz-checksum-crc32"),
        ],
        missing,
        Payload::Declared("STREAMING-UNSIGNED-PAYLOAD-TRAILER"),
    )
    .await;
    assert_eq!(reply.status, 400);
    assert!(s3.head_object().bucket("raw").key("missing").send().await.is_err());
}

#[tokio::test]
async fn checksum_headers_of_every_algorithm_are_verified() {
    let (coffer, s3) = with_bucket().await;
    for algorithm in [
        ChecksumAlgorithm::Crc32,
        ChecksumAlgorithm::Crc32C,
        ChecksumAlgorithm::Crc64Nvme,
        ChecksumAlgorithm::Sha1,
        ChecksumAlgorithm::Sha256,
    ] {
        // The SDK computes and sends the header over http://.
        let value = reference_checksum(&s3, b"checked bytes", algorithm.clone()).await;
        assert!(!value.is_empty());
    }
    let blobs = blob_count(&coffer);
    let err = s3
        .put_object()
        .bucket("raw")
        .key("lying")
        .checksum_sha256("bad")
        .body(ByteStream::from_static(b"checked bytes"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        s3_code(&err),
        "BadDigest",
        "a value that does not decode cannot match either"
    );
    let err = s3
        .put_object()
        .bucket("raw")
        .key("lying")
        .checksum_crc32("AAAAAA==")
        .body(ByteStream::from_static(b"checked bytes"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(s3_code(&err), "BadDigest");
    let err = s3
        .put_object()
        .bucket("raw")
        .key("lying")
        .checksum_sha256("n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg=")
        .body(ByteStream::from_static(b"checked bytes"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(s3_code(&err), "BadDigest");
    let err = s3
        .put_object()
        .bucket("raw")
        .key("lying")
        .content_md5("1B2M2Y8AsgTpgAmY7PhCfg==")
        .body(ByteStream::from_static(b"checked bytes"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(s3_code(&err), "BadDigest");
    let err = s3
        .put_object()
        .bucket("raw")
        .key("lying")
        .content_md5("not-md5")
        .body(ByteStream::from_static(b"checked bytes"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(s3_code(&err), "InvalidDigest");
    assert!(s3.head_object().bucket("raw").key("lying").send().await.is_err());
    assert_eq!(blob_count(&coffer), blobs);
}

#[tokio::test]
async fn a_body_that_does_not_match_its_signed_hash_is_refused() {
    let (coffer, s3) = with_bucket().await;
    let wrong_hash = "0".repeat(64);
    let reply = signed_s3(
        &coffer,
        "PUT",
        "/raw/tampered",
        &[],
        b"real body".to_vec(),
        Payload::Declared(&wrong_hash),
    )
    .await;
    assert_eq!(
        (reply.status, reply.code().as_str()),
        (400, "XAmzContentSHA256Mismatch")
    );
    assert!(s3.head_object().bucket("raw").key("tampered").send().await.is_err());
    let reply = signed_s3(&coffer, "PUT", "/raw/fine", &[], b"real body".to_vec(), Payload::Signed).await;
    assert_eq!(reply.status, 200);
}

#[tokio::test]
async fn presigned_urls_work_in_a_plain_client_until_they_expire() {
    let (_coffer, s3) = with_bucket().await;
    s3.put_object()
        .bucket("raw")
        .key("beach.jpg")
        .body(ByteStream::from_static(b"sand"))
        .send()
        .await
        .unwrap();
    let presigned = s3
        .get_object()
        .bucket("raw")
        .key("beach.jpg")
        .presigned(PresigningConfig::expires_in(Duration::from_secs(600)).unwrap())
        .await
        .unwrap();
    let response = reqwest::get(presigned.uri()).await.unwrap();
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(response.bytes().await.unwrap().as_ref(), b"sand");

    let upload = s3
        .put_object()
        .bucket("raw")
        .key("uploaded")
        .presigned(PresigningConfig::expires_in(Duration::from_secs(600)).unwrap())
        .await
        .unwrap();
    let response = reqwest::Client::new()
        .put(upload.uri())
        .body("via presigned put")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let got = s3.get_object().bucket("raw").key("uploaded").send().await.unwrap();
    assert_eq!(
        got.body.collect().await.unwrap().into_bytes().as_ref(),
        b"via presigned put"
    );

    let expired = s3
        .get_object()
        .bucket("raw")
        .key("beach.jpg")
        .presigned(
            PresigningConfig::builder()
                .start_time(SystemTime::now() - Duration::from_secs(3600))
                .expires_in(Duration::from_secs(60))
                .build()
                .unwrap(),
        )
        .await
        .unwrap();
    let response = reqwest::get(expired.uri()).await.unwrap();
    assert_eq!(response.status().as_u16(), 403);
    assert!(response.text().await.unwrap().contains("<Code>AccessDenied</Code>"));

    let unsigned = presigned.uri().split('?').next().unwrap().to_owned();
    let response = reqwest::get(&unsigned).await.unwrap();
    assert_eq!(response.status().as_u16(), 403);
}

#[tokio::test]
async fn presigned_urls_live_at_most_a_week() {
    let (coffer, s3) = with_bucket().await;
    s3.put_object()
        .bucket("raw")
        .key("k")
        .body(ByteStream::from_static(b"x"))
        .send()
        .await
        .unwrap();
    // The SDK refuses to presign for more than a week, so sign such a URL by hand.
    let url = format!("{}/raw/k", coffer.endpoint);
    let identity = Credentials::new(ROOT_KEY_ID, ROOT_SECRET, None, None, "test").into();
    let mut settings = SigningSettings::default();
    settings.signature_location = aws_sigv4::http_request::SignatureLocation::QueryParams;
    settings.expires_in = Some(Duration::from_secs(8 * 24 * 3600));
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region("us-east-1")
        .name("s3")
        .time(SystemTime::now())
        .settings(settings)
        .build()
        .unwrap()
        .into();
    let host = coffer.endpoint.trim_start_matches("http://").to_owned();
    let signable = SignableRequest::new(
        "GET",
        &url,
        [("host", host.as_str())].into_iter(),
        SignableBody::UnsignedPayload,
    )
    .unwrap();
    let (instructions, _) = sign(signable, &params).unwrap().into_parts();
    let mut request = http::Request::get(&url).body(Vec::new()).unwrap();
    instructions.apply_to_request_http1x(&mut request);
    let reply = send(request).await;
    assert_eq!(
        (reply.status, reply.code().as_str()),
        (400, "AuthorizationQueryParametersError")
    );
}

/// A PUT with `STREAMING-AWS4-HMAC-SHA256-PAYLOAD`: every chunk signed, chained from the
/// request's signature (what the Java SDK sends). `tamper` flips a byte of the second chunk
/// after signing.
async fn signed_chunks_put(coffer: &Coffer, key: &str, data: &[u8], chunk: usize, tamper: bool) -> Reply {
    let url = format!("{}/raw/{key}", coffer.endpoint);
    let host = coffer.endpoint.trim_start_matches("http://").to_owned();
    let chunks: Vec<&[u8]> = data.chunks(chunk).collect();
    let framing = |len: usize| format!("{len:x};chunk-signature=").len() + 64 + 2 + len + 2;
    let encoded_len: usize = chunks.iter().map(|c| framing(c.len())).sum::<usize>() + framing(0);
    let decoded_len = data.len().to_string();
    let encoded_len = encoded_len.to_string();
    let at = SystemTime::now();
    let identity = Credentials::new(ROOT_KEY_ID, ROOT_SECRET, None, None, "test").into();
    let mut settings = SigningSettings::default();
    settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region("us-east-1")
        .name("s3")
        .time(at)
        .settings(settings)
        .build()
        .unwrap()
        .into();
    let headers = [
        ("host", host.as_str()),
        ("content-encoding", "aws-chunked"),
        ("content-length", encoded_len.as_str()),
        ("x-amz-decoded-content-length", decoded_len.as_str()),
    ];
    let signable = SignableRequest::new(
        "PUT",
        &url,
        headers.iter().copied(),
        SignableBody::Precomputed("STREAMING-AWS4-HMAC-SHA256-PAYLOAD".to_owned()),
    )
    .unwrap();
    let (instructions, seed) = sign(signable, &params).unwrap().into_parts();
    let chunk_params = v4::SigningParams::builder()
        .identity(&identity)
        .region("us-east-1")
        .name("s3")
        .time(at)
        .settings(())
        .build()
        .unwrap();
    let mut running = seed;
    let mut body = Vec::new();
    for (i, piece) in chunks.iter().copied().chain(std::iter::once(&[][..])).enumerate() {
        let signed = v4::sign_chunk(&bytes::Bytes::copy_from_slice(piece), &running, &chunk_params).unwrap();
        running = signed.signature().to_owned();
        body.extend(format!("{:x};chunk-signature={running}\r\n", piece.len()).as_bytes());
        let mut piece = piece.to_vec();
        if tamper && i == 1 {
            piece[0] ^= 1;
        }
        body.extend(piece);
        body.extend(b"\r\n");
    }
    let mut request = http::Request::put(&url);
    for (name, value) in &headers[1..] {
        request = request.header(*name, *value);
    }
    let mut request = request.body(body).unwrap();
    instructions.apply_to_request_http1x(&mut request);
    send(request).await
}

#[tokio::test]
async fn signed_chunks_are_verified_chunk_by_chunk() {
    let (coffer, s3) = with_bucket().await;
    let data: Vec<u8> = (0..200_000u32).map(|i| (i % 253) as u8).collect();
    let reply = signed_chunks_put(&coffer, "chunked", &data, 64 * 1024, false).await;
    assert_eq!(reply.status, 200, "{}", String::from_utf8_lossy(&reply.body));
    let got = s3.get_object().bucket("raw").key("chunked").send().await.unwrap();
    assert_eq!(got.content_encoding(), None);
    assert!(got.body.collect().await.unwrap().into_bytes().as_ref() == data.as_slice());

    let blobs = blob_count(&coffer);
    let reply = signed_chunks_put(&coffer, "tampered", &data, 64 * 1024, true).await;
    assert_eq!((reply.status, reply.code().as_str()), (403, "SignatureDoesNotMatch"));
    assert!(s3.head_object().bucket("raw").key("tampered").send().await.is_err());
    assert_eq!(blob_count(&coffer), blobs);
}

#[tokio::test]
async fn requests_signed_too_far_from_now_are_refused() {
    let (coffer, _s3) = with_bucket().await;
    for offset in [-20 * 60, 20 * 60] {
        let at = if offset < 0 {
            SystemTime::now() - Duration::from_secs(-offset as u64)
        } else {
            SystemTime::now() + Duration::from_secs(offset as u64)
        };
        let reply = signed_s3_at(&coffer, "GET", "/raw", &[], Vec::new(), Payload::Signed, at).await;
        assert_eq!(
            (reply.status, reply.code().as_str()),
            (403, "RequestTimeTooSkewed"),
            "{offset}"
        );
    }
    // Ten minutes off is within S3's fifteen.
    let at = SystemTime::now() - Duration::from_secs(600);
    let reply = signed_s3_at(&coffer, "GET", "/raw", &[], Vec::new(), Payload::Signed, at).await;
    assert_eq!(reply.status, 200);
}

/// Every S3 answer carries `x-amz-request-id` and `x-amz-id-2`; an error document names its
/// `RequestId`, `HostId` and `Resource`; the request's log line carries the same id, so the id a
/// user quotes leads to the server's record.
#[tokio::test]
async fn request_ids_lead_from_an_answer_to_its_log_line() {
    use aws_sdk_s3::operation::{RequestId, RequestIdExt};
    let logs = tempfile::tempdir().unwrap();
    let log = logs.path().join("coffer.log");
    let coffer = Coffer::start_logging_to(&log);
    let s3 = coffer.root_s3();
    let made = s3.create_bucket().bucket("ids").send().await.unwrap();
    let made_id = made.request_id().expect("x-amz-request-id").to_owned();
    assert_eq!(made_id.len(), 16);
    assert!(made.extended_request_id().is_some(), "x-amz-id-2");
    let missing = s3
        .get_object()
        .bucket("ids")
        .key("no/such key")
        .send()
        .await
        .unwrap_err();
    let error_id = missing.request_id().expect("the error's RequestId").to_owned();
    assert_ne!(error_id, made_id);
    let raw = reqwest::get(format!("{}/ids/no-such-key", coffer.endpoint))
        .await
        .unwrap();
    let header_id = raw.headers()["x-amz-request-id"].to_str().unwrap().to_owned();
    let body = raw.text().await.unwrap();
    assert!(body.contains(&format!("<RequestId>{header_id}</RequestId>")), "{body}");
    assert!(body.contains("<Resource>/ids/no-such-key</Resource>"), "{body}");
    assert!(body.contains("<HostId>"), "{body}");
    // The log names each request by the same id.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        if [&made_id, &error_id, &header_id]
            .iter()
            .all(|id| text.contains(id.as_str()))
        {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "ids missing from the log:\n{text}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// `--log-format json`: one JSON object per line, the request's fields at its top level.
#[tokio::test]
async fn json_logs_are_one_object_per_request_line() {
    let logs = tempfile::tempdir().unwrap();
    let log = logs.path().join("coffer.log");
    let coffer = Coffer::start_logged(
        &[
            ("COFFER_ROOT_ACCESS_KEY_ID", crate::harness::ROOT_KEY_ID),
            ("COFFER_ROOT_SECRET_ACCESS_KEY", crate::harness::ROOT_SECRET),
            ("COFFER_LOG_FORMAT", "json"),
        ],
        Some(log.clone()),
    );
    let raw = reqwest::get(format!("{}/nobucket/key", coffer.endpoint)).await.unwrap();
    let id = raw.headers()["x-amz-request-id"].to_str().unwrap().to_owned();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    let line = loop {
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        if let Some(line) = text.lines().find(|l| l.contains(&id)) {
            break line.to_owned();
        }
        assert!(std::time::Instant::now() < deadline, "no line for {id}:\n{text}");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    let record: serde_json::Value = serde_json::from_str(&line).unwrap();
    assert_eq!(record["request_id"], id.as_str());
    assert_eq!(record["status"], 404);
    assert_eq!(record["principal"], "anonymous");
    assert_eq!(record["level"], "INFO");
    // Every line is JSON.
    let text = std::fs::read_to_string(&log).unwrap();
    for line in text.lines().filter(|l| l.starts_with('{')) {
        serde_json::from_str::<serde_json::Value>(line).unwrap();
    }
}
