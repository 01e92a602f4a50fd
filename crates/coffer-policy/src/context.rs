//! The request context: the action, the resource, who asks, and the condition keys.

use std::collections::HashMap;

/// Who makes the request, as resource-based policies match it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct RequestPrincipal {
    /// `arn:aws:iam::<account>:root`, `arn:aws:iam::<account>:user/<path><name>`, or a
    /// session's `arn:aws:sts::<account>:assumed-role/<role>/<session>`.
    pub arn: String,
    pub account_id: String,
    pub is_root: bool,
    /// For a session, the ARN of the role it was made from: a resource policy naming it
    /// grants within the session's limits (its boundary and session policies), while one
    /// naming the session itself grants directly.
    pub entity_arn: Option<String>,
    /// A user of an identity provider (AssumeRoleWithWebIdentity), named by the provider's
    /// ARN: only a `Federated` principal matches it, never an `AWS` one.
    pub federated: bool,
    /// An AWS service acting for a resource (`logging.s3.amazonaws.com` delivering access
    /// logs), named by `arn`: only a `Service` principal (or anyone) matches it, and only a
    /// resource policy can allow it, as it has no identity policies and no account.
    pub service: bool,
}

#[derive(Clone, Debug, Default)]
pub struct RequestContext {
    /// `service:Action`, e.g. `s3:GetObject`.
    pub action: String,
    /// The resource ARN, or `*` for actions on no resource.
    pub resource: String,
    /// `None` for an anonymous request.
    pub principal: Option<RequestPrincipal>,
    /// Condition keys, by lowercase name (condition keys are case-insensitive).
    keys: HashMap<String, Vec<String>>,
}

impl RequestContext {
    pub fn new(action: &str, resource: &str, principal: Option<RequestPrincipal>) -> RequestContext {
        RequestContext {
            action: action.to_owned(),
            resource: resource.to_owned(),
            principal,
            // Room for a signed S3 request's keys (about twenty) without growing on the way.
            keys: HashMap::with_capacity(32),
        }
    }

    /// Sets a single-valued key.
    pub fn with(mut self, key: &str, value: impl Into<String>) -> RequestContext {
        self.keys.insert(key.to_ascii_lowercase(), vec![value.into()]);
        self
    }

    /// Sets a multivalued key (for `ForAllValues:` / `ForAnyValue:`).
    pub fn with_values(mut self, key: &str, values: Vec<String>) -> RequestContext {
        self.keys.insert(key.to_ascii_lowercase(), values);
        self
    }

    /// A key's values; `None` when the request does not have the key.
    pub fn get(&self, key: &str) -> Option<&[String]> {
        // Policies' keys are lowercased at parse time; only callers' mixed-case keys pay for it.
        if key.bytes().any(|b| b.is_ascii_uppercase()) {
            self.keys.get(&key.to_ascii_lowercase()).map(Vec::as_slice)
        } else {
            self.keys.get(key).map(Vec::as_slice)
        }
    }

    /// A single-valued key's value (a policy variable needs exactly one).
    pub fn single(&self, key: &str) -> Option<&str> {
        match self.get(key) {
            Some([value]) => Some(value),
            _ => None,
        }
    }
}
