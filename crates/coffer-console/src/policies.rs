//! IAM → Policies: the policies table (AWS managed and the account's own), a policy's page
//! with its JSON and versions, and a JSON editor for creating a policy or a new default
//! version. The editor checks a document as it is typed (htmx) with the policy engine the
//! API uses, and the API validates it again when it is saved.

use askama::Template;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use crate::Console;
use crate::display::day;
use crate::page::{Chrome, Signed, call_failed, render};
use crate::results::Results;

struct PolicyRow {
    name: String,
    arn: String,
    kind: &'static str,
    attachments: String,
    updated: String,
}

#[derive(Template)]
#[template(path = "policies.html")]
struct PoliciesPage {
    chrome: Option<Chrome>,
    rows: Vec<PolicyRow>,
    query: String,
    scope: String,
}

#[derive(Deserialize)]
pub struct PoliciesQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    scope: String,
}

pub async fn policies(State(console): State<Console>, signed: Signed, Query(query): Query<PoliciesQuery>) -> Response {
    let scope = match query.scope.as_str() {
        "AWS" | "Local" => query.scope.as_str(),
        _ => "All",
    };
    let listed = match signed
        .call(&console, "ListPolicies", &[("Scope", scope), ("MaxItems", "1000")])
        .await
    {
        Ok(xml) => Results::new(xml),
        Err(error) => return call_failed(&signed, "iam:ListPolicies", &error),
    };
    let search = query.q.trim().to_lowercase();
    let rows = listed
        .members("Policies")
        .into_iter()
        .filter(|p| p.get("PolicyName").is_some_and(|n| n.to_lowercase().contains(&search)))
        .map(|p| {
            let arn = p.get("Arn").cloned().unwrap_or_default();
            PolicyRow {
                name: p.get("PolicyName").cloned().unwrap_or_default(),
                kind: if arn.starts_with("arn:aws:iam::aws:") {
                    "AWS managed"
                } else {
                    "Customer managed"
                },
                attachments: p.get("AttachmentCount").cloned().unwrap_or_default(),
                updated: p.get("UpdateDate").map(|d| day(d)).unwrap_or_default(),
                arn,
            }
        })
        .collect();
    render(&PoliciesPage {
        chrome: Some(signed.chrome()),
        rows,
        query: query.q,
        scope: scope.to_owned(),
    })
}

/// A document IAM returned URL-encoded, decoded and indented for reading.
fn readable(encoded: &str) -> String {
    let decoded = percent_encoding::percent_decode_str(encoded)
        .decode_utf8_lossy()
        .into_owned();
    serde_json::from_str::<serde_json::Value>(&decoded)
        .and_then(|value| serde_json::to_string_pretty(&value))
        .unwrap_or(decoded)
}

#[derive(Template)]
#[template(path = "policy.html")]
struct PolicyPage<'a> {
    chrome: Option<Chrome>,
    csrf: &'a str,
    arn: &'a str,
    name: String,
    description: String,
    customer: bool,
    document: String,
    versions: Vec<(String, bool, String)>,
}

#[derive(Deserialize)]
pub struct PolicyQuery {
    arn: String,
}

pub async fn policy(State(console): State<Console>, signed: Signed, Query(query): Query<PolicyQuery>) -> Response {
    let arn = query.arn.as_str();
    let policy = match signed.call(&console, "GetPolicy", &[("PolicyArn", arn)]).await {
        Ok(xml) => Results::new(xml),
        Err(error) => return call_failed(&signed, "iam:GetPolicy", &error),
    };
    let default = policy.text("DefaultVersionId").unwrap_or_default();
    let document = match signed
        .call(
            &console,
            "GetPolicyVersion",
            &[("PolicyArn", arn), ("VersionId", &default)],
        )
        .await
    {
        Ok(xml) => readable(&Results::new(xml).text("Document").unwrap_or_default()),
        Err(error) => return call_failed(&signed, "iam:GetPolicyVersion", &error),
    };
    let versions = signed
        .call(&console, "ListPolicyVersions", &[("PolicyArn", arn)])
        .await
        .map(|xml| Results::new(xml).members("Versions"))
        .unwrap_or_default()
        .into_iter()
        .map(|v| {
            (
                v.get("VersionId").cloned().unwrap_or_default(),
                v.get("IsDefaultVersion").is_some_and(|d| d == "true"),
                v.get("CreateDate").map(|d| day(d)).unwrap_or_default(),
            )
        })
        .collect();
    render(&PolicyPage {
        chrome: Some(signed.chrome()),
        csrf: &signed.session.csrf,
        name: policy.text("PolicyName").unwrap_or_default(),
        description: policy.text("Description").unwrap_or_default(),
        customer: !arn.starts_with("arn:aws:iam::aws:"),
        document,
        versions,
        arn,
    })
}

/// The editor, for a new policy (no `arn`) or a new version of one.
#[derive(Template)]
#[template(path = "policy_edit.html")]
struct EditorPage<'a> {
    chrome: Option<Chrome>,
    csrf: &'a str,
    arn: &'a str,
    name: &'a str,
    description: &'a str,
    document: &'a str,
    error: Option<String>,
}

const STARTER: &str = r#"{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Effect": "Allow",
      "Action": ["s3:ListBucket"],
      "Resource": ["arn:aws:s3:::example-bucket"]
    }
  ]
}"#;

#[derive(Deserialize)]
pub struct EditQuery {
    #[serde(default)]
    arn: String,
}

pub async fn editor(State(console): State<Console>, signed: Signed, Query(query): Query<EditQuery>) -> Response {
    let mut document = STARTER.to_owned();
    let mut name = String::new();
    if !query.arn.is_empty() {
        let policy = match signed.call(&console, "GetPolicy", &[("PolicyArn", &query.arn)]).await {
            Ok(xml) => Results::new(xml),
            Err(error) => return call_failed(&signed, "iam:GetPolicy", &error),
        };
        name = policy.text("PolicyName").unwrap_or_default();
        let default = policy.text("DefaultVersionId").unwrap_or_default();
        if let Ok(xml) = signed
            .call(
                &console,
                "GetPolicyVersion",
                &[("PolicyArn", &query.arn), ("VersionId", &default)],
            )
            .await
        {
            document = readable(&Results::new(xml).text("Document").unwrap_or_default());
        }
    }
    render(&EditorPage {
        chrome: Some(signed.chrome()),
        csrf: &signed.session.csrf,
        arn: &query.arn,
        name: &name,
        description: "",
        document: &document,
        error: None,
    })
}

#[derive(Deserialize)]
pub struct Check {
    #[serde(default)]
    document: String,
}

#[derive(Template)]
#[template(
    source = r#"<p class="{% if valid %}valid{% else %}error{% endif %}" role="status">{{ message }}</p>"#,
    ext = "html"
)]
struct Verdict {
    valid: bool,
    message: String,
}

/// The editor's live check (an htmx fragment): IAM's verdict on the document.
pub async fn validate(_signed: Signed, Form(form): Form<Check>) -> Response {
    // What saving it (CreatePolicy or CreatePolicyVersion) would say.
    let verdict = match coffer_iam::check_managed_policy(&form.document) {
        Ok(statements) => Verdict {
            valid: true,
            message: format!(
                "Valid policy: {statements} statement{}.",
                if statements == 1 { "" } else { "s" }
            ),
        },
        Err(error) => Verdict {
            valid: false,
            message: error.to_string(),
        },
    };
    render(&verdict)
}

#[derive(Deserialize)]
pub struct Save {
    csrf: String,
    #[serde(default)]
    arn: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    description: String,
    document: String,
}

/// Saves a new policy, or a new default version of an existing one.
pub async fn save(State(console): State<Console>, signed: Signed, Form(form): Form<Save>) -> Response {
    if let Some(refused) = signed.refuse_forged(&form.csrf) {
        return refused;
    }
    let result = if form.arn.is_empty() {
        let mut params = vec![
            ("PolicyName", form.name.trim()),
            ("PolicyDocument", form.document.as_str()),
        ];
        if !form.description.trim().is_empty() {
            params.push(("Description", form.description.trim()));
        }
        signed
            .call(&console, "CreatePolicy", &params)
            .await
            .map(|xml| Results::new(xml).text("Arn").unwrap_or_default())
    } else {
        let params = [
            ("PolicyArn", form.arn.as_str()),
            ("PolicyDocument", form.document.as_str()),
            ("SetAsDefault", "true"),
        ];
        signed
            .call(&console, "CreatePolicyVersion", &params)
            .await
            .map(|_| form.arn.clone())
    };
    match result {
        Ok(arn) => {
            signed.notify(&console, "Policy saved.").await;
            Redirect::to(&format!(
                "/iam/policy?arn={}",
                percent_encoding::utf8_percent_encode(&arn, percent_encoding::NON_ALPHANUMERIC)
            ))
            .into_response()
        }
        Err(error) if error.code == "AccessDenied" => {
            let action = if form.arn.is_empty() {
                "iam:CreatePolicy"
            } else {
                "iam:CreatePolicyVersion"
            };
            call_failed(&signed, action, &error)
        }
        Err(error) => {
            let mut response = render(&EditorPage {
                chrome: Some(signed.chrome()),
                csrf: &signed.session.csrf,
                arn: &form.arn,
                name: &form.name,
                description: &form.description,
                document: &form.document,
                error: Some(format!("{}: {}", error.code, error.message)),
            });
            *response.status_mut() = StatusCode::from_u16(error.status).unwrap_or(StatusCode::BAD_REQUEST);
            response
        }
    }
}

#[derive(Deserialize)]
pub struct VersionChange {
    csrf: String,
    arn: String,
    version: String,
    /// `set-default` or `delete`.
    change: String,
}

pub async fn change_version(
    State(console): State<Console>,
    signed: Signed,
    Form(form): Form<VersionChange>,
) -> Response {
    if let Some(refused) = signed.refuse_forged(&form.csrf) {
        return refused;
    }
    let action = match form.change.as_str() {
        "set-default" => "SetDefaultPolicyVersion",
        "delete" => "DeletePolicyVersion",
        _ => return crate::page::not_found().await,
    };
    let params = [("PolicyArn", form.arn.as_str()), ("VersionId", form.version.as_str())];
    match signed.call(&console, action, &params).await {
        Ok(_) => {
            let done = if action == "DeletePolicyVersion" {
                "deleted"
            } else {
                "set as the default"
            };
            signed
                .notify(&console, format!("Version {} {done}.", form.version))
                .await;
            Redirect::to(&format!(
                "/iam/policy?arn={}",
                percent_encoding::utf8_percent_encode(&form.arn, percent_encoding::NON_ALPHANUMERIC)
            ))
            .into_response()
        }
        Err(error) => call_failed(&signed, &format!("iam:{action}"), &error),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stored_document_is_shown_decoded_and_indented() {
        let shown = readable("%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%5D%7D");
        assert!(shown.contains("\"Version\": \"2012-10-17\""));
        assert!(shown.contains('\n'));
    }
}
