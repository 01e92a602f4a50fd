//! Access keys: CreateAccessKey, ListAccessKeys, UpdateAccessKey, DeleteAccessKey,
//! GetAccessKeyLastUsed. Without `UserName`, an operation addresses the caller's own keys,
//! the root user's included, as IAM does.

use coffer_auth::Identity;
use coffer_store::{AccessKey, KeyOwnerName, KeyStatus, StoreError};

use crate::users::{no_such_user, user_and_arn};
use crate::xml::Xml;
use crate::{Call, IamError, validate};

/// Whose keys, and the ARN authorization names for them.
async fn owner<'a>(cx: &'a Call<'_>) -> Result<(KeyOwnerName<'a>, String), IamError> {
    match (cx.params.get("UserName"), &cx.caller.identity) {
        (Some(name), _) => {
            validate::existing_user_name(name, "userName")?;
            let (_, arn) = user_and_arn(cx, name).await?;
            Ok((KeyOwnerName::User(name), arn))
        }
        (None, Identity::User { name, .. }) => Ok((KeyOwnerName::User(name), cx.caller.arn())),
        (None, Identity::Root) => Ok((KeyOwnerName::Root, cx.caller.arn())),
        (None, Identity::AssumedRole { .. } | Identity::FederatedUser { .. }) => {
            Err(crate::users::user_name_required())
        }
    }
}

fn key_error(err: StoreError, owner: KeyOwnerName<'_>, key_id: &str) -> IamError {
    match (err, owner) {
        (StoreError::NoSuchUser, KeyOwnerName::User(name)) => no_such_user(name),
        (StoreError::NoSuchAccessKey, _) => {
            IamError::NoSuchEntity(format!("The Access Key with id {key_id} cannot be found."))
        }
        (StoreError::TooManyAccessKeys, _) => {
            IamError::LimitExceeded("Cannot exceed quota for AccessKeysPerUser: 2".to_owned())
        }
        (other, _) => other.into(),
    }
}

fn write_key_metadata(xml: &mut Xml, key: &AccessKey) {
    xml.elem_opt("UserName", key.user_name.as_deref())
        .elem("AccessKeyId", &key.access_key_id)
        .elem("Status", key.status.as_str())
        .date("CreateDate", key.created_at);
}

fn status_param(cx: &Call<'_>) -> Result<KeyStatus, IamError> {
    let status = cx.params.require("Status")?;
    KeyStatus::parse(status).ok_or_else(|| {
        crate::error::validation(
            Some(status),
            "status",
            "Member must satisfy enum value set: [Active, Inactive]",
        )
    })
}

pub(crate) async fn create_access_key(cx: &Call<'_>) -> Result<Option<String>, IamError> {
    let (owner, arn) = owner(cx).await?;
    cx.authorize("iam:CreateAccessKey", &arn).await?;
    let created = cx
        .store
        .create_access_key(cx.account(), owner)
        .await
        .map_err(|e| key_error(e, owner, ""))?;
    let mut xml = Xml::new();
    xml.with("AccessKey", |x| {
        x.elem_opt("UserName", created.key.user_name.as_deref())
            .elem("AccessKeyId", &created.key.access_key_id)
            .elem("Status", created.key.status.as_str())
            .elem("SecretAccessKey", &created.secret_access_key)
            .date("CreateDate", created.key.created_at);
    });
    Ok(Some(xml.finish()))
}

pub(crate) async fn list_access_keys(cx: &Call<'_>) -> Result<Option<String>, IamError> {
    let (owner, arn) = owner(cx).await?;
    cx.params.marker()?;
    cx.params.max_items()?;
    cx.authorize("iam:ListAccessKeys", &arn).await?;
    // At most two keys per owner: one page always holds them all.
    let keys = cx
        .store
        .list_access_keys(cx.account(), owner)
        .await
        .map_err(|e| key_error(e, owner, ""))?;
    let mut xml = Xml::new();
    if let KeyOwnerName::User(_) = owner {
        let name = keys.first().and_then(|k| k.user_name.clone());
        xml.elem_opt("UserName", name.as_deref());
    }
    xml.with("AccessKeyMetadata", |x| {
        for key in &keys {
            x.with("member", |m| write_key_metadata(m, key));
        }
    });
    xml.elem("IsTruncated", "false");
    Ok(Some(xml.finish()))
}

pub(crate) async fn update_access_key(cx: &Call<'_>) -> Result<Option<String>, IamError> {
    let key_id = cx.params.require("AccessKeyId")?;
    validate::access_key_id(key_id)?;
    let status = status_param(cx)?;
    let (owner, arn) = owner(cx).await?;
    cx.authorize("iam:UpdateAccessKey", &arn).await?;
    cx.store
        .update_access_key(cx.account(), owner, key_id, status)
        .await
        .map_err(|e| key_error(e, owner, key_id))?;
    Ok(None)
}

pub(crate) async fn delete_access_key(cx: &Call<'_>) -> Result<Option<String>, IamError> {
    let key_id = cx.params.require("AccessKeyId")?;
    validate::access_key_id(key_id)?;
    let (owner, arn) = owner(cx).await?;
    cx.authorize("iam:DeleteAccessKey", &arn).await?;
    cx.store
        .delete_access_key(cx.account(), owner, key_id)
        .await
        .map_err(|e| key_error(e, owner, key_id))?;
    Ok(None)
}

pub(crate) async fn get_access_key_last_used(cx: &Call<'_>) -> Result<Option<String>, IamError> {
    let key_id = cx.params.require("AccessKeyId")?;
    validate::access_key_id(key_id)?;
    let found = cx.store.access_key_last_used(cx.account(), key_id).await;
    let arn = match &found {
        Ok((key, _)) => match &key.user_name {
            Some(name) => user_and_arn(cx, name).await?.1,
            None => format!("arn:aws:iam::{}:root", cx.account()),
        },
        Err(_) => format!("arn:aws:iam::{}:user/*", cx.account()),
    };
    cx.authorize("iam:GetAccessKeyLastUsed", &arn).await?;
    let (key, last_used) = found.map_err(|e| key_error(e, KeyOwnerName::Root, key_id))?;
    let mut xml = Xml::new();
    xml.elem_opt("UserName", key.user_name.as_deref());
    xml.with("AccessKeyLastUsed", |x| match &last_used {
        Some(used) => {
            x.date("LastUsedDate", used.at)
                .elem("ServiceName", &used.service)
                .elem("Region", &used.region);
        }
        None => {
            x.elem("ServiceName", "N/A").elem("Region", "N/A");
        }
    });
    Ok(Some(xml.finish()))
}
