//! The credential report through the SDK: made once, kept, read as AWS's CSV.

use aws_sdk_iam::error::ProvideErrorMetadata;

use crate::harness::{Coffer, code};

#[tokio::test]
async fn the_credential_report_lists_root_and_users_with_their_credentials() {
    let coffer = Coffer::start();
    let account = coffer.account_id().await;
    let iam = coffer.root_iam();
    let err = iam.get_credential_report().send().await.unwrap_err();
    assert_eq!(code(&err), "ReportNotPresent");
    assert_eq!(err.raw_response().unwrap().status().as_u16(), 410);

    coffer.user_with_key("alice").await;
    iam.create_login_profile()
        .user_name("alice")
        .password("Correct-Horse-9")
        .send()
        .await
        .unwrap();
    iam.create_user().user_name("bob").send().await.unwrap();
    let generated = iam.generate_credential_report().send().await.unwrap();
    assert_eq!(generated.state().map(|s| s.as_str()), Some("STARTED"));
    // Under four hours old, the same report is answered again.
    let again = iam.generate_credential_report().send().await.unwrap();
    assert_eq!(again.state().map(|s| s.as_str()), Some("COMPLETE"));

    let report = iam.get_credential_report().send().await.unwrap();
    assert_eq!(report.report_format().map(|f| f.as_str()), Some("text/csv"));
    assert!(report.generated_time().is_some());
    let csv = String::from_utf8(report.content().unwrap().as_ref().to_vec()).unwrap();
    let rows: Vec<Vec<&str>> = csv.lines().map(|line| line.split(',').collect()).collect();
    assert_eq!(rows[0][..4], ["user", "arn", "user_creation_time", "password_enabled"]);
    assert!(rows.iter().all(|row| row.len() == 22), "{csv}");
    let root = &rows[1];
    assert_eq!(root[0], "<root_account>");
    assert_eq!(root[1], format!("arn:aws:iam::{account}:root"));
    assert_eq!(root[3], "not_supported");
    assert_eq!(root[8], "true", "the root key is active");
    let alice = &rows[2];
    assert_eq!(alice[..2], ["alice", &format!("arn:aws:iam::{account}:user/alice")]);
    assert_eq!(alice[3], "true");
    assert_eq!(alice[4], "no_information", "never signed in");
    assert!(alice[5].ends_with("+00:00"), "password last changed: {}", alice[5]);
    assert_eq!(alice[7], "false", "no MFA");
    assert_eq!(alice[8], "true");
    assert!(alice[9].ends_with("+00:00"));
    assert_eq!(alice[13], "false", "no second key");
    let bob = &rows[3];
    assert_eq!(bob[..1], ["bob"]);
    assert_eq!(bob[3..7], ["false", "N/A", "N/A", "N/A"]);
    assert_eq!(bob[8..10], ["false", "N/A"]);
    assert_eq!(rows.len(), 4);

    // A user without permission may neither make nor read it.
    let (key, secret) = coffer.user_with_key("carol").await;
    let carol = coffer.iam(&key, &secret);
    assert_eq!(
        code(&carol.generate_credential_report().send().await.unwrap_err()),
        "AccessDenied"
    );
    let err = carol.get_credential_report().send().await.unwrap_err();
    assert_eq!(err.code(), Some("AccessDenied"));
}

#[tokio::test]
async fn account_authorization_details_show_every_entity_with_its_policies() {
    let coffer = Coffer::start();
    let account = coffer.account_id().await;
    let iam = coffer.root_iam();
    let doc = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}}"#;
    iam.create_user().user_name("alice").send().await.unwrap();
    iam.put_user_policy()
        .user_name("alice")
        .policy_name("inline")
        .policy_document(doc)
        .send()
        .await
        .unwrap();
    iam.create_group().group_name("crew").send().await.unwrap();
    iam.add_user_to_group()
        .group_name("crew")
        .user_name("alice")
        .send()
        .await
        .unwrap();
    let local = iam
        .create_policy()
        .policy_name("local")
        .policy_document(doc)
        .send()
        .await
        .unwrap();
    let local_arn = local.policy().unwrap().arn().unwrap().to_owned();
    iam.attach_group_policy()
        .group_name("crew")
        .policy_arn(&local_arn)
        .send()
        .await
        .unwrap();
    let trust = format!(
        r#"{{"Version":"2012-10-17","Statement":{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{account}:root"}},"Action":"sts:AssumeRole"}}}}"#
    );
    iam.create_role()
        .role_name("ops")
        .assume_role_policy_document(trust)
        .send()
        .await
        .unwrap();
    iam.attach_role_policy()
        .role_name("ops")
        .policy_arn("arn:aws:iam::aws:policy/ReadOnlyAccess")
        .send()
        .await
        .unwrap();

    let details = iam.get_account_authorization_details().send().await.unwrap();
    let users = details.user_detail_list();
    assert_eq!(users.len(), 1);
    assert_eq!(users[0].user_name(), Some("alice"));
    assert_eq!(users[0].user_policy_list()[0].policy_name(), Some("inline"));
    assert_eq!(users[0].group_list(), ["crew"]);
    let groups = details.group_detail_list();
    assert_eq!(
        groups[0].attached_managed_policies()[0].policy_arn(),
        Some(local_arn.as_str())
    );
    let roles = details.role_detail_list();
    assert_eq!(roles[0].role_name(), Some("ops"));
    assert!(
        roles[0]
            .assume_role_policy_document()
            .unwrap()
            .contains("sts%3AAssumeRole")
            || roles[0]
                .assume_role_policy_document()
                .unwrap()
                .contains("sts:AssumeRole")
    );
    assert_eq!(
        roles[0].attached_managed_policies()[0].policy_arn(),
        Some("arn:aws:iam::aws:policy/ReadOnlyAccess")
    );
    let policies: Vec<&str> = details.policies().iter().filter_map(|p| p.policy_name()).collect();
    assert_eq!(
        policies,
        ["local", "ReadOnlyAccess"],
        "only the AWS managed policies in use"
    );
    assert_eq!(details.policies()[0].policy_version_list().len(), 1);
    assert!(!details.is_truncated());

    // Filtered, and paged one entity at a time.
    let roles_only = iam
        .get_account_authorization_details()
        .filter(aws_sdk_iam::types::EntityType::Role)
        .send()
        .await
        .unwrap();
    assert!(roles_only.user_detail_list().is_empty() && roles_only.policies().is_empty());
    assert_eq!(roles_only.role_detail_list().len(), 1);
    let mut seen = 0;
    let mut marker: Option<String> = None;
    loop {
        let page = iam
            .get_account_authorization_details()
            .max_items(1)
            .set_marker(marker.clone())
            .send()
            .await
            .unwrap();
        seen += page.user_detail_list().len()
            + page.group_detail_list().len()
            + page.role_detail_list().len()
            + page.policies().len();
        match page.marker() {
            Some(next) if page.is_truncated() => marker = Some(next.to_owned()),
            _ => break,
        }
    }
    assert_eq!(seen, 5);
    // Without permission: denied.
    let (key, secret) = coffer.user_with_key("carol").await;
    let err = coffer
        .iam(&key, &secret)
        .get_account_authorization_details()
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "AccessDenied");
}
