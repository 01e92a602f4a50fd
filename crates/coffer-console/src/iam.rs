//! IAM → Users: the users table, a user's page with its security credentials, and the
//! three-step "Create access key" flow of the walkthrough (use case, description tag,
//! retrieve: the secret shown once, with a `.csv` download). Every read and write is the IAM
//! operation of the same name, run as the signed-in principal.

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use serde::Deserialize;

use crate::Console;
use crate::page::{Chrome, Signed, call_failed, error_page, render};
use crate::results::{Member, Results};
use crate::session::CreatedKey;

/// Users per page of the table.
const PAGE_SIZE: &str = "50";
/// The most users a search looks through.
const SEARCH_LIMIT: &str = "1000";

/// "3 days", "Today": how old an ISO 8601 date is.
fn age(iso: &str) -> String {
    let Ok(then) = time::OffsetDateTime::parse(iso, &time::format_description::well_known::Rfc3339) else {
        return iso.to_owned();
    };
    match (time::OffsetDateTime::now_utc() - then).whole_days() {
        0 => "Today".to_owned(),
        1 => "1 day".to_owned(),
        days => format!("{days} days"),
    }
}

/// The date part of an ISO 8601 time, for tables.
fn day(iso: &str) -> String {
    iso.split('T').next().unwrap_or(iso).to_owned()
}

/// One row of the users table.
struct UserRow {
    name: String,
    path: String,
    groups: String,
    key_age: String,
    keys: String,
    console: String,
    last_activity: String,
    created: String,
}

#[derive(Template)]
#[template(path = "users.html")]
struct UsersPage {
    chrome: Option<Chrome>,
    rows: Vec<UserRow>,
    query: String,
    next_marker: Option<String>,
}

#[derive(Deserialize)]
pub struct UsersQuery {
    #[serde(default)]
    q: String,
    marker: Option<String>,
}

/// A cell for something the caller may not read: AWS's console says so in the cell.
fn cell(result: Result<Option<String>, coffer_iam::CallError>, read: impl FnOnce(Results) -> String) -> String {
    match result {
        Ok(xml) => read(Results::new(xml)),
        Err(error) if error.code == "AccessDenied" => "Access denied".to_owned(),
        Err(error) => error.code.to_owned(),
    }
}

async fn user_row(console: &Console, signed: &Signed, user: &Member) -> UserRow {
    let name = user.get("UserName").cloned().unwrap_or_default();
    let params = [("UserName", name.as_str())];
    let groups = cell(signed.call(console, "ListGroupsForUser", &params).await, |r| {
        let names: Vec<String> = r
            .members("Groups")
            .into_iter()
            .filter_map(|g| g.get("GroupName").cloned())
            .collect();
        if names.is_empty() {
            "None".to_owned()
        } else {
            names.join(", ")
        }
    });
    let keys_result = signed.call(console, "ListAccessKeys", &params).await;
    let keys = match &keys_result {
        Ok(xml) => Results::new(xml.clone()).members("AccessKeyMetadata"),
        Err(_) => Vec::new(),
    };
    let active: Vec<&Member> = keys
        .iter()
        .filter(|k| k.get("Status").is_some_and(|s| s == "Active"))
        .collect();
    let key_age = match (&keys_result, active.iter().filter_map(|k| k.get("CreateDate")).min()) {
        (Err(_), _) => "Access denied".to_owned(),
        (Ok(_), Some(oldest)) => age(oldest),
        (Ok(_), None) => "—".to_owned(),
    };
    let key_summary = match &keys_result {
        Err(_) => "Access denied".to_owned(),
        Ok(_) if keys.is_empty() => "None".to_owned(),
        Ok(_) => keys
            .iter()
            .map(|k| {
                format!(
                    "{} ({})",
                    k.get("AccessKeyId").map_or("", String::as_str),
                    k.get("Status").map_or("", String::as_str)
                )
            })
            .collect::<Vec<_>>()
            .join(", "),
    };
    let console_access = match signed.call(console, "GetLoginProfile", &params).await {
        Ok(_) => "Enabled".to_owned(),
        Err(error) if error.code == "NoSuchEntity" => "Disabled".to_owned(),
        Err(error) if error.code == "AccessDenied" => "Access denied".to_owned(),
        Err(error) => error.code.to_owned(),
    };
    let mut activity: Vec<String> = user.get("PasswordLastUsed").cloned().into_iter().collect();
    for key in &keys {
        let id = key.get("AccessKeyId").map_or("", String::as_str);
        if let Ok(xml) = signed
            .call(console, "GetAccessKeyLastUsed", &[("AccessKeyId", id)])
            .await
            && let Some(used) = Results::new(xml).text("LastUsedDate")
        {
            activity.push(used);
        }
    }
    UserRow {
        path: user.get("Path").cloned().unwrap_or_default(),
        created: user.get("CreateDate").map(|d| day(d)).unwrap_or_default(),
        last_activity: activity
            .iter()
            .max()
            .map(|latest| age(latest))
            .unwrap_or_else(|| "Never".to_owned()),
        name,
        groups,
        key_age,
        keys: key_summary,
        console: console_access,
    }
}

pub async fn users(State(console): State<Console>, signed: Signed, Query(query): Query<UsersQuery>) -> Response {
    let search = query.q.trim().to_lowercase();
    let mut params = vec![("MaxItems", if search.is_empty() { PAGE_SIZE } else { SEARCH_LIMIT })];
    if let Some(marker) = query.marker.as_deref().filter(|m| !m.is_empty()) {
        params.push(("Marker", marker));
    }
    let listed = match signed.call(&console, "ListUsers", &params).await {
        Ok(xml) => Results::new(xml),
        Err(error) => return call_failed(&signed, "iam:ListUsers", &error),
    };
    let mut rows = Vec::new();
    for user in listed.members("Users") {
        let matches = user.get("UserName").is_some_and(|n| n.to_lowercase().contains(&search));
        if matches {
            rows.push(user_row(&console, &signed, &user).await);
        }
    }
    let truncated = listed.text("IsTruncated").is_some_and(|t| t == "true");
    render(&UsersPage {
        chrome: Some(signed.chrome()),
        rows,
        query: query.q,
        next_marker: if truncated { listed.text("Marker") } else { None },
    })
}

/// An access key as the user page shows it.
struct KeyRow {
    id: String,
    status: String,
    created: String,
    age: String,
    last_used: String,
    description: String,
}

#[derive(Template)]
#[template(path = "user.html")]
struct UserPage {
    chrome: Option<Chrome>,
    csrf: String,
    name: String,
    arn: String,
    created: String,
    console_access: String,
    groups: String,
    keys: Vec<KeyRow>,
    keys_denied: bool,
}

pub async fn user(State(console): State<Console>, signed: Signed, Path(name): Path<String>) -> Response {
    let params = [("UserName", name.as_str())];
    let user = match signed.call(&console, "GetUser", &params).await {
        Ok(xml) => Results::new(xml),
        Err(error) => return call_failed(&signed, "iam:GetUser", &error),
    };
    // The description of a key is the user's tag keyed by the key's id, as in AWS's console.
    let tags = user.members("Tags");
    let description = |id: &str| {
        tags.iter()
            .find(|t| t.get("Key").is_some_and(|k| k == id))
            .and_then(|t| t.get("Value").cloned())
            .unwrap_or_default()
    };
    let listed = signed.call(&console, "ListAccessKeys", &params).await;
    let keys_denied = listed.is_err();
    let mut keys = Vec::new();
    for key in listed
        .map(Results::new)
        .map(|r| r.members("AccessKeyMetadata"))
        .unwrap_or_default()
    {
        let id = key.get("AccessKeyId").cloned().unwrap_or_default();
        let last_used = match signed
            .call(&console, "GetAccessKeyLastUsed", &[("AccessKeyId", &id)])
            .await
        {
            Ok(xml) => {
                let used = Results::new(xml);
                match used.text("LastUsedDate") {
                    Some(date) => format!(
                        "{} ({}, {})",
                        age(&date),
                        used.text("ServiceName").unwrap_or_default(),
                        used.text("Region").unwrap_or_default()
                    ),
                    None => "Never".to_owned(),
                }
            }
            Err(_) => "Access denied".to_owned(),
        };
        let created = key.get("CreateDate").cloned().unwrap_or_default();
        keys.push(KeyRow {
            description: description(&id),
            status: key.get("Status").cloned().unwrap_or_default(),
            age: age(&created),
            created: day(&created),
            last_used,
            id,
        });
    }
    let console_access = match signed.call(&console, "GetLoginProfile", &params).await {
        Ok(_) => "Enabled".to_owned(),
        Err(error) if error.code == "NoSuchEntity" => "Disabled".to_owned(),
        Err(_) => "Access denied".to_owned(),
    };
    let groups = cell(signed.call(&console, "ListGroupsForUser", &params).await, |r| {
        let names: Vec<String> = r
            .members("Groups")
            .into_iter()
            .filter_map(|g| g.get("GroupName").cloned())
            .collect();
        if names.is_empty() {
            "None".to_owned()
        } else {
            names.join(", ")
        }
    });
    render(&UserPage {
        chrome: Some(signed.chrome()),
        csrf: signed.session.csrf.clone(),
        arn: user.text("Arn").unwrap_or_default(),
        created: user.text("CreateDate").map(|d| day(&d)).unwrap_or_default(),
        name,
        console_access,
        groups,
        keys,
        keys_denied,
    })
}

/// The use cases of step 1, with the alternative AWS recommends for each.
const USE_CASES: [(&str, &str, &str); 5] = [
    (
        "cli",
        "Command Line Interface (CLI)",
        "You plan to use this access key to enable the AWS CLI to access your account. Alternative: use short-term credentials from a role where you can.",
    ),
    (
        "local-code",
        "Local code",
        "You plan to use this access key to enable application code in a local development environment to access your account. Alternative: use an IDE that supports short-term credentials.",
    ),
    (
        "compute",
        "Application running on an AWS compute service",
        "You plan to use this access key to enable application code running on a compute service to access your account. Alternative: assign a role to the compute resource instead of using a long-term key.",
    ),
    (
        "third-party",
        "Third-party service",
        "You plan to use this access key to enable access for a third-party application or service that monitors or manages your resources. Alternative: give the service a role with the least privilege it needs.",
    ),
    ("other", "Other", "Your use case is not listed here."),
];

#[derive(Template)]
#[template(path = "key_use_case.html")]
struct UseCasePage<'a> {
    chrome: Option<Chrome>,
    csrf: &'a str,
    name: &'a str,
    use_cases: &'a [(&'a str, &'a str, &'a str)],
    chosen: &'a str,
    error: Option<&'a str>,
}

pub async fn new_key_use_case(signed: Signed, Path(name): Path<String>) -> Response {
    render(&UseCasePage {
        chrome: Some(signed.chrome()),
        csrf: &signed.session.csrf,
        name: &name,
        use_cases: &USE_CASES,
        chosen: "cli",
        error: None,
    })
}

#[derive(Deserialize)]
pub struct UseCase {
    csrf: String,
    #[serde(default)]
    use_case: String,
    #[serde(default)]
    confirm: Option<String>,
}

#[derive(Template)]
#[template(path = "key_description.html")]
struct DescriptionPage<'a> {
    chrome: Option<Chrome>,
    csrf: &'a str,
    name: &'a str,
    use_case: &'a str,
}

/// Step 1 answered: step 2 (an optional description tag).
pub async fn new_key_description(signed: Signed, Path(name): Path<String>, Form(form): Form<UseCase>) -> Response {
    if let Some(refused) = signed.refuse_forged(&form.csrf) {
        return refused;
    }
    let known = USE_CASES.iter().any(|(id, _, _)| *id == form.use_case);
    if !known || form.confirm.is_none() {
        let mut response = render(&UseCasePage {
            chrome: Some(signed.chrome()),
            csrf: &signed.session.csrf,
            name: &name,
            use_cases: &USE_CASES,
            chosen: if known { &form.use_case } else { "cli" },
            error: Some(if known {
                "Confirm that you understand the recommendation to continue."
            } else {
                "Choose a use case."
            }),
        });
        *response.status_mut() = StatusCode::BAD_REQUEST;
        return response;
    }
    render(&DescriptionPage {
        chrome: Some(signed.chrome()),
        csrf: &signed.session.csrf,
        name: &name,
        use_case: &form.use_case,
    })
}

#[derive(Deserialize)]
pub struct NewKey {
    csrf: String,
    #[serde(default)]
    description: String,
}

/// Step 2 answered: creates the key (and its description tag), then shows it once.
pub async fn create_key(
    State(console): State<Console>,
    signed: Signed,
    Path(name): Path<String>,
    Form(form): Form<NewKey>,
) -> Response {
    if let Some(refused) = signed.refuse_forged(&form.csrf) {
        return refused;
    }
    let created = match signed.call(&console, "CreateAccessKey", &[("UserName", &name)]).await {
        Ok(xml) => Results::new(xml),
        Err(error) => return call_failed(&signed, "iam:CreateAccessKey", &error),
    };
    let (Some(id), Some(secret)) = (created.text("AccessKeyId"), created.text("SecretAccessKey")) else {
        return error_page(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Something went wrong",
            "The key was not created.",
        );
    };
    let description = form.description.trim();
    if !description.is_empty() {
        let tag = [
            ("UserName", name.as_str()),
            ("Tags.member.1.Key", id.as_str()),
            ("Tags.member.1.Value", description),
        ];
        if let Err(error) = signed.call(&console, "TagUser", &tag).await {
            // The key exists either way; say why its description is missing.
            tracing::info!(code = error.code, "the access key's description tag was not set");
        }
    }
    console.sessions.stash_key(
        &signed.token,
        CreatedKey {
            user_name: name.clone(),
            access_key_id: id,
            secret_access_key: secret,
        },
    );
    // A redirect, so that reloading the page can neither create a second key nor resend
    // the secret: the next page takes it from the session once.
    Redirect::to(&format!("/iam/users/{}/access-keys/created", segment(&name))).into_response()
}

#[derive(Template)]
#[template(path = "key_created.html")]
struct CreatedPage<'a> {
    chrome: Option<Chrome>,
    name: &'a str,
    key: Option<CreatedKey>,
    csv_href: String,
    csv_name: String,
}

/// The `Access key ID,Secret access key` file, as a `data:` link: the secret never makes a
/// second trip to the server.
fn csv_href(key: &CreatedKey) -> String {
    let csv = format!(
        "Access key ID,Secret access key\r\n{},{}\r\n",
        key.access_key_id, key.secret_access_key
    );
    format!(
        "data:text/csv;charset=utf-8,{}",
        utf8_percent_encode(&csv, NON_ALPHANUMERIC)
    )
}

pub async fn created_key(State(console): State<Console>, signed: Signed, Path(name): Path<String>) -> Response {
    let key = console
        .sessions
        .take_key(&signed.token)
        .filter(|key| key.user_name == name);
    render(&CreatedPage {
        chrome: Some(signed.chrome()),
        csv_href: key.as_ref().map(csv_href).unwrap_or_default(),
        csv_name: format!("{name}_accessKeys.csv"),
        name: &name,
        key,
    })
}

/// A user name as a path segment.
fn segment(name: &str) -> String {
    utf8_percent_encode(name, NON_ALPHANUMERIC).to_string()
}

#[derive(Deserialize)]
pub struct KeyStatus {
    csrf: String,
    status: String,
}

pub async fn set_key_status(
    State(console): State<Console>,
    signed: Signed,
    Path((name, key)): Path<(String, String)>,
    Form(form): Form<KeyStatus>,
) -> Response {
    if let Some(refused) = signed.refuse_forged(&form.csrf) {
        return refused;
    }
    let params = [
        ("UserName", name.as_str()),
        ("AccessKeyId", key.as_str()),
        ("Status", form.status.as_str()),
    ];
    match signed.call(&console, "UpdateAccessKey", &params).await {
        Ok(_) => Redirect::to(&format!("/iam/users/{}", segment(&name))).into_response(),
        Err(error) => call_failed(&signed, "iam:UpdateAccessKey", &error),
    }
}

#[derive(Deserialize)]
pub struct DeleteKey {
    csrf: String,
    #[serde(default)]
    confirm: String,
}

pub async fn delete_key(
    State(console): State<Console>,
    signed: Signed,
    Path((name, key)): Path<(String, String)>,
    Form(form): Form<DeleteKey>,
) -> Response {
    if let Some(refused) = signed.refuse_forged(&form.csrf) {
        return refused;
    }
    if form.confirm.trim() != key {
        return error_page(
            StatusCode::BAD_REQUEST,
            "The key was not deleted",
            "To confirm, type the access key ID exactly. Go back and try again.",
        );
    }
    let params = [("UserName", name.as_str()), ("AccessKeyId", key.as_str())];
    if let Err(error) = signed.call(&console, "DeleteAccessKey", &params).await {
        return call_failed(&signed, "iam:DeleteAccessKey", &error);
    }
    // Its description goes with it.
    let untag = [("UserName", name.as_str()), ("TagKeys.member.1", key.as_str())];
    let _ = signed.call(&console, "UntagUser", &untag).await;
    Redirect::to(&format!("/iam/users/{}", segment(&name))).into_response()
}
