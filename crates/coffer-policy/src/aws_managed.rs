//! The AWS managed policies Coffer carries, with AWS's ARNs, ids, versions and documents
//! (`aws-managed/<Name>.json`, each taken from AWS's published policy; the file says where
//! from). They are data, not stored per account: every account can attach them.

use std::sync::OnceLock;

use serde_json::Value;

use crate::document::{Policy, PolicyKind};

#[derive(Debug)]
pub struct AwsManagedPolicy {
    pub name: String,
    pub arn: String,
    pub policy_id: String,
    pub path: String,
    pub default_version: String,
    pub create_date: String,
    pub update_date: String,
    pub description: Option<String>,
    /// The document as AWS publishes it (compact JSON).
    pub document: String,
    pub policy: Policy,
}

const FILES: [&str; 8] = [
    include_str!("../aws-managed/AdministratorAccess.json"),
    include_str!("../aws-managed/PowerUserAccess.json"),
    include_str!("../aws-managed/ReadOnlyAccess.json"),
    include_str!("../aws-managed/IAMFullAccess.json"),
    include_str!("../aws-managed/IAMReadOnlyAccess.json"),
    include_str!("../aws-managed/IAMUserChangePassword.json"),
    include_str!("../aws-managed/AmazonS3FullAccess.json"),
    include_str!("../aws-managed/AmazonS3ReadOnlyAccess.json"),
];

fn load(text: &str) -> Option<AwsManagedPolicy> {
    let value: Value = serde_json::from_str(text).ok()?;
    let field = |name: &str| value.get(name).and_then(Value::as_str).map(str::to_owned);
    let document = serde_json::to_string(value.get("Document")?).ok()?;
    let policy = Policy::parse(&document, PolicyKind::Identity).ok()?;
    Some(AwsManagedPolicy {
        name: field("PolicyName")?,
        arn: field("Arn")?,
        policy_id: field("PolicyId")?,
        path: field("Path").unwrap_or_else(|| "/".to_owned()),
        default_version: field("DefaultVersionId")?,
        create_date: field("CreateDate")?,
        update_date: field("UpdateDate")?,
        description: field("Description"),
        document,
        policy,
    })
}

/// Every AWS managed policy Coffer carries, by name.
pub fn all() -> &'static [AwsManagedPolicy] {
    static POLICIES: OnceLock<Vec<AwsManagedPolicy>> = OnceLock::new();
    POLICIES.get_or_init(|| {
        let mut policies: Vec<AwsManagedPolicy> = FILES.iter().filter_map(|text| load(text)).collect();
        policies.sort_by(|a, b| a.name.cmp(&b.name));
        policies
    })
}

/// The AWS managed policy with this ARN.
pub fn find(arn: &str) -> Option<&'static AwsManagedPolicy> {
    all().iter().find(|policy| policy.arn == arn)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_file_loads_and_parses() {
        assert_eq!(
            all().len(),
            FILES.len(),
            "a file did not load or its document did not parse"
        );
        for policy in all() {
            assert_eq!(
                policy.arn,
                format!("arn:aws:iam::aws:policy{}{}", policy.path, policy.name)
            );
            assert!(policy.policy_id.starts_with("ANPA"), "{}", policy.name);
            assert!(policy.default_version.starts_with('v'), "{}", policy.name);
        }
        assert!(find("arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess").is_some());
    }
}

#[cfg(test)]
mod order {
    #[test]
    fn documents_keep_aws_key_order() {
        let policy = super::find("arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess").unwrap();
        assert!(
            policy
                .document
                .starts_with(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"#),
            "{}",
            policy.document
        );
    }
}
