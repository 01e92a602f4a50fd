//! Limits and misbehaving clients over raw TCP: oversized declarations, stalled bodies and
//! headers, huge headers, too much metadata; and virtual-hosted style under `--domain`.

use std::time::{Duration, Instant, SystemTime};

use aws_credential_types::Credentials;
use aws_sdk_s3::primitives::ByteStream;
use aws_sigv4::http_request::{PayloadChecksumKind, SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::harness::{Coffer, ROOT_KEY_ID, ROOT_SECRET};
use crate::s3::s3_code;

/// The head of a signed request (`UNSIGNED-PAYLOAD`), ready to write to a socket.
fn signed_head(host: &str, method: &str, path: &str, extra: &[(&str, &str)]) -> String {
    let url = format!("http://{host}{path}");
    let identity = Credentials::new(ROOT_KEY_ID, ROOT_SECRET, None, None, "test").into();
    let mut settings = SigningSettings::default();
    settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region("us-east-1")
        .name("s3")
        .time(SystemTime::now())
        .settings(settings)
        .build()
        .unwrap()
        .into();
    let mut headers = vec![("host", host)];
    headers.extend_from_slice(extra);
    let signable = SignableRequest::new(method, &url, headers.iter().copied(), SignableBody::UnsignedPayload).unwrap();
    let (instructions, _) = sign(signable, &params).unwrap().into_parts();
    let mut head = format!("{method} {path} HTTP/1.1\r\n");
    for (name, value) in headers.iter().copied().chain(instructions.headers()) {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    head
}

fn addr(coffer: &Coffer) -> String {
    coffer.endpoint.trim_start_matches("http://").to_owned()
}

/// Writes `bytes`, then reads whatever comes back until the server closes or `wait` passes.
async fn exchange(coffer: &Coffer, bytes: &[u8], wait: Duration) -> String {
    let mut stream = tokio::net::TcpStream::connect(addr(coffer)).await.unwrap();
    // The server may answer and close before the whole request is written.
    let _ = stream.write_all(bytes).await;
    let mut reply = Vec::new();
    let _ = tokio::time::timeout(wait, async {
        let mut buffer = [0u8; 4096];
        loop {
            match stream.read(&mut buffer).await {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    reply.extend_from_slice(&buffer[..n]);
                    if String::from_utf8_lossy(&reply).contains("</Error>") {
                        break;
                    }
                }
            }
        }
    })
    .await;
    String::from_utf8_lossy(&reply).into_owned()
}

async fn coffer_with(env: &[(&str, &str)]) -> (Coffer, aws_sdk_s3::Client) {
    let mut all = vec![
        ("COFFER_ROOT_ACCESS_KEY_ID", ROOT_KEY_ID),
        ("COFFER_ROOT_SECRET_ACCESS_KEY", ROOT_SECRET),
    ];
    all.extend_from_slice(env);
    let coffer = Coffer::start_with(&all);
    let s3 = coffer.root_s3();
    s3.create_bucket().bucket("limits").send().await.unwrap();
    (coffer, s3)
}

#[tokio::test]
async fn an_object_over_5_gib_is_refused_before_its_body_is_read() {
    let (coffer, s3) = coffer_with(&[]).await;
    let host = addr(&coffer);
    let length = (5u64 * 1024 * 1024 * 1024 + 1).to_string();
    let head = signed_head(&host, "PUT", "/limits/huge", &[("content-length", length.as_str())]);
    let reply = exchange(&coffer, head.as_bytes(), Duration::from_secs(10)).await;
    assert!(reply.starts_with("HTTP/1.1 400"), "{reply}");
    assert!(reply.contains("<Code>EntityTooLarge</Code>"), "{reply}");
    assert!(s3.head_object().bucket("limits").key("huge").send().await.is_err());
}

#[tokio::test]
async fn a_stalled_upload_times_out_and_leaves_nothing() {
    let (coffer, s3) = coffer_with(&[("COFFER_IDLE_TIMEOUT_SECS", "1")]).await;
    let host = addr(&coffer);
    let head = signed_head(&host, "PUT", "/limits/stalled", &[("content-length", "1000")]);
    let mut request = head.into_bytes();
    request.extend_from_slice(&[b'x'; 10]);
    let started = Instant::now();
    let reply = exchange(&coffer, &request, Duration::from_secs(15)).await;
    assert!(started.elapsed() < Duration::from_secs(10));
    assert!(reply.contains("<Code>RequestTimeout</Code>"), "{reply}");
    assert!(s3.head_object().bucket("limits").key("stalled").send().await.is_err());
    let temps = coffer.blob_files().len();
    assert_eq!(temps, 0);

    // Headers that never finish are cut off too.
    let started = Instant::now();
    let reply = exchange(&coffer, b"GET /limits HTTP/1.1\r\nhost: x\r\n", Duration::from_secs(15)).await;
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "the half-sent headers were waited on"
    );
    assert!(!reply.contains("200 OK"));
}

#[tokio::test]
async fn oversized_headers_and_metadata_are_refused() {
    let (coffer, s3) = coffer_with(&[]).await;
    let big = format!(
        "GET /limits HTTP/1.1\r\nhost: x\r\nx-filler: {}\r\n\r\n",
        "a".repeat(20 * 1024)
    );
    let reply = exchange(&coffer, big.as_bytes(), Duration::from_secs(5)).await;
    assert!(reply.starts_with("HTTP/1.1 400"), "{reply}");
    assert!(reply.contains("<Code>RequestHeaderSectionTooLarge</Code>"), "{reply}");
    // Far beyond any limit, hyper itself refuses before buffering more.
    let huge = format!(
        "GET /limits HTTP/1.1\r\nhost: x\r\nx-filler: {}\r\n\r\n",
        "a".repeat(1024 * 1024)
    );
    let reply = exchange(&coffer, huge.as_bytes(), Duration::from_secs(5)).await;
    assert!(reply.starts_with("HTTP/1.1 431"), "{reply}");

    let err = s3
        .put_object()
        .bucket("limits")
        .key("meta")
        .metadata("big", "m".repeat(2100))
        .body(ByteStream::from_static(b"x"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(s3_code(&err), "MetadataTooLarge");
    s3.put_object()
        .bucket("limits")
        .key("meta")
        .metadata("fits", "m".repeat(2000))
        .body(ByteStream::from_static(b"x"))
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn a_configured_domain_adds_virtual_hosted_style() {
    let (coffer, s3) = coffer_with(&[("COFFER_DOMAIN", "s3.coffer.test")]).await;
    let port = addr(&coffer).rsplit(':').next().unwrap().to_owned();
    let vhost = format!("limits.s3.coffer.test:{port}");
    let head = signed_head(&vhost, "PUT", "/hosted.txt", &[("content-length", "6")]);
    let mut request = head.into_bytes();
    request.extend_from_slice(b"hosted");
    let reply = exchange(&coffer, &request, Duration::from_secs(2)).await;
    assert!(reply.starts_with("HTTP/1.1 200"), "{reply}");
    // Path style still works beside it, through the SDK.
    let got = s3.get_object().bucket("limits").key("hosted.txt").send().await.unwrap();
    assert_eq!(got.body.collect().await.unwrap().into_bytes().as_ref(), b"hosted");
    let head = signed_head(&vhost, "GET", "/hosted.txt", &[]);
    let reply = exchange(&coffer, head.as_bytes(), Duration::from_secs(2)).await;
    assert!(
        reply.starts_with("HTTP/1.1 200") && reply.ends_with("hosted"),
        "{reply}"
    );
}

#[tokio::test]
async fn oversized_xml_and_post_forms_are_refused() {
    let (coffer, _s3) = coffer_with(&[]).await;
    let host = addr(&coffer);
    // A DeleteObjects body far beyond what 1,000 keys need.
    let xml = format!("<Delete>{}</Delete>", "<Object><Key>k</Key></Object>".repeat(200_000));
    let length = xml.len().to_string();
    let head = signed_head(
        &host,
        "POST",
        "/limits?delete",
        &[
            ("content-length", length.as_str()),
            ("content-md5", "AAAAAAAAAAAAAAAAAAAAAA=="),
        ],
    );
    let mut request = head.into_bytes();
    request.extend_from_slice(xml.as_bytes());
    let reply = exchange(&coffer, &request, Duration::from_secs(10)).await;
    assert!(reply.starts_with("HTTP/1.1 400"), "{}", &reply[..reply.len().min(300)]);
    assert!(reply.contains("<Code>MaxMessageLengthExceeded</Code>"), "{reply}");

    let boundary = "xyz";
    let form_post = |path: &str, form: Vec<u8>| {
        let head = format!(
            "POST {path} HTTP/1.1\r\nhost: {host}\r\ncontent-type: multipart/form-data; boundary={boundary}\r\n\
             content-length: {}\r\n\r\n",
            form.len()
        );
        let mut request = head.into_bytes();
        request.extend(form);
        request
    };
    // A browser-form POST with a large file, unauthenticated, to a private bucket: refused
    // before its file is stored.
    let mut form = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"key\"\r\n\r\nk\r\n--{boundary}\r\n\
         Content-Disposition: form-data; name=\"file\"; filename=\"f\"\r\n\r\n"
    )
    .into_bytes();
    form.extend(vec![b'x'; 2 * 1024 * 1024]);
    form.extend(format!("\r\n--{boundary}--\r\n").as_bytes());
    let reply = exchange(&coffer, &form_post("/limits", form), Duration::from_secs(10)).await;
    assert!(reply.starts_with("HTTP/1.1 403"), "{}", &reply[..reply.len().min(300)]);
    assert!(reply.contains("<Code>AccessDenied</Code>"), "{reply}");

    // A part header that never ends, before any signature: refused once past S3's bound on
    // what precedes the file, never held whole.
    let mut form = format!("--{boundary}\r\nContent-Disposition: form-data; name=\"a").into_bytes();
    form.extend(vec![b'x'; 4 * 1024 * 1024]);
    let reply = exchange(&coffer, &form_post("/limits", form), Duration::from_secs(10)).await;
    assert!(reply.starts_with("HTTP/1.1 400"), "{}", &reply[..reply.len().min(300)]);
    assert!(reply.contains("<Code>MaxPostPreDataLengthExceeded</Code>"), "{reply}");

    // A form posted anywhere but a bucket's root is no upload (s3s never sees it).
    let form = format!("--{boundary}\r\nContent-Disposition: form-data; name=\"key\"\r\n\r\nk\r\n--{boundary}--\r\n");
    let reply = exchange(
        &coffer,
        &form_post("/limits/some/key", form.clone().into_bytes()),
        Duration::from_secs(10),
    )
    .await;
    assert!(reply.starts_with("HTTP/1.1 405"), "{}", &reply[..reply.len().min(300)]);
    // Nor is one to a "bucket" whose name hides a key (`%2F`): it would land elsewhere.
    let reply = exchange(
        &coffer,
        &form_post("/limits%2Fsome", form.into_bytes()),
        Duration::from_secs(10),
    )
    .await;
    assert!(reply.starts_with("HTTP/1.1 405"), "{}", &reply[..reply.len().min(300)]);
}
