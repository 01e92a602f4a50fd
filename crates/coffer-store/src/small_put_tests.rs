//! A batch's small PUTs applied together (SQLite, `small_puts.rs`): each judged as it would be
//! on its own, those that are more than one statement group left to the ordinary path, and
//! the rows afterwards what one write at a time would have left.

use crate::listing::{ListEntry, ListQuery};
use crate::object_tests::{blob, new_object as object};
use crate::objects::{Write, Written};
use crate::test_backends::TestDb;
use crate::*;

async fn kept(store: &Store, bytes: &[u8]) -> NewBytes {
    let mut writer = store.blobs().create().await.unwrap();
    writer.write(bytes).await.unwrap();
    let kept = writer.finish_or_keep(MAX_INLINE_BODY).await.unwrap();
    assert!(matches!(kept, NewBytes::Inline { .. }));
    kept
}

/// A fresh store with `buckets`.
async fn open_with(db: &TestDb, buckets: &[&str]) -> Store {
    let store = db.open().await;
    let (account, _) = store.create_account("a", None).await.unwrap();
    for bucket in buckets {
        store
            .create_bucket(&account.account_id, bucket, "us-east-1")
            .await
            .unwrap();
    }
    store
}

/// A PUT of `bytes` as `key` (its ETag: the bytes as text), for the committer.
async fn put(store: &Store, bucket: &str, key: &str, bytes: &[u8], condition: WriteCondition) -> Write {
    Write::Put {
        bucket: bucket.to_owned(),
        object: Box::new(object(key, std::str::from_utf8(bytes).unwrap())),
        bytes: kept(store, bytes).await,
        condition,
        _writing: store.inner.objects.writing(bucket, key),
    }
}

async fn put_now(store: &Store, bucket: &str, key: &str, bytes: impl Into<NewBytes>, etag: &str) -> ObjectMeta {
    store
        .put_object(bucket, object(key, etag), bytes, &WriteCondition::Always)
        .await
        .unwrap()
}

async fn bytes_of(store: &Store, bucket: &str, key: &str) -> Vec<u8> {
    match store.object(bucket, key).await.unwrap().map(|o| o.data) {
        Some(ObjectData::Inline { bytes, .. }) => bytes.to_vec(),
        other => panic!("{bucket}/{key}: {other:?}"),
    }
}

/// The key's versions, newest first: (version id, ETag, latest).
async fn versions(store: &Store, bucket: &str, key: &str) -> Vec<(String, String, bool)> {
    let query = ListQuery {
        max_keys: 1000,
        prefix: key,
        ..ListQuery::default()
    };
    let page = store.list_object_versions(bucket, &query, None).await.unwrap();
    page.entries
        .into_iter()
        .map(|entry| match entry {
            ListEntry::Object(v) => (v.version_id, v.etag, v.is_latest),
            ListEntry::CommonPrefix(p) => panic!("no delimiter, yet {p}"),
        })
        .collect()
}

fn version_id(outcome: &Result<Written>) -> &str {
    match outcome {
        Ok(written) => written.deleted.version_id.as_deref().unwrap(),
        Err(err) => panic!("{err}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_of_small_puts_ends_as_one_write_at_a_time_would() {
    let db = TestDb::sqlite();
    let store = open_with(&db, &["plain", "kept", "paused"]).await;
    store.set_bucket_versioning("kept", Versioning::Enabled).await.unwrap();
    store
        .set_bucket_versioning("paused", Versioning::Enabled)
        .await
        .unwrap();
    put_now(&store, "plain", "small", kept(&store, b"old").await, "old").await;
    let large_blob = blob(&store, b"a file").await;
    put_now(&store, "plain", "large", large_blob.clone(), "file").await;
    put_now(&store, "plain", "guarded", kept(&store, b"g1").await, "g1").await;
    put_now(&store, "plain", "gone", kept(&store, b"gone").await, "gone").await;
    let v1 = put_now(&store, "kept", "v", kept(&store, b"v1").await, "v1").await;
    let p1 = put_now(&store, "paused", "p", kept(&store, b"p1").await, "p1").await;
    store
        .set_bucket_versioning("paused", Versioning::Suspended)
        .await
        .unwrap();

    let mut batch = vec![
        put(&store, "plain", "small", b"new", WriteCondition::Always).await,
        put(&store, "plain", "large", b"tiny", WriteCondition::Always).await,
        put(&store, "plain", "fresh", b"fresh", WriteCondition::Always).await,
        put(
            &store,
            "plain",
            "guarded",
            b"g2",
            WriteCondition::IfMatch("wrong".into()),
        )
        .await,
        put(&store, "kept", "v", b"v2", WriteCondition::Always).await,
        put(&store, "kept", "first", b"first", WriteCondition::Always).await,
        // A `null` version goes on top of a versioned history: more than one group.
        put(&store, "paused", "p", b"p2", WriteCondition::Always).await,
        put(&store, "nowhere", "x", b"x", WriteCondition::Always).await,
        // One key written twice in a batch: in order, on the ordinary path.
        put(&store, "plain", "twice", b"a", WriteCondition::Always).await,
        put(&store, "plain", "twice", b"b", WriteCondition::Always).await,
        Write::Delete {
            bucket: "plain".into(),
            key: "gone".into(),
            version_id: None,
            condition: WriteCondition::Always,
            bypass_governance: false,
            _writing: store.inner.objects.writing("plain", "gone"),
        },
    ];
    // Enough new keys for more than one command of each (`KEYS_PER_COMMAND`).
    for n in 0..12 {
        let bytes = format!("many {n}");
        batch.push(
            put(
                &store,
                "plain",
                &format!("many-{n}"),
                bytes.as_bytes(),
                WriteCondition::Always,
            )
            .await,
        );
    }
    let writes: Vec<&Write> = batch.iter().collect();

    // Which ones go together: all the single PUTs of small objects whose write is one group.
    let mut conn = store.inner.writer.acquire().await.unwrap();
    let mut tx = crate::db::begin_write_on(&mut conn, Backend::Sqlite).await.unwrap();
    let mut outcomes: Vec<Option<Result<Written>>> = writes.iter().map(|_| None).collect();
    crate::small_puts::apply_together(crate::small_puts::candidates(&writes), &mut tx, &mut outcomes)
        .await
        .unwrap();
    let together: Vec<usize> = (0..outcomes.len()).filter(|&i| outcomes[i].is_some()).collect();
    assert_eq!(
        together,
        [[0, 1, 2, 3, 4, 5, 7].as_slice(), &Vec::from_iter(11..23)].concat()
    );
    tx.rollback().await.unwrap();

    let mut tx = crate::db::begin_write_on(&mut conn, Backend::Sqlite).await.unwrap();
    let outcomes = crate::small_puts::apply_all(&writes, &mut tx).await.unwrap();
    tx.commit().await.unwrap();
    drop(conn);

    assert_eq!(version_id(&outcomes[0]), NULL_VERSION);
    assert_eq!(bytes_of(&store, "plain", "small").await, b"new");
    assert_eq!(outcomes[1].as_ref().unwrap().unused_blobs, [large_blob]);
    assert_eq!(bytes_of(&store, "plain", "large").await, b"tiny");
    assert_eq!(version_id(&outcomes[2]), NULL_VERSION);
    assert_eq!(bytes_of(&store, "plain", "fresh").await, b"fresh");
    assert!(
        matches!(outcomes[3], Err(StoreError::PreconditionFailed)),
        "{:?}",
        outcomes[3].as_ref().err()
    );
    assert_eq!(bytes_of(&store, "plain", "guarded").await, b"g1");
    let v2 = version_id(&outcomes[4]).to_owned();
    assert_eq!(
        versions(&store, "kept", "v").await,
        [(v2.clone(), "v2".into(), true), (v1.version_id, "v1".into(), false)]
    );
    assert_eq!(bytes_of(&store, "kept", "v").await, b"v2");
    let first = version_id(&outcomes[5]).to_owned();
    assert_ne!(first, NULL_VERSION);
    assert_eq!(versions(&store, "kept", "first").await, [(first, "first".into(), true)]);
    assert_eq!(version_id(&outcomes[6]), NULL_VERSION);
    assert_eq!(
        versions(&store, "paused", "p").await,
        [
            (NULL_VERSION.into(), "p2".into(), true),
            (p1.version_id, "p1".into(), false)
        ]
    );
    assert!(matches!(outcomes[7], Err(StoreError::NoSuchBucket)));
    assert_eq!(bytes_of(&store, "plain", "twice").await, b"b");
    assert!(outcomes[10].as_ref().unwrap().deleted.existed);
    assert!(store.object("plain", "gone").await.unwrap().is_none());
    for n in 0..12 {
        assert_eq!(version_id(&outcomes[11 + n]), NULL_VERSION);
        let bytes = bytes_of(&store, "plain", &format!("many-{n}")).await;
        assert_eq!(bytes, format!("many {n}").as_bytes());
    }
}

/// Applies `batch` as the committer would on SQLite, committed.
async fn apply(store: &Store, batch: &[Write]) -> Vec<Result<Written>> {
    let writes: Vec<&Write> = batch.iter().collect();
    let mut conn = store.inner.writer.acquire().await.unwrap();
    let mut tx = crate::db::begin_write_on(&mut conn, Backend::Sqlite).await.unwrap();
    let outcomes = crate::small_puts::apply_all(&writes, &mut tx).await.unwrap();
    tx.commit().await.unwrap();
    outcomes
}

/// Conditions, Object Lock's default retention, a delete marker under a new version and a
/// suspended bucket's `null` version, judged in a batch as on their own.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_judges_conditions_locks_and_versions_as_one_write_would() {
    let db = TestDb::sqlite();
    let store = open_with(&db, &["plain", "kept", "paused", "locked"]).await;
    store.set_bucket_versioning("kept", Versioning::Enabled).await.unwrap();
    store
        .set_bucket_versioning("paused", Versioning::Suspended)
        .await
        .unwrap();
    store
        .set_bucket_versioning("locked", Versioning::Enabled)
        .await
        .unwrap();
    let default_retention = DefaultRetention {
        mode: RetentionMode::Governance,
        period: RetentionPeriod::Days(3),
    };
    let lock = BucketLock {
        default_retention: Some(default_retention),
    };
    store.set_object_lock("locked", lock).await.unwrap();
    put_now(&store, "plain", "same", kept(&store, b"same").await, "same").await;
    put_now(&store, "plain", "taken", kept(&store, b"taken").await, "taken").await;
    put_now(&store, "kept", "marked", kept(&store, b"m1").await, "m1").await;
    let marker = store
        .delete_object("kept", "marked", None, &WriteCondition::Always, false)
        .await
        .unwrap();
    put_now(&store, "paused", "p", kept(&store, b"p1").await, "p1").await;

    let outcomes = apply(
        &store,
        &[
            put(
                &store,
                "plain",
                "same",
                b"x",
                WriteCondition::IfNoneMatch("same".into()),
            )
            .await,
            put(&store, "plain", "taken", b"x", WriteCondition::IfAbsent).await,
            put(&store, "plain", "free", b"free", WriteCondition::IfAbsent).await,
            put(&store, "kept", "marked", b"m2", WriteCondition::Always).await,
            put(&store, "paused", "p", b"p2", WriteCondition::Always).await,
            put(&store, "locked", "l", b"l", WriteCondition::Always).await,
        ],
    )
    .await;

    assert!(matches!(outcomes[0], Err(StoreError::PreconditionFailed)));
    assert_eq!(bytes_of(&store, "plain", "same").await, b"same");
    assert!(matches!(outcomes[1], Err(StoreError::PreconditionFailed)));
    assert_eq!(bytes_of(&store, "plain", "taken").await, b"taken");
    assert_eq!(bytes_of(&store, "plain", "free").await, b"free");
    let m2 = version_id(&outcomes[3]).to_owned();
    let marked = versions(&store, "kept", "marked").await;
    assert_eq!(marked.len(), 3, "{marked:?}");
    assert_eq!(marked[0], (m2, "m2".into(), true));
    assert_eq!(
        (&marked[1].0, marked[1].2),
        (marker.version_id.as_ref().unwrap(), false)
    );
    assert_eq!(version_id(&outcomes[4]), NULL_VERSION);
    assert_eq!(
        versions(&store, "paused", "p").await,
        [(NULL_VERSION.into(), "p2".into(), true)]
    );
    let written = outcomes[5].as_ref().unwrap();
    let retention = written.lock.retention.expect("the bucket's default retention");
    assert_eq!(
        retention,
        default_retention.from(crate::model::from_millis(written.last_modified))
    );
    let stored = store.object("locked", "l").await.unwrap().unwrap();
    assert_eq!(stored.lock.retention, Some(retention));
}

/// A key with a `null` version but no latest one breaks what the batch counts on: its INSERT
/// meets the `null` row, the batch is rolled back, and the write goes the ordinary way, each
/// write in a savepoint, and succeeds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_that_fails_midway_is_applied_again_the_ordinary_way() {
    let db = TestDb::sqlite();
    let store = open_with(&db, &["plain"]).await;
    put_now(&store, "plain", "odd", kept(&store, b"old").await, "old").await;
    sqlx::query("UPDATE objects SET is_latest = 0 WHERE object_key = $1")
        .bind(b"odd".to_vec())
        .execute(&store.inner.writer)
        .await
        .unwrap();
    let redone = store.stats().redone_batches;
    let written = store
        .put_object(
            "plain",
            object("odd", "new"),
            kept(&store, b"new").await,
            &WriteCondition::Always,
        )
        .await
        .unwrap();
    assert_eq!(written.version_id, NULL_VERSION);
    assert_eq!(store.stats().redone_batches, redone + 1, "counted for the metrics");
    assert_eq!(bytes_of(&store, "plain", "odd").await, b"new");
    assert_eq!(
        versions(&store, "plain", "odd").await,
        [(NULL_VERSION.into(), "new".into(), true)]
    );
}
