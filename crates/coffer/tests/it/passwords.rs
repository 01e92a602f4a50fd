//! Console passwords through the IAM API: login profiles, the account password policy,
//! ChangePassword, and the root password from the command line.

use std::io::Write;
use std::process::Stdio;

use crate::harness::{Coffer, code};

#[tokio::test]
async fn a_login_profile_is_created_read_updated_and_deleted() {
    let coffer = Coffer::start();
    let iam = coffer.root_iam();
    iam.create_user().user_name("ana").send().await.unwrap();
    // IAM's default policy: at least 8 characters of three kinds.
    let err = iam
        .create_login_profile()
        .user_name("ana")
        .password("short1A")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "PasswordPolicyViolation");
    let created = iam
        .create_login_profile()
        .user_name("ana")
        .password("Tr0ub4dor&3")
        .password_reset_required(true)
        .send()
        .await
        .unwrap();
    let profile = created.login_profile().unwrap();
    assert_eq!(profile.user_name(), "ana");
    assert!(profile.password_reset_required());
    let err = iam
        .create_login_profile()
        .user_name("ana")
        .password("Tr0ub4dor&3")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "EntityAlreadyExists");

    iam.update_login_profile()
        .user_name("ana")
        .password_reset_required(false)
        .send()
        .await
        .unwrap();
    let got = iam.get_login_profile().user_name("ana").send().await.unwrap();
    assert!(!got.login_profile().unwrap().password_reset_required());

    let err = iam.delete_user().user_name("ana").send().await.unwrap_err();
    assert_eq!(code(&err), "DeleteConflict");
    iam.delete_login_profile().user_name("ana").send().await.unwrap();
    let err = iam.get_login_profile().user_name("ana").send().await.unwrap_err();
    assert_eq!(code(&err), "NoSuchEntity");
    iam.delete_user().user_name("ana").send().await.unwrap();
    let err = iam.get_login_profile().user_name("nobody").send().await.unwrap_err();
    assert_eq!(code(&err), "NoSuchEntity");
}

#[tokio::test]
async fn a_password_never_appears_in_an_error() {
    let coffer = Coffer::start();
    let iam = coffer.root_iam();
    iam.create_user().user_name("ben").send().await.unwrap();
    let secret = "Sécret-Ω-2026";
    let err = iam
        .create_login_profile()
        .user_name("ben")
        .password(secret)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "ValidationError");
    let body = String::from_utf8_lossy(err.raw_response().unwrap().body().bytes().unwrap()).into_owned();
    assert!(body.contains("at &apos;password&apos;"), "{body}");
    assert!(!body.contains("cret"), "{body}");
}

#[tokio::test]
async fn the_account_password_policy_is_set_read_enforced_and_deleted() {
    let coffer = Coffer::start();
    let iam = coffer.root_iam();
    let err = iam.get_account_password_policy().send().await.unwrap_err();
    assert_eq!(code(&err), "NoSuchEntity");
    let err = iam
        .update_account_password_policy()
        .minimum_password_length(5)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "ValidationError");
    iam.update_account_password_policy()
        .minimum_password_length(12)
        .require_symbols(true)
        .require_numbers(true)
        .max_password_age(90)
        .send()
        .await
        .unwrap();
    let policy = iam.get_account_password_policy().send().await.unwrap();
    let policy = policy.password_policy().unwrap();
    assert_eq!(policy.minimum_password_length(), Some(12));
    assert!(policy.require_symbols());
    assert!(!policy.require_uppercase_characters());
    assert!(policy.expire_passwords());
    assert_eq!(policy.max_password_age(), Some(90));

    iam.create_user().user_name("cy").send().await.unwrap();
    let err = iam
        .create_login_profile()
        .user_name("cy")
        .password("longenough123")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "PasswordPolicyViolation");
    assert!(format!("{err:?}").contains("symbol"));
    iam.create_login_profile()
        .user_name("cy")
        .password("long-enough-123")
        .send()
        .await
        .unwrap();

    iam.delete_account_password_policy().send().await.unwrap();
    let err = iam.delete_account_password_policy().send().await.unwrap_err();
    assert_eq!(code(&err), "NoSuchEntity");
}

#[tokio::test]
async fn a_user_changes_its_own_password_when_allowed_and_proven() {
    let coffer = Coffer::start();
    let iam = coffer.root_iam();
    let (key, secret) = coffer.user_with_key("dee").await;
    iam.create_login_profile()
        .user_name("dee")
        .password("First-pass-1")
        .password_reset_required(true)
        .send()
        .await
        .unwrap();
    let dee = coffer.iam(&key, &secret);
    let change =
        |old: &'static str, new: &'static str| dee.change_password().old_password(old).new_password(new).send();
    let err = change("First-pass-1", "Second-pass-2").await.unwrap_err();
    assert_eq!(code(&err), "AccessDenied", "no policy allows it yet");

    iam.attach_user_policy()
        .user_name("dee")
        .policy_arn("arn:aws:iam::aws:policy/IAMUserChangePassword")
        .send()
        .await
        .unwrap();
    let err = change("wrong-old-1A", "Second-pass-2").await.unwrap_err();
    assert_eq!(code(&err), "AccessDenied");
    let err = change("First-pass-1", "weak").await.unwrap_err();
    assert_eq!(code(&err), "PasswordPolicyViolation");
    change("First-pass-1", "Second-pass-2").await.unwrap();
    let profile = iam.get_login_profile().user_name("dee").send().await.unwrap();
    assert!(
        !profile.login_profile().unwrap().password_reset_required(),
        "a changed password needs no reset"
    );
    // The old password no longer proves anything; the new one does.
    let err = change("First-pass-1", "Third-pass-3").await.unwrap_err();
    assert_eq!(code(&err), "AccessDenied");
    change("Second-pass-2", "Third-pass-3").await.unwrap();

    // The account's AllowUsersToChangePassword allows it without a policy.
    iam.detach_user_policy()
        .user_name("dee")
        .policy_arn("arn:aws:iam::aws:policy/IAMUserChangePassword")
        .send()
        .await
        .unwrap();
    iam.update_account_password_policy()
        .allow_users_to_change_password(true)
        .send()
        .await
        .unwrap();
    change("Third-pass-3", "Fourth-pass-4").await.unwrap();

    // PasswordReusePrevention: none of the last three passwords (the current one counts).
    iam.update_account_password_policy()
        .allow_users_to_change_password(true)
        .password_reuse_prevention(3)
        .send()
        .await
        .unwrap();
    for reused in ["Fourth-pass-4", "Third-pass-3", "Second-pass-2"] {
        let err = change("Fourth-pass-4", reused).await.unwrap_err();
        assert_eq!(code(&err), "PasswordPolicyViolation", "{reused}");
    }
    change("Fourth-pass-4", "Fifth-pass-5").await.unwrap();

    let err = iam
        .change_password()
        .old_password("x")
        .new_password("Whatever-123")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "InvalidUserType");
}

#[test]
fn the_root_password_is_set_from_standard_input_and_checked() {
    let coffer = Coffer::start();
    let set = |password: &str| {
        let mut child = coffer
            .command(&["account", "set-root-password"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(format!("{password}\n").as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    };
    let weak = set("password");
    assert!(!weak.status.success());
    assert!(String::from_utf8_lossy(&weak.stderr).contains("not acceptable"));
    let ok = set("Root-Pass-2026");
    assert!(ok.status.success(), "{}", String::from_utf8_lossy(&ok.stderr));
    assert!(String::from_utf8_lossy(&ok.stdout).contains("Root password of account"));
    // Only a hash is stored.
    let db = coffer.database_bytes();
    assert!(db.len() > 1000);
    assert!(!String::from_utf8_lossy(&db).contains("Root-Pass-2026"));
}
