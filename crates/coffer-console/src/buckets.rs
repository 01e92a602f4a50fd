//! S3 → Buckets: the buckets table, the create-bucket form (the name checked as it is typed:
//! S3's naming rules, then whether the name is free), and a bucket's policy editor. Every
//! action is the S3 operation itself, sent as the signed-in principal.

use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use http::{Method, StatusCode};
use serde::Deserialize;

use crate::Console;
use crate::display::when;
use crate::page::{Chrome, Signed, render};
use crate::s3::{Failure, encode};

/// The regions the form offers (any name is accepted by the API).
pub const REGIONS: [&str; 8] = [
    "us-east-1",
    "us-east-2",
    "us-west-2",
    "eu-west-1",
    "eu-central-1",
    "ap-southeast-1",
    "ap-northeast-1",
    "sa-east-1",
];

/// The page for an S3 call that failed; a denial names the action.
pub fn s3_failed(signed: &Signed, action: &str, failure: &Failure) -> Response {
    crate::page::failed(signed, action, failure.status.as_u16(), &failure.code, &failure.message)
}

struct BucketRow {
    name: String,
    region: String,
    created: String,
}

#[derive(Template)]
#[template(path = "buckets.html")]
struct BucketsPage {
    chrome: Option<Chrome>,
    rows: Vec<BucketRow>,
}

pub async fn buckets(State(console): State<Console>, signed: Signed) -> Response {
    let listed = match console
        .s3(&signed, Method::GET, "/", &[], coffer_s3::Body::empty())
        .await
        .ok()
        .await
    {
        Ok(reply) => reply.results().await,
        Err(failure) => return s3_failed(&signed, "s3:ListAllMyBuckets", &failure),
    };
    let mut rows = Vec::new();
    for bucket in listed.elements("Bucket") {
        let name = bucket.get("Name").cloned().unwrap_or_default();
        let created = bucket.get("CreationDate").cloned().unwrap_or_default();
        let region = match console
            .s3(
                &signed,
                Method::GET,
                &format!("/{}?location", encode(&name, false)),
                &[],
                coffer_s3::Body::empty(),
            )
            .await
            .ok()
            .await
        {
            // An empty LocationConstraint is us-east-1, as S3 answers it.
            Ok(reply) => reply
                .results()
                .await
                .text("LocationConstraint")
                .filter(|region| !region.is_empty())
                .unwrap_or_else(|| "us-east-1".to_owned()),
            Err(_) => "—".to_owned(),
        };
        rows.push(BucketRow {
            name,
            region,
            created: when(&created),
        });
    }
    render(&BucketsPage {
        chrome: Some(signed.chrome()),
        rows,
    })
}

/// Why `name` is not a valid bucket name under S3's rules (general purpose buckets), if not.
/// Why a name is not free, from S3's HeadBucket status for it: yours (200), another
/// account's (403), or `None` when no bucket has it (404).
fn taken(head: StatusCode) -> Option<&'static str> {
    match head {
        StatusCode::NOT_FOUND => None,
        StatusCode::OK => Some("You already have a bucket with this name."),
        // S3 answers 403 for another account's bucket, and for one's own without
        // s3:ListBucket: HeadBucket cannot tell which.
        _ => Some(
            "A bucket with this name exists and you cannot open it: another account's (bucket names are shared by \
             every account on this Coffer), or yours without s3:ListBucket. Choose another name.",
        ),
    }
}

/// Whether `name` is among the caller's own buckets (ListBuckets).
async fn owns(console: &Console, signed: &Signed, name: &str) -> bool {
    match console
        .s3(signed, Method::GET, "/", &[], coffer_s3::Body::empty())
        .await
        .ok()
        .await
    {
        Ok(reply) => reply
            .results()
            .await
            .elements("Bucket")
            .iter()
            .any(|b| b.get("Name").is_some_and(|n| n == name)),
        Err(_) => false,
    }
}

/// S3's refusal of a CreateBucket, in words for the form, with the code as a detail.
fn create_failure_words(failure: &crate::s3::Failure) -> String {
    let words = match failure.code.as_str() {
        "BucketAlreadyExists" => "Another account has a bucket with this name. Bucket names are shared by every \
                                  account on this Coffer: choose another."
            .to_owned(),
        "BucketAlreadyOwnedByYou" => taken(StatusCode::OK).unwrap_or_default().to_owned(),
        "TooManyBuckets" => "This account has as many buckets as it may have. Delete one first.".to_owned(),
        _ => failure.message.clone(),
    };
    format!("{words} (Error code: {})", failure.code)
}

pub fn name_problem(name: &str) -> Option<&'static str> {
    let length = name.len();
    if !(3..=63).contains(&length) {
        return Some("Bucket names must be between 3 and 63 characters long.");
    }
    if !name
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-')
    {
        return Some("Bucket names can consist only of lowercase letters, numbers, dots (.), and hyphens (-).");
    }
    let ends = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    if !ends(name.as_bytes()[0]) || !ends(name.as_bytes()[length - 1]) {
        return Some("Bucket names must begin and end with a letter or number.");
    }
    if name.contains("..") {
        return Some("Bucket names must not contain two adjacent periods.");
    }
    if name.contains("-.") || name.contains(".-") {
        return Some("Each part of a bucket name between periods must begin and end with a letter or number.");
    }
    if name.parse::<std::net::Ipv4Addr>().is_ok() {
        return Some("Bucket names must not be formatted as an IP address.");
    }
    if name.starts_with("xn--")
        || name.starts_with("sthree-")
        || name.ends_with("-s3alias")
        || name.ends_with("--ol-s3")
    {
        return Some("Bucket names must not use a prefix or suffix reserved by S3.");
    }
    None
}

#[derive(Template)]
#[template(path = "bucket_new.html")]
struct NewBucketPage<'a> {
    chrome: Option<Chrome>,
    csrf: &'a str,
    name: &'a str,
    region: &'a str,
    regions: &'a [&'a str],
    error: Option<String>,
}

pub async fn new_bucket(signed: Signed) -> Response {
    render(&NewBucketPage {
        chrome: Some(signed.chrome()),
        csrf: &signed.session.csrf,
        name: "",
        region: "us-east-1",
        regions: &REGIONS,
        error: None,
    })
}

#[derive(Deserialize)]
pub struct NameCheck {
    #[serde(default)]
    name: String,
}

#[derive(Template)]
#[template(
    source = r#"<p class="{% if ok %}valid{% else %}error{% endif %}" role="status">{{ message }}</p>"#,
    ext = "html"
)]
struct NameVerdict {
    ok: bool,
    message: String,
}

/// The live check of a bucket name (an htmx fragment): the rules, then HeadBucket (404: free).
pub async fn check_name(State(console): State<Console>, signed: Signed, Form(form): Form<NameCheck>) -> Response {
    let name = form.name.trim();
    let verdict = match name_problem(name) {
        Some(problem) => NameVerdict {
            ok: false,
            message: problem.to_owned(),
        },
        None => {
            let head = console
                .s3(
                    &signed,
                    Method::HEAD,
                    &format!("/{}", encode(name, false)),
                    &[],
                    coffer_s3::Body::empty(),
                )
                .await;
            match taken(head.status) {
                None => NameVerdict {
                    ok: true,
                    message: "The name is available.".to_owned(),
                },
                Some(message) => NameVerdict {
                    ok: false,
                    message: message.to_owned(),
                },
            }
        }
    };
    render(&verdict)
}

#[derive(Deserialize)]
pub struct NewBucket {
    csrf: String,
    name: String,
    region: String,
}

pub async fn create_bucket(State(console): State<Console>, signed: Signed, Form(form): Form<NewBucket>) -> Response {
    if let Some(refused) = signed.refuse_forged(&form.csrf) {
        return refused;
    }
    let name = form.name.trim();
    let again = |error: String, status: StatusCode| {
        let mut response = render(&NewBucketPage {
            chrome: Some(signed.chrome()),
            csrf: &signed.session.csrf,
            name,
            region: &form.region,
            regions: &REGIONS,
            error: Some(error),
        });
        *response.status_mut() = status;
        response
    };
    if let Some(problem) = name_problem(name) {
        return again(problem.to_owned(), StatusCode::BAD_REQUEST);
    }
    if !REGIONS.contains(&form.region.as_str()) {
        return again("Choose a region from the list.".to_owned(), StatusCode::BAD_REQUEST);
    }
    let body = if form.region == "us-east-1" {
        coffer_s3::Body::empty()
    } else {
        coffer_s3::Body::from(format!(
            "<CreateBucketConfiguration><LocationConstraint>{}</LocationConstraint></CreateBucketConfiguration>",
            form.region
        ))
    };
    let path = format!("/{}", encode(name, false));
    // S3 in us-east-1 answers 200 to re-creating a bucket one owns: ask first, so that is
    // said rather than silently opening the old bucket.
    let head = console
        .s3(&signed, Method::HEAD, &path, &[], coffer_s3::Body::empty())
        .await;
    if head.status == StatusCode::OK || (head.status == StatusCode::FORBIDDEN && owns(&console, &signed, name).await) {
        let message = taken(StatusCode::OK).unwrap_or_default().to_owned();
        return again(message, StatusCode::CONFLICT);
    }
    let created = console.s3(&signed, Method::PUT, &path, &[], body).await.ok().await;
    match created {
        Ok(_) => {
            signed.notify(&console, format!("Bucket {name} created.")).await;
            Redirect::to(&format!("/s3/buckets/{}", encode(name, false))).into_response()
        }
        Err(failure) if failure.code == "AccessDenied" => s3_failed(&signed, "s3:CreateBucket", &failure),
        Err(failure) => again(create_failure_words(&failure), failure.status),
    }
}

#[derive(Template)]
#[template(path = "bucket_policy.html")]
struct PolicyPage<'a> {
    chrome: Option<Chrome>,
    csrf: &'a str,
    bucket: &'a str,
    document: String,
    exists: bool,
    error: Option<String>,
}

pub async fn bucket_policy(State(console): State<Console>, signed: Signed, Path(bucket): Path<String>) -> Response {
    let path = format!("/{}?policy", encode(&bucket, false));
    let (document, exists) = match console
        .s3(&signed, Method::GET, &path, &[], coffer_s3::Body::empty())
        .await
        .ok()
        .await
    {
        Ok(reply) => (reply.text().await, true),
        Err(failure) if failure.code == "NoSuchBucketPolicy" => (String::new(), false),
        Err(failure) => return s3_failed(&signed, "s3:GetBucketPolicy", &failure),
    };
    let document = serde_json::from_str::<serde_json::Value>(&document)
        .and_then(|v| serde_json::to_string_pretty(&v))
        .unwrap_or(document);
    render(&PolicyPage {
        chrome: Some(signed.chrome()),
        csrf: &signed.session.csrf,
        bucket: &bucket,
        document,
        exists,
        error: None,
    })
}

#[derive(Deserialize)]
pub struct PolicyChange {
    csrf: String,
    #[serde(default)]
    document: String,
    #[serde(default)]
    delete: Option<String>,
}

pub async fn save_bucket_policy(
    State(console): State<Console>,
    signed: Signed,
    Path(bucket): Path<String>,
    Form(form): Form<PolicyChange>,
) -> Response {
    if let Some(refused) = signed.refuse_forged(&form.csrf) {
        return refused;
    }
    let path = format!("/{}?policy", encode(&bucket, false));
    let (method, body, action) = if form.delete.is_some() {
        (Method::DELETE, coffer_s3::Body::empty(), "s3:DeleteBucketPolicy")
    } else {
        (
            Method::PUT,
            coffer_s3::Body::from(form.document.clone()),
            "s3:PutBucketPolicy",
        )
    };
    match console.s3(&signed, method, &path, &[], body).await.ok().await {
        Ok(_) => {
            let done = if action == "s3:DeleteBucketPolicy" {
                "deleted"
            } else {
                "saved"
            };
            signed.notify(&console, format!("Bucket policy {done}.")).await;
            Redirect::to(&format!("/s3/buckets/{}/policy", encode(&bucket, false))).into_response()
        }
        // An IAM denial gets the denied page; Block Public Access refusing a public policy
        // (also AccessDenied) is shown in the editor.
        Err(failure) if failure.code == "AccessDenied" && failure.message.contains("is not authorized to perform") => {
            s3_failed(&signed, action, &failure)
        }
        Err(failure) => {
            let mut response = render(&PolicyPage {
                chrome: Some(signed.chrome()),
                csrf: &signed.session.csrf,
                bucket: &bucket,
                document: form.document,
                exists: true,
                error: Some(format!("{}: {}", failure.code, failure.message)),
            });
            *response.status_mut() = failure.status;
            response
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_names_follow_s3s_naming_rules() {
        assert!(name_problem("holiday-photos").is_none());
        assert!(name_problem("a.b-c1").is_none());
        assert!(name_problem("ab").is_some());
        assert!(name_problem("foo-.bar").is_some());
        assert!(name_problem(&"a".repeat(70)).unwrap().contains("63"));
        assert!(name_problem("Holiday").is_some());
        assert!(name_problem("-photos").is_some());
        assert!(name_problem("a..b").is_some());
        assert!(name_problem("192.168.1.1").is_some());
        assert!(name_problem("xn--bucket").is_some());
        assert!(name_problem(&"a".repeat(64)).is_some());
    }
}

#[derive(Deserialize)]
pub struct DeleteBucket {
    csrf: String,
    #[serde(default)]
    confirm: String,
}

/// Deletes the bucket once its name is typed to confirm. S3 refuses while it holds objects
/// (BucketNotEmpty); the failure page says so and leads back to the bucket.
pub async fn delete_bucket(
    State(console): State<Console>,
    signed: Signed,
    Path(bucket): Path<String>,
    Form(form): Form<DeleteBucket>,
) -> Response {
    if let Some(refused) = signed.refuse_forged(&form.csrf) {
        return refused;
    }
    if form.confirm.trim() != bucket {
        return crate::page::error_page(
            StatusCode::BAD_REQUEST,
            "The bucket was not deleted",
            "To confirm, type the bucket's name exactly.",
        );
    }
    let path = format!("/{}", encode(&bucket, false));
    match console
        .s3(&signed, Method::DELETE, &path, &[], coffer_s3::Body::empty())
        .await
        .ok()
        .await
    {
        Ok(_) => {
            signed.notify(&console, format!("Bucket {bucket} deleted.")).await;
            Redirect::to("/s3/buckets").into_response()
        }
        Err(failure) => s3_failed(&signed, "s3:DeleteBucket", &failure),
    }
}
