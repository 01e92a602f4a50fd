//! Identity-based policies: inline, group, AWS managed and customer managed policies, their
//! versions, permissions boundaries, and IAM governed by IAM's own policies.

use aws_sdk_s3::primitives::ByteStream;

use super::{READ_ONLY_S3, grant, photos};
use crate::harness::{Coffer, assert_aws_error, code};

#[tokio::test]
async fn a_groups_policy_applies_to_its_members_until_they_leave() {
    let coffer = Coffer::start();
    photos(&coffer).await;
    let iam = coffer.root_iam();
    let (key, secret) = coffer.user_with_key("alice").await;
    let alice = coffer.s3(&key, &secret);
    // No policy yet: denied, as in AWS.
    let err = alice
        .list_objects_v2()
        .bucket("holiday-photos")
        .send()
        .await
        .unwrap_err();
    assert_aws_error(&err, "AccessDenied", 403);

    iam.create_group().group_name("readers").send().await.unwrap();
    iam.put_group_policy()
        .group_name("readers")
        .policy_name("read")
        .policy_document(READ_ONLY_S3)
        .send()
        .await
        .unwrap();
    iam.add_user_to_group()
        .group_name("readers")
        .user_name("alice")
        .send()
        .await
        .unwrap();
    let listed = alice.list_objects_v2().bucket("holiday-photos").send().await.unwrap();
    assert_eq!(listed.key_count(), Some(3));
    alice
        .get_object()
        .bucket("holiday-photos")
        .key("beach.jpg")
        .send()
        .await
        .unwrap();
    let err = alice
        .put_object()
        .bucket("holiday-photos")
        .key("x")
        .body(ByteStream::from_static(b"x"))
        .send()
        .await
        .unwrap_err();
    assert_aws_error(&err, "AccessDenied", 403);

    let groups = iam.list_groups_for_user().user_name("alice").send().await.unwrap();
    assert_eq!(groups.groups()[0].group_name(), "readers");
    let group = iam.get_group().group_name("readers").send().await.unwrap();
    assert_eq!(group.users()[0].user_name(), "alice");
    // Deleting what is in use is a conflict, as in IAM.
    let err = iam.delete_group().group_name("readers").send().await.unwrap_err();
    assert_eq!(code(&err), "DeleteConflict");
    let err = iam.delete_user().user_name("alice").send().await.unwrap_err();
    assert_eq!(code(&err), "DeleteConflict");

    // Leaving the group revokes at once.
    iam.remove_user_from_group()
        .group_name("readers")
        .user_name("alice")
        .send()
        .await
        .unwrap();
    let err = alice
        .list_objects_v2()
        .bucket("holiday-photos")
        .send()
        .await
        .unwrap_err();
    assert_aws_error(&err, "AccessDenied", 403);
}

#[tokio::test]
async fn the_home_folder_policy_limits_bob_to_his_folder() {
    let coffer = Coffer::start();
    photos(&coffer).await;
    let iam = coffer.root_iam();
    let (key, secret) = coffer.user_with_key("bob").await;
    // The IAM user guide's home-folder policy, with its s3:prefix condition on ListBucket.
    let home = r#"{"Version":"2012-10-17","Statement":[
        {"Sid":"ListOwnFolder","Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::holiday-photos",
         "Condition":{"StringLike":{"s3:prefix":["home/${aws:username}/*","home/${aws:username}/"]}}},
        {"Sid":"OwnObjects","Effect":"Allow","Action":["s3:GetObject","s3:PutObject"],
         "Resource":"arn:aws:s3:::holiday-photos/home/${aws:username}/*"}]}"#;
    grant(&iam, "bob", "home", home).await;
    let bob = coffer.s3(&key, &secret);
    let mine = bob
        .list_objects_v2()
        .bucket("holiday-photos")
        .prefix("home/bob/")
        .send()
        .await
        .unwrap();
    assert_eq!(mine.key_count(), Some(1));
    let err = bob
        .list_objects_v2()
        .bucket("holiday-photos")
        .prefix("home/alice/")
        .send()
        .await
        .unwrap_err();
    assert_aws_error(&err, "AccessDenied", 403);
    let err = bob.list_objects_v2().bucket("holiday-photos").send().await.unwrap_err();
    assert_aws_error(&err, "AccessDenied", 403);
    bob.put_object()
        .bucket("holiday-photos")
        .key("home/bob/new.txt")
        .body(ByteStream::from_static(b"n"))
        .send()
        .await
        .unwrap();
    let err = bob
        .get_object()
        .bucket("holiday-photos")
        .key("home/alice/notes.txt")
        .send()
        .await
        .unwrap_err();
    assert_aws_error(&err, "AccessDenied", 403);

    // The document comes back URL-encoded, as IAM returns it.
    let got = iam
        .get_user_policy()
        .user_name("bob")
        .policy_name("home")
        .send()
        .await
        .unwrap();
    assert!(got.policy_document().contains("%22Version%22"));
    let listed = iam.list_user_policies().user_name("bob").send().await.unwrap();
    assert_eq!(listed.policy_names(), ["home"]);
    iam.delete_user_policy()
        .user_name("bob")
        .policy_name("home")
        .send()
        .await
        .unwrap();
    let err = bob
        .list_objects_v2()
        .bucket("holiday-photos")
        .prefix("home/bob/")
        .send()
        .await
        .unwrap_err();
    assert_aws_error(&err, "AccessDenied", 403);
}

#[tokio::test]
async fn a_group_deny_beats_a_user_allow_and_iam_is_governed_too() {
    let coffer = Coffer::start();
    let iam = coffer.root_iam();
    let (key, secret) = coffer.user_with_key("carol").await;
    let admin = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}"#;
    grant(&iam, "carol", "admin", admin).await;
    let carol = coffer.iam(&key, &secret);
    carol.list_users().send().await.unwrap();
    carol.create_user().user_name("dave").send().await.unwrap();

    iam.create_group().group_name("no-user-admin").send().await.unwrap();
    let deny = r#"{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":["iam:CreateUser","iam:DeleteUser"],"Resource":"*"}}"#;
    iam.put_group_policy()
        .group_name("no-user-admin")
        .policy_name("deny")
        .policy_document(deny)
        .send()
        .await
        .unwrap();
    iam.add_user_to_group()
        .group_name("no-user-admin")
        .user_name("carol")
        .send()
        .await
        .unwrap();
    let err = carol.create_user().user_name("erin").send().await.unwrap_err();
    assert_aws_error(&err, "AccessDenied", 403);
    let message = err
        .as_service_error()
        .and_then(|e| e.meta().message())
        .unwrap_or_default()
        .to_owned();
    assert!(
        message.contains("iam:CreateUser") && message.contains("explicit deny"),
        "{message}"
    );
    carol.list_users().send().await.unwrap();
}

#[tokio::test]
async fn malformed_and_oversized_policies_are_refused() {
    let coffer = Coffer::start();
    let iam = coffer.root_iam();
    iam.create_user().user_name("frank").send().await.unwrap();
    let put = |document: String| {
        iam.put_user_policy()
            .user_name("frank")
            .policy_name("p")
            .policy_document(document)
            .send()
    };
    let err = put(r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*"}}"#.to_owned())
        .await
        .unwrap_err();
    assert_eq!(code(&err), "MalformedPolicyDocument");
    let err = put("not json".to_owned()).await.unwrap_err();
    assert_eq!(code(&err), "MalformedPolicyDocument");
    let many: Vec<String> = (0..200).map(|i| format!("\"arn:aws:s3:::bucket-{i:04}/*\"")).collect();
    let big = format!(
        r#"{{"Version":"2012-10-17","Statement":{{"Effect":"Allow","Action":"s3:*","Resource":[{}]}}}}"#,
        many.join(",")
    );
    let err = put(big).await.unwrap_err();
    assert_eq!(code(&err), "LimitExceeded");
    let err = iam
        .get_user_policy()
        .user_name("frank")
        .policy_name("p")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "NoSuchEntity");
    let err = iam
        .add_user_to_group()
        .group_name("nobody")
        .user_name("frank")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "NoSuchEntity");
}

/// The issue's walkthrough: a group with AWS's AmazonS3ReadOnlyAccess attached.
#[tokio::test]
async fn an_aws_managed_policy_attached_to_a_group_applies_to_its_members() {
    let coffer = Coffer::start();
    photos(&coffer).await;
    let iam = coffer.root_iam();
    let (key, secret) = coffer.user_with_key("alice").await;
    let alice = coffer.s3(&key, &secret);
    let arn = "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess";
    let policy = iam.get_policy().policy_arn(arn).send().await.unwrap();
    assert_eq!(policy.policy().unwrap().policy_name(), Some("AmazonS3ReadOnlyAccess"));
    iam.create_group().group_name("readers").send().await.unwrap();
    iam.attach_group_policy()
        .group_name("readers")
        .policy_arn(arn)
        .send()
        .await
        .unwrap();
    iam.add_user_to_group()
        .group_name("readers")
        .user_name("alice")
        .send()
        .await
        .unwrap();
    alice.list_objects_v2().bucket("holiday-photos").send().await.unwrap();
    let err = alice
        .put_object()
        .bucket("holiday-photos")
        .key("x")
        .body(ByteStream::from_static(b"x"))
        .send()
        .await
        .unwrap_err();
    assert_aws_error(&err, "AccessDenied", 403);
    let attached = iam
        .list_attached_group_policies()
        .group_name("readers")
        .send()
        .await
        .unwrap();
    assert_eq!(attached.attached_policies()[0].policy_arn(), Some(arn));
    let counted = iam.get_policy().policy_arn(arn).send().await.unwrap();
    assert_eq!(counted.policy().unwrap().attachment_count(), Some(1));
    let err = iam.delete_group().group_name("readers").send().await.unwrap_err();
    assert_eq!(code(&err), "DeleteConflict");
    iam.detach_group_policy()
        .group_name("readers")
        .policy_arn(arn)
        .send()
        .await
        .unwrap();
    let err = alice
        .list_objects_v2()
        .bucket("holiday-photos")
        .send()
        .await
        .unwrap_err();
    assert_aws_error(&err, "AccessDenied", 403);
    let err = iam
        .attach_group_policy()
        .group_name("readers")
        .policy_arn("arn:aws:iam::aws:policy/NoSuchPolicy")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "NoSuchEntity");
}

#[tokio::test]
async fn customer_managed_policies_are_created_attached_and_guarded() {
    let coffer = Coffer::start();
    photos(&coffer).await;
    let iam = coffer.root_iam();
    let (key, secret) = coffer.user_with_key("gina").await;
    let created = iam
        .create_policy()
        .policy_name("photo-readers")
        .policy_document(READ_ONLY_S3)
        .description("read photos")
        .send()
        .await
        .unwrap();
    let policy = created.policy().unwrap();
    let arn = policy.arn().unwrap().to_owned();
    assert!(arn.ends_with(":policy/photo-readers"));
    assert_eq!(policy.default_version_id(), Some("v1"));
    assert!(policy.policy_id().unwrap().starts_with("ANPA"));
    let err = iam
        .create_policy()
        .policy_name("photo-readers")
        .policy_document(READ_ONLY_S3)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "EntityAlreadyExists");

    iam.attach_user_policy()
        .user_name("gina")
        .policy_arn(&arn)
        .send()
        .await
        .unwrap();
    coffer
        .s3(&key, &secret)
        .list_objects_v2()
        .bucket("holiday-photos")
        .send()
        .await
        .unwrap();
    let attached = iam
        .list_attached_user_policies()
        .user_name("gina")
        .send()
        .await
        .unwrap();
    assert_eq!(attached.attached_policies()[0].policy_name(), Some("photo-readers"));
    let version = iam
        .get_policy_version()
        .policy_arn(&arn)
        .version_id("v1")
        .send()
        .await
        .unwrap();
    assert!(
        version
            .policy_version()
            .unwrap()
            .document()
            .unwrap()
            .contains("%22s3%3AGet%2A%22")
    );
    let local = iam
        .list_policies()
        .scope(aws_sdk_iam::types::PolicyScopeType::Local)
        .send()
        .await
        .unwrap();
    assert_eq!(local.policies().len(), 1);
    let only_attached = iam.list_policies().only_attached(true).send().await.unwrap();
    assert_eq!(only_attached.policies().len(), 1);

    let err = iam.delete_policy().policy_arn(&arn).send().await.unwrap_err();
    assert_eq!(code(&err), "DeleteConflict");
    let err = iam.delete_user().user_name("gina").send().await.unwrap_err();
    assert_eq!(code(&err), "DeleteConflict");
    iam.detach_user_policy()
        .user_name("gina")
        .policy_arn(&arn)
        .send()
        .await
        .unwrap();
    let err = coffer
        .s3(&key, &secret)
        .list_objects_v2()
        .bucket("holiday-photos")
        .send()
        .await
        .unwrap_err();
    assert_aws_error(&err, "AccessDenied", 403);
    iam.delete_policy().policy_arn(&arn).send().await.unwrap();
    let err = iam.get_policy().policy_arn(&arn).send().await.unwrap_err();
    assert_eq!(code(&err), "NoSuchEntity");
}

#[tokio::test]
async fn a_new_default_version_changes_access_on_the_next_request() {
    let coffer = Coffer::start();
    photos(&coffer).await;
    let iam = coffer.root_iam();
    let (key, secret) = coffer.user_with_key("hank").await;
    let hank = coffer.s3(&key, &secret);
    let created = iam
        .create_policy()
        .policy_name("evolving")
        .policy_document(READ_ONLY_S3)
        .send()
        .await
        .unwrap();
    let arn = created.policy().unwrap().arn().unwrap().to_owned();
    iam.attach_user_policy()
        .user_name("hank")
        .policy_arn(&arn)
        .send()
        .await
        .unwrap();
    hank.list_objects_v2().bucket("holiday-photos").send().await.unwrap();

    let nothing = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"iam:GetUser","Resource":"*"}}"#;
    let v2 = iam
        .create_policy_version()
        .policy_arn(&arn)
        .policy_document(nothing)
        .set_as_default(true)
        .send()
        .await
        .unwrap();
    assert_eq!(v2.policy_version().unwrap().version_id(), Some("v2"));
    let err = hank
        .list_objects_v2()
        .bucket("holiday-photos")
        .send()
        .await
        .unwrap_err();
    assert_aws_error(&err, "AccessDenied", 403);
    iam.set_default_policy_version()
        .policy_arn(&arn)
        .version_id("v1")
        .send()
        .await
        .unwrap();
    hank.list_objects_v2().bucket("holiday-photos").send().await.unwrap();

    let versions = iam.list_policy_versions().policy_arn(&arn).send().await.unwrap();
    let ids: Vec<&str> = versions.versions().iter().filter_map(|v| v.version_id()).collect();
    assert_eq!(ids, ["v2", "v1"]);
    let err = iam
        .delete_policy_version()
        .policy_arn(&arn)
        .version_id("v1")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "DeleteConflict");
    for _ in 0..3 {
        iam.create_policy_version()
            .policy_arn(&arn)
            .policy_document(nothing)
            .send()
            .await
            .unwrap();
    }
    let err = iam
        .create_policy_version()
        .policy_arn(&arn)
        .policy_document(nothing)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "LimitExceeded");
    iam.delete_policy_version()
        .policy_arn(&arn)
        .version_id("v2")
        .send()
        .await
        .unwrap();
    let err = iam
        .get_policy_version()
        .policy_arn(&arn)
        .version_id("v2")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "NoSuchEntity");
}

#[tokio::test]
async fn a_permissions_boundary_intersects_with_the_identity_policies() {
    let coffer = Coffer::start();
    photos(&coffer).await;
    let iam = coffer.root_iam();
    let (key, secret) = coffer.user_with_key("ivy").await;
    iam.attach_user_policy()
        .user_name("ivy")
        .policy_arn("arn:aws:iam::aws:policy/AdministratorAccess")
        .send()
        .await
        .unwrap();
    let ivy_s3 = coffer.s3(&key, &secret);
    let ivy_iam = coffer.iam(&key, &secret);
    ivy_iam.list_users().send().await.unwrap();
    // Capped by S3 read-only: admin in name, reader in fact.
    let boundary = "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess";
    iam.put_user_permissions_boundary()
        .user_name("ivy")
        .permissions_boundary(boundary)
        .send()
        .await
        .unwrap();
    let user = iam.get_user().user_name("ivy").send().await.unwrap();
    assert_eq!(
        user.user()
            .unwrap()
            .permissions_boundary()
            .and_then(|b| b.permissions_boundary_arn()),
        Some(boundary)
    );
    ivy_s3.list_objects_v2().bucket("holiday-photos").send().await.unwrap();
    let err = ivy_iam.list_users().send().await.unwrap_err();
    assert_aws_error(&err, "AccessDenied", 403);
    let err = ivy_s3
        .put_object()
        .bucket("holiday-photos")
        .key("x")
        .body(ByteStream::from_static(b"x"))
        .send()
        .await
        .unwrap_err();
    assert_aws_error(&err, "AccessDenied", 403);
    iam.delete_user_permissions_boundary()
        .user_name("ivy")
        .send()
        .await
        .unwrap();
    ivy_iam.list_users().send().await.unwrap();
}

#[tokio::test]
async fn delete_objects_is_authorized_key_by_key() {
    use aws_sdk_s3::types::{Delete, ObjectIdentifier};
    let coffer = Coffer::start();
    photos(&coffer).await;
    let iam = coffer.root_iam();
    let (key, secret) = coffer.user_with_key("bob").await;
    let own_folder = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:DeleteObject","Resource":"arn:aws:s3:::holiday-photos/home/${aws:username}/*"}}"#;
    grant(&iam, "bob", "own", own_folder).await;
    let ids = ["home/bob/cv.pdf", "home/alice/notes.txt"].map(|k| ObjectIdentifier::builder().key(k).build().unwrap());
    let out = coffer
        .s3(&key, &secret)
        .delete_objects()
        .bucket("holiday-photos")
        .delete(Delete::builder().set_objects(Some(ids.to_vec())).build().unwrap())
        .send()
        .await
        .unwrap();
    let deleted: Vec<&str> = out.deleted().iter().filter_map(|d| d.key()).collect();
    assert_eq!(deleted, ["home/bob/cv.pdf"]);
    assert_eq!(out.errors()[0].key(), Some("home/alice/notes.txt"));
    assert_eq!(out.errors()[0].code(), Some("AccessDenied"));
    let root = coffer.root_s3();
    root.head_object()
        .bucket("holiday-photos")
        .key("home/alice/notes.txt")
        .send()
        .await
        .unwrap();
    assert!(
        root.head_object()
            .bucket("holiday-photos")
            .key("home/bob/cv.pdf")
            .send()
            .await
            .is_err()
    );
}

#[tokio::test]
async fn a_guardrail_on_iam_policy_arn_stops_self_promotion() {
    let coffer = Coffer::start();
    let iam = coffer.root_iam();
    let (key, secret) = coffer.user_with_key("delegate").await;
    // A delegated administrator may attach policies, but never AdministratorAccess.
    let delegated = r#"{"Version":"2012-10-17","Statement":[
        {"Effect":"Allow","Action":["iam:AttachUserPolicy","iam:ListUsers"],"Resource":"*"},
        {"Effect":"Deny","Action":"iam:AttachUserPolicy","Resource":"*",
         "Condition":{"ArnEquals":{"iam:PolicyARN":"arn:aws:iam::aws:policy/AdministratorAccess"}}}]}"#;
    grant(&iam, "delegate", "delegated", delegated).await;
    let delegate = coffer.iam(&key, &secret);
    delegate
        .attach_user_policy()
        .user_name("delegate")
        .policy_arn("arn:aws:iam::aws:policy/IAMReadOnlyAccess")
        .send()
        .await
        .unwrap();
    let err = delegate
        .attach_user_policy()
        .user_name("delegate")
        .policy_arn("arn:aws:iam::aws:policy/AdministratorAccess")
        .send()
        .await
        .unwrap_err();
    assert_aws_error(&err, "AccessDenied", 403);
}

/// ListAllMyBuckets names no bucket: AWS's examples grant it on `arn:aws:s3:::*` as well as
/// on `*`, and a Deny on either takes it away.
#[tokio::test]
async fn list_all_my_buckets_answers_to_the_s3_wildcard_resource_and_to_star() {
    let coffer = Coffer::start();
    let (key, secret) = coffer.user_with_key("alice").await;
    let alice = coffer.s3(&key, &secret);
    let policy = |effect: &str, resource: &str| {
        format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"{effect}","Action":"s3:ListAllMyBuckets","Resource":"{resource}"}}]}}"#
        )
    };
    let put = |name: &'static str, document: String| {
        let iam = coffer.root_iam();
        async move {
            iam.put_user_policy()
                .user_name("alice")
                .policy_name(name)
                .policy_document(document)
                .send()
                .await
                .unwrap();
        }
    };
    put("allow", policy("Allow", "arn:aws:s3:::*")).await;
    alice.list_buckets().send().await.unwrap();
    put("allow", policy("Allow", "*")).await;
    alice.list_buckets().send().await.unwrap();
    put("allow", policy("Allow", "arn:aws:s3:::some-bucket")).await;
    assert_aws_error(&alice.list_buckets().send().await.unwrap_err(), "AccessDenied", 403);
    put("allow", policy("Allow", "*")).await;
    put("deny", policy("Deny", "arn:aws:s3:::*")).await;
    assert_aws_error(&alice.list_buckets().send().await.unwrap_err(), "AccessDenied", 403);
}

/// Customer managed policies must be written in the current policy language (IAM refuses
/// 2008-10-17 or no Version for them; inline policies still take it).
#[tokio::test]
async fn a_managed_policy_without_the_current_version_is_malformed() {
    let coffer = Coffer::start();
    let iam = coffer.root_iam();
    for document in [
        r#"{"Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}}"#,
        r#"{"Version":"2008-10-17","Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}}"#,
    ] {
        let err = iam
            .create_policy()
            .policy_name("old")
            .policy_document(document)
            .send()
            .await
            .unwrap_err();
        assert_eq!(code(&err), "MalformedPolicyDocument", "{document}");
        assert!(format!("{err:?}").contains("must be version 2012-10-17"));
    }
    iam.create_user().user_name("u").send().await.unwrap();
    iam.put_user_policy()
        .user_name("u")
        .policy_name("inline-old")
        .policy_document(r#"{"Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}}"#)
        .send()
        .await
        .unwrap();
}
