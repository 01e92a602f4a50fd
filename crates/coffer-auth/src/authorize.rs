//! The decision: the caller's own policies (its inline policies and its groups', as
//! [`crate::grants`] loads them), the resource's policy when it has one, and the request's
//! condition keys (global ones, [`crate::facts`], the service's), decided by the policy engine
//! (`coffer-policy`) as AWS's policy evaluation logic says, through the decision cache. `sts:GetCallerIdentity` is
//! allowed to every authenticated caller, whatever its policies say, as in AWS.

use coffer_policy::{Decision, Policies, RequestContext, RequestPrincipal, decide};
use time::OffsetDateTime;

use std::sync::Arc;

use coffer_store::Bucket;

use crate::decisions::{ResourcePolicy, SetKey};
use crate::{Authorizer, Grants, Identity, Principal, RequestFacts};

/// The bucket-policy operations, which the owner's root user may always do.
const BUCKET_POLICY_ACTIONS: [&str; 3] = ["s3:GetBucketPolicy", "s3:PutBucketPolicy", "s3:DeleteBucketPolicy"];

/// Actions AWS allows any authenticated principal, whatever its policies say.
const ALWAYS_ALLOWED: &[&str] = &["sts:GetCallerIdentity"];

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
    /// The resource policy is a role's trust policy, which must allow whoever asks (see
    /// [`coffer_policy::Policies::trust`]). Such decisions are not cached: each trust policy is
    /// parsed afresh when a role is assumed.
    pub trust: bool,
}

/// The global condition keys of a request by `principal`, holding `grants`, now.
fn context(principal: &Principal, grants: &Grants, request: &Request<'_>) -> RequestContext {
    let now = OffsetDateTime::now_utc();
    let who = RequestPrincipal {
        arn: principal.arn(),
        account_id: principal.account_id.clone(),
        is_root: principal.is_root(),
        entity_arn: principal.source_arn(),
        federated: false,
        service: false,
    };
    let mut ctx = RequestContext::new(request.action, request.resource, Some(who))
        .with("aws:PrincipalArn", principal.entity_arn())
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
        Identity::FederatedUser { .. } => ctx
            .with("aws:PrincipalType", "FederatedUser")
            .with("aws:userid", principal.user_id()),
        Identity::AssumedRole { .. } => ctx
            .with("aws:PrincipalType", "AssumedRole")
            .with("aws:userid", principal.user_id()),
    };
    // The user's or role's own tags; a federated user has only its session's.
    if !matches!(principal.identity, Identity::FederatedUser { .. }) {
        for (key, value) in &grants.principal_tags {
            ctx = ctx.with(&format!("aws:PrincipalTag/{key}"), value.clone());
        }
    }
    if let Some(session) = &principal.session {
        let issued = OffsetDateTime::from_unix_timestamp(session.issued_at).unwrap_or(OffsetDateTime::UNIX_EPOCH);
        ctx = ctx
            .with(
                "aws:TokenIssueTime",
                issued
                    .format(&time::format_description::well_known::Rfc3339)
                    .unwrap_or_default(),
            )
            .with("aws:MultiFactorAuthPresent", "false");
        if let Some(source_identity) = &session.source_identity {
            ctx = ctx.with("aws:SourceIdentity", source_identity.clone());
        }
        // Session tags win over the role's tags of the same key.
        for (key, value) in &session.tags {
            ctx = ctx.with(&format!("aws:PrincipalTag/{key}"), value.clone());
        }
    }
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
    let ctx = context(principal, grants, request);
    let decide_now = || {
        let policies = Policies {
            identity: grants.identity.iter().collect(),
            trust: request.trust,
            boundary: grants.boundary.as_ref(),
            session: grants.session.as_ref().map(|list| list.iter().collect()),
            resource: request.resource_policy.map(ResourcePolicy::policy),
            resource_account: request.resource_account.to_owned(),
        };
        decide(&policies, &ctx)
    };
    let decision = match &grants.decisions {
        Some(_) if request.trust => decide_now(),
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

/// May an anonymous caller make `request`? Only the resource's own policy can allow it (a
/// bucket policy granting `"Principal": "*"`), judged on the same request keys as a signed
/// request.
pub fn authorize_anonymous(request: &Request<'_>) -> Result<(), Denied> {
    authorize_by_resource_policy(None, request)
}

/// May a user of the identity provider `provider_arn` (of `account`) make `request`
/// (AssumeRoleWithWebIdentity)? Only the resource's policy, a role's trust policy, can allow
/// it, by naming the provider as a `Federated` principal.
pub fn authorize_federated(provider_arn: &str, account: &str, request: &Request<'_>) -> Result<(), Denied> {
    let who = RequestPrincipal {
        arn: provider_arn.to_owned(),
        account_id: account.to_owned(),
        federated: true,
        ..RequestPrincipal::default()
    };
    authorize_by_resource_policy(Some(who), request)
}

fn authorize_by_resource_policy(who: Option<RequestPrincipal>, request: &Request<'_>) -> Result<(), Denied> {
    let denied = || Denied {
        principal_arn: who.as_ref().map_or_else(|| "anonymous".to_owned(), |p| p.arn.clone()),
        action: request.action.to_owned(),
        resource: request.resource.to_owned(),
        explicit: false,
    };
    let Some(resource_policy) = request.resource_policy else {
        return Err(denied());
    };
    let mut ctx = RequestContext::new(request.action, request.resource, who.clone());
    for (key, value) in request.facts.map(RequestFacts::keys).unwrap_or_default() {
        ctx = ctx.with(key, value);
    }
    for (key, value) in &request.keys {
        ctx = ctx.with(key, value.clone());
    }
    for (key, values) in &request.values {
        ctx = ctx.with_values(key, values.clone());
    }
    let policies = Policies {
        identity: Vec::new(),
        trust: false,
        boundary: None,
        session: None,
        resource: Some(resource_policy.policy()),
        resource_account: request.resource_account.to_owned(),
    };
    match decide(&policies, &ctx) {
        Decision::Allow => Ok(()),
        _ => Err(denied()),
    }
}

/// An authenticated caller as an operation sees it: who asks, with which policies, over
/// which request. Handlers ask it "may I do this action on that resource" and nothing else;
/// the front end that authenticated the request builds it once.
#[derive(Clone, Debug)]
pub struct Caller {
    principal: Principal,
    grants: Arc<Grants>,
    facts: Arc<RequestFacts>,
    /// For the policies of the buckets a request names besides its own (a copy source's).
    authorizer: Authorizer,
}

impl Caller {
    pub fn new(principal: Principal, grants: Arc<Grants>, facts: RequestFacts, authorizer: Authorizer) -> Caller {
        Caller {
            principal,
            grants,
            facts: Arc::new(facts),
            authorizer,
        }
    }

    pub fn principal(&self) -> &Principal {
        &self.principal
    }

    /// Whether the caller's policies read a condition key starting with `prefix` (lower
    /// case), so a handler fetches such a key's values only when they can matter. Policies
    /// that read the clock are not cached and answer yes.
    pub fn reads_key_prefix(&self, prefix: &str) -> bool {
        match &self.grants.keys {
            None => true,
            Some(keys) => keys.iter().any(|key| key.starts_with(prefix)),
        }
    }

    /// What the request itself says (source address, region…).
    pub fn facts(&self) -> &RequestFacts {
        &self.facts
    }

    /// May the caller make `request`? Its own policies, the request's facts, and the
    /// resource policy the request names decide.
    pub fn may(&self, request: &Request<'_>) -> Result<(), Denied> {
        let request = Request {
            facts: request.facts.or(Some(&self.facts)),
            ..request.clone()
        };
        authorize(&self.principal, &self.grants, &request)
    }

    /// Whether the caller is of the account that owns a resource of `owner_account`: only
    /// the owner's account manages a bucket's policy and Block Public Access, whatever a
    /// bucket policy grants others (as S3).
    pub fn owns(&self, owner_account: &str) -> bool {
        self.principal.account_id == owner_account
    }

    /// As [`Caller::may`] for a request on a bucket: the bucket owner's root user may always
    /// read, replace or delete the bucket's policy, whatever the policy denies, so it can never
    /// lock itself out (as S3).
    pub fn may_on_bucket(&self, request: &Request<'_>) -> Result<(), Denied> {
        if self.principal.is_root()
            && self.owns(request.resource_account)
            && BUCKET_POLICY_ACTIONS.contains(&request.action)
        {
            return Ok(());
        }
        self.may(request)
    }

    /// May the caller do `action` on `bucket` (`key`: `None`) or on its object `key`? The
    /// bucket's own policy counts, and RestrictPublicBuckets keeps a public one from granting
    /// callers outside the owner's account.
    pub fn may_in_bucket(&self, action: &str, bucket: &Bucket, key: Option<&str>) -> Result<(), Denied> {
        self.may_in_bucket_with(action, bucket, key, Vec::new())
    }

    /// May the caller do `action` on version `access` describes of object `key` in `bucket`
    /// (a copy's source)? As [`Caller::may_in_bucket_with`], judged as the object's owner's
    /// resource with its ACL while the bucket's ACLs are enabled.
    pub fn may_on_object(
        &self,
        action: &str,
        bucket: &Bucket,
        key: &str,
        access: &coffer_store::ObjectAccess,
        keys: Vec<(&str, String)>,
    ) -> Result<(), Denied> {
        let outsider = self.principal.account_id != bucket.account_id;
        let policy = self.authorizer.object_policy(bucket, outsider, access);
        let owner = if bucket.acls_enabled() {
            &access.owner
        } else {
            &bucket.account_id
        };
        let resource = format!("arn:aws:s3:::{}/{key}", bucket.name);
        self.may(&Request {
            action,
            resource: &resource,
            resource_account: owner,
            resource_policy: policy.as_deref(),
            keys,
            ..Request::default()
        })
    }

    /// As [`Caller::may_in_bucket`], with the request's condition keys (`s3:VersionId` of a
    /// version named inside a request: a copy source, a DeleteObjects entry).
    pub fn may_in_bucket_with(
        &self,
        action: &str,
        bucket: &Bucket,
        key: Option<&str>,
        keys: Vec<(&str, String)>,
    ) -> Result<(), Denied> {
        let outsider = self.principal.account_id != bucket.account_id;
        let bucket_policy = self.authorizer.bucket_policy(bucket, outsider);
        let resource = match key {
            Some(key) => format!("arn:aws:s3:::{}/{key}", bucket.name),
            None => format!("arn:aws:s3:::{}", bucket.name),
        };
        self.may(&Request {
            action,
            resource: &resource,
            resource_account: &bucket.account_id,
            resource_policy: bucket_policy.as_deref(),
            keys,
            ..Request::default()
        })
    }
}

#[cfg(test)]
mod tests {
    use coffer_policy::{Policy, PolicyKind};

    use super::*;
    use crate::decisions::Decisions;

    fn root(account: &str) -> Principal {
        Principal {
            account_id: account.into(),
            identity: Identity::Root,
            access_key_id: "AKIAROOT".into(),
            session: None,
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
            session: None,
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
            versioning: Default::default(),
            object_lock: None,
            lifecycle: None,
            tags: Vec::new(),
            object_ownership: None,
            acl: None,
            cors: None,
            logging: None,
            encryption: None,
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

    fn bucket_with_policy(policy: &str) -> Bucket {
        Bucket {
            name: "b".into(),
            account_id: "111111111111".into(),
            region: "us-east-1".into(),
            created_at: OffsetDateTime::UNIX_EPOCH,
            policy: Some(policy.into()),
            public_access_block: None,
            versioning: Default::default(),
            object_lock: None,
            lifecycle: None,
            tags: Vec::new(),
            object_ownership: None,
            acl: None,
            cors: None,
            logging: None,
            encryption: None,
        }
    }

    #[test]
    fn anyone_may_do_only_what_the_resource_policy_grants_everyone() {
        let authorizer = Authorizer::default();
        let bucket = bucket_with_policy(
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}}"#,
        );
        let policy = authorizer.bucket_policy(&bucket, true).unwrap();
        let asking = |action| Request {
            resource_policy: Some(&policy),
            ..request(action, "arn:aws:s3:::b/k", "111111111111")
        };
        assert_eq!(authorize_anonymous(&asking("s3:GetObject")), Ok(()));
        let denied = authorize_anonymous(&asking("s3:PutObject")).unwrap_err();
        assert_eq!(denied.principal_arn, "anonymous");
        assert!(authorize_anonymous(&request("s3:GetObject", "arn:aws:s3:::b/k", "111111111111")).is_err());
    }

    #[test]
    fn a_caller_asks_about_a_buckets_objects_with_the_buckets_policy() {
        let bucket = bucket_with_policy(
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:user/alice"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}}"#,
        );
        let authorizer = Authorizer::default();
        let caller = Caller::new(
            user(),
            authorizer.grants_of(Vec::new(), None),
            RequestFacts::default(),
            authorizer,
        );
        assert_eq!(caller.may_in_bucket("s3:GetObject", &bucket, Some("k")), Ok(()));
        assert!(
            caller.may_in_bucket("s3:GetObject", &bucket, None).is_err(),
            "the bucket is not its objects"
        );
        assert!(caller.may_in_bucket("s3:DeleteObject", &bucket, Some("k")).is_err());
    }

    fn grant(grantee: coffer_store::Grantee, permission: coffer_store::Permission) -> coffer_store::Grant {
        coffer_store::Grant { grantee, permission }
    }

    #[test]
    fn acl_grants_allow_as_a_resource_policy_and_a_deny_still_wins() {
        use coffer_store::{Grantee, Permission, PublicAccessBlock};
        let authorizer = Authorizer::default();
        let mut bucket = bucket_with_policy(
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Deny","Principal":"*","Action":"s3:DeleteObject","Resource":"arn:aws:s3:::b/*"}}"#,
        );
        bucket.acl = Some(vec![
            grant(Grantee::AllUsers, Permission::Read),
            grant(Grantee::AuthenticatedUsers, Permission::Write),
            grant(Grantee::Account("222222222222".into()), Permission::ReadAcp),
        ]);
        let judge = |bucket: &Bucket, principal: Option<Principal>, action: &str, resource: &str| {
            let policy = authorizer.bucket_policy(bucket, true);
            let request = Request {
                resource_policy: policy.as_deref(),
                ..request(action, resource, "111111111111")
            };
            match principal {
                Some(principal) => authorize(&principal, &Grants::default(), &request).is_ok(),
                None => authorize_anonymous(&request).is_ok(),
            }
        };
        // AllUsers READ lists the bucket for anyone; AuthenticatedUsers WRITE puts objects
        // for signed callers only, and the policy's Deny beats the grant's DeleteObject.
        assert!(judge(&bucket, None, "s3:ListBucket", "arn:aws:s3:::b"));
        assert!(!judge(&bucket, None, "s3:PutObject", "arn:aws:s3:::b/k"));
        assert!(judge(
            &bucket,
            Some(root("333333333333")),
            "s3:PutObject",
            "arn:aws:s3:::b/k"
        ));
        assert!(!judge(
            &bucket,
            Some(root("333333333333")),
            "s3:DeleteObject",
            "arn:aws:s3:::b/k"
        ));
        // A grant to an account is its root's; its users need their own policies too.
        assert!(judge(
            &bucket,
            Some(root("222222222222")),
            "s3:GetBucketAcl",
            "arn:aws:s3:::b"
        ));
        assert!(!judge(
            &bucket,
            Some(root("333333333333")),
            "s3:GetBucketAcl",
            "arn:aws:s3:::b"
        ));
        let outsider = Principal {
            account_id: "222222222222".into(),
            ..user()
        };
        assert!(!judge(&bucket, Some(outsider), "s3:GetBucketAcl", "arn:aws:s3:::b"));
        // IgnorePublicAcls takes the public grants away; a bucket enforcing bucket-owner
        // ownership has no ACL that counts.
        bucket.public_access_block = Some(PublicAccessBlock {
            ignore_public_acls: true,
            ..PublicAccessBlock::default()
        });
        assert!(!judge(&bucket, None, "s3:ListBucket", "arn:aws:s3:::b"));
        assert!(judge(
            &bucket,
            Some(root("222222222222")),
            "s3:GetBucketAcl",
            "arn:aws:s3:::b"
        ));
        bucket.object_ownership = Some(coffer_store::ObjectOwnership::BucketOwnerEnforced);
        assert!(!judge(
            &bucket,
            Some(root("222222222222")),
            "s3:GetBucketAcl",
            "arn:aws:s3:::b"
        ));
    }

    #[test]
    fn a_restricted_public_policy_still_denies_beside_acl_grants() {
        use coffer_store::{Grantee, Permission, PublicAccessBlock};
        let authorizer = Authorizer::default();
        let mut bucket = bucket_with_policy(
            r#"{"Version":"2012-10-17","Statement":[
                {"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"},
                {"Effect":"Deny","Principal":{"AWS":"arn:aws:iam::222222222222:root"},"Action":"s3:PutObject","Resource":"arn:aws:s3:::b/*"}]}"#,
        );
        bucket.public_access_block = Some(PublicAccessBlock {
            restrict_public_buckets: true,
            ..PublicAccessBlock::default()
        });
        bucket.acl = Some(vec![
            grant(Grantee::Account("222222222222".into()), Permission::Write),
            grant(Grantee::Account("333333333333".into()), Permission::Write),
        ]);
        let judge = |principal: Principal, action: &str| {
            let policy = authorizer.bucket_policy(&bucket, true);
            let request = Request {
                resource_policy: policy.as_deref(),
                ..request(action, "arn:aws:s3:::b/k", "111111111111")
            };
            authorize(&principal, &Grants::default(), &request)
        };
        assert!(judge(root("222222222222"), "s3:PutObject").unwrap_err().explicit);
        assert_eq!(judge(root("333333333333"), "s3:PutObject"), Ok(()));
        assert!(
            judge(root("333333333333"), "s3:GetObject").is_err(),
            "the public grant is restricted"
        );
    }

    #[test]
    fn an_object_another_account_owns_is_its_owners_to_grant() {
        use coffer_store::{Grantee, ObjectAccess, Permission};
        let authorizer = Authorizer::default();
        let bucket = bucket_with_policy(
            r#"{"Version":"2012-10-17","Statement":[
                {"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"},
                {"Effect":"Deny","Principal":"*","Action":"s3:GetObjectAcl","Resource":"arn:aws:s3:::b/*"}]}"#,
        );
        let judge = |access: &ObjectAccess, principal: Option<Principal>, action: &str| {
            let policy = authorizer.object_policy(&bucket, true, access);
            let request = Request {
                resource_policy: policy.as_deref(),
                ..request(action, "arn:aws:s3:::b/k", &access.owner)
            };
            match principal {
                Some(principal) => authorize(&principal, &Grants::default(), &request).is_ok(),
                None => authorize_anonymous(&request).is_ok(),
            }
        };
        let own = ObjectAccess {
            owner: "111111111111".into(),
            acl: None,
        };
        assert!(
            judge(&own, None, "s3:GetObject"),
            "the bucket policy grants on the owner's objects"
        );
        let theirs = ObjectAccess {
            owner: "222222222222".into(),
            acl: None,
        };
        assert!(!judge(&theirs, None, "s3:GetObject"), "but not on another account's");
        assert!(!judge(&theirs, Some(root("111111111111")), "s3:GetObject"));
        assert!(judge(&theirs, Some(root("222222222222")), "s3:GetObject"));
        assert!(
            !judge(&theirs, Some(root("222222222222")), "s3:GetObjectAcl"),
            "its Deny still binds"
        );
        let shared = ObjectAccess {
            acl: Some(vec![
                grant(Grantee::Account("222222222222".into()), Permission::FullControl),
                grant(Grantee::Account("111111111111".into()), Permission::Read),
            ]),
            ..theirs
        };
        assert!(judge(&shared, Some(root("111111111111")), "s3:GetObject"));
        assert!(!judge(&shared, Some(root("111111111111")), "s3:PutObjectAcl"));
    }

    #[test]
    fn the_owners_root_may_always_manage_its_bucket_policy_and_no_one_else() {
        let authorizer = Authorizer::default();
        let bucket = bucket_with_policy(
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":["arn:aws:s3:::b","arn:aws:s3:::b/*"]}}"#,
        );
        let policy = authorizer.bucket_policy(&bucket, false).unwrap();
        let asking = |action| Request {
            resource_policy: Some(&policy),
            ..request(action, "arn:aws:s3:::b", "111111111111")
        };
        let caller = |principal| {
            Caller::new(
                principal,
                authorizer.grants_of(Vec::new(), None),
                RequestFacts::default(),
                authorizer.clone(),
            )
        };
        let owner_root = caller(root("111111111111"));
        assert!(owner_root.owns("111111111111"));
        for action in BUCKET_POLICY_ACTIONS {
            assert_eq!(owner_root.may_on_bucket(&asking(action)), Ok(()), "{action}");
        }
        assert!(
            owner_root.may_on_bucket(&asking("s3:ListBucket")).is_err(),
            "the Deny binds the rest"
        );
        let other_root = caller(root("222222222222"));
        assert!(!other_root.owns("111111111111"));
        assert!(other_root.may_on_bucket(&asking("s3:PutBucketPolicy")).is_err());
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
                session: None,
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
