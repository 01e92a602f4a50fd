//! STS: GetCallerIdentity, AssumeRole and GetSessionToken, and temporary credentials used
//! against S3, IAM and STS through the SDK.

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_sts::error::ProvideErrorMetadata;

use crate::harness::{Coffer, ROOT_KEY_ID, ROOT_SECRET, SessionKeys, assert_aws_error};

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
        .decode_authorization_message()
        .encoded_message("opaque")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.as_service_error().and_then(|e| e.code()), Some("NotImplemented"));
}

/// A trust policy letting in every principal of `account` that its own policies allow.
fn trust_account(account: &str) -> String {
    format!(
        r#"{{"Version":"2012-10-17","Statement":{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{account}:root"}},"Action":"sts:AssumeRole"}}}}"#
    )
}

fn allow(action: &str, resource: &str) -> String {
    format!(
        r#"{{"Version":"2012-10-17","Statement":{{"Effect":"Allow","Action":"{action}","Resource":"{resource}"}}}}"#
    )
}

/// Creates role `name` with `trust` and the AWS managed policy `managed` attached.
async fn role(coffer: &Coffer, name: &str, trust: &str, managed: &str) -> String {
    let iam = coffer.root_iam();
    let created = iam
        .create_role()
        .role_name(name)
        .assume_role_policy_document(trust)
        .send()
        .await
        .unwrap();
    iam.attach_role_policy()
        .role_name(name)
        .policy_arn(format!("arn:aws:iam::aws:policy/{managed}"))
        .send()
        .await
        .unwrap();
    created.role().unwrap().arn().to_owned()
}

/// Creates user `name` with a key, allowed `sts:AssumeRole` on `role_arn`.
async fn user_who_may_assume(coffer: &Coffer, name: &str, role_arn: &str) -> (String, String) {
    let keys = coffer.user_with_key(name).await;
    coffer
        .root_iam()
        .put_user_policy()
        .user_name(name)
        .policy_name("assume")
        .policy_document(allow("sts:AssumeRole", role_arn))
        .send()
        .await
        .unwrap();
    keys
}

async fn assume(
    coffer: &Coffer,
    (key, secret): &(String, String),
    role_arn: &str,
    session: &str,
) -> Result<SessionKeys, String> {
    coffer
        .sts(key, secret, "us-east-1")
        .assume_role()
        .role_arn(role_arn)
        .role_session_name(session)
        .send()
        .await
        .map(|out| SessionKeys::of(out.credentials().unwrap()))
        .map_err(|e| e.as_service_error().and_then(|e| e.code()).unwrap_or("?").to_owned())
}

#[tokio::test]
async fn a_user_assumes_a_role_and_its_session_acts_with_the_roles_permissions_as_they_are_now() {
    let coffer = Coffer::start();
    let account = coffer.account_id().await;
    coffer
        .root_s3()
        .create_bucket()
        .bucket("artifacts")
        .send()
        .await
        .unwrap();
    let role_arn = role(&coffer, "deployer", &trust_account(&account), "AmazonS3FullAccess").await;
    let alice = user_who_may_assume(&coffer, "alice", &role_arn).await;

    let out = coffer
        .sts(&alice.0, &alice.1, "us-east-1")
        .assume_role()
        .role_arn(&role_arn)
        .role_session_name("ci-42")
        .duration_seconds(1800)
        .send()
        .await
        .unwrap();
    let user = out.assumed_role_user().unwrap();
    assert_eq!(
        user.arn(),
        format!("arn:aws:sts::{account}:assumed-role/deployer/ci-42")
    );
    assert!(user.assumed_role_id().starts_with("AROA") && user.assumed_role_id().ends_with(":ci-42"));
    let credentials = out.credentials().unwrap();
    assert!(credentials.access_key_id().starts_with("ASIA"));
    let lasts = credentials.expiration().secs() - time::OffsetDateTime::now_utc().unix_timestamp();
    assert!((1790..=1800).contains(&lasts), "{lasts}");
    let session = SessionKeys::of(credentials);

    let me = coffer.sts_session(&session).get_caller_identity().send().await.unwrap();
    assert_eq!(me.arn(), Some(user.arn()));
    assert_eq!(me.user_id(), Some(user.assumed_role_id()));
    assert_eq!(me.account(), Some(account.as_str()));

    // The session may write; alice herself may not.
    let s3 = coffer.s3_session(&session);
    s3.put_object()
        .bucket("artifacts")
        .key("build.tar")
        .body(ByteStream::from_static(b"bytes"))
        .send()
        .await
        .unwrap();
    let got = s3
        .get_object()
        .bucket("artifacts")
        .key("build.tar")
        .send()
        .await
        .unwrap();
    assert_eq!(got.body.collect().await.unwrap().into_bytes().as_ref(), b"bytes");
    let err = coffer
        .s3(&alice.0, &alice.1)
        .get_object()
        .bucket("artifacts")
        .key("build.tar")
        .send()
        .await
        .unwrap_err();
    assert_aws_error(&err, "AccessDenied", 403);

    // Taking the policy from the role takes it from its live sessions at once.
    coffer
        .root_iam()
        .detach_role_policy()
        .role_name("deployer")
        .policy_arn("arn:aws:iam::aws:policy/AmazonS3FullAccess")
        .send()
        .await
        .unwrap();
    let err = s3
        .get_object()
        .bucket("artifacts")
        .key("build.tar")
        .send()
        .await
        .unwrap_err();
    assert_aws_error(&err, "AccessDenied", 403);
    // GetRole tells when the role was last used.
    let got = coffer.root_iam().get_role().role_name("deployer").send().await.unwrap();
    let last_used = got.role().unwrap().role_last_used().unwrap();
    assert!(last_used.last_used_date().is_some());
    assert_eq!(last_used.region(), Some("us-east-1"));
}

#[tokio::test]
async fn the_trust_policy_and_the_callers_own_policies_decide_who_may_assume() {
    let coffer = Coffer::start();
    let account = coffer.account_id().await;
    let role_arn = role(&coffer, "reader", &trust_account(&account), "AmazonS3ReadOnlyAccess").await;
    // Trusting the account delegates to the account's policies: bob has none.
    let bob = coffer.user_with_key("bob").await;
    assert_eq!(
        assume(&coffer, &bob, &role_arn, "s1").await.unwrap_err(),
        "AccessDenied"
    );
    // The root user may never assume a role.
    let root = (ROOT_KEY_ID.to_owned(), ROOT_SECRET.to_owned());
    assert_eq!(
        assume(&coffer, &root, &role_arn, "s1").await.unwrap_err(),
        "AccessDenied"
    );
    // A role that does not exist, or with another path in its ARN, is denied the same way.
    let alice = user_who_may_assume(&coffer, "alice", "*").await;
    let missing = format!("arn:aws:iam::{account}:role/nobody");
    assert_eq!(
        assume(&coffer, &alice, &missing, "s1").await.unwrap_err(),
        "AccessDenied"
    );
    let other_path = format!("arn:aws:iam::{account}:role/ops/reader");
    assert_eq!(
        assume(&coffer, &alice, &other_path, "s1").await.unwrap_err(),
        "AccessDenied"
    );
    assert!(assume(&coffer, &alice, &role_arn, "s1").await.is_ok());
    // An explicit deny in the caller's policies wins over the trust policy.
    coffer
        .root_iam()
        .put_user_policy()
        .user_name("alice")
        .policy_name("no")
        .policy_document(
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":"sts:AssumeRole","Resource":"*"}}"#,
        )
        .send()
        .await
        .unwrap();
    assert_eq!(
        assume(&coffer, &alice, &role_arn, "s1").await.unwrap_err(),
        "AccessDenied"
    );

    // A trust policy naming a user lets that user in without a policy of its own, when the
    // ExternalId it asks for is given.
    let carol = coffer.user_with_key("carol").await;
    let trust = format!(
        r#"{{"Version":"2012-10-17","Statement":{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{account}:user/carol"}},"Action":"sts:AssumeRole","Condition":{{"StringEquals":{{"sts:ExternalId":"zebra-42"}}}}}}}}"#
    );
    let partner = role(&coffer, "partner", &trust, "AmazonS3ReadOnlyAccess").await;
    let sts = coffer.sts(&carol.0, &carol.1, "us-east-1");
    let ask = |external: Option<&str>| {
        sts.assume_role()
            .role_arn(&partner)
            .role_session_name("p1")
            .set_external_id(external.map(str::to_owned))
            .send()
    };
    assert_eq!(ask(None).await.unwrap_err().code(), Some("AccessDenied"));
    assert_eq!(ask(Some("wrong-1")).await.unwrap_err().code(), Some("AccessDenied"));
    assert!(ask(Some("zebra-42")).await.is_ok());
    // However much dave's own policies allow, a trust policy that does not name him (or his
    // account) keeps him out, in the role's own account too.
    let dave = user_who_may_assume(&coffer, "dave", "*").await;
    assert_eq!(
        assume(&coffer, &dave, &partner, "d1").await.unwrap_err(),
        "AccessDenied"
    );
}

#[tokio::test]
async fn assume_role_checks_its_parameters_as_sts_does() {
    let coffer = Coffer::start();
    let account = coffer.account_id().await;
    let role_arn = role(&coffer, "short", &trust_account(&account), "AmazonS3ReadOnlyAccess").await;
    let alice = user_who_may_assume(&coffer, "alice", &role_arn).await;
    let sts = coffer.sts(&alice.0, &alice.1, "us-east-1");
    let code = |err: aws_sdk_sts::error::SdkError<_>| {
        let err: aws_sdk_sts::operation::assume_role::AssumeRoleError = err.into_service_error();
        (
            err.code().unwrap_or("?").to_owned(),
            err.message().unwrap_or("").to_owned(),
        )
    };
    let err = sts
        .assume_role()
        .role_arn(&role_arn)
        .role_session_name("bad name")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(err).0, "ValidationError");
    // Longer than the role's MaxSessionDuration (an hour by default).
    let err = sts
        .assume_role()
        .role_arn(&role_arn)
        .role_session_name("s1")
        .duration_seconds(7200)
        .send()
        .await
        .unwrap_err();
    let (code_, message) = code(err);
    assert_eq!(code_, "ValidationError");
    assert!(message.contains("MaxSessionDuration"), "{message}");
    let err = sts
        .assume_role()
        .role_arn(&role_arn)
        .role_session_name("s1")
        .duration_seconds(600)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(err).0, "ValidationError");
    let err = sts
        .assume_role()
        .role_arn(&role_arn)
        .role_session_name("s1")
        .policy("{not json")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(err).0, "MalformedPolicyDocument");
    let huge = format!(
        r#"{{"Version":"2012-10-17","Statement":{{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::{}"}}}}"#,
        "x".repeat(3000)
    );
    let err = sts
        .assume_role()
        .role_arn(&role_arn)
        .role_session_name("s1")
        .policy(huge)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(err).0, "PackedPolicyTooLarge");
    let err = sts
        .assume_role()
        .role_arn("not-an-arn-at-all-really")
        .role_session_name("s1")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(err).0, "ValidationError");
}

#[tokio::test]
async fn session_policies_narrow_a_session_and_never_widen_it() {
    let coffer = Coffer::start();
    let account = coffer.account_id().await;
    let s3 = coffer.root_s3();
    s3.create_bucket().bucket("data").send().await.unwrap();
    for key in ["public/a", "private/b"] {
        s3.put_object()
            .bucket("data")
            .key(key)
            .body(ByteStream::from_static(b"x"))
            .send()
            .await
            .unwrap();
    }
    let role_arn = role(&coffer, "reader", &trust_account(&account), "AmazonS3ReadOnlyAccess").await;
    let alice = user_who_may_assume(&coffer, "alice", &role_arn).await;
    // Only public/*, and (never granted by the role) writes.
    let session_policy = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":["s3:GetObject","s3:PutObject"],"Resource":"arn:aws:s3:::data/public/*"}}"#;
    let out = coffer
        .sts(&alice.0, &alice.1, "us-east-1")
        .assume_role()
        .role_arn(&role_arn)
        .role_session_name("narrow")
        .policy(session_policy)
        .send()
        .await
        .unwrap();
    #[allow(deprecated)] // still answered by AWS; the SDK prefers a newer field
    let packed = out.packed_policy_size().unwrap();
    assert!(packed > 0);
    let session = coffer.s3_session(&SessionKeys::of(out.credentials().unwrap()));
    session
        .get_object()
        .bucket("data")
        .key("public/a")
        .send()
        .await
        .unwrap();
    let err = session
        .get_object()
        .bucket("data")
        .key("private/b")
        .send()
        .await
        .unwrap_err();
    assert_aws_error(&err, "AccessDenied", 403);
    let err = session
        .put_object()
        .bucket("data")
        .key("public/c")
        .body(ByteStream::from_static(b"x"))
        .send()
        .await
        .unwrap_err();
    assert_aws_error(&err, "AccessDenied", 403);

    // A managed session policy (by ARN) narrows the same way.
    let out = coffer
        .sts(&alice.0, &alice.1, "us-east-1")
        .assume_role()
        .role_arn(&role_arn)
        .role_session_name("managed")
        .policy_arns(
            aws_sdk_sts::types::PolicyDescriptorType::builder()
                .arn("arn:aws:iam::aws:policy/IAMReadOnlyAccess")
                .build(),
        )
        .send()
        .await
        .unwrap();
    let session = coffer.s3_session(&SessionKeys::of(out.credentials().unwrap()));
    let err = session
        .get_object()
        .bucket("data")
        .key("public/a")
        .send()
        .await
        .unwrap_err();
    assert_aws_error(&err, "AccessDenied", 403);
}

#[tokio::test]
async fn a_bucket_policy_may_name_a_role_or_one_of_its_sessions() {
    let coffer = Coffer::start();
    let account = coffer.account_id().await;
    let s3 = coffer.root_s3();
    s3.create_bucket().bucket("shared").send().await.unwrap();
    s3.put_object()
        .bucket("shared")
        .key("k")
        .body(ByteStream::from_static(b"x"))
        .send()
        .await
        .unwrap();
    // The role itself has no S3 permissions.
    let role_arn = role(&coffer, "visitor", &trust_account(&account), "IAMReadOnlyAccess").await;
    let alice = user_who_may_assume(&coffer, "alice", &role_arn).await;
    let one = coffer.s3_session(&assume(&coffer, &alice, &role_arn, "one").await.unwrap());
    let two = coffer.s3_session(&assume(&coffer, &alice, &role_arn, "two").await.unwrap());
    let policy = |principal: &str| {
        format!(
            r#"{{"Version":"2012-10-17","Statement":{{"Effect":"Allow","Principal":{{"AWS":"{principal}"}},"Action":"s3:GetObject","Resource":"arn:aws:s3:::shared/*"}}}}"#
        )
    };
    s3.put_bucket_policy()
        .bucket("shared")
        .policy(policy(&role_arn))
        .send()
        .await
        .unwrap();
    one.get_object().bucket("shared").key("k").send().await.unwrap();
    two.get_object().bucket("shared").key("k").send().await.unwrap();
    let session_arn = format!("arn:aws:sts::{account}:assumed-role/visitor/one");
    s3.put_bucket_policy()
        .bucket("shared")
        .policy(policy(&session_arn))
        .send()
        .await
        .unwrap();
    one.get_object().bucket("shared").key("k").send().await.unwrap();
    let err = two.get_object().bucket("shared").key("k").send().await.unwrap_err();
    assert_aws_error(&err, "AccessDenied", 403);
}

#[tokio::test]
async fn role_chaining_is_capped_at_an_hour_and_keeps_the_source_identity() {
    let coffer = Coffer::start();
    let account = coffer.account_id().await;
    let second = role(&coffer, "second", &trust_account(&account), "AmazonS3ReadOnlyAccess").await;
    let first = role(&coffer, "first", &trust_account(&account), "AmazonS3ReadOnlyAccess").await;
    coffer
        .root_iam()
        .update_role()
        .role_name("second")
        .max_session_duration(43200)
        .send()
        .await
        .unwrap();
    coffer
        .root_iam()
        .put_role_policy()
        .role_name("first")
        .policy_name("chain")
        .policy_document(allow("sts:*", &second))
        .send()
        .await
        .unwrap();
    let alice = user_who_may_assume(&coffer, "alice", &first).await;
    let trust_with_source = format!(
        r#"{{"Version":"2012-10-17","Statement":{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{account}:root"}},"Action":["sts:AssumeRole","sts:SetSourceIdentity"]}}}}"#
    );
    for name in ["first", "second"] {
        coffer
            .root_iam()
            .update_assume_role_policy()
            .role_name(name)
            .policy_document(&trust_with_source)
            .send()
            .await
            .unwrap();
    }
    coffer
        .root_iam()
        .put_user_policy()
        .user_name("alice")
        .policy_name("source")
        .policy_document(allow("sts:SetSourceIdentity", &first))
        .send()
        .await
        .unwrap();
    let out = coffer
        .sts(&alice.0, &alice.1, "us-east-1")
        .assume_role()
        .role_arn(&first)
        .role_session_name("hop1")
        .source_identity("alice-laptop")
        .send()
        .await
        .unwrap();
    assert_eq!(out.source_identity(), Some("alice-laptop"));
    let hop1 = coffer.sts_session(&SessionKeys::of(out.credentials().unwrap()));
    let err = hop1
        .assume_role()
        .role_arn(&second)
        .role_session_name("hop2")
        .duration_seconds(7200)
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("ValidationError"));
    assert!(err.message().unwrap().contains("role chaining"), "{err:?}");
    let out = hop1
        .assume_role()
        .role_arn(&second)
        .role_session_name("hop2")
        .duration_seconds(3600)
        .send()
        .await
        .unwrap();
    assert_eq!(out.source_identity(), Some("alice-laptop"));
    let hop2 = coffer.sts_session(&SessionKeys::of(out.credentials().unwrap()));
    let me = hop2.get_caller_identity().send().await.unwrap();
    assert_eq!(
        me.arn(),
        Some(format!("arn:aws:sts::{account}:assumed-role/second/hop2").as_str())
    );
}

#[tokio::test]
async fn get_session_token_gives_the_callers_own_permissions_but_not_iam() {
    let coffer = Coffer::start();
    coffer.root_s3().create_bucket().bucket("own").send().await.unwrap();
    let alice = coffer.user_with_key("alice").await;
    coffer
        .root_iam()
        .put_user_policy()
        .user_name("alice")
        .policy_name("list")
        .policy_document(allow("s3:ListBucket", "arn:aws:s3:::own"))
        .send()
        .await
        .unwrap();
    let out = coffer
        .sts(&alice.0, &alice.1, "us-east-1")
        .get_session_token()
        .duration_seconds(3600)
        .send()
        .await
        .unwrap();
    let session = SessionKeys::of(out.credentials().unwrap());
    assert!(session.key_id.starts_with("ASIA"));
    let me = coffer.sts_session(&session).get_caller_identity().send().await.unwrap();
    assert!(me.arn().unwrap().ends_with(":user/alice"));
    coffer
        .s3_session(&session)
        .list_objects_v2()
        .bucket("own")
        .send()
        .await
        .unwrap();
    let err = coffer
        .s3_session(&session)
        .put_object()
        .bucket("own")
        .key("k")
        .body(ByteStream::from_static(b"x"))
        .send()
        .await
        .unwrap_err();
    assert_aws_error(&err, "AccessDenied", 403);
    let err = coffer.iam_session(&session).list_users().send().await.unwrap_err();
    assert_eq!(err.code(), Some("InvalidClientTokenId"));
    // Session credentials cannot make more of themselves.
    let err = coffer
        .sts_session(&session)
        .get_session_token()
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("AccessDenied"));
    // Out of range.
    let err = coffer
        .sts(&alice.0, &alice.1, "us-east-1")
        .get_session_token()
        .duration_seconds(129_601)
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("ValidationError"));
    // The root user's last an hour at most.
    let out = coffer
        .sts(ROOT_KEY_ID, ROOT_SECRET, "us-east-1")
        .get_session_token()
        .duration_seconds(7200)
        .send()
        .await
        .unwrap();
    let lasts = out.credentials().unwrap().expiration().secs() - time::OffsetDateTime::now_utc().unix_timestamp();
    assert!((3590..=3600).contains(&lasts), "{lasts}");
}

#[tokio::test]
async fn garbled_foreign_and_expired_tokens_are_refused_with_awss_errors() {
    let coffer = Coffer::start();
    let account = coffer.account_id().await;
    coffer.root_s3().create_bucket().bucket("bkt").send().await.unwrap();
    let role_arn = role(&coffer, "r", &trust_account(&account), "AmazonS3ReadOnlyAccess").await;
    let alice = user_who_may_assume(&coffer, "alice", &role_arn).await;
    let one = assume(&coffer, &alice, &role_arn, "one").await.unwrap();
    let two = assume(&coffer, &alice, &role_arn, "two").await.unwrap();
    coffer
        .s3_session(&one)
        .list_objects_v2()
        .bucket("bkt")
        .send()
        .await
        .unwrap();

    let mut garbled = one.clone();
    garbled.token = format!("A{}", &one.token[1..]).replace("AAAA", "BBBB");
    garbled.token.insert(10, 'x');
    let err = coffer
        .s3_session(&garbled)
        .list_objects_v2()
        .bucket("bkt")
        .send()
        .await
        .unwrap_err();
    assert_aws_error(&err, "InvalidToken", 400);
    let err = coffer
        .sts_session(&garbled)
        .get_caller_identity()
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("InvalidClientTokenId"));
    assert_eq!(err.raw_response().unwrap().status().as_u16(), 403);

    // Another session's token does not vouch for this key.
    let swapped = SessionKeys {
        token: two.token.clone(),
        ..one.clone()
    };
    let err = coffer
        .s3_session(&swapped)
        .list_objects_v2()
        .bucket("bkt")
        .send()
        .await
        .unwrap_err();
    assert_aws_error(&err, "InvalidToken", 400);
    // A temporary key without its token is unknown.
    let err = coffer
        .s3(&one.key_id, &one.secret)
        .list_objects_v2()
        .bucket("bkt")
        .send()
        .await
        .unwrap_err();
    assert_aws_error(&err, "InvalidAccessKeyId", 403);
    let err = coffer
        .sts(&one.key_id, &one.secret, "us-east-1")
        .get_caller_identity()
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("InvalidClientTokenId"));
    // The right token with the wrong secret is a bad signature.
    let wrong_secret = SessionKeys {
        secret: two.secret.clone(),
        ..one.clone()
    };
    let err = coffer
        .s3_session(&wrong_secret)
        .list_objects_v2()
        .bucket("bkt")
        .send()
        .await
        .unwrap_err();
    assert_aws_error(&err, "SignatureDoesNotMatch", 403);
    // A token sent with a long-term key.
    let with_long_term = SessionKeys {
        key_id: alice.0.clone(),
        secret: alice.1.clone(),
        token: one.token.clone(),
    };
    let err = coffer
        .s3_session(&with_long_term)
        .list_objects_v2()
        .bucket("bkt")
        .send()
        .await
        .unwrap_err();
    assert_aws_error(&err, "InvalidToken", 400);

    // An expired token, sealed with the server's own master key so it is otherwise valid.
    let sealer = coffer_store::Sealer::load_or_create(coffer.data_dir()).unwrap();
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let stale = coffer_auth::session::issue(
        &sealer,
        &account,
        coffer_auth::Identity::Root,
        coffer_auth::SessionFacts {
            issued_at: now - 7200,
            expires_at: now - 60,
            ..Default::default()
        },
    );
    let stale = SessionKeys {
        key_id: stale.access_key_id,
        secret: stale.secret_access_key,
        token: stale.session_token,
    };
    let err = coffer
        .s3_session(&stale)
        .list_objects_v2()
        .bucket("bkt")
        .send()
        .await
        .unwrap_err();
    assert_aws_error(&err, "ExpiredToken", 400);
    let err = coffer
        .sts_session(&stale)
        .get_caller_identity()
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("ExpiredToken"));
    assert_eq!(err.raw_response().unwrap().status().as_u16(), 403);
}

#[tokio::test]
async fn a_presigned_url_carries_its_session_token() {
    let coffer = Coffer::start();
    let account = coffer.account_id().await;
    let s3 = coffer.root_s3();
    s3.create_bucket().bucket("pre").send().await.unwrap();
    s3.put_object()
        .bucket("pre")
        .key("k")
        .body(ByteStream::from_static(b"signed"))
        .send()
        .await
        .unwrap();
    let role_arn = role(&coffer, "r", &trust_account(&account), "AmazonS3ReadOnlyAccess").await;
    let alice = user_who_may_assume(&coffer, "alice", &role_arn).await;
    let session = assume(&coffer, &alice, &role_arn, "pre").await.unwrap();
    let presigned = coffer
        .s3_session(&session)
        .get_object()
        .bucket("pre")
        .key("k")
        .presigned(aws_sdk_s3::presigning::PresigningConfig::expires_in(std::time::Duration::from_secs(300)).unwrap())
        .await
        .unwrap();
    assert!(presigned.uri().contains("X-Amz-Security-Token="));
    let response = reqwest::get(presigned.uri()).await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.bytes().await.unwrap().as_ref(), b"signed");
    // The same URL with the token cut off is refused.
    let cut: String = presigned
        .uri()
        .split('&')
        .filter(|part| !part.starts_with("X-Amz-Security-Token="))
        .collect::<Vec<_>>()
        .join("&");
    assert_eq!(reqwest::get(&cut).await.unwrap().status(), 403);
}

#[tokio::test]
async fn a_role_in_another_account_needs_both_sides_to_agree() {
    let coffer = Coffer::start();
    let home = coffer.account_id().await;
    let (other_key, other_secret) = coffer.other_account("partner");
    let other_iam = coffer.iam(&other_key, &other_secret);
    let trust = trust_account(&home);
    let created = other_iam
        .create_role()
        .role_name("auditor")
        .assume_role_policy_document(trust)
        .send()
        .await
        .unwrap();
    let role_arn = created.role().unwrap().arn().to_owned();
    other_iam
        .attach_role_policy()
        .role_name("auditor")
        .policy_arn("arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess")
        .send()
        .await
        .unwrap();
    // The trust side alone is not enough: bob's own account must allow it too.
    let bob = coffer.user_with_key("bob").await;
    assert_eq!(
        assume(&coffer, &bob, &role_arn, "x1").await.unwrap_err(),
        "AccessDenied"
    );
    let alice = user_who_may_assume(&coffer, "alice", &role_arn).await;
    let session = assume(&coffer, &alice, &role_arn, "x1").await.unwrap();
    let me = coffer.sts_session(&session).get_caller_identity().send().await.unwrap();
    let other = me.account().unwrap();
    assert_ne!(other, home);
    assert_eq!(
        me.arn(),
        Some(format!("arn:aws:sts::{other}:assumed-role/auditor/x1").as_str())
    );
}

#[tokio::test]
async fn a_federated_user_has_its_makers_permissions_narrowed_by_its_session_policy() {
    let coffer = Coffer::start();
    let account = coffer.account_id().await;
    let s3 = coffer.root_s3();
    s3.create_bucket().bucket("fed").send().await.unwrap();
    s3.put_object()
        .bucket("fed")
        .key("k")
        .body(ByteStream::from_static(b"x"))
        .send()
        .await
        .unwrap();
    let broker = coffer.user_with_key("broker").await;
    let broker_policy = r#"{"Version":"2012-10-17","Statement":[
        {"Effect":"Allow","Action":"sts:GetFederationToken","Resource":"*"},
        {"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::fed/*"}]}"#;
    coffer
        .root_iam()
        .put_user_policy()
        .user_name("broker")
        .policy_name("broker")
        .policy_document(broker_policy)
        .send()
        .await
        .unwrap();
    let sts = coffer.sts(&broker.0, &broker.1, "us-east-1");
    // No session policy: the federated user may do nothing.
    let out = sts.get_federation_token().name("bob").send().await.unwrap();
    let user = out.federated_user().unwrap();
    assert_eq!(user.arn(), format!("arn:aws:sts::{account}:federated-user/bob"));
    assert_eq!(user.federated_user_id(), format!("{account}:bob"));
    let bare = SessionKeys::of(out.credentials().unwrap());
    let err = coffer
        .s3_session(&bare)
        .get_object()
        .bucket("fed")
        .key("k")
        .send()
        .await
        .unwrap_err();
    assert_aws_error(&err, "AccessDenied", 403);
    let me = coffer.sts_session(&bare).get_caller_identity().send().await.unwrap();
    assert_eq!(me.arn(), Some(user.arn()));
    // A session policy that allows more than the broker has gives only the overlap.
    let out = sts
        .get_federation_token()
        .name("carol")
        .policy(r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*"}}"#)
        .send()
        .await
        .unwrap();
    let carol = coffer.s3_session(&SessionKeys::of(out.credentials().unwrap()));
    carol.get_object().bucket("fed").key("k").send().await.unwrap();
    let err = carol
        .put_object()
        .bucket("fed")
        .key("new")
        .body(ByteStream::from_static(b"x"))
        .send()
        .await
        .unwrap_err();
    assert_aws_error(&err, "AccessDenied", 403);
    // Its credentials serve neither IAM nor another federation.
    let keys = SessionKeys::of(out.credentials().unwrap());
    let err = coffer.iam_session(&keys).list_users().send().await.unwrap_err();
    assert_eq!(err.code(), Some("InvalidClientTokenId"));
    let err = coffer
        .sts_session(&keys)
        .get_federation_token()
        .name("dave")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("AccessDenied"));
    // Without sts:GetFederationToken, a user may not make one.
    let plain = coffer.user_with_key("plain").await;
    let err = coffer
        .sts(&plain.0, &plain.1, "us-east-1")
        .get_federation_token()
        .name("eve")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("AccessDenied"));
    let err = sts.get_federation_token().name("x").send().await.unwrap_err();
    assert_eq!(err.code(), Some("ValidationError"));
}

#[tokio::test]
async fn get_access_key_info_names_the_keys_account() {
    let coffer = Coffer::start();
    let account = coffer.account_id().await;
    let (other_key, _) = coffer.other_account("elsewhere");
    let alice = coffer.user_with_key("alice").await;
    coffer
        .root_iam()
        .put_user_policy()
        .user_name("alice")
        .policy_name("info")
        .policy_document(allow("sts:GetAccessKeyInfo", "*"))
        .send()
        .await
        .unwrap();
    let sts = coffer.sts(&alice.0, &alice.1, "us-east-1");
    let info = sts
        .get_access_key_info()
        .access_key_id(ROOT_KEY_ID)
        .send()
        .await
        .unwrap();
    assert_eq!(info.account(), Some(account.as_str()));
    let info = sts
        .get_access_key_info()
        .access_key_id(&other_key)
        .send()
        .await
        .unwrap();
    assert!(info.account().is_some_and(|other| other != account));
    let session = SessionKeys::of(sts.get_session_token().send().await.unwrap().credentials().unwrap());
    // GetSessionToken's credentials may only ask who they are or assume a role, as in AWS.
    let err = coffer
        .sts_session(&session)
        .get_access_key_info()
        .access_key_id(&session.key_id)
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("AccessDenied"));
    let err = sts
        .get_access_key_info()
        .access_key_id("AKIAAAAAAAAAAAAAAAAA")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("InvalidParameterValue"));
}

/// `aws:PrincipalTag/*`: a user's tags and a role's, read live, with session tags winning.
#[tokio::test]
async fn principal_tags_come_from_the_user_the_role_and_the_session() {
    let coffer = Coffer::start();
    let account = coffer.account_id().await;
    let s3 = coffer.root_s3();
    s3.create_bucket().bucket("teams").send().await.unwrap();
    for key in ["blue/x", "red/x"] {
        s3.put_object()
            .bucket("teams")
            .key(key)
            .body(ByteStream::from_static(b"x"))
            .send()
            .await
            .unwrap();
    }
    let by_team = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::teams/${aws:PrincipalTag/team}/*"}}"#;
    let iam = coffer.root_iam();
    let tag = |key: &str, value: &str| {
        aws_sdk_iam::types::Tag::builder()
            .key(key)
            .value(value)
            .build()
            .unwrap()
    };

    // A user's own tags, and a change to them at the next request.
    let alice = coffer.user_with_key("alice").await;
    iam.put_user_policy()
        .user_name("alice")
        .policy_name("team")
        .policy_document(by_team)
        .send()
        .await
        .unwrap();
    iam.tag_user()
        .user_name("alice")
        .tags(tag("team", "blue"))
        .send()
        .await
        .unwrap();
    let as_alice = coffer.s3(&alice.0, &alice.1);
    as_alice
        .get_object()
        .bucket("teams")
        .key("blue/x")
        .send()
        .await
        .unwrap();
    assert_aws_error(
        &as_alice
            .get_object()
            .bucket("teams")
            .key("red/x")
            .send()
            .await
            .unwrap_err(),
        "AccessDenied",
        403,
    );
    iam.tag_user()
        .user_name("alice")
        .tags(tag("team", "red"))
        .send()
        .await
        .unwrap();
    as_alice.get_object().bucket("teams").key("red/x").send().await.unwrap();

    // A role's tags, and a session tag of the same key over them.
    let trust = format!(
        r#"{{"Version":"2012-10-17","Statement":{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{account}:root"}},"Action":["sts:AssumeRole","sts:TagSession"]}}}}"#
    );
    let created = iam
        .create_role()
        .role_name("tagged")
        .assume_role_policy_document(trust)
        .tags(tag("team", "blue"))
        .send()
        .await
        .unwrap();
    let role_arn = created.role().unwrap().arn().to_owned();
    iam.put_role_policy()
        .role_name("tagged")
        .policy_name("team")
        .policy_document(by_team)
        .send()
        .await
        .unwrap();
    let bob = user_who_may_assume(&coffer, "bob", &role_arn).await;
    iam.put_user_policy()
        .user_name("bob")
        .policy_name("tag")
        .policy_document(allow("sts:TagSession", &role_arn))
        .send()
        .await
        .unwrap();
    let plain = coffer.s3_session(&assume(&coffer, &bob, &role_arn, "plain").await.unwrap());
    plain.get_object().bucket("teams").key("blue/x").send().await.unwrap();
    assert_aws_error(
        &plain
            .get_object()
            .bucket("teams")
            .key("red/x")
            .send()
            .await
            .unwrap_err(),
        "AccessDenied",
        403,
    );
    let out = coffer
        .sts(&bob.0, &bob.1, "us-east-1")
        .assume_role()
        .role_arn(&role_arn)
        .role_session_name("tagged")
        .tags(
            aws_sdk_sts::types::Tag::builder()
                .key("team")
                .value("red")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let red = coffer.s3_session(&SessionKeys::of(out.credentials().unwrap()));
    red.get_object().bucket("teams").key("red/x").send().await.unwrap();
    assert_aws_error(
        &red.get_object().bucket("teams").key("blue/x").send().await.unwrap_err(),
        "AccessDenied",
        403,
    );
    // Without sts:TagSession in the trust policy, tags are refused.
    let no_tags = format!(
        r#"{{"Version":"2012-10-17","Statement":{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{account}:root"}},"Action":"sts:AssumeRole"}}}}"#
    );
    iam.update_assume_role_policy()
        .role_name("tagged")
        .policy_document(no_tags)
        .send()
        .await
        .unwrap();
    let err = coffer
        .sts(&bob.0, &bob.1, "us-east-1")
        .assume_role()
        .role_arn(&role_arn)
        .role_session_name("tagged")
        .tags(
            aws_sdk_sts::types::Tag::builder()
                .key("team")
                .value("red")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("AccessDenied"));
}

/// A session outlives nothing: once its role is deleted it may do nothing, and a new role of
/// the same name is not its role.
#[tokio::test]
async fn a_deleted_roles_sessions_may_do_nothing_even_once_the_name_is_taken_again() {
    let coffer = Coffer::start();
    let account = coffer.account_id().await;
    coffer.root_s3().create_bucket().bucket("kept").send().await.unwrap();
    let role_arn = role(
        &coffer,
        "short-lived",
        &trust_account(&account),
        "AmazonS3ReadOnlyAccess",
    )
    .await;
    let alice = user_who_may_assume(&coffer, "alice", &role_arn).await;
    let session = coffer.s3_session(&assume(&coffer, &alice, &role_arn, "s1").await.unwrap());
    session.list_objects_v2().bucket("kept").send().await.unwrap();
    let iam = coffer.root_iam();
    iam.detach_role_policy()
        .role_name("short-lived")
        .policy_arn("arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess")
        .send()
        .await
        .unwrap();
    iam.delete_role().role_name("short-lived").send().await.unwrap();
    // Even a bucket policy naming the role's ARN does not let the old session back in.
    let policy = format!(
        r#"{{"Version":"2012-10-17","Statement":{{"Effect":"Allow","Principal":{{"AWS":"{account}"}},"Action":"s3:ListBucket","Resource":"arn:aws:s3:::kept"}}}}"#
    );
    coffer
        .root_s3()
        .put_bucket_policy()
        .bucket("kept")
        .policy(policy)
        .send()
        .await
        .unwrap();
    assert_aws_error(
        &session.list_objects_v2().bucket("kept").send().await.unwrap_err(),
        "AccessDenied",
        403,
    );
    role(
        &coffer,
        "short-lived",
        &trust_account(&account),
        "AmazonS3ReadOnlyAccess",
    )
    .await;
    assert_aws_error(
        &session.list_objects_v2().bucket("kept").send().await.unwrap_err(),
        "AccessDenied",
        403,
    );
}

/// GetFederationToken's session tags become the federated user's principal tags: choosing
/// them takes sts:TagSession, as in AWS.
#[tokio::test]
async fn federation_tags_need_tag_session() {
    let coffer = Coffer::start();
    let broker = coffer.user_with_key("broker").await;
    let iam = coffer.root_iam();
    iam.put_user_policy()
        .user_name("broker")
        .policy_name("federate")
        .policy_document(allow("sts:GetFederationToken", "*"))
        .send()
        .await
        .unwrap();
    let sts = coffer.sts(&broker.0, &broker.1, "us-east-1");
    let tagged = || {
        sts.get_federation_token()
            .name("tagged")
            .tags(
                aws_sdk_sts::types::Tag::builder()
                    .key("team")
                    .value("red")
                    .build()
                    .unwrap(),
            )
            .send()
    };
    assert_eq!(tagged().await.unwrap_err().code(), Some("AccessDenied"));
    iam.put_user_policy()
        .user_name("broker")
        .policy_name("tag")
        .policy_document(allow("sts:TagSession", "*"))
        .send()
        .await
        .unwrap();
    tagged().await.unwrap();
}
