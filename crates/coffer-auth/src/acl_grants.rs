//! ACL grants as resource-policy statements, so that the policy engine judges them beside the
//! bucket policy, where AWS's evaluation logic places ACLs: a grant allows, an explicit Deny
//! in any policy still wins, and across accounts the caller's own policies must allow too
//! (a grant names an account, which delegates to its users through their policies).
//!
//! The permissions map to actions as the S3 user guide's "Mapping of ACL permissions and
//! access policy permissions" lists them.

use coffer_store::{Grant, Grantee, Permission};
use serde_json::{Value, json};

/// What an ACL is attached to.
#[derive(Clone, Copy, Debug)]
pub enum AclTarget<'a> {
    /// A bucket's ACL: READ lists the bucket, WRITE creates and deletes its objects.
    Bucket(&'a str),
    /// An object's ACL. Its statements are built for one request on that object, and so
    /// name any resource: an object key may hold a policy's wildcards or variables.
    Object,
}

fn actions(permission: Permission, target: AclTarget<'_>) -> Vec<&'static str> {
    let each = |permission| -> &'static [&'static str] {
        match (permission, target) {
            (Permission::Read, AclTarget::Bucket(_)) => &[
                "s3:ListBucket",
                "s3:ListBucketVersions",
                "s3:ListBucketMultipartUploads",
            ],
            // WRITE creates objects; it lets no one but their owners delete or overwrite
            // existing ones (acl-overview: "WRITE permissions do not allow non-owners to
            // overwrite or delete existing objects"), so it grants no DeleteObject here.
            (Permission::Write, AclTarget::Bucket(_)) => &["s3:PutObject"],
            (Permission::ReadAcp, AclTarget::Bucket(_)) => &["s3:GetBucketAcl"],
            (Permission::WriteAcp, AclTarget::Bucket(_)) => &["s3:PutBucketAcl"],
            (Permission::Read, AclTarget::Object) => &["s3:GetObject", "s3:GetObjectVersion"],
            (Permission::Write, AclTarget::Object) => &[],
            (Permission::ReadAcp, AclTarget::Object) => &["s3:GetObjectAcl", "s3:GetObjectVersionAcl"],
            (Permission::WriteAcp, AclTarget::Object) => &["s3:PutObjectAcl", "s3:PutObjectVersionAcl"],
            (Permission::FullControl, _) => &[],
        }
    };
    match permission {
        Permission::FullControl => [
            Permission::Read,
            Permission::Write,
            Permission::ReadAcp,
            Permission::WriteAcp,
        ]
        .into_iter()
        .flat_map(each)
        .copied()
        .collect(),
        other => each(other).to_vec(),
    }
}

/// The statements granting what `grants` give, on a resource of `owner`'s. Grants to the
/// owner's own account add nothing (its root user may do everything, its users what their
/// policies allow), nor do grants to canonical ids of no Coffer account or to the log
/// delivery group; with `ignore_public` (Block Public Access's IgnorePublicAcls), grants to
/// everyone or every signed caller count for nothing either.
pub fn acl_statements(grants: &[Grant], owner: &str, target: AclTarget<'_>, ignore_public: bool) -> Vec<Value> {
    let mut statements = Vec::new();
    for grant in grants {
        if ignore_public && grant.grantee.is_public() {
            continue;
        }
        let (principal, condition) = match &grant.grantee {
            Grantee::Account(account) if account != owner => {
                (json!({"AWS": format!("arn:aws:iam::{account}:root")}), None)
            }
            Grantee::AllUsers => (json!("*"), None),
            // Anyone who signed: an anonymous request has no principal account.
            Grantee::AuthenticatedUsers => (json!("*"), Some(json!({"Null": {"aws:PrincipalAccount": "false"}}))),
            Grantee::Account(_) | Grantee::Canonical(_) | Grantee::LogDelivery => continue,
        };
        let actions = actions(grant.permission, target);
        if actions.is_empty() {
            continue;
        }
        let resources = match target {
            AclTarget::Bucket(bucket) => json!([format!("arn:aws:s3:::{bucket}"), format!("arn:aws:s3:::{bucket}/*")]),
            AclTarget::Object => json!("*"),
        };
        let mut statement = json!({
            "Effect": "Allow",
            "Principal": principal,
            "Action": actions,
            "Resource": resources,
        });
        if let Some(condition) = condition {
            statement["Condition"] = condition;
        }
        statements.push(statement);
    }
    statements
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grant(grantee: Grantee, permission: Permission) -> Grant {
        Grant { grantee, permission }
    }

    #[test]
    fn full_control_is_every_permission_of_its_target() {
        let bucket = actions(Permission::FullControl, AclTarget::Bucket("b"));
        assert_eq!(bucket.len(), 6);
        assert!(bucket.contains(&"s3:PutBucketAcl") && bucket.contains(&"s3:PutObject"));
        let object = actions(Permission::FullControl, AclTarget::Object);
        assert_eq!(
            object,
            [
                "s3:GetObject",
                "s3:GetObjectVersion",
                "s3:GetObjectAcl",
                "s3:GetObjectVersionAcl",
                "s3:PutObjectAcl",
                "s3:PutObjectVersionAcl"
            ]
        );
    }

    #[test]
    fn grants_to_the_owner_and_to_nobody_in_coffer_add_nothing() {
        let grants = [
            grant(Grantee::Account("111111111111".into()), Permission::FullControl),
            grant(Grantee::Canonical("ec2".into()), Permission::Read),
            grant(Grantee::LogDelivery, Permission::Write),
        ];
        assert!(acl_statements(&grants, "111111111111", AclTarget::Bucket("b"), false).is_empty());
    }

    #[test]
    fn public_grants_are_ignored_when_asked() {
        let grants = [
            grant(Grantee::AllUsers, Permission::Read),
            grant(Grantee::AuthenticatedUsers, Permission::Read),
            grant(Grantee::Account("222222222222".into()), Permission::Read),
        ];
        assert_eq!(
            acl_statements(&grants, "111111111111", AclTarget::Object, false).len(),
            3
        );
        let kept = acl_statements(&grants, "111111111111", AclTarget::Object, true);
        assert_eq!(kept.len(), 1);
        assert_eq!(kept[0]["Principal"]["AWS"], "arn:aws:iam::222222222222:root");
    }
}
