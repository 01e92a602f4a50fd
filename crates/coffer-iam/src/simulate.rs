//! SimulateCustomPolicy: IAM's policy simulator, answered by the engine that authorizes real
//! requests (`coffer_policy::simulate`).

use coffer_policy::simulate::{Matched, Simulation, Source, simulate};
use coffer_policy::{Policy, PolicyKind};

use crate::paging::Pager;
use crate::xml::Xml;
use crate::{Call, IamError};

fn parse(document: &str, kind: PolicyKind, field: &str) -> Result<Policy, IamError> {
    Policy::parse(document, kind).map_err(|e| IamError::MalformedPolicyDocument(format!("{field}: {e}")))
}

/// `ContextEntries.member.N.ContextKeyName` with `ContextKeyValues.member.M`.
fn context_entries(cx: &Call<'_>) -> Vec<(String, Vec<String>)> {
    (1..)
        .map_while(|i| {
            let name = cx.params.get(&format!("ContextEntries.member.{i}.ContextKeyName"))?;
            let values = cx
                .params
                .members(&format!("ContextEntries.member.{i}.ContextKeyValues"));
            Some((name.to_owned(), values.into_iter().map(str::to_owned).collect()))
        })
        .collect()
}

/// What both simulators share: the extra parameters, then the answer. `boundary` is the
/// simulated user's own permissions boundary, which PermissionsBoundaryPolicyInputList replaces.
async fn answer(
    cx: &Call<'_>,
    identity: Vec<(Policy, Source)>,
    boundary: Option<(Policy, Source)>,
    caller_arn: String,
) -> Result<Option<String>, IamError> {
    let pager = Pager::new(cx.params)?;
    let actions: Vec<String> = cx
        .params
        .members("ActionNames")
        .into_iter()
        .map(str::to_owned)
        .collect();
    if actions.is_empty() {
        return Err(crate::error::validation(None, "actionNames", "Member must not be null"));
    }
    let boundaries = input_list(cx, "PermissionsBoundaryPolicyInputList")?;
    let boundary = boundaries.into_iter().next().or(boundary);
    let resource_policy = match cx.params.get("ResourcePolicy") {
        Some(doc) => Some(parse(doc, PolicyKind::Resource, "ResourcePolicy")?),
        None => None,
    };
    let resource_owner = cx
        .params
        .get("ResourceOwner")
        .map(|owner| {
            owner
                .strip_prefix("arn:aws:iam::")
                .and_then(|r| r.split(':').next())
                .unwrap_or(owner)
                .to_owned()
        })
        .unwrap_or_else(|| cx.account().to_owned());
    let simulation = Simulation {
        identity: identity
            .iter()
            .map(|(policy, source)| (policy, source.clone()))
            .collect(),
        boundary: boundary.as_ref().map(|(policy, source)| (policy, source.clone())),
        resource_policy: resource_policy.as_ref(),
        actions,
        resources: cx
            .params
            .members("ResourceArns")
            .into_iter()
            .map(str::to_owned)
            .collect(),
        caller_arn,
        caller_account: cx.account().to_owned(),
        resource_owner,
        context: context_entries(cx),
    };
    // Results keep the request's order (actions, then resources): pages cut it by position.
    let numbered: Vec<_> = simulate(&simulation).into_iter().enumerate().collect();
    let results = pager.page(numbered, |(i, _)| *i);
    let mut xml = Xml::new();
    xml.with("EvaluationResults", |x| {
        for (_, result) in &results.items {
            x.with("member", |m| {
                m.elem("EvalActionName", &result.action)
                    .elem("EvalResourceName", &result.resource)
                    .elem("EvalDecision", result.decision.simulator_name());
                m.with("MatchedStatements", |statements| {
                    for matched in &result.matched {
                        statements.with("member", |s| write_matched(s, matched));
                    }
                });
                m.with("MissingContextValues", |missing| {
                    for name in &result.missing_context {
                        missing.elem("member", name);
                    }
                });
            });
        }
    });
    results.write_truncation(&mut xml);
    Ok(Some(xml.finish()))
}

fn write_matched(xml: &mut Xml, matched: &Matched) {
    xml.elem("SourcePolicyId", &matched.source.id)
        .elem("SourcePolicyType", &matched.source.kind);
    for (name, position) in [("StartPosition", matched.start), ("EndPosition", matched.end)] {
        if let Some(position) = position {
            xml.with(name, |p| {
                p.elem("Line", &position.line.to_string())
                    .elem("Column", &position.column.to_string());
            });
        }
    }
}

/// `PolicyInputList`, parsed.
fn input_policies(cx: &Call<'_>) -> Result<Vec<(Policy, Source)>, IamError> {
    input_list(cx, "PolicyInputList")
}

/// The identity policies of the list parameter `list`, parsed, each named as IAM names it
/// (`PolicyInputList.N`).
fn input_list(cx: &Call<'_>, list: &str) -> Result<Vec<(Policy, Source)>, IamError> {
    cx.params
        .members(list)
        .iter()
        .enumerate()
        .map(|(i, doc)| {
            let id = format!("{list}.{}", i + 1);
            let policy = parse(doc, PolicyKind::Identity, &id)?;
            let source = Source {
                id,
                kind: "none".to_owned(),
            };
            Ok((policy, source))
        })
        .collect()
}

pub(crate) async fn simulate_custom_policy(cx: &Call<'_>) -> Result<Option<String>, IamError> {
    cx.authorize("iam:SimulateCustomPolicy", "*").await?;
    if cx.params.members("PolicyInputList").is_empty() {
        return Err(crate::error::validation(
            None,
            "policyInputList",
            "Member must not be null",
        ));
    }
    let identity = input_policies(cx)?;
    let caller_arn = cx
        .params
        .get("CallerArn")
        .map(str::to_owned)
        .unwrap_or_else(|| cx.caller.arn());
    answer(cx, identity, None, caller_arn).await
}

/// SimulatePrincipalPolicy: a user's own policies (inline and attached, its groups' too),
/// plus any in PolicyInputList.
pub(crate) async fn simulate_principal_policy(cx: &Call<'_>) -> Result<Option<String>, IamError> {
    let source = cx.params.require("PolicySourceArn")?;
    cx.authorize("iam:SimulatePrincipalPolicy", source).await?;
    let prefix = format!("arn:aws:iam::{}:user/", cx.account());
    let name = source
        .strip_prefix(&prefix)
        .map(|rest| rest.rsplit('/').next().unwrap_or(rest))
        .ok_or_else(|| {
            IamError::InvalidInput(format!(
                "Invalid ARN: {source}. Coffer simulates the users of the caller's account."
            ))
        })?;
    let user = cx.store.user(cx.account(), name).await.map_err(|e| match e {
        coffer_store::StoreError::NoSuchUser => crate::users::no_such_user(name),
        other => other.into(),
    })?;
    // The ARN must be the user's own (path included): permission on `user/team/*` does not
    // reach a user `admin` elsewhere.
    if user.arn() != source {
        return Err(crate::users::no_such_user(name));
    }
    let principal = coffer_auth::Principal {
        account_id: user.account_id.clone(),
        identity: coffer_auth::Identity::User {
            user_id: user.user_id.clone(),
            name: user.name.clone(),
            path: user.path.clone(),
        },
        access_key_id: String::new(),
        session: None,
    };
    let grants = cx.authorizer.grants(cx.store, &principal).await?;
    let mut identity: Vec<(Policy, Source)> = grants
        .sourced()
        .map(|(policy, source)| (policy.clone(), source))
        .collect();
    if grants.is_unreadable() {
        // As enforcement does: a set with a policy that no longer parses denies everything.
        let deny = r#"{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":"*","Resource":"*"}}"#;
        let source = Source {
            id: "UnreadableStoredPolicy".to_owned(),
            kind: "none".to_owned(),
        };
        identity.push((parse(deny, PolicyKind::Identity, "UnreadableStoredPolicy")?, source));
    }
    identity.extend(input_policies(cx)?);
    let boundary = grants
        .sourced_boundary()
        .map(|(policy, source)| (policy.clone(), source));
    answer(cx, identity, boundary, user.arn()).await
}
