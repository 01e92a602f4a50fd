//! IAM through the AWS SDK for Rust: every supported operation and the errors AWS defines.

use aws_sdk_iam::types::{StatusType, Tag};

use crate::harness::{Coffer, code};

#[tokio::test]
async fn create_get_list_update_and_delete_a_user() {
    let coffer = Coffer::start();
    let iam = coffer.root_iam();
    let account = coffer.account_id().await;
    let created = iam.create_user().user_name("alice").path("/eng/").send().await.unwrap();
    let user = created.user().unwrap();
    assert_eq!(user.arn(), format!("arn:aws:iam::{account}:user/eng/alice"));
    assert!(user.user_id().starts_with("AIDA") && user.user_id().len() == 21);
    assert_eq!(user.path(), "/eng/");

    let got = iam.get_user().user_name("ALICE").send().await.unwrap();
    assert_eq!(
        got.user().unwrap().user_name(),
        "alice",
        "names are looked up without case"
    );

    iam.update_user()
        .user_name("alice")
        .new_user_name("alicia")
        .new_path("/ops/")
        .send()
        .await
        .unwrap();
    let err = iam.get_user().user_name("alice").send().await.unwrap_err();
    assert_eq!(code(&err), "NoSuchEntity");
    let moved = iam.get_user().user_name("alicia").send().await.unwrap();
    assert_eq!(
        moved.user().unwrap().arn(),
        format!("arn:aws:iam::{account}:user/ops/alicia")
    );
    assert_eq!(moved.user().unwrap().user_id(), user.user_id(), "renaming keeps the id");

    iam.delete_user().user_name("alicia").send().await.unwrap();
    assert!(iam.list_users().send().await.unwrap().users().is_empty());
}

#[tokio::test]
async fn user_names_are_unique_without_regard_to_case() {
    let coffer = Coffer::start();
    let iam = coffer.root_iam();
    iam.create_user().user_name("Bob").send().await.unwrap();
    let err = iam.create_user().user_name("bob").send().await.unwrap_err();
    assert_eq!(code(&err), "EntityAlreadyExists");
    iam.create_user().user_name("carol").send().await.unwrap();
    let err = iam
        .update_user()
        .user_name("carol")
        .new_user_name("BOB")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "EntityAlreadyExists");
}

#[tokio::test]
async fn names_and_paths_are_validated_as_aws_does() {
    let coffer = Coffer::start();
    let iam = coffer.root_iam();
    for bad in ["has space", "slash/", &"a".repeat(65)] {
        let err = iam.create_user().user_name(bad).send().await.unwrap_err();
        assert_eq!(code(&err), "ValidationError", "{bad}");
    }
    for bad in ["eng", "/eng", "eng/"] {
        let err = iam.create_user().user_name("ok").path(bad).send().await.unwrap_err();
        assert_eq!(code(&err), "ValidationError", "{bad}");
    }
    let err = iam.list_users().path_prefix("no-slash").send().await.unwrap_err();
    assert_eq!(code(&err), "ValidationError");
    let err = iam.list_users().max_items(0).send().await.unwrap_err();
    assert_eq!(code(&err), "ValidationError");
}

#[tokio::test]
async fn list_users_pages_with_marker_and_filters_by_path_prefix() {
    let coffer = Coffer::start();
    let iam = coffer.root_iam();
    for i in 0..7 {
        let path = if i % 2 == 0 { "/even/" } else { "/odd/" };
        iam.create_user()
            .user_name(format!("user{i}"))
            .path(path)
            .send()
            .await
            .unwrap();
    }
    let mut names = Vec::new();
    let mut marker: Option<String> = None;
    let mut pages = 0;
    loop {
        let page = iam
            .list_users()
            .max_items(3)
            .set_marker(marker.clone())
            .send()
            .await
            .unwrap();
        pages += 1;
        names.extend(page.users().iter().map(|u| u.user_name().to_owned()));
        if !page.is_truncated() {
            assert!(page.marker().is_none());
            break;
        }
        marker = page.marker().map(str::to_owned);
        assert!(marker.is_some(), "a truncated page carries a marker");
    }
    assert_eq!(pages, 3);
    assert_eq!(names, (0..7).map(|i| format!("user{i}")).collect::<Vec<_>>());
    let odd = iam.list_users().path_prefix("/odd/").send().await.unwrap();
    assert_eq!(odd.users().len(), 3);
    // The SDK's paginator follows the same markers.
    let all: Vec<_> = iam
        .list_users()
        .max_items(2)
        .into_paginator()
        .items()
        .send()
        .collect::<Vec<_>>()
        .await;
    assert_eq!(all.len(), 7);
}

#[tokio::test]
async fn access_keys_are_created_listed_deactivated_and_deleted() {
    let coffer = Coffer::start();
    let iam = coffer.root_iam();
    iam.create_user().user_name("alice").send().await.unwrap();
    let created = iam.create_access_key().user_name("alice").send().await.unwrap();
    let key = created.access_key().unwrap();
    assert!(key.access_key_id().starts_with("AKIA") && key.access_key_id().len() == 20);
    assert_eq!(key.secret_access_key().len(), 40);
    assert_eq!(key.status(), &StatusType::Active);
    assert_eq!(key.user_name(), "alice");

    let listed = iam.list_access_keys().user_name("alice").send().await.unwrap();
    assert_eq!(listed.access_key_metadata().len(), 1);
    assert_eq!(
        listed.access_key_metadata()[0].access_key_id(),
        Some(key.access_key_id())
    );

    // The key works, then stops working when deactivated, then works again.
    let sts = coffer.sts(key.access_key_id(), key.secret_access_key(), "eu-central-1");
    sts.get_caller_identity().send().await.unwrap();
    iam.update_access_key()
        .user_name("alice")
        .access_key_id(key.access_key_id())
        .status(StatusType::Inactive)
        .send()
        .await
        .unwrap();
    let err = sts.get_caller_identity().send().await.unwrap_err();
    assert_eq!(
        err.as_service_error()
            .and_then(|e| aws_sdk_sts::error::ProvideErrorMetadata::code(e)),
        Some("InvalidClientTokenId")
    );
    iam.update_access_key()
        .user_name("alice")
        .access_key_id(key.access_key_id())
        .status(StatusType::Active)
        .send()
        .await
        .unwrap();
    sts.get_caller_identity().send().await.unwrap();

    iam.delete_access_key()
        .user_name("alice")
        .access_key_id(key.access_key_id())
        .send()
        .await
        .unwrap();
    assert!(
        sts.get_caller_identity().send().await.is_err(),
        "a deleted key stops at once"
    );
    let err = iam
        .delete_access_key()
        .user_name("alice")
        .access_key_id(key.access_key_id())
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "NoSuchEntity");
}

#[tokio::test]
async fn the_secret_is_returned_once_and_never_listed() {
    let coffer = Coffer::start();
    let (key_id, secret) = coffer.user_with_key("alice").await;
    let raw = crate::auth::signed_query(
        &coffer,
        "iam",
        "us-east-1",
        "Action=ListAccessKeys&UserName=alice&Version=2010-05-08",
    )
    .await;
    assert_eq!(raw.0, 200);
    assert!(raw.1.contains(&key_id));
    assert!(!raw.1.contains(&secret), "ListAccessKeys never shows the secret");
    let raw = crate::auth::signed_query(
        &coffer,
        "iam",
        "us-east-1",
        "Action=GetUser&UserName=alice&Version=2010-05-08",
    )
    .await;
    assert!(!raw.1.contains(&secret));
}

#[tokio::test]
async fn a_user_has_at_most_two_access_keys() {
    let coffer = Coffer::start();
    let iam = coffer.root_iam();
    iam.create_user().user_name("alice").send().await.unwrap();
    for _ in 0..2 {
        iam.create_access_key().user_name("alice").send().await.unwrap();
    }
    let err = iam.create_access_key().user_name("alice").send().await.unwrap_err();
    assert_eq!(code(&err), "LimitExceeded");
}

#[tokio::test]
async fn deleting_a_user_with_keys_is_delete_conflict() {
    let coffer = Coffer::start();
    let iam = coffer.root_iam();
    let (key_id, _) = coffer.user_with_key("alice").await;
    let err = iam.delete_user().user_name("alice").send().await.unwrap_err();
    assert_eq!(code(&err), "DeleteConflict");
    iam.delete_access_key()
        .user_name("alice")
        .access_key_id(key_id)
        .send()
        .await
        .unwrap();
    iam.delete_user().user_name("alice").send().await.unwrap();
}

#[tokio::test]
async fn operations_on_missing_users_are_no_such_entity() {
    let coffer = Coffer::start();
    let iam = coffer.root_iam();
    assert_eq!(
        code(&iam.get_user().user_name("ghost").send().await.unwrap_err()),
        "NoSuchEntity"
    );
    assert_eq!(
        code(&iam.delete_user().user_name("ghost").send().await.unwrap_err()),
        "NoSuchEntity"
    );
    assert_eq!(
        code(&iam.create_access_key().user_name("ghost").send().await.unwrap_err()),
        "NoSuchEntity"
    );
    assert_eq!(
        code(&iam.list_access_keys().user_name("ghost").send().await.unwrap_err()),
        "NoSuchEntity"
    );
    assert_eq!(
        code(&iam.list_user_tags().user_name("ghost").send().await.unwrap_err()),
        "NoSuchEntity"
    );
    let err = iam
        .update_user()
        .user_name("ghost")
        .new_path("/x/")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "NoSuchEntity");
    assert_eq!(
        err.as_service_error().unwrap().meta().message(),
        Some("The user with name ghost cannot be found.")
    );
}

#[tokio::test]
async fn without_a_user_name_key_operations_address_the_callers_own_keys() {
    let coffer = Coffer::start();
    let iam = coffer.root_iam();
    // The root user's keys: the configured one, then one more, then the limit.
    let listed = iam.list_access_keys().send().await.unwrap();
    assert_eq!(listed.access_key_metadata().len(), 1);
    let second = iam.create_access_key().send().await.unwrap();
    let second_id = second.access_key().unwrap().access_key_id().to_owned();
    assert_eq!(
        iam.list_access_keys().send().await.unwrap().access_key_metadata().len(),
        2
    );
    assert_eq!(
        code(&iam.create_access_key().send().await.unwrap_err()),
        "LimitExceeded"
    );
    let summary = iam.get_account_summary().send().await.unwrap();
    assert_eq!(
        summary.summary_map().unwrap()[&aws_sdk_iam::types::SummaryKeyType::AccountAccessKeysPresent],
        1
    );
    iam.delete_access_key().access_key_id(&second_id).send().await.unwrap();
    assert_eq!(
        iam.list_access_keys().send().await.unwrap().access_key_metadata().len(),
        1
    );
}

#[tokio::test]
async fn get_user_without_a_name_is_the_caller() {
    let coffer = Coffer::start();
    let account = coffer.account_id().await;
    let me = coffer.root_iam().get_user().send().await.unwrap();
    assert_eq!(me.user().unwrap().arn(), format!("arn:aws:iam::{account}:root"));
    assert_eq!(me.user().unwrap().user_id(), account);
}

#[tokio::test]
async fn access_key_last_used_records_service_and_region() {
    let coffer = Coffer::start();
    let iam = coffer.root_iam();
    let (key_id, secret) = coffer.user_with_key("alice").await;
    let before = iam
        .get_access_key_last_used()
        .access_key_id(&key_id)
        .send()
        .await
        .unwrap();
    let used = before.access_key_last_used().unwrap();
    assert!(used.last_used_date().is_none());
    assert_eq!(used.service_name(), "N/A");
    assert_eq!(before.user_name(), Some("alice"));

    coffer
        .sts(&key_id, &secret, "ap-southeast-1")
        .get_caller_identity()
        .send()
        .await
        .unwrap();
    let after = iam
        .get_access_key_last_used()
        .access_key_id(&key_id)
        .send()
        .await
        .unwrap();
    let used = after.access_key_last_used().unwrap();
    assert!(used.last_used_date().is_some());
    assert_eq!(used.service_name(), "sts");
    assert_eq!(used.region(), "ap-southeast-1");

    let err = iam
        .get_access_key_last_used()
        .access_key_id("AKIAAAAAAAAAAAAAAAAA")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "NoSuchEntity");
}

#[tokio::test]
async fn user_tags_are_added_listed_overwritten_and_removed() {
    let coffer = Coffer::start();
    let iam = coffer.root_iam();
    let tag = |k: &str, v: &str| Tag::builder().key(k).value(v).build().unwrap();
    iam.create_user()
        .user_name("alice")
        .tags(tag("team", "storage"))
        .send()
        .await
        .unwrap();
    iam.tag_user()
        .user_name("alice")
        .tags(tag("Team", "iam"))
        .tags(tag("cost", "42"))
        .send()
        .await
        .unwrap();
    let tags = iam.list_user_tags().user_name("alice").send().await.unwrap();
    let pairs: Vec<(&str, &str)> = tags.tags().iter().map(|t| (t.key(), t.value())).collect();
    assert_eq!(pairs, [("cost", "42"), ("Team", "iam")]);
    let user = iam.get_user().user_name("alice").send().await.unwrap();
    assert_eq!(user.user().unwrap().tags().len(), 2, "GetUser returns the tags");
    iam.untag_user()
        .user_name("alice")
        .tag_keys("TEAM")
        .send()
        .await
        .unwrap();
    assert_eq!(
        iam.list_user_tags()
            .user_name("alice")
            .send()
            .await
            .unwrap()
            .tags()
            .len(),
        1
    );
    let err = iam
        .tag_user()
        .user_name("alice")
        .tags(tag("bad;key", "v"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "ValidationError");
    let mut many = iam.tag_user().user_name("alice");
    for i in 0..50 {
        many = many.tags(tag(&format!("k{i}"), "v"));
    }
    assert_eq!(code(&many.send().await.unwrap_err()), "LimitExceeded", "51 tags in all");
}

#[tokio::test]
async fn account_aliases_are_unique_across_accounts() {
    let coffer = Coffer::start();
    let iam = coffer.root_iam();
    assert!(
        iam.list_account_aliases()
            .send()
            .await
            .unwrap()
            .account_aliases()
            .is_empty()
    );
    iam.create_account_alias()
        .account_alias("holiday-co")
        .send()
        .await
        .unwrap();
    assert_eq!(
        iam.list_account_aliases().send().await.unwrap().account_aliases(),
        ["holiday-co"]
    );

    let other = coffer.run_cli(&["account", "create", "other"]);
    let other: serde_json::Value = serde_json::from_slice(&other.stdout).unwrap();
    let other_iam = coffer.iam(
        other["AccessKeyId"].as_str().unwrap(),
        other["SecretAccessKey"].as_str().unwrap(),
    );
    let err = other_iam
        .create_account_alias()
        .account_alias("holiday-co")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "EntityAlreadyExists");
    let err = iam
        .create_account_alias()
        .account_alias("Bad_Alias")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "ValidationError");

    let err = iam
        .delete_account_alias()
        .account_alias("not-mine")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "NoSuchEntity");
    iam.delete_account_alias()
        .account_alias("holiday-co")
        .send()
        .await
        .unwrap();
    other_iam
        .create_account_alias()
        .account_alias("holiday-co")
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn account_summary_counts_users_groups_roles_policies_and_providers() {
    let coffer = Coffer::start();
    let iam = coffer.root_iam();
    iam.create_user().user_name("a").send().await.unwrap();
    iam.create_user().user_name("b").send().await.unwrap();
    iam.create_group().group_name("g").send().await.unwrap();
    let doc = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}}"#;
    let policy = iam
        .create_policy()
        .policy_name("p")
        .policy_document(doc)
        .send()
        .await
        .unwrap();
    iam.create_policy_version()
        .policy_arn(policy.policy().unwrap().arn().unwrap())
        .policy_document(doc)
        .send()
        .await
        .unwrap();
    iam.create_open_id_connect_provider()
        .url("https://ci.example.com")
        .client_id_list("sts.amazonaws.com")
        .send()
        .await
        .unwrap();
    let summary = iam.get_account_summary().send().await.unwrap();
    let map = summary.summary_map().unwrap();
    use aws_sdk_iam::types::SummaryKeyType as K;
    assert_eq!(map[&K::Users], 2);
    assert_eq!(map[&K::Groups], 1);
    assert_eq!(map[&K::Policies], 1);
    assert_eq!(map[&K::PolicyVersionsInUse], 2);
    assert_eq!(map[&K::from("Providers")], 1);
    assert_eq!(map[&K::AccessKeysPerUserQuota], 2);
    assert_eq!(map[&K::UsersQuota], 5000);
}

#[tokio::test]
async fn a_user_without_policies_is_denied_every_iam_action() {
    let coffer = Coffer::start();
    let (key_id, secret) = coffer.user_with_key("alice").await;
    let iam = coffer.iam(&key_id, &secret);
    let account = coffer.account_id().await;
    let err = iam.list_users().send().await.unwrap_err();
    assert_eq!(code(&err), "AccessDenied");
    assert_eq!(
        err.as_service_error().unwrap().meta().message().unwrap(),
        format!(
            "User: arn:aws:iam::{account}:user/alice is not authorized to perform: iam:ListUsers on resource: \
             arn:aws:iam::{account}:user/ because no identity-based policy allows the iam:ListUsers action"
        )
    );
    assert_eq!(
        code(&iam.create_user().user_name("mallory").send().await.unwrap_err()),
        "AccessDenied"
    );
    assert_eq!(code(&iam.create_access_key().send().await.unwrap_err()), "AccessDenied");
    assert_eq!(code(&iam.get_user().send().await.unwrap_err()), "AccessDenied");
    assert_eq!(
        code(&iam.get_account_summary().send().await.unwrap_err()),
        "AccessDenied"
    );
    assert_eq!(
        code(&iam.delete_access_key().access_key_id(&key_id).send().await.unwrap_err()),
        "AccessDenied"
    );
    // Nothing was created or changed by the refused calls.
    let users = coffer.root_iam().list_users().send().await.unwrap();
    assert_eq!(users.users().len(), 1);
}

#[tokio::test]
async fn aws_operations_not_built_yet_answer_not_implemented() {
    let coffer = Coffer::start();
    let err = coffer
        .root_iam()
        .create_instance_profile()
        .instance_profile_name("web")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "NotImplemented");
    assert_eq!(err.raw_response().unwrap().status().as_u16(), 501);
}

#[tokio::test]
async fn keys_survive_a_restart_and_the_secret_is_never_returned_again() {
    let mut coffer = Coffer::start();
    let (key_id, secret) = coffer.user_with_key("alice").await;
    coffer
        .sts(&key_id, &secret, "us-east-1")
        .get_caller_identity()
        .send()
        .await
        .unwrap();
    coffer.restart();
    let me = coffer
        .sts(&key_id, &secret, "us-east-1")
        .get_caller_identity()
        .send()
        .await
        .unwrap();
    assert!(me.arn().unwrap().ends_with(":user/alice"));
    let used = coffer
        .root_iam()
        .get_access_key_last_used()
        .access_key_id(&key_id)
        .send()
        .await
        .unwrap();
    assert!(
        used.access_key_last_used().unwrap().last_used_date().is_some(),
        "key use flushed on shutdown"
    );
    assert!(!coffer.first_stdout.contains(&secret));
}

#[tokio::test]
async fn committed_writes_survive_kill_9() {
    let mut coffer = Coffer::start();
    let (key_id, secret) = coffer.user_with_key("alice").await;
    coffer.root_iam().create_user().user_name("bob").send().await.unwrap();
    coffer.kill_and_restart();
    let users = coffer.root_iam().list_users().send().await.unwrap();
    assert_eq!(users.users().len(), 2);
    coffer
        .sts(&key_id, &secret, "us-east-1")
        .get_caller_identity()
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn secrets_appear_nowhere_in_the_data_dir() {
    let mut coffer = Coffer::start();
    let (_, secret) = coffer.user_with_key("alice").await;
    let (_, other_secret) = coffer.user_with_key("bob").await;
    coffer.stop();
    let files = coffer.data_files();
    if coffer.database_url().is_none() {
        assert!(files.iter().any(|f| f.ends_with("meta.db")));
    }
    let database = coffer.database_bytes();
    assert!(database.len() > 1000);
    for needle in [&secret, &other_secret, &crate::harness::ROOT_SECRET.to_owned()] {
        assert!(
            !database.windows(needle.len()).any(|w| w == needle.as_bytes()),
            "the database holds a secret"
        );
    }
    for file in files {
        let bytes = std::fs::read(&file).unwrap();
        for needle in [&secret, &other_secret, &crate::harness::ROOT_SECRET.to_owned()] {
            assert!(
                !bytes.windows(needle.len()).any(|w| w == needle.as_bytes()),
                "{} holds a secret",
                file.display()
            );
        }
    }
}
