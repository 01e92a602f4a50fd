//! The account: GetAccountSummary and account aliases.

use coffer_store::{MAX_ACCESS_KEYS_PER_USER, StoreError};

use crate::xml::Xml;
use crate::{Call, IamError, validate};

pub(crate) async fn get_account_summary(cx: &Call<'_>) -> Result<Option<String>, IamError> {
    cx.authorize("iam:GetAccountSummary", "*").await?;
    let counts = cx.store.account_counts(cx.account()).await?;
    let root_keys = cx.store.count_root_access_keys(cx.account()).await?;
    // Quotas are AWS's defaults; counts of what Coffer does not have (MFA) are zero.
    let entries: [(&str, i64); 25] = [
        ("Users", counts.users),
        ("UsersQuota", 5000),
        ("Groups", counts.groups),
        ("GroupsQuota", 300),
        ("GroupsPerUserQuota", 10),
        ("Policies", counts.policies),
        ("PoliciesQuota", 1500),
        ("PolicySizeQuota", 6144),
        ("PolicyVersionsInUse", counts.policy_versions),
        ("PolicyVersionsInUseQuota", 10000),
        ("VersionsPerPolicyQuota", 5),
        ("AttachedPoliciesPerUserQuota", 10),
        ("AttachedPoliciesPerGroupQuota", 10),
        ("AttachedPoliciesPerRoleQuota", 10),
        ("UserPolicySizeQuota", 2048),
        ("GroupPolicySizeQuota", 5120),
        ("Roles", counts.roles),
        ("RolesQuota", 1000),
        ("Providers", counts.providers),
        ("AssumeRolePolicySizeQuota", 2048),
        ("RolePolicySizeQuota", 10240),
        ("AccessKeysPerUserQuota", MAX_ACCESS_KEYS_PER_USER),
        ("AccountAccessKeysPresent", i64::from(root_keys > 0)),
        ("AccountMFAEnabled", 0),
        ("MFADevices", 0),
    ];
    let mut xml = Xml::new();
    xml.with("SummaryMap", |x| {
        for (key, value) in entries {
            x.with("entry", |e| {
                e.elem("key", key).elem("value", &value.to_string());
            });
        }
    });
    Ok(Some(xml.finish()))
}

pub(crate) async fn create_account_alias(cx: &Call<'_>) -> Result<Option<String>, IamError> {
    let alias = cx.params.require("AccountAlias")?;
    validate::account_alias(alias)?;
    cx.authorize("iam:CreateAccountAlias", "*").await?;
    cx.store
        .set_account_alias(cx.account(), alias)
        .await
        .map_err(|e| match e {
            StoreError::AliasTaken => {
                IamError::EntityAlreadyExists(format!("The account alias {alias} already exists."))
            }
            other => other.into(),
        })?;
    Ok(None)
}

pub(crate) async fn list_account_aliases(cx: &Call<'_>) -> Result<Option<String>, IamError> {
    cx.params.max_items()?;
    cx.authorize("iam:ListAccountAliases", "*").await?;
    let account = cx.store.account(cx.account()).await?;
    let mut xml = Xml::new();
    xml.with("AccountAliases", |x| {
        if let Some(alias) = &account.alias {
            x.elem("member", alias);
        }
    });
    xml.elem("IsTruncated", "false");
    Ok(Some(xml.finish()))
}

pub(crate) async fn delete_account_alias(cx: &Call<'_>) -> Result<Option<String>, IamError> {
    let alias = cx.params.require("AccountAlias")?;
    validate::account_alias(alias)?;
    cx.authorize("iam:DeleteAccountAlias", "*").await?;
    cx.store
        .delete_account_alias(cx.account(), alias)
        .await
        .map_err(|e| match e {
            StoreError::NoSuchAccount => IamError::NoSuchEntity(format!("The account alias {alias} cannot be found.")),
            other => other.into(),
        })?;
    Ok(None)
}
