//! HTTPS without a proxy: a certificate from `coffer tls self-signed`, the API and the console
//! over TLS to the AWS SDK for Rust, boto3 and the AWS CLI (over HTTPS the SDKs send
//! aws-chunked bodies with checksum trailers), `aws:SecureTransport` true, and a SIGHUP that
//! swaps the certificate while a request is in flight without dropping it.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use aws_sdk_s3::primitives::ByteStream;
use aws_smithy_http_client::tls;
use serde_json::json;

use crate::harness::{Coffer, ROOT_KEY_ID, ROOT_SECRET, coffer_bin};

/// `coffer tls self-signed` into `dir`: (cert.pem, key.pem).
fn self_signed(dir: &Path) -> (PathBuf, PathBuf) {
    let out = Command::new(coffer_bin())
        .args([
            "tls",
            "self-signed",
            "--host",
            "127.0.0.1",
            "--host",
            "localhost",
            "--out-dir",
        ])
        .arg(dir)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    (dir.join("cert.pem"), dir.join("key.pem"))
}

fn start_tls(cert: &Path, key: &Path) -> Coffer {
    let coffer = Coffer::start_with(&[
        ("COFFER_ROOT_ACCESS_KEY_ID", ROOT_KEY_ID),
        ("COFFER_ROOT_SECRET_ACCESS_KEY", ROOT_SECRET),
        ("COFFER_TLS_CERT", cert.to_str().unwrap()),
        ("COFFER_TLS_KEY", key.to_str().unwrap()),
    ]);
    assert!(coffer.endpoint.starts_with("https://"), "{}", coffer.endpoint);
    assert!(coffer.console.starts_with("https://"), "{}", coffer.console);
    coffer
}

/// The Rust SDK trusting only `cert`.
fn sdk(coffer: &Coffer, cert: &Path) -> aws_sdk_s3::Client {
    let trust = tls::TrustStore::empty().with_pem_certificate(std::fs::read(cert).unwrap());
    let http = aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(tls::rustls_provider::CryptoMode::Ring))
        .tls_context(tls::TlsContext::builder().with_trust_store(trust).build().unwrap())
        .build_https();
    let config = aws_sdk_s3::Config::builder()
        .behavior_version(aws_sdk_s3::config::BehaviorVersion::latest())
        .region(aws_sdk_s3::config::Region::new("us-east-1"))
        .endpoint_url(&coffer.endpoint)
        .force_path_style(true)
        .credentials_provider(aws_credential_types::Credentials::new(
            ROOT_KEY_ID,
            ROOT_SECRET,
            None,
            None,
            "test",
        ))
        .http_client(http)
        .build();
    aws_sdk_s3::Client::from_conf(config)
}

fn reqwest_trusting(cert: &Path) -> reqwest::Client {
    reqwest::Client::builder()
        .tls_built_in_root_certs(false)
        .add_root_certificate(reqwest::Certificate::from_pem(&std::fs::read(cert).unwrap()).unwrap())
        .build()
        .unwrap()
}

#[tokio::test]
async fn the_sdk_boto3_and_the_cli_speak_https_with_checksum_trailers() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = self_signed(dir.path());
    let coffer = start_tls(&cert, &key);
    let s3 = sdk(&coffer, &cert);
    s3.create_bucket().bucket("secure").send().await.unwrap();
    // Only TLS may touch it: aws:SecureTransport is true over Coffer's own TLS.
    let tls_only = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Principal": "*",
        "Action": "s3:*", "Resource": ["arn:aws:s3:::secure", "arn:aws:s3:::secure/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]});
    s3.put_bucket_policy()
        .bucket("secure")
        .policy(tls_only.to_string())
        .send()
        .await
        .unwrap();
    // The SDK streams over HTTPS as aws-chunked with a CRC trailer.
    let body = vec![b'r'; 3 * 1024 * 1024 + 17];
    let put = s3
        .put_object()
        .bucket("secure")
        .key("from-rust")
        .body(ByteStream::from(body.clone()))
        .send()
        .await
        .unwrap();
    assert!(put.checksum_crc32().is_some() || put.checksum_crc64_nvme().is_some());
    let got = s3.get_object().bucket("secure").key("from-rust").send().await.unwrap();
    assert_eq!(got.body.collect().await.unwrap().into_bytes().as_ref(), body.as_slice());

    let script = r#"
import json, os, boto3
s3 = boto3.client("s3", aws_access_key_id=os.environ["KEY"], aws_secret_access_key=os.environ["SECRET"],
                  region_name="us-east-1", endpoint_url=os.environ["ENDPOINT"], verify=os.environ["CERT"])
s3.put_object(Bucket="secure", Key="from-boto3", Body=b"b" * 70000, ChecksumAlgorithm="CRC32")
body = s3.get_object(Bucket="secure", Key="from-boto3")["Body"].read()
print(json.dumps({"len": len(body), "keys": sorted(o["Key"] for o in s3.list_objects_v2(Bucket="secure")["Contents"])}))
"#;
    let out = Command::new(crate::cli::venv_python())
        .args(["-c", script])
        .env("ENDPOINT", &coffer.endpoint)
        .env("KEY", ROOT_KEY_ID)
        .env("SECRET", ROOT_SECRET)
        .env("CERT", &cert)
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let result: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(result["len"], 70000);

    let aws = crate::cli::Aws::new(&coffer.endpoint);
    aws.configure(ROOT_KEY_ID, ROOT_SECRET, "us-east-1");
    let file = dir.path().join("cli.bin");
    std::fs::write(&file, vec![b'c'; 9 * 1024 * 1024]).unwrap();
    let ca = cert.to_str().unwrap();
    aws.ok(&[
        "s3",
        "cp",
        file.to_str().unwrap(),
        "s3://secure/from-cli",
        "--ca-bundle",
        ca,
    ]);
    let listed = aws.ok(&["s3api", "list-objects-v2", "--bucket", "secure", "--ca-bundle", ca]);
    let keys: Vec<&str> = listed["Contents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["Key"].as_str().unwrap())
        .collect();
    assert_eq!(keys, ["from-boto3", "from-cli", "from-rust"]);
    // Without the certificate trusted, the CLI refuses the connection.
    let untrusted = aws.run(&["s3", "ls"]);
    assert!(!untrusted.status.success());

    // The console is served over the same certificate, and knows it: no plain-HTTP warning
    // even at a name that is not loopback.
    let signin = reqwest_trusting(&cert)
        .get(format!("{}/signin", coffer.console))
        .header("host", "coffer.example")
        .send()
        .await
        .unwrap();
    assert_eq!(signin.status(), 200);
    assert!(!signin.text().await.unwrap().contains("plain HTTP"));
}

#[tokio::test]
async fn sighup_never_stops_coffer_and_a_stalled_handshake_does_not_hold_a_stop() {
    // Without TLS, SIGHUP (`systemctl reload`) has nothing to reload and stops nothing.
    let plain = Coffer::start();
    let hup = Command::new("kill")
        .args(["-HUP", &plain.pid().to_string()])
        .status()
        .unwrap();
    assert!(hup.success());
    tokio::time::sleep(Duration::from_millis(300)).await;
    let health = reqwest::get(format!("{}/_coffer/health", plain.endpoint))
        .await
        .unwrap();
    assert_eq!(health.status(), 200);

    // With TLS, a connection that never finishes its handshake does not delay a stop.
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = self_signed(dir.path());
    let mut coffer = start_tls(&cert, &key);
    let address = coffer.endpoint.trim_start_matches("https://").to_owned();
    let _stalled = tokio::net::TcpStream::connect(&address).await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let started = std::time::Instant::now();
    let status = coffer.stop().expect("it was running");
    assert!(status.success(), "{status:?}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "the stop took {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn sighup_swaps_the_certificate_without_dropping_a_request_in_flight() {
    let first = tempfile::tempdir().unwrap();
    let (cert, key) = self_signed(first.path());
    let coffer = start_tls(&cert, &key);
    let s3 = sdk(&coffer, &cert);
    s3.create_bucket().bucket("rotate").send().await.unwrap();
    let url = s3
        .put_object()
        .bucket("rotate")
        .key("slow")
        .presigned(aws_sdk_s3::presigning::PresigningConfig::expires_in(Duration::from_secs(300)).unwrap())
        .await
        .unwrap()
        .uri()
        .to_owned();
    // A PUT whose body arrives over two seconds, on a connection made with the first certificate.
    let chunks = futures::stream::unfold(0u32, |sent| async move {
        if sent == 10 {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
        Some((Ok::<_, std::io::Error>(vec![b's'; 1024]), sent + 1))
    });
    let slow = tokio::spawn(
        reqwest_trusting(&cert)
            .put(url)
            .header("content-length", "10240")
            .body(reqwest::Body::wrap_stream(chunks))
            .send(),
    );
    tokio::time::sleep(Duration::from_millis(500)).await;

    // A new certificate in the same files, then SIGHUP.
    let old = first.path().join("old.pem");
    std::fs::copy(&cert, &old).unwrap();
    let second = tempfile::tempdir().unwrap();
    let (new_cert, new_key) = self_signed(second.path());
    std::fs::copy(&new_key, &key).unwrap();
    std::fs::copy(&new_cert, &cert).unwrap();
    let hup = Command::new("kill")
        .args(["-HUP", &coffer.pid().to_string()])
        .status()
        .unwrap();
    assert!(hup.success());
    tokio::time::sleep(Duration::from_millis(300)).await;

    let answered = slow.await.unwrap().unwrap();
    assert_eq!(answered.status(), 200, "the request in flight finished");
    // New connections get the new certificate: a client trusting only the old one is refused.
    let health = format!("{}/_coffer/health", coffer.endpoint);
    assert!(reqwest_trusting(&new_cert).get(&health).send().await.is_ok());
    assert!(reqwest_trusting(&old).get(&health).send().await.is_err());
    // (An open connection made under the old certificate stays open: that is the point.)
    let renewed = sdk(&coffer, &new_cert);
    let head = renewed.head_object().bucket("rotate").key("slow").send().await.unwrap();
    assert_eq!(head.content_length(), Some(10240));
}
