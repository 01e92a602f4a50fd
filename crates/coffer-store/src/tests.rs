//! Store behaviour on both backends: a real SQLite file, and a real PostgreSQL database.

use crate::test_backends::{TestDb, on_both_backends};
use crate::*;

async fn open(db: &TestDb) -> Store {
    db.open().await
}

/// A time as the store keeps it: to the millisecond.
fn to_ms(time: time::OffsetDateTime) -> i64 {
    crate::model::to_millis(time)
}

on_both_backends! {
async fn default_account_is_created_once_with_its_root_key(db: TestDb) {
    let store = open(&db).await;
    let (account, key) = store.create_default_account_once(None).await.unwrap().unwrap();
    assert_eq!(account.name, DEFAULT_ACCOUNT_NAME);
    assert!(ids::is_access_key_id(&key.key.access_key_id));
    assert!(store.create_default_account_once(None).await.unwrap().is_none());
    let credential = store.credential(&key.key.access_key_id).await.unwrap().unwrap();
    assert_eq!(credential.secret_access_key, key.secret_access_key);
    assert_eq!(credential.owner, KeyOwner::Root);
}

async fn user_names_are_unique_without_regard_to_case(db: TestDb) {
    let store = open(&db).await;
    let (account, _) = store.create_account("a", None).await.unwrap();
    store.create_user(&account.account_id, "Alice", "/", &[]).await.unwrap();
    let again = store.create_user(&account.account_id, "ALICE", "/", &[]).await;
    assert!(matches!(again, Err(StoreError::UserExists)));
    assert_eq!(store.user(&account.account_id, "alice").await.unwrap().name, "Alice");
}

async fn accounts_do_not_see_each_others_users(db: TestDb) {
    let store = open(&db).await;
    let (one, _) = store.create_account("one", None).await.unwrap();
    let (two, _) = store.create_account("two", None).await.unwrap();
    store.create_user(&one.account_id, "alice", "/", &[]).await.unwrap();
    store.create_user(&two.account_id, "alice", "/", &[]).await.unwrap();
    assert!(matches!(
        store.user(&two.account_id, "bob").await,
        Err(StoreError::NoSuchUser)
    ));
    let listed = store.list_users(&one.account_id, "/", None, 100).await.unwrap();
    assert_eq!(listed.items.len(), 1);
    assert_eq!(listed.items[0].account_id, one.account_id);
}

async fn listing_pages_by_marker_and_filters_by_path_prefix(db: TestDb) {
    let store = open(&db).await;
    let (account, _) = store.create_account("a", None).await.unwrap();
    for (name, path) in [("c", "/"), ("a", "/eng/"), ("b", "/eng/db/"), ("d", "/ops_%/")] {
        store.create_user(&account.account_id, name, path, &[]).await.unwrap();
    }
    let first = store.list_users(&account.account_id, "/", None, 2).await.unwrap();
    assert_eq!(
        first.items.iter().map(|u| u.name.as_str()).collect::<Vec<_>>(),
        ["a", "b"]
    );
    let rest = store
        .list_users(&account.account_id, "/", first.next_marker.as_deref(), 2)
        .await
        .unwrap();
    assert_eq!(
        rest.items.iter().map(|u| u.name.as_str()).collect::<Vec<_>>(),
        ["c", "d"]
    );
    assert!(rest.next_marker.is_none());
    let eng = store.list_users(&account.account_id, "/eng/", None, 10).await.unwrap();
    assert_eq!(eng.items.len(), 2);
    // `%` and `_` in a prefix are literal characters, not patterns.
    let ops = store.list_users(&account.account_id, "/ops_%", None, 10).await.unwrap();
    assert_eq!(ops.items.len(), 1);
    assert!(
        store
            .list_users(&account.account_id, "/o__", None, 10)
            .await
            .unwrap()
            .items
            .is_empty()
    );
}

async fn a_user_has_at_most_two_keys_and_cannot_be_deleted_while_it_has_any(db: TestDb) {
    let store = open(&db).await;
    let (account, _) = store.create_account("a", None).await.unwrap();
    let id = &account.account_id;
    store.create_user(id, "bob", "/", &[]).await.unwrap();
    let owner = KeyOwnerName::User("bob");
    let one = store.create_access_key(id, owner).await.unwrap();
    store.create_access_key(id, owner).await.unwrap();
    assert!(matches!(
        store.create_access_key(id, owner).await,
        Err(StoreError::TooManyAccessKeys)
    ));
    assert!(matches!(
        store.delete_user(id, "bob").await,
        Err(StoreError::UserHasKeys)
    ));
    for key in store.list_access_keys(id, owner).await.unwrap() {
        store.delete_access_key(id, owner, &key.access_key_id).await.unwrap();
    }
    assert!(store.credential(&one.key.access_key_id).await.unwrap().is_none());
    store.delete_user(id, "bob").await.unwrap();
}

async fn deactivating_a_key_reaches_the_cached_credential(db: TestDb) {
    let store = open(&db).await;
    let (account, root) = store.create_account("a", None).await.unwrap();
    let key_id = &root.key.access_key_id;
    assert_eq!(
        store.credential(key_id).await.unwrap().unwrap().status,
        KeyStatus::Active
    );
    store
        .update_access_key(&account.account_id, KeyOwnerName::Root, key_id, KeyStatus::Inactive)
        .await
        .unwrap();
    assert_eq!(
        store.credential(key_id).await.unwrap().unwrap().status,
        KeyStatus::Inactive
    );
}

async fn renaming_a_user_keeps_its_keys_and_changes_the_credential(db: TestDb) {
    let store = open(&db).await;
    let (account, _) = store.create_account("a", None).await.unwrap();
    let id = &account.account_id;
    store.create_user(id, "bob", "/", &[]).await.unwrap();
    let key = store.create_access_key(id, KeyOwnerName::User("bob")).await.unwrap();
    store.credential(&key.key.access_key_id).await.unwrap();
    store
        .update_user(id, "bob", Some("robert"), Some("/staff/"))
        .await
        .unwrap();
    let credential = store.credential(&key.key.access_key_id).await.unwrap().unwrap();
    let KeyOwner::User(user) = &credential.owner else {
        panic!("a user's key")
    };
    assert_eq!(user.arn(), format!("arn:aws:iam::{id}:user/staff/robert"));
}

async fn key_use_is_kept_in_memory_then_flushed_and_survives_reopening(db: TestDb) {
    let key_id;
    let account_id;
    {
        let store = open(&db).await;
        let (account, root) = store.create_account("a", None).await.unwrap();
        key_id = root.key.access_key_id.clone();
        account_id = account.account_id;
        assert!(
            store
                .access_key_last_used(&account_id, &key_id)
                .await
                .unwrap()
                .1
                .is_none()
        );
        store.record_key_use(&key_id, "s3", "eu-west-1");
        let (_, used) = store.access_key_last_used(&account_id, &key_id).await.unwrap();
        assert_eq!(used.unwrap().service, "s3");
        store.close().await;
    }
    let store = open(&db).await;
    let (_, used) = store.access_key_last_used(&account_id, &key_id).await.unwrap();
    assert_eq!(used.unwrap().region, "eu-west-1");
    // Uses noted before a flush: the last one wins, service and region included.
    store.record_key_use(&key_id, "s3", "eu-west-1");
    store.record_key_use(&key_id, "sts", "ap-south-1");
    let (_, used) = store.access_key_last_used(&account_id, &key_id).await.unwrap();
    let used = used.unwrap();
    assert_eq!((used.service.as_str(), used.region.as_str()), ("sts", "ap-south-1"));
}

async fn secrets_never_reach_the_data_dir_in_the_clear(db: TestDb) {
    let store = open(&db).await;
    let (account, root) = store.create_account("a", None).await.unwrap();
    let more = store
        .create_access_key(&account.account_id, KeyOwnerName::Root)
        .await
        .unwrap();
    store.close().await;
    for entry in std::fs::read_dir(db.dir()).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            continue; // blobs/: object bytes, empty here
        }
        let bytes = std::fs::read(path).unwrap();
        for secret in [&root.secret_access_key, &more.secret_access_key] {
            assert!(!bytes.windows(secret.len()).any(|w| w == secret.as_bytes()));
        }
    }
}

async fn tags_are_case_insensitive_by_key_and_limited_to_fifty(db: TestDb) {
    let store = open(&db).await;
    let (account, _) = store.create_account("a", None).await.unwrap();
    let id = &account.account_id;
    store.create_user(id, "bob", "/", &[]).await.unwrap();
    let tag = |k: &str, v: &str| Tag {
        key: k.into(),
        value: v.into(),
    };
    store.tag_user(id, "bob", &[tag("Dept", "eng")]).await.unwrap();
    store.tag_user(id, "bob", &[tag("dept", "ops")]).await.unwrap();
    let tags = store.list_user_tags(id, "bob", None, 100).await.unwrap().items;
    assert_eq!(tags, [tag("dept", "ops")]);
    let many: Vec<Tag> = (0..50).map(|i| tag(&format!("k{i}"), "v")).collect();
    assert!(matches!(
        store.tag_user(id, "bob", &many).await,
        Err(StoreError::TooManyTags)
    ));
    assert_eq!(
        store.list_user_tags(id, "bob", None, 100).await.unwrap().items.len(),
        1,
        "nothing half-applied"
    );
    store
        .untag_user(id, "bob", &["DEPT".into(), "absent".into()])
        .await
        .unwrap();
    assert!(
        store
            .list_user_tags(id, "bob", None, 100)
            .await
            .unwrap()
            .items
            .is_empty()
    );
}
}

/// Every table and column, as `table.column`, sorted.
async fn schema(store: &Store) -> Vec<String> {
    let sql = match store.backend() {
        Backend::Sqlite => {
            "SELECT m.name || '.' || p.name FROM sqlite_master m JOIN pragma_table_info(m.name) p \
             WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name <> '_sqlx_migrations'"
        }
        Backend::Postgres => {
            "SELECT table_name || '.' || column_name FROM information_schema.columns \
             WHERE table_schema = 'public' AND table_name <> '_sqlx_migrations'"
        }
    };
    let mut columns: Vec<String> = sqlx::query_scalar(sql).fetch_all(&store.inner.reader).await.unwrap();
    columns.sort();
    columns
}

/// The two backends' migrations are kept in step: the same files, and the same tables and
/// columns once run.
#[tokio::test]
async fn both_backends_migrate_to_the_same_schema() {
    let names = |dir: &str| -> Vec<String> {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("migrations")
            .join(dir);
        let mut names: Vec<String> = std::fs::read_dir(path)
            .unwrap()
            .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    };
    assert_eq!(names("sqlite"), names("postgres"));
    let Some(postgres) = TestDb::postgres().await else {
        return;
    };
    let sqlite = TestDb::sqlite();
    let on_sqlite = schema(&sqlite.open().await).await;
    assert!(on_sqlite.contains(&"objects.object_key".to_owned()), "{on_sqlite:?}");
    assert_eq!(on_sqlite, schema(&postgres.open().await).await);
}

on_both_backends! {
/// Two stores on one database (two nodes) adding keys and tags at once: the limits hold.
async fn limits_hold_with_concurrent_writers_on_two_nodes(db: TestDb) {
    let (one, two) = (open(&db).await, open(&db).await);
    let (account, _) = one.create_account("a", None).await.unwrap();
    one.create_user(&account.account_id, "alice", "/", &[]).await.unwrap();
    let mut keys = Vec::new();
    for i in 0..10 {
        let store = if i % 2 == 0 { one.clone() } else { two.clone() };
        let account = account.account_id.clone();
        keys.push(tokio::spawn(async move {
            store.create_access_key(&account, KeyOwnerName::User("alice")).await
        }));
    }
    let mut made = 0;
    for key in keys {
        match key.await.unwrap() {
            Ok(_) => made += 1,
            Err(StoreError::TooManyAccessKeys) => {}
            Err(other) => panic!("{other}"),
        }
    }
    assert_eq!(made, 2);

    let tag = |key: String| Tag { key, value: "v".to_owned() };
    let first: Vec<Tag> = (0..49).map(|i| tag(format!("t{i}"))).collect();
    one.tag_user(&account.account_id, "alice", &first).await.unwrap();
    let mut tagging = Vec::new();
    for i in 0..6 {
        let store = if i % 2 == 0 { one.clone() } else { two.clone() };
        let account = account.account_id.clone();
        let extra = vec![tag(format!("extra{i}"))];
        tagging.push(tokio::spawn(async move { store.tag_user(&account, "alice", &extra).await }));
    }
    let mut tagged = 0;
    for outcome in tagging {
        match outcome.await.unwrap() {
            Ok(()) => tagged += 1,
            Err(StoreError::TooManyTags) => {}
            Err(other) => panic!("{other}"),
        }
    }
    assert_eq!(tagged, 1, "the 50th tag, once");
}
}

on_both_backends! {
/// A key deactivated and a policy added through one node are in force on another within
/// one poll of the cache counters, though the other had them cached.
async fn a_change_through_one_node_reaches_the_others_caches(db: TestDb) {
    let (one, two) = (open(&db).await, open(&db).await);
    let (account, _) = one.create_account("a", None).await.unwrap();
    let user = one.create_user(&account.account_id, "alice", "/", &[]).await.unwrap();
    let key = one
        .create_access_key(&account.account_id, KeyOwnerName::User("alice"))
        .await
        .unwrap();
    let id = key.key.access_key_id;
    // Cached on node two.
    assert_eq!(two.credential(&id).await.unwrap().unwrap().status, KeyStatus::Active);
    assert!(two.user_policies(&user.user_id).await.unwrap().documents.is_empty());
    one.update_access_key(&account.account_id, KeyOwnerName::User("alice"), &id, KeyStatus::Inactive)
        .await
        .unwrap();
    let document = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*"}}"#;
    one.put_inline_policy(PolicyOwner::User(&user.user_id), "all", document)
        .await
        .unwrap();
    let started = std::time::Instant::now();
    loop {
        let status = two.credential(&id).await.unwrap().unwrap().status;
        let policies = two.user_policies(&user.user_id).await.unwrap().documents.len();
        if status == KeyStatus::Inactive && policies == 1 {
            break;
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(1),
            "node two still had the old key or policies after a second"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}
}

on_both_backends! {
/// A session changes by compare-and-set, and nothing but its start creates it: a change or
/// a use racing a sign-out cannot bring it back.
async fn console_sessions_change_by_compare_and_set_and_stay_ended(db: TestDb) {
    let store = open(&db).await;
    let digest = [7u8; 32];
    let later = time::OffsetDateTime::now_utc() + time::Duration::minutes(30);
    store.put_console_session(&digest, later, "first").await.unwrap();
    let stored = store.console_session(&digest).await.unwrap().unwrap();
    assert_eq!((stored.record.as_str(), stored.version), ("first", 0));
    // Two requests changed it from version 0: one wins, the other must read it again.
    assert!(store.update_console_session(&digest, 0, "second").await.unwrap());
    assert!(!store.update_console_session(&digest, 0, "lost").await.unwrap());
    assert_eq!(store.console_session(&digest).await.unwrap().unwrap().record, "second");
    // Signed out: a late change or use does not revive it.
    store.delete_console_session(&digest).await.unwrap();
    assert!(!store.update_console_session(&digest, 1, "revived").await.unwrap());
    store.touch_console_session(&digest, later + time::Duration::minutes(5)).await.unwrap();
    assert!(store.console_session(&digest).await.unwrap().is_none());
}

/// Roles: names unique without case, listed by path and name a page at a time, changed in
/// part, tagged, and deleted with their tags.
async fn roles_are_created_listed_changed_tagged_and_deleted(db: TestDb) {
    let store = open(&db).await;
    let (account, _) = store.create_account("a", None).await.unwrap();
    let id = account.account_id.as_str();
    let trust = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"sts:AssumeRole"}]}"#;
    let tag = |key: &str| Tag { key: key.to_owned(), value: "v".to_owned() };
    let new = |name: &'static str, path: &'static str| NewRole {
        name,
        path,
        trust_policy: trust,
        description: None,
        max_session_duration: 3600,
        permissions_boundary: None,
        tags: &[],
    };
    let tags = [tag("team")];
    let deployer = store
        .create_role(id, &NewRole { description: Some("ships"), tags: &tags, ..new("deployer", "/ci/") })
        .await
        .unwrap();
    assert!(deployer.role_id.starts_with("AROA") && deployer.role_id.len() == 21);
    assert_eq!(deployer.arn(), format!("arn:aws:iam::{id}:role/ci/deployer"));
    assert!(matches!(store.create_role(id, &new("DEPLOYER", "/")).await, Err(StoreError::RoleExists)));
    for name in ["auditor", "builder"] {
        store.create_role(id, &new(name, "/")).await.unwrap();
    }
    let first = store.list_roles(id, "/", None, 2).await.unwrap();
    let names: Vec<_> = first.items.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, ["auditor", "builder"]);
    let rest = store.list_roles(id, "/", first.next_marker.as_deref(), 2).await.unwrap();
    assert_eq!(rest.items.len(), 1);
    assert!(rest.next_marker.is_none());
    assert_eq!(store.list_roles(id, "/ci/", None, 10).await.unwrap().items.len(), 1);

    let change = RoleChange { max_session_duration: Some(7200), ..RoleChange::default() };
    let changed = store.update_role(id, "Deployer", &change).await.unwrap();
    assert_eq!((changed.max_session_duration, changed.description.as_deref()), (7200, Some("ships")));
    assert!(matches!(store.update_role(id, "ghost", &change).await, Err(StoreError::NoSuchRole)));

    store.tag_role(id, "deployer", &[tag("TEAM"), tag("env")]).await.unwrap();
    let tags = store.list_role_tags(id, "deployer", None, 10).await.unwrap().items;
    assert_eq!(tags.iter().map(|t| t.key.as_str()).collect::<Vec<_>>(), ["env", "TEAM"]);
    let many: Vec<Tag> = (0..49).map(|i| tag(&format!("t{i}"))).collect();
    assert!(matches!(store.tag_role(id, "deployer", &many).await, Err(StoreError::TooManyTags)));
    store.untag_role(id, "deployer", &["env".to_owned()]).await.unwrap();
    assert_eq!(store.list_role_tags(id, "deployer", None, 10).await.unwrap().items.len(), 1);

    store.delete_role(id, "deployer").await.unwrap();
    assert!(matches!(store.role(id, "deployer").await, Err(StoreError::NoSuchRole)));
    assert!(matches!(store.delete_role(id, "deployer").await, Err(StoreError::NoSuchRole)));
    assert_eq!(store.count_roles(id).await.unwrap(), 2);
}

/// OpenID Connect providers: one per URL; client ids added on two nodes at once are all kept.
async fn oidc_providers_keep_every_client_id_added_at_once(db: TestDb) {
    let (one, two) = (open(&db).await, open(&db).await);
    let (account, _) = one.create_account("a", None).await.unwrap();
    let id = account.account_id.clone();
    let provider = one.create_oidc_provider(&id, "ci.example.com", &[], &[], &[]).await.unwrap();
    assert_eq!(provider.arn(), format!("arn:aws:iam::{id}:oidc-provider/ci.example.com"));
    assert!(matches!(
        one.create_oidc_provider(&id, "ci.example.com", &[], &[], &[]).await,
        Err(StoreError::OidcProviderExists)
    ));
    let adding: Vec<_> = (0..10)
        .map(|n| {
            let (store, id) = (if n % 2 == 0 { one.clone() } else { two.clone() }, id.clone());
            tokio::spawn(async move {
                let client = format!("app-{n}");
                store
                    .change_oidc_provider(&id, "ci.example.com", OidcChange::AddClientId(&client), 100)
                    .await
            })
        })
        .collect();
    for added in adding {
        added.await.unwrap().unwrap();
    }
    assert_eq!(one.oidc_provider(&id, "ci.example.com").await.unwrap().client_ids.len(), 10);
    assert!(matches!(
        one.change_oidc_provider(&id, "ci.example.com", OidcChange::AddClientId("one-more"), 10).await,
        Err(StoreError::TooManyClientIds)
    ));
    one.delete_oidc_provider(&id, "ci.example.com").await.unwrap();
    assert!(one.list_oidc_providers(&id).await.unwrap().is_empty());
}

/// The throttle's records: an attempt counts for its address and its name from the moment it
/// is recorded, until it is taken back, unnamed, or ages out of the window.
async fn signin_attempts_count_for_their_address_and_name_until_taken_back(db: TestDb) {
    let store = open(&db).await;
    let (home, away, name) = ([1u8; 16], [2u8; 16], [9u8; 16]);
    let now = time::OffsetDateTime::now_utc();
    let window = now - time::Duration::minutes(15);
    let old = now - time::Duration::minutes(20);
    store.record_signin_attempt(&home, &name, old, old - time::Duration::minutes(15)).await.unwrap();
    let (first, history) = store.record_signin_attempt(&home, &name, now, window).await.unwrap();
    assert_eq!((history.address_attempts, history.name_attempts), (1, 0), "the aged one is out");
    assert_eq!(history.address_oldest.map(to_ms), Some(to_ms(now)));
    assert!(!history.known_address);
    let (second, history) = store.record_signin_attempt(&away, &name, now, window).await.unwrap();
    assert_eq!((history.address_attempts, history.name_attempts), (1, 1));
    assert_eq!(history.name_latest.map(to_ms), Some(to_ms(now)));
    // Unnamed, it still costs its address, no longer the name.
    store.unname_signin_attempt(second).await.unwrap();
    let (third, history) = store.record_signin_attempt(&away, &name, now, window).await.unwrap();
    assert_eq!((history.address_attempts, history.name_attempts), (2, 1));
    // Taken back, it counts for neither.
    store.withdraw_signin_attempt(first).await.unwrap();
    store.withdraw_signin_attempt(third).await.unwrap();
    let (_, history) = store.record_signin_attempt(&home, &name, now, window).await.unwrap();
    assert_eq!((history.address_attempts, history.name_attempts), (1, 0));
    // Swept once aged: the old attempt goes, the recent ones stay.
    assert_eq!(store.forget_signin_records(window, old).await.unwrap(), 1);
}

/// A name remembers the addresses it signed in from, the most recently used few.
async fn a_name_keeps_its_most_recently_used_addresses(db: TestDb) {
    let store = open(&db).await;
    let name = [5u8; 16];
    let start = time::OffsetDateTime::now_utc() - time::Duration::hours(1);
    for n in 0..5u8 {
        let at = start + time::Duration::minutes(n.into());
        store.remember_signin_address(&name, &[n; 16], at, 3).await.unwrap();
    }
    // The oldest used again is the newest.
    store.remember_signin_address(&name, &[2; 16], start + time::Duration::minutes(10), 3).await.unwrap();
    let since = start + time::Duration::minutes(30);
    let mut known = Vec::new();
    for n in 0..5u8 {
        let (id, history) = store.record_signin_attempt(&[n; 16], &name, since, since).await.unwrap();
        store.withdraw_signin_attempt(id).await.unwrap();
        if history.known_address {
            known.push(n);
        }
    }
    assert_eq!(known, [2, 3, 4]);
    // Unused for long, an address is forgotten.
    let cutoff = start + time::Duration::minutes(4);
    assert_eq!(store.forget_signin_records(start, cutoff).await.unwrap(), 1);
}

/// Attempts racing on two nodes: each is recorded before its history is read, so whatever
/// the interleaving, no more attempts see a history within the limit than the limit.
async fn racing_signin_attempts_on_two_nodes_all_see_each_other(db: TestDb) {
    let (one, two) = (open(&db).await, open(&db).await);
    let now = time::OffsetDateTime::now_utc();
    let since = now - time::Duration::minutes(15);
    let attempts: Vec<_> = (0..20u8)
        .map(|n| {
            let store = if n % 2 == 0 { one.clone() } else { two.clone() };
            tokio::spawn(async move { store.record_signin_attempt(&[3; 16], &[n; 16], now, since).await })
        })
        .collect();
    let mut within = 0;
    let mut most = 0;
    for attempt in attempts {
        let (_, history) = attempt.await.unwrap().unwrap();
        most = most.max(history.address_attempts);
        within += usize::from(history.address_attempts <= 5);
    }
    assert_eq!(most, 20, "the last to read sees every attempt");
    assert!(within <= 5, "{within} attempts saw room for them");
}
}

/// A copy that fails midway (here on a value the target refuses, in a late table) leaves
/// the target as empty as it was, so it can be run again.
#[tokio::test]
async fn a_failed_copy_leaves_the_target_empty() {
    let Some(target) = TestDb::postgres().await else {
        return;
    };
    let source = TestDb::sqlite();
    let store = source.open().await;
    store.create_account("a", None).await.unwrap();
    store.close().await;
    sqlx::any::install_default_drivers();
    let raw = sqlx::AnyPool::connect(source.url()).await.unwrap();
    // SQLite keeps what it is given; PostgreSQL refuses text in a BIGINT column.
    sqlx::query(
        "INSERT INTO signin_known_addresses (name_key, address_key, last_used_at) VALUES (x'01', x'02', 'soon')",
    )
    .execute(&raw)
    .await
    .unwrap();
    raw.close().await;
    assert!(copy_database(source.url(), target.url()).await.is_err());
    let there = sqlx::AnyPool::connect(target.url()).await.unwrap();
    let accounts: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM accounts")
        .fetch_one(&there)
        .await
        .unwrap();
    assert_eq!(accounts, 0, "nothing of the failed copy stays");
}

/// A node still writing to the source while it is copied: the copy waits for the write in
/// flight and includes it, so nothing a node acknowledged is missing from the target.
#[tokio::test]
async fn a_copy_waits_for_the_sources_writes_in_flight_and_includes_them() {
    let mut sources = vec![TestDb::sqlite()];
    sources.extend(TestDb::postgres().await);
    for source in sources {
        source.open().await.close().await;
        let target = TestDb::sqlite();
        sqlx::any::install_default_drivers();
        let raw = sqlx::AnyPool::connect(source.url()).await.unwrap();
        let mut writing = crate::db::begin_write(&raw, Backend::of(source.url()).unwrap())
            .await
            .unwrap();
        sqlx::query("INSERT INTO signin_known_addresses (name_key, address_key, last_used_at) VALUES ($1, $2, 1)")
            .bind(vec![1u8])
            .bind(vec![2u8])
            .execute(&mut *writing)
            .await
            .unwrap();
        let (from, to) = (source.url().to_owned(), target.url().to_owned());
        let copy = tokio::spawn(async move { copy_database(&from, &to).await });
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        assert!(!copy.is_finished(), "the copy waits for the write in flight");
        writing.commit().await.unwrap();
        let report = copy.await.unwrap().unwrap();
        let known = report.tables.iter().find(|(t, _)| *t == "signin_known_addresses");
        assert_eq!(known, Some(&("signin_known_addresses", 1)), "{}", source.url());
        raw.close().await;
    }
}

/// The health check and the counters' poll have a connection of their own: a node whose pool
/// is busy with requests still reports its database reachable and still hears of changes.
#[tokio::test]
async fn a_busy_pool_neither_fails_the_health_check_nor_delays_changes() {
    let Some(db) = TestDb::postgres().await else {
        return;
    };
    let options = DatabaseOptions {
        pool_size: 2,
        acquire_timeout: std::time::Duration::from_secs(5),
        ..DatabaseOptions::default()
    };
    let sealer = Sealer::load_or_create(db.dir()).unwrap();
    let store = Store::open_with(db.url(), db.dir(), sealer, options).await.unwrap();
    // Another node's bucket, read into this node's cache before its pool gets busy.
    let other = db.open().await;
    let (account, _) = other.create_account("a", None).await.unwrap();
    other
        .create_bucket(&account.account_id, "b", "us-east-1")
        .await
        .unwrap();
    store.bucket("b").await.unwrap().unwrap();
    assert!(store.inner.buckets.get("b").is_ok());
    let busy = (
        store.inner.reader.acquire().await.unwrap(),
        store.inner.reader.acquire().await.unwrap(),
    );
    assert!(store.ping(std::time::Duration::from_secs(1)).await);
    // Nor does it hold back a change another node made: the counters are polled on it too.
    other.set_bucket_policy("b", Some("{}")).await.unwrap();
    tokio::time::sleep(POLL_INTERVAL * 4).await;
    assert!(
        store.inner.buckets.get("b").is_err(),
        "the busy node dropped the changed bucket"
    );
    drop(busy);
}

/// A write that finds SQLite's write lock held by another process (a `coffer db copy`) past
/// the busy timeout is unavailable (503), not a server fault.
#[tokio::test]
async fn a_write_locked_out_of_sqlite_is_unavailable() {
    let db = TestDb::sqlite();
    let store = db.open().await;
    let (account, _) = store.create_account("a", None).await.unwrap();
    let other = sqlx::AnyPool::connect(db.url()).await.unwrap();
    let holding = crate::db::begin_write(&other, Backend::Sqlite).await.unwrap();
    let err = store.create_group(&account.account_id, "g", "/").await.unwrap_err();
    assert!(err.is_unavailable(), "{err:?}");
    drop(holding);
    store.create_group(&account.account_id, "g", "/").await.unwrap();
}
