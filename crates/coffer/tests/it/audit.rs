//! The audit trail: CloudTrail records of a day's calls, exact and free of secrets; none lost
//! to a kill -9 once acknowledged; delivered into a bucket; looked up in the console.

use std::io::Read;
use std::path::Path;
use std::time::Duration;

use aws_sdk_iam::operation::RequestId;
use serde_json::Value;

use crate::console::harness::{Browser, ROOT_PASSWORD, start_with};
use crate::harness::{Coffer, ROOT_KEY_ID, SessionKeys};

/// Every record in the journal files of `dir`, oldest first.
fn records(dir: &Path) -> Vec<Value> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".jsonl"))
        .collect();
    // Closed files are named by time and sort before `current.jsonl`.
    names.sort_by_key(|n| (n == "current.jsonl", n.clone()));
    names
        .iter()
        .flat_map(|n| {
            std::fs::read_to_string(dir.join(n))
                .unwrap()
                .lines()
                .map(|l| serde_json::from_str(l).unwrap())
                .collect::<Vec<Value>>()
        })
        .collect()
}

fn all_text(dir: &Path) -> String {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
        .collect()
}

/// (source, name, identity type, user name or "", error code or "") of each record.
fn summary(records: &[Value]) -> Vec<(String, String, String, String, String)> {
    let text = |v: &Value| v.as_str().unwrap_or("").to_owned();
    records
        .iter()
        .map(|r| {
            (
                text(&r["eventSource"]).replace(".amazonaws.com", ""),
                text(&r["eventName"]),
                text(&r["userIdentity"]["type"]),
                text(&r["userIdentity"]["userName"]),
                text(&r["errorCode"]),
            )
        })
        .collect()
}

fn row(source: &str, name: &str, kind: &str, user: &str, error: &str) -> (String, String, String, String, String) {
    (
        source.to_owned(),
        name.to_owned(),
        kind.to_owned(),
        user.to_owned(),
        error.to_owned(),
    )
}

#[tokio::test]
async fn a_scripted_day_is_recorded_exactly_and_without_secrets() {
    let coffer = start_with(&[]);
    let audit_dir = coffer.data_dir().join("audit");
    let account = coffer.account_id().await;
    let iam = coffer.root_iam();
    let created = iam.create_user().user_name("alice").send().await.unwrap();
    let create_user_request = created.request_id().unwrap().to_owned();
    let key = iam.create_access_key().user_name("alice").send().await.unwrap();
    let key = key.access_key().unwrap();
    let (key_id, secret) = (key.access_key_id().to_owned(), key.secret_access_key().to_owned());
    let password = "Alice-Pass-2026!";
    iam.create_login_profile()
        .user_name("alice")
        .password(password)
        .send()
        .await
        .unwrap();
    // A wrong password, a password typed into the name field, then the right one.
    let mut browser = Browser::new(&coffer);
    assert_eq!(browser.sign_in(&account, "alice", "Wrong-Pass-2026").await.status, 401);
    assert_eq!(browser.sign_in(&account, "Typed-Pass-2026", "x").await.status, 401);
    assert_eq!(browser.sign_in(&account, "alice", password).await.status, 303);
    // Alice's key may do nothing yet.
    let denied = coffer.iam(&key_id, &secret).list_users().send().await.unwrap_err();
    assert_eq!(crate::harness::code(&denied), "AccessDenied");
    let s3 = coffer.root_s3();
    s3.create_bucket().bucket("day").send().await.unwrap();
    // Object-level calls are data events: not recorded unless asked for.
    s3.put_object()
        .bucket("day")
        .key("k")
        .body(b"x".to_vec().into())
        .send()
        .await
        .unwrap();
    iam.update_access_key()
        .user_name("alice")
        .access_key_id(&key_id)
        .status(aws_sdk_iam::types::StatusType::Inactive)
        .send()
        .await
        .unwrap();
    iam.delete_access_key()
        .user_name("alice")
        .access_key_id(&key_id)
        .send()
        .await
        .unwrap();

    let records = records(&audit_dir);
    assert_eq!(
        summary(&records),
        vec![
            row("sts", "GetCallerIdentity", "Root", "", ""),
            row("iam", "CreateUser", "Root", "", ""),
            row("iam", "CreateAccessKey", "Root", "", ""),
            row("iam", "CreateLoginProfile", "Root", "", ""),
            row("signin", "ConsoleLogin", "IAMUser", "alice", ""),
            row(
                "signin",
                "ConsoleLogin",
                "IAMUser",
                "HIDDEN_DUE_TO_SECURITY_REASONS",
                ""
            ),
            row("signin", "ConsoleLogin", "IAMUser", "alice", ""),
            row("iam", "ListUsers", "IAMUser", "alice", "AccessDenied"),
            row("s3", "CreateBucket", "Root", "", ""),
            row("iam", "UpdateAccessKey", "Root", "", ""),
            row("iam", "DeleteAccessKey", "Root", "", ""),
        ]
    );
    let by_name = |name: &'static str| records.iter().filter(move |r| r["eventName"] == name);
    let create_user = by_name("CreateUser").next().unwrap();
    assert_eq!(create_user["requestID"], create_user_request.as_str());
    assert_eq!(create_user["requestParameters"]["userName"], "alice");
    assert_eq!(create_user["responseElements"]["user"]["userName"], "alice");
    assert_eq!(create_user["userIdentity"]["accessKeyId"], ROOT_KEY_ID);
    assert_eq!(
        create_user["userIdentity"]["arn"],
        format!("arn:aws:iam::{account}:root")
    );
    assert_eq!(create_user["recipientAccountId"], account.as_str());
    assert_eq!(create_user["sourceIPAddress"], "127.0.0.1");
    assert_eq!(create_user["readOnly"], false);
    assert_eq!(create_user["managementEvent"], true);
    assert!(create_user["userAgent"].as_str().unwrap().contains("aws-sdk-rust"));
    let created_key = by_name("CreateAccessKey").next().unwrap();
    assert_eq!(
        created_key["responseElements"]["accessKey"]["accessKeyId"],
        key_id.as_str()
    );
    assert_eq!(
        created_key["responseElements"]["accessKey"]["secretAccessKey"],
        "HIDDEN_DUE_TO_SECURITY_REASONS"
    );
    let profile = by_name("CreateLoginProfile").next().unwrap();
    assert_eq!(
        profile["requestParameters"]["password"],
        "HIDDEN_DUE_TO_SECURITY_REASONS"
    );
    let logins: Vec<&Value> = by_name("ConsoleLogin").collect();
    assert_eq!(logins[0]["responseElements"]["ConsoleLogin"], "Failure");
    assert_eq!(logins[0]["errorMessage"], "Failed authentication");
    assert_eq!(logins[2]["responseElements"]["ConsoleLogin"], "Success");
    assert_eq!(logins[2]["eventType"], "AwsConsoleSignIn");
    assert_eq!(
        logins[2]["userIdentity"]["arn"],
        format!("arn:aws:iam::{account}:user/alice")
    );
    let denial = by_name("ListUsers").next().unwrap();
    assert_eq!(denial["userIdentity"]["accessKeyId"], key_id.as_str());
    assert!(denial["errorMessage"].as_str().unwrap().contains("iam:ListUsers"));
    assert_eq!(denial["readOnly"], true);
    let bucket = by_name("CreateBucket").next().unwrap();
    assert_eq!(bucket["requestParameters"]["bucketName"], "day");
    assert_eq!(bucket["resources"][0]["ARN"], "arn:aws:s3:::day");
    assert_eq!(bucket["additionalEventData"]["SignatureVersion"], "SigV4");
    assert_eq!(bucket["requestID"].as_str().unwrap().len(), 16);
    // Every event id is its own.
    let mut ids: Vec<&str> = records.iter().map(|r| r["eventID"].as_str().unwrap()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), records.len());
    let text = all_text(&audit_dir);
    for secret in [
        secret.as_str(),
        password,
        "Wrong-Pass-2026",
        "Typed-Pass-2026",
        ROOT_PASSWORD,
    ] {
        assert!(!text.contains(secret), "a secret reached the audit trail");
    }

    // The console's Event history: the account's records, filtered; its key links to them.
    let mut root = Browser::new(&coffer);
    root.sign_in(&account, "", ROOT_PASSWORD).await;
    let page = root.get(&format!("/events?access_key={key_id}")).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("ListUsers"), "{}", page.body);
    assert!(page.body.contains("AccessDenied"));
    assert!(!page.body.contains("CreateBucket"), "filtered by key");
    let page = root.get("/events?event_name=ConsoleLogin&user=alice").await;
    assert_eq!(page.body.matches("<tr class=\"event\">").count(), 2, "{}", page.body);
    let today = time::OffsetDateTime::now_utc().date();
    let page = root.get(&format!("/events?from={}", today.next_day().unwrap())).await;
    assert!(page.body.contains("No events match."));
    let page = root.get("/events?from=yesterday").await;
    assert!(page.body.contains("is not a date"));
    let user_page = root.get("/iam/users/alice").await;
    assert_eq!(user_page.status, 200);
    // Alice's own sign-in may not read the trail without cloudtrail:LookupEvents.
    let page = browser.get("/events").await;
    assert_eq!(page.status, 403, "{}", page.body);
    assert!(page.body.contains("cloudtrail:LookupEvents"));
}

#[tokio::test]
async fn an_acknowledged_call_survives_kill_9() {
    let mut coffer = Coffer::start();
    let iam = coffer.root_iam();
    for i in 0..20 {
        iam.create_user().user_name(format!("u{i}")).send().await.unwrap();
    }
    coffer.kill_and_restart();
    let records = records(&coffer.data_dir().join("audit"));
    let created: Vec<&str> = records
        .iter()
        .filter(|r| r["eventName"] == "CreateUser")
        .map(|r| r["requestParameters"]["userName"].as_str().unwrap())
        .collect();
    let expected: Vec<String> = (0..20).map(|i| format!("u{i}")).collect();
    assert_eq!(created, expected);
    // The journal left by the crash was closed into a file on start.
    let closed = std::fs::read_dir(coffer.data_dir().join("audit"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n != "current.jsonl")
        .count();
    assert_eq!(closed, 1);
    coffer.root_iam().list_users().send().await.unwrap();
}

#[tokio::test]
async fn the_trail_is_delivered_into_a_bucket_with_data_events_when_asked() {
    let coffer = start_with(&[
        ("COFFER_AUDIT_BUCKET", "trail"),
        ("COFFER_AUDIT_DELIVERY_SECS", "1"),
        ("COFFER_AUDIT_EVENTS", "all"),
    ]);
    let account = coffer.account_id().await;
    let s3 = coffer.root_s3();
    s3.create_bucket().bucket("trail").send().await.unwrap();
    s3.create_bucket().bucket("photos").send().await.unwrap();
    s3.put_object()
        .bucket("photos")
        .key("cat.jpg")
        .body(b"meow".to_vec().into())
        .send()
        .await
        .unwrap();
    // Another account's calls are not the trail bucket owner's to read.
    let (other_key, other_secret) = coffer.other_account("second");
    coffer
        .iam(&other_key, &other_secret)
        .create_user()
        .user_name("carol")
        .send()
        .await
        .unwrap();
    coffer.root_iam().create_user().user_name("bob").send().await.unwrap();
    // Delivered within a few ticks: every record above, in CloudTrail's layout.
    let mut delivered: Vec<Value> = Vec::new();
    for _ in 0..100 {
        let listed = s3
            .list_objects_v2()
            .bucket("trail")
            .prefix(format!("AWSLogs/{account}/CloudTrail/"))
            .send()
            .await
            .unwrap();
        delivered.clear();
        for object in listed.contents() {
            let key = object.key().unwrap();
            assert!(key.ends_with(".json.gz"), "{key}");
            assert!(key.contains(&format!("/{account}_CloudTrail_us-east-1_")), "{key}");
            let body = s3.get_object().bucket("trail").key(key).send().await.unwrap();
            let bytes = body.body.collect().await.unwrap().into_bytes();
            let mut json = String::new();
            flate2::read::GzDecoder::new(&bytes[..])
                .read_to_string(&mut json)
                .unwrap();
            let document: Value = serde_json::from_str(&json).unwrap();
            delivered.extend(document["Records"].as_array().unwrap().iter().cloned());
        }
        if delivered.iter().any(|r| r["eventName"] == "CreateUser") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let names: Vec<&str> = delivered.iter().map(|r| r["eventName"].as_str().unwrap()).collect();
    assert!(
        delivered.iter().all(|r| r["recipientAccountId"] == account.as_str()),
        "{delivered:?}"
    );
    assert!(
        records(&coffer.data_dir().join("audit"))
            .iter()
            .any(|r| r["requestParameters"]["userName"] == "carol")
    );
    for name in ["GetCallerIdentity", "CreateBucket", "PutObject", "CreateUser"] {
        assert!(names.contains(&name), "{name} not delivered: {names:?}");
    }
    let put = delivered.iter().find(|r| r["eventName"] == "PutObject").unwrap();
    assert_eq!(put["managementEvent"], false);
    assert_eq!(put["eventCategory"], "Data");
    assert_eq!(put["requestParameters"]["key"], "cat.jpg");
    assert_eq!(put["resources"][0]["ARN"], "arn:aws:s3:::photos/cat.jpg");
    assert_eq!(put["additionalEventData"]["bytesTransferredIn"], 4);
    // Delivered files are marked, not delivered twice.
    let dir = coffer.data_dir().join("audit");
    assert!(
        std::fs::read_dir(&dir).unwrap().any(|e| e
            .unwrap()
            .file_name()
            .to_string_lossy()
            .ends_with(".delivered.jsonl"))
    );
}

#[tokio::test]
async fn role_sessions_are_recorded_without_their_credentials() {
    let coffer = start_with(&[]);
    let account = coffer.account_id().await;
    let trust = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{account}:root"}},"Action":"sts:AssumeRole"}}]}}"#
    );
    coffer
        .root_iam()
        .create_role()
        .role_name("reader")
        .assume_role_policy_document(trust)
        .send()
        .await
        .unwrap();
    let (key, secret) = coffer.user_with_key("assumer").await;
    coffer
        .root_iam()
        .put_user_policy()
        .user_name("assumer")
        .policy_name("assume")
        .policy_document(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"*"}]}"#,
        )
        .send()
        .await
        .unwrap();
    let assumed = coffer
        .sts(&key, &secret, "eu-west-1")
        .assume_role()
        .role_arn(format!("arn:aws:iam::{account}:role/reader"))
        .role_session_name("audit")
        .send()
        .await
        .unwrap();
    let keys = SessionKeys::of(assumed.credentials().unwrap());
    // Nothing allows the session to list buckets: refused, and recorded as the session.
    assert!(coffer.s3_session(&keys).list_buckets().send().await.is_err());

    let audit_dir = coffer.data_dir().join("audit");
    let records = records(&audit_dir);
    let assume = records.iter().find(|r| r["eventName"] == "AssumeRole").unwrap();
    assert_eq!(assume["awsRegion"], "eu-west-1");
    assert_eq!(assume["recipientAccountId"], account.as_str());
    assert_eq!(assume["requestParameters"]["roleSessionName"], "audit");
    let credentials = &assume["responseElements"]["credentials"];
    assert_eq!(credentials["accessKeyId"], keys.key_id.as_str());
    assert_eq!(credentials["sessionToken"], "HIDDEN_DUE_TO_SECURITY_REASONS");
    assert_eq!(credentials["secretAccessKey"], "HIDDEN_DUE_TO_SECURITY_REASONS");
    let listed = records.iter().find(|r| r["eventName"] == "ListBuckets").unwrap();
    let identity = &listed["userIdentity"];
    assert_eq!(identity["type"], "AssumedRole");
    assert_eq!(identity["accessKeyId"], keys.key_id.as_str());
    assert_eq!(identity["sessionContext"]["sessionIssuer"]["userName"], "reader");
    assert_eq!(listed["errorCode"], "AccessDenied");
    let text = all_text(&audit_dir);
    assert!(!text.contains(&keys.secret), "a session's secret reached the trail");
    assert!(!text.contains(&keys.token), "a session token reached the trail");
}
