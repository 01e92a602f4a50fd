//! S3 server access logging: PutBucketLogging's checks, and records delivered into the
//! target bucket, parsed back field by field.

use std::time::Duration;

use aws_sdk_s3::operation::RequestId;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{
    BucketLoggingStatus, LoggingEnabled, PartitionDateSource, PartitionedPrefix, SimplePrefix, TargetObjectKeyFormat,
};

use crate::harness::{Coffer, ROOT_KEY_ID, ROOT_SECRET, code};

fn start() -> Coffer {
    Coffer::start_with(&[
        ("COFFER_ROOT_ACCESS_KEY_ID", ROOT_KEY_ID),
        ("COFFER_ROOT_SECRET_ACCESS_KEY", ROOT_SECRET),
        ("COFFER_ACCESS_LOG_ROLL_SECS", "1"),
    ])
}

fn logging_to(target: &str, prefix: &str, format: Option<TargetObjectKeyFormat>) -> BucketLoggingStatus {
    BucketLoggingStatus::builder()
        .logging_enabled(
            LoggingEnabled::builder()
                .target_bucket(target)
                .target_prefix(prefix)
                .set_target_object_key_format(format)
                .build()
                .unwrap(),
        )
        .build()
}

/// The policy S3's documentation gives a target bucket: the logging service may put under
/// `prefix` for `source` of `account`.
fn delivery_policy(target: &str, prefix: &str, source: &str, account: &str) -> String {
    format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"Service":"logging.s3.amazonaws.com"}},"Action":"s3:PutObject","Resource":"arn:aws:s3:::{target}/{prefix}*","Condition":{{"ArnLike":{{"aws:SourceArn":"arn:aws:s3:::{source}"}},"StringEquals":{{"aws:SourceAccount":"{account}"}}}}}}]}}"#
    )
}

/// The fields of an access-log record: space-separated, `[...]` and `"..."` each one field
/// (`\"` escapes a quote inside).
fn fields(record: &str) -> Vec<String> {
    let mut fields = Vec::new();
    let mut chars = record.chars().peekable();
    while let Some(&c) = chars.peek() {
        match c {
            ' ' => {
                chars.next();
            }
            '[' | '"' => {
                let close = if c == '[' { ']' } else { '"' };
                chars.next();
                let mut field = String::new();
                while let Some(c) = chars.next() {
                    match c {
                        '\\' if close == '"' => field.extend(chars.next()),
                        c if c == close => break,
                        c => field.push(c),
                    }
                }
                fields.push(field);
            }
            _ => {
                let mut field = String::new();
                while let Some(&c) = chars.peek().filter(|c| **c != ' ') {
                    field.push(c);
                    chars.next();
                }
                fields.push(field);
            }
        }
    }
    fields
}

/// The records delivered under `prefix` of `bucket`, waiting up to ten seconds for `want`.
async fn delivered(s3: &aws_sdk_s3::Client, bucket: &str, prefix: &str, want: usize) -> (Vec<String>, Vec<String>) {
    let mut keys = Vec::new();
    let mut records = Vec::new();
    for _ in 0..50 {
        keys.clear();
        records.clear();
        let listed = s3.list_objects_v2().bucket(bucket).prefix(prefix).send().await.unwrap();
        for object in listed.contents() {
            let key = object.key().unwrap().to_owned();
            let body = s3.get_object().bucket(bucket).key(&key).send().await.unwrap();
            let text = String::from_utf8(body.body.collect().await.unwrap().into_bytes().to_vec()).unwrap();
            records.extend(text.lines().map(str::to_owned));
            keys.push(key);
        }
        if records.len() >= want {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    (keys, records)
}

#[tokio::test]
async fn records_are_delivered_to_the_target_and_read_back_field_by_field() {
    let coffer = start();
    let account = coffer.account_id().await;
    let s3 = coffer.root_s3();
    for bucket in ["photos", "logs"] {
        s3.create_bucket().bucket(bucket).send().await.unwrap();
    }
    s3.put_bucket_policy()
        .bucket("logs")
        .policy(delivery_policy("logs", "access/", "photos", &account))
        .send()
        .await
        .unwrap();
    s3.put_bucket_logging()
        .bucket("photos")
        .bucket_logging_status(logging_to("logs", "access/", None))
        .send()
        .await
        .unwrap();
    let got = s3.get_bucket_logging().bucket("photos").send().await.unwrap();
    let enabled = got.logging_enabled().unwrap();
    assert_eq!(enabled.target_bucket(), "logs");
    assert_eq!(enabled.target_prefix(), "access/");

    let put = s3
        .put_object()
        .bucket("photos")
        .key("cats/tabby cat.jpg")
        .body(ByteStream::from(vec![b'x'; 1234]))
        .send()
        .await
        .unwrap();
    let put_request = put.request_id().unwrap().to_owned();
    let get = s3
        .get_object()
        .bucket("photos")
        .key("cats/tabby cat.jpg")
        .send()
        .await
        .unwrap();
    let get_request = get.request_id().unwrap().to_owned();
    drop(get);
    let missing = s3.head_object().bucket("photos").key("nope").send().await.unwrap_err();
    assert!(missing.raw_response().is_some_and(|r| r.status().as_u16() == 404));
    s3.list_objects_v2().bucket("photos").send().await.unwrap();

    let (keys, records) = delivered(&s3, "logs", "access/", 5).await;
    assert_eq!(keys.len(), 1, "one batch, one object: {keys:?}");
    // access/YYYY-mm-DD-HH-MM-SS-UNIQUE
    let name = keys[0].strip_prefix("access/").unwrap();
    assert_eq!(name.len(), 19 + 1 + 16, "{name}");
    assert_eq!(records.len(), 5, "{records:#?}");
    let parsed: Vec<Vec<String>> = records.iter().map(|r| fields(r)).collect();
    // The GetBucketLogging above is the first: logging was on by then.
    assert_eq!(parsed[0][6], "REST.GET.LOGGING_STATUS");
    assert_eq!(parsed[0][8], "GET /photos/?logging HTTP/1.1");
    let parsed = &parsed[1..];
    for record in parsed {
        assert_eq!(record.len(), 26, "{record:?}");
        assert_eq!(record[0].len(), 64, "the owner's canonical id");
        assert_eq!(record[1], "photos");
        assert!(record[2].ends_with(" +0000") && record[2].len() == 26, "{}", record[2]);
        assert_eq!(record[3], "127.0.0.1");
        assert_eq!(record[4], format!("arn:aws:iam::{account}:root"));
        assert_eq!(record[5].len(), 16);
        assert_eq!(record[19], "SigV4");
        assert_eq!(record[21], "AuthHeader");
        assert!(record[16].contains("aws-sdk-rust"), "{}", record[16]);
        assert!(record[22].starts_with("127.0.0.1:"), "{}", record[22]);
    }
    let owner = s3
        .list_buckets()
        .send()
        .await
        .unwrap()
        .owner()
        .unwrap()
        .id()
        .unwrap()
        .to_owned();
    assert_eq!(parsed[0][0], owner);
    let put = &parsed[0];
    assert_eq!(put[5], put_request);
    assert_eq!(put[6], "REST.PUT.OBJECT");
    assert_eq!(put[7], "cats/tabby%20cat.jpg");
    assert_eq!(put[8], "PUT /photos/cats/tabby%20cat.jpg?x-id=PutObject HTTP/1.1");
    assert_eq!(put[9], "200");
    assert_eq!(put[10], "-");
    assert_eq!(put[12], "1234");
    let get = &parsed[1];
    assert_eq!(get[5], get_request);
    assert_eq!(get[6], "REST.GET.OBJECT");
    assert_eq!(get[11], "1234", "bytes sent");
    let head = &parsed[2];
    assert_eq!(
        (head[6].as_str(), head[9].as_str(), head[10].as_str()),
        ("REST.HEAD.OBJECT", "404", "NoSuchKey")
    );
    assert_eq!(
        (head[11].as_str(), head[12].as_str()),
        ("-", "-"),
        "a HEAD sends no body"
    );
    let list = &parsed[3];
    assert_eq!((list[6].as_str(), list[7].as_str()), ("REST.GET.BUCKET", "-"));

    // A presigned GET: its signature and credential are not in the record.
    let presigned = s3
        .get_object()
        .bucket("photos")
        .key("cats/tabby cat.jpg")
        .presigned(aws_sdk_s3::presigning::PresigningConfig::expires_in(Duration::from_secs(60)).unwrap())
        .await
        .unwrap();
    let signature = presigned.uri().split("X-Amz-Signature=").nth(1).unwrap().to_owned();
    assert_eq!(reqwest::get(presigned.uri()).await.unwrap().status(), 200);
    // Turned off: the request that turned it off is the last one logged, and still delivered.
    s3.put_bucket_logging()
        .bucket("photos")
        .bucket_logging_status(BucketLoggingStatus::builder().build())
        .send()
        .await
        .unwrap();
    let after = s3.get_bucket_logging().bucket("photos").send().await.unwrap();
    assert!(after.logging_enabled().is_none());
    let (_, records) = delivered(&s3, "logs", "access/", 7).await;
    assert_eq!(records.len(), 7, "{records:#?}");
    let presigned_record = fields(&records[5]);
    assert_eq!(presigned_record[21], "QueryString");
    assert!(
        presigned_record[8].contains("X-Amz-Signature=REDACTED"),
        "{}",
        presigned_record[8]
    );
    assert!(!records[5].contains(&signature));
    assert_eq!(fields(&records[6])[6], "REST.PUT.LOGGING_STATUS");
}

#[tokio::test]
async fn delivery_needs_the_target_to_allow_it_and_partitioned_keys_name_the_source() {
    let coffer = start();
    let account = coffer.account_id().await;
    let s3 = coffer.root_s3();
    for bucket in ["src", "unwilling", "willing"] {
        s3.create_bucket().bucket(bucket).send().await.unwrap();
    }
    // No policy for the logging service: nothing is delivered.
    s3.put_bucket_logging()
        .bucket("src")
        .bucket_logging_status(logging_to("unwilling", "l/", None))
        .send()
        .await
        .unwrap();
    s3.list_objects_v2().bucket("src").send().await.unwrap();
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let listed = s3.list_objects_v2().bucket("unwilling").send().await.unwrap();
    assert_eq!(listed.key_count(), Some(0));

    s3.put_bucket_policy()
        .bucket("willing")
        .policy(delivery_policy("willing", "p/", "src", &account))
        .send()
        .await
        .unwrap();
    let partitioned = TargetObjectKeyFormat::builder()
        .partitioned_prefix(
            PartitionedPrefix::builder()
                .partition_date_source(PartitionDateSource::EventTime)
                .build(),
        )
        .build();
    s3.put_bucket_logging()
        .bucket("src")
        .bucket_logging_status(logging_to("willing", "p/", Some(partitioned)))
        .send()
        .await
        .unwrap();
    let format = s3.get_bucket_logging().bucket("src").send().await.unwrap();
    let format = format.logging_enabled().unwrap().target_object_key_format().unwrap();
    assert_eq!(
        format.partitioned_prefix().unwrap().partition_date_source(),
        Some(&PartitionDateSource::EventTime)
    );
    s3.list_objects_v2().bucket("src").send().await.unwrap();
    // The GetBucketLogging and the listing (the PutBucketLogging that pointed here was made
    // under the configuration before it, and goes there).
    let (keys, records) = delivered(&s3, "willing", "p/", 2).await;
    assert_eq!(records.len(), 2, "{records:#?}");
    assert_eq!(keys.len(), 1);
    assert!(records[0].contains(" REST.GET.LOGGING_STATUS "), "{}", records[0]);
    let today = time::OffsetDateTime::now_utc();
    let day = format!("{:04}/{:02}/{:02}/", today.year(), u8::from(today.month()), today.day());
    assert!(
        keys[0].starts_with(&format!("p/{account}/us-east-1/src/{day}")),
        "{}",
        keys[0]
    );
    // A policy for another source bucket does not let this one deliver.
    s3.put_bucket_policy()
        .bucket("willing")
        .policy(delivery_policy("willing", "p/", "elsewhere", &account))
        .send()
        .await
        .unwrap();
    s3.list_objects_v2().bucket("src").send().await.unwrap();
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(
        s3.list_objects_v2().bucket("willing").send().await.unwrap().key_count(),
        Some(1)
    );
}

#[tokio::test]
async fn put_bucket_logging_checks_the_owner_and_the_target() {
    let coffer = start();
    let s3 = coffer.root_s3();
    for bucket in ["mine", "target"] {
        s3.create_bucket().bucket(bucket).send().await.unwrap();
    }
    let refused = |status: BucketLoggingStatus| {
        s3.put_bucket_logging()
            .bucket("mine")
            .bucket_logging_status(status)
            .send()
    };
    let err = refused(logging_to("no-such-target", "", None)).await.unwrap_err();
    assert_eq!(code(&err), "InvalidTargetBucketForLogging");
    let malformed = TargetObjectKeyFormat::builder()
        .partitioned_prefix(
            PartitionedPrefix::builder()
                .partition_date_source(PartitionDateSource::from("kaboom"))
                .build(),
        )
        .simple_prefix(SimplePrefix::builder().build())
        .build();
    let err = refused(logging_to("target", "", Some(malformed))).await.unwrap_err();
    assert_eq!(code(&err), "MalformedXML");
    let err = s3
        .put_bucket_logging()
        .bucket("no-such-source")
        .bucket_logging_status(logging_to("target", "", None))
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "NoSuchBucket");
    // Another account's bucket is no target, and another account may not set logging even
    // where the bucket policy lets it.
    let (other_key, other_secret) = coffer.other_account("other");
    let other = coffer.s3(&other_key, &other_secret);
    other.create_bucket().bucket("theirs").send().await.unwrap();
    let other_account = coffer
        .sts(&other_key, &other_secret, "us-east-1")
        .get_caller_identity()
        .send()
        .await
        .unwrap()
        .account()
        .unwrap()
        .to_owned();
    let err = refused(logging_to("theirs", "", None)).await.unwrap_err();
    assert_eq!(code(&err), "InvalidTargetBucketForLogging");
    s3.put_bucket_policy()
        .bucket("mine")
        .policy(format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"{other_account}"}},"Action":"s3:PutBucketLogging","Resource":"arn:aws:s3:::mine"}}]}}"#
        ))
        .send()
        .await
        .unwrap();
    let err = other
        .put_bucket_logging()
        .bucket("mine")
        .bucket_logging_status(logging_to("target", "", None))
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "AccessDenied");
    assert!(
        s3.get_bucket_logging()
            .bucket("mine")
            .send()
            .await
            .unwrap()
            .logging_enabled()
            .is_none()
    );
}

#[tokio::test]
async fn delivery_survives_a_deny_insecure_transport_policy() {
    let coffer = start();
    let account = coffer.account_id().await;
    let s3 = coffer.root_s3();
    for bucket in ["app", "trail"] {
        s3.create_bucket().bucket(bucket).send().await.unwrap();
    }
    // AWS's recommended policy: allow the logging service, deny anything over plain HTTP.
    let allow = delivery_policy("trail", "", "app", &account);
    let allow_statement = allow.split("\"Statement\":[").nth(1).unwrap().trim_end_matches("]}");
    let policy = format!(
        r#"{{"Version":"2012-10-17","Statement":[{allow_statement},{{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":["arn:aws:s3:::trail","arn:aws:s3:::trail/*"],"Condition":{{"Bool":{{"aws:SecureTransport":"false"}}}}}}]}}"#
    );
    s3.put_bucket_policy()
        .bucket("trail")
        .policy(policy)
        .send()
        .await
        .unwrap();
    s3.put_bucket_logging()
        .bucket("app")
        .bucket_logging_status(logging_to("trail", "", None))
        .send()
        .await
        .unwrap();
    s3.list_objects_v2().bucket("app").send().await.unwrap();
    // Over plain HTTP the root itself may no longer list `trail`: read through the store.
    let store = coffer.open_store().await;
    let mut delivered = 0;
    for _ in 0..50 {
        let page = store
            .list_objects(
                "trail",
                &coffer_store::listing::ListQuery {
                    max_keys: 100,
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        delivered = page.entries.len();
        if delivered > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(delivered, 1, "delivered in-process, not over plain HTTP");
}

#[tokio::test]
async fn refused_signatures_and_the_consoles_calls_are_logged_too() {
    let coffer = crate::console::harness::start_with(&[("COFFER_ACCESS_LOG_ROLL_SECS", "1")]);
    let account = coffer.account_id().await;
    let s3 = coffer.root_s3();
    for bucket in ["watched", "journal"] {
        s3.create_bucket().bucket(bucket).send().await.unwrap();
    }
    s3.put_bucket_policy()
        .bucket("journal")
        .policy(delivery_policy("journal", "", "watched", &account))
        .send()
        .await
        .unwrap();
    s3.put_bucket_logging()
        .bucket("watched")
        .bucket_logging_status(logging_to("journal", "", None))
        .send()
        .await
        .unwrap();
    // A wrong secret: refused before authorization, logged with no requester.
    let forged = coffer.s3(ROOT_KEY_ID, "not-the-secret-not-the-secret-not-the-se");
    let err = forged.get_object().bucket("watched").key("k").send().await.unwrap_err();
    assert_eq!(code(&err), "SignatureDoesNotMatch");
    // The console's listing of the bucket, as the signed-in root.
    let (mut browser, _) = crate::console::harness::root_browser(&coffer).await;
    assert_eq!(browser.get("/s3/buckets/watched").await.status, 200);

    // DeleteObjects: its own line, and one BATCH.DELETE.OBJECT per key deleted.
    for key in ["a", "b"] {
        s3.put_object()
            .bucket("watched")
            .key(key)
            .body(ByteStream::from_static(b"x"))
            .send()
            .await
            .unwrap();
    }
    let delete = aws_sdk_s3::types::Delete::builder()
        .objects(aws_sdk_s3::types::ObjectIdentifier::builder().key("a").build().unwrap())
        .objects(aws_sdk_s3::types::ObjectIdentifier::builder().key("b").build().unwrap())
        .build()
        .unwrap();
    s3.delete_objects()
        .bucket("watched")
        .delete(delete)
        .send()
        .await
        .unwrap();

    let (_, records) = delivered(&s3, "journal", "", 8).await;
    let parsed: Vec<Vec<String>> = records.iter().map(|r| fields(r)).collect();
    let multi = parsed
        .iter()
        .find(|r| r[6] == "REST.POST.MULTI_OBJECT_DELETE")
        .unwrap_or_else(|| panic!("{records:#?}"));
    let batch: Vec<(&str, &str, &str)> = parsed
        .iter()
        .filter(|r| r[6] == "BATCH.DELETE.OBJECT")
        .map(|r| (r[5].as_str(), r[7].as_str(), r[9].as_str()))
        .collect();
    assert_eq!(
        batch,
        [(multi[5].as_str(), "a", "204"), (multi[5].as_str(), "b", "204")]
    );
    let refused = parsed
        .iter()
        .find(|r| r[10] == "SignatureDoesNotMatch")
        .unwrap_or_else(|| panic!("{records:#?}"));
    assert_eq!(
        (refused[4].as_str(), refused[6].as_str(), refused[7].as_str()),
        ("-", "REST.GET.OBJECT", "k")
    );
    assert_eq!(refused[9], "403");
    // The console's own requests (made in-process, with no user agent of their own).
    let console = parsed
        .iter()
        .find(|r| r[6] == "REST.GET.BUCKET" && r[16] == "-")
        .unwrap_or_else(|| panic!("{records:#?}"));
    assert_eq!(console[4], format!("arn:aws:iam::{account}:root"));
}
