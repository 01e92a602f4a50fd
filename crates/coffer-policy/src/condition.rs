//! The `Condition` element: operators, `…IfExists`, `ForAllValues:` / `ForAnyValue:`, and
//! AWS's combination rules (IAM user guide, "Conditions with multiple context keys or
//! values"): operators AND, keys AND, values OR (NOR for negated operators). A key the request
//! lacks makes a condition false, a negated one true, an `…IfExists` one true.

use std::net::IpAddr;

use base64::Engine;
use time::OffsetDateTime;

use crate::context::RequestContext;
use crate::pattern::{Pattern, Variables, Wildcards};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Operator {
    StringEquals,
    StringEqualsIgnoreCase,
    StringLike,
    NumericEquals,
    NumericLessThan,
    NumericLessThanEquals,
    NumericGreaterThan,
    NumericGreaterThanEquals,
    DateEquals,
    DateLessThan,
    DateLessThanEquals,
    DateGreaterThan,
    DateGreaterThanEquals,
    Bool,
    BinaryEquals,
    IpAddress,
    ArnLike,
    Null,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Qualifier {
    /// The key is single-valued.
    Single,
    /// Every value the request has must match (true when it has none).
    ForAllValues,
    /// At least one value the request has must match.
    ForAnyValue,
}

/// One operator applied to one key with its values.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Condition {
    pub operator: Operator,
    /// `StringNotEquals`, `NotIpAddress`, `ArnNotLike`…: the positive operator, negated.
    pub negated: bool,
    pub if_exists: bool,
    pub qualifier: Qualifier,
    /// Lowercased (condition keys are case-insensitive).
    pub key: String,
    /// As the policy writes it.
    pub key_as_written: String,
    pub values: Vec<String>,
    /// For `IpAddress`/`NotIpAddress`: the values as networks, parsed once (a plain address
    /// is a one-address network; `None` for a value that is neither).
    pub(crate) networks: Vec<Option<ipnet::IpNet>>,
}

impl Condition {
    pub fn new(
        operator: Operator,
        negated: bool,
        if_exists: bool,
        qualifier: Qualifier,
        key: &str,
        values: Vec<String>,
    ) -> Condition {
        let networks = if operator == Operator::IpAddress {
            values
                .iter()
                .map(|v| {
                    let v = v.trim();
                    v.parse::<ipnet::IpNet>()
                        .ok()
                        .or_else(|| v.parse::<IpAddr>().ok().map(ipnet::IpNet::from))
                })
                .collect()
        } else {
            Vec::new()
        };
        Condition {
            operator,
            negated,
            if_exists,
            qualifier,
            key: key.to_ascii_lowercase(),
            key_as_written: key.to_owned(),
            values,
            networks,
        }
    }
}

/// Parses an operator name such as `ForAnyValue:StringNotLikeIfExists`.
pub fn parse_operator(name: &str) -> Option<(Qualifier, Operator, bool, bool)> {
    let (qualifier, rest) = if let Some(rest) = name.strip_prefix("ForAllValues:") {
        (Qualifier::ForAllValues, rest)
    } else if let Some(rest) = name.strip_prefix("ForAnyValue:") {
        (Qualifier::ForAnyValue, rest)
    } else {
        (Qualifier::Single, name)
    };
    let (rest, if_exists) = match rest.strip_suffix("IfExists") {
        Some(base) => (base, true),
        None => (rest, false),
    };
    use Operator::*;
    let (operator, negated) = match rest {
        "StringEquals" => (StringEquals, false),
        "StringNotEquals" => (StringEquals, true),
        "StringEqualsIgnoreCase" => (StringEqualsIgnoreCase, false),
        "StringNotEqualsIgnoreCase" => (StringEqualsIgnoreCase, true),
        "StringLike" => (StringLike, false),
        "StringNotLike" => (StringLike, true),
        "NumericEquals" => (NumericEquals, false),
        "NumericNotEquals" => (NumericEquals, true),
        "NumericLessThan" => (NumericLessThan, false),
        "NumericLessThanEquals" => (NumericLessThanEquals, false),
        "NumericGreaterThan" => (NumericGreaterThan, false),
        "NumericGreaterThanEquals" => (NumericGreaterThanEquals, false),
        "DateEquals" => (DateEquals, false),
        "DateNotEquals" => (DateEquals, true),
        "DateLessThan" => (DateLessThan, false),
        "DateLessThanEquals" => (DateLessThanEquals, false),
        "DateGreaterThan" => (DateGreaterThan, false),
        "DateGreaterThanEquals" => (DateGreaterThanEquals, false),
        "Bool" => (Bool, false),
        "BinaryEquals" => (BinaryEquals, false),
        "IpAddress" => (IpAddress, false),
        "NotIpAddress" => (IpAddress, true),
        "ArnEquals" | "ArnLike" => (ArnLike, false),
        "ArnNotEquals" | "ArnNotLike" => (ArnLike, true),
        "Null" => (Null, false),
        _ => return None,
    };
    // `Null` checks existence itself; `NullIfExists` is not an operator.
    if operator == Null && (if_exists || qualifier != Qualifier::Single) {
        return None;
    }
    Some((qualifier, operator, negated, if_exists))
}

fn number(text: &str) -> Option<f64> {
    text.trim().parse::<f64>().ok().filter(|n| n.is_finite())
}

/// ISO 8601 (`2026-01-01T00:00:00Z`, or a bare date) or epoch seconds, as AWS accepts.
fn date(text: &str) -> Option<OffsetDateTime> {
    let text = text.trim();
    if let Ok(seconds) = text.parse::<i64>() {
        return OffsetDateTime::from_unix_timestamp(seconds).ok();
    }
    if let Ok(when) = OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339) {
        return Some(when);
    }
    let format = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(text, &format)
        .ok()
        .map(|day| day.midnight().assume_utc())
}

/// Compares ARNs component by component (six, colon-separated; the last may hold colons),
/// each a wildcard pattern, case-sensitively.
fn arn_like(pattern: &str, value: &str, variables: Variables, ctx: &RequestContext) -> bool {
    let pattern_parts: Vec<&str> = pattern.splitn(6, ':').collect();
    let value_parts: Vec<&str> = value.splitn(6, ':').collect();
    if pattern_parts.len() != 6 || value_parts.len() != 6 {
        return false;
    }
    pattern_parts
        .iter()
        .zip(&value_parts)
        .all(|(p, v)| Pattern::new(p, Wildcards::Match, variables, Some(ctx)).is_some_and(|p| p.matches(v, false)))
}

impl Condition {
    /// Whether one request value matches one policy value under the positive operator.
    fn value_matches(&self, value: &str, policy_value: &str, variables: Variables, ctx: &RequestContext) -> bool {
        use Operator::*;
        let substituted =
            || Pattern::new(policy_value, Wildcards::Literal, variables, Some(ctx)).map(|p| p.literal_text());
        match self.operator {
            StringEquals => substituted().is_some_and(|p| p == value),
            StringEqualsIgnoreCase => substituted().is_some_and(|p| p.to_lowercase() == value.to_lowercase()),
            StringLike => Pattern::new(policy_value, Wildcards::Match, variables, Some(ctx))
                .is_some_and(|p| p.matches(value, false)),
            NumericEquals | NumericLessThan | NumericLessThanEquals | NumericGreaterThan | NumericGreaterThanEquals => {
                let (Some(v), Some(p)) = (number(value), number(policy_value)) else {
                    return false;
                };
                match self.operator {
                    NumericEquals => v == p,
                    NumericLessThan => v < p,
                    NumericLessThanEquals => v <= p,
                    NumericGreaterThan => v > p,
                    _ => v >= p,
                }
            }
            DateEquals | DateLessThan | DateLessThanEquals | DateGreaterThan | DateGreaterThanEquals => {
                let (Some(v), Some(p)) = (date(value), date(policy_value)) else {
                    return false;
                };
                match self.operator {
                    DateEquals => v == p,
                    DateLessThan => v < p,
                    DateLessThanEquals => v <= p,
                    DateGreaterThan => v > p,
                    _ => v >= p,
                }
            }
            Bool => value.eq_ignore_ascii_case(policy_value.trim()),
            BinaryEquals => {
                let engine = base64::engine::general_purpose::STANDARD;
                engine
                    .decode(policy_value.trim())
                    .is_ok_and(|bytes| bytes == value.as_bytes())
            }
            // Decided in `value_satisfies` from the networks parsed with the policy.
            IpAddress => false,
            ArnLike => arn_like(policy_value, value, variables, ctx),
            Null => false,
        }
    }

    /// Whether one request value satisfies the condition's values: any of them, or (negated)
    /// none of them.
    fn value_satisfies(&self, value: &str, variables: Variables, ctx: &RequestContext) -> bool {
        let any = if self.operator == Operator::IpAddress {
            // Networks were parsed with the policy.
            value
                .trim()
                .parse::<IpAddr>()
                .is_ok_and(|address| self.networks.iter().flatten().any(|net| net.contains(&address)))
        } else {
            self.values.iter().any(|p| self.value_matches(value, p, variables, ctx))
        };
        any != self.negated
    }

    /// Whether the condition holds for the request.
    pub fn holds(&self, variables: Variables, ctx: &RequestContext) -> bool {
        let present = ctx.get(&self.key).filter(|values| !values.is_empty());
        if self.operator == Operator::Null {
            // "true": the key must be absent; "false": present.
            let wants_absent = self.values.iter().any(|v| v.eq_ignore_ascii_case("true"));
            return wants_absent == present.is_none();
        }
        match (self.qualifier, present) {
            (Qualifier::ForAllValues, None) => true,
            (Qualifier::ForAnyValue, None) => false,
            (Qualifier::Single, None) => self.if_exists || self.negated,
            (Qualifier::ForAllValues, Some(values)) => values.iter().all(|v| self.value_satisfies(v, variables, ctx)),
            (Qualifier::ForAnyValue, Some(values)) | (Qualifier::Single, Some(values)) => {
                if self.negated && self.qualifier == Qualifier::Single {
                    // A negated operator holds when no request value matches any policy value.
                    values.iter().all(|v| self.value_satisfies(v, variables, ctx))
                } else {
                    values.iter().any(|v| self.value_satisfies(v, variables, ctx))
                }
            }
        }
    }
}

/// Whether every condition of a statement holds (AND across operators and keys).
pub fn all_hold(conditions: &[Condition], variables: Variables, ctx: &RequestContext) -> bool {
    conditions.iter().all(|condition| condition.holds(variables, ctx))
}

#[cfg(test)]
mod tests;
