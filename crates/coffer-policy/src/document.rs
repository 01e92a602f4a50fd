//! Policy documents: parsing and validating the JSON grammar of the IAM user guide's "IAM JSON
//! policy element reference", with a message that says what is wrong and where.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value};

use crate::condition::{Condition, parse_operator};
use crate::pattern::{Pattern, Variables, Wildcards, variable_keys};
use crate::positions::{Position, statement_positions};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Effect {
    Allow,
    Deny,
}

/// `2012-10-17` (policy variables) or `2008-10-17` (none). A document without `Version` is
/// read as 2008-10-17, as AWS does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Version {
    V2008,
    V2012,
}

impl Version {
    pub fn variables(self) -> Variables {
        match self {
            Version::V2012 => Variables::Substitute,
            Version::V2008 => Variables::Literal,
        }
    }
}

/// Where a policy is attached: identity policies name no principal; resource policies must.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PolicyKind {
    Identity,
    Resource,
}

/// A list that may be negated (`NotAction`, `NotResource`, `NotPrincipal`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Match<T> {
    Is(T),
    Not(T),
}

/// The principals a statement names.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Principals {
    /// `"*"` or `{"AWS": "*"}`: anyone, including anonymous requests.
    pub anyone: bool,
    /// Account ids, `arn:aws:iam::<acct>:root`, user and role ARNs.
    pub aws: Vec<String>,
    /// Kept as written; Coffer has no service callers, so they match nothing.
    pub services: Vec<String>,
    pub federated: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Statement {
    pub sid: Option<String>,
    pub effect: Effect,
    pub actions: Match<Vec<String>>,
    /// `None` only in resource policies that name no resource (AWS requires one; kept as
    /// "every resource of the policy's own").
    pub resources: Option<Match<Vec<String>>>,
    pub principals: Option<Match<Principals>>,
    pub conditions: Vec<Condition>,
    /// Actions and variable-free resources as patterns, built once at parse time: they are
    /// matched for every statement on every request.
    pub(crate) compiled: Compiled,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Compiled {
    pub(crate) actions: Vec<Pattern>,
    /// In the order of the statement's resources; `None` for one with policy variables.
    pub(crate) resources: Vec<Option<Pattern>>,
}

impl Compiled {
    fn new(actions: &Match<Vec<String>>, resources: Option<&Match<Vec<String>>>, variables: Variables) -> Compiled {
        let list = |m: &Match<Vec<String>>| match m {
            Match::Is(list) | Match::Not(list) => list.clone(),
        };
        Compiled {
            actions: list(actions)
                .iter()
                .filter_map(|a| Pattern::new(a, Wildcards::Match, Variables::Literal, None))
                .collect(),
            resources: resources
                .map(list)
                .unwrap_or_default()
                .iter()
                .map(|r| {
                    if variables == Variables::Substitute && Pattern::has_variables(r) {
                        None
                    } else {
                        Pattern::new(r, Wildcards::Match, Variables::Literal, None)
                    }
                })
                .collect(),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Policy {
    pub version: Version,
    pub id: Option<String>,
    pub statements: Vec<Statement>,
    /// Where each statement is in the text (for the simulator); empty if unknown.
    pub positions: Vec<(Position, Position)>,
}

/// Why a document is not a valid policy (IAM: `MalformedPolicyDocument`, S3: `MalformedPolicy`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PolicyError(pub String);

impl std::fmt::Display for PolicyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for PolicyError {}

fn error<T>(message: impl Into<String>) -> Result<T, PolicyError> {
    Err(PolicyError(message.into()))
}

/// A string or a list of strings, as every list element of a policy may be.
fn strings(value: &Value, element: &str) -> Result<Vec<String>, PolicyError> {
    match value {
        Value::String(s) => Ok(vec![s.clone()]),
        Value::Array(items) if !items.is_empty() => items
            .iter()
            .map(|item| match item {
                Value::String(s) => Ok(s.clone()),
                _ => error(format!("{element} must contain only strings")),
            })
            .collect(),
        Value::Array(_) => error(format!("{element} must not be empty")),
        _ => error(format!("{element} must be a string or a list of strings")),
    }
}

/// Condition values may also be numbers or booleans; AWS compares them as text.
fn condition_values(value: &Value, operator: &str, key: &str) -> Result<Vec<String>, PolicyError> {
    let one = |v: &Value| match v {
        Value::String(s) => Ok(s.clone()),
        Value::Bool(b) => Ok(b.to_string()),
        Value::Number(n) => Ok(n.to_string()),
        _ => error(format!(
            "the values of {key} under {operator} must be strings, numbers or booleans"
        )),
    };
    match value {
        Value::Array(items) if !items.is_empty() => items.iter().map(one).collect(),
        Value::Array(_) => error(format!("{key} under {operator} has no values")),
        other => Ok(vec![one(other)?]),
    }
}

fn action_names(names: Vec<String>) -> Result<Vec<String>, PolicyError> {
    for name in &names {
        let valid = name == "*"
            || name
                .split_once(':')
                .is_some_and(|(service, action)| !service.is_empty() && !action.is_empty());
        if !valid {
            return error(format!("Action \"{name}\" must be \"*\" or \"service:Action\""));
        }
    }
    Ok(names)
}

fn resource_names(names: Vec<String>) -> Result<Vec<String>, PolicyError> {
    for name in &names {
        if name != "*" && !name.starts_with("arn:") {
            return error(format!("Resource \"{name}\" must be \"*\" or an ARN"));
        }
    }
    Ok(names)
}

fn principals(value: &Value, element: &str) -> Result<Principals, PolicyError> {
    match value {
        Value::String(s) if s == "*" => Ok(Principals {
            anyone: true,
            ..Principals::default()
        }),
        Value::Object(map) if !map.is_empty() => {
            let mut principals = Principals::default();
            for (kind, names) in map {
                let names = strings(names, &format!("{element}.{kind}"))?;
                match kind.as_str() {
                    "AWS" => {
                        for name in names {
                            if name == "*" {
                                principals.anyone = true;
                            } else if name.contains(['*', '?']) {
                                // "You cannot use a wildcard to match part of a principal
                                // name or ARN" (IAM's Principal element reference).
                                return error(format!("Invalid principal in policy: \"AWS\":\"{name}\""));
                            } else if is_account_id(&name)
                                || name.starts_with("arn:aws:iam::")
                                || name.starts_with("arn:aws:sts::")
                            {
                                principals.aws.push(name);
                            } else {
                                return error(format!("Invalid principal in policy: \"AWS\":\"{name}\""));
                            }
                        }
                    }
                    "Service" => principals.services.extend(names),
                    "Federated" => principals.federated.extend(names),
                    "CanonicalUser" => principals.aws.extend(names),
                    other => return error(format!("Invalid principal type in policy: \"{other}\"")),
                }
            }
            Ok(principals)
        }
        _ => error(format!("{element} must be \"*\" or an object such as {{\"AWS\": ...}}")),
    }
}

pub(crate) fn is_account_id(text: &str) -> bool {
    text.len() == 12 && text.bytes().all(|b| b.is_ascii_digit())
}

fn conditions(value: &Value) -> Result<Vec<Condition>, PolicyError> {
    let Value::Object(operators) = value else {
        return error("Condition must be an object of operators");
    };
    let mut out = Vec::new();
    for (operator_name, keys) in operators {
        let (qualifier, operator, negated, if_exists) = parse_operator(operator_name)
            .ok_or_else(|| PolicyError(format!("Invalid Condition type: {operator_name}")))?;
        let Value::Object(keys) = keys else {
            return error(format!("Condition {operator_name} must be an object of keys"));
        };
        if keys.is_empty() {
            return error(format!("Condition {operator_name} names no key"));
        }
        for (key, values) in keys {
            out.push(Condition::new(
                operator,
                negated,
                if_exists,
                qualifier,
                key,
                condition_values(values, operator_name, key)?,
            ));
        }
    }
    Ok(out)
}

fn statement(value: &Value, kind: PolicyKind, index: usize, version: Version) -> Result<Statement, PolicyError> {
    let Value::Object(map) = value else {
        return error(format!("Statement {index} must be an object"));
    };
    const KNOWN: [&str; 9] = [
        "Sid",
        "Effect",
        "Action",
        "NotAction",
        "Resource",
        "NotResource",
        "Principal",
        "NotPrincipal",
        "Condition",
    ];
    if let Some(unknown) = map.keys().find(|k| !KNOWN.contains(&k.as_str())) {
        return error(format!("Statement {index} has an unknown element \"{unknown}\""));
    }
    let effect = match map.get("Effect") {
        Some(Value::String(e)) if e == "Allow" => Effect::Allow,
        Some(Value::String(e)) if e == "Deny" => Effect::Deny,
        Some(_) => return error(format!("Statement {index}: Effect must be \"Allow\" or \"Deny\"")),
        None => return error(format!("Statement {index} is missing its Effect")),
    };
    // IAM limits a Sid to letters and digits; S3 takes any text in a bucket policy (its
    // documentation's examples have Sids with spaces).
    let sid = match map.get("Sid") {
        None => None,
        Some(Value::String(s)) if kind == PolicyKind::Resource || s.chars().all(|c| c.is_ascii_alphanumeric()) => {
            Some(s.clone())
        }
        Some(Value::String(_)) => {
            return error(format!("Statement {index}: Sid must contain only letters and digits"));
        }
        Some(_) => return error(format!("Statement {index}: Sid must be a string")),
    };
    let actions = pick(map, "Action", "NotAction", index)?
        .ok_or_else(|| PolicyError(format!("Statement {index} is missing its Action or NotAction")))?;
    let actions = match actions {
        Match::Is(v) => Match::Is(action_names(strings(v, "Action")?)?),
        Match::Not(v) => Match::Not(action_names(strings(v, "NotAction")?)?),
    };
    let resources = match pick(map, "Resource", "NotResource", index)? {
        Some(Match::Is(v)) => Some(Match::Is(resource_names(strings(v, "Resource")?)?)),
        Some(Match::Not(v)) => Some(Match::Not(resource_names(strings(v, "NotResource")?)?)),
        None if kind == PolicyKind::Identity => {
            return error(format!("Statement {index} is missing its Resource or NotResource"));
        }
        None => None,
    };
    let principals = match pick(map, "Principal", "NotPrincipal", index)? {
        Some(_) if kind == PolicyKind::Identity => {
            return error("Policy document should not specify a principal.");
        }
        Some(Match::Is(v)) => Some(Match::Is(principals(v, "Principal")?)),
        Some(Match::Not(_)) if effect == Effect::Allow => {
            // The IAM user guide: NotPrincipal must be used with Deny; Allow is not supported.
            return error(format!(
                "Statement {index}: NotPrincipal must be used with \"Effect\": \"Deny\""
            ));
        }
        Some(Match::Not(v)) => Some(Match::Not(principals(v, "NotPrincipal")?)),
        None if kind == PolicyKind::Resource => {
            return error(format!("Statement {index} is missing its Principal or NotPrincipal"));
        }
        None => None,
    };
    let conditions = match map.get("Condition") {
        Some(value) => conditions(value)?,
        None => Vec::new(),
    };
    let compiled = Compiled::new(&actions, resources.as_ref(), version.variables());
    Ok(Statement {
        sid,
        effect,
        actions,
        resources,
        principals,
        conditions,
        compiled,
    })
}

/// The element `name` or `not_name`, never both.
fn pick<'v>(
    map: &'v Map<String, Value>,
    name: &str,
    not_name: &str,
    index: usize,
) -> Result<Option<Match<&'v Value>>, PolicyError> {
    match (map.get(name), map.get(not_name)) {
        (Some(_), Some(_)) => error(format!("Statement {index} has both {name} and {not_name}")),
        (Some(v), None) => Ok(Some(Match::Is(v))),
        (None, Some(v)) => Ok(Some(Match::Not(v))),
        (None, None) => Ok(None),
    }
}

impl Policy {
    /// Whether the policy grants anyone (`"*"` or `NotPrincipal`) something, as S3 judges a
    /// bucket policy public: a grant to anyone stays public unless a condition pins it to fixed
    /// accounts, networks or sources (a wildcard or a `/0` range pins nothing).
    pub fn is_public(&self) -> bool {
        const RESTRICTING_KEYS: [&str; 8] = [
            "aws:sourceip",
            "aws:sourceaccount",
            "aws:principalaccount",
            "aws:sourcearn",
            "aws:sourceowner",
            "aws:sourcevpc",
            "aws:sourcevpce",
            "aws:principalorgid",
        ];
        let restricting = |condition: &Condition| {
            !condition.negated
                && RESTRICTING_KEYS.contains(&condition.key.as_str())
                && condition.values.iter().all(|v| !v.contains('*') && !v.ends_with("/0"))
        };
        self.statements.iter().any(|statement| {
            let to_anyone = match &statement.principals {
                Some(Match::Is(principals)) => principals.anyone,
                Some(Match::Not(_)) => true,
                None => false,
            };
            statement.effect == Effect::Allow && to_anyone && !statement.conditions.iter().any(restricting)
        })
    }

    /// Every condition key a decision on this policy can read (lowercased): the conditions'
    /// keys and the policy variables' keys. With the action, the resource and the caller, their
    /// values fix the decision, which is what lets callers cache it.
    pub fn context_keys(&self) -> BTreeSet<String> {
        self.context_key_names().keys().cloned().collect()
    }

    /// The same keys, each by its lowercased name with its first spelling in the policy (for
    /// the simulator's `MissingContextValues`).
    pub fn context_key_names(&self) -> BTreeMap<String, String> {
        let mut names = Vec::new();
        for statement in &self.statements {
            if let Some(Match::Is(list) | Match::Not(list)) = &statement.resources {
                names.extend(list.iter().flat_map(|r| variable_keys(r)));
            }
            for condition in &statement.conditions {
                names.push(&condition.key_as_written);
                names.extend(condition.values.iter().flat_map(|v| variable_keys(v)));
            }
        }
        let mut keys = BTreeMap::new();
        for name in names {
            keys.entry(name.to_ascii_lowercase()).or_insert_with(|| name.to_owned());
        }
        keys
    }

    /// Parses and validates a policy document of the given kind.
    pub fn parse(text: &str, kind: PolicyKind) -> Result<Policy, PolicyError> {
        let value: Value =
            serde_json::from_str(text).map_err(|e| PolicyError(format!("Syntax errors in policy: {e}")))?;
        let Value::Object(map) = value else {
            return error("The policy must be a JSON object");
        };
        if let Some(unknown) = map
            .keys()
            .find(|k| !["Version", "Id", "Statement"].contains(&k.as_str()))
        {
            return error(format!("The policy has an unknown element \"{unknown}\""));
        }
        let version = match map.get("Version") {
            None => Version::V2008,
            Some(Value::String(v)) if v == "2012-10-17" => Version::V2012,
            Some(Value::String(v)) if v == "2008-10-17" => Version::V2008,
            Some(_) => return error("The policy's Version must be \"2012-10-17\" or \"2008-10-17\""),
        };
        let id = match map.get("Id") {
            None => None,
            Some(Value::String(id)) => Some(id.clone()),
            Some(_) => return error("Id must be a string"),
        };
        let statements = match map.get("Statement") {
            Some(Value::Array(items)) if !items.is_empty() => items
                .iter()
                .enumerate()
                .map(|(i, s)| statement(s, kind, i, version))
                .collect::<Result<Vec<_>, _>>()?,
            Some(Value::Array(_)) => return error("Statement must not be empty"),
            Some(single @ Value::Object(_)) => vec![statement(single, kind, 0, version)?],
            Some(_) => return error("Statement must be an object or a list of objects"),
            None => return error("The policy is missing its Statement"),
        };
        let mut sids = std::collections::HashSet::new();
        if statements
            .iter()
            .filter_map(|statement| statement.sid.as_deref())
            .any(|sid| !sids.insert(sid))
        {
            return error("Statement IDs (SID) in a single policy must be unique");
        }
        let mut positions = statement_positions(text);
        if positions.len() != statements.len() {
            positions.clear();
        }
        Ok(Policy {
            version,
            id,
            statements,
            positions,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn identity(text: &str) -> Result<Policy, PolicyError> {
        Policy::parse(text, PolicyKind::Identity)
    }

    #[test]
    fn the_read_only_s3_policy_parses() {
        // AmazonS3ReadOnlyAccess, as AWS publishes it.
        let policy = identity(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:Get*","s3:List*","s3:Describe*","s3-object-lambda:Get*","s3-object-lambda:List*"],"Resource":"*"}]}"#,
        )
        .unwrap();
        assert_eq!(policy.version, Version::V2012);
        assert_eq!(policy.statements.len(), 1);
        assert_eq!(policy.statements[0].effect, Effect::Allow);
    }

    #[test]
    fn context_keys_name_every_key_a_decision_reads() {
        // The IAM user guide's home-folder policy, with a condition value that is a variable.
        let policy = identity(
            r#"{"Version":"2012-10-17","Statement":[
              {"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::b",
               "Condition":{"StringLike":{"s3:prefix":["","home/","home/${aws:username}/*"]}}},
              {"Effect":"Allow","Action":"s3:*","NotResource":"arn:aws:s3:::b/home/${aws:userid}/*",
               "Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"},"StringEquals":{"aws:PrincipalTag/x":"${aws:PrincipalAccount}"}}}]}"#,
        )
        .unwrap();
        let keys: Vec<String> = policy.context_keys().into_iter().collect();
        assert_eq!(
            keys,
            [
                "aws:principalaccount",
                "aws:principaltag/x",
                "aws:sourceip",
                "aws:userid",
                "aws:username",
                "s3:prefix"
            ]
        );
    }

    #[test]
    fn a_sid_is_letters_and_digits_in_iam_and_any_text_in_a_bucket_policy() {
        let with_sid = |sid: &str| {
            format!(
                r#"{{"Version":"2012-10-17","Statement":{{"Sid":"{sid}","Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"*"}}}}"#
            )
        };
        // The S3 user guide's referer example.
        let spaced = with_sid("Allow get requests originating from www.example.com and example.com.");
        assert!(Policy::parse(&spaced, PolicyKind::Resource).is_ok());
        let identity_text = spaced.replace(r#""Principal":"*","#, "");
        assert!(identity(&identity_text).unwrap_err().0.contains("Sid"));
        assert!(identity(&with_sid("AllowReads1").replace(r#""Principal":"*","#, "")).is_ok());
    }

    #[test]
    fn statement_ids_are_unique() {
        let twice = r#"{"Version":"2012-10-17","Statement":[
            {"Sid":"A1","Effect":"Allow","Action":"*","Resource":"*"},
            {"Sid":"A1","Effect":"Deny","Action":"s3:*","Resource":"*"}]}"#;
        assert!(identity(twice).unwrap_err().0.contains("unique"));
        assert!(identity(&twice.replacen("A1", "B2", 1)).is_ok());
    }

    #[test]
    fn not_principal_only_denies() {
        let with = |effect: &str| {
            Policy::parse(
                &format!(
                    r#"{{"Version":"2012-10-17","Statement":{{"Effect":"{effect}","NotPrincipal":{{"AWS":"arn:aws:iam::111122223333:root"}},"Action":"s3:*","Resource":"*"}}}}"#
                ),
                PolicyKind::Resource,
            )
        };
        assert!(with("Deny").is_ok());
        assert!(with("Allow").unwrap_err().0.contains("NotPrincipal must be used with"));
    }

    #[test]
    fn a_single_statement_object_and_strings_for_lists() {
        let policy =
            identity(r#"{"Statement":{"Effect":"Deny","NotAction":"iam:*","NotResource":"arn:aws:s3:::x"}}"#).unwrap();
        assert_eq!(policy.version, Version::V2008);
        assert_eq!(policy.statements[0].actions, Match::Not(vec!["iam:*".to_owned()]));
    }

    #[test]
    fn conditions_parse_with_numbers_and_booleans() {
        let policy = identity(
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:ListBucket","Resource":"*",
               "Condition":{"Bool":{"aws:SecureTransport":true},"NumericLessThan":{"s3:max-keys":10},
               "StringLike":{"s3:prefix":["home/${aws:username}/*",""]}}}}"#,
        )
        .unwrap();
        let conditions = &policy.statements[0].conditions;
        assert_eq!(conditions.len(), 3);
        assert!(conditions.iter().any(|c| c.values == ["true"]));
        assert!(conditions.iter().any(|c| c.values == ["10"]));
    }

    #[test]
    fn malformed_documents_say_what_is_wrong() {
        let cases = [
            ("not json", "Syntax errors"),
            (r#"[]"#, "JSON object"),
            (r#"{"Version":"2012-10-17"}"#, "missing its Statement"),
            (r#"{"Version":"2020-01-01","Statement":[]}"#, "Version"),
            (r#"{"Statement":[]}"#, "must not be empty"),
            (
                r#"{"Statement":{"Action":"s3:*","Resource":"*"}}"#,
                "missing its Effect",
            ),
            (
                r#"{"Statement":{"Effect":"Maybe","Action":"s3:*","Resource":"*"}}"#,
                "Effect must be",
            ),
            (
                r#"{"Statement":{"Effect":"Allow","Resource":"*"}}"#,
                "missing its Action",
            ),
            (
                r#"{"Statement":{"Effect":"Allow","Action":"s3:*"}}"#,
                "missing its Resource",
            ),
            (
                r#"{"Statement":{"Effect":"Allow","Action":"s3:*","NotAction":"s3:Get*","Resource":"*"}}"#,
                "both Action and NotAction",
            ),
            (
                r#"{"Statement":{"Effect":"Allow","Action":"GetObject","Resource":"*"}}"#,
                "service:Action",
            ),
            (
                r#"{"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"bucket"}}"#,
                "an ARN",
            ),
            (
                r#"{"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*","Principal":"*"}}"#,
                "should not specify a principal",
            ),
            (
                r#"{"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"StringMaybe":{"a":"b"}}}}"#,
                "Invalid Condition type",
            ),
            (
                r#"{"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*","Sid":"has space"}}"#,
                "Sid",
            ),
            (
                r#"{"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*","Extra":1}}"#,
                "unknown element",
            ),
            (
                r#"{"Statement":{"Effect":"Allow","Action":[],"Resource":"*"}}"#,
                "must not be empty",
            ),
        ];
        for (text, expected) in cases {
            let err = identity(text).unwrap_err();
            assert!(err.0.contains(expected), "{text}: {err}");
        }
    }

    #[test]
    fn resource_policies_need_a_principal() {
        let text = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}}"#;
        assert!(
            Policy::parse(text, PolicyKind::Resource)
                .unwrap_err()
                .0
                .contains("Principal")
        );
        let text = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":["111122223333","arn:aws:iam::111122223333:user/alice"],"Service":"logging.s3.amazonaws.com"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}}"#;
        let policy = Policy::parse(text, PolicyKind::Resource).unwrap();
        let Some(Match::Is(principals)) = &policy.statements[0].principals else {
            panic!()
        };
        assert_eq!(principals.aws.len(), 2);
        assert_eq!(principals.services, ["logging.s3.amazonaws.com"]);
        for name in [
            "alice",
            "arn:aws:iam::*:root",
            "arn:aws:iam::111122223333:user/*",
            "11112222333?",
        ] {
            let text = format!(
                r#"{{"Statement":{{"Effect":"Allow","Principal":{{"AWS":"{name}"}},"Action":"s3:*","Resource":"*"}}}}"#
            );
            assert!(
                Policy::parse(&text, PolicyKind::Resource)
                    .unwrap_err()
                    .0
                    .contains("Invalid principal"),
                "{name}"
            );
        }
    }
}
