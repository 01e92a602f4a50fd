//! Least privilege with real users' keys: groups and inline policies decide S3 and IAM
//! requests, through the SDK, and a change takes effect on the next request.

use aws_sdk_s3::primitives::ByteStream;

use crate::harness::{Coffer, code};
use crate::s3::s3_code;

const READ_ONLY_S3: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:Get*","s3:List*"],"Resource":"*"}]}"#;

async fn photos(coffer: &Coffer) {
    let s3 = coffer.root_s3();
    s3.create_bucket().bucket("holiday-photos").send().await.unwrap();
    for key in ["beach.jpg", "home/bob/cv.pdf", "home/alice/notes.txt"] {
        s3.put_object()
            .bucket("holiday-photos")
            .key(key)
            .body(ByteStream::from_static(b"x"))
            .send()
            .await
            .unwrap();
    }
}

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
    assert_eq!(s3_code(&err), "AccessDenied");

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
    assert_eq!(s3_code(&err), "AccessDenied");

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
    assert_eq!(s3_code(&err), "AccessDenied");
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
    iam.put_user_policy()
        .user_name("bob")
        .policy_name("home")
        .policy_document(home)
        .send()
        .await
        .unwrap();
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
    assert_eq!(s3_code(&err), "AccessDenied");
    let err = bob.list_objects_v2().bucket("holiday-photos").send().await.unwrap_err();
    assert_eq!(s3_code(&err), "AccessDenied");
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
    assert_eq!(s3_code(&err), "AccessDenied");

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
    assert_eq!(s3_code(&err), "AccessDenied");
}

#[tokio::test]
async fn a_group_deny_beats_a_user_allow_and_iam_is_governed_too() {
    let coffer = Coffer::start();
    let iam = coffer.root_iam();
    let (key, secret) = coffer.user_with_key("carol").await;
    let admin = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}"#;
    iam.put_user_policy()
        .user_name("carol")
        .policy_name("admin")
        .policy_document(admin)
        .send()
        .await
        .unwrap();
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
    assert_eq!(code(&err), "AccessDenied");
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

/// Whether the real request was allowed: success, or a failure other than AccessDenied.
fn allowed<E: aws_sdk_s3::error::ProvideErrorMetadata + std::fmt::Debug, R: std::fmt::Debug, T>(
    result: &Result<T, aws_sdk_s3::error::SdkError<E, R>>,
) -> bool {
    match result {
        Ok(_) => true,
        Err(err) => s3_code(err) != "AccessDenied",
    }
}

/// The simulator and the enforcement of real requests are one engine: for each policy, what
/// SimulateCustomPolicy says of an action is what happens when the user tries it.
#[tokio::test]
async fn the_simulator_agrees_with_enforcement() {
    let coffer = Coffer::start();
    photos(&coffer).await;
    let iam = coffer.root_iam();
    let (key, secret) = coffer.user_with_key("sim").await;
    let arn = iam
        .get_user()
        .user_name("sim")
        .send()
        .await
        .unwrap()
        .user()
        .unwrap()
        .arn()
        .to_owned();
    let user_s3 = coffer.s3(&key, &secret);
    let user_iam = coffer.iam(&key, &secret);
    let policies = [
        READ_ONLY_S3,
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},{"Effect":"Deny","Action":"s3:PutObject","Resource":"arn:aws:s3:::holiday-photos/*"}]}"#,
        r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","NotAction":"iam:*","Resource":"*"}}"#,
        r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":["s3:GetObject","s3:PutObject"],"Resource":"arn:aws:s3:::holiday-photos/home/${aws:username}/*"}}"#,
        r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"iam:List*","Resource":"*"}}"#,
    ];
    let cases = [
        ("s3:GetObject", "arn:aws:s3:::holiday-photos/beach.jpg"),
        ("s3:PutObject", "arn:aws:s3:::holiday-photos/home/sim/new.txt"),
        ("s3:GetObject", "arn:aws:s3:::holiday-photos/home/sim/new.txt"),
        ("iam:ListUsers", "arn:aws:iam::*:user/"),
    ];
    for (i, policy) in policies.iter().enumerate() {
        iam.put_user_policy()
            .user_name("sim")
            .policy_name("p")
            .policy_document(*policy)
            .send()
            .await
            .unwrap();
        for (action, resource) in cases {
            let simulated = iam
                .simulate_custom_policy()
                .policy_input_list(*policy)
                .action_names(action)
                .resource_arns(resource)
                .caller_arn(&arn)
                .send()
                .await
                .unwrap();
            let decision = simulated.evaluation_results()[0].eval_decision().as_str().to_owned();
            let real = match action {
                "s3:GetObject" => {
                    let key = resource.trim_start_matches("arn:aws:s3:::holiday-photos/");
                    allowed(&user_s3.get_object().bucket("holiday-photos").key(key).send().await)
                }
                "s3:PutObject" => {
                    let key = resource.trim_start_matches("arn:aws:s3:::holiday-photos/");
                    let put = user_s3
                        .put_object()
                        .bucket("holiday-photos")
                        .key(key)
                        .body(ByteStream::from_static(b"s"))
                        .send()
                        .await;
                    allowed(&put)
                }
                _ => match user_iam.list_users().send().await {
                    Ok(_) => true,
                    Err(err) => code(&err) != "AccessDenied",
                },
            };
            assert_eq!(
                decision == "allowed",
                real,
                "policy {i}, {action} on {resource}: simulator said {decision}"
            );
        }
    }
    // A malformed policy is refused by the simulator as by PutUserPolicy.
    let err = iam
        .simulate_custom_policy()
        .policy_input_list("{}")
        .action_names("s3:GetObject")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "MalformedPolicyDocument");
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
    assert_eq!(s3_code(&err), "AccessDenied");
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
    assert_eq!(s3_code(&err), "AccessDenied");
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
    assert_eq!(s3_code(&err), "AccessDenied");
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
    assert_eq!(s3_code(&err), "AccessDenied");
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
    assert_eq!(code(&err), "AccessDenied");
    let err = ivy_s3
        .put_object()
        .bucket("holiday-photos")
        .key("x")
        .body(ByteStream::from_static(b"x"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(s3_code(&err), "AccessDenied");
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
    iam.put_user_policy()
        .user_name("bob")
        .policy_name("own")
        .policy_document(own_folder)
        .send()
        .await
        .unwrap();
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
async fn bucket_policies_grant_deny_and_reach_across_accounts() {
    let coffer = Coffer::start();
    photos(&coffer).await;
    let root = coffer.root_s3();
    let account = coffer.account_id().await;
    let (key, secret) = coffer.user_with_key("judy").await;
    let judy = coffer.s3(&key, &secret);
    let err = judy
        .get_object()
        .bucket("holiday-photos")
        .key("beach.jpg")
        .send()
        .await
        .unwrap_err();
    assert_eq!(s3_code(&err), "AccessDenied");

    let (other_key, other_secret) = coffer.other_account("partner");
    let partner = coffer.s3(&other_key, &other_secret);
    let partner_account = coffer
        .sts(&other_key, &other_secret, "us-east-1")
        .get_caller_identity()
        .send()
        .await
        .unwrap()
        .account()
        .unwrap()
        .to_owned();
    let policy = format!(
        r#"{{"Version":"2012-10-17","Statement":[
          {{"Sid":"Judy","Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{account}:user/judy"}},"Action":"s3:GetObject","Resource":"arn:aws:s3:::holiday-photos/*"}},
          {{"Sid":"Partner","Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{partner_account}:root"}},"Action":"s3:GetObject","Resource":"arn:aws:s3:::holiday-photos/beach.jpg"}},
          {{"Sid":"NoDeletes","Effect":"Deny","Principal":"*","Action":"s3:DeleteObject","Resource":"arn:aws:s3:::holiday-photos/*"}}]}}"#
    );
    root.put_bucket_policy()
        .bucket("holiday-photos")
        .policy(&policy)
        .send()
        .await
        .unwrap();
    assert_eq!(
        root.get_bucket_policy()
            .bucket("holiday-photos")
            .send()
            .await
            .unwrap()
            .policy(),
        Some(policy.as_str())
    );
    // A bucket policy naming a user of the same account allows on its own.
    judy.get_object()
        .bucket("holiday-photos")
        .key("beach.jpg")
        .send()
        .await
        .unwrap();
    // The other account's root, granted by the bucket's account.
    partner
        .get_object()
        .bucket("holiday-photos")
        .key("beach.jpg")
        .send()
        .await
        .unwrap();
    let err = partner
        .get_object()
        .bucket("holiday-photos")
        .key("home/bob/cv.pdf")
        .send()
        .await
        .unwrap_err();
    assert_eq!(s3_code(&err), "AccessDenied");
    // The bucket policy's Deny binds even the owner's root user.
    let err = root
        .delete_object()
        .bucket("holiday-photos")
        .key("beach.jpg")
        .send()
        .await
        .unwrap_err();
    assert_eq!(s3_code(&err), "AccessDenied");
    let status = root
        .get_bucket_policy_status()
        .bucket("holiday-photos")
        .send()
        .await
        .unwrap();
    assert_eq!(status.policy_status().and_then(|s| s.is_public()), Some(false));

    let err = root
        .put_bucket_policy()
        .bucket("holiday-photos")
        .policy("{nope")
        .send()
        .await
        .unwrap_err();
    assert_eq!(s3_code(&err), "MalformedPolicy");
    root.delete_bucket_policy()
        .bucket("holiday-photos")
        .send()
        .await
        .unwrap();
    let err = root
        .get_bucket_policy()
        .bucket("holiday-photos")
        .send()
        .await
        .unwrap_err();
    assert_eq!(s3_code(&err), "NoSuchBucketPolicy");
    let err = judy
        .get_object()
        .bucket("holiday-photos")
        .key("beach.jpg")
        .send()
        .await
        .unwrap_err();
    assert_eq!(s3_code(&err), "AccessDenied");
}

#[tokio::test]
async fn public_reads_need_block_public_access_lifted() {
    let coffer = Coffer::start();
    photos(&coffer).await;
    let root = coffer.root_s3();
    let url = format!("{}/holiday-photos/beach.jpg", coffer.endpoint);
    assert_eq!(reqwest::get(&url).await.unwrap().status().as_u16(), 403);
    let public = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::holiday-photos/*"}}"#;
    // New buckets block public policies, as S3 does.
    let block = root
        .get_public_access_block()
        .bucket("holiday-photos")
        .send()
        .await
        .unwrap();
    assert_eq!(
        block
            .public_access_block_configuration()
            .and_then(|c| c.block_public_policy()),
        Some(true)
    );
    let err = root
        .put_bucket_policy()
        .bucket("holiday-photos")
        .policy(public)
        .send()
        .await
        .unwrap_err();
    assert_eq!(s3_code(&err), "AccessDenied");
    root.delete_public_access_block()
        .bucket("holiday-photos")
        .send()
        .await
        .unwrap();
    root.put_bucket_policy()
        .bucket("holiday-photos")
        .policy(public)
        .send()
        .await
        .unwrap();
    let status = root
        .get_bucket_policy_status()
        .bucket("holiday-photos")
        .send()
        .await
        .unwrap();
    assert_eq!(status.policy_status().and_then(|s| s.is_public()), Some(true));
    let response = reqwest::get(&url).await.unwrap();
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(response.bytes().await.unwrap().as_ref(), b"x");
    // Anonymous writes are still refused.
    let put = reqwest::Client::new().put(&url).body("defaced").send().await.unwrap();
    assert_eq!(put.status().as_u16(), 403);
    // A bucket that does not exist is NoSuchBucket to anyone, as in S3.
    let missing = reqwest::get(format!("{}/no-such-bucket-here/x", coffer.endpoint))
        .await
        .unwrap();
    assert_eq!(missing.status().as_u16(), 404);
    assert!(missing.text().await.unwrap().contains("<Code>NoSuchBucket</Code>"));
}

#[tokio::test]
async fn source_ip_and_request_keys_reach_conditions() {
    let coffer = Coffer::start();
    photos(&coffer).await;
    let iam = coffer.root_iam();
    let (key, secret) = coffer.user_with_key("kim").await;
    let from_here = r#"{"Version":"2012-10-17","Statement":[
        {"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"127.0.0.0/8"}}},
        {"Effect":"Allow","Action":"s3:PutObject","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"203.0.113.0/24"}}},
        {"Effect":"Allow","Action":"s3:ListBucket","Resource":"*","Condition":{"StringEquals":{"aws:RequestedRegion":"eu-west-1","s3:authType":"REST-HEADER"}}},
        {"Effect":"Allow","Action":"iam:GetUser","Resource":"*","Condition":{"StringLike":{"aws:UserAgent":"*aws-sdk-rust*"}}}]}"#;
    iam.put_user_policy()
        .user_name("kim")
        .policy_name("ip")
        .policy_document(from_here)
        .send()
        .await
        .unwrap();
    let kim = coffer.s3(&key, &secret);
    kim.get_object()
        .bucket("holiday-photos")
        .key("beach.jpg")
        .send()
        .await
        .unwrap();
    let err = kim
        .put_object()
        .bucket("holiday-photos")
        .key("x")
        .body(ByteStream::from_static(b"x"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(s3_code(&err), "AccessDenied");
    let err = kim.list_objects_v2().bucket("holiday-photos").send().await.unwrap_err();
    assert_eq!(s3_code(&err), "AccessDenied", "signed for us-east-1");
    coffer
        .s3_in("eu-west-1", &key, &secret)
        .list_objects_v2()
        .bucket("holiday-photos")
        .send()
        .await
        .unwrap();
    coffer.iam(&key, &secret).get_user().send().await.unwrap();
}

#[tokio::test]
async fn a_copy_source_is_judged_with_its_bucket_policy() {
    let coffer = Coffer::start();
    photos(&coffer).await;
    let root = coffer.root_s3();
    let account = coffer.account_id().await;
    let iam = coffer.root_iam();
    let (key, secret) = coffer.user_with_key("judy").await;
    let own = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:PutObject","Resource":"arn:aws:s3:::holiday-photos/home/${aws:username}/*"}}"#;
    iam.put_user_policy()
        .user_name("judy")
        .policy_name("own")
        .policy_document(own)
        .send()
        .await
        .unwrap();
    let grant = format!(
        r#"{{"Version":"2012-10-17","Statement":{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{account}:user/judy"}},"Action":"s3:GetObject","Resource":"arn:aws:s3:::holiday-photos/beach.jpg"}}}}"#
    );
    root.put_bucket_policy()
        .bucket("holiday-photos")
        .policy(grant)
        .send()
        .await
        .unwrap();
    let judy = coffer.s3(&key, &secret);
    judy.copy_object()
        .bucket("holiday-photos")
        .key("home/judy/beach.jpg")
        .copy_source("holiday-photos/beach.jpg")
        .send()
        .await
        .unwrap();
    let err = judy
        .copy_object()
        .bucket("holiday-photos")
        .key("home/judy/cv.pdf")
        .copy_source("holiday-photos/home/bob/cv.pdf")
        .send()
        .await
        .unwrap_err();
    assert_eq!(s3_code(&err), "AccessDenied");
}

#[tokio::test]
async fn only_the_owners_account_manages_a_bucket_policy() {
    let coffer = Coffer::start();
    photos(&coffer).await;
    let root = coffer.root_s3();
    let (key, secret) = coffer.other_account("partner");
    let partner_account = coffer
        .sts(&key, &secret, "us-east-1")
        .get_caller_identity()
        .send()
        .await
        .unwrap()
        .account()
        .unwrap()
        .to_owned();
    let everything = format!(
        r#"{{"Version":"2012-10-17","Statement":{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{partner_account}:root"}},"Action":"s3:*","Resource":["arn:aws:s3:::holiday-photos","arn:aws:s3:::holiday-photos/*"]}}}}"#
    );
    root.put_bucket_policy()
        .bucket("holiday-photos")
        .policy(&everything)
        .send()
        .await
        .unwrap();
    let partner = coffer.s3(&key, &secret);
    partner
        .get_object()
        .bucket("holiday-photos")
        .key("beach.jpg")
        .send()
        .await
        .unwrap();
    // Allowed by the policy but not of the owner's account: 405, as S3 documents.
    let err = partner
        .delete_bucket_policy()
        .bucket("holiday-photos")
        .send()
        .await
        .unwrap_err();
    assert_eq!(s3_code(&err), "MethodNotAllowed");
    assert_eq!(err.raw_response().unwrap().status().as_u16(), 405);
    let err = partner
        .delete_public_access_block()
        .bucket("holiday-photos")
        .send()
        .await
        .unwrap_err();
    assert_eq!(s3_code(&err), "AccessDenied");
    root.get_bucket_policy().bucket("holiday-photos").send().await.unwrap();
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
    iam.put_user_policy()
        .user_name("delegate")
        .policy_name("delegated")
        .policy_document(delegated)
        .send()
        .await
        .unwrap();
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
    assert_eq!(code(&err), "AccessDenied");
}

#[tokio::test]
async fn tagging_is_judged_on_the_request_tags_and_tag_keys() {
    let coffer = Coffer::start();
    let iam = coffer.root_iam();
    let (key, secret) = coffer.user_with_key("tagger").await;
    iam.create_user().user_name("worker").send().await.unwrap();
    // The IAM user guide's pattern: tag only with team=blue, and touch no other tag key.
    let tagging = r#"{"Version":"2012-10-17","Statement":[
        {"Effect":"Allow","Action":"iam:TagUser","Resource":"*",
         "Condition":{"StringEquals":{"aws:RequestTag/team":"blue"},"ForAllValues:StringEquals":{"aws:TagKeys":["team"]}}},
        {"Effect":"Allow","Action":"iam:UntagUser","Resource":"*",
         "Condition":{"ForAllValues:StringEquals":{"aws:TagKeys":["team"]}}}]}"#;
    iam.put_user_policy()
        .user_name("tagger")
        .policy_name("tagging")
        .policy_document(tagging)
        .send()
        .await
        .unwrap();
    let tagger = coffer.iam(&key, &secret);
    let tag = |key: &str, value: &str| {
        aws_sdk_iam::types::Tag::builder()
            .key(key)
            .value(value)
            .build()
            .unwrap()
    };
    tagger
        .tag_user()
        .user_name("worker")
        .tags(tag("team", "blue"))
        .send()
        .await
        .unwrap();
    let err = tagger
        .tag_user()
        .user_name("worker")
        .tags(tag("team", "red"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "AccessDenied");
    let err = tagger
        .tag_user()
        .user_name("worker")
        .tags(tag("team", "blue"))
        .tags(tag("cost-center", "42"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "AccessDenied");
    iam.tag_user()
        .user_name("worker")
        .tags(tag("cost-center", "42"))
        .send()
        .await
        .unwrap();
    let err = tagger
        .untag_user()
        .user_name("worker")
        .tag_keys("cost-center")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "AccessDenied");
    tagger
        .untag_user()
        .user_name("worker")
        .tag_keys("team")
        .send()
        .await
        .unwrap();
    let left = iam.list_user_tags().user_name("worker").send().await.unwrap();
    let keys: Vec<&str> = left.tags().iter().map(|t| t.key()).collect();
    assert_eq!(keys, ["cost-center"]);
}

#[tokio::test]
async fn a_trusted_proxy_says_where_tls_ended_and_who_the_client_is() {
    use crate::s3_raw::{Payload, signed_s3};
    // The AWS docs' deny-unless-TLS policy, and reads only from one network.
    let policy = r#"{"Version":"2012-10-17","Statement":[
        {"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":["arn:aws:s3:::tls","arn:aws:s3:::tls/*"],
         "Condition":{"Bool":{"aws:SecureTransport":"false"}}},
        {"Effect":"Deny","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::tls/*",
         "Condition":{"NotIpAddress":{"aws:SourceIp":"198.51.100.0/24"}}}]}"#;
    let behind_proxy = Coffer::start_with(&[
        ("COFFER_ROOT_ACCESS_KEY_ID", crate::harness::ROOT_KEY_ID),
        ("COFFER_ROOT_SECRET_ACCESS_KEY", crate::harness::ROOT_SECRET),
        ("COFFER_TRUSTED_PROXIES", "127.0.0.1"),
    ]);
    let direct = Coffer::start();
    for coffer in [&behind_proxy, &direct] {
        let root = coffer.root_s3();
        root.create_bucket().bucket("tls").send().await.unwrap();
        root.put_object()
            .bucket("tls")
            .key("k")
            .body(ByteStream::from_static(b"x"))
            .send()
            .await
            .unwrap();
        root.put_bucket_policy()
            .bucket("tls")
            .policy(policy)
            .send()
            .await
            .unwrap();
    }
    async fn get(coffer: &Coffer, headers: &[(&str, &str)]) -> u16 {
        signed_s3(coffer, "GET", "/tls/k", headers, Vec::new(), Payload::Signed)
            .await
            .status
    }
    let over_tls_from = |ip| [("x-forwarded-proto", "https"), ("x-forwarded-for", ip)];
    // Two proxies, each appending what it heard and how.
    let via_two = |ips| [("x-forwarded-proto", "https, https"), ("x-forwarded-for", ips)];
    assert_eq!(get(&behind_proxy, &[]).await, 403, "plain HTTP");
    assert_eq!(get(&behind_proxy, &over_tls_from("198.51.100.7")).await, 200);
    assert_eq!(
        get(&behind_proxy, &over_tls_from("203.0.113.9")).await,
        403,
        "outside the network"
    );
    assert_eq!(
        get(&behind_proxy, &via_two("198.51.100.7, 203.0.113.9")).await,
        403,
        "a client cannot prepend an address"
    );
    assert_eq!(
        get(&behind_proxy, &via_two("198.51.100.7, 127.0.0.1")).await,
        200,
        "trusted hops are skipped"
    );
    assert_eq!(
        get(&behind_proxy, &over_tls_from("198.51.100.7, 127.0.0.1")).await,
        403,
        "one protocol for two hops could be the client's own header: not TLS"
    );
    assert_eq!(
        get(&direct, &over_tls_from("198.51.100.7")).await,
        403,
        "without --trusted-proxies the headers are ignored"
    );
}

#[tokio::test]
async fn the_simulator_names_the_statements_that_decided_and_applies_the_boundary() {
    let coffer = Coffer::start();
    let iam = coffer.root_iam();
    let account = coffer.account_id().await;
    iam.create_user().user_name("sam").send().await.unwrap();
    iam.create_group().group_name("readers").send().await.unwrap();
    iam.add_user_to_group()
        .group_name("readers")
        .user_name("sam")
        .send()
        .await
        .unwrap();
    iam.attach_group_policy()
        .group_name("readers")
        .policy_arn("arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess")
        .send()
        .await
        .unwrap();
    iam.put_group_policy()
        .group_name("readers")
        .policy_name("no-secrets")
        .policy_document(
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":"s3:GetObject","Resource":"arn:aws:s3:::vault/*"}}"#,
        )
        .send()
        .await
        .unwrap();
    let simulate = |action: &str, resource: &str| {
        iam.simulate_principal_policy()
            .policy_source_arn(format!("arn:aws:iam::{account}:user/sam"))
            .action_names(action)
            .resource_arns(resource)
            .send()
    };
    let allowed = simulate("s3:GetObject", "arn:aws:s3:::photos/x").await.unwrap();
    let result = &allowed.evaluation_results()[0];
    assert_eq!(result.eval_decision().as_str(), "allowed");
    let statement = &result.matched_statements()[0];
    assert_eq!(statement.source_policy_id(), Some("AmazonS3ReadOnlyAccess"));
    assert_eq!(statement.source_policy_type().map(|t| t.as_str()), Some("aws-managed"));
    assert!(
        statement
            .start_position()
            .is_some_and(|p| p.line() >= 1 && p.column() >= 1)
    );

    let denied = simulate("s3:GetObject", "arn:aws:s3:::vault/x").await.unwrap();
    let result = &denied.evaluation_results()[0];
    assert_eq!(result.eval_decision().as_str(), "explicitDeny");
    let sources: Vec<_> = result
        .matched_statements()
        .iter()
        .map(|s| (s.source_policy_id().unwrap(), s.source_policy_type().unwrap().as_str()))
        .collect();
    assert_eq!(sources, [("no-secrets", "group")]);

    // The user's own permissions boundary limits the simulation, as it limits requests, and
    // its statements are named with it.
    let bound = iam
        .create_policy()
        .policy_name("photos-only")
        .policy_document(
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::photos/*"}}"#,
        )
        .send()
        .await
        .unwrap();
    iam.put_user_permissions_boundary()
        .user_name("sam")
        .permissions_boundary(bound.policy().unwrap().arn().unwrap())
        .send()
        .await
        .unwrap();
    let bounded = simulate("s3:GetObject", "arn:aws:s3:::photos/x").await.unwrap();
    let result = &bounded.evaluation_results()[0];
    assert_eq!(result.eval_decision().as_str(), "allowed");
    let sources: Vec<_> = result
        .matched_statements()
        .iter()
        .map(|s| (s.source_policy_id().unwrap(), s.source_policy_type().unwrap().as_str()))
        .collect();
    assert_eq!(
        sources,
        [
            ("AmazonS3ReadOnlyAccess", "aws-managed"),
            ("photos-only", "user-managed")
        ]
    );
    let outside = simulate("s3:GetObject", "arn:aws:s3:::other/x").await.unwrap();
    assert_eq!(outside.evaluation_results()[0].eval_decision().as_str(), "implicitDeny");

    // A custom policy reading a key the simulation was not given names it as missing.
    let custom = iam
        .simulate_custom_policy()
        .policy_input_list(
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}}}"#,
        )
        .action_names("s3:GetObject")
        .send()
        .await
        .unwrap();
    let result = &custom.evaluation_results()[0];
    assert_eq!(result.eval_decision().as_str(), "implicitDeny");
    assert_eq!(result.missing_context_values(), ["aws:SourceIp"]);
}

#[tokio::test]
async fn a_missing_key_is_no_such_key_only_to_those_who_may_list_the_bucket() {
    let coffer = Coffer::start();
    photos(&coffer).await;
    let iam = coffer.root_iam();
    let (reader_key, reader_secret) = coffer.user_with_key("reader").await;
    iam.put_user_policy()
        .user_name("reader")
        .policy_name("get-only")
        .policy_document(
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::holiday-photos/*"}}"#,
        )
        .send()
        .await
        .unwrap();
    let (lister_key, lister_secret) = coffer.user_with_key("lister").await;
    iam.put_user_policy()
        .user_name("lister")
        .policy_name("read")
        .policy_document(READ_ONLY_S3)
        .send()
        .await
        .unwrap();
    let reader = coffer.s3(&reader_key, &reader_secret);
    reader
        .get_object()
        .bucket("holiday-photos")
        .key("beach.jpg")
        .send()
        .await
        .unwrap();
    // Without s3:ListBucket a read must not tell which keys exist.
    assert_eq!(missing(&reader).await, ("AccessDenied".to_owned(), 403));
    let lister = coffer.s3(&lister_key, &lister_secret);
    assert_eq!(missing(&lister).await, ("NoSuchKey".to_owned(), 404));
    assert_eq!(missing(&coffer.root_s3()).await, ("NoSuchKey".to_owned(), 404));
}

/// What GET and HEAD of a key that does not exist answer: GET's code, HEAD's status.
async fn missing(s3: &aws_sdk_s3::Client) -> (String, u16) {
    let get = s3
        .get_object()
        .bucket("holiday-photos")
        .key("missing.jpg")
        .send()
        .await
        .unwrap_err();
    let head = s3
        .head_object()
        .bucket("holiday-photos")
        .key("missing.jpg")
        .send()
        .await
        .unwrap_err();
    (s3_code(&get), head.raw_response().unwrap().status().as_u16())
}
