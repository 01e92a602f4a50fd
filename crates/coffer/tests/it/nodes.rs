//! Several nodes: two `coffer serve` processes on one PostgreSQL database and one data dir
//! answer for each other. A user or key made through one signs requests to the other at once;
//! a revoked key or a changed policy is in force on the other within the documented second;
//! an object written through one reads and lists through the other; If-None-Match: * races
//! spread over both have one winner; a console session from one is valid on the other, and
//! the sign-in throttle counts both nodes' attempts as one.

use std::time::{Duration, Instant};

use aws_sdk_s3::primitives::ByteStream;

use crate::console::harness::{Browser, sign_in_from};
use crate::harness::{Coffer, code};

/// How long a change made through one node may take to reach the other (docs/DESIGN.md).
const PROPAGATION: Duration = Duration::from_secs(1);

/// Waits until `check` holds, at most [`PROPAGATION`]; returns how long it took.
async fn within_a_second<F, Fut>(what: &str, mut check: F) -> Duration
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let started = Instant::now();
    loop {
        if check().await {
            return started.elapsed();
        }
        assert!(
            started.elapsed() < PROPAGATION,
            "{what}: not on the other node after {PROPAGATION:?}"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_nodes_on_one_database_answer_for_each_other() {
    let (one, two) = Coffer::start_two_nodes();

    // A user and key made through node one sign requests to node two at once.
    let (id, secret) = one.user_with_key("nora").await;
    let identity = two
        .sts(&id, &secret, "us-east-1")
        .get_caller_identity()
        .send()
        .await
        .unwrap();
    assert!(identity.arn().unwrap().ends_with(":user/nora"));

    // A policy attached through one is enforced on the other, and so is its removal.
    let nora_on_two = two.s3(&id, &secret);
    let denied = nora_on_two.list_buckets().send().await.unwrap_err();
    assert_eq!(code(&denied), "AccessDenied");
    let read_only = "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess";
    one.root_iam()
        .attach_user_policy()
        .user_name("nora")
        .policy_arn(read_only)
        .send()
        .await
        .unwrap();
    within_a_second("an attached policy", || async {
        nora_on_two.list_buckets().send().await.is_ok()
    })
    .await;
    one.root_iam()
        .detach_user_policy()
        .user_name("nora")
        .policy_arn(read_only)
        .send()
        .await
        .unwrap();
    within_a_second("a detached policy", || async {
        nora_on_two.list_buckets().send().await.is_err()
    })
    .await;

    // A key deactivated through one stops working on the other.
    one.root_iam()
        .update_access_key()
        .user_name("nora")
        .access_key_id(&id)
        .status(aws_sdk_iam::types::StatusType::Inactive)
        .send()
        .await
        .unwrap();
    let took = within_a_second("a deactivated key", || async {
        let sts = two.sts(&id, &secret, "us-east-1");
        matches!(sts.get_caller_identity().send().await, Err(err) if code(&err) == "InvalidClientTokenId")
    })
    .await;
    eprintln!("a deactivated key was refused by the other node after {took:?}");

    // An object written through two reads and lists through one.
    let (s3_one, s3_two) = (one.root_s3(), two.root_s3());
    s3_one.create_bucket().bucket("shared").send().await.unwrap();
    s3_two
        .put_object()
        .bucket("shared")
        .key("from-two.txt")
        .body(ByteStream::from_static(b"written on node two"))
        .send()
        .await
        .unwrap();
    let read = s3_one
        .get_object()
        .bucket("shared")
        .key("from-two.txt")
        .send()
        .await
        .unwrap();
    assert_eq!(
        read.body.collect().await.unwrap().into_bytes().as_ref(),
        b"written on node two"
    );
    let listed = s3_one.list_objects_v2().bucket("shared").send().await.unwrap();
    assert_eq!(listed.contents()[0].key(), Some("from-two.txt"));

    // Twenty If-None-Match: * writes of one key, spread over both nodes: one wins.
    let mut racing = Vec::new();
    for i in 0..20 {
        let client = if i % 2 == 0 { s3_one.clone() } else { s3_two.clone() };
        racing.push(tokio::spawn(async move {
            client
                .put_object()
                .bucket("shared")
                .key("once.txt")
                .if_none_match("*")
                .body(ByteStream::from(format!("writer {i}").into_bytes()))
                .send()
                .await
        }));
    }
    let mut won = 0;
    for race in racing {
        match race.await.unwrap() {
            Ok(_) => won += 1,
            Err(err) => assert_eq!(err.raw_response().map(|r| r.status().as_u16()), Some(412), "{err:?}"),
        }
    }
    assert_eq!(won, 1);

    // A console session from node one is valid on node two.
    let account = one.account_id().await;
    let mut browser = Browser::new(&one);
    browser.sign_in(&account, "", "Root-Pass-2026").await;
    assert_eq!(browser.get("/iam/users").await.status, 200);
    browser.base = two.console.clone();
    let on_two = browser.get("/iam/users").await;
    assert_eq!(on_two.status, 200, "{:?}", on_two.location);
    assert!(on_two.body.contains("nora"));

    // The sign-in throttle counts attempts on both nodes as one: guesses through one delay
    // the name on two, and an address the name signed in from through one passes on two.
    for n in 1..=5 {
        let address = format!("198.51.100.{n}");
        assert_eq!(sign_in_from(&one, &address, &account, "", "Guess-Pass-1").await, 401);
    }
    assert_eq!(
        sign_in_from(&two, "198.51.100.6", &account, "", "Root-Pass-2026").await,
        429
    );
    assert_eq!(
        sign_in_from(&two, "127.0.0.1", &account, "", "Root-Pass-2026").await,
        303
    );
}

#[tokio::test]
async fn an_object_deleted_through_one_node_still_streams_whole_from_another() {
    let (one, two) = Coffer::start_two_nodes();
    let s3_one = one.root_s3();
    s3_one.create_bucket().bucket("big").send().await.unwrap();
    // Eight 5 MiB parts: far more than the sockets between the test and node two buffer, so
    // node two opens the later parts' files only after the object is gone.
    let part = |n: u8| vec![n; 5 << 20];
    let upload = s3_one
        .create_multipart_upload()
        .bucket("big")
        .key("movie")
        .send()
        .await
        .unwrap();
    let upload = upload.upload_id().unwrap();
    let mut parts = Vec::new();
    for n in 1..=8u8 {
        let out = s3_one
            .upload_part()
            .bucket("big")
            .key("movie")
            .upload_id(upload)
            .part_number(n.into())
            .body(ByteStream::from(part(n)))
            .send()
            .await
            .unwrap();
        parts.push(
            aws_sdk_s3::types::CompletedPart::builder()
                .part_number(n.into())
                .e_tag(out.e_tag().unwrap())
                .build(),
        );
    }
    s3_one
        .complete_multipart_upload()
        .bucket("big")
        .key("movie")
        .upload_id(upload)
        .multipart_upload(
            aws_sdk_s3::types::CompletedMultipartUpload::builder()
                .set_parts(Some(parts))
                .build(),
        )
        .send()
        .await
        .unwrap();

    let s3_two = two.root_s3();
    let reading = s3_two.get_object().bucket("big").key("movie").send().await.unwrap();
    let mut body = reading.body;
    let mut read = body.next().await.unwrap().unwrap().to_vec();
    // Deleted through node one while node two streams it: node two's reader holds no lease
    // on node one, and must still find every part.
    s3_one.delete_object().bucket("big").key("movie").send().await.unwrap();
    while let Some(chunk) = body.next().await {
        read.extend_from_slice(&chunk.expect("the stream went on"));
    }
    let expected: Vec<u8> = (1..=8u8).flat_map(part).collect();
    assert!(
        read == expected,
        "{} of {} bytes, or different ones",
        read.len(),
        expected.len()
    );
    let gone = s3_two.get_object().bucket("big").key("movie").send().await.unwrap_err();
    assert_eq!(code(&gone), "NoSuchKey");
}

/// Runs `sql` on the test server's maintenance database.
fn on_server(sql: &str) {
    let server = std::env::var("COFFER_TEST_POSTGRES_URL").unwrap();
    let out = std::process::Command::new("psql")
        .args([server.as_str(), "-qc", sql])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

#[tokio::test]
async fn a_node_that_loses_its_database_answers_503_and_recovers_by_itself() {
    let coffer = Coffer::start_postgres(&[("COFFER_DATABASE_TIMEOUT_SECS", "2")]);
    let database = coffer.database_url().unwrap().rsplit('/').next().unwrap().to_owned();
    let s3 = coffer.root_s3();
    s3.create_bucket().bucket("kept").send().await.unwrap();
    s3.put_object()
        .bucket("kept")
        .key("k")
        .body(ByteStream::from_static(b"v"))
        .send()
        .await
        .unwrap();
    let health = format!("{}/_coffer/health", coffer.endpoint);
    assert_eq!(reqwest::get(&health).await.unwrap().status(), 200);

    // The database refuses this node, and drops the connections it had.
    on_server(&format!("ALTER DATABASE {database} ALLOW_CONNECTIONS false"));
    on_server(&format!(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{database}'"
    ));
    let started = Instant::now();
    let err = s3.get_object().bucket("kept").key("k").send().await.unwrap_err();
    assert_eq!(err.raw_response().map(|r| r.status().as_u16()), Some(503), "{err:?}");
    assert_eq!(code(&err), "ServiceUnavailable");
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "it answered, not hung: {:?}",
        started.elapsed()
    );
    let put = s3
        .put_object()
        .bucket("kept")
        .key("new")
        .body(ByteStream::from_static(b"w"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(put.raw_response().map(|r| r.status().as_u16()), Some(503), "{put:?}");
    let iam = coffer.root_iam().list_users().send().await.unwrap_err();
    assert_eq!(code(&iam), "ServiceFailure");
    assert_eq!(reqwest::get(&health).await.unwrap().status(), 503);

    // Back: the node serves again without a restart.
    on_server(&format!("ALTER DATABASE {database} ALLOW_CONNECTIONS true"));
    let recovered = Instant::now();
    loop {
        if s3.get_object().bucket("kept").key("k").send().await.is_ok() {
            break;
        }
        assert!(
            recovered.elapsed() < Duration::from_secs(20),
            "the node did not recover"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(reqwest::get(&health).await.unwrap().status(), 200);
}

/// The bytes stored under `key`: derived from it, so any object can be checked on its own.
fn content(key: &str) -> Vec<u8> {
    let len = [1, 4096, 70_000][key.len() % 3];
    key.as_bytes().iter().copied().cycle().take(len).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn connections_cut_mid_commit_lose_nothing_acknowledged_and_tear_nothing() {
    let coffer = Coffer::start_postgres(&[("COFFER_DATABASE_TIMEOUT_SECS", "2")]);
    let database = coffer.database_url().unwrap().rsplit('/').next().unwrap().to_owned();
    let s3 = coffer.root_s3();
    s3.create_bucket().bucket("cut").send().await.unwrap();
    let acknowledged = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut writers = Vec::new();
    for writer in 0..6 {
        let (s3, acknowledged, stop) = (s3.clone(), acknowledged.clone(), stop.clone());
        writers.push(tokio::spawn(async move {
            let mut i = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                // Half the writers overwrite a few keys again and again.
                let key = if writer % 2 == 0 {
                    format!("w{writer}/{i}")
                } else {
                    format!("w{writer}/{}", i % 3)
                };
                let put = s3
                    .put_object()
                    .bucket("cut")
                    .key(&key)
                    .body(ByteStream::from(content(&key)))
                    .send()
                    .await;
                if put.is_ok() {
                    acknowledged.lock().unwrap().push(key);
                }
                i += 1;
            }
        }));
    }
    // Cut every connection of the node, again and again, while it commits.
    for _ in 0..12 {
        tokio::time::sleep(Duration::from_millis(150)).await;
        on_server(&format!(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{database}'"
        ));
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for writer in writers {
        writer.await.unwrap();
    }
    let acknowledged = acknowledged.lock().unwrap().clone();
    assert!(
        acknowledged.len() > 20,
        "the load ran: {} writes acknowledged",
        acknowledged.len()
    );
    // Everything listed reads back whole, and everything acknowledged is listed.
    let mut listed = Vec::new();
    let mut token = None;
    loop {
        let page = s3
            .list_objects_v2()
            .bucket("cut")
            .set_continuation_token(token)
            .send()
            .await
            .unwrap();
        listed.extend(page.contents().iter().map(|o| o.key().unwrap().to_owned()));
        token = page.next_continuation_token().map(str::to_owned);
        if token.is_none() {
            break;
        }
    }
    for key in &acknowledged {
        assert!(listed.contains(key), "acknowledged {key} is gone");
    }
    for key in &listed {
        let read = s3.get_object().bucket("cut").key(key).send().await.unwrap();
        assert_eq!(
            read.body.collect().await.unwrap().into_bytes().as_ref(),
            content(key).as_slice(),
            "{key} is torn"
        );
    }
}
