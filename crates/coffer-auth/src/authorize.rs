//! Authorization through the policy engine (`coffer-policy`): the caller's own policies (its
//! inline policies and its groups'), the resource's policy when it has one, and the request's
//! condition keys, decided as AWS's policy evaluation logic says. `sts:GetCallerIdentity` is
//! allowed to every authenticated caller, whatever its policies say, as in AWS.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use coffer_policy::simulate::Source;
use coffer_policy::{Decision, Policies, Policy, PolicyKind, RequestContext, RequestPrincipal, decide};
use coffer_store::{Boundary, Bucket, Store, StoreError, UserPolicies};
use time::OffsetDateTime;

use crate::decisions::{Decisions, ResourcePolicy, SetKey, cacheable_keys, next_id};
use crate::{Identity, Principal};

/// Actions AWS allows any authenticated principal, whatever its policies say.
const ALWAYS_ALLOWED: &[&str] = &["sts:GetCallerIdentity"];

/// A principal's own policies, parsed, with its share of the decision cache.
#[derive(Debug, Default)]
pub struct Grants {
    identity: Vec<Policy>,
    /// Where each identity policy comes from (for the simulator), in the same order.
    sources: Vec<Source>,
    /// Where the boundary comes from.
    boundary_source: Option<Source>,
    /// The permissions boundary, if the user has one.
    boundary: Option<Policy>,
    /// This set's number in decision-cache keys (a changed set is a new `Grants`).
    id: u64,
    /// The condition keys the set reads; `None` when it reads the clock.
    keys: Option<Vec<String>>,
    /// Where decisions are remembered; `None` decides every time.
    decisions: Option<Arc<Decisions>>,
    /// A stored policy of the set no longer parses: the set fails closed (it could have been
    /// a Deny), and every request but GetCallerIdentity is denied until it is fixed.
    unreadable: bool,
}

impl Grants {
    /// Grants holding these policies that decide every request afresh (for benches and tests).
    pub fn uncached(identity: Vec<Policy>, boundary: Option<Policy>) -> Grants {
        Grants {
            identity,
            boundary,
            ..Grants::default()
        }
    }

    fn new(identity: Vec<Policy>, boundary: Option<Policy>, decisions: &Arc<Decisions>) -> Grants {
        Grants {
            id: next_id(),
            keys: cacheable_keys(identity.iter().chain(&boundary)),
            identity,
            boundary,
            decisions: Some(decisions.clone()),
            unreadable: false,
            sources: Vec::new(),
            boundary_source: None,
        }
    }

    /// The identity policies with where each comes from (for the simulator).
    pub fn sourced(&self) -> impl Iterator<Item = (&Policy, Source)> {
        let unnamed = Source {
            id: String::new(),
            kind: "none".to_owned(),
        };
        self.identity
            .iter()
            .enumerate()
            .map(move |(i, policy)| (policy, self.sources.get(i).cloned().unwrap_or_else(|| unnamed.clone())))
    }

    /// The permissions boundary with where it comes from (for the simulator).
    pub fn sourced_boundary(&self) -> Option<(&Policy, Source)> {
        let source = self.boundary_source.clone().unwrap_or_else(|| Source {
            id: String::new(),
            kind: "none".to_owned(),
        });
        self.boundary.as_ref().map(|policy| (policy, source))
    }

    /// Whether a stored policy of the set no longer parses (every request is then denied).
    pub fn is_unreadable(&self) -> bool {
        self.unreadable
    }
}

/// A user's parsed policies, with the store's set they were parsed from.
type Parsed = HashMap<String, (Arc<UserPolicies>, Arc<Grants>)>;

/// Parsed bucket policies by bucket name, with the text each was parsed from.
type ParsedBucketPolicies = HashMap<String, (String, Arc<ResourcePolicy>)>;

/// What a bucket policy that no longer parses is taken as.
const DENY_EVERYTHING: &str =
    r#"{"Version":"2012-10-17","Statement":{"Effect":"Deny","Principal":"*","Action":"*","Resource":"*"}}"#;

/// Loads and parses principals' policies and buckets' policies, reusing a parse while its
/// source stands, and remembers decisions (see [`crate::decisions`]). Cheap to clone.
#[derive(Clone, Debug)]
pub struct Authorizer {
    parsed: Arc<Mutex<Parsed>>,
    bucket_policies: Arc<Mutex<ParsedBucketPolicies>>,
    decisions: Arc<Decisions>,
    /// Every root user's grants: none, but with the decision cache.
    root: Arc<Grants>,
}

impl Default for Authorizer {
    fn default() -> Self {
        let decisions = Arc::new(Decisions::default());
        Authorizer {
            parsed: Arc::default(),
            bucket_policies: Arc::default(),
            root: Arc::new(Grants::new(Vec::new(), None, &decisions)),
            decisions,
        }
    }
}

impl Authorizer {
    /// Grants holding these policies, deciding through this authorizer's cache (for benches
    /// and tests; requests get theirs from [`Authorizer::grants`]).
    pub fn grants_of(&self, identity: Vec<Policy>, boundary: Option<Policy>) -> Arc<Grants> {
        Arc::new(Grants::new(identity, boundary, &self.decisions))
    }

    /// The policies that speak for `principal`.
    pub async fn grants(&self, store: &Store, principal: &Principal) -> Result<Arc<Grants>, StoreError> {
        let Identity::User { user_id, .. } = &principal.identity else {
            return Ok(self.root.clone());
        };
        let documents = store.user_policies(user_id).await?;
        if let Ok(parsed) = self.parsed.lock()
            && let Some((source, grants)) = parsed.get(user_id)
            && Arc::ptr_eq(source, &documents)
        {
            return Ok(grants.clone());
        }
        // Documents were validated when they were put. One that no longer parses (a stricter
        // parser after an upgrade, a hand-edited database) might have been a Deny, so the whole
        // set fails closed rather than skipping it.
        let mut unreadable = false;
        let (mut identity, mut sources) = (Vec::new(), Vec::new());
        for document in &documents.documents {
            match Policy::parse(&document.text, PolicyKind::Identity) {
                Ok(policy) => {
                    identity.push(policy);
                    sources.push(Source {
                        id: document.name.clone(),
                        kind: document.kind.clone(),
                    });
                }
                Err(_) => unreadable = true,
            }
        }
        for arn in &documents.aws_managed {
            match coffer_policy::aws_managed::find(arn) {
                Some(managed) => {
                    identity.push(managed.policy.clone());
                    sources.push(Source {
                        id: managed.name.clone(),
                        kind: "aws-managed".to_owned(),
                    });
                }
                None => unreadable = true,
            }
        }
        let (boundary, boundary_source) = match &documents.boundary {
            None => (None, None),
            Some(Boundary::AwsManaged(arn)) => {
                let managed = coffer_policy::aws_managed::find(arn);
                let source = managed.map(|m| Source {
                    id: m.name.clone(),
                    kind: "aws-managed".to_owned(),
                });
                (managed.map(|m| m.policy.clone()), source)
            }
            Some(Boundary::Document { name, text }) => {
                let source = Source {
                    id: name.clone(),
                    kind: "user-managed".to_owned(),
                };
                (Policy::parse(text, PolicyKind::Identity).ok(), Some(source))
            }
        };
        unreadable |= documents.boundary.is_some() && boundary.is_none();
        if unreadable {
            tracing::error!(
                user_id = %user_id,
                "a stored policy of this user no longer parses: its requests are denied until the policy is replaced"
            );
        }
        let mut grants = Grants::new(identity, boundary, &self.decisions);
        grants.sources = sources;
        grants.boundary_source = boundary_source;
        grants.unreadable = unreadable;
        let grants = Arc::new(grants);
        if let Ok(mut parsed) = self.parsed.lock() {
            parsed.insert(user_id.clone(), (documents, grants.clone()));
        }
        Ok(grants)
    }

    /// A bucket's policy, parsed (once while its text stands). With RestrictPublicBuckets on,
    /// a public policy grants nothing to callers outside the owner's account (`outsider`).
    pub fn bucket_policy(&self, bucket: &Bucket, outsider: bool) -> Option<Arc<ResourcePolicy>> {
        let text = bucket.policy.as_ref()?;
        let cached = self.bucket_policies.lock().ok().and_then(|cache| {
            cache
                .get(&bucket.name)
                .filter(|(source, _)| source == text)
                .map(|(_, policy)| policy.clone())
        });
        let policy = match cached {
            Some(policy) => policy,
            None => {
                let parsed = Policy::parse(text, PolicyKind::Resource).unwrap_or_else(|_| {
                    // Validated when it was put; if it no longer parses it might have been a
                    // Deny, so it fails closed: it denies everyone everything, except what the
                    // owner's root user may always do to a bucket policy (replace it).
                    tracing::error!(bucket = %bucket.name, "the bucket policy no longer parses: every request is denied until it is replaced");
                    Policy::parse(DENY_EVERYTHING, PolicyKind::Resource).expect("a fixed policy parses")
                });
                let policy = Arc::new(ResourcePolicy::new(parsed));
                if let Ok(mut cache) = self.bucket_policies.lock() {
                    cache.insert(bucket.name.clone(), (text.clone(), policy.clone()));
                }
                policy
            }
        };
        let restricted = bucket.public_access_block.is_some_and(|b| b.restrict_public_buckets);
        if outsider && restricted && policy.policy().is_public() {
            return None;
        }
        Some(policy)
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

/// Proxies in front of Coffer whose `X-Forwarded-For` and `X-Forwarded-Proto` it believes:
/// where TLS ends, and who the client is, for `aws:SecureTransport` and `aws:SourceIp`.
/// Empty by default: then those headers are ignored, so no client can claim either.
#[derive(Clone, Debug, Default)]
pub struct TrustedProxies(Arc<[ipnet::IpNet]>);

impl TrustedProxies {
    pub fn new(networks: Vec<ipnet::IpNet>) -> TrustedProxies {
        TrustedProxies(networks.into())
    }

    fn trusts(&self, ip: IpAddr) -> bool {
        // An IPv4 client of a dual-stack listener arrives as `::ffff:a.b.c.d`.
        let ip = ip.to_canonical();
        self.0.iter().any(|network| network.contains(&ip))
    }

    /// The client's address (`None` when a trusted proxy's header names it unreadably) and
    /// whether it spoke TLS, for a request that came from `peer`.
    fn client(&self, peer: IpAddr, headers: &http::HeaderMap) -> (Option<IpAddr>, bool) {
        if !self.trusts(peer) {
            return (Some(peer.to_canonical()), false);
        }
        let list = |name: &str| -> Vec<String> {
            headers
                .get_all(name)
                .iter()
                .filter_map(|value| value.to_str().ok())
                .flat_map(|value| value.split(','))
                .map(|item| item.trim().to_owned())
                .collect()
        };
        let hops = list("x-forwarded-for");
        let protos = list("x-forwarded-proto");
        let https = |proto: &String| proto.eq_ignore_ascii_case("https");
        if hops.is_empty() {
            // The proxy names no client: it is the client, and its one protocol value says
            // what it was reached over.
            let secure = matches!(protos.as_slice(), [proto] if https(proto));
            return (Some(peer.to_canonical()), secure);
        }
        // Each proxy appends the address it heard from: the client is the last address that
        // is not itself a trusted proxy (anything left of it could be the client's invention).
        let mut client = None;
        for (index, hop) in hops.iter().enumerate().rev() {
            let Some(ip) = hop_address(hop) else {
                // Unreadable: no address rather than a proxy's, so address conditions fail.
                return (None, false);
            };
            client = Some((index, ip));
            if !self.trusts(ip) {
                break;
            }
        }
        let (index, ip) = client.expect("hops is not empty");
        // The protocol counts only when proxies appended one value per hop, so the value at the
        // client's hop was written by the proxy it reached; anything else could be the
        // client's own header passed along.
        let secure = protos.len() == hops.len() && https(&protos[index]);
        (Some(ip), secure)
    }
}

/// An address as proxies write it in `X-Forwarded-For`: bare, or with a port
/// (`192.0.2.1:4711`, `[2001:db8::1]:4711`).
fn hop_address(hop: &str) -> Option<IpAddr> {
    hop.parse::<IpAddr>()
        .or_else(|_| hop.parse::<std::net::SocketAddr>().map(|socket| socket.ip()))
        .ok()
        .map(|ip| ip.to_canonical())
}

/// The connection a request came over, and the proxies trusted to speak for its client (the
/// listener puts it into each request).
#[derive(Clone, Debug)]
pub struct PeerAddr {
    pub addr: std::net::SocketAddr,
    pub proxies: TrustedProxies,
}

/// Global condition keys that come from the HTTP request itself.
#[derive(Clone, Debug, Default)]
pub struct RequestFacts {
    pub source_ip: Option<IpAddr>,
    /// Whether the client spoke TLS (to a trusted proxy: Coffer itself speaks plain HTTP).
    pub secure_transport: bool,
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
        Self::new(headers, extensions.get::<PeerAddr>(), region)
    }

    /// The facts of a request with these headers, over this connection.
    pub fn new(headers: &http::HeaderMap, peer: Option<&PeerAddr>, region: Option<String>) -> RequestFacts {
        let header =
            |name: http::header::HeaderName| headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
        let client = peer.map(|peer| peer.proxies.client(peer.addr.ip(), headers));
        RequestFacts {
            source_ip: client.and_then(|(ip, _)| ip),
            secure_transport: client.is_some_and(|(_, secure)| secure),
            user_agent: header(http::header::USER_AGENT),
            referer: header(http::header::REFERER),
            region,
        }
    }

    /// The global condition keys these facts give.
    pub fn keys(&self) -> Vec<(&'static str, String)> {
        let secure = if self.secure_transport { "true" } else { "false" };
        let mut keys = vec![("aws:SecureTransport", secure.to_owned())];
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
    pub resource_policy: Option<&'a ResourcePolicy>,
    /// Service condition keys (`s3:prefix`…), besides the global ones filled in here.
    pub keys: Vec<(&'a str, String)>,
    /// Keys from the HTTP request (`aws:SourceIp`, `aws:UserAgent`…).
    pub facts: Option<&'a RequestFacts>,
    /// Keys whose names are built or that hold several values (`aws:RequestTag/<key>`,
    /// `aws:TagKeys`).
    pub values: Vec<(String, Vec<String>)>,
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
        // Coffer serves plain HTTP; a trusted proxy's word (in the facts) can say otherwise.
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
    for (key, values) in &request.values {
        ctx = ctx.with_values(key, values.clone());
    }
    ctx
}

/// May `principal`, holding `grants`, make `request`?
pub fn authorize(principal: &Principal, grants: &Grants, request: &Request<'_>) -> Result<(), Denied> {
    if ALWAYS_ALLOWED.contains(&request.action) {
        return Ok(());
    }
    if grants.unreadable {
        return Err(Denied {
            principal_arn: principal.arn(),
            action: request.action.to_owned(),
            resource: request.resource.to_owned(),
            explicit: true,
        });
    }
    let ctx = context(principal, request);
    let decide_now = || {
        let policies = Policies {
            identity: grants.identity.iter().collect(),
            boundary: grants.boundary.as_ref(),
            resource: request.resource_policy.map(ResourcePolicy::policy),
            resource_account: request.resource_account.to_owned(),
        };
        decide(&policies, &ctx)
    };
    let decision = match &grants.decisions {
        Some(decisions) => decisions.get_or_decide(
            SetKey {
                id: grants.id,
                keys: grants.keys.as_deref(),
            },
            request.resource_policy,
            request.resource_account,
            &ctx,
            decide_now,
        ),
        None => decide_now(),
    };
    match decision {
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
            ..Grants::default()
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

    /// A user's grants holding `text`, deciding through `decisions`.
    fn cached_grants(text: &str, decisions: &Arc<Decisions>) -> Grants {
        Grants::new(
            vec![Policy::parse(text, PolicyKind::Identity).unwrap()],
            None,
            decisions,
        )
    }

    fn from_ip<'a>(facts: &'a RequestFacts, resource: &'a str) -> Request<'a> {
        Request {
            facts: Some(facts),
            ..request("s3:GetObject", resource, "111111111111")
        }
    }

    fn facts(ip: &str) -> RequestFacts {
        RequestFacts {
            source_ip: Some(ip.parse().unwrap()),
            ..RequestFacts::default()
        }
    }

    #[test]
    fn a_cached_decision_is_keyed_on_the_values_its_conditions_read() {
        let decisions = Arc::new(Decisions::default());
        let office = cached_grants(
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"*",
                "Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}}}"#,
            &decisions,
        );
        let (inside, outside) = (facts("10.1.2.3"), facts("192.0.2.1"));
        for _ in 0..3 {
            assert!(authorize(&user(), &office, &from_ip(&inside, "arn:aws:s3:::b/k")).is_ok());
            assert!(authorize(&user(), &office, &from_ip(&outside, "arn:aws:s3:::b/k")).is_err());
        }
        assert_eq!(decisions.len(), 2, "one decision per source address");
    }

    fn forwarded(pairs: &[(&str, &str)]) -> http::HeaderMap {
        let mut headers = http::HeaderMap::new();
        for (name, value) in pairs {
            headers.append(
                http::header::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                value.parse().unwrap(),
            );
        }
        headers
    }

    #[test]
    fn only_trusted_proxies_speak_for_the_client() {
        let proxies = TrustedProxies::new(vec!["10.0.0.0/8".parse().unwrap()]);
        let ip = |text: &str| text.parse::<IpAddr>().unwrap();
        let claim = forwarded(&[("x-forwarded-for", "198.51.100.7"), ("x-forwarded-proto", "https")]);
        // From the proxy: believed.
        assert_eq!(proxies.client(ip("10.1.1.1"), &claim), (Some(ip("198.51.100.7")), true));
        // A dual-stack listener's view of the same proxy.
        assert_eq!(
            proxies.client(ip("::ffff:10.1.1.1"), &claim),
            (Some(ip("198.51.100.7")), true)
        );
        // Straight from a client: ignored, whatever it says.
        assert_eq!(
            proxies.client(ip("203.0.113.5"), &claim),
            (Some(ip("203.0.113.5")), false)
        );
        assert_eq!(
            TrustedProxies::default().client(ip("10.1.1.1"), &claim),
            (Some(ip("10.1.1.1")), false)
        );
        // A chain of proxies: the last hop that is not a proxy is the client; what it put to
        // the left of itself is its own invention.
        let chain = forwarded(&[
            ("x-forwarded-for", "192.0.2.66, 198.51.100.7, 10.2.2.2"),
            ("x-forwarded-proto", "http, https, https"),
        ]);
        assert_eq!(proxies.client(ip("10.1.1.1"), &chain), (Some(ip("198.51.100.7")), true));
        let split = forwarded(&[("x-forwarded-for", "198.51.100.7"), ("x-forwarded-for", "10.2.2.2:443")]);
        assert_eq!(proxies.client(ip("10.1.1.1"), &split).0, Some(ip("198.51.100.7")));
        let port = forwarded(&[("x-forwarded-for", "[2001:db8::7]:4711")]);
        assert_eq!(proxies.client(ip("10.1.1.1"), &port).0, Some(ip("2001:db8::7")));
        // A client's own X-Forwarded-Proto passed along by a proxy that only appends to
        // X-Forwarded-For: the values do not line up with the hops, so no TLS.
        let passed_along = forwarded(&[
            ("x-forwarded-for", "203.0.113.9, 198.51.100.7"),
            ("x-forwarded-proto", "https"),
        ]);
        assert_eq!(
            proxies.client(ip("10.1.1.1"), &passed_along),
            (Some(ip("198.51.100.7")), false)
        );
        // Unreadable: no address at all (an address condition then fails), never the proxy's.
        let junk = forwarded(&[("x-forwarded-for", "unknown"), ("x-forwarded-proto", "https")]);
        assert_eq!(proxies.client(ip("10.1.1.1"), &junk), (None, false));
        // No X-Forwarded-For: the proxy is the client, and says what it was reached over.
        let proto_only = forwarded(&[("x-forwarded-proto", "https")]);
        assert_eq!(
            proxies.client(ip("10.1.1.1"), &proto_only),
            (Some(ip("10.1.1.1")), true)
        );
    }

    #[test]
    fn a_set_with_an_unreadable_policy_fails_closed() {
        let mut broken =
            grants(r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}"#);
        broken.unreadable = true;
        let get = request("s3:GetObject", "arn:aws:s3:::b/k", "111111111111");
        assert!(authorize(&user(), &broken, &get).unwrap_err().explicit);
        assert!(authorize(&user(), &broken, &request("sts:GetCallerIdentity", "*", "111111111111")).is_ok());
    }

    #[test]
    fn long_header_values_cannot_make_the_cache_hold_more_than_its_bytes() {
        let decisions = Arc::new(Decisions::default());
        let agents = cached_grants(
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"*",
                "Condition":{"StringLike":{"aws:UserAgent":"*"}}}}"#,
            &decisions,
        );
        for i in 0..400 {
            let facts = RequestFacts {
                user_agent: Some(format!("{i}-{}", "x".repeat(60 * 1024))),
                ..RequestFacts::default()
            };
            let get = Request {
                facts: Some(&facts),
                ..request("s3:GetObject", "arn:aws:s3:::b/k", "111111111111")
            };
            assert!(authorize(&user(), &agents, &get).is_ok());
        }
        assert!(decisions.bytes() <= 8 * 1024 * 1024, "{} bytes", decisions.bytes());
        assert!(decisions.len() < 400);
    }

    #[test]
    fn a_bucket_policy_that_no_longer_parses_denies_everything() {
        let authorizer = Authorizer::default();
        let bucket = Bucket {
            name: "b".into(),
            account_id: "111111111111".into(),
            region: "us-east-1".into(),
            created_at: OffsetDateTime::UNIX_EPOCH,
            policy: Some(r#"{"Version":"2012-10-17","Statement":{"Effect":"Deny""#.into()),
            public_access_block: None,
        };
        let policy = authorizer.bucket_policy(&bucket, false).expect("taken as a policy");
        let admin = grants(r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}"#);
        let get = Request {
            resource_policy: Some(&policy),
            ..request("s3:GetObject", "arn:aws:s3:::b/k", "111111111111")
        };
        assert!(authorize(&user(), &admin, &get).unwrap_err().explicit);
        assert!(authorize(&root("111111111111"), &Grants::default(), &get).is_err());
    }

    #[test]
    fn a_renamed_user_is_decided_under_its_new_name() {
        let decisions = Arc::new(Decisions::default());
        let home = cached_grants(
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/${aws:username}/*"}}"#,
            &decisions,
        );
        let alice_file = request("s3:GetObject", "arn:aws:s3:::b/alice/x", "111111111111");
        assert!(authorize(&user(), &home, &alice_file).is_ok());
        let mut renamed = user();
        renamed.identity = Identity::User {
            user_id: "AIDAX".into(),
            name: "alicia".into(),
            path: "/".into(),
        };
        assert!(authorize(&renamed, &home, &alice_file).is_err());
    }

    #[test]
    fn policies_that_read_the_clock_are_decided_every_time() {
        let decisions = Arc::new(Decisions::default());
        let until = cached_grants(
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"*",
                "Condition":{"DateLessThan":{"aws:CurrentTime":"2999-01-01T00:00:00Z"}}}}"#,
            &decisions,
        );
        let get = request("s3:GetObject", "arn:aws:s3:::b/k", "111111111111");
        assert!(authorize(&user(), &until, &get).is_ok());
        assert!(authorize(&user(), &until, &get).is_ok());
        assert_eq!(decisions.len(), 0);
    }

    #[test]
    fn a_changed_policy_set_or_bucket_policy_is_decided_afresh() {
        let decisions = Arc::new(Decisions::default());
        let allow = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*"}}"#;
        let get = request("s3:GetObject", "arn:aws:s3:::b/k", "111111111111");
        assert!(authorize(&user(), &cached_grants(allow, &decisions), &get).is_ok());
        // The same user after its policy is revoked: a new set, so the cached Allow is not used.
        let revoked = cached_grants(
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"iam:*","Resource":"*"}}"#,
            &decisions,
        );
        assert!(authorize(&user(), &revoked, &get).is_err());
        // A bucket policy that denies, then one that does not: each is its own parse.
        let grants = cached_grants(allow, &decisions);
        let bucket = |effect: &str| {
            ResourcePolicy::new(
                Policy::parse(
                    &format!(r#"{{"Version":"2012-10-17","Statement":{{"Effect":"{effect}","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}}}}"#),
                    PolicyKind::Resource,
                )
                .unwrap(),
            )
        };
        let (deny, allow_too) = (bucket("Deny"), bucket("Allow"));
        let with = |policy| Request {
            resource_policy: Some(policy),
            ..request("s3:GetObject", "arn:aws:s3:::b/k", "111111111111")
        };
        assert!(authorize(&user(), &grants, &with(&deny)).unwrap_err().explicit);
        assert!(authorize(&user(), &grants, &with(&allow_too)).is_ok());
        assert!(authorize(&user(), &grants, &with(&deny)).is_err());
    }

    mod cache_property {
        use super::*;
        use proptest::prelude::*;

        const POLICIES: [&str; 4] = [
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:Get*","Resource":"arn:aws:s3:::b/${aws:username}/*"},
               {"Effect":"Deny","Action":"*","Resource":"*","Condition":{"NotIpAddress":{"aws:SourceIp":"10.0.0.0/8"}}}]}"#,
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::b",
               "Condition":{"StringLike":{"s3:prefix":["","home/${aws:username}/*"]}}}}"#,
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","NotAction":"s3:Delete*","NotResource":"arn:aws:s3:::b/secret/*",
               "Condition":{"StringEqualsIfExists":{"aws:UserAgent":"aws-cli"}}}}"#,
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}"#,
        ];

        fn principal(name: &str) -> Principal {
            Principal {
                account_id: "111111111111".into(),
                identity: Identity::User {
                    user_id: "AIDAX".into(),
                    name: name.into(),
                    path: "/".into(),
                },
                access_key_id: "AKIAUSER".into(),
            }
        }

        proptest! {
            /// Whatever the order of requests, a cached decision is the decision.
            #[test]
            fn a_cached_decision_always_equals_a_fresh_one(
                policy in 0..POLICIES.len(),
                requests in prop::collection::vec(
                    (0..2usize, 0..4usize, 0..4usize, 0..2usize, 0..3usize, 0..3usize), 1..40),
            ) {
                let decisions = Arc::new(Decisions::default());
                let document = Policy::parse(POLICIES[policy], PolicyKind::Identity).unwrap();
                let cached = Grants::new(vec![document.clone()], None, &decisions);
                let fresh = Grants { identity: vec![document], ..Grants::default() };
                for (name, action, resource, ip, agent, prefix) in requests {
                    let who = principal(["alice", "bob"][name]);
                    let action = ["s3:GetObject", "s3:ListBucket", "s3:DeleteObject", "iam:ListUsers"][action];
                    let resource = ["arn:aws:s3:::b", "arn:aws:s3:::b/alice/x", "arn:aws:s3:::b/bob/x", "arn:aws:s3:::b/secret/k"][resource];
                    let facts = RequestFacts {
                        source_ip: Some(["10.0.0.1", "192.0.2.1"][ip].parse().unwrap()),
                        user_agent: [None, Some("aws-cli"), Some("curl")][agent].map(str::to_owned),
                        ..RequestFacts::default()
                    };
                    let keys = match ["", "home/alice/", "home/bob/"][prefix] {
                        "" => Vec::new(),
                        prefix => vec![("s3:prefix", prefix.to_owned())],
                    };
                    let request = Request { keys, facts: Some(&facts), ..request(action, resource, "111111111111") };
                    prop_assert_eq!(
                        authorize(&who, &cached, &request),
                        authorize(&who, &fresh, &request)
                    );
                }
            }
        }
    }
}
