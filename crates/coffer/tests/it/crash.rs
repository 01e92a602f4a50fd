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

    // Every file under blobs/ is named by a row: one per object, one per uploaded part.
    let blobs: Vec<_> = coffer.blob_files();
    assert!(
        blobs.iter().all(|p| !p.to_string_lossy().contains("/blobs/tmp/")),
        "temp files survived"
    );
    assert_eq!(blobs.len(), listed.len() + 1, "orphan blobs survived the restart");
}
