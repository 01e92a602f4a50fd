//! The account password policy: GetAccountPasswordPolicy, UpdateAccountPasswordPolicy,
//! DeleteAccountPasswordPolicy, and the check every new console password passes
//! ([`check`]): the account's policy when it has one, else IAM's default (at least 8
//! characters, three of the four kinds, not the account's name).

use coffer_store::{PasswordPolicy, StoreError};

use crate::error::validation;
use crate::xml::Xml;
use crate::{Call, IamError};

/// The characters IAM counts as symbols.
const SYMBOLS: &str = "!@#$%^&*()_+-=[]{}|'";

fn no_policy(account: &str) -> IamError {
    IamError::NoSuchEntity(format!(
        "The Password Policy with domain name {account} cannot be found."
    ))
}

/// Whether `password` may be set in an account with `policy` (`None`: IAM's default policy)
/// and the name `account_name`; the violation, as IAM words it, if not.
pub(crate) fn check(policy: Option<&PasswordPolicy>, account_name: &str, password: &str) -> Result<(), IamError> {
    let upper = password.chars().any(|c| c.is_ascii_uppercase());
    let lower = password.chars().any(|c| c.is_ascii_lowercase());
    let number = password.chars().any(|c| c.is_ascii_digit());
    let length = password.chars().count();
    let violation = |message: String| Err(IamError::PasswordPolicyViolation(message));
    let Some(policy) = policy else {
        let symbol = password.chars().any(|c| !c.is_ascii_alphanumeric());
        let kinds = [upper, lower, number, symbol].into_iter().filter(|k| *k).count();
        if length < 8 {
            return violation("Password should have a minimum length of 8".to_owned());
        }
        if kinds < 3 {
            return violation(
                "Password should have at least three of: uppercase letters, lowercase letters, numbers, symbols"
                    .to_owned(),
            );
        }
        if password.eq_ignore_ascii_case(account_name) {
            return violation("Password should not be the account's name".to_owned());
        }
        return Ok(());
    };
    let symbol = password.chars().any(|c| SYMBOLS.contains(c));
    if (length as i64) < policy.minimum_password_length {
        return violation(format!(
            "Password should have a minimum length of {}",
            policy.minimum_password_length
        ));
    }
    let rules = [
        (
            policy.require_uppercase_characters,
            upper,
            "at least one uppercase letter",
        ),
        (
            policy.require_lowercase_characters,
            lower,
            "at least one lowercase letter",
        ),
        (policy.require_numbers, number, "at least one number"),
        (policy.require_symbols, symbol, "at least one symbol"),
    ];
    for (required, present, what) in rules {
        if required && !present {
            return violation(format!("Password should have {what}"));
        }
    }
    Ok(())
}

/// A boolean parameter (`true`/`false`, any case), `default` when absent.
fn flag(cx: &Call<'_>, name: &str, field: &str, default: bool) -> Result<bool, IamError> {
    match cx.params.get(name) {
        None => Ok(default),
        Some(value) if value.eq_ignore_ascii_case("true") => Ok(true),
        Some(value) if value.eq_ignore_ascii_case("false") => Ok(false),
        Some(value) => Err(validation(Some(value), field, "Member must be a boolean")),
    }
}

/// An integer parameter within `min..=max`, if given.
fn number(cx: &Call<'_>, name: &str, field: &str, min: i64, max: i64) -> Result<Option<i64>, IamError> {
    let Some(text) = cx.params.get(name) else {
        return Ok(None);
    };
    let value: i64 = text
        .parse()
        .map_err(|_| IamError::Validation(format!("Invalid value for parameter {name}: {text}")))?;
    if value < min {
        return Err(validation(
            Some(text),
            field,
            &format!("Member must have value greater than or equal to {min}"),
        ));
    }
    if value > max {
        return Err(validation(
            Some(text),
            field,
            &format!("Member must have value less than or equal to {max}"),
        ));
    }
    Ok(Some(value))
}

pub(crate) async fn update_account_password_policy(cx: &Call<'_>) -> Result<Option<String>, IamError> {
    // Parameters left out take IAM's defaults, not the old policy's values.
    let policy = PasswordPolicy {
        minimum_password_length: number(cx, "MinimumPasswordLength", "minimumPasswordLength", 6, 128)?.unwrap_or(6),
        require_symbols: flag(cx, "RequireSymbols", "requireSymbols", false)?,
        require_numbers: flag(cx, "RequireNumbers", "requireNumbers", false)?,
        require_uppercase_characters: flag(cx, "RequireUppercaseCharacters", "requireUppercaseCharacters", false)?,
        require_lowercase_characters: flag(cx, "RequireLowercaseCharacters", "requireLowercaseCharacters", false)?,
        allow_users_to_change_password: flag(cx, "AllowUsersToChangePassword", "allowUsersToChangePassword", false)?,
        max_password_age: number(cx, "MaxPasswordAge", "maxPasswordAge", 1, 1095)?,
        password_reuse_prevention: number(cx, "PasswordReusePrevention", "passwordReusePrevention", 1, 24)?,
        hard_expiry: flag(cx, "HardExpiry", "hardExpiry", false)?,
    };
    cx.authorize("iam:UpdateAccountPasswordPolicy", "*").await?;
    cx.store.set_password_policy(cx.account(), &policy).await?;
    Ok(None)
}

pub(crate) async fn get_account_password_policy(cx: &Call<'_>) -> Result<Option<String>, IamError> {
    cx.authorize("iam:GetAccountPasswordPolicy", "*").await?;
    let policy = cx.store.password_policy(cx.account()).await.map_err(|e| match e {
        StoreError::NoPasswordPolicy => no_policy(cx.account()),
        other => other.into(),
    })?;
    let yes_no = |value: bool| if value { "true" } else { "false" };
    let mut xml = Xml::new();
    xml.with("PasswordPolicy", |x| {
        x.elem("MinimumPasswordLength", &policy.minimum_password_length.to_string())
            .elem("RequireSymbols", yes_no(policy.require_symbols))
            .elem("RequireNumbers", yes_no(policy.require_numbers))
            .elem(
                "RequireUppercaseCharacters",
                yes_no(policy.require_uppercase_characters),
            )
            .elem(
                "RequireLowercaseCharacters",
                yes_no(policy.require_lowercase_characters),
            )
            .elem(
                "AllowUsersToChangePassword",
                yes_no(policy.allow_users_to_change_password),
            )
            .elem("ExpirePasswords", yes_no(policy.max_password_age.is_some()))
            .elem_opt(
                "MaxPasswordAge",
                policy.max_password_age.map(|d| d.to_string()).as_deref(),
            )
            .elem_opt(
                "PasswordReusePrevention",
                policy.password_reuse_prevention.map(|n| n.to_string()).as_deref(),
            )
            .elem("HardExpiry", yes_no(policy.hard_expiry));
    });
    Ok(Some(xml.finish()))
}

pub(crate) async fn delete_account_password_policy(cx: &Call<'_>) -> Result<Option<String>, IamError> {
    cx.authorize("iam:DeleteAccountPasswordPolicy", "*").await?;
    cx.store
        .delete_password_policy(cx.account())
        .await
        .map_err(|e| match e {
            StoreError::NoPasswordPolicy => no_policy(cx.account()),
            other => other.into(),
        })?;
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strict() -> PasswordPolicy {
        PasswordPolicy {
            minimum_password_length: 10,
            require_symbols: true,
            require_numbers: true,
            require_uppercase_characters: true,
            require_lowercase_characters: true,
            allow_users_to_change_password: true,
            max_password_age: None,
            password_reuse_prevention: None,
            hard_expiry: false,
        }
    }

    fn violation(result: Result<(), IamError>) -> String {
        match result {
            Err(IamError::PasswordPolicyViolation(message)) => message,
            other => panic!("expected a violation, got {other:?}"),
        }
    }

    #[test]
    fn iams_default_policy_wants_eight_characters_of_three_kinds() {
        assert!(check(None, "main", "Summer2026").is_ok());
        assert!(check(None, "main", "summer-2026").is_ok());
        assert!(violation(check(None, "main", "Ab1!")).contains("minimum length of 8"));
        assert!(violation(check(None, "main", "summersummer")).contains("three of"));
        assert!(violation(check(None, "Company2026", "company2026")).contains("three of"));
        assert!(violation(check(None, "Company-2026", "company-2026")).contains("account's name"));
    }

    #[test]
    fn an_account_policy_names_the_first_rule_broken() {
        let policy = strict();
        assert!(check(Some(&policy), "main", "Abcdefgh1!").is_ok());
        assert!(violation(check(Some(&policy), "main", "Abcdef1!")).contains("minimum length of 10"));
        assert!(violation(check(Some(&policy), "main", "abcdefgh1!")).contains("uppercase"));
        assert!(violation(check(Some(&policy), "main", "ABCDEFGH1!")).contains("lowercase"));
        assert!(violation(check(Some(&policy), "main", "Abcdefghi!")).contains("number"));
        // A tilde is not among IAM's symbols.
        assert!(violation(check(Some(&policy), "main", "Abcdefgh1~")).contains("symbol"));
        let lenient = PasswordPolicy {
            minimum_password_length: 6,
            require_symbols: false,
            require_numbers: false,
            require_uppercase_characters: false,
            require_lowercase_characters: false,
            ..strict()
        };
        assert!(check(Some(&lenient), "main", "aaaaaa").is_ok());
    }
}
