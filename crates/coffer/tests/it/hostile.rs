//! Hostile input changes nothing (issue 17's bad-input classes): each test takes a snapshot of
//! all a client can see (buckets, objects and their bytes, the bucket policy, users with
//! their policies and keys), sends what an attacker would try, asserts AWS's error for
//! each, and finds the snapshot unchanged. Reads are covered elsewhere (`auth.rs`,
//! `sts.rs`, `security.rs`); these are the writes.

use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_s3::presigning::PresigningConfig;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{Delete, ObjectIdentifier};
use aws_smithy_async::time::{SharedTimeSource, StaticTimeSource};

use crate::harness::Coffer;
use crate::s3_raw::{Payload, send, sign_s3, signed_s3};

const VAULT: &str = "vault";
const ORIGINAL: &[u8] = b"the original bytes";

/// All a client can see that a write could change.
#[derive(Debug, PartialEq)]
struct Snapshot {
    buckets: Vec<String>,
    objects: Vec<ObjectSeen>,
    /// Every version and delete marker (key, version id, latest), and pending uploads' keys.
    versions: Vec<(String, String, bool)>,
    uploads: Vec<String>,
    policy: Option<String>,
    bucket_tags: Tags,
    users: Vec<UserSeen>,
    groups: Vec<String>,
}

type Tags = Vec<(String, String)>;

/// An object of the vault: its ETag, bytes and tags.
#[derive(Debug, PartialEq)]
struct ObjectSeen {
    key: String,
    etag: String,
    bytes: Vec<u8>,
    tags: Tags,
}

/// A user with its inline and attached policies, groups and keys (id, status).
#[derive(Debug, PartialEq)]
struct UserSeen {
    name: String,
    inline: Vec<String>,
    attached: Vec<String>,
    groups: Vec<String>,
    keys: Vec<(String, String)>,
}

async fn snapshot(coffer: &Coffer) -> Snapshot {
    let (s3, iam) = (coffer.root_s3(), coffer.root_iam());
    let pairs = |tags: &[aws_sdk_s3::types::Tag]| -> Tags {
        tags.iter()
            .map(|t| (t.key().to_owned(), t.value().to_owned()))
            .collect()
    };
    let buckets = s3.list_buckets().send().await.unwrap();
    let mut objects = Vec::new();
    let listed = s3.list_objects_v2().bucket(VAULT).send().await.unwrap();
    for object in listed.contents() {
        let key = object.key().unwrap_or_default().to_owned();
        let got = s3.get_object().bucket(VAULT).key(&key).send().await.unwrap();
        let bytes = got.body.collect().await.unwrap().into_bytes().to_vec();
        let tags = s3.get_object_tagging().bucket(VAULT).key(&key).send().await.unwrap();
        let etag = object.e_tag().unwrap_or_default().to_owned();
        objects.push(ObjectSeen {
            key,
            etag,
            bytes,
            tags: pairs(tags.tag_set()),
        });
    }
    let listed = s3.list_object_versions().bucket(VAULT).send().await.unwrap();
    let versions = listed
        .versions()
        .iter()
        .map(|v| (v.key(), v.version_id(), v.is_latest()))
        .chain(
            listed
                .delete_markers()
                .iter()
                .map(|m| (m.key(), m.version_id(), m.is_latest())),
        )
        .map(|(key, id, latest)| {
            (
                key.unwrap_or_default().to_owned(),
                id.unwrap_or_default().to_owned(),
                latest == Some(true),
            )
        })
        .collect();
    let uploads = s3.list_multipart_uploads().bucket(VAULT).send().await.unwrap();
    let uploads = uploads
        .uploads()
        .iter()
        .filter_map(|u| u.key().map(str::to_owned))
        .collect();
    let policy = s3
        .get_bucket_policy()
        .bucket(VAULT)
        .send()
        .await
        .ok()
        .and_then(|p| p.policy().map(str::to_owned));
    let bucket_tags = s3
        .get_bucket_tagging()
        .bucket(VAULT)
        .send()
        .await
        .map(|t| pairs(t.tag_set()))
        .unwrap_or_default();
    let mut users = Vec::new();
    for user in iam.list_users().send().await.unwrap().users() {
        let name = user.user_name().to_owned();
        let inline = iam.list_user_policies().user_name(&name).send().await.unwrap();
        let attached = iam.list_attached_user_policies().user_name(&name).send().await.unwrap();
        let attached = attached
            .attached_policies()
            .iter()
            .filter_map(|p| p.policy_arn().map(str::to_owned))
            .collect();
        let groups = iam.list_groups_for_user().user_name(&name).send().await.unwrap();
        let groups = groups.groups().iter().map(|g| g.group_name().to_owned()).collect();
        let keys = iam.list_access_keys().user_name(&name).send().await.unwrap();
        let keys = keys
            .access_key_metadata()
            .iter()
            .map(|k| {
                (
                    k.access_key_id().unwrap_or_default().to_owned(),
                    k.status().map(|s| s.as_str().to_owned()).unwrap_or_default(),
                )
            })
            .collect();
        users.push(UserSeen {
            name,
            inline: inline.policy_names().to_vec(),
            attached,
            groups,
            keys,
        });
    }
    let groups = iam.list_groups().send().await.unwrap();
    Snapshot {
        buckets: buckets
            .buckets()
            .iter()
            .filter_map(|b| b.name().map(str::to_owned))
            .collect(),
        objects,
        versions,
        uploads,
        policy,
        bucket_tags,
        users,
        groups: groups.groups().iter().map(|g| g.group_name().to_owned()).collect(),
    }
}

/// The code and status of a refused call; `("accepted", 200)` for one that went through.
fn refusal<T, E: ProvideErrorMetadata>(
    result: Result<T, SdkError<E, aws_sdk_s3::config::http::HttpResponse>>,
) -> (String, u16) {
    match result {
        Ok(_) => ("accepted".to_owned(), 200),
        Err(err) => (
            err.as_service_error()
                .and_then(|e| e.code())
                .unwrap_or("not a service error")
                .to_owned(),
            err.raw_response().map_or(0, |r| r.status().as_u16()),
        ),
    }
}

/// A new client on `s3`'s settings: each call starts with the SDK's clock as set, before
/// any answer has corrected it (the SDK learns a server's clock skew from its answers).
fn fresh(s3: &aws_sdk_s3::Client) -> aws_sdk_s3::Client {
    aws_sdk_s3::Client::from_conf(s3.config().clone())
}

fn fresh_iam(iam: &aws_sdk_iam::Client) -> aws_sdk_iam::Client {
    aws_sdk_iam::Client::from_conf(iam.config().clone())
}

/// Every S3 write an attacker would try on the vault (each on a [`fresh`] client), and what
/// each was answered.
async fn s3_writes(s3: &aws_sdk_s3::Client, may_create_buckets: bool) -> Vec<(&'static str, (String, u16))> {
    let public = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::{VAULT}/*"}}]}}"#
    );
    let delete = Delete::builder()
        .objects(ObjectIdentifier::builder().key("k").build().unwrap())
        .build()
        .unwrap();
    let mut tried = vec![
        (
            "PutObject over k",
            refusal(
                fresh(s3)
                    .put_object()
                    .bucket(VAULT)
                    .key("k")
                    .body(ByteStream::from_static(b"defaced"))
                    .send()
                    .await,
            ),
        ),
        (
            "PutObject new",
            refusal(
                fresh(s3)
                    .put_object()
                    .bucket(VAULT)
                    .key("planted")
                    .body(ByteStream::from_static(b"x"))
                    .send()
                    .await,
            ),
        ),
        (
            "DeleteObject",
            refusal(fresh(s3).delete_object().bucket(VAULT).key("k").send().await),
        ),
        (
            "DeleteObjects",
            match fresh(s3).delete_objects().bucket(VAULT).delete(delete).send().await {
                Ok(out) if !out.errors().is_empty() => {
                    let codes: Vec<_> = out.errors().iter().map(|e| e.code().unwrap_or_default()).collect();
                    (format!("{} for each key", codes.join(",")), 200)
                }
                other => refusal(other),
            },
        ),
        (
            "CopyObject",
            refusal(
                fresh(s3)
                    .copy_object()
                    .bucket(VAULT)
                    .key("copied")
                    .copy_source(format!("{VAULT}/k"))
                    .send()
                    .await,
            ),
        ),
        (
            "PutBucketPolicy",
            refusal(fresh(s3).put_bucket_policy().bucket(VAULT).policy(public).send().await),
        ),
        (
            "DeleteBucket",
            refusal(fresh(s3).delete_bucket().bucket(VAULT).send().await),
        ),
    ];
    if !may_create_buckets {
        tried.push((
            "CreateBucket",
            refusal(fresh(s3).create_bucket().bucket("intruders").send().await),
        ));
    }
    tried
}

/// Every IAM write an attacker would try on the account (each on a fresh client), and what
/// each was answered.
async fn iam_writes(iam: &aws_sdk_iam::Client) -> Vec<(&'static str, (String, u16))> {
    let admin = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;
    vec![
        (
            "CreateUser",
            refusal(fresh_iam(iam).create_user().user_name("intruder").send().await),
        ),
        (
            "PutUserPolicy",
            refusal(
                fresh_iam(iam)
                    .put_user_policy()
                    .user_name("victim")
                    .policy_name("own")
                    .policy_document(admin)
                    .send()
                    .await,
            ),
        ),
        (
            "CreateAccessKey",
            refusal(fresh_iam(iam).create_access_key().user_name("victim").send().await),
        ),
        (
            "DeleteUser",
            refusal(fresh_iam(iam).delete_user().user_name("victim").send().await),
        ),
    ]
}

/// The `<Code>` of an XML error body.
fn code_in(body: &str) -> &str {
    body.split("<Code>")
        .nth(1)
        .and_then(|r| r.split("</Code>").next())
        .unwrap_or("")
}

#[track_caller]
fn assert_all_refused(fault: &str, tried: &[(&'static str, (String, u16))], code: &str, status: u16) {
    for (call, answer) in tried {
        // DeleteObjects is authorized key by key: a caller who may not delete is answered
        // 200 with AccessDenied for each key, as AWS answers.
        let per_key = *call == "DeleteObjects" && code == "AccessDenied";
        match per_key {
            true => assert_eq!(
                answer,
                &("AccessDenied for each key".to_owned(), 200),
                "{fault}: {call}"
            ),
            false => assert_eq!(answer, &(code.to_owned(), status), "{fault}: {call}"),
        }
    }
}

/// The vault with its object, and users: `victim` (a key), `idle` (an inactive key),
/// `gone` (a deleted key) and `powerless` (a key, no policies). Returns victim's key, the
/// idle key, the deleted key and powerless's key.
async fn scene(coffer: &Coffer) -> [(String, String); 4] {
    let (s3, iam) = (coffer.root_s3(), coffer.root_iam());
    s3.create_bucket().bucket(VAULT).send().await.unwrap();
    s3.put_object()
        .bucket(VAULT)
        .key("k")
        .body(ByteStream::from_static(ORIGINAL))
        .send()
        .await
        .unwrap();
    let victim = coffer.user_with_key("victim").await;
    let idle = coffer.user_with_key("idle").await;
    iam.update_access_key()
        .user_name("idle")
        .access_key_id(&idle.0)
        .status(aws_sdk_iam::types::StatusType::Inactive)
        .send()
        .await
        .unwrap();
    let gone = coffer.user_with_key("gone").await;
    iam.delete_access_key()
        .user_name("gone")
        .access_key_id(&gone.0)
        .send()
        .await
        .unwrap();
    let powerless = coffer.user_with_key("powerless").await;
    [victim, idle, gone, powerless]
}

#[tokio::test]
async fn writes_under_every_credential_fault_change_nothing() {
    let coffer = Coffer::start();
    let [victim, idle, gone, powerless] = scene(&coffer).await;
    let before = snapshot(&coffer).await;

    // Each fault: its name, the key used, and S3's and IAM's answers.
    type Answer = (&'static str, u16);
    let faults: [(&str, (&str, &str), Answer, Answer); 4] = [
        (
            "a wrong secret",
            (&victim.0, "not-the-secret"),
            ("SignatureDoesNotMatch", 403),
            ("SignatureDoesNotMatch", 403),
        ),
        (
            "an inactive key",
            (&idle.0, &idle.1),
            ("InvalidAccessKeyId", 403),
            ("InvalidClientTokenId", 403),
        ),
        (
            "a deleted key",
            (&gone.0, &gone.1),
            ("InvalidAccessKeyId", 403),
            ("InvalidClientTokenId", 403),
        ),
        (
            "a user without policies",
            (&powerless.0, &powerless.1),
            ("AccessDenied", 403),
            ("AccessDenied", 403),
        ),
    ];
    for (fault, (id, secret), (s3_code, s3_status), (iam_code, iam_status)) in faults {
        assert_all_refused(
            fault,
            &s3_writes(&coffer.s3(id, secret), false).await,
            s3_code,
            s3_status,
        );
        assert_all_refused(fault, &iam_writes(&coffer.iam(id, secret)).await, iam_code, iam_status);
    }

    // Signed 20 minutes ahead: past S3's and IAM's 15 minutes of skew. Without retries: on
    // a retry the SDK corrects its clock by the answer's Date, and rightly gets through.
    let ahead = SharedTimeSource::new(StaticTimeSource::new(SystemTime::now() + Duration::from_secs(1200)));
    let s3 = aws_sdk_s3::Client::from_conf(
        coffer
            .s3(&victim.0, &victim.1)
            .config()
            .to_builder()
            .time_source(ahead.clone())
            .retry_config(aws_sdk_s3::config::retry::RetryConfig::disabled())
            .build(),
    );
    assert_all_refused(
        "a skewed clock",
        &s3_writes(&s3, false).await,
        "RequestTimeTooSkewed",
        403,
    );
    let iam = aws_sdk_iam::Client::from_conf(
        coffer
            .iam(&victim.0, &victim.1)
            .config()
            .to_builder()
            .time_source(ahead)
            .retry_config(aws_sdk_iam::config::retry::RetryConfig::disabled())
            .build(),
    );
    assert_all_refused("a skewed clock", &iam_writes(&iam).await, "SignatureDoesNotMatch", 403);

    // A long-term key with a session token made up.
    let garbled = Credentials::new(
        &victim.0,
        &victim.1,
        Some("AQoDYXdzEJr//garbled".to_owned()),
        None,
        "test",
    );
    let s3 = aws_sdk_s3::Client::from_conf(
        coffer
            .s3(&victim.0, &victim.1)
            .config()
            .to_builder()
            .credentials_provider(garbled.clone())
            .build(),
    );
    assert_all_refused(
        "a garbled session token",
        &s3_writes(&s3, false).await,
        "InvalidToken",
        400,
    );
    let iam = aws_sdk_iam::Client::from_conf(
        coffer
            .iam(&victim.0, &victim.1)
            .config()
            .to_builder()
            .credentials_provider(garbled)
            .build(),
    );
    assert_all_refused(
        "a garbled session token",
        &iam_writes(&iam).await,
        "InvalidClientTokenId",
        403,
    );

    // Nobody at all (unsigned, as a browser or curl sends).
    let client = reqwest::Client::new();
    let s3_calls = [
        ("PUT", "/vault/k", &b"defaced"[..]),
        ("PUT", "/vault/planted", b"x"),
        ("DELETE", "/vault/k", b""),
        (
            "POST",
            "/vault?delete",
            b"<Delete><Object><Key>k</Key></Object></Delete>",
        ),
        ("PUT", "/vault?policy", b"{}"),
        ("DELETE", "/vault", b""),
        ("PUT", "/intruders", b""),
    ];
    for (method, path, body) in s3_calls {
        let url = format!("{}{path}", coffer.endpoint);
        let response = client
            .request(method.parse().unwrap(), &url)
            .body(body.to_vec())
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        assert_eq!(
            (status, code_in(&text)),
            (403, "AccessDenied"),
            "anonymous {method} {path}"
        );
    }
    for action in [
        "Action=CreateUser&UserName=intruder",
        "Action=PutUserPolicy&UserName=victim&PolicyName=own&PolicyDocument=%7B%7D",
        "Action=CreateAccessKey&UserName=victim",
        "Action=DeleteUser&UserName=victim",
    ] {
        let response = client
            .post(&coffer.endpoint)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(format!("{action}&Version=2010-05-08"))
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        assert_eq!(
            (status, code_in(&text)),
            (403, "MissingAuthenticationToken"),
            "anonymous {action}"
        );
    }

    // Another account's root: its own IAM is its own business, and new buckets are its own.
    let (other_id, other_secret) = coffer.other_account("elsewhere");
    let outsider = coffer.s3(&other_id, &other_secret);
    assert_all_refused(
        "another account",
        &s3_writes(&outsider, true).await,
        "AccessDenied",
        403,
    );

    assert_eq!(snapshot(&coffer).await, before);
}

#[tokio::test]
async fn presigned_urls_cannot_be_bent_to_other_writes() {
    let coffer = Coffer::start();
    scene(&coffer).await;
    let before = snapshot(&coffer).await;
    let s3 = coffer.root_s3();
    let week = PresigningConfig::expires_in(Duration::from_secs(600)).unwrap();
    let put = s3
        .put_object()
        .bucket(VAULT)
        .key("up")
        .presigned(week.clone())
        .await
        .unwrap();
    let get = s3.get_object().bucket(VAULT).key("k").presigned(week).await.unwrap();
    let client = reqwest::Client::new();
    let answer = |response: reqwest::Response| async move {
        let status = response.status().as_u16();
        let body = response.text().await.unwrap();
        let code = body
            .split("<Code>")
            .nth(1)
            .and_then(|r| r.split("</Code>").next())
            .unwrap_or("")
            .to_owned();
        (status, code)
    };
    let url = put.uri().to_owned();
    let bent = [
        ("another key", url.replacen("/vault/up?", "/vault/k?", 1), "PUT"),
        (
            "another lifetime",
            url.replacen("X-Amz-Expires=600", "X-Amz-Expires=604800", 1),
            "PUT",
        ),
        ("a DELETE", url.replacen("/vault/up?", "/vault/k?", 1), "DELETE"),
        ("a GET's URL for a PUT", get.uri().to_owned(), "PUT"),
        ("a GET's URL for a DELETE", get.uri().to_owned(), "DELETE"),
    ];
    for (how, url, method) in bent {
        assert_ne!(url, put.uri(), "{how}: the URL was not bent");
        let request = client.request(method.parse().unwrap(), &url).body(b"defaced".to_vec());
        let got = answer(request.send().await.unwrap()).await;
        assert_eq!(got, (403, "SignatureDoesNotMatch".to_owned()), "{how}");
    }
    // A URL past its expiry.
    let short = PresigningConfig::expires_in(Duration::from_secs(1)).unwrap();
    let expired = s3.put_object().bucket(VAULT).key("up").presigned(short).await.unwrap();
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let got = answer(client.put(expired.uri()).body(b"late".to_vec()).send().await.unwrap()).await;
    assert_eq!(got, (403, "AccessDenied".to_owned()), "an expired URL");
    assert_eq!(snapshot(&coffer).await, before);
}

#[tokio::test]
async fn hostile_xml_bodies_are_malformed_and_change_nothing() {
    let coffer = Coffer::start();
    scene(&coffer).await;
    let before = snapshot(&coffer).await;
    let one_key = "<Object><Key>k</Key></Object>";
    let laughs = {
        let mut entities = String::from(r#"<!ENTITY a0 "ha">"#);
        for i in 1..10 {
            let prev = format!("&a{};", i - 1).repeat(10);
            entities.push_str(&format!(r#"<!ENTITY a{i} "{prev}">"#));
        }
        format!(
            "<?xml version=\"1.0\"?><!DOCTYPE Delete [{entities}]><Delete><Object><Key>&a9;</Key></Object></Delete>"
        )
    };
    let bodies = [
        (
            "an external entity",
            format!(
                r#"<?xml version="1.0"?><!DOCTYPE Delete [<!ENTITY x SYSTEM "file:///etc/passwd">]><Delete><Object><Key>&x;</Key></Object>{one_key}</Delete>"#
            ),
        ),
        ("a billion laughs", laughs),
        (
            "100,000 levels deep",
            format!("<Delete>{}{one_key}", "<a>".repeat(100_000)),
        ),
        ("unclosed", format!("<Delete>{one_key}")),
        ("not XML", "k".to_owned()),
        ("another root", format!("<Remove>{one_key}</Remove>")),
        ("1,001 keys", format!("<Delete>{}</Delete>", one_key.repeat(1001))),
    ];
    for (what, body) in bodies {
        let reply = signed_s3(
            &coffer,
            "POST",
            "/vault?delete",
            &[],
            body.into_bytes(),
            Payload::Signed,
        )
        .await;
        assert_eq!((reply.status, reply.code().as_str()), (400, "MalformedXML"), "{what}");
    }
    // The same on a configuration write, and a policy that is no JSON.
    let reply = signed_s3(
        &coffer,
        "PUT",
        "/vault?tagging",
        &[],
        b"<!DOCTYPE t [<!ENTITY x SYSTEM \"file:///etc/passwd\">]><Tagging><TagSet><Tag><Key>&x;</Key><Value>v</Value></Tag></TagSet></Tagging>"
            .to_vec(),
        Payload::Signed,
    )
    .await;
    assert_eq!((reply.status, reply.code().as_str()), (400, "MalformedXML"), "tagging");
    let reply = signed_s3(
        &coffer,
        "PUT",
        "/vault?policy",
        &[],
        b"{\"Version\":".to_vec(),
        Payload::Signed,
    )
    .await;
    assert_eq!(
        (reply.status, reply.code().as_str()),
        (400, "MalformedPolicy"),
        "policy"
    );
    assert_eq!(snapshot(&coffer).await, before);
}

#[tokio::test]
async fn broken_aws_chunked_framing_stores_nothing() {
    let coffer = Coffer::start();
    scene(&coffer).await;
    let before = snapshot(&coffer).await;
    let blobs = coffer.blob_files().len();
    // Each declares a CRC32 trailer and sends it right, so only the framing is wrong.
    let framings: [(&str, &str, &str); 6] = [
        ("a size that is not hex", "zz\r\nhello\r\n0\r\n", "5"),
        ("a chunk longer than it says", "3\r\nhello\r\n0\r\n", "5"),
        ("no last chunk", "5\r\nhello\r\n", "5"),
        ("more than the decoded length", "5\r\nhello\r\n0\r\n", "3"),
        ("less than the decoded length", "5\r\nhello\r\n0\r\n", "9"),
        ("a chunk without its CRLF", "5\r\nhello0\r\n", "5"),
    ];
    for (what, chunks, decoded) in framings {
        for key in ["k", "fresh"] {
            let body = format!("{chunks}x-amz-checksum-crc32:NhCmhg==\r\n\r\n");
            let reply = signed_s3(
                &coffer,
                "PUT",
                &format!("/vault/{key}"),
                &[
                    ("content-encoding", "aws-chunked"),
                    ("x-amz-decoded-content-length", decoded),
                    ("x-amz-trailer", "x-amz-checksum-crc32"),
                ],
                body.into_bytes(),
                Payload::Declared("STREAMING-UNSIGNED-PAYLOAD-TRAILER"),
            )
            .await;
            assert!(
                (400..500).contains(&reply.status) && !reply.code().is_empty(),
                "{what} onto {key}: {} {}",
                reply.status,
                String::from_utf8_lossy(&reply.body)
            );
        }
    }
    assert_eq!(snapshot(&coffer).await, before);
    assert_eq!(coffer.blob_files().len(), blobs, "a refused body left a file");
}

/// The signed-request helper must sign what a real client sends: a PUT through it works.
#[tokio::test]
async fn the_raw_requests_here_are_accepted_when_well_formed() {
    let coffer = Coffer::start();
    scene(&coffer).await;
    let request = sign_s3(
        (crate::harness::ROOT_KEY_ID, crate::harness::ROOT_SECRET),
        &coffer,
        "PUT",
        "/vault/fine",
        &[
            ("content-encoding", "aws-chunked"),
            ("x-amz-decoded-content-length", "5"),
            ("x-amz-trailer", "x-amz-checksum-crc32"),
        ],
        b"5\r\nhello\r\n0\r\nx-amz-checksum-crc32:NhCmhg==\r\n\r\n".to_vec(),
        Payload::Declared("STREAMING-UNSIGNED-PAYLOAD-TRAILER"),
        SystemTime::now(),
    );
    let reply = send(request).await;
    assert_eq!(reply.status, 200, "{}", String::from_utf8_lossy(&reply.body));
    let reply = signed_s3(
        &coffer,
        "POST",
        "/vault?delete",
        &[],
        b"<Delete><Object><Key>fine</Key></Object></Delete>".to_vec(),
        Payload::Signed,
    )
    .await;
    assert_eq!(reply.status, 200, "{}", String::from_utf8_lossy(&reply.body));
}

/// Found by fuzzing: s3s reads an XML body itself and answered one it could not decode with
/// a 500; and an aws-chunked upload sent without Content-Length (chunked transfer) was
/// stored whatever its x-amz-decoded-content-length said.
#[tokio::test]
async fn unreadable_xml_bodies_and_lying_decoded_lengths_are_client_errors() {
    let coffer = Coffer::start();
    scene(&coffer).await;
    let before = snapshot(&coffer).await;
    let chunked = |decoded: &'static str| {
        [
            ("content-encoding", "aws-chunked"),
            ("x-amz-decoded-content-length", decoded),
            ("x-amz-trailer", "x-amz-checksum-crc32"),
        ]
    };
    let streaming = Payload::Declared("STREAMING-UNSIGNED-PAYLOAD-TRAILER");
    // A chunk shorter than its size, on operations whose XML body s3s reads.
    for path in ["/vault?tagging", "/vault/k?tagging", "/vault?delete"] {
        let method = if path.ends_with("delete") { "POST" } else { "PUT" };
        let body = b"5\r\nhell\r\n0\r\nx-amz-checksum-crc32:NhCmhg==\r\n\r\n".to_vec();
        let reply = signed_s3(&coffer, method, path, &chunked("5"), body, streaming).await;
        assert_eq!(
            (reply.status, reply.code().as_str()),
            (400, "InvalidRequest"),
            "{method} {path}"
        );
    }
    // Five bytes, sent with chunked transfer (no Content-Length) where three or nine were
    // declared: refused; where five were, stored.
    let put_streamed = |key: &'static str, decoded: &'static str| {
        let request = sign_s3(
            (crate::harness::ROOT_KEY_ID, crate::harness::ROOT_SECRET),
            &coffer,
            "PUT",
            &format!("/vault/{key}"),
            &chunked(decoded),
            Vec::new(),
            streaming,
            SystemTime::now(),
        );
        async move {
            let mut sent = reqwest::Client::new().put(request.uri().to_string());
            for (name, value) in request.headers() {
                if name != "host" {
                    sent = sent.header(name.as_str(), value.as_bytes());
                }
            }
            let body = &b"5\r\nhello\r\n0\r\nx-amz-checksum-crc32:NhCmhg==\r\n\r\n"[..];
            let stream = futures::stream::once(async move { Ok::<_, std::io::Error>(body) });
            let response = sent.body(reqwest::Body::wrap_stream(stream)).send().await.unwrap();
            let status = response.status().as_u16();
            (status, response.text().await.unwrap())
        }
    };
    for key in ["k", "fresh"] {
        for decoded in ["3", "9"] {
            let (status, text) = put_streamed(key, decoded).await;
            assert_eq!(
                (status, code_in(&text)),
                (400, "IncompleteBody"),
                "{key}, {decoded} declared: {text}"
            );
        }
    }
    assert_eq!(snapshot(&coffer).await, before);
    let (status, text) = put_streamed("streamed", "5").await;
    assert_eq!(status, 200, "{text}");
    let got = coffer
        .root_s3()
        .get_object()
        .bucket(VAULT)
        .key("streamed")
        .send()
        .await
        .unwrap();
    assert_eq!(got.body.collect().await.unwrap().into_bytes().as_ref(), b"hello");
}

/// Every change form of the console, sent with a forged token, another session's token and
/// none: refused, and nothing changed.
#[tokio::test]
async fn console_changes_without_the_sessions_token_change_nothing() {
    use crate::console::harness::{Browser, ROOT_PASSWORD, start_with};
    let coffer = start_with(&[]);
    scene(&coffer).await;
    let account = coffer.account_id().await;
    let mut browser = Browser::new(&coffer);
    browser.sign_in(&account, "", ROOT_PASSWORD).await;
    let mut other = Browser::new(&coffer);
    other.sign_in(&account, "", ROOT_PASSWORD).await;
    let others_token = Browser::csrf(&other.get("/iam/users").await);
    let before = snapshot(&coffer).await;
    let admin = "arn:aws:iam::aws:policy/AdministratorAccess";
    let forms: [(&str, Vec<(&str, &str)>); 9] = [
        ("/iam/users", vec![("name", "intruder"), ("path", "/")]),
        ("/iam/users/victim/delete", vec![("confirm", "victim")]),
        ("/iam/users/victim/access-keys", vec![("use_case", "cli")]),
        (
            "/iam/users/victim",
            vec![("change", "attach-policies"), ("value", admin)],
        ),
        ("/iam/groups", vec![("name", "intruders")]),
        ("/s3/buckets", vec![("name", "intruders"), ("region", "us-east-1")]),
        ("/s3/buckets/vault/delete", vec![("confirm", "vault")]),
        ("/s3/buckets/vault/objects", vec![("change", "delete"), ("value", "k")]),
        (
            "/change-password",
            vec![
                ("old_password", ROOT_PASSWORD),
                ("new_password", "Taken-Over-2026"),
                ("confirm_password", "Taken-Over-2026"),
            ],
        ),
    ];
    for (path, fields) in &forms {
        for token in [Some("forged"), Some(others_token.as_str()), None] {
            let mut sent = fields.clone();
            sent.extend(token.map(|t| ("csrf", t)));
            let page = browser.post(path, &sent).await;
            assert!(
                (400..500).contains(&page.status),
                "{path} with token {token:?}: {} {}",
                page.status,
                page.body
            );
        }
    }
    assert_eq!(snapshot(&coffer).await, before);
    // The sessions are unharmed, and the password unchanged.
    assert_eq!(browser.get("/iam/users").await.status, 200);
    let mut again = Browser::new(&coffer);
    again.sign_in(&account, "", ROOT_PASSWORD).await;
    assert_eq!(again.get("/iam/users").await.status, 200);
}

/// What users name (object keys, tag values) is shown escaped, on pages that forbid
/// sniffing and inline scripts.
#[tokio::test]
async fn the_console_shows_hostile_names_as_text() {
    use crate::console::harness::root_browser;
    let coffer = crate::console::harness::start_with(&[]);
    scene(&coffer).await;
    let key = r#"<img src=x onerror="alert(1)">.txt"#;
    let s3 = coffer.root_s3();
    s3.put_object()
        .bucket(VAULT)
        .key(key)
        .tagging("note=%22%3E%3Cscript%3Ealert(2)%3C%2Fscript%3E")
        .body(ByteStream::from_static(b"x"))
        .send()
        .await
        .unwrap();
    let (mut browser, _) = root_browser(&coffer).await;
    let encoded: String = url::form_urlencoded::byte_serialize(key.as_bytes()).collect();
    for path in [
        "/s3/buckets/vault".to_owned(),
        format!("/s3/buckets/vault/object?key={encoded}"),
    ] {
        let page = browser.get(&path).await;
        assert_eq!(page.status, 200, "{path}");
        assert!(!page.body.contains("<img src=x"), "{path}: the key is markup");
        assert!(!page.body.contains("<script>alert"), "{path}: the tag is markup");
        let shown = ["&lt;img src=x", "&#60;img src=x"]
            .iter()
            .any(|escaped| page.body.contains(escaped));
        assert!(shown, "{path}: the key is not shown");
        let header = |name: &str| {
            page.headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned()
        };
        assert_eq!(header("x-content-type-options"), "nosniff", "{path}");
        let policy = header("content-security-policy");
        assert!(
            policy.contains("script-src") && !policy.contains("unsafe-inline"),
            "{path}: {policy}"
        );
    }
}

/// No secret reaches the server's log: access keys' secrets, a session's secret and token,
/// a console password, a presigned URL's signature, an SSE-C key, whatever the request.
#[tokio::test]
async fn secrets_never_reach_the_log() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("coffer.log");
    let coffer = Coffer::start_logging_to(&log);
    scene(&coffer).await;
    let iam = coffer.root_iam();
    let (id, secret) = coffer.user_with_key("talker").await;
    let password = "Never-Logged-Pass-9";
    iam.create_login_profile()
        .user_name("talker")
        .password(password)
        .send()
        .await
        .unwrap();
    let session = coffer
        .sts(&id, &secret, "us-east-1")
        .get_session_token()
        .send()
        .await
        .unwrap();
    let credentials = session.credentials().unwrap();
    let session_keys = crate::harness::SessionKeys::of(credentials);
    // Requests that fail and requests that succeed, signed every way.
    let _ = coffer.s3(&id, "wrong").list_buckets().send().await;
    let _ = coffer.s3_session(&session_keys).list_buckets().send().await;
    let _ = coffer.iam(&id, &secret).list_users().send().await;
    let presigned = coffer
        .root_s3()
        .get_object()
        .bucket(VAULT)
        .key("k")
        .presigned(PresigningConfig::expires_in(Duration::from_secs(60)).unwrap())
        .await
        .unwrap();
    reqwest::get(presigned.uri()).await.unwrap();
    let signature = presigned.uri().split("X-Amz-Signature=").nth(1).unwrap().to_owned();
    let customer_key = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";
    let _ = coffer
        .root_s3()
        .put_object()
        .bucket(VAULT)
        .key("sealed")
        .sse_customer_algorithm("AES256")
        .sse_customer_key(customer_key)
        .body(ByteStream::from_static(b"x"))
        .send()
        .await;
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(text.len() > 1000, "the log holds the requests: {} bytes", text.len());
    for (what, secret) in [
        ("a key's secret", secret.as_str()),
        ("the root key's secret", crate::harness::ROOT_SECRET),
        ("a session's secret", credentials.secret_access_key()),
        ("a session's token", credentials.session_token()),
        ("a console password", password),
        ("a presigned signature", signature.as_str()),
        ("an SSE-C key", customer_key),
    ] {
        assert!(!text.contains(secret), "{what} is in the log");
    }
}

/// Malformed IAM Query writes, as root: each refused with IAM's error, and nothing changed.
#[tokio::test]
async fn malformed_iam_writes_change_nothing() {
    use crate::auth::signed_query;
    let coffer = Coffer::start();
    scene(&coffer).await;
    let before = snapshot(&coffer).await;
    let mut huge = String::from("Action=UntagUser&UserName=victim");
    for i in 1..=30_000 {
        huge.push_str(&format!("&TagKeys.member.{i}=k{i}"));
    }
    let admin = "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C%22Action%22%3A%22*%22%2C%22Resource%22%3A%22*%22%7D%5D%7D";
    let writes = [
        (
            "a name not UTF-8",
            "Action=CreateUser&UserName=%FF%FE".to_owned(),
            (404, "MalformedQueryString"),
        ),
        (
            "a name with a slash",
            "Action=CreateUser&UserName=a/b".to_owned(),
            (400, "ValidationError"),
        ),
        (
            "a name of 65 characters",
            format!("Action=CreateUser&UserName={}", "a".repeat(65)),
            (400, "ValidationError"),
        ),
        (
            "a path without slashes",
            "Action=CreateUser&UserName=x&Path=nope".to_owned(),
            (400, "ValidationError"),
        ),
        (
            "a tag without a value",
            "Action=TagUser&UserName=victim&Tags.member.1.Key=k".to_owned(),
            (400, "ValidationError"),
        ),
        ("30,000 tag keys", huge, (400, "ValidationError")),
        (
            "a policy that is no JSON",
            "Action=PutUserPolicy&UserName=victim&PolicyName=p&PolicyDocument=%7Bnope".to_owned(),
            (400, "MalformedPolicyDocument"),
        ),
        (
            "a policy name with a space",
            format!("Action=PutUserPolicy&UserName=victim&PolicyName=a%20b&PolicyDocument={admin}"),
            (400, "ValidationError"),
        ),
        (
            "a key's status made up",
            "Action=UpdateAccessKey&UserName=victim&AccessKeyId=AKIAXXXXXXXXXXXXXXXX&Status=Sideways".to_owned(),
            (400, "ValidationError"),
        ),
        (
            "an action that does not exist",
            "Action=CreateUsers&UserName=x".to_owned(),
            (400, "InvalidAction"),
        ),
        ("no user name", "Action=DeleteUser".to_owned(), (400, "ValidationError")),
    ];
    for (what, form, expected) in writes {
        let (status, body) = signed_query(&coffer, "iam", "us-east-1", &format!("{form}&Version=2010-05-08")).await;
        assert_eq!((status, code_in(&body)), expected, "{what}: {body}");
    }
    assert_eq!(snapshot(&coffer).await, before);
}
