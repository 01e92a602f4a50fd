//! The policy simulator (IAM's SimulateCustomPolicy): every action on every resource, decided
//! by the same [`decide`] that authorizes real requests, for a simulated caller who is never
//! the root user (the root user's implicit permissions would hide what the policies say).

use crate::context::{RequestContext, RequestPrincipal};
use crate::document::Policy;
use crate::evaluate::{Decision, Policies, decide};

/// What to simulate.
#[derive(Clone, Debug, Default)]
pub struct Simulation<'a> {
    pub identity: Vec<&'a Policy>,
    pub boundary: Option<&'a Policy>,
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
        identity: simulation.identity.clone(),
        boundary: simulation.boundary,
        resource: simulation.resource_policy,
        resource_account: simulation.resource_owner.clone(),
    };
    let mut results = Vec::with_capacity(simulation.actions.len() * resources.len());
    for action in &simulation.actions {
        for resource in &resources {
            let ctx = simulated_context(simulation, action, resource);
            results.push(SimulationResult {
                action: action.clone(),
                resource: resource.clone(),
                decision: decide(&policies, &ctx),
            });
        }
    }
    results
}
