//! A bucket's Permissions tab (Block Public Access, Object Ownership, its ACL, CORS rules) and
//! Properties tab (tags, default encryption). Each section reads with the S3 operation that
//! reads it and saves with the one that writes it, sent as the signed-in principal, so a
//! setting the API refuses is refused here with the API's words.

use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use http::Method;
use serde::Deserialize;

use crate::Console;
use crate::buckets::s3_failed;
use crate::page::{Chrome, Signed, render};
use crate::s3::{Failure, encode};

/// One grant of an ACL, as shown.
pub struct GrantRow {
    pub grantee: String,
    pub permission: String,
}

#[derive(Template)]
#[template(path = "bucket_permissions.html")]
struct PermissionsPage<'a> {
    chrome: Option<Chrome>,
    csrf: &'a str,
    bucket: &'a str,
    /// BlockPublicAcls, IgnorePublicAcls, BlockPublicPolicy, RestrictPublicBuckets.
    block: [(&'static str, &'static str, bool); 4],
    ownership: String,
    grants: Vec<GrantRow>,
    cors: String,
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "bucket_properties.html")]
struct PropertiesPage<'a> {
    chrome: Option<Chrome>,
    csrf: &'a str,
    bucket: &'a str,
    /// `key=value` lines.
    tags: String,
    /// `AES256`, `aws:kms` or empty (none).
    algorithm: String,
    kms_key: String,
    bucket_key: bool,
    error: Option<String>,
}

/// GETs `?<sub>` of `bucket`: the answer's text, `None` when S3 says there is none
/// (`missing`), or the failure.
async fn read(
    console: &Console,
    signed: &Signed,
    bucket: &str,
    sub: &str,
    missing: &str,
) -> Result<Option<String>, Failure> {
    let path = format!("/{}?{sub}", encode(bucket, false));
    match console
        .s3(signed, Method::GET, &path, &[], coffer_s3::Body::empty())
        .await
        .ok()
        .await
    {
        Ok(reply) => Ok(Some(reply.text().await)),
        Err(failure) if failure.code == missing => Ok(None),
        Err(failure) => Err(failure),
    }
}

/// The text of the first element named `name` in `xml`.
fn element(xml: &str, name: &str) -> Option<String> {
    let doc = roxmltree::Document::parse(xml).ok()?;
    doc.descendants()
        .find(|n| n.has_tag_name(name))
        .and_then(|n| n.text())
        .map(str::to_owned)
}

fn grants(xml: &str) -> Vec<GrantRow> {
    let Ok(doc) = roxmltree::Document::parse(xml) else {
        return Vec::new();
    };
    doc.descendants()
        .filter(|n| n.has_tag_name("Grant"))
        .map(|grant| {
            let child = |parent: roxmltree::Node<'_, '_>, name: &str| {
                parent
                    .descendants()
                    .find(|n| n.has_tag_name(name))
                    .and_then(|n| n.text())
                    .map(str::to_owned)
            };
            let grantee = grant.descendants().find(|n| n.has_tag_name("Grantee"));
            let who = grantee
                .and_then(|g| child(g, "URI").map(|uri| uri.rsplit('/').next().unwrap_or(&uri).to_owned()))
                .or_else(|| grantee.and_then(|g| child(g, "DisplayName")))
                .or_else(|| grantee.and_then(|g| child(g, "ID")))
                .unwrap_or_default();
            GrantRow {
                grantee: who,
                permission: child(grant, "Permission").unwrap_or_default(),
            }
        })
        .collect()
}

const BLOCK_SETTINGS: [(&str, &str); 4] = [
    ("BlockPublicAcls", "Block public access granted through new ACLs"),
    ("IgnorePublicAcls", "Ignore public access granted through any ACL"),
    (
        "BlockPublicPolicy",
        "Block public access granted through new bucket policies",
    ),
    (
        "RestrictPublicBuckets",
        "Restrict access to a bucket with a public policy",
    ),
];

async fn permissions_page(console: &Console, signed: &Signed, bucket: &str, error: Option<String>) -> Response {
    let block = match read(
        console,
        signed,
        bucket,
        "publicAccessBlock",
        "NoSuchPublicAccessBlockConfiguration",
    )
    .await
    {
        Ok(xml) => xml.unwrap_or_default(),
        Err(failure) => return s3_failed(signed, "s3:GetBucketPublicAccessBlock", &failure),
    };
    let ownership = match read(
        console,
        signed,
        bucket,
        "ownershipControls",
        "OwnershipControlsNotFoundError",
    )
    .await
    {
        // Without controls a bucket's objects are their writers' (ObjectWriter).
        Ok(xml) => xml
            .and_then(|xml| element(&xml, "ObjectOwnership"))
            .unwrap_or_else(|| "ObjectWriter".to_owned()),
        Err(failure) => return s3_failed(signed, "s3:GetBucketOwnershipControls", &failure),
    };
    let acl = match read(console, signed, bucket, "acl", "").await {
        Ok(xml) => xml.unwrap_or_default(),
        Err(failure) => return s3_failed(signed, "s3:GetBucketAcl", &failure),
    };
    let cors = match read(console, signed, bucket, "cors", "NoSuchCORSConfiguration").await {
        Ok(xml) => xml.unwrap_or_default(),
        Err(failure) => return s3_failed(signed, "s3:GetBucketCORS", &failure),
    };
    let setting = |name: &str| element(&block, name).is_some_and(|v| v == "true");
    let block = BLOCK_SETTINGS.map(|(name, words)| (name, words, setting(name)));
    render(&PermissionsPage {
        chrome: Some(signed.chrome()),
        csrf: &signed.session.csrf,
        bucket,
        block,
        ownership,
        grants: grants(&acl),
        cors,
        error,
    })
}

pub async fn permissions(State(console): State<Console>, signed: Signed, Path(bucket): Path<String>) -> Response {
    permissions_page(&console, &signed, &bucket, None).await
}

#[derive(Deserialize)]
pub struct PermissionsChange {
    csrf: String,
    section: String,
    #[serde(default, rename = "BlockPublicAcls")]
    block_public_acls: Option<String>,
    #[serde(default, rename = "IgnorePublicAcls")]
    ignore_public_acls: Option<String>,
    #[serde(default, rename = "BlockPublicPolicy")]
    block_public_policy: Option<String>,
    #[serde(default, rename = "RestrictPublicBuckets")]
    restrict_public_buckets: Option<String>,
    #[serde(default)]
    ownership: String,
    #[serde(default)]
    acl: String,
    #[serde(default)]
    cors: String,
}

/// Sends one change: `method` on `?<sub>` with `headers` and `body`.
async fn change(
    console: &Console,
    signed: &Signed,
    bucket: &str,
    (method, sub): (Method, &str),
    headers: &[(&str, String)],
    body: String,
) -> Result<(), Failure> {
    let path = format!("/{}?{sub}", encode(bucket, false));
    console
        .s3(signed, method, &path, headers, coffer_s3::Body::from(body))
        .await
        .ok()
        .await
        .map(|_| ())
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

pub async fn save_permissions(
    State(console): State<Console>,
    signed: Signed,
    Path(bucket): Path<String>,
    Form(form): Form<PermissionsChange>,
) -> Response {
    if let Some(refused) = signed.refuse_forged(&form.csrf) {
        return refused;
    }
    let (action, done, result) = match form.section.as_str() {
        "block" => {
            let flag = |v: &Option<String>| if v.is_some() { "true" } else { "false" };
            let body = format!(
                "<PublicAccessBlockConfiguration><BlockPublicAcls>{}</BlockPublicAcls><IgnorePublicAcls>{}</IgnorePublicAcls>\
                 <BlockPublicPolicy>{}</BlockPublicPolicy><RestrictPublicBuckets>{}</RestrictPublicBuckets></PublicAccessBlockConfiguration>",
                flag(&form.block_public_acls),
                flag(&form.ignore_public_acls),
                flag(&form.block_public_policy),
                flag(&form.restrict_public_buckets)
            );
            let sent = change(
                &console,
                &signed,
                &bucket,
                (Method::PUT, "publicAccessBlock"),
                &[],
                body,
            )
            .await;
            ("s3:PutBucketPublicAccessBlock", "Block Public Access saved.", sent)
        }
        "ownership" => {
            let body = format!(
                "<OwnershipControls><Rule><ObjectOwnership>{}</ObjectOwnership></Rule></OwnershipControls>",
                escape(&form.ownership)
            );
            let sent = change(
                &console,
                &signed,
                &bucket,
                (Method::PUT, "ownershipControls"),
                &[],
                body,
            )
            .await;
            ("s3:PutBucketOwnershipControls", "Object Ownership saved.", sent)
        }
        "acl" => {
            let sent = change(
                &console,
                &signed,
                &bucket,
                (Method::PUT, "acl"),
                &[("x-amz-acl", form.acl.clone())],
                String::new(),
            )
            .await;
            ("s3:PutBucketAcl", "Bucket ACL saved.", sent)
        }
        "cors" if form.cors.trim().is_empty() => {
            let sent = change(&console, &signed, &bucket, (Method::DELETE, "cors"), &[], String::new()).await;
            ("s3:PutBucketCORS", "CORS rules deleted.", sent)
        }
        "cors" => {
            let sent = change(
                &console,
                &signed,
                &bucket,
                (Method::PUT, "cors"),
                &[],
                form.cors.clone(),
            )
            .await;
            ("s3:PutBucketCORS", "CORS rules saved.", sent)
        }
        _ => return crate::page::plain_text(http::StatusCode::BAD_REQUEST, "Unknown section."),
    };
    settled(
        &console,
        &signed,
        &bucket,
        "permissions",
        action,
        done,
        result,
        |error| Box::pin(permissions_page(&console, &signed, &bucket, Some(error))),
    )
    .await
}

/// After a change: back to the tab with a notice, the denied page for an IAM denial, or the
/// tab again with the API's words.
#[allow(clippy::too_many_arguments)]
async fn settled<'a>(
    console: &'a Console,
    signed: &'a Signed,
    bucket: &str,
    tab: &str,
    action: &str,
    done: &str,
    result: Result<(), Failure>,
    again: impl FnOnce(String) -> std::pin::Pin<Box<dyn std::future::Future<Output = Response> + Send + 'a>>,
) -> Response {
    match result {
        Ok(()) => {
            signed.notify(console, done).await;
            Redirect::to(&format!("/s3/buckets/{}/{tab}", encode(bucket, false))).into_response()
        }
        Err(failure) if failure.code == "AccessDenied" && failure.message.contains("is not authorized to perform") => {
            s3_failed(signed, action, &failure)
        }
        Err(failure) => {
            let status = failure.status;
            let mut response = again(format!("{}: {}", failure.code, failure.message)).await;
            *response.status_mut() = status;
            response
        }
    }
}

async fn properties_page(console: &Console, signed: &Signed, bucket: &str, error: Option<String>) -> Response {
    let tags = match read(console, signed, bucket, "tagging", "NoSuchTagSet").await {
        Ok(xml) => xml.unwrap_or_default(),
        Err(failure) => return s3_failed(signed, "s3:GetBucketTagging", &failure),
    };
    let encryption = match read(
        console,
        signed,
        bucket,
        "encryption",
        "ServerSideEncryptionConfigurationNotFoundError",
    )
    .await
    {
        Ok(xml) => xml.unwrap_or_default(),
        Err(failure) => return s3_failed(signed, "s3:GetEncryptionConfiguration", &failure),
    };
    render(&PropertiesPage {
        chrome: Some(signed.chrome()),
        csrf: &signed.session.csrf,
        bucket,
        tags: crate::objects::tag_lines(&tags),
        algorithm: element(&encryption, "SSEAlgorithm").unwrap_or_default(),
        kms_key: element(&encryption, "KMSMasterKeyID").unwrap_or_default(),
        bucket_key: element(&encryption, "BucketKeyEnabled").is_some_and(|v| v == "true"),
        error,
    })
}

pub async fn properties(State(console): State<Console>, signed: Signed, Path(bucket): Path<String>) -> Response {
    properties_page(&console, &signed, &bucket, None).await
}

#[derive(Deserialize)]
pub struct PropertiesChange {
    csrf: String,
    section: String,
    #[serde(default)]
    tags: String,
    #[serde(default)]
    algorithm: String,
    #[serde(default)]
    kms_key: String,
    #[serde(default)]
    bucket_key: Option<String>,
}

/// `key=value` lines as a Tagging document (`Err`: a line without `=`).
pub fn tagging_document(lines: &str) -> Result<String, String> {
    let mut tags = String::new();
    for line in lines.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let (key, value) = line
            .split_once('=')
            .ok_or_else(|| format!("Write each tag as key=value: \"{line}\" has no \"=\"."))?;
        tags.push_str(&format!(
            "<Tag><Key>{}</Key><Value>{}</Value></Tag>",
            escape(key.trim()),
            escape(value.trim())
        ));
    }
    Ok(format!("<Tagging><TagSet>{tags}</TagSet></Tagging>"))
}

pub async fn save_properties(
    State(console): State<Console>,
    signed: Signed,
    Path(bucket): Path<String>,
    Form(form): Form<PropertiesChange>,
) -> Response {
    if let Some(refused) = signed.refuse_forged(&form.csrf) {
        return refused;
    }
    let (action, done, result) = match form.section.as_str() {
        "tags" if form.tags.trim().is_empty() => {
            let sent = change(
                &console,
                &signed,
                &bucket,
                (Method::DELETE, "tagging"),
                &[],
                String::new(),
            )
            .await;
            ("s3:PutBucketTagging", "Bucket tags deleted.", sent)
        }
        "tags" => match tagging_document(&form.tags) {
            Ok(body) => {
                let sent = change(&console, &signed, &bucket, (Method::PUT, "tagging"), &[], body).await;
                ("s3:PutBucketTagging", "Bucket tags saved.", sent)
            }
            Err(why) => return properties_page(&console, &signed, &bucket, Some(why)).await,
        },
        "encryption" if form.algorithm.is_empty() => {
            let sent = change(
                &console,
                &signed,
                &bucket,
                (Method::DELETE, "encryption"),
                &[],
                String::new(),
            )
            .await;
            ("s3:PutEncryptionConfiguration", "Default encryption removed.", sent)
        }
        "encryption" => {
            let key = match form.kms_key.trim() {
                "" => String::new(),
                key => format!("<KMSMasterKeyID>{}</KMSMasterKeyID>", escape(key)),
            };
            let body = format!(
                "<ServerSideEncryptionConfiguration><Rule><ApplyServerSideEncryptionByDefault>\
                 <SSEAlgorithm>{}</SSEAlgorithm>{key}</ApplyServerSideEncryptionByDefault>\
                 <BucketKeyEnabled>{}</BucketKeyEnabled></Rule></ServerSideEncryptionConfiguration>",
                escape(&form.algorithm),
                form.bucket_key.is_some()
            );
            let sent = change(&console, &signed, &bucket, (Method::PUT, "encryption"), &[], body).await;
            ("s3:PutEncryptionConfiguration", "Default encryption saved.", sent)
        }
        _ => return crate::page::plain_text(http::StatusCode::BAD_REQUEST, "Unknown section."),
    };
    settled(
        &console,
        &signed,
        &bucket,
        "properties",
        action,
        done,
        result,
        |error| Box::pin(properties_page(&console, &signed, &bucket, Some(error))),
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_are_written_as_key_value_lines() {
        assert_eq!(
            tagging_document("team = web\n\nstage=prod&test").unwrap(),
            "<Tagging><TagSet><Tag><Key>team</Key><Value>web</Value></Tag><Tag><Key>stage</Key><Value>prod&amp;test</Value></Tag></TagSet></Tagging>"
        );
        assert!(tagging_document("no equals sign").is_err());
    }

    #[test]
    fn grants_name_groups_by_their_last_segment() {
        let acl = r#"<AccessControlPolicy><Owner><ID>abc</ID></Owner><AccessControlList>
            <Grant><Grantee><ID>abc</ID><DisplayName>owner</DisplayName></Grantee><Permission>FULL_CONTROL</Permission></Grant>
            <Grant><Grantee><URI>http://acs.amazonaws.com/groups/global/AllUsers</URI></Grantee><Permission>READ</Permission></Grant>
            </AccessControlList></AccessControlPolicy>"#;
        let rows = grants(acl);
        assert_eq!(rows[0].grantee, "owner");
        assert_eq!(rows[0].permission, "FULL_CONTROL");
        assert_eq!(rows[1].grantee, "AllUsers");
    }
}
