//! Authorization until the policy engine lands (issue 4): the root user may do everything in
//! its own account; an IAM user without policies may do nothing but `sts:GetCallerIdentity`,
//! which AWS allows every authenticated caller. Never more than that.

use crate::Principal;

/// Actions AWS allows any authenticated principal, whatever its policies say.
const ALWAYS_ALLOWED: &[&str] = &["sts:GetCallerIdentity"];

/// A refusal, with what AWS's `AccessDenied` message names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Denied {
    pub principal_arn: String,
    pub action: String,
    pub resource: String,
}

impl std::fmt::Display for Denied {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "User: {} is not authorized to perform: {} on resource: {} because no identity-based policy allows the {} action",
            self.principal_arn, self.action, self.resource, self.action
        )
    }
}

/// May `principal` perform `action` (`service:Operation`) on `resource` (an ARN) owned by
/// `resource_account`?
pub fn authorize(principal: &Principal, action: &str, resource: &str, resource_account: &str) -> Result<(), Denied> {
    if ALWAYS_ALLOWED.contains(&action) || (principal.is_root() && principal.account_id == resource_account) {
        return Ok(());
    }
    Err(Denied {
        principal_arn: principal.arn(),
        action: action.to_owned(),
        resource: resource.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Identity;

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

    #[test]
    fn root_may_do_everything_in_its_own_account_only() {
        assert!(
            authorize(
                &root("111111111111"),
                "iam:CreateUser",
                "arn:aws:iam::111111111111:user/x",
                "111111111111"
            )
            .is_ok()
        );
        assert!(
            authorize(
                &root("222222222222"),
                "iam:CreateUser",
                "arn:aws:iam::111111111111:user/x",
                "111111111111"
            )
            .is_err()
        );
    }

    #[test]
    fn a_user_without_policies_may_only_ask_who_it_is() {
        assert!(authorize(&user(), "sts:GetCallerIdentity", "*", "111111111111").is_ok());
        let denied = authorize(
            &user(),
            "iam:ListUsers",
            "arn:aws:iam::111111111111:user/",
            "111111111111",
        )
        .unwrap_err();
        assert_eq!(
            denied.to_string(),
            "User: arn:aws:iam::111111111111:user/alice is not authorized to perform: iam:ListUsers on resource: \
             arn:aws:iam::111111111111:user/ because no identity-based policy allows the iam:ListUsers action"
        );
    }
}
