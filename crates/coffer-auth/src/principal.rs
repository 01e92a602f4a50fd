//! The identity a request was authenticated as.

use coffer_store::{Credential, KeyOwner};

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Identity {
    /// The account's root user.
    Root,
    /// An IAM user of the account.
    User {
        user_id: String,
        name: String,
        path: String,
    },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Principal {
    pub account_id: String,
    pub identity: Identity,
    /// The access key that signed the request.
    pub access_key_id: String,
}

/// The caller of a request made in-process by another front end (the console), on behalf of
/// its signed-in principal. Only code can put it into a request's extensions; nothing on the
/// wire becomes one, so a request from the network never carries it.
#[derive(Clone, Debug)]
pub struct InProcessCaller(pub Principal);

impl Principal {
    pub fn from_credential(credential: &Credential) -> Self {
        let identity = match &credential.owner {
            KeyOwner::Root => Identity::Root,
            KeyOwner::User(user) => Identity::User {
                user_id: user.user_id.clone(),
                name: user.name.clone(),
                path: user.path.clone(),
            },
        };
        Principal {
            account_id: credential.account_id.clone(),
            identity,
            access_key_id: credential.access_key_id.clone(),
        }
    }

    /// `arn:aws:iam::<account>:root` or `arn:aws:iam::<account>:user<path><name>`.
    pub fn arn(&self) -> String {
        match &self.identity {
            Identity::Root => format!("arn:aws:iam::{}:root", self.account_id),
            Identity::User { name, path, .. } => format!("arn:aws:iam::{}:user{path}{name}", self.account_id),
        }
    }

    /// The unique id AWS reports for the caller: the account id for root, `AIDA…` for users.
    pub fn user_id(&self) -> &str {
        match &self.identity {
            Identity::Root => &self.account_id,
            Identity::User { user_id, .. } => user_id,
        }
    }

    pub fn is_root(&self) -> bool {
        self.identity == Identity::Root
    }
}
