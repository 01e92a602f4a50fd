//! The policy simulator against enforcement, and what it reports.

use aws_sdk_s3::primitives::ByteStream;

use super::{READ_ONLY_S3, grant, photos};
use crate::harness::{Coffer, code};
use crate::s3::s3_code;

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
        grant(&iam, "sim", "p", policy).await;
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
