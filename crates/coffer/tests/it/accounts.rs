//! Accounts: the default one on first start, more from the CLI while the server runs, and
//! isolation between them.

use crate::harness::{Coffer, code};

#[tokio::test]
async fn first_start_prints_a_generated_root_key_that_works() {
    let coffer = Coffer::start_with(&[]);
    let out = &coffer.first_stdout;
    let field = |label: &str| {
        out.lines()
            .find_map(|l| l.trim().strip_prefix(label))
            .map(|v| v.trim().to_owned())
            .unwrap_or_else(|| panic!("{label} in {out}"))
    };
    let key_id = field("AWS Access Key ID:");
    let secret = field("AWS Secret Access Key:");
    assert!(key_id.starts_with("AKIA") && key_id.len() == 20);
    assert_eq!(secret.len(), 40);
    let me = coffer
        .sts(&key_id, &secret, "us-east-1")
        .get_caller_identity()
        .send()
        .await
        .unwrap();
    assert!(me.arn().unwrap().ends_with(":root"));
}

#[tokio::test]
async fn a_restart_does_not_print_the_key_again() {
    let mut coffer = Coffer::start_with(&[]);
    assert!(coffer.first_stdout.contains("AWS Secret Access Key"));
    coffer.stop();
    let status = coffer.run_cli(&["account", "list"]);
    assert!(status.status.success());
    coffer.restart();
    // `restart` waits for the endpoint line; the key block would come before it.
    let accounts: serde_json::Value = serde_json::from_slice(&coffer.run_cli(&["account", "list"]).stdout).unwrap();
    assert_eq!(accounts.as_array().unwrap().len(), 1, "no second default account");
}

#[test]
fn invalid_configured_root_keys_are_refused() {
    let data = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(crate::harness::coffer_bin())
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--console-listen",
            "127.0.0.1:0",
            "--data-dir",
        ])
        .arg(data.path())
        .env("COFFER_ROOT_ACCESS_KEY_ID", "not-a-key")
        .env("COFFER_ROOT_SECRET_ACCESS_KEY", "short")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("COFFER_ROOT_ACCESS_KEY_ID"));
}

#[tokio::test]
async fn accounts_created_while_serving_work_at_once_and_see_nothing_of_each_other() {
    let coffer = Coffer::start();
    coffer.root_iam().create_user().user_name("alice").send().await.unwrap();
    let out = coffer.run_cli(&["account", "create", "team-b"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let created: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let (account_id, key_id, secret) = (
        created["AccountId"].as_str().unwrap(),
        created["AccessKeyId"].as_str().unwrap(),
        created["SecretAccessKey"].as_str().unwrap(),
    );
    assert_eq!(account_id.len(), 12);
    assert_ne!(account_id, coffer.account_id().await);

    let me = coffer
        .sts(key_id, secret, "us-east-1")
        .get_caller_identity()
        .send()
        .await
        .unwrap();
    assert_eq!(me.arn(), Some(format!("arn:aws:iam::{account_id}:root").as_str()));

    let other = coffer.iam(key_id, secret);
    assert!(
        other.list_users().send().await.unwrap().users().is_empty(),
        "team-b sees no users of default"
    );
    assert_eq!(
        code(&other.get_user().user_name("alice").send().await.unwrap_err()),
        "NoSuchEntity"
    );
    other.create_user().user_name("alice").send().await.unwrap();
    assert_eq!(coffer.root_iam().list_users().send().await.unwrap().users().len(), 1);

    let listed: serde_json::Value = serde_json::from_slice(&coffer.run_cli(&["account", "list"]).stdout).unwrap();
    let names: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["Name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["default", "team-b"]);
    let dup = coffer.run_cli(&["account", "create", "team-b"]);
    assert!(!dup.status.success());
}

#[tokio::test]
async fn sigterm_shuts_down_cleanly() {
    let mut coffer = Coffer::start();
    let status = coffer.stop().unwrap();
    assert!(status.success(), "{status:?}");
}

/// A first start without COFFER_ROOT_PASSWORD prints the console's address and a generated
/// root password, once; the console takes it.
#[tokio::test]
async fn first_start_prints_the_console_and_a_root_password_that_works() {
    let mut coffer = Coffer::start_with(&[]);
    let out = coffer.first_stdout.clone();
    let password = out
        .lines()
        .find_map(|l| l.trim().strip_prefix("Root password:"))
        .map(|v| v.trim().to_owned())
        .unwrap_or_else(|| panic!("no root password in {out}"));
    assert!(out.contains(&format!("The console: {}", coffer.console)), "{out}");
    let account = out
        .split("Created account ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("no account in {out}"))
        .to_owned();
    let signed_in = crate::console::harness::sign_in_from(&coffer, "127.0.0.1", &account, "", &password).await;
    assert_eq!(signed_in, 303, "the printed password signs in");
    assert_eq!(
        crate::console::harness::sign_in_from(&coffer, "127.0.0.1", &account, "", "Not-It-2026!").await,
        401
    );
    // Shown once: a restart prints no password.
    let again = coffer.restart();
    assert!(
        again.contains("Coffer is serving") && !again.contains("Root password"),
        "{again}"
    );
}
