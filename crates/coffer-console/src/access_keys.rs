//! The walkthrough's three-step "Create access key" (use case, description tag, retrieve: the
//! secret shown once, with a `.csv` download), and a key's deactivate, activate and delete.
//! Every write is the IAM operation of the same name, run as the signed-in principal.

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use serde::Deserialize;

use crate::Console;
use crate::display::segment;
use crate::page::{Chrome, Signed, call_failed, error_page, render};
use crate::results::Results;
use crate::session::Reveal;

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

/// Where the wizard is: step 2 is reached by a redirect after step 1's POST (`?use_case=`), so
/// Back from any later step never asks to send a form again.
#[derive(Deserialize)]
pub struct Step {
    #[serde(default)]
    use_case: Option<String>,
}

pub async fn new_key_use_case(signed: Signed, Path(name): Path<String>, Query(step): Query<Step>) -> Response {
    if let Some(use_case) = step.use_case.filter(|u| USE_CASES.iter().any(|(id, _, _)| id == u)) {
        return render(&DescriptionPage {
            chrome: Some(signed.chrome()),
            csrf: &signed.session.csrf,
            name: &name,
            use_case: &use_case,
            description: "",
            error: None,
        });
    }
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
    /// What was typed, kept when the form comes back with an error.
    description: &'a str,
    error: Option<&'a str>,
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
    Redirect::to(&format!(
        "/iam/users/{}/access-keys/new?use_case={}",
        segment(&name),
        form.use_case
    ))
    .into_response()
}

#[derive(Deserialize)]
pub struct NewKey {
    csrf: String,
    #[serde(default)]
    use_case: String,
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
    // The description becomes a tag after the key exists: check it first, so that a key is
    // never created with its description silently lost.
    let description = form.description.trim();
    if let Some(problem) = coffer_iam::tag_value_problem(description) {
        let message =
            format!("The description can hold up to 256 letters, digits, spaces and _ . : / = + - @ only. ({problem})");
        let mut response = render(&DescriptionPage {
            chrome: Some(signed.chrome()),
            csrf: &signed.session.csrf,
            name: &name,
            use_case: &form.use_case,
            description,
            error: Some(&message),
        });
        *response.status_mut() = StatusCode::BAD_REQUEST;
        return response;
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
    console
        .sessions
        .stash(
            &signed.token,
            Reveal::AccessKey {
                user_name: name.clone(),
                access_key_id: id,
                secret_access_key: secret,
            },
        )
        .await;
    // A redirect, so that reloading the page can neither create a second key nor resend
    // the secret: the next page takes it from the session once.
    Redirect::to(&format!("/iam/users/{}/access-keys/created", segment(&name))).into_response()
}

#[derive(Template)]
#[template(path = "key_created.html")]
struct CreatedPage<'a> {
    chrome: Option<Chrome>,
    name: &'a str,
    /// Where "Done" leads: the person's own credentials for their own key, else the user.
    done_href: String,
    key: Option<(String, String)>,
    csv_href: String,
    csv_name: String,
}

/// A one-row CSV file as a `data:` link: the secret in it never makes a second trip to the
/// server.
pub(crate) fn csv_href(header: &str, values: &[&str]) -> String {
    // RFC 4180 quoting: a password may hold commas and quotes.
    let quoted: Vec<String> = values
        .iter()
        .map(|v| {
            if v.contains([',', '"', '\r', '\n']) {
                format!("\"{}\"", v.replace('"', "\"\""))
            } else {
                (*v).to_owned()
            }
        })
        .collect();
    let csv = format!("{header}\r\n{}\r\n", quoted.join(","));
    format!(
        "data:text/csv;charset=utf-8,{}",
        utf8_percent_encode(&csv, NON_ALPHANUMERIC)
    )
}

pub async fn created_key(State(console): State<Console>, signed: Signed, Path(name): Path<String>) -> Response {
    let key = match console.sessions.take(&signed.token).await {
        Some(Reveal::AccessKey {
            user_name,
            access_key_id,
            secret_access_key,
        }) if user_name == name => Some((access_key_id, secret_access_key)),
        _ => None,
    };
    render(&CreatedPage {
        chrome: Some(signed.chrome()),
        csv_href: key
            .as_ref()
            .map(|(id, secret)| csv_href("Access key ID,Secret access key", &[id, secret]))
            .unwrap_or_default(),
        csv_name: format!("{name}_accessKeys.csv"),
        done_href: if signed.own_user_name().as_deref() == Some(name.as_str()) {
            "/iam/my-credentials".to_owned()
        } else {
            format!("/iam/users/{}", segment(&name))
        },
        name: &name,
        key,
    })
}

#[derive(Deserialize)]
pub struct KeyStatus {
    csrf: String,
    status: String,
    /// `mine` when sent from "My security credentials", which the person returns to.
    #[serde(default)]
    from: String,
}

/// Where a key's change returns to: the person's own credentials page, or the user's page.
fn after_key_change(name: &str, from: &str) -> String {
    if from == "mine" {
        "/iam/my-credentials".to_owned()
    } else {
        format!("/iam/users/{}", segment(name))
    }
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
        Ok(_) => {
            let done = if form.status == "Active" {
                "activated"
            } else {
                "deactivated"
            };
            signed.notify(&console, format!("Access key {key} {done}.")).await;
            Redirect::to(&after_key_change(&name, &form.from)).into_response()
        }
        Err(error) => call_failed(&signed, "iam:UpdateAccessKey", &error),
    }
}

#[derive(Deserialize)]
pub struct DeleteKey {
    csrf: String,
    #[serde(default)]
    confirm: String,
    #[serde(default)]
    from: String,
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
    // As AWS's console: an active key is deactivated before it can be deleted.
    if key_is_active(&console, &signed, &name, &key).await {
        return error_page(
            StatusCode::CONFLICT,
            "The key was not deleted",
            "An active access key cannot be deleted. Deactivate it first, then delete it.",
        );
    }
    let params = [("UserName", name.as_str()), ("AccessKeyId", key.as_str())];
    if let Err(error) = signed.call(&console, "DeleteAccessKey", &params).await {
        return call_failed(&signed, "iam:DeleteAccessKey", &error);
    }
    // Its description goes with it.
    let untag = [("UserName", name.as_str()), ("TagKeys.member.1", key.as_str())];
    let _ = signed.call(&console, "UntagUser", &untag).await;
    signed.notify(&console, format!("Access key {key} deleted.")).await;
    Redirect::to(&after_key_change(&name, &form.from)).into_response()
}

/// Whether the user's key `key` is listed as active (a key that cannot be listed is left to
/// DeleteAccessKey's own answer).
async fn key_is_active(console: &Console, signed: &Signed, user: &str, key: &str) -> bool {
    signed
        .call(console, "ListAccessKeys", &[("UserName", user)])
        .await
        .map(|xml| {
            Results::new(xml).members("AccessKeyMetadata").iter().any(|k| {
                k.get("AccessKeyId").is_some_and(|id| id == key) && k.get("Status").is_some_and(|s| s == "Active")
            })
        })
        .unwrap_or(false)
}
