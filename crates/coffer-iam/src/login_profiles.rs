//! Console passwords of IAM users: CreateLoginProfile, GetLoginProfile, UpdateLoginProfile,
//! DeleteLoginProfile, and ChangePassword (a user's own). Passwords are checked against the
//! account's password policy, hashed with argon2id off the async threads, and never echoed,
//! not even in a validation error.

use coffer_auth::Identity;
use coffer_store::{LoginProfile, StoreError, User};

use crate::users::{no_such_user, user_and_arn};
use crate::xml::Xml;
use crate::{Call, IamError, password_policy};

fn no_login_profile(name: &str) -> IamError {
    IamError::NoSuchEntity(format!("Login Profile for User {name} cannot be found."))
}

/// A store error about `name`'s login profile, as IAM words it.
fn profile_error(name: &str) -> impl Fn(StoreError) -> IamError + '_ {
    move |err| match err {
        StoreError::NoSuchLoginProfile => no_login_profile(name),
        other => other.into(),
    }
}

/// A password parameter: 1 to 128 characters of tab, newline, carriage return or
/// U+0020–U+00FF. The error never shows the value.
fn password_param<'a>(cx: &'a Call<'_>, name: &str, field: &str) -> Result<&'a str, IamError> {
    let password = cx.params.require(name)?;
    let error = |constraint: &str| {
        IamError::Validation(format!(
            "1 validation error detected: Value at '{field}' failed to satisfy constraint: {constraint}"
        ))
    };
    let length = password.chars().count();
    if length == 0 {
        return Err(error("Member must have length greater than or equal to 1"));
    }
    if length > 128 {
        return Err(error("Member must have length less than or equal to 128"));
    }
    if !password
        .chars()
        .all(|c| matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{ff}'))
    {
        return Err(error(
            r"Member must satisfy regular expression pattern: [\u0009\u000A\u000D\u0020-\u00FF]+",
        ));
    }
    Ok(password)
}

/// `PasswordResetRequired`, if given.
fn reset_required(cx: &Call<'_>) -> Result<Option<bool>, IamError> {
    match cx.params.get("PasswordResetRequired") {
        None => Ok(None),
        Some(v) if v.eq_ignore_ascii_case("true") => Ok(Some(true)),
        Some(v) if v.eq_ignore_ascii_case("false") => Ok(Some(false)),
        Some(v) => Err(crate::error::validation(
            Some(v),
            "passwordResetRequired",
            "Member must be a boolean",
        )),
    }
}

/// The user a login-profile operation names; without `UserName`, an IAM user means itself.
fn user_name<'a>(cx: &'a Call<'_>) -> Result<&'a str, IamError> {
    match (cx.params.get("UserName"), &cx.caller.identity) {
        (Some(_), _) => cx.params.existing_user_name(),
        (None, Identity::User { name, .. }) => Ok(name),
        (None, Identity::Root) => Err(crate::error::validation(None, "userName", "Member must not be null")),
        (None, Identity::AssumedRole { .. } | Identity::FederatedUser { .. }) => {
            Err(crate::users::user_name_required())
        }
    }
}

/// Checks `password` against the account's policy (or IAM's default) and hashes it.
pub(crate) async fn checked_hash(cx: &Call<'_>, password: &str) -> Result<String, IamError> {
    let policy = match cx.store.password_policy(cx.account()).await {
        Ok(policy) => Some(policy),
        Err(StoreError::NoPasswordPolicy) => None,
        Err(other) => return Err(other.into()),
    };
    let account = cx.store.account(cx.account()).await?;
    password_policy::check(policy.as_ref(), &account.name, password)?;
    hash(password).await
}

/// argon2id takes tens of milliseconds of CPU: run it where it cannot stall other requests.
async fn hash(password: &str) -> Result<String, IamError> {
    coffer_auth::passwords::hash_async(password)
        .await
        .ok_or_else(|| IamError::ServiceFailure("the password could not be hashed".to_owned()))
}

fn write_profile(xml: &mut Xml, user: &User, profile: &LoginProfile) {
    xml.with("LoginProfile", |x| {
        x.elem("UserName", &user.name)
            .date("CreateDate", profile.created_at)
            .elem(
                "PasswordResetRequired",
                if profile.password_reset_required {
                    "true"
                } else {
                    "false"
                },
            );
    });
}

/// The named user, after authorizing `action` on it.
async fn authorized_user(cx: &Call<'_>, name: &str, action: &str) -> Result<User, IamError> {
    let (user, arn) = user_and_arn(cx, name).await?;
    cx.authorize(action, &arn).await?;
    user.ok_or_else(|| no_such_user(name))
}

pub(crate) async fn create_login_profile(cx: &Call<'_>) -> Result<Option<String>, IamError> {
    let name = user_name(cx)?;
    let password = password_param(cx, "Password", "password")?;
    let reset = reset_required(cx)?.unwrap_or(false);
    let user = authorized_user(cx, name, "iam:CreateLoginProfile").await?;
    let hash = checked_hash(cx, password).await?;
    let profile = cx
        .store
        .create_login_profile(&user.user_id, &hash, reset)
        .await
        .map_err(|e| match e {
            StoreError::LoginProfileExists => {
                IamError::EntityAlreadyExists(format!("Login Profile for user {} already exists.", user.name))
            }
            other => other.into(),
        })?;
    let mut xml = Xml::new();
    write_profile(&mut xml, &user, &profile);
    Ok(Some(xml.finish()))
}

async fn profile_of(cx: &Call<'_>, user: &User) -> Result<LoginProfile, IamError> {
    cx.store
        .login_profile(&user.user_id)
        .await
        .map_err(profile_error(&user.name))
}

pub(crate) async fn get_login_profile(cx: &Call<'_>) -> Result<Option<String>, IamError> {
    let name = user_name(cx)?;
    let user = authorized_user(cx, name, "iam:GetLoginProfile").await?;
    let profile = profile_of(cx, &user).await?;
    let mut xml = Xml::new();
    write_profile(&mut xml, &user, &profile);
    Ok(Some(xml.finish()))
}

pub(crate) async fn update_login_profile(cx: &Call<'_>) -> Result<Option<String>, IamError> {
    let name = user_name(cx)?;
    let password = match cx.params.get("Password") {
        Some(_) => Some(password_param(cx, "Password", "password")?),
        None => None,
    };
    let reset = reset_required(cx)?;
    let user = authorized_user(cx, name, "iam:UpdateLoginProfile").await?;
    profile_of(cx, &user).await?;
    let hash = match password {
        Some(password) => Some(checked_hash(cx, password).await?),
        None => None,
    };
    cx.store
        .update_login_profile(&user.user_id, hash.as_deref(), reset)
        .await
        .map_err(profile_error(&user.name))?;
    Ok(None)
}

pub(crate) async fn delete_login_profile(cx: &Call<'_>) -> Result<Option<String>, IamError> {
    let name = user_name(cx)?;
    let user = authorized_user(cx, name, "iam:DeleteLoginProfile").await?;
    cx.store
        .delete_login_profile(&user.user_id)
        .await
        .map_err(profile_error(&user.name))?;
    Ok(None)
}

/// ChangePassword: an IAM user replaces its own password, proving the old one. Allowed by
/// `iam:ChangePassword` on itself, or by the account policy's AllowUsersToChangePassword
/// (unless a policy explicitly denies it).
pub(crate) async fn change_password(cx: &Call<'_>) -> Result<Option<String>, IamError> {
    let old = password_param(cx, "OldPassword", "oldPassword")?;
    let new = password_param(cx, "NewPassword", "newPassword")?;
    let Identity::User { name, .. } = &cx.caller.identity else {
        return Err(IamError::InvalidUserType(
            "Only IAM users can change their own password with ChangePassword.".to_owned(),
        ));
    };
    let user = cx.store.user(cx.account(), name).await?;
    let allowed_by_account = cx
        .store
        .password_policy(cx.account())
        .await
        .is_ok_and(|policy| policy.allow_users_to_change_password);
    match cx.authorize_detailed("iam:ChangePassword", &user.arn()) {
        Ok(()) => {}
        Err(denied) if allowed_by_account && !denied.explicit => {}
        Err(denied) => return Err(denied.into()),
    }
    let profile = profile_of(cx, &user).await?;
    if !coffer_auth::passwords::verify_async(old, &profile.password_hash).await {
        return Err(IamError::AccessDenied("The old password is incorrect.".to_owned()));
    }
    // PasswordReusePrevention: the new password may not be any of the last N (the current
    // one among them).
    if let Ok(policy) = cx.store.password_policy(cx.account()).await
        && let Some(remembered) = policy.password_reuse_prevention
    {
        let recent = std::iter::once(&profile.password_hash)
            .chain(&profile.previous_hashes)
            .take(remembered.max(1) as usize);
        for earlier in recent {
            if coffer_auth::passwords::verify_async(new, earlier).await {
                return Err(IamError::PasswordPolicyViolation(format!(
                    "Password should not be one of your {remembered} previous passwords"
                )));
            }
        }
    }
    let hash = checked_hash(cx, new).await?;
    // A changed password no longer needs a reset.
    cx.store
        .update_login_profile(&user.user_id, Some(&hash), Some(false))
        .await?;
    Ok(None)
}
