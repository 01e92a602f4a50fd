//! IAM → Roles: the roles table, creating a role that an AWS account may assume, revoking a
//! role's active sessions, and "Switch role": the console then acts as a session of the role
//! (AssumeRole run as the signed-in person, with every check a signed request gets) until the
//! session expires or the person switches back.

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use percent_encoding::percent_decode_str;
use serde::Deserialize;

use crate::Console;
use crate::display::day;
use crate::page::{Chrome, Signed, call_failed, render};
use crate::results::Results;

struct RoleRow {
    name: String,
    trusted: String,
    created: String,
    last_used: String,
}

#[derive(Template)]
#[template(path = "roles.html")]
struct RolesPage<'a> {
    chrome: Option<Chrome>,
    csrf: &'a str,
    account: String,
    rows: Vec<RoleRow>,
    error: Option<String>,
}

/// Who a trust policy (as IAM returns it, URL-encoded) lets in, for the table.
fn trusted_entities(encoded: &str) -> String {
    let text = percent_decode_str(encoded).decode_utf8_lossy();
    let Ok(policy) = serde_json::from_str::<serde_json::Value>(&text) else {
        return String::new();
    };
    let statements = match &policy["Statement"] {
        serde_json::Value::Array(list) => list.clone(),
        one => vec![one.clone()],
    };
    let mut names = Vec::new();
    for statement in statements {
        match &statement["Principal"] {
            serde_json::Value::String(s) => names.push(s.clone()),
            serde_json::Value::Object(kinds) => {
                for value in kinds.values() {
                    match value {
                        serde_json::Value::String(s) => names.push(s.clone()),
                        serde_json::Value::Array(list) => {
                            names.extend(list.iter().filter_map(|v| v.as_str().map(str::to_owned)))
                        }
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }
    names.join(", ")
}

async fn roles_page(console: &Console, signed: &Signed, error: Option<String>) -> Response {
    let listed = match signed.call(console, "ListRoles", &[("MaxItems", "1000")]).await {
        Ok(xml) => Results::new(xml),
        Err(error) => return call_failed(signed, "iam:ListRoles", &error),
    };
    let mut rows = Vec::new();
    for role in listed.members("Roles") {
        let name = role.get("RoleName").cloned().unwrap_or_default();
        let last_used = match signed.call(console, "GetRole", &[("RoleName", name.as_str())]).await {
            Ok(xml) => Results::new(xml)
                .text("LastUsedDate")
                .map(|at| day(&at))
                .unwrap_or_else(|| "Never".to_owned()),
            Err(_) => String::new(),
        };
        rows.push(RoleRow {
            trusted: trusted_entities(role.get("AssumeRolePolicyDocument").map_or("", String::as_str)),
            created: role.get("CreateDate").map(|d| day(d)).unwrap_or_default(),
            last_used,
            name,
        });
    }
    render(&RolesPage {
        chrome: Some(signed.chrome()),
        csrf: &signed.session.csrf,
        account: signed.session.principal.account_id.clone(),
        rows,
        error,
    })
}

pub async fn roles(State(console): State<Console>, signed: Signed) -> Response {
    roles_page(&console, &signed, None).await
}

#[derive(Deserialize)]
pub struct NewRole {
    csrf: String,
    name: String,
    /// The account whose principals may assume the role (its own policies then decide).
    trusted_account: String,
    /// An AWS managed policy to attach, if any.
    #[serde(default)]
    policy: String,
    /// `account` (the default) or `web-identity`.
    #[serde(default)]
    entity: String,
    /// For web identity: the provider (its URL, with or without `https://`) and the audience
    /// its tokens must carry.
    #[serde(default)]
    provider: String,
    #[serde(default)]
    audience: String,
}

pub async fn create_role(State(console): State<Console>, signed: Signed, Form(form): Form<NewRole>) -> Response {
    if let Some(refused) = signed.refuse_forged(&form.csrf) {
        return refused;
    }
    let name = form.name.trim();
    let account = form.trusted_account.trim();
    let web = form.entity == "web-identity";
    let provider = form
        .provider
        .trim()
        .trim_start_matches("https://")
        .trim_end_matches('/');
    let audience = form.audience.trim();
    let problem = crate::forms::iam_name_problem("role", name, 64).or_else(|| {
        if web {
            (provider.is_empty() || audience.is_empty())
                .then(|| "Enter the identity provider and the audience its tokens carry.".to_owned())
        } else {
            (account.len() != 12 || !account.bytes().all(|b| b.is_ascii_digit()))
                .then(|| "Enter the 12-digit id of the account to trust.".to_owned())
        }
    });
    if let Some(problem) = problem {
        let mut response = roles_page(&console, &signed, Some(problem)).await;
        *response.status_mut() = StatusCode::BAD_REQUEST;
        return response;
    }
    let trust = if web {
        // A web identity: the provider's tokens for this audience (as AWS's console writes it).
        let own = &signed.session.principal.account_id;
        serde_json::json!({
            "Version": "2012-10-17",
            "Statement": [{
                "Effect": "Allow",
                "Principal": {"Federated": format!("arn:aws:iam::{own}:oidc-provider/{provider}")},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {"StringEquals": {format!("{provider}:aud"): audience}}
            }]
        })
        .to_string()
    } else {
        format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{account}:root"}},"Action":"sts:AssumeRole"}}]}}"#
        )
    };
    let created = signed
        .call(
            &console,
            "CreateRole",
            &[("RoleName", name), ("AssumeRolePolicyDocument", &trust)],
        )
        .await;
    if let Err(error) = created {
        if error.code == "AccessDenied" {
            return call_failed(&signed, "iam:CreateRole", &error);
        }
        let mut response = roles_page(&console, &signed, Some(error.message)).await;
        *response.status_mut() = StatusCode::from_u16(error.status).unwrap_or(StatusCode::BAD_REQUEST);
        return response;
    }
    let policy = form.policy.trim();
    if !policy.is_empty()
        && let Err(error) = signed
            .call(
                &console,
                "AttachRolePolicy",
                &[("RoleName", name), ("PolicyArn", policy)],
            )
            .await
    {
        signed
            .notify(
                &console,
                format!("Role {name} created, but {policy} was not attached: {}", error.message),
            )
            .await;
        return Redirect::to("/iam/roles").into_response();
    }
    signed.notify(&console, format!("Role {name} created.")).await;
    Redirect::to("/iam/roles").into_response()
}

/// A form that carries nothing but its CSRF token.
#[derive(Deserialize)]
pub struct CsrfOnly {
    csrf: String,
}

impl CsrfOnly {
    pub fn csrf(&self) -> &str {
        &self.csrf
    }
}

/// "Revoke active sessions", as AWS's console does it: an inline policy on the role denying
/// everything to sessions issued before now (`aws:TokenIssueTime`). Sessions made after it
/// are not affected.
pub async fn revoke_sessions(
    State(console): State<Console>,
    signed: Signed,
    Path(name): Path<String>,
    Form(form): Form<CsrfOnly>,
) -> Response {
    if let Some(refused) = signed.refuse_forged(&form.csrf) {
        return refused;
    }
    let now = time::OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .unwrap_or_else(|_| time::OffsetDateTime::now_utc());
    let now = now
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    let policy = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Deny","Action":["*"],"Resource":["*"],"Condition":{{"DateLessThan":{{"aws:TokenIssueTime":"{now}"}}}}}}]}}"#
    );
    let params = [
        ("RoleName", name.as_str()),
        ("PolicyName", "AWSRevokeOlderSessions"),
        ("PolicyDocument", policy.as_str()),
    ];
    match signed.call(&console, "PutRolePolicy", &params).await {
        Ok(_) => {
            signed
                .notify(
                    &console,
                    format!("Sessions of role {name} issued before {now} are revoked."),
                )
                .await;
            Redirect::to("/iam/roles").into_response()
        }
        Err(error) => call_failed(&signed, "iam:PutRolePolicy", &error),
    }
}

#[derive(Template)]
#[template(path = "role.html")]
struct RolePage<'a> {
    chrome: Option<Chrome>,
    csrf: &'a str,
    account: String,
    name: String,
    arn: String,
    trust: String,
    attached: Vec<String>,
    inline: Vec<String>,
    error: Option<String>,
}

async fn role_page(console: &Console, signed: &Signed, name: &str, error: Option<String>) -> Response {
    let params = [("RoleName", name)];
    let got = match signed.call(console, "GetRole", &params).await {
        Ok(xml) => Results::new(xml),
        Err(error) => return call_failed(signed, "iam:GetRole", &error),
    };
    let field = |tag: &str| got.text(tag).unwrap_or_default();
    let trust = percent_decode_str(&field("AssumeRolePolicyDocument"))
        .decode_utf8_lossy()
        .into_owned();
    // Shown indented, as people edit it.
    let trust = serde_json::from_str::<serde_json::Value>(&trust)
        .ok()
        .and_then(|value| serde_json::to_string_pretty(&value).ok())
        .unwrap_or(trust);
    let attached = match signed.call(console, "ListAttachedRolePolicies", &params).await {
        Ok(xml) => Results::new(xml)
            .members("AttachedPolicies")
            .into_iter()
            .filter_map(|m| m.get("PolicyArn").cloned())
            .collect(),
        Err(_) => Vec::new(),
    };
    let inline = match signed.call(console, "ListRolePolicies", &params).await {
        Ok(xml) => Results::new(xml).texts("PolicyNames"),
        Err(_) => Vec::new(),
    };
    let mut response = render(&RolePage {
        chrome: Some(signed.chrome()),
        csrf: &signed.session.csrf,
        account: signed.session.principal.account_id.clone(),
        name: name.to_owned(),
        arn: field("Arn"),
        trust,
        attached,
        inline,
        error: error.clone(),
    });
    if error.is_some() {
        *response.status_mut() = StatusCode::BAD_REQUEST;
    }
    response
}

pub async fn role(State(console): State<Console>, signed: Signed, Path(name): Path<String>) -> Response {
    role_page(&console, &signed, &name, None).await
}

#[derive(Deserialize)]
pub struct RoleChange {
    csrf: String,
    /// `attach`, `detach`, `trust` or `delete`.
    change: String,
    #[serde(default)]
    value: String,
}

/// A role page's forms, each the IAM operation of its name run as the signed-in person.
pub async fn change_role(
    State(console): State<Console>,
    signed: Signed,
    Path(name): Path<String>,
    Form(form): Form<RoleChange>,
) -> Response {
    if let Some(refused) = signed.refuse_forged(&form.csrf) {
        return refused;
    }
    let value = form.value.trim();
    let (action, params, done) = match form.change.as_str() {
        "attach" => (
            "AttachRolePolicy",
            vec![("RoleName", name.as_str()), ("PolicyArn", value)],
            format!("Policy {value} attached."),
        ),
        "detach" => (
            "DetachRolePolicy",
            vec![("RoleName", name.as_str()), ("PolicyArn", value)],
            format!("Policy {value} detached."),
        ),
        "trust" => (
            "UpdateAssumeRolePolicy",
            vec![("RoleName", name.as_str()), ("PolicyDocument", value)],
            "Trust policy updated.".to_owned(),
        ),
        "delete" => (
            "DeleteRole",
            vec![("RoleName", name.as_str())],
            format!("Role {name} deleted."),
        ),
        _ => return StatusCode::BAD_REQUEST.into_response(),
    };
    match signed.call(&console, action, &params).await {
        Ok(_) => {
            signed.notify(&console, done).await;
            if form.change == "delete" {
                Redirect::to("/iam/roles").into_response()
            } else {
                Redirect::to(&format!("/iam/roles/{}", crate::display::segment(&name))).into_response()
            }
        }
        Err(error) if error.code == "AccessDenied" => call_failed(&signed, &format!("iam:{action}"), &error),
        Err(error) => role_page(&console, &signed, &name, Some(error.message)).await,
    }
}

#[derive(Template)]
#[template(path = "switch_role.html")]
struct SwitchRolePage<'a> {
    chrome: Option<Chrome>,
    csrf: &'a str,
    account: String,
    role: String,
    error: Option<String>,
}

#[derive(Deserialize, Default)]
pub struct SwitchRole {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    account: String,
    #[serde(default)]
    role: String,
}

pub async fn switch_role_form(signed: Signed, Query(asked): Query<SwitchRole>) -> Response {
    let account = if asked.account.is_empty() {
        signed.session.signed_in.account_id.clone()
    } else {
        asked.account
    };
    render(&SwitchRolePage {
        chrome: Some(signed.chrome()),
        csrf: &signed.session.csrf,
        account,
        role: asked.role,
        error: None,
    })
}

pub async fn switch_role(State(console): State<Console>, signed: Signed, Form(form): Form<SwitchRole>) -> Response {
    if let Some(refused) = signed.refuse_forged(&form.csrf) {
        return refused;
    }
    let (account, role) = (form.account.trim(), form.role.trim().trim_matches('/'));
    let again = |error: String, status: StatusCode| {
        let mut response = render(&SwitchRolePage {
            chrome: Some(signed.chrome()),
            csrf: &signed.session.csrf,
            account: account.to_owned(),
            role: role.to_owned(),
            error: Some(error),
        });
        *response.status_mut() = status;
        response
    };
    if account.len() != 12 || !account.bytes().all(|b| b.is_ascii_digit()) || role.is_empty() {
        return again(
            "Enter the role's 12-digit account id and its name.".to_owned(),
            StatusCode::BAD_REQUEST,
        );
    }
    // A role session is made from the person who signed in (switching from a role starts
    // again from them), named after them as AWS's console names it.
    let who = &signed.session.signed_in;
    let session_name = match &who.identity {
        coffer_auth::Identity::User { name, .. } => name.clone(),
        _ => "root".to_owned(),
    };
    let role_arn = format!("arn:aws:iam::{account}:role/{role}");
    match console
        .query
        .switch_role(who, &signed.facts, &role_arn, &session_name)
        .await
    {
        Ok(principal) => {
            console.sessions.switch(&signed.token, Some(principal)).await;
            signed
                .notify(&console, format!("You are now acting as role {role}."))
                .await;
            Redirect::to("/").into_response()
        }
        Err(error) => again(
            format!("Could not switch to {role_arn}: {}", error.message),
            StatusCode::from_u16(error.status).unwrap_or(StatusCode::FORBIDDEN),
        ),
    }
}

pub async fn switch_back(State(console): State<Console>, signed: Signed, Form(form): Form<CsrfOnly>) -> Response {
    if let Some(refused) = signed.refuse_forged(&form.csrf) {
        return refused;
    }
    console.sessions.switch(&signed.token, None).await;
    signed.notify(&console, "You are acting as yourself again.").await;
    Redirect::to("/").into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trusted_entities_are_read_from_the_encoded_trust_policy() {
        let encoded = "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C%22Principal%22%3A%7B%22AWS%22%3A%5B%22arn%3Aaws%3Aiam%3A%3A111122223333%3Aroot%22%5D%2C%22Federated%22%3A%22arn%3Aaws%3Aiam%3A%3A111122223333%3Aoidc-provider%2Fci%22%7D%2C%22Action%22%3A%22sts%3AAssumeRole%22%7D%5D%7D";
        let text = trusted_entities(encoded);
        assert!(text.contains("arn:aws:iam::111122223333:root"), "{text}");
        assert!(text.contains("oidc-provider/ci"), "{text}");
        assert_eq!(trusted_entities("not json"), "");
    }
}
