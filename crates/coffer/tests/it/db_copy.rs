//! `coffer db copy`: an installation moved from SQLite to PostgreSQL and back lists the same
//! objects byte for byte, and its keys still sign; a target with rows is refused.

use aws_sdk_s3::primitives::ByteStream;

use crate::harness::{Coffer, coffer_bin};

/// Everything a client sees of the bucket: each key with its size and ETag, and the users.
async fn snapshot(coffer: &Coffer) -> (Vec<(String, i64, String)>, Vec<String>) {
    let listed = coffer
        .root_s3()
        .list_objects_v2()
        .bucket("archive")
        .send()
        .await
        .unwrap();
    let objects = listed
        .contents()
        .iter()
        .map(|o| {
            (
                o.key().unwrap().to_owned(),
                o.size().unwrap(),
                o.e_tag().unwrap().to_owned(),
            )
        })
        .collect();
    let users = coffer.root_iam().list_users().send().await.unwrap();
    let names = users.users().iter().map(|u| u.user_name().to_owned()).collect();
    (objects, names)
}

fn copy(from: &str, to: &str) -> std::process::Output {
    std::process::Command::new(coffer_bin())
        .args(["db", "copy", "--from", from, "--to", to])
        .env("COFFER_LOG", "warn")
        .output()
        .expect("run coffer db copy")
}

#[tokio::test]
async fn an_installation_moves_to_postgresql_and_back_whole() {
    let mut coffer = Coffer::start_sqlite();
    let (key_id, secret) = coffer.user_with_key("carol").await;
    let s3 = coffer.root_s3();
    s3.create_bucket().bucket("archive").send().await.unwrap();
    for key in ["a.txt", "dir/b.bin", "dir/sub/ç.txt", "z"] {
        s3.put_object()
            .bucket("archive")
            .key(key)
            .body(ByteStream::from(format!("body of {key}").into_bytes()))
            .send()
            .await
            .unwrap();
    }
    let before = snapshot(&coffer).await;
    coffer.stop();

    // SQLite to PostgreSQL: the same data dir serves from the new database.
    let sqlite = format!("sqlite://{}", coffer.data_dir().join("meta.db").display());
    let postgres = Coffer::new_postgres_database();
    let out = copy(&sqlite, &postgres);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains(r#""objects":4"#),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    coffer.restart_on(Some(postgres.clone()));
    assert_eq!(snapshot(&coffer).await, before);
    let who = coffer
        .sts(&key_id, &secret, "us-east-1")
        .get_caller_identity()
        .send()
        .await
        .unwrap();
    assert!(who.arn().unwrap().ends_with(":user/carol"));
    let body = coffer
        .root_s3()
        .get_object()
        .bucket("archive")
        .key("dir/sub/ç.txt")
        .send()
        .await
        .unwrap();
    assert_eq!(
        body.body.collect().await.unwrap().into_bytes().as_ref(),
        "body of dir/sub/ç.txt".as_bytes()
    );

    // A target with rows is refused, and left as it was.
    let refused = copy(&sqlite, &postgres);
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("not empty"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
    coffer.stop();

    // And back to SQLite, into a new file.
    let back = coffer.data_dir().join("meta-back.db");
    let out = copy(&postgres, &format!("sqlite://{}?mode=rwc", back.display()));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    for name in ["meta.db", "meta.db-wal", "meta.db-shm"] {
        let _ = std::fs::remove_file(coffer.data_dir().join(name));
    }
    std::fs::rename(&back, coffer.data_dir().join("meta.db")).unwrap();
    coffer.restart_on(None);
    assert_eq!(snapshot(&coffer).await, before);
    let who = coffer
        .sts(&key_id, &secret, "us-east-1")
        .get_caller_identity()
        .send()
        .await
        .unwrap();
    assert!(who.arn().unwrap().ends_with(":user/carol"));
}
