//! The key ring on both backends.

use crate::test_backends::on_both_backends;
use crate::*;

on_both_backends! {
async fn keys_are_found_by_id_arn_and_alias_within_their_account(db: TestDb) {
    let store = db.open().await;
    let (one, _) = store.create_account("one", None).await.unwrap();
    let (two, _) = store.create_account("two", None).await.unwrap();
    let key = store.create_kms_key(&one.account_id, "eu-west-1", "app data").await.unwrap();
    assert_eq!(key.state, KmsKeyState::Enabled);
    assert_eq!(key.arn(), format!("arn:aws:kms:eu-west-1:{}:key/{}", one.account_id, key.key_id));
    store.create_kms_alias(&one.account_id, "alias/app", &key.key_id).await.unwrap();
    for reference in [key.key_id.clone(), key.arn(), "alias/app".to_owned(), format!("arn:aws:kms:eu-west-1:{}:alias/app", one.account_id)] {
        let found = store.kms_key(&one.account_id, &reference).await.unwrap();
        assert_eq!(found.map(|k| k.key_id), Some(key.key_id.clone()), "{reference}");
    }
    // Another account finds it only by ARN (its own grants then decide), never by id or alias.
    assert!(store.kms_key(&two.account_id, &key.key_id).await.unwrap().is_none());
    assert!(store.kms_key(&two.account_id, "alias/app").await.unwrap().is_none());
    assert!(store.kms_key(&two.account_id, &key.arn()).await.unwrap().is_some());
    assert!(matches!(
        store.create_kms_alias(&one.account_id, "alias/app", &key.key_id).await,
        Err(StoreError::KmsAliasExists)
    ));
    assert!(matches!(
        store.create_kms_alias(&two.account_id, "alias/theirs", &key.key_id).await,
        Err(StoreError::NoSuchKmsKey)
    ));
    let aliases = store.list_kms_aliases(&one.account_id, None).await.unwrap();
    assert_eq!(aliases.iter().map(|a| a.name.as_str()).collect::<Vec<_>>(), ["alias/app"]);
    store.delete_kms_alias(&one.account_id, "alias/app").await.unwrap();
    assert!(store.kms_key(&one.account_id, "alias/app").await.unwrap().is_none());
}

async fn a_data_key_opens_only_under_its_key_and_binding(db: TestDb) {
    let store = db.open().await;
    let (account, _) = store.create_account("a", None).await.unwrap();
    let key = store.create_kms_key(&account.account_id, "us-east-1", "").await.unwrap();
    let other = store.create_kms_key(&account.account_id, "us-east-1", "").await.unwrap();
    let data_key = DataKey::random();
    let sealed = key.seal_data_key("bucket|object", &data_key).unwrap();
    assert_eq!(key.open_data_key("bucket|object", &sealed).unwrap().0, data_key.0);
    assert!(key.open_data_key("bucket|other", &sealed).is_err());
    assert!(other.open_data_key("bucket|object", &sealed).is_err());
    // The material itself is sealed at rest: the key read back (on a fresh store) opens it.
    let reopened = db.open().await;
    let again = reopened.kms_key(&account.account_id, &key.key_id).await.unwrap().unwrap();
    assert_eq!(again.open_data_key("bucket|object", &sealed).unwrap().0, data_key.0);
}

async fn the_aws_managed_key_is_made_once(db: TestDb) {
    let store = db.open().await;
    let (account, _) = store.create_account("a", None).await.unwrap();
    let first = store.aws_managed_s3_key(&account.account_id, "us-east-1").await.unwrap();
    let second = store.aws_managed_s3_key(&account.account_id, "us-east-1").await.unwrap();
    assert_eq!(first.key_id, second.key_id);
    assert_eq!(first.managed.as_deref(), Some(AWS_MANAGED_S3));
    let listed = store.list_kms_keys(&account.account_id, None, 100).await.unwrap();
    assert_eq!(listed.len(), 1);
}

async fn a_key_past_its_deletion_date_is_gone(db: TestDb) {
    let store = db.open().await;
    let (account, _) = store.create_account("a", None).await.unwrap();
    let key = store.create_kms_key(&account.account_id, "us-east-1", "").await.unwrap();
    let soon = time::OffsetDateTime::now_utc() + time::Duration::days(7);
    store.set_kms_key_state(&account.account_id, &key.key_id, &[KmsKeyState::Enabled], KmsKeyState::PendingDeletion, Some(soon)).await.unwrap();
    let pending = store.kms_key(&account.account_id, &key.key_id).await.unwrap().unwrap();
    assert_eq!(pending.state, KmsKeyState::PendingDeletion);
    let past = time::OffsetDateTime::now_utc() - time::Duration::seconds(1);
    // A change from a state the key is no longer in is refused (another request won).
    assert!(matches!(
        store.set_kms_key_state(&account.account_id, &key.key_id, &[KmsKeyState::Enabled], KmsKeyState::Disabled, None).await,
        Err(StoreError::PreconditionFailed)
    ));
    let live = store.create_kms_key(&account.account_id, "us-east-1", "").await.unwrap();
    store.create_kms_alias(&account.account_id, "alias/doomed", &key.key_id).await.unwrap();
    store.set_kms_key_state(&account.account_id, &key.key_id, &[KmsKeyState::PendingDeletion], KmsKeyState::PendingDeletion, Some(past)).await.unwrap();
    assert!(store.kms_key(&account.account_id, &key.key_id).await.unwrap().is_none());
    // Listing pages past it: the live key is the first page's whole.
    let first = store.list_kms_keys(&account.account_id, None, 1).await.unwrap();
    assert_eq!(first.iter().map(|k| k.key_id.clone()).collect::<Vec<_>>(), std::slice::from_ref(&live.key_id));
    // Its material is destroyed and its aliases gone once it was met.
    assert!(store.list_kms_aliases(&account.account_id, None).await.unwrap().is_empty());
    // An ARN naming another region names nothing.
    let elsewhere = live.arn().replace(":us-east-1:", ":eu-west-1:");
    assert!(store.kms_key(&account.account_id, &elsewhere).await.unwrap().is_none());
}
}
