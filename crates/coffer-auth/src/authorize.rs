//! Authorization through the policy engine (`coffer-policy`): the caller's own policies (its
//! inline policies and its groups'), the resource's policy when it has one, and the request's
//! condition keys, decided as AWS's policy evaluation logic says. `sts:GetCallerIdentity` is
//! allowed to every authenticated caller, whatever its policies say, as in AWS.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use coffer_policy::{Decision, Policies, Policy, PolicyKind, RequestContext, RequestPrincipal, decide};
use coffer_store::{Boundary, Store, StoreError, UserPolicies};
use time::OffsetDateTime;

use crate::{Identity, Principal};

/// Actions AWS allows any authenticated principal, whatever its policies say.
const ALWAYS_ALLOWED: &[&str] = &["sts:GetCallerIdentity"];

/// A principal's own policies, parsed.
#[derive(Debug, Default)]
pub struct Grants {
    identity: Vec<Policy>,
    /// The permissions boundary, if the user has one.
    boundary: Option<Policy>,
}

impl Grants {
    /// No policies: the root user's case (it needs none) and a user without any.
    pub fn none() -> Arc<Grants> {
        Arc::new(Grants::default())
    }

    /// The identity policies, parsed.
    pub fn policies(&self) -> &[Policy] {
        &self.identity
    }

    /// The permissions boundary, parsed.
    pub fn boundary(&self) -> Option<&Policy> {
        self.boundary.as_ref()
    }
}

/// A user's parsed policies, with the store's set they were parsed from.
type Parsed = HashMap<String, (Arc<UserPolicies>, Arc<Grants>)>;

/// Loads and parses principals' policies, reusing the parse while the store's set stands.
#[derive(Clone, Debug, Default)]
pub struct Authorizer {
    parsed: Arc<Mutex<Parsed>>,
}

impl Authorizer {
    /// The policies that speak for `principal`.
    pub async fn grants(&self, store: &Store, principal: &Principal) -> Result<Arc<Grants>, StoreError> {
        let Identity::User { user_id, .. } = &principal.identity else {
            return Ok(Grants::none());
        };
        let documents = store.user_policies(user_id).await?;
        if let Ok(parsed) = self.parsed.lock()
            && let Some((source, grants)) = parsed.get(user_id)
            && Arc::ptr_eq(source, &documents)
        {
            return Ok(grants.clone());
        }
        // Documents were validated when they were put; one that no longer parses is skipped
        // (it grants nothing), never fatal.
        let mut identity: Vec<Policy> = documents
            .documents
            .iter()
            .filter_map(|text| Policy::parse(text, PolicyKind::Identity).ok())
            .collect();
        identity.extend(
            documents
                .aws_managed
                .iter()
                .filter_map(|arn| coffer_policy::aws_managed::find(arn))
                .map(|managed| managed.policy.clone()),
        );
        let boundary = match &documents.boundary {
            None => None,
            Some(Boundary::AwsManaged(arn)) => coffer_policy::aws_managed::find(arn).map(|m| m.policy.clone()),
            Some(Boundary::Document(text)) => Policy::parse(text, PolicyKind::Identity).ok(),
        };
        let grants = Arc::new(Grants { identity, boundary });
        if let Ok(mut parsed) = self.parsed.lock() {
            parsed.insert(user_id.clone(), (documents, grants.clone()));
        }
        Ok(grants)
    }
}

/// Why a request was refused, with what AWS's `AccessDenied` message names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Denied {
    pub principal_arn: String,
    pub action: String,
    pub resource: String,
    pub explicit: bool,
}

impl std::fmt::Display for Denied {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (principal, action, resource) = (&self.principal_arn, &self.action, &self.resource);
        if self.explicit {
            write!(
                f,
                "User: {principal} is not authorized to perform: {action} on resource: {resource} with an explicit deny in a policy"
            )
        } else {
            write!(
                f,
                "User: {principal} is not authorized to perform: {action} on resource: {resource} because no identity-based policy allows the {action} action"
            )
        }
    }
}

/// The connection a request came over (the listener puts it into each request).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PeerAddr(pub std::net::SocketAddr);

/// Global condition keys that come from the HTTP request itself.
#[derive(Clone, Debug, Default)]
pub struct RequestFacts {
    pub source_ip: Option<std::net::IpAddr>,
    pub user_agent: Option<String>,
    pub referer: Option<String>,
    /// The region the request was signed for.
    pub region: Option<String>,
}

impl RequestFacts {
    /// Reads the facts from a request's headers and extensions.
    pub fn from_request(
        headers: &http::HeaderMap,
        extensions: &http::Extensions,
        region: Option<String>,
    ) -> RequestFacts {
        Self::new(headers, extensions.get::<PeerAddr>().copied(), region)
    }

    /// The facts of a request with these headers, over this connection.
    pub fn new(headers: &http::HeaderMap, peer: Option<PeerAddr>, region: Option<String>) -> RequestFacts {
        let header =
            |name: http::header::HeaderName| headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
        RequestFacts {
            source_ip: peer.map(|peer| peer.0.ip()),
            user_agent: header(http::header::USER_AGENT),
            referer: header(http::header::REFERER),
            region,
        }
    }

    /// The global condition keys these facts give.
    pub fn keys(&self) -> Vec<(&'static str, String)> {
        let mut keys = Vec::new();
        if let Some(ip) = self.source_ip {
            keys.push(("aws:SourceIp", ip.to_string()));
        }
        if let Some(agent) = &self.user_agent {
            keys.push(("aws:UserAgent", agent.clone()));
        }
        if let Some(referer) = &self.referer {
            keys.push(("aws:Referer", referer.clone()));
        }
        if let Some(region) = &self.region {
            keys.push(("aws:RequestedRegion", region.clone()));
        }
        keys
    }
}

/// What a request asks, beyond who asks.
#[derive(Clone, Debug, Default)]
pub struct Request<'a> {
    /// `service:Operation`.
    pub action: &'a str,
    /// The resource's ARN (`*` for actions on no resource).
    pub resource: &'a str,
    /// The account that owns the resource.
    pub resource_account: &'a str,
    /// The resource's own policy (a bucket policy), if any.
    pub resource_policy: Option<&'a Policy>,
    /// Service condition keys (`s3:prefix`…), besides the global ones filled in here.
    pub keys: Vec<(&'a str, String)>,
    /// Keys from the HTTP request (`aws:SourceIp`, `aws:UserAgent`…).
    pub facts: Option<&'a RequestFacts>,
}

/// The global condition keys of a request by `principal` now.
fn context(principal: &Principal, request: &Request<'_>) -> RequestContext {
    let now = OffsetDateTime::now_utc();
    let who = RequestPrincipal {
        arn: principal.arn(),
        account_id: principal.account_id.clone(),
        is_root: principal.is_root(),
    };
    let mut ctx = RequestContext::new(request.action, request.resource, Some(who))
        .with("aws:PrincipalArn", principal.arn())
        .with("aws:PrincipalAccount", principal.account_id.clone())
        .with(
            "aws:CurrentTime",
            now.format(&time::format_description::well_known::Rfc3339)
                .unwrap_or_default(),
        )
        .with("aws:EpochTime", now.unix_timestamp().to_string())
        // Coffer serves plain HTTP; TLS ends in front of it, if anywhere.
        .with("aws:SecureTransport", "false");
    ctx = match &principal.identity {
        Identity::Root => ctx
            .with("aws:PrincipalType", "Account")
            .with("aws:userid", principal.account_id.clone()),
        Identity::User { user_id, name, .. } => ctx
            .with("aws:PrincipalType", "User")
            .with("aws:username", name.clone())
            .with("aws:userid", user_id.clone()),
    };
    for (key, value) in request.facts.map(RequestFacts::keys).unwrap_or_default() {
        ctx = ctx.with(key, value);
    }
    for (key, value) in &request.keys {
        ctx = ctx.with(key, value.clone());
    }
    ctx
}

/// May `principal`, holding `grants`, make `request`?
pub fn authorize(principal: &Principal, grants: &Grants, request: &Request<'_>) -> Result<(), Denied> {
    if ALWAYS_ALLOWED.contains(&request.action) {
        return Ok(());
    }
    let policies = Policies {
        identity: grants.identity.iter().collect(),
        boundary: grants.boundary.as_ref(),
        resource: request.resource_policy,
        resource_account: request.resource_account.to_owned(),
    };
    match decide(&policies, &context(principal, request)) {
        Decision::Allow => Ok(()),
        decision => Err(Denied {
            principal_arn: principal.arn(),
            action: request.action.to_owned(),
            resource: request.resource.to_owned(),
            explicit: decision == Decision::ExplicitDeny,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn root(account: &str) -> Principal {
        Principal {
            account_id: account.into(),
            identity: Identity::Root,
            access_key_id: "AKIAROOT".into(),
        }
    }

    fn user() -> Principal {
        Principal {
            account_id: "111111111111".into(),
            identity: Identity::User {
                user_id: "AIDAX".into(),
                name: "alice".into(),
                path: "/".into(),
            },
            access_key_id: "AKIAUSER".into(),
        }
    }

    fn request<'a>(action: &'a str, resource: &'a str, account: &'a str) -> Request<'a> {
        Request {
            action,
            resource,
            resource_account: account,
            ..Request::default()
        }
    }

    fn grants(text: &str) -> Grants {
        Grants {
            identity: vec![Policy::parse(text, PolicyKind::Identity).unwrap()],
            boundary: None,
        }
    }

    #[test]
    fn root_may_do_everything_in_its_own_account_only() {
        let own = request("iam:CreateUser", "arn:aws:iam::111111111111:user/x", "111111111111");
        assert!(authorize(&root("111111111111"), &Grants::default(), &own).is_ok());
        assert!(authorize(&root("222222222222"), &Grants::default(), &own).is_err());
    }

    #[test]
    fn a_user_without_policies_may_only_ask_who_it_is() {
        let none = Grants::default();
        assert!(authorize(&user(), &none, &request("sts:GetCallerIdentity", "*", "111111111111")).is_ok());
        let denied = authorize(
            &user(),
            &none,
            &request("iam:ListUsers", "arn:aws:iam::111111111111:user/", "111111111111"),
        )
        .unwrap_err();
        assert_eq!(
            denied.to_string(),
            "User: arn:aws:iam::111111111111:user/alice is not authorized to perform: iam:ListUsers on resource: \
             arn:aws:iam::111111111111:user/ because no identity-based policy allows the iam:ListUsers action"
        );
    }

    #[test]
    fn a_users_policies_decide_with_its_name_in_variables() {
        let home = grants(
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/${aws:username}/*"}}"#,
        );
        assert!(
            authorize(
                &user(),
                &home,
                &request("s3:GetObject", "arn:aws:s3:::b/alice/x", "111111111111")
            )
            .is_ok()
        );
        assert!(
            authorize(
                &user(),
                &home,
                &request("s3:GetObject", "arn:aws:s3:::b/bob/x", "111111111111")
            )
            .is_err()
        );
        let deny = grants(r#"{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":"*","Resource":"*"}}"#);
        let denied = authorize(
            &user(),
            &deny,
            &request("s3:GetObject", "arn:aws:s3:::b/k", "111111111111"),
        )
        .unwrap_err();
        assert!(denied.explicit);
        assert!(denied.to_string().contains("explicit deny"));
    }
}
