//! Browser POST uploads (PostObject): forms signed with SigV4 by AWS's own signer (the
//! `aws-sigv4` crate, and boto3's `generate_presigned_post`), posted as multipart forms.
//! The policy bounds the form, the signer's permissions and the bucket's policy decide as for
//! a PUT, and the file streams.

use std::time::SystemTime;

use aws_sdk_s3::primitives::ByteStream;
use base64::Engine;
use serde_json::{Value, json};

use crate::harness::{Coffer, ROOT_KEY_ID, ROOT_SECRET};

/// A form's fields signed with SigV4 for `policy` (its `expiration` set `valid` from now;
/// negative: already past), in the order S3's documentation writes them.
pub fn signed_fields(key_id: &str, secret: &str, conditions: Value, valid: i64) -> Vec<(String, String)> {
    let now = SystemTime::now();
    let date = time::OffsetDateTime::from(now);
    let day = format!("{:04}{:02}{:02}", date.year(), u8::from(date.month()), date.day());
    let amz_date = format!("{day}T{:02}{:02}{:02}Z", date.hour(), date.minute(), date.second());
    let credential = format!("{key_id}/{day}/us-east-1/s3/aws4_request");
    let expiration = (date + time::Duration::seconds(valid))
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    let mut conditions = conditions.as_array().cloned().unwrap_or_default();
    conditions.extend([
        json!({"x-amz-algorithm": "AWS4-HMAC-SHA256"}),
        json!({"x-amz-credential": credential}),
        json!({"x-amz-date": amz_date}),
    ]);
    let policy = json!({"expiration": expiration, "conditions": conditions}).to_string();
    let policy = base64::engine::general_purpose::STANDARD.encode(policy);
    let key = aws_sigv4::sign::v4::generate_signing_key(secret, now, "us-east-1", "s3");
    let signature = aws_sigv4::sign::v4::calculate_signature(key, policy.as_bytes());
    [
        ("x-amz-algorithm", "AWS4-HMAC-SHA256".to_owned()),
        ("x-amz-credential", credential),
        ("x-amz-date", amz_date),
        ("policy", policy),
        ("x-amz-signature", signature),
    ]
    .into_iter()
    .map(|(name, value)| (name.to_owned(), value))
    .collect()
}

/// Posts `fields` then the file (`file_name`, `file`) to `bucket`.
pub async fn post_form(
    coffer: &Coffer,
    bucket: &str,
    fields: &[(String, String)],
    file_name: &str,
    file: Vec<u8>,
) -> reqwest::Response {
    let mut form = reqwest::multipart::Form::new();
    for (name, value) in fields {
        form = form.text(name.clone(), value.clone());
    }
    form = form.part(
        "file",
        reqwest::multipart::Part::bytes(file).file_name(file_name.to_owned()),
    );
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .post(format!("{}/{bucket}", coffer.endpoint))
        .multipart(form)
        .send()
        .await
        .unwrap()
}

fn with(mut fields: Vec<(String, String)>, more: &[(&str, &str)]) -> Vec<(String, String)> {
    // Before the signature fields, as a page would write them; the order does not matter
    // to S3 so long as the file comes last.
    for (name, value) in more.iter().rev() {
        fields.insert(0, ((*name).to_owned(), (*value).to_owned()));
    }
    fields
}

/// An S3 error answer's code and message.
async fn error_of(response: reqwest::Response) -> (u16, String, String) {
    let status = response.status().as_u16();
    let body = response.text().await.unwrap();
    let element = |name: &str| {
        body.split(&format!("<{name}>"))
            .nth(1)
            .and_then(|rest| rest.split(&format!("</{name}>")).next())
            .unwrap_or_default()
            .to_owned()
    };
    (status, element("Code"), element("Message"))
}

async fn exists(s3: &aws_sdk_s3::Client, bucket: &str, key: &str) -> bool {
    s3.head_object().bucket(bucket).key(key).send().await.is_ok()
}

#[tokio::test]
async fn a_signed_form_stores_its_file_with_the_settings_its_fields_name() {
    let coffer = Coffer::start();
    let s3 = coffer.root_s3();
    s3.create_bucket().bucket("forms").send().await.unwrap();
    let conditions = json!([
        {"bucket": "forms"},
        ["starts-with", "$key", "uploads/"],
        ["starts-with", "$Content-Type", "text/"],
        ["eq", "$x-amz-meta-owner", "ana"],
        ["starts-with", "$tagging", ""],
        {"success_action_status": "201"},
        ["content-length-range", 1, 1024],
    ]);
    let fields = with(
        signed_fields(ROOT_KEY_ID, ROOT_SECRET, conditions, 600),
        &[
            ("key", "uploads/${filename}"),
            ("Content-Type", "text/plain"),
            ("x-amz-meta-owner", "ana"),
            (
                "tagging",
                "<Tagging><TagSet><Tag><Key>team</Key><Value>web</Value></Tag></TagSet></Tagging>",
            ),
            ("success_action_status", "201"),
        ],
    );
    let response = post_form(
        &coffer,
        "forms",
        &fields,
        "C:\\Users\\ana\\notes.txt",
        b"posted notes".to_vec(),
    )
    .await;
    assert_eq!(response.status(), 201);
    let etag = response.headers()["etag"].to_str().unwrap().to_owned();
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let body = response.text().await.unwrap();
    assert!(body.contains("<Key>uploads/notes.txt</Key>"), "{body}");
    assert!(body.contains("<Bucket>forms</Bucket>"), "{body}");
    assert!(
        body.contains(&format!("<ETag>{}</ETag>", etag.replace('"', "&quot;"))) || body.contains(&etag),
        "{body}"
    );
    assert_eq!(location, format!("{}/forms/uploads/notes.txt", coffer.endpoint));

    let object = s3
        .get_object()
        .bucket("forms")
        .key("uploads/notes.txt")
        .send()
        .await
        .unwrap();
    assert_eq!(object.e_tag(), Some(etag.as_str()));
    assert_eq!(object.content_type(), Some("text/plain"));
    assert_eq!(object.metadata().unwrap()["owner"], "ana");
    assert_eq!(
        object.body.collect().await.unwrap().into_bytes().as_ref(),
        b"posted notes"
    );
    let tags = s3
        .get_object_tagging()
        .bucket("forms")
        .key("uploads/notes.txt")
        .send()
        .await
        .unwrap();
    assert_eq!(tags.tag_set()[0].key(), "team");
    assert_eq!(tags.tag_set()[0].value(), "web");
}

#[tokio::test]
async fn the_policy_and_signature_bound_what_a_form_may_do() {
    let coffer = Coffer::start();
    let s3 = coffer.root_s3();
    s3.create_bucket().bucket("forms").send().await.unwrap();
    let conditions = || json!([{"bucket": "forms"}, ["starts-with", "$key", "in/"], ["content-length-range", 4, 8]]);
    let signed = |valid| {
        with(
            signed_fields(ROOT_KEY_ID, ROOT_SECRET, conditions(), valid),
            &[("key", "in/a")],
        )
    };

    // Outside the size range: refused while streaming, and nothing is stored.
    let (status, code, _) = error_of(post_form(&coffer, "forms", &signed(600), "a", vec![7; 9]).await).await;
    assert_eq!((status, code.as_str()), (400, "EntityTooLarge"));
    let (status, code, _) = error_of(post_form(&coffer, "forms", &signed(600), "a", vec![7; 3]).await).await;
    assert_eq!((status, code.as_str()), (400, "EntityTooSmall"));
    assert!(!exists(&s3, "forms", "in/a").await);

    let (status, code, message) = error_of(post_form(&coffer, "forms", &signed(-5), "a", vec![7; 4]).await).await;
    assert_eq!((status, code.as_str()), (403, "AccessDenied"));
    assert_eq!(message, "Invalid according to Policy: Policy expired.");

    let outside = with(
        signed_fields(ROOT_KEY_ID, ROOT_SECRET, conditions(), 600),
        &[("key", "out/a")],
    );
    let (status, code, message) = error_of(post_form(&coffer, "forms", &outside, "a", vec![7; 4]).await).await;
    assert_eq!((status, code.as_str()), (403, "AccessDenied"));
    assert!(
        message.contains("Policy Condition failed") && message.contains("$key"),
        "{message}"
    );

    // A field the policy does not name could change the object: refused.
    let extra = with(signed(600), &[("x-amz-meta-extra", "1")]);
    let (status, _, message) = error_of(post_form(&coffer, "forms", &extra, "a", vec![7; 4]).await).await;
    assert_eq!(status, 403);
    assert_eq!(
        message,
        "Invalid according to Policy: Extra input fields: x-amz-meta-extra"
    );

    // The same policy posted to another bucket fails its bucket condition.
    s3.create_bucket().bucket("other").send().await.unwrap();
    let (status, _, _) = error_of(post_form(&coffer, "other", &signed(600), "a", vec![7; 4]).await).await;
    assert_eq!(status, 403);

    let mut forged = signed(600);
    let signature = forged.iter_mut().find(|(name, _)| name == "x-amz-signature").unwrap();
    signature.1 = signature.1.replace(|c: char| c.is_ascii_digit(), "0");
    let (status, code, _) = error_of(post_form(&coffer, "forms", &forged, "a", vec![7; 4]).await).await;
    assert_eq!((status, code.as_str()), (403, "SignatureDoesNotMatch"));

    let unknown = with(
        signed_fields("AKIAUNKNOWNKEY000000", ROOT_SECRET, conditions(), 600),
        &[("key", "in/a")],
    );
    let (status, code, _) = error_of(post_form(&coffer, "forms", &unknown, "a", vec![7; 4]).await).await;
    assert_eq!((status, code.as_str()), (403, "InvalidAccessKeyId"));

    let mut unsigned = signed(600);
    unsigned.retain(|(name, _)| name != "x-amz-signature");
    let (status, code, message) = error_of(post_form(&coffer, "forms", &unsigned, "a", vec![7; 4]).await).await;
    assert_eq!((status, code.as_str()), (400, "InvalidArgument"));
    assert!(message.contains("field named &apos;X-Amz-Signature&apos;"), "{message}");

    let mut keyless = signed(600);
    keyless.retain(|(name, _)| name != "key");
    let (status, code, _) = error_of(post_form(&coffer, "forms", &keyless, "a", vec![7; 4]).await).await;
    assert_eq!((status, code.as_str()), (400, "InvalidArgument"));

    // Inside every bound: stored.
    let response = post_form(&coffer, "forms", &signed(600), "a", vec![7; 8]).await;
    assert_eq!(response.status(), 204);
    assert!(exists(&s3, "forms", "in/a").await);
}

#[tokio::test]
async fn a_form_may_do_only_what_its_signer_and_the_bucket_policy_allow() {
    let coffer = Coffer::start();
    let s3 = coffer.root_s3();
    s3.create_bucket().bucket("forms").send().await.unwrap();
    let (key_id, secret) = coffer.user_with_key("uploader").await;
    let allow = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:PutObject",
        "Resource": "arn:aws:s3:::forms/allowed/*"}]});
    coffer
        .root_iam()
        .put_user_policy()
        .user_name("uploader")
        .policy_name("uploads")
        .policy_document(allow.to_string())
        .send()
        .await
        .unwrap();
    let form = |key: &str| {
        let conditions = json!([{"bucket": "forms"}, ["starts-with", "$key", ""]]);
        with(signed_fields(&key_id, &secret, conditions, 600), &[("key", key)])
    };
    let response = post_form(&coffer, "forms", &form("allowed/a"), "a", b"yes".to_vec()).await;
    assert_eq!(response.status(), 204);
    let (status, code, _) =
        error_of(post_form(&coffer, "forms", &form("elsewhere/a"), "a", b"no".to_vec()).await).await;
    assert_eq!((status, code.as_str()), (403, "AccessDenied"));
    assert!(!exists(&s3, "forms", "elsewhere/a").await);

    // `s3:authType` tells a form from a signed PUT: this bucket takes no forms.
    let no_forms = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Principal": "*",
        "Action": "s3:PutObject", "Resource": "arn:aws:s3:::forms/*",
        "Condition": {"StringEquals": {"s3:authType": "POST"}}}]});
    s3.put_bucket_policy()
        .bucket("forms")
        .policy(no_forms.to_string())
        .send()
        .await
        .unwrap();
    let (status, code, _) = error_of(post_form(&coffer, "forms", &form("allowed/b"), "a", b"no".to_vec()).await).await;
    assert_eq!((status, code.as_str()), (403, "AccessDenied"));
    let user = coffer.s3(&key_id, &secret);
    user.put_object()
        .bucket("forms")
        .key("allowed/b")
        .body(ByteStream::from_static(b"a PUT"))
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn an_anonymous_form_needs_a_bucket_policy_that_takes_it() {
    let coffer = Coffer::start();
    let s3 = coffer.root_s3();
    s3.create_bucket().bucket("drop").send().await.unwrap();
    let fields = |redirect: &str| {
        vec![
            ("key".to_owned(), "inbox/${filename}".to_owned()),
            ("success_action_redirect".to_owned(), redirect.to_owned()),
        ]
    };
    let (status, code, _) = error_of(post_form(&coffer, "drop", &fields(""), "note.txt", b"hi".to_vec()).await).await;
    assert_eq!((status, code.as_str()), (403, "AccessDenied"));

    s3.delete_public_access_block().bucket("drop").send().await.unwrap();
    let anyone = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*",
        "Action": "s3:PutObject", "Resource": "arn:aws:s3:::drop/inbox/*"}]});
    s3.put_bucket_policy()
        .bucket("drop")
        .policy(anyone.to_string())
        .send()
        .await
        .unwrap();
    let response = post_form(
        &coffer,
        "drop",
        &fields("https://app.example/done?from=form"),
        "note.txt",
        b"hi".to_vec(),
    )
    .await;
    assert_eq!(response.status(), 303);
    let object = s3
        .head_object()
        .bucket("drop")
        .key("inbox/note.txt")
        .send()
        .await
        .unwrap();
    let etag = object.e_tag().unwrap();
    let to = response.headers()["location"].to_str().unwrap();
    let expected = format!(
        "https://app.example/done?from=form&bucket=drop&key=inbox%2Fnote.txt&etag={}",
        etag.replace('"', "%22")
    );
    assert_eq!(to, expected);
    // No content type given: S3's default.
    assert_eq!(object.content_type(), Some("binary/octet-stream"));
}

#[tokio::test]
async fn a_form_file_streams_into_the_object_past_any_buffer() {
    let coffer = Coffer::start();
    let s3 = coffer.root_s3();
    s3.create_bucket().bucket("big").send().await.unwrap();
    let conditions =
        json!([{"bucket": "big"}, ["starts-with", "$key", ""], ["content-length-range", 0, 64 * 1024 * 1024]]);
    let fields = with(
        signed_fields(ROOT_KEY_ID, ROOT_SECRET, conditions, 600),
        &[("key", "large.bin")],
    );
    let file: Vec<u8> = (0..24 * 1024 * 1024u32).map(|i| (i % 251) as u8).collect();
    let md5 = crate::s3_objects::md5_of(&file);
    let response = post_form(&coffer, "big", &fields, "large.bin", file).await;
    assert_eq!(response.status(), 204);
    let etag = response.headers()["etag"].to_str().unwrap().to_owned();
    assert_eq!(etag, format!("\"{md5:032x}\""));
    let head = s3.head_object().bucket("big").key("large.bin").send().await.unwrap();
    assert_eq!(head.content_length(), Some(24 * 1024 * 1024));
}

/// boto3's `generate_presigned_post`, the way web back ends make forms, posted by urllib3
/// (botocore's own HTTP library) as a page would post it.
#[test]
fn boto3_presigned_posts_upload() {
    let coffer = Coffer::start();
    let script = r#"
import json, os, boto3, urllib3
endpoint = os.environ["ENDPOINT"]
s3 = boto3.client("s3", aws_access_key_id=os.environ["KEY"], aws_secret_access_key=os.environ["SECRET"],
                  region_name="us-east-1", endpoint_url=endpoint)
s3.create_bucket(Bucket="presigned")
post = s3.generate_presigned_post("presigned", "photos/${filename}",
    Fields={"Content-Type": "image/png", "success_action_status": "201"},
    Conditions=[{"Content-Type": "image/png"}, {"success_action_status": "201"},
                ["content-length-range", 1, 100]], ExpiresIn=300)
fields = dict(post["fields"])
fields["file"] = ("cat.png", b"\x89PNG fake", "image/png")
ok = urllib3.request("POST", post["url"], fields=fields)
fields["file"] = ("big.png", b"x" * 101, "image/png")
big = urllib3.request("POST", post["url"], fields=fields)
head = s3.head_object(Bucket="presigned", Key="photos/cat.png")
# SigV2 forms (AWSAccessKeyId, signature), as older back ends still make them.
from botocore.config import Config
v2 = boto3.client("s3", aws_access_key_id=os.environ["KEY"], aws_secret_access_key=os.environ["SECRET"],
                  region_name="us-east-1", endpoint_url=endpoint, config=Config(signature_version="s3"))
post = v2.generate_presigned_post("presigned", "v2/${filename}", ExpiresIn=300)
fields = dict(post["fields"])
assert "AWSAccessKeyId" in fields and "signature" in fields, fields
fields["file"] = ("old.txt", b"signed the old way")
v2_ok = urllib3.request("POST", post["url"], fields=fields)
fields["signature"] = fields["signature"][::-1]
v2_forged = urllib3.request("POST", post["url"], fields=fields)
v2_body = s3.get_object(Bucket="presigned", Key="v2/old.txt")["Body"].read().decode()
print(json.dumps({"status": ok.status, "body": ok.data.decode(), "type": head["ContentType"],
                  "big": big.status, "big_body": big.data.decode(),
                  "v2": v2_ok.status, "v2_body": v2_body, "v2_forged": v2_forged.status}))
"#;
    let out = std::process::Command::new(crate::cli::venv_python())
        .args(["-c", script])
        .env("ENDPOINT", &coffer.endpoint)
        .env("KEY", ROOT_KEY_ID)
        .env("SECRET", ROOT_SECRET)
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let result: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(result["status"], 201, "{result}");
    assert!(
        result["body"].as_str().unwrap().contains("<Key>photos/cat.png</Key>"),
        "{result}"
    );
    assert_eq!(result["type"], "image/png");
    assert_eq!(result["big"], 400);
    assert!(
        result["big_body"].as_str().unwrap().contains("EntityTooLarge"),
        "{result}"
    );
    assert_eq!(result["v2"], 204, "{result}");
    assert_eq!(result["v2_body"], "signed the old way");
    assert_eq!(result["v2_forged"], 403, "{result}");
}
