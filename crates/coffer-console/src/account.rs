//! IAM → Account settings: the account's alias (what people type to sign in) and its password
//! policy. Every read and write is the IAM operation of the same name, run as the signed-in
//! principal.

use askama::Template;
use axum::Form;
use axum::body::Bytes;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use base64::Engine;

use crate::Console;
use crate::page::{Chrome, Signed, call_failed, render};
use crate::results::Results;

#[derive(Template)]
#[template(path = "account.html")]
struct AccountPage<'a> {
    chrome: Option<Chrome>,
    csrf: &'a str,
    account_id: &'a str,
    alias: Option<String>,
    /// `None`: the account has no policy (IAM's default applies).
    policy: Option<PolicyView>,
    policy_denied: bool,
    error: Option<String>,
}

/// The password policy as the form shows it.
struct PolicyView {
    minimum_length: String,
    symbols: bool,
    numbers: bool,
    uppercase: bool,
    lowercase: bool,
    allow_change: bool,
    max_age: String,
    reuse: String,
    hard_expiry: bool,
}

async fn account_page(console: &Console, signed: &Signed, error: Option<String>) -> Response {
    let alias = match signed.call(console, "ListAccountAliases", &[]).await {
        Ok(xml) => Results::new(xml).text("member"),
        Err(error) => return call_failed(signed, "iam:ListAccountAliases", &error),
    };
    let policy = signed.call(console, "GetAccountPasswordPolicy", &[]).await;
    let policy_denied = matches!(&policy, Err(e) if e.code == "AccessDenied");
    let policy = policy.ok().map(Results::new).map(|p| {
        let yes = |name: &str| p.text(name).is_some_and(|v| v == "true");
        PolicyView {
            minimum_length: p.text("MinimumPasswordLength").unwrap_or_default(),
            symbols: yes("RequireSymbols"),
            numbers: yes("RequireNumbers"),
            uppercase: yes("RequireUppercaseCharacters"),
            lowercase: yes("RequireLowercaseCharacters"),
            allow_change: yes("AllowUsersToChangePassword"),
            max_age: p.text("MaxPasswordAge").unwrap_or_default(),
            reuse: p.text("PasswordReusePrevention").unwrap_or_default(),
            hard_expiry: yes("HardExpiry"),
        }
    });
    render(&AccountPage {
        chrome: Some(signed.chrome()),
        csrf: &signed.session.csrf,
        account_id: &signed.session.principal.account_id,
        alias,
        policy,
        policy_denied,
        error,
    })
}

pub async fn account(State(console): State<Console>, signed: Signed) -> Response {
    account_page(&console, &signed, None).await
}

/// The account forms: `change` says which (`alias`, `delete-alias`, `policy`,
/// `delete-policy`); the rest are the IAM operation's parameters.
pub async fn change(State(console): State<Console>, signed: Signed, body: Bytes) -> Response {
    let fields: Vec<(String, String)> = form_urlencoded::parse(&body).into_owned().collect();
    let field = |name: &str| fields.iter().find(|(k, _)| k == name).map(|(_, v)| v.trim());
    if let Some(refused) = signed.refuse_forged(field("csrf").unwrap_or("")) {
        return refused;
    }
    let checked = |name: &str| if field(name).is_some() { "true" } else { "false" };
    let (action, params): (&str, Vec<(&str, &str)>) = match field("change") {
        Some("alias") => (
            "CreateAccountAlias",
            vec![("AccountAlias", field("alias").unwrap_or(""))],
        ),
        Some("delete-alias") => (
            "DeleteAccountAlias",
            vec![("AccountAlias", field("alias").unwrap_or(""))],
        ),
        Some("policy") => {
            let mut params = vec![
                ("RequireSymbols", checked("symbols")),
                ("RequireNumbers", checked("numbers")),
                ("RequireUppercaseCharacters", checked("uppercase")),
                ("RequireLowercaseCharacters", checked("lowercase")),
                ("AllowUsersToChangePassword", checked("allow_change")),
                ("HardExpiry", checked("hard_expiry")),
            ];
            for (param, name) in [
                ("MinimumPasswordLength", "minimum_length"),
                ("MaxPasswordAge", "max_age"),
                ("PasswordReusePrevention", "reuse"),
            ] {
                if let Some(value) = field(name).filter(|v| !v.is_empty()) {
                    params.push((param, value));
                }
            }
            ("UpdateAccountPasswordPolicy", params)
        }
        Some("delete-policy") => ("DeleteAccountPasswordPolicy", Vec::new()),
        _ => return crate::page::not_found().await,
    };
    match signed.call(&console, action, &params).await {
        Ok(_) => {
            signed.notify(&console, "Account settings saved.").await;
            Redirect::to("/iam/account").into_response()
        }
        Err(error) if error.code == "AccessDenied" => call_failed(&signed, &format!("iam:{action}"), &error),
        Err(error) => {
            let mut response = account_page(&console, &signed, Some(error.message)).await;
            *response.status_mut() =
                axum::http::StatusCode::from_u16(error.status).unwrap_or(axum::http::StatusCode::BAD_REQUEST);
            response
        }
    }
}

/// "Download credential report": the report made (or a fresh one reused) and read, as AWS's
/// console does, sent as `credential_report.csv`.
pub async fn credential_report(
    State(console): State<Console>,
    signed: Signed,
    Form(form): Form<crate::roles::CsrfOnly>,
) -> Response {
    if let Some(refused) = signed.refuse_forged(form.csrf()) {
        return refused;
    }
    if let Err(error) = signed.call(&console, "GenerateCredentialReport", &[]).await {
        return crate::page::call_failed(&signed, "iam:GenerateCredentialReport", &error);
    }
    let content = match signed.call(&console, "GetCredentialReport", &[]).await {
        Ok(xml) => Results::new(xml).text("Content").unwrap_or_default(),
        Err(error) => return crate::page::call_failed(&signed, "iam:GetCredentialReport", &error),
    };
    let csv = base64::engine::general_purpose::STANDARD
        .decode(content)
        .unwrap_or_default();
    (
        [
            (axum::http::header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                axum::http::header::CONTENT_DISPOSITION,
                "attachment; filename=\"credential_report.csv\"",
            ),
        ],
        csv,
    )
        .into_response()
}
