//! IAM OpenID Connect providers: Create/Get/List/DeleteOpenIDConnectProvider, their client
//! ids and thumbprints, and their tags. A provider is named by its ARN,
//! `arn:aws:iam::<account>:oidc-provider/<issuer without https://>`.

use coffer_store::{OidcChange, OidcProvider, StoreError};

use crate::error::validation;
use crate::users::{tag_keys_param, tags_param, write_tag_page, write_tags};
use crate::xml::Xml;
use crate::{Call, IamError};

/// Audiences one provider may list, and thumbprints, as AWS's quotas.
const MAX_CLIENT_IDS: usize = 100;
const MAX_THUMBPRINTS: usize = 5;

fn no_such_provider(arn: &str) -> IamError {
    IamError::NoSuchEntity(format!("OpenIDConnect Provider not found for arn {arn}"))
}

fn provider_error(err: StoreError, arn: &str) -> IamError {
    match err {
        StoreError::NoSuchOidcProvider => no_such_provider(arn),
        StoreError::OidcProviderExists => IamError::EntityAlreadyExists(format!(
            "Provider with url {} already exists.",
            arn_url(arn).unwrap_or(arn)
        )),
        StoreError::TooManyOidcProviders => IamError::LimitExceeded(format!(
            "Cannot exceed quota for OpenIdConnectProvidersPerAccount: {}",
            coffer_store::MAX_OIDC_PROVIDERS
        )),
        StoreError::TooManyClientIds => IamError::LimitExceeded(format!(
            "Cannot exceed quota for ClientIdsPerOpenIdConnectProvider: {MAX_CLIENT_IDS}"
        )),
        StoreError::TooManyTags => {
            IamError::LimitExceeded("Cannot exceed quota for TagsPerOpenIdConnectProvider: 50".to_owned())
        }
        other => other.into(),
    }
}

/// The issuer part of a provider ARN of any account.
fn arn_url(arn: &str) -> Option<&str> {
    let rest = arn.strip_prefix("arn:aws:iam::")?;
    let (_, url) = rest.split_once(":oidc-provider/")?;
    (!url.is_empty()).then_some(url)
}

/// `OpenIDConnectProviderArn`, checked, and the issuer it names in the caller's account.
fn provider_arn<'a>(cx: &Call<'a>) -> Result<(&'a str, &'a str), IamError> {
    let arn = cx.params.require("OpenIDConnectProviderArn")?;
    if !(20..=2048).contains(&arn.len()) {
        return Err(validation(
            Some(arn),
            "openIDConnectProviderArn",
            "Member must have length between 20 and 2048",
        ));
    }
    let url = arn_url(arn).ok_or_else(|| IamError::InvalidInput(format!("ARN {arn} is not valid.")))?;
    Ok((arn, url))
}

/// Refuses a provider ARN of another account: there is no provider of that name here.
fn own(cx: &Call<'_>, arn: &str, url: &str) -> Result<(), IamError> {
    if arn == format!("arn:aws:iam::{}:oidc-provider/{url}", cx.account()) {
        Ok(())
    } else {
        Err(no_such_provider(arn))
    }
}

/// `ClientIDList.member.N` or `ThumbprintList.member.N`, checked.
fn list_param(
    cx: &Call<'_>,
    name: &str,
    field: &str,
    max: usize,
    check: fn(&str) -> bool,
    rule: &str,
) -> Result<Vec<String>, IamError> {
    let items: Vec<String> = cx.params.members(name).into_iter().map(str::to_owned).collect();
    if items.len() > max {
        return Err(IamError::LimitExceeded(format!(
            "Cannot exceed quota for {name}: {max}"
        )));
    }
    for (i, item) in items.iter().enumerate() {
        if !check(item) {
            return Err(validation(Some(item), &format!("{field}.{}.member", i + 1), rule));
        }
    }
    Ok(items)
}

fn client_id(value: &str) -> bool {
    (1..=255).contains(&value.chars().count())
}

fn thumbprint(value: &str) -> bool {
    value.len() == 40 && value.bytes().all(|b| b.is_ascii_hexdigit())
}

fn thumbprints_param(cx: &Call<'_>) -> Result<Vec<String>, IamError> {
    list_param(
        cx,
        "ThumbprintList",
        "thumbprintList",
        MAX_THUMBPRINTS,
        thumbprint,
        "Member must have length equal to 40 hexadecimal digits",
    )
}

/// The issuer of `Url`: `https://` and a host, kept without the scheme (and without a final
/// `/`), as IAM keeps it.
fn issuer(url: &str) -> Result<String, IamError> {
    if !(1..=255).contains(&url.len()) {
        return Err(validation(
            Some(url),
            "url",
            "Member must have length between 1 and 255",
        ));
    }
    let rest = url
        .strip_prefix("https://")
        .filter(|rest| !rest.is_empty() && !rest.starts_with('/') && !rest.contains(['?', '#', ' ']))
        .ok_or_else(|| {
            IamError::InvalidInput(format!(
                "Invalid OpenID Connect provider URL {url}: it must begin with https://"
            ))
        })?;
    Ok(rest.trim_end_matches('/').to_owned())
}

pub(crate) async fn create_open_id_connect_provider(cx: &Call<'_>) -> Result<Option<String>, IamError> {
    for unsupported in ["ContextProvider", "IdentityCenterInstanceArn"] {
        if cx.params.get(unsupported).is_some() || cx.params.get(&format!("{unsupported}.SubjectSourceKey")).is_some() {
            return Err(IamError::NotImplemented(format!(
                "CreateOpenIDConnectProvider with {unsupported}"
            )));
        }
    }
    let url = issuer(cx.params.require("Url")?)?;
    let client_ids = list_param(
        cx,
        "ClientIDList",
        "clientIDList",
        MAX_CLIENT_IDS,
        client_id,
        "Member must have length between 1 and 255",
    )?;
    let thumbprints = thumbprints_param(cx)?;
    let tags = tags_param(cx)?;
    let arn = format!("arn:aws:iam::{}:oidc-provider/{url}", cx.account());
    cx.authorize_tagging_with("iam:CreateOpenIDConnectProvider", &arn, Vec::new(), &tags)
        .await?;
    if !tags.is_empty() {
        cx.authorize_tagging("iam:TagOpenIDConnectProvider", &arn, &tags, &[])
            .await?;
    }
    let provider = cx
        .store
        .create_oidc_provider(cx.account(), &url, &client_ids, &thumbprints, &tags)
        .await
        .map_err(|e| provider_error(e, &arn))?;
    let mut xml = Xml::new();
    xml.elem("OpenIDConnectProviderArn", &provider.arn());
    if !tags.is_empty() {
        write_tags(&mut xml, &tags);
    }
    Ok(Some(xml.finish()))
}

/// Authorizes `action` on the provider the request names, and reads it.
async fn provider(cx: &Call<'_>, action: &str) -> Result<(OidcProvider, String), IamError> {
    let (arn, url) = provider_arn(cx)?;
    cx.authorize(action, arn).await?;
    own(cx, arn, url)?;
    let provider = cx
        .store
        .oidc_provider(cx.account(), url)
        .await
        .map_err(|e| provider_error(e, arn))?;
    Ok((provider, arn.to_owned()))
}

pub(crate) async fn get_open_id_connect_provider(cx: &Call<'_>) -> Result<Option<String>, IamError> {
    let (provider, arn) = provider(cx, "iam:GetOpenIDConnectProvider").await?;
    let tags = cx
        .store
        .list_oidc_provider_tags(cx.account(), &provider.url, None, 50)
        .await
        .map_err(|e| provider_error(e, &arn))?;
    let mut xml = Xml::new();
    xml.elem("Url", &provider.url);
    xml.with("ClientIDList", |x| {
        for id in &provider.client_ids {
            x.elem("member", id);
        }
    });
    xml.with("ThumbprintList", |x| {
        for thumbprint in &provider.thumbprints {
            x.elem("member", thumbprint);
        }
    });
    xml.date("CreateDate", provider.created_at);
    write_tags(&mut xml, &tags.items);
    Ok(Some(xml.finish()))
}

pub(crate) async fn list_open_id_connect_providers(cx: &Call<'_>) -> Result<Option<String>, IamError> {
    cx.authorize(
        "iam:ListOpenIDConnectProviders",
        &format!("arn:aws:iam::{}:oidc-provider/*", cx.account()),
    )
    .await?;
    let providers = cx.store.list_oidc_providers(cx.account()).await?;
    let mut xml = Xml::new();
    xml.with("OpenIDConnectProviderList", |x| {
        for provider in &providers {
            x.with("member", |m| {
                m.elem("Arn", &provider.arn());
            });
        }
    });
    Ok(Some(xml.finish()))
}

pub(crate) async fn delete_open_id_connect_provider(cx: &Call<'_>) -> Result<Option<String>, IamError> {
    let (provider, arn) = provider(cx, "iam:DeleteOpenIDConnectProvider").await?;
    cx.store
        .delete_oidc_provider(cx.account(), &provider.url)
        .await
        .map_err(|e| provider_error(e, &arn))?;
    Ok(None)
}

async fn change(cx: &Call<'_>, action: &str, change: OidcChange<'_>) -> Result<Option<String>, IamError> {
    let (provider, arn) = provider(cx, action).await?;
    cx.store
        .change_oidc_provider(cx.account(), &provider.url, change, MAX_CLIENT_IDS)
        .await
        .map_err(|e| provider_error(e, &arn))?;
    Ok(None)
}

fn client_id_param<'a>(cx: &Call<'a>) -> Result<&'a str, IamError> {
    let id = cx.params.require("ClientID")?;
    if client_id(id) {
        Ok(id)
    } else {
        Err(validation(
            Some(id),
            "clientID",
            "Member must have length between 1 and 255",
        ))
    }
}

pub(crate) async fn add_client_id_to_open_id_connect_provider(cx: &Call<'_>) -> Result<Option<String>, IamError> {
    let id = client_id_param(cx)?;
    change(
        cx,
        "iam:AddClientIDToOpenIDConnectProvider",
        OidcChange::AddClientId(id),
    )
    .await
}

pub(crate) async fn remove_client_id_from_open_id_connect_provider(cx: &Call<'_>) -> Result<Option<String>, IamError> {
    let id = client_id_param(cx)?;
    change(
        cx,
        "iam:RemoveClientIDFromOpenIDConnectProvider",
        OidcChange::RemoveClientId(id),
    )
    .await
}

pub(crate) async fn update_open_id_connect_provider_thumbprint(cx: &Call<'_>) -> Result<Option<String>, IamError> {
    let thumbprints = thumbprints_param(cx)?;
    change(
        cx,
        "iam:UpdateOpenIDConnectProviderThumbprint",
        OidcChange::Thumbprints(&thumbprints),
    )
    .await
}

pub(crate) async fn tag_open_id_connect_provider(cx: &Call<'_>) -> Result<Option<String>, IamError> {
    let tags = tags_param(cx)?;
    if tags.is_empty() {
        return Err(validation(None, "tags", "Member must not be null"));
    }
    let (arn, url) = provider_arn(cx)?;
    cx.authorize_tagging("iam:TagOpenIDConnectProvider", arn, &tags, &[])
        .await?;
    own(cx, arn, url)?;
    cx.store
        .tag_oidc_provider(cx.account(), url, &tags)
        .await
        .map_err(|e| provider_error(e, arn))?;
    Ok(None)
}

pub(crate) async fn untag_open_id_connect_provider(cx: &Call<'_>) -> Result<Option<String>, IamError> {
    let keys = tag_keys_param(cx)?;
    let (arn, url) = provider_arn(cx)?;
    let removed: Vec<&str> = keys.iter().map(String::as_str).collect();
    cx.authorize_tagging("iam:UntagOpenIDConnectProvider", arn, &[], &removed)
        .await?;
    own(cx, arn, url)?;
    cx.store
        .untag_oidc_provider(cx.account(), url, &keys)
        .await
        .map_err(|e| provider_error(e, arn))?;
    Ok(None)
}

pub(crate) async fn list_open_id_connect_provider_tags(cx: &Call<'_>) -> Result<Option<String>, IamError> {
    let marker = cx.params.marker()?;
    let max_items = cx.params.max_items()?;
    let (provider, arn) = provider(cx, "iam:ListOpenIDConnectProviderTags").await?;
    let page = cx
        .store
        .list_oidc_provider_tags(cx.account(), &provider.url, marker, max_items)
        .await
        .map_err(|e| provider_error(e, &arn))?;
    Ok(Some(write_tag_page(&page)))
}
