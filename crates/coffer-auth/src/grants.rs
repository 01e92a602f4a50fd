//! A principal's policies, loaded from the store and parsed once while the store's set
//! stands ([`Authorizer::grants`]), and buckets' policies parsed once per text: the only
//! store reads of authorization. Every root user shares one empty set.

use std::collections::HashMap;
use std::sync::Arc;

use parking_lot::Mutex;

use coffer_policy::simulate::Source;
use coffer_policy::{Policy, PolicyKind};
use coffer_store::{Boundary, Bucket, ObjectAccess, Store, StoreError, UserPolicies};

use crate::acl_grants::{AclTarget, acl_statements};
use crate::decisions::{Decisions, ResourcePolicy, cacheable_keys, next_id};
use crate::{Identity, Principal};

/// A principal's own policies, parsed, with its share of the decision cache.
#[derive(Debug, Default)]
pub struct Grants {
    pub(crate) identity: Vec<Policy>,
    /// Where each identity policy comes from (for the simulator), in the same order.
    pub(crate) sources: Vec<Source>,
    /// Where the boundary comes from.
    pub(crate) boundary_source: Option<Source>,
    /// The permissions boundary, if the user or role has one.
    pub(crate) boundary: Option<Policy>,
    /// A session's session policies, if it was given some (see [`coffer_policy::Policies`]).
    pub(crate) session: Option<Vec<Policy>>,
    /// The user's or role's tags (`aws:PrincipalTag/*`), read with its policies.
    pub(crate) principal_tags: Vec<(String, String)>,
    /// The length of the session policies' texts (what the session cache weighs).
    pub(crate) session_bytes: u64,
    /// This set's number in decision-cache keys (a changed set is a new `Grants`).
    pub(crate) id: u64,
    /// The condition keys the set reads; `None` when it reads the clock.
    pub(crate) keys: Option<Vec<String>>,
    /// Where decisions are remembered; `None` decides every time.
    pub(crate) decisions: Option<Arc<Decisions>>,
    /// A stored policy of the set no longer parses: the set fails closed (it could have been
    /// a Deny), and every request but GetCallerIdentity is denied until it is fixed.
    pub(crate) unreadable: bool,
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

    pub(crate) fn new(identity: Vec<Policy>, boundary: Option<Policy>, decisions: &Arc<Decisions>) -> Grants {
        Grants {
            id: next_id(),
            keys: cacheable_keys(identity.iter().chain(&boundary)),
            identity,
            boundary,
            session: None,
            principal_tags: Vec::new(),
            session_bytes: 0,
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

/// A user's or role's parsed policies (by its id), with the store's set they were parsed from.
type Parsed = HashMap<String, (Arc<UserPolicies>, Arc<Grants>)>;

/// Sessions' grants: an entity's grants narrowed by session policies, by the entity's set
/// (its number) and a digest of the session policies' texts. Sessions of one role given the
/// same session policy share one entry. Entries are weighed by the texts they were parsed
/// from, so many large session policies cannot hold more than the cache's bytes.
type SessionGrants = quick_cache::sync::Cache<(u64, [u8; 32]), Arc<Grants>, ByTexts>;

/// Session-policy sets remembered, and the bytes of text they may stand for.
const SESSION_GRANTS: usize = 4096;
const SESSION_GRANTS_BYTES: u64 = 32 * 1024 * 1024;

/// Weighs a session's grants by its session policies' texts (parsed, they take a few times
/// that) plus a fixed overhead.
#[derive(Clone, Debug)]
struct ByTexts;

impl quick_cache::Weighter<(u64, [u8; 32]), Arc<Grants>> for ByTexts {
    fn weight(&self, _: &(u64, [u8; 32]), grants: &Arc<Grants>) -> u64 {
        1024 + 4 * grants.session_bytes
    }
}

/// Block Public Access's IgnorePublicAcls: grants to everyone count for nothing.
fn ignores_public_acls(bucket: &Bucket) -> bool {
    bucket.public_access_block.is_some_and(|b| b.ignore_public_acls)
}

/// Parsed bucket policies by bucket name, with the text each was parsed from.
type ParsedBucketPolicies = HashMap<String, (String, Arc<ResourcePolicy>)>;

/// Merged bucket policies and ACLs remembered: objects' ACLs make one each.
const ACL_POLICIES: usize = 1024;

/// The root user's permissions in its own account.
const ALLOW_EVERYTHING: &str = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}"#;

/// What a bucket policy that no longer parses is taken as.
const DENY_EVERYTHING: &str =
    r#"{"Version":"2012-10-17","Statement":{"Effect":"Deny","Principal":"*","Action":"*","Resource":"*"}}"#;

/// Loads and parses principals' policies and buckets' policies, reusing a parse while its
/// source stands, and remembers decisions (see [`crate::decisions`]). Cheap to clone.
#[derive(Clone, Debug)]
pub struct Authorizer {
    parsed: Arc<Mutex<Parsed>>,
    sessions: Arc<SessionGrants>,
    bucket_policies: Arc<Mutex<ParsedBucketPolicies>>,
    /// Bucket policies merged with ACL grants, by the merged text.
    acl_policies: Arc<quick_cache::sync::Cache<[u8; 32], Option<Arc<ResourcePolicy>>>>,
    decisions: Arc<Decisions>,
    /// Every root user's grants: none, but with the decision cache.
    root: Arc<Grants>,
    /// What the root user may do in its account, as an identity policy (for the federated
    /// users it makes, which are not the root user themselves).
    root_as_policy: Arc<Grants>,
}

impl Default for Authorizer {
    fn default() -> Self {
        let decisions = Arc::new(Decisions::default());
        Authorizer {
            parsed: Arc::default(),
            sessions: Arc::new(SessionGrants::with_weighter(
                SESSION_GRANTS,
                SESSION_GRANTS_BYTES,
                ByTexts,
            )),
            bucket_policies: Arc::default(),
            acl_policies: Arc::new(quick_cache::sync::Cache::new(ACL_POLICIES)),
            root: Arc::new(Grants::new(Vec::new(), None, &decisions)),
            root_as_policy: Arc::new(Grants::new(
                vec![Policy::parse(ALLOW_EVERYTHING, PolicyKind::Identity).expect("a fixed policy parses")],
                None,
                &decisions,
            )),
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

    /// The policies that speak for `principal`: a user's, a role session's (its role's,
    /// narrowed by its session policies), or none for a root user.
    pub async fn grants(&self, store: &Store, principal: &Principal) -> Result<Arc<Grants>, StoreError> {
        let entity = match &principal.identity {
            Identity::Root => self.root.clone(),
            Identity::User { user_id, .. } => self.entity_grants(user_id, store.user_policies(user_id).await?),
            Identity::AssumedRole { role_id, .. } => self.entity_grants(role_id, store.role_policies(role_id).await?),
            Identity::FederatedUser {
                user: Some((user_id, ..)),
                ..
            } => self.entity_grants(user_id, store.user_policies(user_id).await?),
            // The root user's permissions are everything in its account, as a policy.
            Identity::FederatedUser { user: None, .. } => self.root_as_policy.clone(),
        };
        // A federated user is always narrowed: with no session policy it may do nothing.
        let federated = matches!(principal.identity, Identity::FederatedUser { .. });
        let Some(facts) = principal
            .session
            .as_ref()
            .filter(|facts| federated || facts.has_session_policies())
        else {
            return Ok(entity);
        };
        // The inline session policy, then the managed ones' current documents (AWS managed
        // ones by ARN: their documents are built in).
        let mut texts: Vec<String> = facts.policy.iter().cloned().collect();
        if !facts.policy_arns.is_empty() {
            let managed = store.policies_by_arn(&facts.policy_arns).await?;
            texts.extend(managed.documents.iter().map(|document| document.text.clone()));
            texts.extend(managed.aws_managed.iter().map(|arn| format!("aws-managed:{arn}")));
        }
        Ok(self.narrowed(&entity, texts))
    }

    /// `entity`'s grants narrowed by session policies (parsed once per set of texts; an AWS
    /// managed policy is written `aws-managed:<arn>`).
    fn narrowed(&self, entity: &Arc<Grants>, texts: Vec<String>) -> Arc<Grants> {
        use sha2::Digest;
        let mut digest = sha2::Sha256::new();
        for text in &texts {
            digest.update((text.len() as u64).to_le_bytes());
            digest.update(text.as_bytes());
        }
        let key = (entity.id, <[u8; 32]>::from(digest.finalize()));
        if let Some(grants) = self.sessions.get(&key) {
            return grants;
        }
        let texts = &texts;
        let parsed: Vec<Policy> = texts
            .iter()
            .filter_map(|text| match text.strip_prefix("aws-managed:") {
                Some(arn) => coffer_policy::aws_managed::find(arn).map(|managed| managed.policy.clone()),
                None => Policy::parse(text, PolicyKind::Identity).ok(),
            })
            .collect();
        let mut grants = Grants::new(entity.identity.clone(), entity.boundary.clone(), &self.decisions);
        grants.keys = cacheable_keys(grants.identity.iter().chain(&grants.boundary).chain(&parsed));
        // A session policy that does not parse might have been a Deny: fail closed.
        grants.unreadable = entity.unreadable || parsed.len() != texts.len();
        grants.session = Some(parsed);
        grants.session_bytes = texts.iter().map(|t| t.len() as u64).sum();
        grants.principal_tags = entity.principal_tags.clone();
        grants.sources = entity.sources.clone();
        grants.boundary_source = entity.boundary_source.clone();
        let grants = Arc::new(grants);
        self.sessions.insert(key, grants.clone());
        grants
    }

    /// The grants parsed from an entity's stored `documents`, reused while they stand.
    fn entity_grants(&self, id: &str, documents: Arc<UserPolicies>) -> Arc<Grants> {
        if let Some((source, grants)) = self.parsed.lock().get(id)
            && Arc::ptr_eq(source, &documents)
        {
            return grants.clone();
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
        // A session of a user or role deleted since it was issued: its token still opens,
        // but it may do nothing (without the entity there is no boundary left to hold it).
        if unreadable {
            tracing::error!(
                entity_id = %id,
                "a stored policy of this user or role no longer parses: its requests are denied until the policy is replaced"
            );
        }
        unreadable |= !documents.exists;
        let mut grants = Grants::new(identity, boundary, &self.decisions);
        grants.sources = sources;
        grants.boundary_source = boundary_source;
        grants.unreadable = unreadable;
        grants.principal_tags = documents
            .tags
            .iter()
            .map(|t| (t.key.clone(), t.value.clone()))
            .collect();
        let grants = Arc::new(grants);
        self.parsed.lock().insert(id.to_owned(), (documents, grants.clone()));
        grants
    }

    /// The resource policy a request on `bucket` is judged by: its bucket policy (see
    /// [`Authorizer::policy_alone`]) and, while its ACLs are enabled, its ACL's grants.
    pub fn bucket_policy(&self, bucket: &Bucket, outsider: bool) -> Option<Arc<ResourcePolicy>> {
        let (policy, restricted) = self.policy_alone(bucket, outsider);
        let Some(grants) = bucket.acl.as_deref().filter(|_| bucket.acls_enabled()) else {
            return policy;
        };
        let target = AclTarget::Bucket(&bucket.name);
        self.with_grants(
            policy,
            restricted,
            grants,
            &bucket.account_id,
            target,
            ignores_public_acls(bucket),
        )
    }

    /// The resource policy a request on one object of `bucket` is judged by, `access` being
    /// the object's owner and ACL. While the bucket's ACLs are enabled, the object's grants
    /// count; and for an object another account owns, the bucket policy can only deny (the
    /// bucket owner grants only on what it owns).
    pub fn object_policy(&self, bucket: &Bucket, outsider: bool, access: &ObjectAccess) -> Option<Arc<ResourcePolicy>> {
        let (policy, restricted) = self.policy_alone(bucket, outsider);
        if !bucket.acls_enabled() {
            return policy;
        }
        let denies_only = restricted || access.owner != bucket.account_id;
        let grants = access.acl.as_deref().unwrap_or_default();
        self.with_grants(
            policy,
            denies_only,
            grants,
            &access.owner,
            AclTarget::Object,
            ignores_public_acls(bucket),
        )
    }

    /// `policy`'s statements (with `denies_only`, its Deny statements alone) and what `grants`
    /// allow on a resource of `owner`'s, as one policy of `policy`'s version (the grants'
    /// statements name no variables). Merged once per (policy, grants) and remembered by a
    /// digest of what went in.
    fn with_grants(
        &self,
        policy: Option<Arc<ResourcePolicy>>,
        denies_only: bool,
        grants: &[coffer_store::Grant],
        owner: &str,
        target: AclTarget<'_>,
        ignore_public: bool,
    ) -> Option<Arc<ResourcePolicy>> {
        let statements = acl_statements(grants, owner, target, ignore_public);
        if statements.is_empty() && !denies_only {
            return policy;
        }
        let key = {
            use sha2::Digest;
            let mut digest = sha2::Sha256::new();
            digest.update(policy.as_ref().map_or(0, |p| p.id()).to_be_bytes());
            digest.update([u8::from(denies_only)]);
            digest.update(serde_json::Value::Array(statements.clone()).to_string());
            <[u8; 32]>::from(digest.finalize())
        };
        if let Some(merged) = self.acl_policies.get(&key) {
            return merged;
        }
        let mut kept: Vec<_> = match &policy {
            Some(policy) => policy
                .policy()
                .statements
                .iter()
                .filter(|s| !denies_only || s.effect == coffer_policy::Effect::Deny)
                .cloned()
                .collect(),
            None => Vec::new(),
        };
        if !statements.is_empty() {
            let text = serde_json::json!({"Version": "2012-10-17", "Statement": statements}).to_string();
            match Policy::parse(&text, PolicyKind::Resource) {
                Ok(granted) => kept.extend(granted.statements),
                // Built here from checked grants; were it ever refused, the grants allow nothing.
                Err(err) => tracing::error!(%err, "ACL grants did not make a policy: they allow nothing"),
            }
        }
        let merged = (!kept.is_empty()).then(|| {
            // The grants name no variables: the policy's own version reads its statements.
            let version = policy
                .as_ref()
                .map_or(coffer_policy::Version::V2012, |p| p.policy().version);
            Arc::new(ResourcePolicy::new(Policy {
                version,
                id: None,
                statements: kept,
                positions: Vec::new(),
            }))
        });
        self.acl_policies.insert(key, merged.clone());
        merged
    }

    /// A bucket's policy, parsed (once while its text stands). With RestrictPublicBuckets on,
    /// a public policy grants nothing to callers outside the owner's account (`outsider`).
    /// Also says whether that took a public policy away (its Deny statements still bind).
    fn policy_alone(&self, bucket: &Bucket, outsider: bool) -> (Option<Arc<ResourcePolicy>>, bool) {
        let Some(text) = bucket.policy.as_ref() else {
            return (None, false);
        };
        let cached = self
            .bucket_policies
            .lock()
            .get(&bucket.name)
            .filter(|(source, _)| source == text)
            .map(|(_, policy)| policy.clone());
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
                self.bucket_policies
                    .lock()
                    .insert(bucket.name.clone(), (text.clone(), policy.clone()));
                policy
            }
        };
        let restricted = bucket.public_access_block.is_some_and(|b| b.restrict_public_buckets);
        if outsider && restricted && policy.policy().is_public() {
            // Its grants are gone; the explicit denials stay for whoever merges it.
            return (
                self.with_grants(Some(policy), true, &[], &bucket.account_id, AclTarget::Object, true),
                true,
            );
        }
        (Some(policy), false)
    }
}
