//! IAM's input rules, as the IAM API Reference states them for each member (pattern and
//! length), with AWS's validation messages.

use crate::error::{IamError, validation};

pub(crate) fn length(value: &str, field: &str, min: usize, max: usize) -> Result<(), IamError> {
    let len = value.chars().count();
    if len < min {
        return Err(validation(
            Some(value),
            field,
            &format!("Member must have length greater than or equal to {min}"),
        ));
    }
    if len > max {
        return Err(validation(
            Some(value),
            field,
            &format!("Member must have length less than or equal to {max}"),
        ));
    }
    Ok(())
}

fn pattern(value: &str, field: &str, pattern: &str, ok: impl Fn(char) -> bool) -> Result<(), IamError> {
    if value.chars().all(ok) {
        Ok(())
    } else {
        Err(validation(
            Some(value),
            field,
            &format!("Member must satisfy regular expression pattern: {pattern}"),
        ))
    }
}

/// `value` of word characters and `extra` only (the API's `[\w…]*` patterns, shown as `shown`).
pub(crate) fn word_pattern(value: &str, field: &str, shown: &str, extra: &str) -> Result<(), IamError> {
    pattern(value, field, shown, |c| word_or(c, extra))
}

fn word_or(c: char, extra: &str) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || extra.contains(c)
}

/// User (and later group and role) names: `[\w+=,.@-]+`, 1–64 characters.
pub(crate) fn user_name(value: &str, field: &str) -> Result<(), IamError> {
    length(value, field, 1, 64)?;
    pattern(value, field, r"[\w+=,.@-]+", |c| word_or(c, "+=,.@-"))
}

/// Group and policy names: `[\w+=,.@-]+`, 1–128 characters.
pub(crate) fn name_128(value: &str, field: &str) -> Result<(), IamError> {
    length(value, field, 1, 128)?;
    pattern(value, field, r"[\w+=,.@-]+", |c| word_or(c, "+=,.@-"))
}

/// Names of users that should already exist: IAM accepts up to 128 characters there (a longer
/// name than CreateUser allows is simply not found).
pub(crate) fn existing_user_name(value: &str, field: &str) -> Result<(), IamError> {
    length(value, field, 1, 128)?;
    pattern(value, field, r"[\w+=,.@-]+", |c| word_or(c, "+=,.@-"))
}

/// Paths: `/` or `/…/` of printable ASCII, at most 512 characters.
pub(crate) fn path(value: &str, field: &str) -> Result<(), IamError> {
    length(value, field, 1, 512)?;
    let shaped = value == "/"
        || (value.len() >= 3 && value.starts_with('/') && value.ends_with('/'))
            && value.chars().all(|c| ('\u{21}'..='\u{7e}').contains(&c));
    if shaped {
        Ok(())
    } else {
        Err(validation(
            Some(value),
            field,
            r"Member must satisfy regular expression pattern: (\u002F)|(\u002F[\u0021-\u007E]+\u002F)",
        ))
    }
}

/// Path prefixes: `/` followed by printable ASCII, at most 512 characters.
pub(crate) fn path_prefix(value: &str) -> Result<(), IamError> {
    length(value, "pathPrefix", 1, 512)?;
    if value.starts_with('/') && value.chars().all(|c| ('\u{21}'..='\u{7f}').contains(&c)) {
        Ok(())
    } else {
        Err(validation(
            Some(value),
            "pathPrefix",
            r"Member must satisfy regular expression pattern: \u002F[\u0021-\u007F]*",
        ))
    }
}

/// Pagination markers: 1–320 characters in `[\u0020-\u00FF]`.
pub(crate) fn marker(value: &str) -> Result<(), IamError> {
    length(value, "marker", 1, 320)?;
    pattern(value, "marker", r"[\u0020-\u00FF]+", |c| {
        ('\u{20}'..='\u{ff}').contains(&c)
    })
}

/// Access key ids: `[\w]+`, 16–128 characters.
pub(crate) fn access_key_id(value: &str) -> Result<(), IamError> {
    length(value, "accessKeyId", 16, 128)?;
    pattern(value, "accessKeyId", r"[\w]+", |c| word_or(c, ""))
}

/// Account aliases: lower-case letters, digits and single hyphens, 3–63 characters, starting
/// and ending with a letter or digit.
pub(crate) fn account_alias(value: &str) -> Result<(), IamError> {
    length(value, "accountAlias", 3, 63)?;
    let edge = |c: Option<char>| c.is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    let ok = edge(value.chars().next())
        && edge(value.chars().last())
        && !value.contains("--")
        && value
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if ok {
        Ok(())
    } else {
        Err(validation(
            Some(value),
            "accountAlias",
            "Member must satisfy regular expression pattern: ^[a-z0-9]([a-z0-9]|-(?!-)){1,61}[a-z0-9]$",
        ))
    }
}

/// `\p{Z}`: Unicode space separators only; not tabs, newlines or the other controls that
/// `char::is_whitespace` accepts (some of them cannot appear in XML at all).
fn is_space_separator(c: char) -> bool {
    matches!(
        c,
        ' ' | '\u{a0}' | '\u{1680}' | '\u{2000}'
            ..='\u{200a}' | '\u{2028}' | '\u{2029}' | '\u{202f}' | '\u{205f}' | '\u{3000}'
    )
}

fn tag_char(c: char) -> bool {
    c.is_alphabetic() || c.is_numeric() || is_space_separator(c) || "_.:/=+-@".contains(c)
}

/// Tag keys: 1–128 characters of letters, digits, spaces and `_.:/=+-@`.
pub(crate) fn tag_key(value: &str, field: &str) -> Result<(), IamError> {
    length(value, field, 1, 128)?;
    pattern(value, field, r"[\p{L}\p{Z}\p{N}_.:/=+\-@]+", tag_char)
}

/// Tag values: 0–256 characters of the same set.
pub(crate) fn tag_value(value: &str, field: &str) -> Result<(), IamError> {
    length(value, field, 0, 256)?;
    pattern(value, field, r"[\p{L}\p{Z}\p{N}_.:/=+\-@]*", tag_char)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_names_follow_iam_rules() {
        for ok in ["alice", "a", "Bob+ops=x,y.z@corp-1_", &"a".repeat(64)] {
            assert!(user_name(ok, "userName").is_ok(), "{ok}");
        }
        for bad in ["", "has space", "slash/", "ünï", &"a".repeat(65)] {
            assert!(user_name(bad, "userName").is_err(), "{bad}");
        }
    }

    #[test]
    fn paths_start_and_end_with_a_slash() {
        for ok in ["/", "/eng/", "/division_abc/subdivision_xyz/"] {
            assert!(path(ok, "path").is_ok(), "{ok}");
        }
        for bad in ["", "eng/", "/eng", "/a b/", "/é/"] {
            assert!(path(bad, "path").is_err(), "{bad}");
        }
    }

    #[test]
    fn aliases_are_lower_case_with_single_hyphens() {
        for ok in ["my-company", "abc", "a1b"] {
            assert!(account_alias(ok).is_ok(), "{ok}");
        }
        for bad in ["ab", "My-Company", "-abc", "abc-", "a--b", "a_b"] {
            assert!(account_alias(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn tag_keys_and_values_allow_unicode_letters() {
        assert!(tag_key("Département", "tags.1.member.key").is_ok());
        assert!(tag_key("", "k").is_err());
        assert!(tag_value("", "v").is_ok());
        assert!(tag_value("a;b", "v").is_err());
        assert!(
            tag_value("a\u{b}b", "v").is_err(),
            "vertical tab cannot be written in XML"
        );
        assert!(tag_value("a\u{3000}b", "v").is_ok());
    }

    #[test]
    fn validation_messages_name_the_member_and_constraint() {
        let err = user_name("has space", "userName").unwrap_err().to_string();
        assert_eq!(
            err,
            r"1 validation error detected: Value 'has space' at 'userName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\w+=,.@-]+"
        );
    }
}
