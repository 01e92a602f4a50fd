//! IAM → Identity providers: the account's OpenID Connect providers (issuer, audiences),
//! adding one (a CI system's issuer and the audience its tokens carry) and deleting one.
//! Roles then trust a provider for AssumeRoleWithWebIdentity.

use askama::Template;
use axum::Form;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use crate::Console;
use crate::display::day;
use crate::page::{Chrome, Signed, call_failed, render};
use crate::results::Results;

struct ProviderRow {
    arn: String,
    url: String,
    audiences: String,
    created: String,
}

#[derive(Template)]
#[template(path = "identity_providers.html")]
struct ProvidersPage<'a> {
    chrome: Option<Chrome>,
    csrf: &'a str,
    rows: Vec<ProviderRow>,
    error: Option<String>,
}

async fn providers_page(console: &Console, signed: &Signed, error: Option<String>) -> Response {
    let listed = match signed.call(console, "ListOpenIDConnectProviders", &[]).await {
        Ok(xml) => Results::new(xml),
        Err(error) => return call_failed(signed, "iam:ListOpenIDConnectProviders", &error),
    };
    let mut rows = Vec::new();
    for provider in listed.members("OpenIDConnectProviderList") {
        let arn = provider.get("Arn").cloned().unwrap_or_default();
        let got = signed
            .call(
                console,
                "GetOpenIDConnectProvider",
                &[("OpenIDConnectProviderArn", arn.as_str())],
            )
            .await;
        let (url, audiences, created) = match got {
            Ok(xml) => {
                let results = Results::new(xml);
                let field = |tag: &str| results.text(tag).unwrap_or_default();
                (
                    field("Url"),
                    results.texts("ClientIDList").join(", "),
                    day(&field("CreateDate")),
                )
            }
            Err(error) => (String::new(), error.message, String::new()),
        };
        rows.push(ProviderRow {
            arn,
            url,
            audiences,
            created,
        });
    }
    render(&ProvidersPage {
        chrome: Some(signed.chrome()),
        csrf: &signed.session.csrf,
        rows,
        error,
    })
}

pub async fn providers(State(console): State<Console>, signed: Signed) -> Response {
    providers_page(&console, &signed, None).await
}

#[derive(Deserialize)]
pub struct ProviderForm {
    csrf: String,
    /// `add` or `delete`.
    change: String,
    #[serde(default)]
    url: String,
    #[serde(default)]
    audience: String,
    #[serde(default)]
    arn: String,
}

pub async fn change(State(console): State<Console>, signed: Signed, Form(form): Form<ProviderForm>) -> Response {
    if let Some(refused) = signed.refuse_forged(&form.csrf) {
        return refused;
    }
    let (action, params, done) = match form.change.as_str() {
        "add" => (
            "CreateOpenIDConnectProvider",
            vec![
                ("Url", form.url.trim()),
                ("ClientIDList.member.1", form.audience.trim()),
            ],
            format!("Identity provider {} added.", form.url.trim()),
        ),
        "delete" => (
            "DeleteOpenIDConnectProvider",
            vec![("OpenIDConnectProviderArn", form.arn.as_str())],
            format!("Identity provider {} deleted.", form.arn),
        ),
        _ => return StatusCode::BAD_REQUEST.into_response(),
    };
    match signed.call(&console, action, &params).await {
        Ok(_) => {
            signed.notify(&console, done).await;
            Redirect::to("/iam/identity-providers").into_response()
        }
        Err(error) if error.code == "AccessDenied" => call_failed(&signed, &format!("iam:{action}"), &error),
        Err(error) => {
            let mut response = providers_page(&console, &signed, Some(error.message)).await;
            *response.status_mut() = StatusCode::from_u16(error.status).unwrap_or(StatusCode::BAD_REQUEST);
            response
        }
    }
}
