//! IAM roles through the AWS SDK for Rust and the `aws` CLI: create, read, list, change,
//! tag and delete, with the errors and checks AWS defines for each.

use aws_sdk_iam::error::ProvideErrorMetadata;
use aws_sdk_iam::types::Tag;

use crate::harness::{Coffer, code};

fn trust(principal: &str) -> String {
    format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"{principal}"}},"Action":"sts:AssumeRole"}}]}}"#
    )
}

fn decoded(document: &str) -> String {
    percent_encoding::percent_decode_str(document)
        .decode_utf8()
        .unwrap()
        .into_owned()
}

#[tokio::test]
async fn a_role_is_created_read_listed_changed_and_deleted() {
    let coffer = Coffer::start();
    let iam = coffer.root_iam();
    let account = coffer.account_id().await;
    let policy = trust(&format!("arn:aws:iam::{account}:root"));
    let created = iam
        .create_role()
        .role_name("deployer")
        .path("/ci/")
        .assume_role_policy_document(&policy)
        .description("ships builds")
        .tags(Tag::builder().key("team").value("platform").build().unwrap())
        .send()
        .await
        .unwrap();
    let role = created.role().unwrap();
    assert_eq!(role.arn(), format!("arn:aws:iam::{account}:role/ci/deployer"));
    assert!(role.role_id().starts_with("AROA") && role.role_id().len() == 21);
    assert_eq!(decoded(role.assume_role_policy_document().unwrap()), policy);
    assert_eq!(role.tags().len(), 1);

    let got = iam.get_role().role_name("DEPLOYER").send().await.unwrap();
    let got = got.role().unwrap();
    assert_eq!(got.role_name(), "deployer", "names are looked up without case");
    assert_eq!(got.description(), Some("ships builds"));
    assert_eq!(got.max_session_duration(), Some(3600));
    assert!(got.role_last_used().is_some_and(|used| used.last_used_date().is_none()));
    assert_eq!(got.tags()[0].value(), "platform");

    for name in ["auditor", "builder"] {
        iam.create_role()
            .role_name(name)
            .assume_role_policy_document(&policy)
            .send()
            .await
            .unwrap();
    }
    let summary = iam.get_account_summary().send().await.unwrap();
    assert_eq!(
        summary.summary_map().unwrap()[&aws_sdk_iam::types::SummaryKeyType::Roles],
        3
    );
    let first = iam.list_roles().max_items(2).send().await.unwrap();
    let names: Vec<_> = first.roles().iter().map(|r| r.role_name()).collect();
    assert_eq!(names, ["auditor", "builder"]);
    assert!(first.is_truncated());
    let rest = iam.list_roles().marker(first.marker().unwrap()).send().await.unwrap();
    assert_eq!(rest.roles()[0].role_name(), "deployer");
    assert!(rest.roles()[0].tags().is_empty(), "ListRoles leaves tags out");
    let under_ci = iam.list_roles().path_prefix("/ci/").send().await.unwrap();
    assert_eq!(under_ci.roles().len(), 1);

    iam.update_role()
        .role_name("deployer")
        .max_session_duration(7200)
        .send()
        .await
        .unwrap();
    let described = iam
        .update_role_description()
        .role_name("deployer")
        .description("ships releases")
        .send()
        .await
        .unwrap();
    assert_eq!(described.role().unwrap().description(), Some("ships releases"));
    let narrower = trust(&format!("arn:aws:iam::{account}:role/auditor"));
    iam.update_assume_role_policy()
        .role_name("deployer")
        .policy_document(&narrower)
        .send()
        .await
        .unwrap();
    let got = iam.get_role().role_name("deployer").send().await.unwrap();
    let got = got.role().unwrap();
    assert_eq!(got.max_session_duration(), Some(7200));
    assert_eq!(got.description(), Some("ships releases"));
    assert_eq!(decoded(got.assume_role_policy_document().unwrap()), narrower);

    iam.tag_role()
        .role_name("deployer")
        .tags(Tag::builder().key("TEAM").value("release").build().unwrap())
        .tags(Tag::builder().key("env").value("prod").build().unwrap())
        .send()
        .await
        .unwrap();
    iam.untag_role()
        .role_name("deployer")
        .tag_keys("env")
        .send()
        .await
        .unwrap();
    let tags = iam.list_role_tags().role_name("deployer").send().await.unwrap();
    let tags: Vec<_> = tags.tags().iter().map(|t| (t.key(), t.value())).collect();
    assert_eq!(tags, [("TEAM", "release")], "keys compare without case");

    iam.delete_role().role_name("deployer").send().await.unwrap();
    let err = iam.get_role().role_name("deployer").send().await.unwrap_err();
    assert_eq!(code(&err), "NoSuchEntity");
    let err = iam.delete_role().role_name("deployer").send().await.unwrap_err();
    assert_eq!(code(&err), "NoSuchEntity");
}

#[tokio::test]
async fn bad_roles_and_trust_policies_are_refused_as_aws_refuses_them() {
    let coffer = Coffer::start();
    let iam = coffer.root_iam();
    let account = coffer.account_id().await;
    let root = trust(&format!("arn:aws:iam::{account}:root"));
    iam.create_role()
        .role_name("taken")
        .assume_role_policy_document(&root)
        .send()
        .await
        .unwrap();
    let refused = |name: &'static str, document: String| {
        let iam = iam.clone();
        async move {
            let err = iam
                .create_role()
                .role_name(name)
                .assume_role_policy_document(document)
                .send()
                .await
                .unwrap_err();
            let message = err
                .as_service_error()
                .and_then(|e| e.message())
                .unwrap_or_default()
                .to_owned();
            (code(&err), message)
        }
    };
    let (code_, _) = refused("Taken", root.clone()).await;
    assert_eq!(code_, "EntityAlreadyExists");
    let (code_, message) = refused("r", "{not json".to_owned()).await;
    assert_eq!(
        (code_.as_str(), message.as_str()),
        ("MalformedPolicyDocument", "This policy contains invalid Json")
    );
    let with_resource = root.replace(
        r#""Action":"sts:AssumeRole""#,
        r#""Action":"sts:AssumeRole","Resource":"*""#,
    );
    let (code_, message) = refused("r", with_resource).await;
    assert_eq!(
        (code_.as_str(), message.as_str()),
        ("MalformedPolicyDocument", "Has prohibited field Resource")
    );
    let (code_, message) = refused("r", root.replace("sts:AssumeRole", "s3:GetObject")).await;
    assert_eq!(
        (code_.as_str(), message.as_str()),
        (
            "MalformedPolicyDocument",
            "AssumeRole policy may only specify STS AssumeRole actions."
        )
    );
    let ghost = format!("arn:aws:iam::{account}:user/ghost");
    let (code_, message) = refused("r", trust(&ghost)).await;
    assert_eq!(code_, "MalformedPolicyDocument");
    assert_eq!(message, format!("Invalid principal in policy: \"AWS\":\"{ghost}\""));
    let identity_policy =
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"*"}]}"#;
    let (code_, _) = refused("r", identity_policy.to_owned()).await;
    assert_eq!(code_, "MalformedPolicyDocument", "a trust policy names its principals");

    // What IAM accepts: services, federated providers, other accounts, conditions, and a
    // name a user or group of any case already has (roles have their own names).
    let accepted = [
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#.to_owned(),
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":"arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringLike":{"token.actions.githubusercontent.com:sub":"repo:org/app:*"}}}]}"#.to_owned(),
        trust("123456789012"),
        trust("arn:aws:iam::210987654321:root"),
        trust("*").replace(r#""Action":"sts:AssumeRole""#, r#""Action":["sts:AssumeRole","sts:TagSession"]"#),
    ];
    iam.create_user().user_name("Taken-User").send().await.unwrap();
    for (i, document) in accepted.iter().enumerate() {
        let name = if i == 0 {
            "taken-user".to_owned()
        } else {
            format!("ok{i}")
        };
        iam.create_role()
            .role_name(&name)
            .assume_role_policy_document(document)
            .send()
            .await
            .unwrap_or_else(|e| panic!("{document}: {e:?}"));
    }

    let err = iam
        .create_role()
        .role_name("r")
        .assume_role_policy_document(&root)
        .max_session_duration(60)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "ValidationError");
    let err = iam
        .create_role()
        .role_name("x".repeat(65))
        .assume_role_policy_document(&root)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "ValidationError");
    let err = iam
        .create_role()
        .role_name("r")
        .assume_role_policy_document(&root)
        .permissions_boundary(format!("arn:aws:iam::{account}:policy/missing"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "NoSuchEntity");
    let err = iam.get_role().role_name("r").send().await.unwrap_err();
    assert_eq!(code(&err), "NoSuchEntity", "nothing refused was created");
}

#[tokio::test]
async fn a_role_keeps_its_boundary_and_only_readers_of_roles_read_it() {
    let coffer = Coffer::start();
    let iam = coffer.root_iam();
    let account = coffer.account_id().await;
    let root = trust(&format!("arn:aws:iam::{account}:root"));
    iam.create_role()
        .role_name("deployer")
        .assume_role_policy_document(&root)
        .permissions_boundary("arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess")
        .send()
        .await
        .unwrap();
    let got = iam.get_role().role_name("deployer").send().await.unwrap();
    assert_eq!(
        got.role()
            .unwrap()
            .permissions_boundary()
            .and_then(|b| b.permissions_boundary_arn()),
        Some("arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess")
    );
    // A user allowed only to read roles can read them and change nothing.
    let (id, secret) = coffer.user_with_key("reader").await;
    iam.attach_user_policy()
        .user_name("reader")
        .policy_arn("arn:aws:iam::aws:policy/IAMReadOnlyAccess")
        .send()
        .await
        .unwrap();
    let reader = coffer.iam(&id, &secret);
    assert_eq!(reader.list_roles().send().await.unwrap().roles().len(), 1);
    let err = reader.delete_role().role_name("deployer").send().await.unwrap_err();
    assert_eq!(code(&err), "AccessDenied");
    let err = reader
        .create_role()
        .role_name("mine")
        .assume_role_policy_document(&root)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "AccessDenied");
}

#[tokio::test]
async fn a_roles_policies_and_boundary_are_managed_and_block_its_deletion() {
    let coffer = Coffer::start();
    let iam = coffer.root_iam();
    let account = coffer.account_id().await;
    iam.create_role()
        .role_name("deployer")
        .assume_role_policy_document(trust(&format!("arn:aws:iam::{account}:root")))
        .send()
        .await
        .unwrap();
    let document = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:PutObject","Resource":"arn:aws:s3:::artifacts/*"}]}"#;
    iam.put_role_policy()
        .role_name("deployer")
        .policy_name("upload")
        .policy_document(document)
        .send()
        .await
        .unwrap();
    let got = iam
        .get_role_policy()
        .role_name("deployer")
        .policy_name("upload")
        .send()
        .await
        .unwrap();
    assert_eq!(
        (got.role_name(), decoded(got.policy_document())),
        ("deployer", document.to_owned())
    );
    let listed = iam.list_role_policies().role_name("deployer").send().await.unwrap();
    assert_eq!(listed.policy_names(), ["upload"]);
    let full = "arn:aws:iam::aws:policy/AmazonS3FullAccess";
    iam.attach_role_policy()
        .role_name("deployer")
        .policy_arn(full)
        .send()
        .await
        .unwrap();
    let attached = iam
        .list_attached_role_policies()
        .role_name("deployer")
        .send()
        .await
        .unwrap();
    assert_eq!(attached.attached_policies()[0].policy_arn(), Some(full));
    let entities = iam
        .list_entities_for_policy()
        .policy_arn(full)
        .entity_filter(aws_sdk_iam::types::EntityType::Role)
        .send()
        .await
        .unwrap();
    assert_eq!(entities.policy_roles()[0].role_name(), Some("deployer"));

    // Policies left on it keep a role from being deleted, as in IAM.
    let err = iam.delete_role().role_name("deployer").send().await.unwrap_err();
    assert_eq!(code(&err), "DeleteConflict");
    iam.detach_role_policy()
        .role_name("deployer")
        .policy_arn(full)
        .send()
        .await
        .unwrap();
    let err = iam
        .detach_role_policy()
        .role_name("deployer")
        .policy_arn(full)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "NoSuchEntity");
    let err = iam.delete_role().role_name("deployer").send().await.unwrap_err();
    assert_eq!(code(&err), "DeleteConflict", "the inline policy is still there");
    iam.delete_role_policy()
        .role_name("deployer")
        .policy_name("upload")
        .send()
        .await
        .unwrap();
    let err = iam
        .get_role_policy()
        .role_name("deployer")
        .policy_name("upload")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "NoSuchEntity");

    // A boundary is set and removed; a policy that does not exist is not one.
    let read_only = "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess";
    iam.put_role_permissions_boundary()
        .role_name("deployer")
        .permissions_boundary(read_only)
        .send()
        .await
        .unwrap();
    let got = iam.get_role().role_name("deployer").send().await.unwrap();
    assert_eq!(
        got.role()
            .unwrap()
            .permissions_boundary()
            .and_then(|b| b.permissions_boundary_arn()),
        Some(read_only)
    );
    let err = iam
        .put_role_permissions_boundary()
        .role_name("deployer")
        .permissions_boundary(format!("arn:aws:iam::{account}:policy/missing"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "NoSuchEntity");
    iam.delete_role_permissions_boundary()
        .role_name("deployer")
        .send()
        .await
        .unwrap();
    let got = iam.get_role().role_name("deployer").send().await.unwrap();
    assert!(got.role().unwrap().permissions_boundary().is_none());
    let err = iam
        .delete_role_permissions_boundary()
        .role_name("deployer")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "NoSuchEntity");

    iam.delete_role().role_name("deployer").send().await.unwrap();
    let err = iam
        .put_role_policy()
        .role_name("deployer")
        .policy_name("upload")
        .policy_document(document)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "NoSuchEntity");
}

#[tokio::test]
async fn creating_a_role_is_allowed_or_denied_by_the_tags_it_carries() {
    let coffer = Coffer::start();
    let iam = coffer.root_iam();
    let account = coffer.account_id().await;
    let (id, secret) = coffer.user_with_key("builder").await;
    let policy = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:CreateRole","iam:TagRole"],"Resource":"*","Condition":{"StringEquals":{"aws:RequestTag/team":"platform"}}}]}"#;
    iam.put_user_policy()
        .user_name("builder")
        .policy_name("tagged-roles-only")
        .policy_document(policy)
        .send()
        .await
        .unwrap();
    let builder = coffer.iam(&id, &secret);
    let create = |name: &'static str, team: &'static str| {
        builder
            .create_role()
            .role_name(name)
            .assume_role_policy_document(trust(&format!("arn:aws:iam::{account}:root")))
            .tags(Tag::builder().key("team").value(team).build().unwrap())
            .send()
    };
    create("platform-deployer", "platform").await.unwrap();
    let err = create("other-deployer", "other").await.unwrap_err();
    assert_eq!(code(&err), "AccessDenied");
}

#[tokio::test]
async fn a_user_is_created_within_a_boundary_and_both_answer_its_type_as_aws_does() {
    let coffer = Coffer::start();
    let iam = coffer.root_iam();
    let account = coffer.account_id().await;
    let read_only = "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess";
    let created = iam
        .create_user()
        .user_name("bounded")
        .permissions_boundary(read_only)
        .send()
        .await
        .unwrap();
    let boundary = created.user().unwrap().permissions_boundary().unwrap();
    assert_eq!(boundary.permissions_boundary_arn(), Some(read_only));
    let got = iam.get_user().user_name("bounded").send().await.unwrap();
    let boundary = got.user().unwrap().permissions_boundary().unwrap();
    assert_eq!(boundary.permissions_boundary_type().map(|t| t.as_str()), Some("Policy"));
    // The boundary holds: its key may read objects and nothing more, whatever is attached.
    iam.attach_user_policy()
        .user_name("bounded")
        .policy_arn("arn:aws:iam::aws:policy/AmazonS3FullAccess")
        .send()
        .await
        .unwrap();
    let key = iam.create_access_key().user_name("bounded").send().await.unwrap();
    let key = key.access_key().unwrap();
    let s3 = coffer.s3(key.access_key_id(), key.secret_access_key());
    assert!(s3.list_buckets().send().await.is_ok());
    assert!(s3.create_bucket().bucket("not-allowed").send().await.is_err());

    let err = iam
        .create_user()
        .user_name("unbounded")
        .permissions_boundary(format!("arn:aws:iam::{account}:policy/missing"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "NoSuchEntity");
    let err = iam.get_user().user_name("unbounded").send().await.unwrap_err();
    assert_eq!(code(&err), "NoSuchEntity", "nothing refused was created");
}

/// IAM's quota: ten managed policies per user, group or role (LimitExceeded); attaching one
/// already attached is not another.
#[tokio::test]
async fn at_most_ten_managed_policies_attach_to_a_role_user_or_group() {
    let coffer = Coffer::start();
    let iam = coffer.root_iam();
    let trust =
        r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"sts:AssumeRole"}}"#;
    iam.create_role()
        .role_name("busy")
        .assume_role_policy_document(trust)
        .send()
        .await
        .unwrap();
    iam.create_user().user_name("busy").send().await.unwrap();
    iam.create_group().group_name("busy").send().await.unwrap();
    let mut arns = Vec::new();
    for n in 0..11 {
        let policy = iam
            .create_policy()
            .policy_name(format!("p{n}"))
            .policy_document(
                r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}}"#,
            )
            .send()
            .await
            .unwrap();
        arns.push(policy.policy().unwrap().arn().unwrap().to_owned());
    }
    for arn in &arns[..10] {
        iam.attach_role_policy()
            .role_name("busy")
            .policy_arn(arn)
            .send()
            .await
            .unwrap();
        iam.attach_user_policy()
            .user_name("busy")
            .policy_arn(arn)
            .send()
            .await
            .unwrap();
        iam.attach_group_policy()
            .group_name("busy")
            .policy_arn(arn)
            .send()
            .await
            .unwrap();
    }
    iam.attach_role_policy()
        .role_name("busy")
        .policy_arn(&arns[0])
        .send()
        .await
        .unwrap();
    let err = iam
        .attach_role_policy()
        .role_name("busy")
        .policy_arn(&arns[10])
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "LimitExceeded");
    assert!(format!("{err:?}").contains("PoliciesPerRole: 10"));
    let err = iam
        .attach_user_policy()
        .user_name("busy")
        .policy_arn(&arns[10])
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "LimitExceeded");
    let err = iam
        .attach_group_policy()
        .group_name("busy")
        .policy_arn(&arns[10])
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "LimitExceeded");
    iam.detach_role_policy()
        .role_name("busy")
        .policy_arn(&arns[0])
        .send()
        .await
        .unwrap();
    iam.attach_role_policy()
        .role_name("busy")
        .policy_arn(&arns[10])
        .send()
        .await
        .unwrap();
}

/// `aws:ResourceTag/*` of the IAM user or role a request is about.
#[tokio::test]
async fn iam_resource_tags_decide_conditions() {
    let coffer = Coffer::start();
    let iam = coffer.root_iam();
    let tag = |value: &str| Tag::builder().key("team").value(value).build().unwrap();
    iam.create_user()
        .user_name("bob")
        .tags(tag("blue"))
        .send()
        .await
        .unwrap();
    iam.create_user()
        .user_name("carol")
        .tags(tag("red"))
        .send()
        .await
        .unwrap();
    iam.create_role()
        .role_name("blue-role")
        .assume_role_policy_document(trust("*"))
        .tags(tag("blue"))
        .send()
        .await
        .unwrap();
    iam.create_role()
        .role_name("red-role")
        .assume_role_policy_document(trust("*"))
        .send()
        .await
        .unwrap();
    let (key, secret) = coffer.user_with_key("alice").await;
    iam.put_user_policy()
        .user_name("alice")
        .policy_name("blue-only")
        .policy_document(
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":["iam:GetUser","iam:GetRole"],"Resource":"*","Condition":{"StringEquals":{"aws:ResourceTag/team":"blue"}}}}"#,
        )
        .send()
        .await
        .unwrap();
    let alice = coffer.iam(&key, &secret);
    alice.get_user().user_name("bob").send().await.unwrap();
    assert_eq!(
        code(&alice.get_user().user_name("carol").send().await.unwrap_err()),
        "AccessDenied"
    );
    alice.get_role().role_name("blue-role").send().await.unwrap();
    assert_eq!(
        code(&alice.get_role().role_name("red-role").send().await.unwrap_err()),
        "AccessDenied"
    );
    // Retagged, at the next request.
    iam.tag_user()
        .user_name("carol")
        .tags(tag("blue"))
        .send()
        .await
        .unwrap();
    alice.get_user().user_name("carol").send().await.unwrap();
}
