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
