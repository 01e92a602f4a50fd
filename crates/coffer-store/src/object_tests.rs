//! Buckets, objects and multipart uploads on both backends, with a real blob directory.

use crate::listing::{ListEntry, ListQuery};
use crate::test_backends::{TestDb, on_both_backends};
use crate::*;

async fn open(db: &TestDb) -> (Store, String) {
    let store = db.open().await;
    let (account, _) = store.create_account("a", None).await.unwrap();
    store
        .create_bucket(&account.account_id, "photos", "us-east-1")
        .await
        .unwrap();
    (store, account.account_id)
}

pub(crate) async fn blob(store: &Store, bytes: &[u8]) -> String {
    let mut writer = store.blobs().create().await.unwrap();
    writer.write(bytes).await.unwrap();
    writer.finish().await.unwrap()
}

pub(crate) fn new_object(key: &str, etag: &str) -> NewObject {
    NewObject {
        key: key.to_owned(),
        size: 1,
        etag: etag.to_owned(),
        headers: ObjectHeaders::default(),
        checksum: None,
        lock: ObjectLock::default(),
        tags: Vec::new(),
        acl: Default::default(),
        storage_class: None,
        encryption: None,
    }
}

/// The blobs in place and the temp files (retired blobs wait elsewhere, see
/// [`retired_files`]).
fn blob_files(dir: &std::path::Path) -> usize {
    walk(&dir.join("blobs")) - retired_files(dir)
}

/// The blobs retired on a shared data dir, waiting out the grace for other nodes' readers.
fn retired_files(dir: &std::path::Path) -> usize {
    walk(&dir.join("blobs").join("retired"))
}

/// Every file under the data dir's `blobs/` (temp files included).
fn every_file(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    fn visit(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            if entry.file_type().unwrap().is_dir() {
                visit(&entry.path(), out);
            } else {
                out.push(entry.path());
            }
        }
    }
    let mut out = Vec::new();
    visit(&dir.join("blobs"), &mut out);
    out
}

/// Makes every file under `blobs/` look untouched for two hours.
fn backdate_files(dir: &std::path::Path) {
    let long_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(7200);
    for file in every_file(dir) {
        std::fs::File::options()
            .write(true)
            .open(&file)
            .unwrap()
            .set_modified(long_ago)
            .unwrap();
    }
}

fn walk(dir: &std::path::Path) -> usize {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| {
            let entry = entry.unwrap();
            if entry.file_type().unwrap().is_dir() {
                walk(&entry.path())
            } else {
                1
            }
        })
        .sum()
}

/// An upload of `key` in the "photos" bucket, to pass to `create_upload`.
pub(crate) fn new_upload(key: &str) -> Upload {
    Upload {
        upload_id: String::new(),
        bucket: "photos".to_owned(),
        key: key.to_owned(),
        initiated: time::OffsetDateTime::UNIX_EPOCH,
        initiator_arn: "arn".to_owned(),
        initiator_id: "id".to_owned(),
        headers: ObjectHeaders::default(),
        checksum_algorithm: None,
        checksum_type: None,
        lock: ObjectLock::default(),
        tags: Vec::new(),
        acl: Default::default(),
        storage_class: None,
        encryption: None,
    }
}

fn part(number: u32, blob_id: String) -> ObjectPart {
    ObjectPart {
        part_number: number,
        blob_id,
        size: 1,
        etag: format!("p{number}"),
        checksum_value: None,
    }
}

on_both_backends! {
async fn bucket_names_are_global_and_an_owner_is_told_it_owns_it(db: TestDb) {
    let (store, account) = open(&db).await;
    let (other, _) = store.create_account("b", None).await.unwrap();
    let mine = store.create_bucket(&account, "photos", "us-east-1").await;
    assert!(matches!(mine, Err(StoreError::BucketExists { owned_by_caller: true })));
    let theirs = store.create_bucket(&other.account_id, "photos", "us-east-1").await;
    assert!(matches!(
        theirs,
        Err(StoreError::BucketExists { owned_by_caller: false })
    ));
    assert_eq!(
        store.list_buckets(&other.account_id, "", None, 10).await.unwrap().len(),
        0
    );
}

async fn an_overwrite_replaces_the_object_and_removes_the_old_blob(db: TestDb) {
    let (store, _) = open(&db).await;
    let first = blob(&store, b"1").await;
    store
        .put_object("photos", new_object("k", "one"), first, &WriteCondition::Always)
        .await
        .unwrap();
    let second = blob(&store, b"2").await;
    store
        .put_object(
            "photos",
            new_object("k", "two"),
            second.clone(),
            &WriteCondition::Always,
        )
        .await
        .unwrap();
    let current = store.object("photos", "k").await.unwrap().unwrap();
    assert_eq!(current.etag, "two");
    assert_eq!(current.data, ObjectData::Blob(second));
    assert_eq!(blob_files(db.dir()), 1);
}

/// A small object's bytes stay in its row: no file is made, read back with the row (from
/// SQL and from the object cache alike), and nothing to remove when it is replaced; a body
/// past the limit, or already on disk, is a blob as before.
async fn small_objects_keep_their_bytes_in_their_row(db: TestDb) {
    let (store, _) = open(&db).await;
    let keep = async |bytes: &[u8]| {
        let mut writer = store.blobs().create().await.unwrap();
        writer.write(bytes).await.unwrap();
        writer.finish_or_keep(MAX_INLINE_BODY).await.unwrap()
    };
    let small = keep(b"small bytes").await;
    let NewBytes::Inline { id, .. } = &small else { panic!("{small:?}") };
    let id = id.clone();
    let put = async |bytes: NewBytes, etag: &str| {
        store
            .put_object("photos", new_object("k", etag), bytes, &WriteCondition::Always)
            .await
            .unwrap()
    };
    let written = put(small, "one").await;
    let expected = ObjectData::Inline {
        id,
        bytes: bytes::Bytes::from_static(b"small bytes"),
    };
    assert_eq!(written.data, expected);
    assert_eq!(blob_files(db.dir()), 0);
    for _ in 0..2 {
        assert_eq!(store.object("photos", "k").await.unwrap().unwrap().data, expected);
    }
    // Replaced by a blob, which is replaced by bytes in the row again: the blob goes.
    let large = keep(&vec![7u8; MAX_INLINE_BODY + 1]).await;
    assert!(matches!(large, NewBytes::Blob(_)), "{large:?}");
    put(large, "two").await;
    assert_eq!(blob_files(db.dir()), 1);
    assert!(matches!(store.object("photos", "k").await.unwrap().unwrap().data, ObjectData::Blob(_)));
    put(keep(b"again").await, "three").await;
    // Bytes in the row replaced by bytes in the row.
    put(keep(b"again").await, "three").await;
    assert_eq!(blob_files(db.dir()), 0);
    let current = store.object("photos", "k").await.unwrap().unwrap();
    assert!(matches!(&current.data, ObjectData::Inline { bytes, .. } if bytes.as_ref() == b"again"));
    // Versions keep their own bytes; deleting one leaves the others'.
    store.set_bucket_versioning("photos", Versioning::Enabled).await.unwrap();
    let v1 = put(keep(b"v1").await, "v1").await;
    put(keep(b"v2").await, "v2").await;
    store
        .delete_object("photos", "k", Some(&v1.version_id), &WriteCondition::Always, false)
        .await
        .unwrap();
    let null = store.object_version("photos", "k", Some("null")).await.unwrap().unwrap();
    assert!(matches!(&null.data, ObjectData::Inline { bytes, .. } if bytes.as_ref() == b"again"));
    let latest = store.object("photos", "k").await.unwrap().unwrap();
    assert!(matches!(&latest.data, ObjectData::Inline { bytes, .. } if bytes.as_ref() == b"v2"));
    assert_eq!(blob_files(db.dir()), 0);
}

/// Bytes kept with a row go with it: replaced by a blob, by a multipart object, or deleted
/// with their version, nothing is left in `object_bodies`; an empty object is kept too.
async fn bodies_go_with_their_versions(db: TestDb) {
    let (store, _) = open(&db).await;
    let bodies = async || -> i64 {
        sqlx::query_scalar("SELECT COUNT(*) FROM object_bodies")
            .fetch_one(&store.inner.reader)
            .await
            .unwrap()
    };
    let keep = async |bytes: &[u8]| {
        let mut writer = store.blobs().create().await.unwrap();
        writer.write(bytes).await.unwrap();
        writer.finish_or_keep(MAX_INLINE_BODY).await.unwrap()
    };
    let put = async |key: &str, bytes: NewBytes| {
        store
            .put_object("photos", new_object(key, "e"), bytes, &WriteCondition::Always)
            .await
            .unwrap()
    };
    let empty = put("empty", keep(b"").await).await;
    assert!(matches!(&empty.data, ObjectData::Inline { bytes, .. } if bytes.is_empty()));
    let read = store.object("photos", "empty").await.unwrap().unwrap();
    assert!(matches!(&read.data, ObjectData::Inline { bytes, .. } if bytes.is_empty()));
    put("k", keep(b"small").await).await;
    assert_eq!(bodies().await, 2);
    put("k", NewBytes::Blob(blob(&store, b"file").await)).await;
    assert_eq!(bodies().await, 1, "a blob replaced the bytes in the row");
    put("k", keep(b"small").await).await;
    let upload = store.create_upload(new_upload("k")).await.unwrap();
    let id = blob(&store, b"p").await;
    store.put_part(&upload.upload_id, part(1, id.clone()), "crc").await.unwrap();
    store
        .complete_upload(&upload, new_object("k", "x-1"), vec![part(1, id)], &WriteCondition::Always)
        .await
        .unwrap();
    assert_eq!(bodies().await, 1, "a multipart object replaced the bytes in the row");
    store
        .delete_object("photos", "empty", None, &WriteCondition::Always, false)
        .await
        .unwrap();
    assert_eq!(bodies().await, 0);
}

async fn a_failed_condition_leaves_the_object_and_no_blob(db: TestDb) {
    let (store, _) = open(&db).await;
    let first = blob(&store, b"1").await;
    store
        .put_object("photos", new_object("k", "one"), first, &WriteCondition::IfAbsent)
        .await
        .unwrap();
    let second = blob(&store, b"2").await;
    let again = store
        .put_object("photos", new_object("k", "two"), second, &WriteCondition::IfAbsent)
        .await;
    assert!(matches!(again, Err(StoreError::PreconditionFailed)));
    let third = blob(&store, b"3").await;
    let stale = WriteCondition::IfMatch("two".to_owned());
    assert!(matches!(
        store
            .put_object("photos", new_object("k", "three"), third, &stale)
            .await,
        Err(StoreError::PreconditionFailed)
    ));
    let missing = blob(&store, b"4").await;
    assert!(matches!(
        store
            .put_object("photos", new_object("other", "x"), missing, &stale)
            .await,
        Err(StoreError::NoSuchKey)
    ));
    assert_eq!(store.object("photos", "k").await.unwrap().unwrap().etag, "one");
    assert_eq!(blob_files(db.dir()), 1);
}

async fn a_bucket_with_objects_is_not_deleted(db: TestDb) {
    let (store, _) = open(&db).await;
    let id = blob(&store, b"1").await;
    store
        .put_object("photos", new_object("k", "e"), id, &WriteCondition::Always)
        .await
        .unwrap();
    assert!(matches!(
        store.delete_bucket("photos").await,
        Err(StoreError::BucketNotEmpty)
    ));
    assert!(
        store
            .delete_object("photos", "k", None, &WriteCondition::Always, false)
            .await
            .unwrap()
            .existed
    );
    assert!(
        !store
            .delete_object("photos", "k", None, &WriteCondition::Always, false)
            .await
            .unwrap()
            .existed
    );
    store.delete_bucket("photos").await.unwrap();
    assert!(store.bucket("photos").await.unwrap().is_none());
    assert_eq!(blob_files(db.dir()), 0);
}

async fn sql_listing_is_in_byte_order_and_rolls_up_prefixes(db: TestDb) {
    let (store, _) = open(&db).await;
    for key in ["é", "z", "a/1", "a/2", "A", "../up", "a b"] {
        let id = blob(&store, b"x").await;
        store
            .put_object("photos", new_object(key, "e"), id, &WriteCondition::Always)
            .await
            .unwrap();
    }
    let query = ListQuery {
        after_version: None,
        prefix: "",
        delimiter: Some("/"),
        after: None,
        max_keys: 1000,
    };
    let page = store.list_objects("photos", &query).await.unwrap();
    let names: Vec<&str> = page.entries.iter().map(ListEntry::name).collect();
    assert_eq!(names, ["../", "A", "a b", "a/", "z", "é"]);
    let query = ListQuery {
        after_version: None,
        prefix: "a/",
        delimiter: Some("/"),
        after: Some("a/1"),
        max_keys: 1,
    };
    let page = store.list_objects("photos", &query).await.unwrap();
    let names: Vec<&str> = page.entries.iter().map(ListEntry::name).collect();
    assert_eq!(names, ["a/2"]);
    assert!(!page.is_truncated);
}

async fn completing_an_upload_keeps_chosen_parts_and_removes_the_rest(db: TestDb) {
    let (store, _) = open(&db).await;
    let upload = new_upload("big");
    let upload = store.create_upload(upload).await.unwrap();
    for number in 1..=3 {
        let id = blob(&store, b"p").await;
        store
            .put_part(&upload.upload_id, part(number, id), "crc")
            .await
            .unwrap();
    }
    // Uploading part 2 again replaces the first upload of it.
    let id = blob(&store, b"q").await;
    store.put_part(&upload.upload_id, part(2, id), "crc").await.unwrap();
    assert_eq!(blob_files(db.dir()), 3);
    let parts = store.list_parts(&upload.upload_id, 0, 100).await.unwrap();
    let chosen: Vec<ObjectPart> = parts
        .into_iter()
        .filter(|p| p.part.part_number != 3)
        .map(|p| p.part)
        .collect();
    let object = store
        .complete_upload(
            &upload,
            new_object("big", "x-2"),
            chosen.clone(),
            &WriteCondition::Always,
        )
        .await
        .unwrap();
    assert_eq!(object.data, ObjectData::Parts(chosen.clone()));
    let read = store.object("photos", "big").await.unwrap().unwrap();
    assert_eq!(read.data, ObjectData::Parts(chosen));
    assert_eq!(blob_files(db.dir()), 2);
    assert!(
        store
            .upload("photos", "big", &upload.upload_id)
            .await
            .unwrap()
            .is_none()
    );
    let late = blob(&store, b"late").await;
    assert!(matches!(
        store.put_part(&upload.upload_id, part(4, late), "crc").await,
        Err(StoreError::NoSuchUpload)
    ));
    assert_eq!(blob_files(db.dir()), 2);
}

/// A blob's file removed while it is written (orphan collection takes files no row names
/// once they sit past its grace) fails the write instead of leaving a row naming nothing.
async fn a_blob_removed_while_written_fails_its_write(db: TestDb) {
    let (store, _) = open(&db).await;
    let mut writer = store.blobs().create().await.unwrap();
    writer.write(&vec![1u8; 1300 * 1024]).await.unwrap();
    let id = writer.id().to_owned();
    std::fs::remove_file(db.dir().join("blobs").join(&id[..2]).join(&id)).unwrap();
    writer.write(b"more").await.unwrap();
    let finished = writer.finish().await;
    assert!(finished.is_err(), "a blob whose file is gone was finished");
    assert_eq!(blob_files(db.dir()), 0);
}

async fn orphan_blobs_and_temp_files_are_collected(db: TestDb) {
    let (store, _) = open(&db).await;
    let kept = blob(&store, b"kept").await;
    store
        .put_object("photos", new_object("k", "e"), kept, &WriteCondition::Always)
        .await
        .unwrap();
    blob(&store, b"orphan").await;
    let mut unfinished = store.blobs().create().await.unwrap();
    // Larger than the in-memory buffer, so its file is there, cut short, when the "crash"
    // comes.
    unfinished.write(&vec![0u8; 1300 * 1024]).await.unwrap();
    std::mem::forget(unfinished);
    // Temp files of older Coffers, beside a blob's place and in the shared `tmp/`.
    let blobs = db.dir().join("blobs");
    std::fs::write(blobs.join("ab").join(format!("{}.tmp", "ab".repeat(16))), b"old").unwrap();
    std::fs::create_dir(blobs.join("tmp")).unwrap();
    std::fs::write(blobs.join("tmp").join("cd".repeat(16)), b"old").unwrap();
    assert_eq!(blob_files(db.dir()), 5);
    // Another node could be writing them: young files stay under a grace period.
    let grace = std::time::Duration::from_secs(3600);
    assert_eq!(store.collect_orphan_blobs(grace).await.unwrap(), 0);
    assert_eq!(blob_files(db.dir()), 5);
    // Left untouched for longer than the grace, they go; the object's blob stays.
    backdate_files(db.dir());
    assert_eq!(store.collect_orphan_blobs(grace).await.unwrap(), 4);
    assert_eq!(blob_files(db.dir()), 1);
    let again = store.object("photos", "k").await.unwrap();
    assert!(again.is_some());
}

async fn concurrent_writes_commit_together_and_fail_alone(db: TestDb) {
    let (store, _) = open(&db).await;
    let mut writes = Vec::new();
    for i in 0..40 {
        let store = store.clone();
        writes.push(tokio::spawn(async move {
            let id = blob(&store, b"x").await;
            // Half race for one key with If-None-Match: *; the rest write keys of their own.
            let (key, condition) = if i % 2 == 0 {
                ("contended".to_owned(), WriteCondition::IfAbsent)
            } else {
                (format!("own-{i}"), WriteCondition::Always)
            };
            store.put_object("photos", new_object(&key, "e"), id, &condition).await
        }));
    }
    let mut won = 0;
    for (i, write) in writes.into_iter().enumerate() {
        match write.await.unwrap() {
            Ok(_) => won += usize::from(i % 2 == 0),
            Err(StoreError::PreconditionFailed) => assert_eq!(i % 2, 0),
            Err(other) => panic!("{other}"),
        }
    }
    assert_eq!(won, 1);
    let query = ListQuery {
        after_version: None,
        prefix: "",
        delimiter: None,
        after: None,
        max_keys: 1000,
    };
    assert_eq!(store.list_objects("photos", &query).await.unwrap().entries.len(), 21);
    assert_eq!(blob_files(db.dir()), 21);
}

/// On one node (SQLite) a lease keeps a removed blob until its reader is done. With nodes
/// sharing the data dir (PostgreSQL) the reader may be on another node, which holds no lease
/// here: a removed blob is retired, still readable, until it has waited out the grace,
/// counted from its retirement.
async fn a_removed_blob_stays_readable_while_a_reader_may_need_it(db: TestDb) {
    let (store, _) = open(&db).await;
    let id = blob(&store, b"being read").await;
    backdate_files(db.dir());
    let lease = store.blobs().lease(std::slice::from_ref(&id));
    store.blobs().remove(std::slice::from_ref(&id)).await;
    assert!(store.blobs().exists(&id).await);
    drop(lease);
    if store.backend() == Backend::Sqlite {
        assert!(!store.blobs().exists(&id).await);
        return;
    }
    assert_eq!((blob_files(db.dir()), retired_files(db.dir())), (0, 1));
    let mut file = store.blobs().read(&id).await.unwrap();
    let mut bytes = Vec::new();
    std::io::Read::read_to_end(&mut file, &mut bytes).unwrap();
    assert_eq!(bytes, b"being read");
    assert_eq!(store.blobs().read_at(&id, 6, 4).await.unwrap(), b"read");
    // Written long ago, but retired just now: it waits.
    let grace = std::time::Duration::from_secs(3600);
    assert_eq!(store.collect_orphan_blobs(grace).await.unwrap(), 0);
    backdate_files(db.dir());
    assert_eq!(store.collect_orphan_blobs(grace).await.unwrap(), 1);
    assert!(!store.blobs().exists(&id).await);
}

async fn completing_with_a_part_uploaded_again_meanwhile_is_refused(db: TestDb) {
    let (store, _) = open(&db).await;
    let upload = new_upload("raced");
    let upload = store.create_upload(upload).await.unwrap();
    let first = blob(&store, b"first").await;
    store.put_part(&upload.upload_id, part(1, first), "crc").await.unwrap();
    let chosen: Vec<ObjectPart> = store
        .list_parts(&upload.upload_id, 0, 10)
        .await
        .unwrap()
        .into_iter()
        .map(|p| p.part)
        .collect();
    let second = blob(&store, b"second").await;
    store
        .put_part(&upload.upload_id, part(1, second.clone()), "crc")
        .await
        .unwrap();
    let completed = store
        .complete_upload(&upload, new_object("raced", "x-1"), chosen, &WriteCondition::Always)
        .await;
    assert!(matches!(completed, Err(StoreError::InvalidPart)));
    assert!(store.blobs().exists(&second).await);
    assert!(
        store
            .upload("photos", "raced", &upload.upload_id)
            .await
            .unwrap()
            .is_some()
    );
}

async fn deleting_a_bucket_discards_its_uploads_and_their_parts(db: TestDb) {
    let (store, _) = open(&db).await;
    let upload = new_upload("never-finished");
    let upload = store.create_upload(upload).await.unwrap();
    let id = blob(&store, b"part").await;
    store.put_part(&upload.upload_id, part(1, id), "crc").await.unwrap();
    store.delete_bucket("photos").await.unwrap();
    assert_eq!(blob_files(db.dir()), 0);
}

/// Every kind of write to a key is seen by the next read of its latest version, however
/// often that was read before (SQLite answers such reads from `object_cache.rs`).
async fn reads_see_every_write_to_the_key(db: TestDb) {
    let (store, _) = open(&db).await;
    let latest = |store: &Store| {
        let store = store.clone();
        async move { store.object("photos", "k").await.unwrap() }
    };
    assert_eq!(latest(&store).await, None);
    let id = blob(&store, b"one").await;
    store
        .put_object("photos", new_object("k", "e1"), id, &WriteCondition::Always)
        .await
        .unwrap();
    for expected in ["e1", "e1"] {
        assert_eq!(latest(&store).await.unwrap().etag, expected);
    }
    let id = blob(&store, b"two").await;
    store
        .put_object("photos", new_object("k", "e2"), id, &WriteCondition::Always)
        .await
        .unwrap();
    assert_eq!(latest(&store).await.unwrap().etag, "e2");
    let tags = vec![Tag {
        key: "t".into(),
        value: "v".into(),
    }];
    store.set_object_tags("photos", "k", None, &tags).await.unwrap();
    assert_eq!(latest(&store).await.unwrap().tags, tags);
    store.set_legal_hold("photos", "k", None, true).await.unwrap();
    assert!(latest(&store).await.unwrap().lock.legal_hold);
    store.set_legal_hold("photos", "k", None, false).await.unwrap();
    assert!(!latest(&store).await.unwrap().lock.legal_hold);
    let grants = vec![Grant {
        grantee: Grantee::AllUsers,
        permission: Permission::Read,
    }];
    store.set_object_acl("photos", "k", None, &grants).await.unwrap();
    assert_eq!(latest(&store).await.unwrap().acl.grants, Some(grants));
    // Completing an upload replaces the object with its parts.
    let upload = store.create_upload(new_upload("k")).await.unwrap();
    let id = blob(&store, b"part").await;
    store.put_part(&upload.upload_id, part(1, id), "crc").await.unwrap();
    let parts: Vec<ObjectPart> = store
        .list_parts(&upload.upload_id, 0, 100)
        .await
        .unwrap()
        .into_iter()
        .map(|p| p.part)
        .collect();
    store
        .complete_upload(&upload, new_object("k", "m-1"), parts.clone(), &WriteCondition::Always)
        .await
        .unwrap();
    let completed = latest(&store).await.unwrap();
    assert_eq!((completed.etag.as_str(), completed.data), ("m-1", ObjectData::Parts(parts)));
    store
        .delete_object("photos", "k", None, &WriteCondition::Always, false)
        .await
        .unwrap();
    assert_eq!(latest(&store).await, None);
    // A write that failed its condition changed nothing, and reads go on seeing that.
    let id = blob(&store, b"three").await;
    store
        .put_object("photos", new_object("k", "e3"), id, &WriteCondition::Always)
        .await
        .unwrap();
    assert_eq!(latest(&store).await.unwrap().etag, "e3");
    let id = blob(&store, b"four").await;
    let refused = store
        .put_object("photos", new_object("k", "e4"), id, &WriteCondition::IfAbsent)
        .await;
    assert!(matches!(refused, Err(StoreError::PreconditionFailed)));
    assert_eq!(latest(&store).await.unwrap().etag, "e3");
}

/// Reads racing with writes to the same key: once the writes are done, a read sees the last.
async fn reads_racing_writes_end_on_the_last_write(db: TestDb) {
    let (store, _) = open(&db).await;
    let mut tasks = Vec::new();
    for i in 0..20 {
        let writer = store.clone();
        tasks.push(tokio::spawn(async move {
            let id = blob(&writer, b"x").await;
            writer
                .put_object("photos", new_object("k", &format!("e{i}")), id, &WriteCondition::Always)
                .await
                .unwrap();
        }));
        let reader = store.clone();
        tasks.push(tokio::spawn(async move {
            for _ in 0..5 {
                let _ = reader.object("photos", "k").await.unwrap();
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let last = store.list_objects("photos", &crate::listing::ListQuery {
        after_version: None,
        prefix: "",
        delimiter: None,
        after: None,
        max_keys: 10,
    });
    let listed = last.await.unwrap();
    let ListEntry::Object(listed) = &listed.entries[0] else {
        panic!("not an object")
    };
    assert_eq!(store.object("photos", "k").await.unwrap().unwrap().etag, listed.etag);
}
}

on_both_backends! {
/// Two stores on one database and data dir (two nodes) writing one key at once:
/// If-None-Match: * lets exactly one create it; plain overwrites all succeed, one after the
/// other, and leave one object.
async fn two_nodes_racing_on_one_key_agree(db: TestDb) {
    let (one, _) = open(&db).await;
    let two = db.open().await;
    let mut writes = Vec::new();
    for i in 0..20 {
        let store = if i % 2 == 0 { one.clone() } else { two.clone() };
        writes.push(tokio::spawn(async move {
            let id = blob(&store, b"x").await;
            store
                .put_object("photos", new_object("contended", "e"), id, &WriteCondition::IfAbsent)
                .await
        }));
    }
    let mut won = 0;
    for write in writes {
        match write.await.unwrap() {
            Ok(_) => won += 1,
            Err(StoreError::PreconditionFailed) => {}
            Err(other) => panic!("{other}"),
        }
    }
    assert_eq!(won, 1);
    let mut overwrites = Vec::new();
    for i in 0..10 {
        let store = if i % 2 == 0 { one.clone() } else { two.clone() };
        overwrites.push(tokio::spawn(async move {
            let id = blob(&store, b"y").await;
            store
                .put_object("photos", new_object("shared", &format!("e{i}")), id, &WriteCondition::Always)
                .await
        }));
    }
    for write in overwrites {
        write.await.unwrap().unwrap();
    }
    let query = ListQuery {
        after_version: None,
        prefix: "",
        delimiter: None,
        after: None,
        max_keys: 1000,
    };
    let listed = one.list_objects("photos", &query).await.unwrap();
    assert_eq!(listed.entries.len(), 2, "contended and shared");
}

/// A small blob is read whole and kept in memory: its bytes never change once it is named,
/// so the copy answers even without the file; removing the blob forgets the copy.
async fn small_blobs_are_read_whole_and_kept_until_removed(db: TestDb) {
    let (store, _) = open(&db).await;
    let id = blob(&store, b"hello").await;
    assert_eq!(store.blobs().read_small(&id, 5).await.unwrap(), &b"hello"[..]);
    std::fs::remove_file(db.dir().join("blobs").join(&id[..2]).join(&id)).unwrap();
    assert_eq!(store.blobs().read_small(&id, 5).await.unwrap(), &b"hello"[..]);
    store.blobs().remove(std::slice::from_ref(&id)).await;
    let gone = store.blobs().read_small(&id, 5).await.unwrap_err();
    assert_eq!(gone.kind(), std::io::ErrorKind::NotFound);
}
}
