//! The policy simulator (IAM's SimulateCustomPolicy): every action on every resource, decided
//! by the same [`decide`] that authorizes real requests, for a simulated caller who is never
//! the root user (the root user's implicit permissions would hide what the policies say).

use crate::context::{RequestContext, RequestPrincipal};
use crate::document::{Effect, Policy};
use crate::evaluate::{Decision, Policies, decide, matching_statements};
use crate::positions::Position;

/// Where a simulated policy came from, as IAM's `MatchedStatements` names it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Source {
    /// The policy's name, or `PolicyInputList.N` for one given to the simulator.
    pub id: String,
    /// `user`, `group`, `user-managed`, `aws-managed`, `resource` or `none`.
    pub kind: String,
}

/// A statement that decided a result.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Matched {
    pub source: Source,
    pub start: Option<Position>,
    pub end: Option<Position>,
}

/// What to simulate.
#[derive(Clone, Debug, Default)]
pub struct Simulation<'a> {
    pub identity: Vec<(&'a Policy, Source)>,
    pub boundary: Option<(&'a Policy, Source)>,
    pub resource_policy: Option<&'a Policy>,
    pub actions: Vec<String>,
    /// `*` when empty.
    pub resources: Vec<String>,
    /// The simulated caller's ARN and account.
    pub caller_arn: String,
    pub caller_account: String,
    pub resource_owner: String,
    /// Context entries: key and values.
    pub context: Vec<(String, Vec<String>)>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SimulationResult {
    pub action: String,
    pub resource: String,
    pub decision: Decision,
    /// The statements that decided: the Deny statements that apply for an explicit deny, the
    /// Allow statements that apply for an allow, none for an implicit deny.
    pub matched: Vec<Matched>,
    /// Condition keys the policies read that the simulated request lacks (as written).
    pub missing_context: Vec<String>,
}

impl Decision {
    /// The name IAM's simulator gives a decision.
    pub fn simulator_name(self) -> &'static str {
        match self {
            Decision::Allow => "allowed",
            Decision::ExplicitDeny => "explicitDeny",
            Decision::ImplicitDeny => "implicitDeny",
        }
    }
}

/// The request context the simulator judges one action on one resource by.
pub fn simulated_context(simulation: &Simulation<'_>, action: &str, resource: &str) -> RequestContext {
    let who = RequestPrincipal {
        arn: simulation.caller_arn.clone(),
        account_id: simulation.caller_account.clone(),
        is_root: false,
        entity_arn: None,
        federated: false,
        service: false,
    };
    let mut ctx = RequestContext::new(action, resource, Some(who))
        .with("aws:PrincipalArn", simulation.caller_arn.clone())
        .with("aws:PrincipalAccount", simulation.caller_account.clone());
    if let Some(name) = simulation
        .caller_arn
        .split_once(":user/")
        .map(|(_, rest)| rest.rsplit('/').next().unwrap_or(rest))
    {
        ctx = ctx.with("aws:username", name);
    }
    for (key, values) in &simulation.context {
        ctx = ctx.with_values(key, values.clone());
    }
    ctx
}

pub fn simulate(simulation: &Simulation<'_>) -> Vec<SimulationResult> {
    let resources: Vec<String> = if simulation.resources.is_empty() {
        vec!["*".to_owned()]
    } else {
        simulation.resources.clone()
    };
    let policies = Policies {
        identity: simulation.identity.iter().map(|(policy, _)| *policy).collect(),
        trust: false,
        boundary: simulation.boundary.as_ref().map(|(policy, _)| *policy),
        session: None,
        resource: simulation.resource_policy,
        resource_account: simulation.resource_owner.clone(),
    };
    let mut results = Vec::with_capacity(simulation.actions.len() * resources.len());
    for action in &simulation.actions {
        for resource in &resources {
            let ctx = simulated_context(simulation, action, resource);
            let decision = decide(&policies, &ctx);
            results.push(SimulationResult {
                action: action.clone(),
                resource: resource.clone(),
                decision,
                matched: matched(simulation, decision, &ctx),
                missing_context: missing_context(simulation, &ctx),
            });
        }
    }
    results
}

/// The condition keys any simulated policy reads that `ctx` does not have.
fn missing_context(simulation: &Simulation<'_>, ctx: &RequestContext) -> Vec<String> {
    let policies = simulation
        .identity
        .iter()
        .map(|(policy, _)| *policy)
        .chain(simulation.boundary.as_ref().map(|(policy, _)| *policy))
        .chain(simulation.resource_policy);
    let mut names = std::collections::BTreeMap::new();
    for policy in policies {
        for (key, name) in policy.context_key_names() {
            if ctx.get(&key).is_none() {
                names.entry(key).or_insert(name);
            }
        }
    }
    names.into_values().collect()
}

/// The statements behind `decision`, policy by policy.
fn matched(simulation: &Simulation<'_>, decision: Decision, ctx: &RequestContext) -> Vec<Matched> {
    let effect = match decision {
        Decision::Allow => Effect::Allow,
        Decision::ExplicitDeny => Effect::Deny,
        Decision::ImplicitDeny => return Vec::new(),
    };
    let resource = Source {
        id: "ResourcePolicy".to_owned(),
        kind: "resource".to_owned(),
    };
    let sourced = simulation
        .identity
        .iter()
        .map(|(policy, source)| (*policy, source))
        .chain(simulation.boundary.as_ref().map(|(policy, source)| (*policy, source)))
        .chain(simulation.resource_policy.map(|policy| (policy, &resource)));
    let mut found = Vec::new();
    for (policy, source) in sourced {
        for index in matching_statements(policy, effect, ctx) {
            let span = policy.positions.get(index);
            found.push(Matched {
                source: source.clone(),
                start: span.map(|(start, _)| *start),
                end: span.map(|(_, end)| *end),
            });
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::document::PolicyKind;

    #[test]
    fn matched_statements_name_their_policy_and_place() {
        let text = "{\"Version\":\"2012-10-17\",\"Statement\":[\n  {\"Effect\":\"Allow\",\"Action\":\"s3:*\",\"Resource\":\"*\"},\n  {\"Effect\":\"Deny\",\"Action\":\"s3:DeleteObject\",\"Resource\":\"*\"}]}";
        let policy = Policy::parse(text, PolicyKind::Identity).unwrap();
        let source = Source {
            id: "PolicyInputList.1".to_owned(),
            kind: "none".to_owned(),
        };
        let simulation = Simulation {
            identity: vec![(&policy, source.clone())],
            actions: vec![
                "s3:GetObject".to_owned(),
                "s3:DeleteObject".to_owned(),
                "iam:ListUsers".to_owned(),
            ],
            caller_arn: "arn:aws:iam::111122223333:user/alice".to_owned(),
            caller_account: "111122223333".to_owned(),
            resource_owner: "111122223333".to_owned(),
            ..Simulation::default()
        };
        let results = simulate(&simulation);
        let at = |line, column| Some(Position { line, column });
        assert_eq!(results[0].decision, Decision::Allow);
        assert_eq!(
            results[0].matched,
            [Matched {
                source: source.clone(),
                start: at(2, 3),
                end: at(2, 52)
            }]
        );
        assert_eq!(results[1].decision, Decision::ExplicitDeny);
        assert_eq!(results[1].matched.len(), 1, "only the Deny decided");
        assert_eq!(results[1].matched[0].start, at(3, 3));
        assert_eq!(results[2].decision, Decision::ImplicitDeny);
        assert!(results[2].matched.is_empty());
    }

    #[test]
    fn missing_context_values_are_the_keys_read_but_not_given() {
        let policy = Policy::parse(
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:GetObject",
                "Resource":"arn:aws:s3:::b/${aws:username}/*",
                "Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"},"StringEquals":{"aws:PrincipalTag/Team":"blue"}}}}"#,
            PolicyKind::Identity,
        )
        .unwrap();
        let source = Source {
            id: "PolicyInputList.1".to_owned(),
            kind: "none".to_owned(),
        };
        let simulation = Simulation {
            identity: vec![(&policy, source)],
            actions: vec!["s3:GetObject".to_owned()],
            caller_arn: "arn:aws:iam::111122223333:user/alice".to_owned(),
            caller_account: "111122223333".to_owned(),
            resource_owner: "111122223333".to_owned(),
            context: vec![("aws:sourceip".to_owned(), vec!["10.1.1.1".to_owned()])],
            ..Simulation::default()
        };
        // aws:username comes with the caller; the source address was given.
        assert_eq!(simulate(&simulation)[0].missing_context, ["aws:PrincipalTag/Team"]);
    }
}
