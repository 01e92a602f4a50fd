//! The identity a request was authenticated as.

use std::sync::Arc;

use coffer_store::{Credential, KeyOwner};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Identity {
    /// The account's root user.
    Root,
    /// An IAM user of the account.
    User {
        user_id: String,
        name: String,
        path: String,
    },
    /// A session of an IAM role (AssumeRole, AssumeRoleWithWebIdentity).
    AssumedRole {
        role_id: String,
        role_name: String,
        role_path: String,
        session_name: String,
    },
    /// A federated user (GetFederationToken), made by an IAM user or the root user: their
    /// permissions, narrowed by the session policies (none given: no permissions).
    FederatedUser {
        /// The federating IAM user (`None`: the root user).
        user: Option<(String, String, String)>,
        /// The name the federated user was given.
        name: String,
    },
}

/// What temporary credentials carry besides who they speak for (sealed in their token).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionFacts {
    /// When the credentials were issued and when they expire (Unix seconds).
    pub issued_at: i64,
    pub expires_at: i64,
    /// The inline session policy's text, when one was passed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<String>,
    /// The managed session policies' ARNs (their documents are read when a request is decided).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub policy_arns: Vec<String>,
    /// Session tags (`aws:PrincipalTag/*`), and which of them pass on to a chained session.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<(String, String)>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub transitive_tag_keys: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_identity: Option<String>,
    /// Made by GetSessionToken or GetFederationToken: IAM refuses these credentials (AWS's
    /// IAM takes them only with MFA, which Coffer does not have).
    #[serde(default)]
    pub refused_by_iam: bool,
}

impl SessionFacts {
    /// Whether session policies narrow the session: with none, it has its entity's
    /// permissions; with some, only what one of them allows too.
    pub fn has_session_policies(&self) -> bool {
        self.policy.is_some() || !self.policy_arns.is_empty()
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Principal {
    pub account_id: String,
    pub identity: Identity,
    /// The access key that signed the request.
    pub access_key_id: String,
    /// For temporary credentials (`ASIA…`), what their token says.
    pub session: Option<Arc<SessionFacts>>,
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
            session: None,
        }
    }

    /// `arn:aws:iam::<account>:root`, `arn:aws:iam::<account>:user<path><name>`, or a role
    /// session's `arn:aws:sts::<account>:assumed-role/<role>/<session>`.
    pub fn arn(&self) -> String {
        let account = &self.account_id;
        match &self.identity {
            Identity::Root => format!("arn:aws:iam::{account}:root"),
            Identity::User { name, path, .. } => format!("arn:aws:iam::{account}:user{path}{name}"),
            Identity::AssumedRole {
                role_name,
                session_name,
                ..
            } => format!("arn:aws:sts::{account}:assumed-role/{role_name}/{session_name}"),
            Identity::FederatedUser { name, .. } => format!("arn:aws:sts::{account}:federated-user/{name}"),
        }
    }

    /// The IAM user or role a session was made from, whose ARN a resource policy may name to
    /// grant the session within its limits: a role session's role, a federated user's IAM
    /// user (or its account's root).
    pub fn source_arn(&self) -> Option<String> {
        let account = &self.account_id;
        match &self.identity {
            Identity::AssumedRole { .. } => Some(self.entity_arn()),
            Identity::FederatedUser {
                user: Some((_, name, path)),
                ..
            } => Some(format!("arn:aws:iam::{account}:user{path}{name}")),
            Identity::FederatedUser { user: None, .. } => Some(format!("arn:aws:iam::{account}:root")),
            Identity::Root | Identity::User { .. } => None,
        }
    }

    /// The ARN of the IAM identity behind the caller (`aws:PrincipalArn`): a session's role,
    /// otherwise the caller itself.
    pub fn entity_arn(&self) -> String {
        match &self.identity {
            Identity::AssumedRole {
                role_name, role_path, ..
            } => format!("arn:aws:iam::{}:role{role_path}{role_name}", self.account_id),
            _ => self.arn(),
        }
    }

    /// The unique id AWS reports for the caller: the account id for root, `AIDA…` for users,
    /// `AROA…:<session>` for role sessions.
    pub fn user_id(&self) -> String {
        match &self.identity {
            Identity::Root => self.account_id.clone(),
            Identity::User { user_id, .. } => user_id.clone(),
            Identity::AssumedRole {
                role_id, session_name, ..
            } => format!("{role_id}:{session_name}"),
            Identity::FederatedUser { name, .. } => format!("{}:{name}", self.account_id),
        }
    }

    pub fn is_root(&self) -> bool {
        self.identity == Identity::Root
    }

    /// Whether the caller signed with temporary credentials.
    pub fn is_session(&self) -> bool {
        self.session.is_some()
    }
}
