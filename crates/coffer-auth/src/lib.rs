//! Who is asking, and may they: SigV4 verification for the IAM and STS Query APIs, the
//! [`Principal`] a verified request speaks for, and authorization through the policy engine.
//!
//! Verification is pure ([`sigv4`]); [`authenticate`] adds the store lookup of the key.
//! S3 requests are verified by s3s, with the same key lookup.
//! Never compare a signature with `==`: [`sigv4::Signature::verify`] compares in constant time.

mod acl_grants;
mod authenticate;
mod authorize;
mod decisions;
mod facts;
mod grants;
pub mod passwords;
pub mod post_form;
pub mod presign;
mod principal;
pub mod session;
pub mod signed_request;
pub mod sigv4;

pub use authenticate::{AuthError, authenticate};
pub use authorize::{Caller, Denied, Request, authorize, authorize_anonymous, authorize_federated};
pub use decisions::ResourcePolicy;
pub use facts::{PeerAddr, RequestFacts, TrustedProxies};
pub use grants::{Authorizer, Grants};
pub use principal::{Identity, InProcessCaller, Principal, SessionFacts};
