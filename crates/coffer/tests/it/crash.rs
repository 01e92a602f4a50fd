//! `kill -9` while uploads are running: every acknowledged object reads back byte-identical,
//! nothing unacknowledged is half-visible, and no orphan file survives the next start.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_sdk_s3::primitives::ByteStream;

use crate::harness::Coffer;

/// The bytes stored under `key`: derived from it, so any object can be checked on its own.
fn content(key: &str, len: usize) -> Vec<u8> {
    key.as_bytes().iter().copied().cycle().take(len).collect()
}

fn size_for(i: usize) -> usize {
    [1, 4096, 100_000, 700_000][i % 4]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn acknowledged_objects_survive_kill_9_and_nothing_else_is_left() {
    let mut coffer = Coffer::start();
    let s3 = coffer.root_s3();
    s3.create_bucket().bucket("crash").send().await.unwrap();
    // An upload in progress when the server dies stays listed with its parts.
    let upload = s3
        .create_multipart_upload()
        .bucket("crash")
        .key("mpu")
        .send()
        .await
        .unwrap();
    let upload_id = upload.upload_id().unwrap().to_owned();
    s3.upload_part()
        .bucket("crash")
        .key("mpu")
        .upload_id(&upload_id)
        .part_number(1)
        .body(ByteStream::from(vec![7u8; 1000]))
        .send()
        .await
        .unwrap();

    let acknowledged: Arc<Mutex<Vec<(String, usize)>>> = Arc::default();
    let mut writers = Vec::new();
    for writer in 0..6 {
        let s3 = s3.clone();
        let acknowledged = acknowledged.clone();
        writers.push(tokio::spawn(async move {
            for i in 0.. {
                // Half the writers overwrite a few keys again and again.
                let key = if writer % 2 == 0 {
                    format!("w{writer}/{i}")
                } else {
                    format!("w{writer}/{}", i % 3)
                };
                let len = size_for(i);
                let put = s3
                    .put_object()
                    .bucket("crash")
                    .key(&key)
                    .body(ByteStream::from(content(&key, len)))
                    .send()
                    .await;
                match put {
                    Ok(_) => acknowledged.lock().unwrap().push((key, len)),
                    Err(_) => return,
                }
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    coffer.kill_and_restart();
    for writer in writers {
        writer.await.unwrap();
    }
    let acknowledged = acknowledged.lock().unwrap().clone();
    assert!(
        acknowledged.len() > 20,
        "too few writes before the kill: {}",
        acknowledged.len()
    );

    let s3 = coffer.root_s3();
    // The last acknowledged write of each key is what reads back (a later unacknowledged
    // write may have landed too, and then it is whole).
    let mut last: std::collections::BTreeMap<String, usize> = Default::default();
    for (key, len) in &acknowledged {
        last.insert(key.clone(), *len);
    }
    let mut listed = Vec::new();
    let mut token = None;
    loop {
        let page = s3
            .list_objects_v2()
            .bucket("crash")
            .set_continuation_token(token)
            .send()
            .await
            .unwrap();
        listed.extend(
            page.contents()
                .iter()
                .map(|o| (o.key().unwrap().to_owned(), o.size().unwrap() as usize)),
        );
        token = page.next_continuation_token().map(str::to_owned);
        if token.is_none() {
            break;
        }
    }
    for key in last.keys() {
        assert!(listed.iter().any(|(k, _)| k == key), "acknowledged {key} is missing");
    }
    for (key, size) in &listed {
        let got = s3.get_object().bucket("crash").key(key).send().await.unwrap();
        let bytes = got.body.collect().await.unwrap().into_bytes();
        assert_eq!(bytes.len(), *size, "{key}");
        assert!(bytes.as_ref() == content(key, *size).as_slice(), "{key} is not whole");
    }
    let parts = s3
        .list_parts()
        .bucket("crash")
        .key("mpu")
        .upload_id(&upload_id)
        .send()
        .await
        .unwrap();
    assert_eq!(parts.parts().len(), 1);

    // Every file under blobs/ is named by a row: one per object not kept with its row, one
    // per uploaded part.
    let blobs: Vec<_> = coffer.blob_files();
    let with_files = listed.iter().filter(|(_, size)| Coffer::has_blob_file(*size)).count();
    assert_eq!(blobs.len(), with_files + 1, "orphan blobs survived the restart");
}

/// Every version of a versioned bucket, as ListObjectVersions pages through it: (key,
/// version id, size) of the versions, (key, version id) of the delete markers, and the keys
/// whose latest version each names.
pub async fn every_version(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
) -> (Vec<(String, String, usize)>, Vec<(String, String)>, Vec<String>) {
    let (mut versions, mut markers, mut latest) = (Vec::new(), Vec::new(), Vec::new());
    let (mut key_marker, mut version_marker) = (None::<String>, None::<String>);
    loop {
        let page = s3
            .list_object_versions()
            .bucket(bucket)
            .set_key_marker(key_marker)
            .set_version_id_marker(version_marker)
            .max_keys(50)
            .send()
            .await
            .unwrap();
        for v in page.versions() {
            let key = v.key().unwrap().to_owned();
            if v.is_latest() == Some(true) {
                latest.push(key.clone());
            }
            versions.push((key, v.version_id().unwrap().to_owned(), v.size().unwrap() as usize));
        }
        for m in page.delete_markers() {
            let key = m.key().unwrap().to_owned();
            if m.is_latest() == Some(true) {
                latest.push(key.clone());
            }
            markers.push((key, m.version_id().unwrap().to_owned()));
        }
        if page.is_truncated() != Some(true) {
            return (versions, markers, latest);
        }
        key_marker = page.next_key_marker().map(str::to_owned);
        version_marker = page.next_version_id_marker().map(str::to_owned);
    }
}

/// `kill -9` during versioned overwrites and deletes: every acknowledged version and delete
/// marker is there afterwards, every listed version reads back whole, each key has exactly one
/// latest version, and every blob belongs to a version.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn acknowledged_versions_survive_kill_9() {
    let mut coffer = Coffer::start();
    let s3 = coffer.root_s3();
    s3.create_bucket().bucket("vcrash").send().await.unwrap();
    s3.put_bucket_versioning()
        .bucket("vcrash")
        .versioning_configuration(
            aws_sdk_s3::types::VersioningConfiguration::builder()
                .status(aws_sdk_s3::types::BucketVersioningStatus::Enabled)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let versions: Arc<Mutex<Vec<(String, String)>>> = Arc::default();
    let markers: Arc<Mutex<Vec<(String, String)>>> = Arc::default();
    let mut writers = Vec::new();
    for writer in 0..6 {
        let (s3, versions, markers) = (s3.clone(), versions.clone(), markers.clone());
        writers.push(tokio::spawn(async move {
            for i in 0.. {
                // Few keys, so versions pile up on each; every fifth request is a delete.
                let key = format!("k{}", (writer + i) % 4);
                if i % 5 == 4 {
                    match s3.delete_object().bucket("vcrash").key(&key).send().await {
                        Ok(out) => markers
                            .lock()
                            .unwrap()
                            .push((key, out.version_id().unwrap().to_owned())),
                        Err(_) => return,
                    }
                    continue;
                }
                // The bytes derive from a seed kept in the version's metadata, so any listed
                // version can be checked, acknowledged or not.
                let seed = format!("{writer}-{i}");
                let put = s3
                    .put_object()
                    .bucket("vcrash")
                    .key(&key)
                    .metadata("seed", &seed)
                    .body(ByteStream::from(content(&seed, size_for(i))))
                    .send()
                    .await;
                match put {
                    Ok(out) => versions
                        .lock()
                        .unwrap()
                        .push((key, out.version_id().unwrap().to_owned())),
                    Err(_) => return,
                }
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    coffer.kill_and_restart();
    for writer in writers {
        writer.await.unwrap();
    }
    let acknowledged = versions.lock().unwrap().clone();
    assert!(
        acknowledged.len() > 20,
        "too few writes before the kill: {}",
        acknowledged.len()
    );

    let s3 = coffer.root_s3();
    let (listed, listed_markers, mut latest) = every_version(&s3, "vcrash").await;
    for (key, id) in &acknowledged {
        assert!(
            listed.iter().any(|(k, v, _)| k == key && v == id),
            "acknowledged {key} {id} is missing"
        );
    }
    for marker in markers.lock().unwrap().iter() {
        assert!(
            listed_markers.contains(marker),
            "acknowledged marker {marker:?} is missing"
        );
    }
    let keys: std::collections::BTreeSet<String> = listed
        .iter()
        .map(|(k, _, _)| k.clone())
        .chain(listed_markers.iter().map(|(k, _)| k.clone()))
        .collect();
    latest.sort();
    assert_eq!(
        latest,
        keys.into_iter().collect::<Vec<_>>(),
        "each key has exactly one latest version"
    );
    for (key, id, size) in &listed {
        let got = s3
            .get_object()
            .bucket("vcrash")
            .key(key)
            .version_id(id)
            .send()
            .await
            .unwrap();
        let seed = got.metadata().and_then(|m| m.get("seed")).cloned().expect("a seed");
        let bytes = got.body.collect().await.unwrap().into_bytes();
        assert!(
            bytes.as_ref() == content(&seed, *size).as_slice(),
            "{key} {id} is not whole"
        );
    }
    assert_eq!(
        coffer.blob_files().len(),
        listed
            .iter()
            .filter(|(_, _, size)| Coffer::has_blob_file(*size))
            .count(),
        "orphan blobs survived the restart"
    );
}

/// One SQLite database has one server, with its data dir to itself: a second `coffer serve`
/// on either is refused (its object cache could not see the other's writes; its orphan sweep
/// would take the other's blobs for its own orphans), `coffer account` still works beside the
/// first, and a server killed with SIGKILL leaves nothing that keeps the next one out.
#[tokio::test]
async fn a_second_server_on_one_sqlite_database_or_data_dir_is_refused() {
    let mut coffer = Coffer::start_sqlite();
    let s3 = coffer.root_s3();
    s3.create_bucket().bucket("still-served").send().await.unwrap();
    let body = content("kept", 100_000);
    s3.put_object()
        .bucket("still-served")
        .key("kept")
        .body(ByteStream::from(body.clone()))
        .send()
        .await
        .unwrap();
    // The object reads back whole: no other server swept its blob as an orphan.
    let kept = async |coffer: &Coffer| {
        let got = coffer
            .root_s3()
            .get_object()
            .bucket("still-served")
            .key("kept")
            .send()
            .await
            .unwrap();
        assert!(got.body.collect().await.unwrap().into_bytes().as_ref() == body.as_slice());
    };
    let elsewhere = tempfile::tempdir().unwrap();
    let other_database = format!("sqlite://{}/meta.db?mode=rwc", elsewhere.path().display());
    for database in [None, Some(other_database.as_str())] {
        let mut command = coffer.command(&["serve", "--listen", "127.0.0.1:0", "--console-listen", "127.0.0.1:0"]);
        if let Some(url) = database {
            command.env("COFFER_DATABASE_URL", url);
        }
        let mut second = command
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("run coffer");
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        let status = loop {
            if let Some(status) = second.try_wait().unwrap() {
                break status;
            }
            if std::time::Instant::now() > deadline {
                second.kill().unwrap();
                panic!("a second server kept running (database {database:?})");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        let mut stderr = String::new();
        std::io::Read::read_to_string(&mut second.stderr.take().unwrap(), &mut stderr).unwrap();
        assert!(!status.success(), "{stderr}");
        assert!(stderr.contains("another coffer serve is using"), "{stderr}");
    }
    kept(&coffer).await;

    let listed = coffer.run_cli(&["account", "list"]);
    assert!(listed.status.success(), "{}", String::from_utf8_lossy(&listed.stderr));

    coffer.kill_and_restart();
    kept(&coffer).await;
}
