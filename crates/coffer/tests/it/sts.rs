//! STS GetCallerIdentity for root and IAM users.

use crate::harness::{Coffer, ROOT_KEY_ID, ROOT_SECRET};

#[tokio::test]
async fn root_and_users_learn_who_they_are_in_any_region() {
    let coffer = Coffer::start();
    let me = coffer
        .sts(ROOT_KEY_ID, ROOT_SECRET, "ap-southeast-1")
        .get_caller_identity()
        .send()
        .await
        .unwrap();
    let account = me.account().unwrap().to_owned();
    assert_eq!(account.len(), 12);
    assert_eq!(me.arn(), Some(format!("arn:aws:iam::{account}:root").as_str()));
    assert_eq!(me.user_id(), Some(account.as_str()));

    coffer
        .root_iam()
        .create_user()
        .user_name("alice")
        .path("/eng/")
        .send()
        .await
        .unwrap();
    let key = coffer
        .root_iam()
        .create_access_key()
        .user_name("alice")
        .send()
        .await
        .unwrap();
    let key = key.access_key().unwrap();
    let alice = coffer.sts(key.access_key_id(), key.secret_access_key(), "sa-east-1");
    let me = alice.get_caller_identity().send().await.unwrap();
    assert_eq!(
        me.arn(),
        Some(format!("arn:aws:iam::{account}:user/eng/alice").as_str())
    );
    assert!(me.user_id().unwrap().starts_with("AIDA"));
    assert_eq!(me.account(), Some(account.as_str()));
}

#[tokio::test]
async fn sts_operations_not_built_yet_answer_not_implemented() {
    let coffer = Coffer::start();
    let err = coffer
        .sts(ROOT_KEY_ID, ROOT_SECRET, "us-east-1")
        .get_session_token()
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        err.as_service_error()
            .and_then(|e| aws_sdk_sts::error::ProvideErrorMetadata::code(e)),
        Some("NotImplemented")
    );
}
