//! KMS's key and alias operations, one function each, named after the operation.

use serde_json::{Value, json};
use time::OffsetDateTime;

use crate::{Call, KmsError};
use coffer_store::{AWS_MANAGED_S3, KmsKey, KmsKeyState};

/// The operations served.
const SERVED: [&str; 10] = [
    "CreateKey",
    "DescribeKey",
    "ListKeys",
    "EnableKey",
    "DisableKey",
    "ScheduleKeyDeletion",
    "CancelKeyDeletion",
    "CreateAlias",
    "DeleteAlias",
    "ListAliases",
];

/// Whether `name` is a KMS operation (served or not).
pub fn is_kms_operation(name: &str) -> bool {
    SERVED.contains(&name) || KNOWN.contains(&name)
}

/// The operations served; the rest of KMS answers UnsupportedOperationException, named.
pub(crate) async fn dispatch(target: &str, call: &Call<'_>) -> Result<Value, KmsError> {
    match target {
        "CreateKey" => create_key(call).await,
        "DescribeKey" => describe_key(call).await,
        "ListKeys" => list_keys(call).await,
        "EnableKey" => set_enabled(call, true).await,
        "DisableKey" => set_enabled(call, false).await,
        "ScheduleKeyDeletion" => schedule_key_deletion(call).await,
        "CancelKeyDeletion" => cancel_key_deletion(call).await,
        "CreateAlias" => create_alias(call).await,
        "DeleteAlias" => delete_alias(call).await,
        "ListAliases" => list_aliases(call).await,
        other if KNOWN.contains(&other) => Err(KmsError::Unsupported(format!(
            "{other} is not implemented by Coffer: its key ring serves S3's server-side encryption"
        ))),
        other => Err(KmsError::UnknownOperation(format!("Unknown operation {other}"))),
    }
}

/// KMS's other operations: known names, not served.
const KNOWN: [&str; 42] = [
    "ConnectCustomKeyStore",
    "CreateCustomKeyStore",
    "CreateGrant",
    "Decrypt",
    "DeleteCustomKeyStore",
    "DeleteImportedKeyMaterial",
    "DeriveSharedSecret",
    "DescribeCustomKeyStores",
    "DisableKeyRotation",
    "DisconnectCustomKeyStore",
    "EnableKeyRotation",
    "Encrypt",
    "GenerateDataKey",
    "GenerateDataKeyPair",
    "GenerateDataKeyPairWithoutPlaintext",
    "GenerateDataKeyWithoutPlaintext",
    "GenerateMac",
    "GenerateRandom",
    "GetKeyPolicy",
    "GetKeyRotationStatus",
    "GetParametersForImport",
    "GetPublicKey",
    "ImportKeyMaterial",
    "ListGrants",
    "ListKeyPolicies",
    "ListKeyRotations",
    "ListResourceTags",
    "ListRetirableGrants",
    "PutKeyPolicy",
    "ReEncrypt",
    "ReplicateKey",
    "RetireGrant",
    "RevokeGrant",
    "RotateKeyOnDemand",
    "Sign",
    "TagResource",
    "UntagResource",
    "UpdateAlias",
    "UpdateCustomKeyStore",
    "UpdateKeyDescription",
    "UpdatePrimaryRegion",
    "Verify",
];

fn epoch_seconds(time: OffsetDateTime) -> f64 {
    time.unix_timestamp_nanos() as f64 / 1e9
}

/// A key's `KeyMetadata`.
fn metadata(key: &KmsKey) -> Value {
    let mut metadata = json!({
        "AWSAccountId": key.account_id,
        "KeyId": key.key_id,
        "Arn": key.arn(),
        "CreationDate": epoch_seconds(key.created_at),
        "Enabled": key.state == KmsKeyState::Enabled,
        "Description": key.description,
        "KeyUsage": "ENCRYPT_DECRYPT",
        "KeyState": key.state.as_str(),
        "Origin": "AWS_KMS",
        "KeyManager": if key.managed.is_some() { "AWS" } else { "CUSTOMER" },
        "CustomerMasterKeySpec": "SYMMETRIC_DEFAULT",
        "KeySpec": "SYMMETRIC_DEFAULT",
        "EncryptionAlgorithms": ["SYMMETRIC_DEFAULT"],
        "MultiRegion": false,
    });
    if let Some(date) = key.deletion_date {
        metadata["DeletionDate"] = json!(epoch_seconds(date));
    }
    metadata
}

/// Refuses a setting Coffer's keys cannot have (a parameter given with another value than
/// the one every key has), rather than ignore it.
fn only(call: &Call<'_>, name: &str, allowed: &str) -> Result<(), KmsError> {
    match call.string(name)? {
        Some(value) if value != allowed => Err(KmsError::Unsupported(format!(
            "{name} {value} is not supported: Coffer's keys are {allowed}"
        ))),
        _ => Ok(()),
    }
}

async fn create_key(call: &Call<'_>) -> Result<Value, KmsError> {
    call.authorize("kms:CreateKey", "*", call.account())?;
    only(call, "KeyUsage", "ENCRYPT_DECRYPT")?;
    only(call, "KeySpec", "SYMMETRIC_DEFAULT")?;
    only(call, "CustomerMasterKeySpec", "SYMMETRIC_DEFAULT")?;
    only(call, "Origin", "AWS_KMS")?;
    for unsupported in ["Policy", "CustomKeyStoreId", "XksKeyId"] {
        if call.string(unsupported)?.is_some() {
            return Err(KmsError::Unsupported(format!(
                "{unsupported} is not supported: Coffer's keys follow KMS's default key policy (the account's IAM policies decide)"
            )));
        }
    }
    if call
        .input
        .get("Tags")
        .and_then(Value::as_array)
        .is_some_and(|tags| !tags.is_empty())
    {
        return Err(KmsError::Unsupported(
            "Tags on keys are not supported by Coffer".to_owned(),
        ));
    }
    if call.input.get("MultiRegion").and_then(Value::as_bool) == Some(true) {
        return Err(KmsError::Unsupported(
            "Multi-Region keys are not supported by Coffer".to_owned(),
        ));
    }
    let description = call.string("Description")?.unwrap_or("");
    if description.chars().count() > 8192 {
        return Err(KmsError::Validation(
            "Description must have length less than or equal to 8192".to_owned(),
        ));
    }
    let key = call
        .store
        .create_kms_key(call.account(), &call.region, description)
        .await?;
    Ok(json!({ "KeyMetadata": metadata(&key) }))
}

/// The key `KeyId` names (an id, ARN, alias or alias ARN). `alias/aws/s3` is made on first
/// use, as S3's AWS managed key is.
async fn named_key(call: &Call<'_>) -> Result<KmsKey, KmsError> {
    let reference = call.required("KeyId")?;
    if reference == format!("alias/{AWS_MANAGED_S3}") {
        return Ok(call.store.aws_managed_s3_key(call.account(), &call.region).await?);
    }
    call.store
        .kms_key(call.account(), reference)
        .await?
        .ok_or_else(|| KmsError::NotFound(format!("Invalid keyId {reference}")))
}

async fn describe_key(call: &Call<'_>) -> Result<Value, KmsError> {
    let key = named_key(call).await?;
    call.authorize("kms:DescribeKey", &key.arn(), &key.account_id)?;
    Ok(json!({ "KeyMetadata": metadata(&key) }))
}

/// `Limit` (1–1000, default 100) and `Marker` of a listing.
fn page<'c>(call: &'c Call<'_>) -> Result<(i64, Option<&'c str>), KmsError> {
    let limit = call.integer("Limit")?.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(KmsError::Validation("Limit must be between 1 and 1000".to_owned()));
    }
    Ok((limit, call.string("Marker")?))
}

async fn list_keys(call: &Call<'_>) -> Result<Value, KmsError> {
    call.authorize("kms:ListKeys", "*", call.account())?;
    let (limit, marker) = page(call)?;
    let mut keys = call.store.list_kms_keys(call.account(), marker, limit + 1).await?;
    let truncated = keys.len() as i64 > limit;
    keys.truncate(limit as usize);
    let mut answer = json!({
        "Keys": keys.iter().map(|k| json!({"KeyId": k.key_id, "KeyArn": k.arn()})).collect::<Vec<_>>(),
        "Truncated": truncated,
    });
    if truncated && let Some(last) = keys.last() {
        answer["NextMarker"] = json!(last.key_id);
    }
    Ok(answer)
}

/// A customer managed key the caller may change with `action`: AWS managed keys are S3's.
async fn own_key(call: &Call<'_>, action: &str) -> Result<KmsKey, KmsError> {
    let key = named_key(call).await?;
    call.authorize(action, &key.arn(), &key.account_id)?;
    if key.managed.is_some() {
        return Err(KmsError::Unsupported(format!(
            "{} is an AWS managed key: it cannot be changed",
            key.arn()
        )));
    }
    Ok(key)
}

async fn set_enabled(call: &Call<'_>, enabled: bool) -> Result<Value, KmsError> {
    let action = if enabled { "kms:EnableKey" } else { "kms:DisableKey" };
    let key = own_key(call, action).await?;
    if key.state == KmsKeyState::PendingDeletion {
        return Err(KmsError::InvalidState(format!("{} is pending deletion.", key.arn())));
    }
    let state = if enabled {
        KmsKeyState::Enabled
    } else {
        KmsKeyState::Disabled
    };
    call.store
        .set_kms_key_state(
            &key.account_id,
            &key.key_id,
            &[KmsKeyState::Enabled, KmsKeyState::Disabled],
            state,
            None,
        )
        .await?;
    Ok(json!({}))
}

async fn schedule_key_deletion(call: &Call<'_>) -> Result<Value, KmsError> {
    let key = own_key(call, "kms:ScheduleKeyDeletion").await?;
    let days = call.integer("PendingWindowInDays")?.unwrap_or(30);
    if !(7..=30).contains(&days) {
        return Err(KmsError::Validation(
            "PendingWindowInDays must be between 7 and 30".to_owned(),
        ));
    }
    if key.state == KmsKeyState::PendingDeletion {
        return Err(KmsError::InvalidState(format!("{} is pending deletion.", key.arn())));
    }
    let date = OffsetDateTime::now_utc() + time::Duration::days(days);
    call.store
        .set_kms_key_state(
            &key.account_id,
            &key.key_id,
            &[KmsKeyState::Enabled, KmsKeyState::Disabled],
            KmsKeyState::PendingDeletion,
            Some(date),
        )
        .await?;
    Ok(json!({
        "KeyId": key.arn(),
        "DeletionDate": epoch_seconds(date),
        "KeyState": "PendingDeletion",
        "PendingWindowInDays": days,
    }))
}

async fn cancel_key_deletion(call: &Call<'_>) -> Result<Value, KmsError> {
    let key = own_key(call, "kms:CancelKeyDeletion").await?;
    if key.state != KmsKeyState::PendingDeletion {
        return Err(KmsError::InvalidState(format!(
            "{} is not pending deletion.",
            key.arn()
        )));
    }
    // A key whose deletion is cancelled comes back disabled, as in KMS.
    call.store
        .set_kms_key_state(
            &key.account_id,
            &key.key_id,
            &[KmsKeyState::PendingDeletion],
            KmsKeyState::Disabled,
            None,
        )
        .await?;
    Ok(json!({ "KeyId": key.arn() }))
}

/// An alias name a caller may create: `alias/` then letters, digits, `/_-`, at most 256
/// characters, and not under `alias/aws/` (AWS's own).
fn check_alias_name(name: &str) -> Result<(), KmsError> {
    let rest = name
        .strip_prefix("alias/")
        .ok_or_else(|| KmsError::Validation("Alias must start with the prefix \"alias/\"".to_owned()))?;
    let valid = !rest.is_empty()
        && name.len() <= 256
        && rest
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '/' | '_' | '-'));
    if !valid {
        return Err(KmsError::Validation(format!(
            "Alias {name} must satisfy regular expression pattern: ^alias/[a-zA-Z0-9/_-]+$"
        )));
    }
    if rest.starts_with("aws/") {
        return Err(KmsError::InvalidAliasName(format!(
            "Alias {name} cannot begin with alias/aws/: those are AWS's"
        )));
    }
    Ok(())
}

fn alias_arn(call: &Call<'_>, name: &str) -> String {
    format!("arn:aws:kms:{}:{}:{name}", call.region, call.account())
}

async fn create_alias(call: &Call<'_>) -> Result<Value, KmsError> {
    let name = call.required("AliasName")?;
    check_alias_name(name)?;
    let target = call.required("TargetKeyId")?;
    if target.starts_with("alias/") || target.contains(":alias/") {
        return Err(KmsError::Validation(
            "TargetKeyId must be a key id or key ARN, not an alias".to_owned(),
        ));
    }
    let key = call
        .store
        .kms_key(call.account(), target)
        .await?
        .filter(|key| key.account_id == call.account())
        .ok_or_else(|| KmsError::NotFound(format!("Invalid keyId {target}")))?;
    call.authorize("kms:CreateAlias", &alias_arn(call, name), call.account())?;
    call.authorize("kms:CreateAlias", &key.arn(), &key.account_id)?;
    if key.managed.is_some() {
        return Err(KmsError::Unsupported(format!("{} is an AWS managed key", key.arn())));
    }
    if key.state == KmsKeyState::PendingDeletion {
        return Err(KmsError::InvalidState(format!("{} is pending deletion.", key.arn())));
    }
    call.store.create_kms_alias(call.account(), name, &key.key_id).await?;
    Ok(json!({}))
}

async fn delete_alias(call: &Call<'_>) -> Result<Value, KmsError> {
    let name = call.required("AliasName")?;
    if !name.starts_with("alias/") {
        return Err(KmsError::Validation(
            "Alias must start with the prefix \"alias/\"".to_owned(),
        ));
    }
    let key = call
        .store
        .kms_key(call.account(), name)
        .await?
        .ok_or_else(|| KmsError::NotFound(format!("Alias {} is not found.", alias_arn(call, name))))?;
    call.authorize("kms:DeleteAlias", &alias_arn(call, name), call.account())?;
    call.authorize("kms:DeleteAlias", &key.arn(), &key.account_id)?;
    if name == format!("alias/{AWS_MANAGED_S3}") {
        return Err(KmsError::InvalidAliasName(format!("{name} is AWS's")));
    }
    call.store.delete_kms_alias(call.account(), name).await?;
    Ok(json!({}))
}

async fn list_aliases(call: &Call<'_>) -> Result<Value, KmsError> {
    call.authorize("kms:ListAliases", "*", call.account())?;
    let (limit, marker) = page(call)?;
    let key_id = match call.string("KeyId")? {
        None => None,
        Some(reference) => Some(
            call.store
                .kms_key(call.account(), reference)
                .await?
                .ok_or_else(|| KmsError::NotFound(format!("Invalid keyId {reference}")))?
                .key_id,
        ),
    };
    let mut aliases: Vec<Value> = Vec::new();
    // S3's AWS managed key goes by `alias/aws/s3` once made.
    if let Some(managed) = call
        .store
        .kms_key(call.account(), &format!("alias/{AWS_MANAGED_S3}"))
        .await?
        && key_id.as_ref().is_none_or(|id| *id == managed.key_id)
    {
        let name = format!("alias/{AWS_MANAGED_S3}");
        aliases.push(json!({
            "AliasName": name,
            "AliasArn": alias_arn(call, &name),
            "TargetKeyId": managed.key_id,
            "CreationDate": epoch_seconds(managed.created_at),
        }));
    }
    for alias in call.store.list_kms_aliases(call.account(), key_id.as_deref()).await? {
        aliases.push(json!({
            "AliasName": alias.name,
            "AliasArn": alias_arn(call, &alias.name),
            "TargetKeyId": alias.key_id,
            "CreationDate": epoch_seconds(alias.created_at),
        }));
    }
    aliases.sort_by(|a, b| a["AliasName"].as_str().cmp(&b["AliasName"].as_str()));
    let start = match marker {
        None => 0,
        Some(marker) => aliases
            .iter()
            .position(|a| a["AliasName"].as_str() == Some(marker))
            .map(|i| i + 1)
            .ok_or_else(|| KmsError::InvalidMarker("Invalid marker".to_owned()))?,
    };
    let rest: Vec<Value> = aliases.into_iter().skip(start).collect();
    let truncated = rest.len() as i64 > limit;
    let shown: Vec<Value> = rest.into_iter().take(limit as usize).collect();
    let mut answer = json!({ "Aliases": shown, "Truncated": truncated });
    if truncated && let Some(last) = shown.last() {
        answer["NextMarker"] = last["AliasName"].clone();
    }
    Ok(answer)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alias_names_follow_kms_rules() {
        assert!(check_alias_name("alias/app-data_1/x").is_ok());
        assert!(matches!(check_alias_name("app"), Err(KmsError::Validation(_))));
        assert!(matches!(check_alias_name("alias/"), Err(KmsError::Validation(_))));
        assert!(matches!(check_alias_name("alias/a b"), Err(KmsError::Validation(_))));
        assert!(matches!(
            check_alias_name("alias/aws/mine"),
            Err(KmsError::InvalidAliasName(_))
        ));
        assert!(matches!(
            check_alias_name(&format!("alias/{}", "a".repeat(251))),
            Err(KmsError::Validation(_))
        ));
    }
}
