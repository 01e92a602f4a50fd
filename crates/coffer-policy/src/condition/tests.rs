//! Operator semantics, each against the IAM user guide's "Condition operators" and
//! "Conditions with multiple context keys or values" pages.

use super::*;

fn condition(operator: &str, key: &str, values: &[&str]) -> Condition {
    let (qualifier, operator, negated, if_exists) = parse_operator(operator).expect("an operator");
    Condition::new(
        operator,
        negated,
        if_exists,
        qualifier,
        key,
        values.iter().map(|v| (*v).to_owned()).collect(),
    )
}

fn holds(operator: &str, key: &str, values: &[&str], ctx: &RequestContext) -> bool {
    condition(operator, key, values).holds(Variables::Substitute, ctx)
}

fn ctx() -> RequestContext {
    RequestContext::new("s3:ListBucket", "arn:aws:s3:::b", None)
        .with("aws:username", "alice")
        .with("s3:prefix", "home/alice/")
        .with("s3:max-keys", "50")
        .with("aws:CurrentTime", "2026-11-28T12:00:00Z")
        .with("aws:EpochTime", "1795867200")
        .with("aws:SecureTransport", "false")
        .with("aws:SourceIp", "203.0.113.7")
        .with("aws:PrincipalArn", "arn:aws:iam::111122223333:user/alice")
        .with_values("aws:TagKeys", vec!["team".into(), "cost".into()])
}

#[test]
fn string_operators() {
    let ctx = ctx();
    assert!(holds("StringEquals", "aws:username", &["alice"], &ctx));
    assert!(!holds("StringEquals", "aws:username", &["Alice"], &ctx));
    assert!(holds("StringEqualsIgnoreCase", "aws:username", &["ALICE"], &ctx));
    assert!(holds("StringNotEquals", "aws:username", &["bob"], &ctx));
    assert!(holds("StringNotEqualsIgnoreCase", "aws:username", &["BOB"], &ctx));
    assert!(!holds("StringNotEqualsIgnoreCase", "aws:username", &["ALICE"], &ctx));
    assert!(holds("StringLike", "s3:prefix", &["home/*"], &ctx));
    assert!(holds("StringNotLike", "s3:prefix", &["tmp/*"], &ctx));
    // StringEquals does not expand wildcards.
    assert!(!holds("StringEquals", "s3:prefix", &["home/*"], &ctx));
    // Condition keys are case-insensitive.
    assert!(holds("StringEquals", "AWS:UserName", &["alice"], &ctx));
}

#[test]
fn variables_in_condition_values() {
    // The home-folder example: `s3:prefix` like `home/${aws:username}/*`.
    let ctx = ctx();
    assert!(holds("StringLike", "s3:prefix", &["home/${aws:username}/*"], &ctx));
    assert!(holds("StringEquals", "s3:prefix", &["home/${aws:username}/"], &ctx));
    let bob = ctx.clone().with("aws:username", "bob");
    assert!(!holds("StringLike", "s3:prefix", &["home/${aws:username}/*"], &bob));
}

#[test]
fn several_values_are_or_and_negated_ones_nor() {
    let ctx = ctx();
    assert!(holds("StringEquals", "aws:username", &["bob", "alice"], &ctx));
    assert!(!holds("StringNotEquals", "aws:username", &["bob", "alice"], &ctx));
    assert!(holds("StringNotEquals", "aws:username", &["bob", "carol"], &ctx));
}

#[test]
fn a_missing_key_is_false_except_negated_and_if_exists() {
    let ctx = ctx();
    assert!(!holds("StringEquals", "aws:Referer", &["x"], &ctx));
    assert!(holds("StringNotEquals", "aws:Referer", &["x"], &ctx));
    assert!(holds("StringEqualsIfExists", "aws:Referer", &["x"], &ctx));
    // IfExists still checks a key that is there.
    assert!(!holds("StringEqualsIfExists", "aws:username", &["bob"], &ctx));
    assert!(!holds("NumericLessThan", "s3:nothing", &["5"], &ctx));
}

#[test]
fn numeric_operators() {
    let ctx = ctx();
    assert!(holds("NumericEquals", "s3:max-keys", &["50"], &ctx));
    assert!(holds("NumericNotEquals", "s3:max-keys", &["10"], &ctx));
    assert!(holds("NumericLessThan", "s3:max-keys", &["51"], &ctx));
    assert!(holds("NumericLessThanEquals", "s3:max-keys", &["50"], &ctx));
    assert!(holds("NumericGreaterThan", "s3:max-keys", &["49.5"], &ctx));
    assert!(holds("NumericGreaterThanEquals", "s3:max-keys", &["50"], &ctx));
    assert!(!holds("NumericLessThan", "s3:max-keys", &["fifty"], &ctx));
}

#[test]
fn date_operators_take_iso_8601_and_epoch_seconds() {
    let ctx = ctx();
    assert!(holds(
        "DateGreaterThan",
        "aws:CurrentTime",
        &["2026-01-01T00:00:00Z"],
        &ctx
    ));
    assert!(holds("DateLessThan", "aws:CurrentTime", &["2027-01-01"], &ctx));
    assert!(holds("DateEquals", "aws:CurrentTime", &["1795867200"], &ctx));
    assert!(holds(
        "DateNotEquals",
        "aws:CurrentTime",
        &["2026-11-28T12:00:01Z"],
        &ctx
    ));
    assert!(holds(
        "DateLessThanEquals",
        "aws:EpochTime",
        &["2026-11-28T12:00:00Z"],
        &ctx
    ));
    assert!(holds(
        "DateGreaterThanEquals",
        "aws:EpochTime",
        &["2026-11-28T12:00:00Z"],
        &ctx
    ));
}

#[test]
fn bool_binary_and_ip_operators() {
    let ctx = ctx();
    // The deny-unless-TLS bucket policy: Bool aws:SecureTransport "false".
    assert!(holds("Bool", "aws:SecureTransport", &["false"], &ctx));
    assert!(!holds("Bool", "aws:SecureTransport", &["true"], &ctx));
    assert!(holds("BinaryEquals", "aws:username", &["YWxpY2U="], &ctx));
    assert!(holds("IpAddress", "aws:SourceIp", &["203.0.113.0/24"], &ctx));
    assert!(holds("IpAddress", "aws:SourceIp", &["203.0.113.7"], &ctx));
    assert!(!holds("IpAddress", "aws:SourceIp", &["198.51.100.0/24"], &ctx));
    assert!(holds(
        "NotIpAddress",
        "aws:SourceIp",
        &["198.51.100.0/24", "2001:db8::/32"],
        &ctx
    ));
    let v6 = ctx.clone().with("aws:SourceIp", "2001:db8::1");
    assert!(holds("IpAddress", "aws:SourceIp", &["2001:db8::/32"], &v6));
}

#[test]
fn arn_operators_match_component_by_component() {
    let ctx = ctx();
    assert!(holds(
        "ArnLike",
        "aws:PrincipalArn",
        &["arn:aws:iam::111122223333:user/*"],
        &ctx
    ));
    assert!(holds(
        "ArnEquals",
        "aws:PrincipalArn",
        &["arn:aws:iam::*:user/alice"],
        &ctx
    ));
    assert!(!holds(
        "ArnLike",
        "aws:PrincipalArn",
        &["arn:aws:iam::444455556666:user/*"],
        &ctx
    ));
    assert!(holds(
        "ArnNotLike",
        "aws:PrincipalArn",
        &["arn:aws:iam::444455556666:*"],
        &ctx
    ));
    // A `*` does not cross a component boundary.
    assert!(!holds(
        "ArnLike",
        "aws:PrincipalArn",
        &["arn:aws:iam::111122223333*"],
        &ctx
    ));
}

#[test]
fn null_checks_presence() {
    let ctx = ctx();
    assert!(holds("Null", "aws:Referer", &["true"], &ctx));
    assert!(!holds("Null", "aws:username", &["true"], &ctx));
    assert!(holds("Null", "aws:username", &["false"], &ctx));
}

#[test]
fn set_qualifiers() {
    let ctx = ctx();
    assert!(holds(
        "ForAllValues:StringEquals",
        "aws:TagKeys",
        &["team", "cost", "owner"],
        &ctx
    ));
    assert!(!holds("ForAllValues:StringEquals", "aws:TagKeys", &["team"], &ctx));
    assert!(holds("ForAnyValue:StringEquals", "aws:TagKeys", &["team"], &ctx));
    assert!(!holds("ForAnyValue:StringEquals", "aws:TagKeys", &["owner"], &ctx));
    // With no values at all, ForAllValues holds and ForAnyValue does not.
    assert!(holds("ForAllValues:StringEquals", "aws:Absent", &["x"], &ctx));
    assert!(!holds("ForAnyValue:StringEquals", "aws:Absent", &["x"], &ctx));
    assert!(holds("ForAnyValue:StringNotEquals", "aws:TagKeys", &["team"], &ctx));
    assert!(!holds("ForAllValues:StringNotEquals", "aws:TagKeys", &["team"], &ctx));
}

#[test]
fn operator_names_are_exact() {
    assert!(parse_operator("StringEquals").is_some());
    assert!(parse_operator("stringequals").is_none());
    assert!(parse_operator("NullIfExists").is_none());
    assert!(parse_operator("ForAllValues:Null").is_none());
    assert!(parse_operator("StringMaybe").is_none());
    assert_eq!(
        parse_operator("ForAnyValue:StringNotLikeIfExists").map(|p| (p.2, p.3)),
        Some((true, true))
    );
}
