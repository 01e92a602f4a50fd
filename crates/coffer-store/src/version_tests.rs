//! Versioning on both backends: S3's `null`-version rules, delete markers, blobs freed exactly
//! once, and ListObjectVersions against a model of the rules (a property test).

use std::collections::BTreeMap;

use proptest::prelude::*;

use crate::listing::{ListEntry, ListQuery, VersionSummary};
use crate::test_backends::{TestDb, on_both_backends};
use crate::*;

async fn open(db: &TestDb) -> Store {
    let store = db.open().await;
    let (account, _) = store.create_account("a", None).await.unwrap();
    store
        .create_bucket(&account.account_id, "docs", "us-east-1")
        .await
        .unwrap();
    store
}

async fn put(store: &Store, key: &str, etag: &str) -> ObjectMeta {
    let mut writer = store.blobs().create().await.unwrap();
    writer.write(etag.as_bytes()).await.unwrap();
    let blob = writer.finish().await.unwrap();
    let object = NewObject {
        key: key.to_owned(),
        size: etag.len() as u64,
        etag: etag.to_owned(),
        headers: ObjectHeaders::default(),
        checksum: None,
        lock: ObjectLock::default(),
        tags: Vec::new(),
        acl: Default::default(),
        storage_class: None,
        encryption: None,
    };
    store
        .put_object("docs", object, blob, &WriteCondition::Always)
        .await
        .unwrap()
}

async fn delete(store: &Store, key: &str, version: Option<&str>) -> Deleted {
    store
        .delete_object("docs", key, version, &WriteCondition::Always, false)
        .await
        .unwrap()
}

/// Every version of the bucket, (key, version id, etag or "marker", latest), in listing order.
async fn versions(store: &Store) -> Vec<(String, String, String, bool)> {
    let query = ListQuery {
        max_keys: 1000,
        ..ListQuery::default()
    };
    let page = store.list_object_versions("docs", &query, None).await.unwrap();
    page.entries
        .into_iter()
        .map(|entry| match entry {
            ListEntry::Object(v) => {
                let what = if v.is_delete_marker {
                    "marker".to_owned()
                } else {
                    v.etag
                };
                (v.key, v.version_id, what, v.is_latest)
            }
            ListEntry::CommonPrefix(p) => panic!("no delimiter, yet {p}"),
        })
        .collect()
}

fn blob_files(dir: &std::path::Path) -> usize {
    fn walk(dir: &std::path::Path) -> usize {
        std::fs::read_dir(dir)
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| {
                if e.file_type().unwrap().is_dir() {
                    walk(&e.path())
                } else {
                    1
                }
            })
            .sum()
    }
    let blobs = dir.join("blobs");
    walk(&blobs) - walk(&blobs.join("retired"))
}

on_both_backends! {
/// A bucket's usage follows every write without a scan: an overwrite replaces, a delete
/// marker holds nothing, a noncurrent version still counts until it is deleted.
async fn bucket_usage_follows_writes(db: TestDb) {
    let store = open(&db).await;
    let usage = |store: Store| async move {
        let all = store.bucket_usage().await.unwrap();
        assert_eq!(all.len(), 1);
        (all[0].objects, all[0].bytes)
    };
    assert_eq!(usage(store.clone()).await, (0, 0));
    put(&store, "a", "12345").await;
    put(&store, "b", "123").await;
    put(&store, "a", "1").await;
    assert_eq!(usage(store.clone()).await, (2, 4));
    store.set_bucket_versioning("docs", Versioning::Enabled).await.unwrap();
    let old = put(&store, "b", "1234567").await;
    delete(&store, "b", None).await;
    assert_eq!(usage(store.clone()).await, (3, 11), "noncurrent versions count, markers do not");
    // Folding moves deltas into the counts without changing what a reading says.
    assert!(store.fold_bucket_usage().await.unwrap() >= 4);
    assert_eq!(usage(store.clone()).await, (3, 11));
    delete(&store, "b", Some(&old.version_id)).await;
    delete(&store, "b", Some("null")).await;
    assert_eq!(usage(store.clone()).await, (1, 1));
    assert_eq!(store.fold_bucket_usage().await.unwrap(), 2);
    assert_eq!(store.fold_bucket_usage().await.unwrap(), 0);
    assert_eq!(usage(store.clone()).await, (1, 1));
}

/// An unversioned overwrite updates the `null` version's row in place: nothing of the object
/// it replaces survives in the row, and its blob is freed once. A suspended bucket's `null`
/// version that is no longer latest is still replaced by a new latest row.
async fn an_overwrite_in_place_keeps_nothing_of_the_object_it_replaces(db: TestDb) {
    let store = open(&db).await;
    let mut writer = store.blobs().create().await.unwrap();
    writer.write(b"rich bytes").await.unwrap();
    let blob = writer.finish().await.unwrap();
    let rich = NewObject {
        key: "k".to_owned(),
        size: 10,
        etag: "rich".to_owned(),
        headers: ObjectHeaders {
            content_type: Some("text/rich".into()),
            cache_control: Some("no-cache".into()),
            content_disposition: Some("inline".into()),
            content_encoding: Some("gzip".into()),
            content_language: Some("fr".into()),
            expires: Some("Thu, 01 Dec 2094 16:00:00 GMT".into()),
            user_metadata: BTreeMap::from([("m".into(), "v".into())]),
        },
        checksum: Some(ObjectChecksum {
            algorithm: "CRC32".into(),
            checksum_type: "FULL_OBJECT".into(),
            value: "AAAAAA==".into(),
        }),
        lock: ObjectLock::default(),
        tags: vec![Tag {
            key: "t".into(),
            value: "v".into(),
        }],
        acl: Default::default(),
        storage_class: Some("STANDARD_IA".into()),
        encryption: Some(Encryption::S3 { sealed_key: vec![7; 40] }),
    };
    store
        .put_object("docs", rich, blob, &WriteCondition::Always)
        .await
        .unwrap();
    assert_eq!(blob_files(db.dir()), 1);
    let plain = put(&store, "k", "plain").await;
    let fresh = put(&store, "fresh", "plain").await;
    assert_eq!(blob_files(db.dir()), 2, "the rich object's blob is freed");
    let stored = store.object("docs", "k").await.unwrap().unwrap();
    let same_but_key = ObjectMeta {
        key: "k".into(),
        last_modified: stored.last_modified,
        data: stored.data.clone(),
        ..store.object("docs", "fresh").await.unwrap().unwrap()
    };
    assert_eq!(stored, same_but_key);
    assert_eq!((plain.version_id.as_str(), fresh.size), ("null", 5));
    assert_eq!(store.bucket_usage().await.unwrap()[0].bytes, 10);
    // Two new rows and the overwrite, which changed one row's size: a DELETE and an INSERT
    // would have left two deltas.
    assert_eq!(store.fold_bucket_usage().await.unwrap(), 3);
    assert_eq!(store.bucket_usage().await.unwrap()[0].bytes, 10);
    // Enabled, then Suspended: the `null` version is noncurrent, and a write replaces it
    // with a new latest row; the next write overwrites that one in place.
    store.set_bucket_versioning("docs", Versioning::Enabled).await.unwrap();
    let kept = put(&store, "k", "v1").await;
    store.set_bucket_versioning("docs", Versioning::Suspended).await.unwrap();
    put(&store, "k", "n1").await;
    put(&store, "k", "n2").await;
    let all = versions(&store).await;
    let k: Vec<_> = all.iter().filter(|v| v.0 == "k").map(|v| (v.1.as_str(), v.2.as_str(), v.3)).collect();
    assert_eq!(k, [("null", "n2", true), (kept.version_id.as_str(), "v1", false)]);
    assert_eq!(blob_files(db.dir()), 3);
    assert_eq!(store.bucket_usage().await.unwrap()[0].objects, 3);
}

/// A version delete judges its condition after removing the row; refused in a batch with
/// other writes (which SQLite applies without savepoints until one fails), it must undo only
/// itself: the version stays, the writes beside it commit.
async fn a_refused_version_delete_undoes_only_itself_in_a_batch(db: TestDb) {
    let store = open(&db).await;
    store.set_bucket_versioning("docs", Versioning::Enabled).await.unwrap();
    let kept = put(&store, "k", "old").await;
    let before = store.stats();
    let mut refused = Vec::new();
    let mut puts = Vec::new();
    for round in 0..10 {
        let (one, id) = (store.clone(), kept.version_id.clone());
        refused.push(tokio::spawn(async move {
            let wrong = WriteCondition::IfMatch("not-it".into());
            one.delete_object("docs", "k", Some(&id), &wrong, false).await
        }));
        for i in 0..6 {
            let one = store.clone();
            puts.push(tokio::spawn(async move { put(&one, &format!("p{round}-{i}"), "e").await }));
        }
    }
    for delete in refused {
        let outcome = delete.await.unwrap();
        assert!(matches!(outcome, Err(StoreError::PreconditionFailed)), "{outcome:?}");
    }
    for put in puts {
        put.await.unwrap();
    }
    let after = store.stats();
    let (writes, commits) = (
        after.batched_writes - before.batched_writes,
        after.batches.iter().sum::<u64>() - before.batches.iter().sum::<u64>(),
    );
    assert!(writes > commits, "no batch held two writes: {writes} writes in {commits} commits");
    let version = store.object_version("docs", "k", Some(&kept.version_id)).await.unwrap();
    assert_eq!(version.map(|v| v.etag), Some("old".to_owned()));
    assert_eq!(versions(&store).await.len(), 61);
}

/// Object Ownership and ACLs: enforcing bucket-owner ownership needs the default ACL and then
/// keeps it; a version keeps the owner and grants it was written with, and PutObjectAcl
/// replaces them on the version named.
async fn acls_follow_the_ownership_rules(db: TestDb) {
    let store = open(&db).await;
    let owner = store.bucket("docs").await.unwrap().unwrap().account_id;
    let public = vec![
        Grant { grantee: Grantee::Account(owner.clone()), permission: Permission::FullControl },
        Grant { grantee: Grantee::AllUsers, permission: Permission::Read },
    ];
    // A new bucket enforces bucket-owner ownership: no ACL but the default.
    assert_eq!(
        store.bucket("docs").await.unwrap().unwrap().object_ownership,
        Some(ObjectOwnership::BucketOwnerEnforced)
    );
    assert!(matches!(
        store.set_bucket_acl("docs", &owner, &public).await,
        Err(StoreError::AclWithEnforcedOwnership)
    ));
    store.set_bucket_ownership("docs", Some(ObjectOwnership::ObjectWriter)).await.unwrap();
    store.set_bucket_acl("docs", &owner, &public).await.unwrap();
    assert_eq!(store.bucket("docs").await.unwrap().unwrap().acl, Some(public.clone()));
    assert!(matches!(
        store.set_bucket_ownership("docs", Some(ObjectOwnership::BucketOwnerEnforced)).await,
        Err(StoreError::AclWithEnforcedOwnership)
    ));
    // Back to private, which is kept as the default: now it may enforce.
    store.set_bucket_acl("docs", &owner, &public[..1]).await.unwrap();
    assert_eq!(store.bucket("docs").await.unwrap().unwrap().acl, None);
    store.set_bucket_ownership("docs", Some(ObjectOwnership::BucketOwnerEnforced)).await.unwrap();
    assert!(matches!(
        store.set_bucket_ownership("nope", None).await,
        Err(StoreError::NoSuchBucket)
    ));

    let bucket = store.bucket("docs").await.unwrap().unwrap();
    let first = put(&store, "k", "one").await;
    let access = store.object_access(&bucket, "k", None).await.unwrap().unwrap();
    assert_eq!(access, ObjectAccess { owner: owner.clone(), acl: None });
    let version = store.set_object_acl("docs", "k", None, &public).await.unwrap();
    assert_eq!(version, first.version_id);
    let access = store.object_access(&bucket, "k", Some(&version)).await.unwrap().unwrap();
    assert_eq!(access.acl, Some(public.clone()));
    assert_eq!(store.object("docs", "k").await.unwrap().unwrap().acl.grants, Some(public));
    assert!(store.object_access(&bucket, "missing", None).await.unwrap().is_none());
    assert!(matches!(
        store.set_object_acl("docs", "missing", None, &[]).await,
        Err(StoreError::NoSuchKey)
    ));
}

/// Unversioned → Enabled → Suspended, as S3's user guide walks through them: the `null`
/// version stays when versioning is enabled, and a suspended bucket's writes replace it.
async fn the_null_version_follows_the_bucket_state(db: TestDb) {
    let store = open(&db).await;
    let first = put(&store, "k", "one").await;
    assert_eq!(first.version_id, NULL_VERSION);
    store.set_bucket_versioning("docs", Versioning::Enabled).await.unwrap();
    assert_eq!(store.bucket("docs").await.unwrap().unwrap().versioning, Versioning::Enabled);
    let second = put(&store, "k", "two").await;
    assert!(is_version_id(&second.version_id) && second.version_id != NULL_VERSION);
    assert_eq!(
        versions(&store).await,
        [
            ("k".into(), second.version_id.clone(), "two".into(), true),
            ("k".into(), NULL_VERSION.into(), "one".into(), false),
        ]
    );
    // Suspended: a write replaces the (noncurrent) null version and becomes latest.
    store.set_bucket_versioning("docs", Versioning::Suspended).await.unwrap();
    let third = put(&store, "k", "three").await;
    assert_eq!(third.version_id, NULL_VERSION);
    assert_eq!(
        versions(&store).await,
        [
            ("k".into(), NULL_VERSION.into(), "three".into(), true),
            ("k".into(), second.version_id.clone(), "two".into(), false),
        ]
    );
    assert_eq!(store.object("docs", "k").await.unwrap().unwrap().etag, "three");
    let old = store.object_version("docs", "k", Some(&second.version_id)).await.unwrap().unwrap();
    assert_eq!((old.etag.as_str(), old.is_latest), ("two", false));
    // The replaced null version's blob is gone; two versions, two blobs.
    assert_eq!(blob_files(db.dir()), 2);
}

/// A plain delete adds a delete marker (Enabled: a new id; Suspended: `null`, replacing the
/// null version); deleting the marker by id brings the object back.
async fn delete_markers_hide_and_reveal(db: TestDb) {
    let store = open(&db).await;
    store.set_bucket_versioning("docs", Versioning::Enabled).await.unwrap();
    let v1 = put(&store, "k", "one").await;
    let marker = delete(&store, "k", None).await;
    assert!(marker.delete_marker && marker.existed);
    let marker_id = marker.version_id.clone().unwrap();
    assert_ne!(marker_id, v1.version_id);
    assert!(store.object("docs", "k").await.unwrap().is_none());
    let latest = store.object_version("docs", "k", None).await.unwrap().unwrap();
    assert!(latest.is_delete_marker && latest.is_latest);
    assert_eq!(latest.version_id, marker_id);
    // A second plain delete adds a second marker, as in S3.
    let again = delete(&store, "k", None).await;
    assert!(again.delete_marker && !again.existed);
    assert_eq!(versions(&store).await.len(), 3);
    // Removing the markers by id: the object is current again.
    let removed = delete(&store, "k", again.version_id.as_deref()).await;
    assert!(removed.delete_marker && removed.existed);
    delete(&store, "k", Some(&marker_id)).await;
    assert_eq!(store.object("docs", "k").await.unwrap().unwrap().version_id, v1.version_id);
    // A version that does not exist: nothing happens, and S3 still says 204.
    let nothing = delete(&store, "k", Some(&new_version_id(-7))).await;
    assert!(!nothing.existed);

    // Suspended: the plain delete removes the null version and leaves a null marker.
    store.set_bucket_versioning("docs", Versioning::Suspended).await.unwrap();
    put(&store, "k", "null-one").await;
    let suspended = delete(&store, "k", None).await;
    assert_eq!(suspended.version_id.as_deref(), Some(NULL_VERSION));
    assert!(suspended.delete_marker);
    let listed = versions(&store).await;
    assert_eq!(
        listed,
        [
            ("k".into(), NULL_VERSION.into(), "marker".into(), true),
            ("k".into(), v1.version_id.clone(), "one".into(), false),
        ]
    );
    assert_eq!(blob_files(db.dir()), 1);
}

/// Deleting versions frees each one's blob once; the bucket empties only when every version
/// and marker is gone.
async fn deleting_versions_frees_their_blobs(db: TestDb) {
    let store = open(&db).await;
    store.set_bucket_versioning("docs", Versioning::Enabled).await.unwrap();
    let mut ids = Vec::new();
    for i in 0..4 {
        ids.push(put(&store, "k", &format!("e{i}")).await.version_id);
    }
    let marker = delete(&store, "k", None).await.version_id.unwrap();
    assert_eq!(blob_files(db.dir()), 4);
    assert!(matches!(store.delete_bucket("docs").await, Err(StoreError::BucketNotEmpty)));
    // The middle one first: the latest stays latest.
    delete(&store, "k", Some(&ids[1])).await;
    assert_eq!(blob_files(db.dir()), 3);
    delete(&store, "k", Some(&marker)).await;
    assert_eq!(store.object("docs", "k").await.unwrap().unwrap().etag, "e3");
    delete(&store, "k", Some(&ids[3])).await;
    assert_eq!(store.object("docs", "k").await.unwrap().unwrap().etag, "e2");
    delete(&store, "k", Some(&ids[2])).await;
    delete(&store, "k", Some(&ids[0])).await;
    assert_eq!(blob_files(db.dir()), 0);
    assert!(versions(&store).await.is_empty());
    store.delete_bucket("docs").await.unwrap();
}

/// Conditions judge the latest version, and a delete marker is no object.
async fn conditions_see_a_delete_marker_as_no_object(db: TestDb) {
    let store = open(&db).await;
    store.set_bucket_versioning("docs", Versioning::Enabled).await.unwrap();
    put(&store, "k", "one").await;
    delete(&store, "k", None).await;
    let mut writer = store.blobs().create().await.unwrap();
    writer.write(b"x").await.unwrap();
    let blob = writer.finish().await.unwrap();
    let object = NewObject {
        key: "k".to_owned(),
        size: 1,
        etag: "two".to_owned(),
        headers: ObjectHeaders::default(),
        checksum: None,
        lock: ObjectLock::default(),
        tags: Vec::new(),
        acl: Default::default(),
        storage_class: None,
        encryption: None,
    };
    let written = store.put_object("docs", object, blob, &WriteCondition::IfAbsent).await.unwrap();
    assert_eq!(written.etag, "two");
    assert_eq!(versions(&store).await.len(), 3);
}

/// Two nodes writing versions of one key at once: every write lands as its own version, and
/// exactly one is latest.
async fn concurrent_versioned_writes_on_two_nodes(db: TestDb) {
    let one = open(&db).await;
    let two = db.open().await;
    one.set_bucket_versioning("docs", Versioning::Enabled).await.unwrap();
    let mut writes = Vec::new();
    for i in 0..16 {
        let store = if i % 2 == 0 { one.clone() } else { two.clone() };
        writes.push(tokio::spawn(async move {
            if i % 5 == 4 {
                delete(&store, "k", None).await.version_id.unwrap()
            } else {
                put(&store, "k", &format!("e{i}")).await.version_id
            }
        }));
    }
    let mut ids = Vec::new();
    for write in writes {
        ids.push(write.await.unwrap());
    }
    let listed = versions(&one).await;
    assert_eq!(listed.len(), 16);
    assert_eq!(listed.iter().filter(|v| v.3).count(), 1);
    assert!(listed[0].3, "the newest is latest");
    let mut listed_ids: Vec<String> = listed.into_iter().map(|v| v.1).collect();
    listed_ids.sort();
    ids.sort();
    assert_eq!(listed_ids, ids);
}
}

on_both_backends! {
/// `If-None-Match: *` from two nodes at once: exactly one write wins, whether the key is new
/// in an unversioned bucket or its latest version is a delete marker.
async fn if_none_match_lets_exactly_one_writer_win_on_two_nodes(db: TestDb) {
    let one = open(&db).await;
    let two = db.open().await;
    for round in 0..2 {
        if round == 1 {
            one.set_bucket_versioning("docs", Versioning::Enabled).await.unwrap();
            delete(&one, "k1", None).await;
        }
        let key = format!("k{round}");
        let mut writes = Vec::new();
        for i in 0..8 {
            let store = if i % 2 == 0 { one.clone() } else { two.clone() };
            let key = key.clone();
            writes.push(tokio::spawn(async move {
                let mut writer = store.blobs().create().await.unwrap();
                writer.write(b"x").await.unwrap();
                let blob = writer.finish().await.unwrap();
                let object = NewObject {
                    key,
                    size: 1,
                    etag: format!("e{i}"),
                    headers: ObjectHeaders::default(),
                    checksum: None,
                    lock: ObjectLock::default(),
        tags: Vec::new(),
        acl: Default::default(),
        storage_class: None,
        encryption: None,
                };
                store.put_object("docs", object, blob, &WriteCondition::IfAbsent).await
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
        assert_eq!(won, 1, "round {round}");
    }
}

/// Two nodes deleting the newest versions of one key at once: the one left is latest.
async fn concurrent_version_deletes_leave_the_newest_remaining_latest(db: TestDb) {
    let one = open(&db).await;
    let two = db.open().await;
    one.set_bucket_versioning("docs", Versioning::Enabled).await.unwrap();
    let mut ids = Vec::new();
    for i in 0..6 {
        ids.push(put(&one, "k", &format!("e{i}")).await.version_id);
    }
    let mut deletes = Vec::new();
    for (i, id) in ids[1..].iter().cloned().enumerate() {
        let store = if i % 2 == 0 { one.clone() } else { two.clone() };
        deletes.push(tokio::spawn(async move { delete(&store, "k", Some(&id)).await }));
    }
    for d in deletes {
        assert!(d.await.unwrap().existed);
    }
    let current = one.object("docs", "k").await.unwrap().unwrap();
    assert_eq!(current.version_id, ids[0]);
    assert!(current.is_latest);
}
}

/// A random history of one bucket: what S3's rules say it holds.
#[derive(Clone, Debug)]
enum Op {
    Put(usize),
    Delete(usize),
    /// Deletes the key's version at this index, newest first (modulo its count).
    DeleteVersion(usize, usize),
    Versioning(bool),
}

const KEYS: [&str; 7] = ["a", "a/b", "a/c/d", "b", "b/", "c/x/y", "é/z"];

fn op_strategy() -> impl Strategy<Value = Op> {
    prop_oneof![
        5 => (0..KEYS.len()).prop_map(Op::Put),
        2 => (0..KEYS.len()).prop_map(Op::Delete),
        2 => (0..KEYS.len(), 0..8usize).prop_map(|(k, i)| Op::DeleteVersion(k, i)),
        1 => any::<bool>().prop_map(Op::Versioning),
    ]
}

/// The model: each key's versions newest first, (version id, is a delete marker).
type Model = BTreeMap<&'static str, Vec<(String, bool)>>;

async fn apply(store: &Store, model: &mut Model, versioning: &mut Versioning, op: &Op, n: usize) {
    match *op {
        Op::Put(k) => {
            let id = put(store, KEYS[k], &format!("e{n}")).await.version_id;
            let versions = model.entry(KEYS[k]).or_default();
            if *versioning != Versioning::Enabled {
                versions.retain(|(v, _)| v != NULL_VERSION);
            }
            versions.insert(0, (id, false));
        }
        Op::Delete(k) => {
            let deleted = delete(store, KEYS[k], None).await;
            let versions = model.entry(KEYS[k]).or_default();
            if *versioning != Versioning::Enabled {
                versions.retain(|(v, _)| v != NULL_VERSION);
            }
            if let Some(id) = deleted.version_id {
                versions.insert(0, (id, true));
            }
        }
        Op::DeleteVersion(k, i) => {
            let versions = model.entry(KEYS[k]).or_default();
            if versions.is_empty() {
                return;
            }
            let (id, _) = versions.remove(i % versions.len());
            delete(store, KEYS[k], Some(&id)).await;
        }
        Op::Versioning(enabled) => {
            *versioning = if enabled {
                Versioning::Enabled
            } else {
                Versioning::Suspended
            };
            store.set_bucket_versioning("docs", *versioning).await.unwrap();
        }
    }
}

/// The listing the model says, entry by entry: a version as (key, id, latest), a common
/// prefix as (prefix, "", false).
fn model_listing(model: &Model, prefix: &str, delimiter: Option<&str>) -> Vec<(String, String, bool)> {
    let mut out: Vec<(String, String, bool)> = Vec::new();
    for (key, versions) in model.iter().filter(|(k, _)| k.starts_with(prefix)) {
        let rolled = delimiter.and_then(|d| {
            key[prefix.len()..]
                .find(d)
                .map(|at| &key[..prefix.len() + at + d.len()])
        });
        match rolled {
            Some(cp) if !versions.is_empty() => {
                if out.last().is_none_or(|last| last.0 != cp) {
                    out.push((cp.to_owned(), String::new(), false));
                }
            }
            Some(_) => {}
            None => out.extend(
                versions
                    .iter()
                    .enumerate()
                    .map(|(i, (id, _))| (key.to_string(), id.clone(), i == 0)),
            ),
        }
    }
    out
}

/// Pages through the store's listing as a client does, by NextKeyMarker/NextVersionIdMarker.
async fn store_listing(
    store: &Store,
    prefix: &str,
    delimiter: Option<&str>,
    max_keys: usize,
) -> Vec<(String, String, bool)> {
    let mut out = Vec::new();
    let mut marker: Option<(String, Option<String>)> = None;
    loop {
        let query = ListQuery {
            prefix,
            delimiter,
            after: marker.as_ref().map(|(k, _)| k.as_str()),
            after_version: None,
            max_keys,
        };
        let version_marker = marker.as_ref().and_then(|(_, v)| v.as_deref());
        let page = store
            .list_object_versions("docs", &query, version_marker)
            .await
            .unwrap();
        assert!(page.entries.len() <= max_keys);
        marker = page.entries.last().map(|entry| match entry {
            ListEntry::Object(VersionSummary { key, version_id, .. }) => (key.clone(), Some(version_id.clone())),
            ListEntry::CommonPrefix(p) => (p.clone(), None),
        });
        for entry in page.entries {
            out.push(match entry {
                ListEntry::Object(v) => (v.key, v.version_id, v.is_latest),
                ListEntry::CommonPrefix(p) => (p, String::new(), false),
            });
        }
        if !page.is_truncated {
            return out;
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn list_object_versions_matches_the_model(
        ops in proptest::collection::vec(op_strategy(), 1..40),
        prefix in prop_oneof![Just(""), Just("a"), Just("a/"), Just("b"), Just("c/")],
        delimiter in prop_oneof![Just(None), Just(Some("/")), Just(Some("b"))],
        max_keys in 1usize..5,
    ) {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(async {
            let db = TestDb::sqlite();
            let store = open(&db).await;
            let mut model = Model::new();
            let mut versioning = Versioning::Unversioned;
            for (n, op) in ops.iter().enumerate() {
                apply(&store, &mut model, &mut versioning, op, n).await;
            }
            let whole = store_listing(&store, prefix, delimiter, 1000).await;
            assert_eq!(whole, model_listing(&model, prefix, delimiter));
            assert_eq!(store_listing(&store, prefix, delimiter, max_keys).await, whole);
            // Every key's current object is its newest version unless that is a marker.
            for (key, versions) in &model {
                let current = store.object("docs", key).await.unwrap().map(|o| o.version_id);
                let expected = versions.first().filter(|(_, marker)| !marker).map(|(id, _)| id.clone());
                assert_eq!(current, expected, "{key}");
            }
        });
    }
}

/// SQLite has no statistics to choose indexes by: the queries that must not walk old versions
/// are checked to seek the indexes made for them.
#[tokio::test]
async fn sqlite_plans_seek_the_version_indexes() {
    let db = TestDb::sqlite();
    let store = db.open().await;
    let plan = |sql: &'static str| {
        let store = store.clone();
        async move {
            let rows: Vec<(i64, i64, i64, String)> =
                sqlx::query_as(sqlx::AssertSqlSafe(format!("EXPLAIN QUERY PLAN {sql}")))
                    .fetch_all(&store.inner.reader)
                    .await
                    .unwrap();
            rows.into_iter().map(|r| r.3).collect::<Vec<_>>().join("; ")
        }
    };
    let current = plan(
        "SELECT object_key FROM objects WHERE bucket = 'b' AND object_key > x'6b' AND is_latest = 1 \
         AND is_delete_marker = 0 ORDER BY object_key LIMIT 10",
    )
    .await;
    assert!(current.contains("INDEX objects_live"), "{current}");
    let latest = plan("SELECT etag FROM objects WHERE bucket = 'b' AND object_key = x'6b' AND is_latest = 1").await;
    assert!(latest.contains("objects_latest"), "{latest}");
    let for_write = plan(crate::versions::BUCKET_STATE_AND_LATEST.as_str()).await;
    assert!(
        for_write.contains("objects_latest") && !for_write.contains("SCAN"),
        "{for_write}"
    );
    let versions = plan(
        "SELECT object_key FROM objects WHERE bucket = 'b' AND (object_key, version_order) > (x'6b', -3) \
         ORDER BY object_key, version_order LIMIT 10",
    )
    .await;
    assert!(
        versions.contains("objects_by_version_order") && !versions.contains("TEMP B-TREE"),
        "{versions}"
    );
    let promote = plan(
        "UPDATE objects SET is_latest = 1 WHERE bucket = 'b' AND object_key = x'6b' AND version_order = \
         (SELECT MIN(version_order) FROM objects WHERE bucket = 'b' AND object_key = x'6b')",
    )
    .await;
    assert!(!promote.contains("SCAN"), "{promote}");
}

mod lifecycle {
    use super::*;
    use crate::{Expiration, LifecycleDay, LifecycleFilter, LifecycleRule, NoncurrentExpiration};

    /// A "day" of 50 ms: the pass sees expirations after a short sleep.
    const DAY: LifecycleDay = LifecycleDay(std::time::Duration::from_millis(50));

    const LEASE: crate::Lease<'static> = crate::Lease {
        name: "lifecycle",
        holder: "test",
        ttl: std::time::Duration::from_secs(60),
    };

    fn rule(id: &str, prefix: &str) -> LifecycleRule {
        LifecycleRule {
            id: id.to_owned(),
            enabled: true,
            filter: LifecycleFilter {
                prefix: Some(prefix.to_owned()),
                ..Default::default()
            },
            expiration: None,
            noncurrent_expiration: None,
            abort_incomplete_upload_days: None,
        }
    }

    async fn a_day_passes() {
        tokio::time::sleep(std::time::Duration::from_millis(120)).await;
    }

    on_both_backends! {
    /// Expiration by days, a page at a time: each pass does at most its budget and the next
    /// goes on from where it stopped; keys outside the prefix stay.
    async fn expiration_works_through_a_bucket_a_budget_at_a_time(db: TestDb) {
        let store = open(&db).await;
        for key in ["logs/1", "logs/2", "logs/3", "keep/1"] {
            put(&store, key, "e").await;
        }
        let expire = LifecycleRule {
            expiration: Some(Expiration { days: Some(1), ..Default::default() }),
            ..rule("logs", "logs/")
        };
        store.set_bucket_lifecycle("docs", Some(&[expire])).await.unwrap();
        a_day_passes().await;
        let first = store.lifecycle_pass(DAY, 2, &LEASE).await.unwrap();
        assert_eq!(first.expired, 2);
        let second = store.lifecycle_pass(DAY, 2, &LEASE).await.unwrap();
        assert_eq!(second.expired, 1);
        for key in ["logs/1", "logs/2", "logs/3"] {
            assert!(store.object("docs", key).await.unwrap().is_none(), "{key}");
        }
        assert!(store.object("docs", "keep/1").await.unwrap().is_some());
        assert_eq!(store.lifecycle_pass(DAY, 2, &LEASE).await.unwrap(), LifecycleReport::default());
    }

    /// Under versioning: expiring adds a delete marker; noncurrent versions past their days go
    /// for good except the newest `NewerNoncurrentVersions`; a lone marker is removed; an
    /// abandoned upload is aborted; Object Lock's versions stay.
    async fn versioned_rules_remove_what_s3_would(db: TestDb) {
        let store = open(&db).await;
        store.set_bucket_versioning("docs", Versioning::Enabled).await.unwrap();
        for i in 0..4 {
            put(&store, "k", &format!("e{i}")).await;
        }
        let upload = store
            .create_upload(Upload {
                bucket: "docs".to_owned(),
                ..crate::object_tests::new_upload("k")
            })
            .await
            .unwrap();
        let all = LifecycleRule {
            expiration: Some(Expiration { days: Some(1), ..Default::default() }),
            noncurrent_expiration: Some(NoncurrentExpiration {
                days: 1,
                newer_noncurrent_versions: Some(1),
            }),
            abort_incomplete_upload_days: Some(1),
            ..rule("all", "")
        };
        store.set_bucket_lifecycle("docs", Some(&[all])).await.unwrap();
        a_day_passes().await;
        let report = store.lifecycle_pass(DAY, 100, &LEASE).await.unwrap();
        assert_eq!((report.expired, report.uploads_aborted), (1, 1), "{report:?}");
        assert!(store.object("docs", "k").await.unwrap().is_none());
        assert!(store.upload("docs", "k", &upload.upload_id).await.unwrap().is_none());
        // The newest noncurrent version (e3) is kept, as NewerNoncurrentVersions says; e0..e2
        // were noncurrent for their day and go.
        let left: Vec<String> = versions(&store).await.into_iter().map(|v| v.2).collect();
        assert_eq!(left, ["marker", "e3"]);
        a_day_passes().await;
        store.lifecycle_pass(DAY, 100, &LEASE).await.unwrap();
        let left: Vec<String> = versions(&store).await.into_iter().map(|v| v.2).collect();
        assert_eq!(left, ["marker", "e3"], "the newest noncurrent version stays");
        // Once the marker is all that is left, it goes too.
        let only = versions(&store).await[1].1.clone();
        delete(&store, "k", Some(&only)).await;
        a_day_passes().await;
        let report = store.lifecycle_pass(DAY, 100, &LEASE).await.unwrap();
        assert_eq!(report.markers_removed, 1);
        assert!(versions(&store).await.is_empty());
    }

    /// A version Object Lock protects is left for later, and counted.
    async fn locked_versions_outlive_their_rules(db: TestDb) {
        let store = db.open().await;
        let (account, _) = store.create_account("a", None).await.unwrap();
        store
            .create_bucket_with(
                &account.account_id,
                "docs",
                "us-east-1",
                crate::NewBucket {
                    object_lock: true,
                    ..crate::NewBucket::CURRENT_DEFAULTS
                },
            ).await.unwrap();
        store
            .set_object_lock(
                "docs",
                BucketLock {
                    default_retention: Some(DefaultRetention {
                        mode: RetentionMode::Compliance,
                        period: RetentionPeriod::Days(1),
                    }),
                },
            )
            .await
            .unwrap();
        put(&store, "k", "old").await;
        put(&store, "k", "new").await;
        let rule = LifecycleRule {
            noncurrent_expiration: Some(NoncurrentExpiration { days: 1, newer_noncurrent_versions: None }),
            ..rule("noncurrent", "")
        };
        store.set_bucket_lifecycle("docs", Some(&[rule])).await.unwrap();
        a_day_passes().await;
        let report = store.lifecycle_pass(DAY, 100, &LEASE).await.unwrap();
        assert_eq!((report.noncurrent_removed, report.locked), (0, 1));
        assert_eq!(versions(&store).await.len(), 2);
    }

    /// A key with more versions than a pass's budget is worked through over several passes,
    /// keeping the newest noncurrent one.
    async fn noncurrent_versions_are_paged_through(db: TestDb) {
        let store = open(&db).await;
        store.set_bucket_versioning("docs", Versioning::Enabled).await.unwrap();
        for i in 0..7 {
            put(&store, "k", &format!("e{i}")).await;
        }
        let rule = LifecycleRule {
            noncurrent_expiration: Some(NoncurrentExpiration { days: 1, newer_noncurrent_versions: Some(1) }),
            ..rule("noncurrent", "")
        };
        store.set_bucket_lifecycle("docs", Some(&[rule])).await.unwrap();
        a_day_passes().await;
        let mut removed = 0;
        for _ in 0..6 {
            removed += store.lifecycle_pass(DAY, 2, &LEASE).await.unwrap().noncurrent_removed;
        }
        assert_eq!(removed, 5);
        let left: Vec<String> = versions(&store).await.into_iter().map(|v| v.2).collect();
        assert_eq!(left, ["e6", "e5"]);
    }

    /// The conditions a pass deletes under fail when the version is no longer what it judged.
    async fn lifecycle_deletes_are_conditional_on_what_was_judged(db: TestDb) {
        let store = open(&db).await;
        store.set_bucket_versioning("docs", Versioning::Enabled).await.unwrap();
        let old = put(&store, "k", "old").await;
        let new = put(&store, "k", "new").await;
        let millis = |o: &ObjectMeta| crate::model::to_millis(o.last_modified);
        let current = WriteCondition::IfNoncurrent { last_modified: millis(&new) };
        let refused = store.delete_object("docs", "k", Some(&new.version_id), &current, false).await;
        assert!(matches!(refused, Err(StoreError::PreconditionFailed)), "{refused:?}");
        let marker = delete(&store, "k", None).await;
        let marker_row = store.object_version("docs", "k", None).await.unwrap().unwrap();
        let lone = WriteCondition::IfLoneDeleteMarker { last_modified: millis(&marker_row) };
        let marker_id = marker.version_id.unwrap();
        let refused = store.delete_object("docs", "k", Some(&marker_id), &lone, false).await;
        assert!(matches!(refused, Err(StoreError::PreconditionFailed)), "{refused:?}");
        let noncurrent = WriteCondition::IfNoncurrent { last_modified: millis(&old) };
        store.delete_object("docs", "k", Some(&old.version_id), &noncurrent, false).await.unwrap();
        assert_eq!(versions(&store).await.len(), 2);
    }

    /// One node at a time holds the lease; it passes to another once it lapses.
    async fn one_node_at_a_time_holds_the_lifecycle_lease(db: TestDb) {
        let one = db.open().await;
        let two = db.open().await;
        let ttl = std::time::Duration::from_millis(200);
        assert!(one.take_lease("lifecycle", "one", ttl).await.unwrap());
        assert!(!two.take_lease("lifecycle", "two", ttl).await.unwrap());
        assert!(one.take_lease("lifecycle", "one", ttl).await.unwrap(), "renewed");
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        assert!(two.take_lease("lifecycle", "two", ttl).await.unwrap());
        assert!(!one.take_lease("lifecycle", "one", ttl).await.unwrap());
    }
    }
}
