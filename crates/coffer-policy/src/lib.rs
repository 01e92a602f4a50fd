//! IAM policy documents and their evaluation, following AWS's documented policy language and
//! evaluation logic. Pure: documents in, decisions out; no I/O, no clock (the caller puts the
//! time into the request context).
//!
//! - [`document`]: parsing and validating a policy (identity-based or resource-based).
//! - [`pattern`]: IAM wildcards (`*`, `?`) and policy variables (`${aws:username}`…).
//! - [`condition`]: the `Condition` element's operators, qualifiers and AND/OR rules.
//! - [`context`]: what a request offers to be judged on.
//! - [`evaluate`]: statements, policies, and the decision over all that apply.
//! - [`simulate`]: IAM's policy simulator, on the same decision.
//! - [`positions`]: where each statement sits in a document's text (for the simulator).
//! - [`aws_managed`]: the AWS managed policies Coffer carries, with AWS's documents.

pub mod aws_managed;
pub mod condition;
pub mod context;
pub mod document;
pub mod evaluate;
pub mod pattern;
pub mod positions;
pub mod simulate;

pub use context::{RequestContext, RequestPrincipal};
pub use document::{Effect, Match, Policy, PolicyError, PolicyKind, Principals, Statement, Version};
pub use evaluate::{Decision, Policies, decide};
