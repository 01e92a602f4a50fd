//! The decision, following the IAM user guide's "Policy evaluation logic" for the policy types
//! Coffer has (identity-based policies, permissions boundaries, resource-based policies):
//!
//! 1. An explicit `Deny` in any policy that applies wins.
//! 2. An anonymous request is allowed only by a resource policy that allows anyone.
//! 3. The root user is allowed everything in its own account.
//! 4. In one account, a resource policy that names the principal allows on its own; otherwise
//!    an identity policy must allow, within the permissions boundary if there is one, and
//!    within the session policies if the caller is a session that has them.
//! 5. A session is named by its own ARN (that grant is direct, as a user's) or by its role's
//!    ARN: that grant is bounded by the role's permissions boundary and the session policies.
//!    A role's trust policy must always allow: in its own account too, the caller's policies
//!    alone never let it assume the role.
//! 6. Across accounts, both sides must allow: the resource policy (naming the principal or its
//!    account) and the principal's own identity policies (a root user's are implicit).
//! 7. Everything else is an implicit deny.

use crate::condition::all_hold;
use crate::context::{RequestContext, RequestPrincipal};
use crate::document::{Effect, Match, Policy, Principals, Statement, is_account_id};
use crate::pattern::{Variables, wildcard_match};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    Allow,
    ExplicitDeny,
    ImplicitDeny,
}

/// The policies that apply to one request.
#[derive(Clone, Debug, Default)]
pub struct Policies<'a> {
    /// The principal's identity policies: its own inline and managed ones, and its groups'.
    pub identity: Vec<&'a Policy>,
    /// The principal's permissions boundary, if it has one.
    pub boundary: Option<&'a Policy>,
    /// A session's session policies, when it was given some: the session may do only what
    /// one of them allows (an empty list allows nothing). `None` limits nothing.
    pub session: Option<Vec<&'a Policy>>,
    /// The resource's own policy (a bucket policy), if it has one.
    pub resource: Option<&'a Policy>,
    /// The account that owns the resource.
    pub resource_account: String,
    /// The resource policy is a role's trust policy: it must allow, naming the caller or its
    /// account, even in the role's own account (an identity policy alone never lets anyone
    /// assume a role; IAM guide, "How IAM roles differ from resource-based policies").
    pub trust: bool,
}

/// How a resource policy's principal names the caller.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Named {
    /// By its account (the account then delegates through identity policies).
    Account,
    /// A session, by the ARN of the role it was made from: within the session's limits.
    Entity,
    /// By its own ARN, or as anyone.
    Directly,
}

fn named(principals: &Principals, who: Option<&RequestPrincipal>) -> Option<Named> {
    // An identity provider's user is named only by a `Federated` entry for its provider:
    // "anyone" (`*`, `{"AWS": "*"}`) means AWS principals and anonymous callers, so a role
    // trusting `{"AWS": "*"}` is not open to every token of every registered provider.
    if let Some(who) = who.filter(|who| who.federated) {
        return principals.federated.contains(&who.arn).then_some(Named::Directly);
    }
    if let Some(who) = who.filter(|who| who.service) {
        return (principals.anyone || principals.services.contains(&who.arn)).then_some(Named::Directly);
    }
    if principals.anyone {
        return Some(Named::Directly);
    }
    let who = who?;
    let account_root = format!("arn:aws:iam::{}:root", who.account_id);
    let mut best = None;
    for name in &principals.aws {
        if *name == who.arn {
            return Some(Named::Directly);
        }
        if who.entity_arn.as_ref() == Some(name) {
            best = best.max(Some(Named::Entity));
            continue;
        }
        if *name == account_root || (is_account_id(name) && *name == who.account_id) {
            // The root user named through its account is the account itself.
            best = best.max(Some(if who.is_root { Named::Directly } else { Named::Account }));
        }
    }
    best
}

fn any_matches(
    patterns: &[String],
    value: &str,
    ignore_case: bool,
    variables: Variables,
    ctx: &RequestContext,
) -> bool {
    patterns
        .iter()
        .any(|pattern| wildcard_match(pattern, value, ignore_case, variables, ctx))
}

/// Whether a statement applies to the request; for a resource policy, also how it names the
/// caller.
fn applies(statement: &Statement, variables: Variables, ctx: &RequestContext) -> Option<Named> {
    // Actions compare without case and take no variables; resources are case-sensitive.
    let compiled = &statement.compiled;
    let action_listed = compiled
        .actions
        .iter()
        .any(|pattern| pattern.matches(&ctx.action, true));
    let action = match &statement.actions {
        Match::Is(_) => action_listed,
        Match::Not(_) => !action_listed,
    };
    if !action {
        return None;
    }
    let resource_listed = |list: &[String]| {
        list.iter()
            .zip(&compiled.resources)
            .any(|(text, pattern)| match pattern {
                Some(pattern) => pattern.matches(&ctx.resource, false),
                None => any_matches(std::slice::from_ref(text), &ctx.resource, false, variables, ctx),
            })
    };
    let resource = match &statement.resources {
        Some(Match::Is(list)) => resource_listed(list),
        Some(Match::Not(list)) => !resource_listed(list),
        None => true,
    };
    if !resource || !all_hold(&statement.conditions, variables, ctx) {
        return None;
    }
    match &statement.principals {
        None => Some(Named::Directly),
        Some(Match::Is(principals)) => named(principals, ctx.principal.as_ref()),
        // NotPrincipal exempts only a caller it names itself (a user named only through its
        // account is not exempt, as in AWS).
        Some(Match::Not(principals)) => match named(principals, ctx.principal.as_ref()) {
            Some(Named::Directly) => None,
            Some(Named::Account | Named::Entity) | None => Some(Named::Directly),
        },
    }
}

/// What one policy says: whether a statement denies, and how strongly one allows (the
/// property tests judge single policies with it; `decide` stops as early as it can instead).
#[cfg(test)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Verdict {
    pub denies: bool,
    allows: Option<Named>,
}

#[cfg(test)]
impl Verdict {
    pub fn allows(&self) -> bool {
        self.allows.is_some()
    }
}

/// Evaluates one policy against the request.
#[cfg(test)]
pub fn verdict(policy: &Policy, ctx: &RequestContext) -> Verdict {
    Verdict {
        denies: denies(policy, ctx),
        allows: allows(policy, ctx),
    }
}

/// The statements of `policy` with `effect` that apply to the request (their indexes).
pub fn matching_statements(policy: &Policy, effect: Effect, ctx: &RequestContext) -> Vec<usize> {
    let variables = policy.version.variables();
    policy
        .statements
        .iter()
        .enumerate()
        .filter(|(_, statement)| statement.effect == effect && applies(statement, variables, ctx).is_some())
        .map(|(index, _)| index)
        .collect()
}

/// Whether a Deny statement of `policy` applies (Allow statements are not looked at).
fn denies(policy: &Policy, ctx: &RequestContext) -> bool {
    let variables = policy.version.variables();
    policy
        .statements
        .iter()
        .any(|s| s.effect == Effect::Deny && applies(s, variables, ctx).is_some())
}

/// How strongly an Allow statement of `policy` names the caller, stopping at the strongest.
fn allows(policy: &Policy, ctx: &RequestContext) -> Option<Named> {
    let variables = policy.version.variables();
    let mut best = None;
    for statement in policy.statements.iter().filter(|s| s.effect == Effect::Allow) {
        best = best.max(applies(statement, variables, ctx));
        if best == Some(Named::Directly) {
            break;
        }
    }
    best
}

/// The decision over every policy that applies (see the module documentation). Deny
/// statements are looked at first, everywhere; then Allow statements only until one settles
/// it, so a request allowed by a policy's first statement does not pay for the others.
pub fn decide(policies: &Policies<'_>, ctx: &RequestContext) -> Decision {
    let every = policies
        .identity
        .iter()
        .copied()
        .chain(policies.boundary)
        .chain(policies.session.iter().flatten().copied())
        .chain(policies.resource);
    if every.into_iter().any(|policy| denies(policy, ctx)) {
        return Decision::ExplicitDeny;
    }
    let resource_allows = || policies.resource.and_then(|policy| allows(policy, ctx));
    let Some(principal) = &ctx.principal else {
        return if resource_allows() == Some(Named::Directly) {
            Decision::Allow
        } else {
            Decision::ImplicitDeny
        };
    };
    if principal.service {
        return match resource_allows() {
            Some(Named::Directly) => Decision::Allow,
            _ => Decision::ImplicitDeny,
        };
    }
    let same_account = principal.account_id == policies.resource_account;
    if principal.is_root && same_account {
        return Decision::Allow;
    }
    let within_boundary = || policies.boundary.is_none_or(|policy| allows(policy, ctx).is_some());
    let within_session = || {
        policies
            .session
            .as_ref()
            .is_none_or(|list| list.iter().any(|policy| allows(policy, ctx).is_some()))
    };
    // A root user's identity permissions in its own account are implicit and unbounded.
    let identity_allows = || {
        (principal.is_root
            || (policies.identity.iter().any(|policy| allows(policy, ctx).is_some()) && within_boundary()))
            && within_session()
    };
    let allowed = if same_account && policies.trust {
        match resource_allows() {
            Some(Named::Directly) => true,
            Some(Named::Entity) => within_boundary() && within_session(),
            Some(Named::Account) => identity_allows(),
            None => false,
        }
    } else if same_account {
        match resource_allows() {
            Some(Named::Directly) => true,
            Some(Named::Entity) => (within_boundary() && within_session()) || identity_allows(),
            _ => identity_allows(),
        }
    } else {
        resource_allows().is_some() && identity_allows()
    };
    if allowed {
        Decision::Allow
    } else {
        Decision::ImplicitDeny
    }
}

#[cfg(test)]
mod tests;
