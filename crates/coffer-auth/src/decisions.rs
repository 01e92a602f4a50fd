//! Decisions cached per principal. A decision is a pure function of the principal, its policy
//! set, the resource's policy, the action, the resource, and the values of the condition keys
//! those policies read ([`coffer_policy::Policy::context_keys`]). Every policy set and every
//! parsed resource policy gets a number of its own, never reused, so a policy, membership or
//! bucket-policy change makes every decision taken with the old set unreachable at once: the
//! next request is decided afresh. Policies that read the clock are never cached.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicU64, Ordering};

use coffer_policy::{Decision, Policy, RequestContext, RequestPrincipal};

/// Decisions kept: about this many, in at most this many bytes (a key holds the values of the
/// keys its policies read, and a header can be long, so entries are weighed by their size).
const CAPACITY: usize = 16_384;
const CAPACITY_BYTES: u64 = 8 * 1024 * 1024;
/// What an entry costs beyond its strings.
const ENTRY_OVERHEAD: u64 = 256;

/// Keys whose value changes from one request to the next: a policy that reads one is decided
/// every time.
const CLOCK_KEYS: [&str; 2] = ["aws:currenttime", "aws:epochtime"];

/// A fresh number for a policy set or a parsed resource policy.
pub(crate) fn next_id() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// The condition keys a set of policies reads, in a fixed order; `None` when one reads the clock.
pub(crate) fn cacheable_keys<'a>(policies: impl IntoIterator<Item = &'a Policy>) -> Option<Vec<String>> {
    let keys: BTreeSet<String> = policies.into_iter().flat_map(Policy::context_keys).collect();
    if CLOCK_KEYS.iter().any(|key| keys.contains(*key)) {
        return None;
    }
    Some(keys.into_iter().collect())
}

/// A resource's policy (a bucket policy), parsed once, with what caching its decisions needs.
#[derive(Debug)]
pub struct ResourcePolicy {
    id: u64,
    policy: Policy,
    keys: Option<Vec<String>>,
}

impl ResourcePolicy {
    pub fn new(policy: Policy) -> ResourcePolicy {
        ResourcePolicy {
            id: next_id(),
            keys: cacheable_keys([&policy]),
            policy,
        }
    }

    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// Its number: never another parse's.
    pub(crate) fn id(&self) -> u64 {
        self.id
    }

    /// Whether the policy reads a condition key starting with `prefix` (lower case), so a
    /// request fetches such a key's values only when they can matter. A policy that reads
    /// the clock answers yes.
    pub fn reads_key_prefix(&self, prefix: &str) -> bool {
        match &self.keys {
            None => true,
            Some(keys) => keys.iter().any(|key| key.starts_with(prefix)),
        }
    }
}

/// Everything a decision depends on.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct Key {
    grants: u64,
    resource_policy: Option<u64>,
    principal: Option<RequestPrincipal>,
    action: String,
    resource: String,
    resource_account: String,
    /// The values of the keys the policies read, in the order of their key lists.
    values: Vec<Option<Vec<String>>>,
    /// The bytes the entry holds (computed once: the cache weighs entries often).
    bytes: u64,
}

impl Key {
    fn measure(mut self) -> Key {
        let strings = [&self.action, &self.resource, &self.resource_account]
            .into_iter()
            .chain(
                self.principal
                    .iter()
                    .flat_map(|p| [Some(&p.arn), Some(&p.account_id), p.entity_arn.as_ref()])
                    .flatten(),
            )
            .chain(self.values.iter().flatten().flatten());
        self.bytes = ENTRY_OVERHEAD + strings.map(|s| s.len() as u64).sum::<u64>();
        self
    }
}

/// Weighs an entry by its bytes.
#[derive(Clone, Debug)]
struct ByBytes;

impl quick_cache::Weighter<Key, Decision> for ByBytes {
    fn weight(&self, key: &Key, _: &Decision) -> u64 {
        key.bytes
    }
}

/// The decisions of every principal, bounded.
pub(crate) struct Decisions(quick_cache::sync::Cache<Key, Decision, ByBytes>);

impl std::fmt::Debug for Decisions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Decisions").field("len", &self.0.len()).finish()
    }
}

impl Default for Decisions {
    fn default() -> Self {
        Decisions(quick_cache::sync::Cache::with_weighter(
            CAPACITY,
            CAPACITY_BYTES,
            ByBytes,
        ))
    }
}

/// A policy set's part of the cache key: its number and the keys it reads (`None`: uncacheable).
pub(crate) struct SetKey<'a> {
    pub id: u64,
    pub keys: Option<&'a [String]>,
}

impl Decisions {
    /// The cached decision for `ctx`, or `decide()`'s, remembered when the policies allow it.
    pub(crate) fn get_or_decide(
        &self,
        grants: SetKey<'_>,
        resource_policy: Option<&ResourcePolicy>,
        resource_account: &str,
        ctx: &RequestContext,
        decide: impl FnOnce() -> Decision,
    ) -> Decision {
        let resource_keys = match resource_policy {
            None => Some(&[][..]),
            Some(policy) => policy.keys.as_deref(),
        };
        let (Some(own_keys), Some(resource_keys)) = (grants.keys, resource_keys) else {
            return decide();
        };
        let key = Key {
            grants: grants.id,
            resource_policy: resource_policy.map(|policy| policy.id),
            principal: ctx.principal.clone(),
            action: ctx.action.clone(),
            resource: ctx.resource.clone(),
            resource_account: resource_account.to_owned(),
            values: own_keys
                .iter()
                .chain(resource_keys)
                .map(|key| ctx.get(key).map(<[String]>::to_vec))
                .collect(),
            bytes: 0,
        }
        .measure();
        if let Some(decision) = self.0.get(&key) {
            return decision;
        }
        let decision = decide();
        self.0.insert(key, decision);
        decision
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.0.len()
    }

    #[cfg(test)]
    pub(crate) fn bytes(&self) -> u64 {
        self.0.weight()
    }
}
