//! Disks that fail. A full one: Coffer's data dir on a small tmpfs (mounted by the test; the
//! suite runs as root); a write that finds no room fails with a clean 5xx and leaves nothing
//! behind, reads go on, and writes succeed again once room returns, also after a restart.
//! One whose reads fail (coffer-lazyfs): a GET answers an error, never wrong bytes.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use aws_sdk_s3::primitives::ByteStream;

use crate::harness::Coffer;

/// A tmpfs of `size` mounted over `at` for the life of the value.
struct Tmpfs(PathBuf);

impl Tmpfs {
    fn mount(at: &Path, size: &str) -> Tmpfs {
        let status = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size},mode=0700"), "tmpfs"])
            .arg(at)
            .status()
            .expect("mount (util-linux)");
        assert!(status.success(), "mount -t tmpfs (the suite runs as root)");
        Tmpfs(at.to_owned())
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

/// Takes every byte left on the file system holding `path`, in a file of its own there.
fn fill(path: &Path) {
    let mut filler = std::fs::File::create(path).unwrap();
    let chunk = vec![0xAB; 64 * 1024];
    while filler.write_all(&chunk).is_ok() {}
    // The last few bytes a chunk could not take.
    while filler.write_all(&[0xAB]).is_ok() {}
}

fn body(seed: u8, len: usize) -> Vec<u8> {
    (0..len).map(|i| seed.wrapping_add(i as u8)).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_refuses_writes_cleanly_and_they_succeed_when_room_returns() {
    let mut coffer = Coffer::unstarted_sqlite();
    let _disk = Tmpfs::mount(coffer.data_dir(), "48m");
    coffer.start_again();
    let (s3, iam) = (coffer.root_s3(), coffer.root_iam());
    s3.create_bucket().bucket("full").send().await.unwrap();
    let mut stored = Vec::new();
    for i in 0..3u8 {
        let key = format!("before/{i}");
        s3.put_object()
            .bucket("full")
            .key(&key)
            .body(ByteStream::from(body(i, 1 << 20)))
            .send()
            .await
            .unwrap();
        stored.push((key, body(i, 1 << 20)));
    }

    let filler = coffer.data_dir().join("filler");
    fill(&filler);

    // Objects of every size: refused with a 5xx, nothing of them stays.
    for (i, len) in [(10u8, 1usize << 20), (11, 100_000), (12, 10)] {
        let key = format!("refused/{i}");
        let err = s3
            .put_object()
            .bucket("full")
            .key(&key)
            .body(ByteStream::from(body(i, len)))
            .send()
            .await
            .expect_err("a PUT on a full disk");
        let status = err.raw_response().map(|r| r.status().as_u16()).unwrap_or(0);
        assert!((500..600).contains(&status), "{len} bytes: {status} {err:?}");
        let head = s3.head_object().bucket("full").key(&key).send().await;
        assert!(head.is_err(), "{key} is visible after a refused PUT");
    }
    // A multipart part likewise.
    let upload = s3.create_multipart_upload().bucket("full").key("mpu").send().await;
    if let Ok(upload) = upload {
        let part = s3
            .upload_part()
            .bucket("full")
            .key("mpu")
            .upload_id(upload.upload_id().unwrap())
            .part_number(1)
            .body(ByteStream::from(body(20, 1 << 20)))
            .send()
            .await;
        assert!(part.is_err(), "a part stored on a full disk");
    }
    assert_eq!(coffer.blob_files().len(), stored.len(), "partial blobs left behind");

    // Writes of metadata alone, until the database has no room left either (it may still
    // have some in pages it holds): refused with a 5xx, and then reads must still work (a
    // refused commit once left its connection unusable, and every request answered 503).
    let mut database_refusals = 0;
    for i in 0..200 {
        let started = s3
            .create_multipart_upload()
            .bucket("full")
            .key(format!("upload-{i:03}-{}", "x".repeat(900)))
            .send()
            .await;
        if let Err(err) = started {
            let status = err.raw_response().map(|r| r.status().as_u16()).unwrap_or(0);
            assert!((500..600).contains(&status), "{status} {err:?}");
            database_refusals += 1;
            if database_refusals == 3 {
                break;
            }
        }
    }
    assert!(database_refusals > 0, "the metadata database never ran out of room");

    // IAM writes: each either acknowledged or refused with a 5xx (the audit journal or the
    // database out of room), never a success that is not kept.
    let mut users = Vec::new();
    let mut refused_users = Vec::new();
    for i in 0..5 {
        let name = format!("full-{i}");
        match iam.create_user().user_name(&name).send().await {
            Ok(_) => users.push(name),
            Err(err) => {
                let status = err.raw_response().map(|r| r.status().as_u16()).unwrap_or(0);
                assert!((500..600).contains(&status), "{status} {err:?}");
                refused_users.push(name);
            }
        }
    }

    // Reads go on.
    for (key, bytes) in &stored {
        let got = s3.get_object().bucket("full").key(key).send().await.unwrap();
        assert_eq!(&got.body.collect().await.unwrap().into_bytes()[..], &bytes[..]);
    }
    let listed = s3.list_objects_v2().bucket("full").send().await.unwrap();
    assert_eq!(listed.key_count(), Some(stored.len() as i32));

    // Room returns: writes succeed, and everything acknowledged survives a restart.
    std::fs::remove_file(&filler).unwrap();
    s3.put_object()
        .bucket("full")
        .key("after")
        .body(ByteStream::from(body(30, 1 << 20)))
        .send()
        .await
        .unwrap();
    stored.push(("after".to_owned(), body(30, 1 << 20)));
    iam.create_user().user_name("after").send().await.unwrap();
    users.push("after".to_owned());
    coffer.kill_and_restart();
    let (s3, iam) = (coffer.root_s3(), coffer.root_iam());
    for (key, bytes) in &stored {
        let got = s3.get_object().bucket("full").key(key).send().await.unwrap();
        assert_eq!(&got.body.collect().await.unwrap().into_bytes()[..], &bytes[..], "{key}");
    }
    for name in &users {
        iam.get_user().user_name(name).send().await.unwrap();
    }
    for name in &refused_users {
        assert!(
            iam.get_user().user_name(name).send().await.is_err(),
            "refused user {name} exists"
        );
    }
    eprintln!(
        "full disk: {} users created, {} refused",
        users.len() - 1,
        refused_users.len()
    );
}

/// GETs `key` through a presigned URL with a plain HTTP client (no checksum validation to
/// hide what came): the status, and the body or why it did not arrive whole. Status 0: the
/// connection closed before a response.
async fn raw_get(s3: &aws_sdk_s3::Client, key: &str) -> (u16, Result<Vec<u8>, String>) {
    let url = s3
        .get_object()
        .bucket("failing")
        .key(key)
        .presigned(aws_sdk_s3::presigning::PresigningConfig::expires_in(std::time::Duration::from_secs(60)).unwrap())
        .await
        .unwrap();
    let response = match reqwest::get(url.uri()).await {
        Ok(response) => response,
        Err(err) => return (0, Err(err.to_string())),
    };
    let status = response.status().as_u16();
    (
        status,
        response.bytes().await.map(|b| b.to_vec()).map_err(|e| e.to_string()),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_disk_whose_reads_fail_answers_errors_never_wrong_bytes() {
    let backing = tempfile::tempdir().unwrap();
    let mut coffer = Coffer::unstarted_sqlite();
    let mount = coffer_lazyfs::mount(backing.path(), coffer.data_dir()).expect("mount coffer-lazyfs (FUSE, as root)");
    coffer.start_again();
    let s3 = coffer.root_s3();
    s3.create_bucket().bucket("failing").send().await.unwrap();
    // Written, never read: nothing of them is in memory.
    // "small" is read whole in one go, yet has a blob file (smaller ones keep their bytes
    // with their row, in the database).
    let objects = [("small", body(1, 40 << 10)), ("large", body(2, 3 << 20))];
    for (key, bytes) in &objects {
        s3.put_object()
            .bucket("failing")
            .key(*key)
            .body(ByteStream::from(bytes.clone()))
            .send()
            .await
            .unwrap();
    }

    mount.fail_reads(Some(Path::new("blobs")));
    for (key, _) in &objects {
        let (status, got) = raw_get(&s3, key).await;
        // Coffer reads the first chunk before it answers, so a disk failing every read is a
        // clean 500 the SDKs retry, never a 200 (whole or cut short) or a dropped connection.
        let text = got.as_deref().map(String::from_utf8_lossy);
        assert_eq!(status, 500, "{key}: {text:?}");
        assert!(
            text.as_ref().is_ok_and(|t| t.contains("<Code>InternalError</Code>")),
            "{key}: {text:?}"
        );
        // The metadata is not on the failing part: HEAD still answers.
        s3.head_object().bucket("failing").key(*key).send().await.unwrap();
    }
    // Bad sectors further in: the first chunk reads, the answer starts, and then stops
    // short. Never a whole 200.
    mount.fail_reads_past(Some(Path::new("blobs")), 1536 * 1024);
    let (status, got) = raw_get(&s3, "large").await;
    assert_eq!(status, 200, "the first chunk was readable");
    let got_len = got.as_ref().map(Vec::len);
    assert!(
        got.is_err(),
        "a whole 200 from a disk failing past 1.5 MiB: {got_len:?} bytes"
    );
    mount.fail_reads(None);
    for (key, bytes) in &objects {
        let (status, got) = raw_get(&s3, key).await;
        assert_eq!((status, got.as_ref()), (200, Ok(bytes)), "{key} after the disk healed");
    }
    coffer.kill();
    mount.unmount();
}
