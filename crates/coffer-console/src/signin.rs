//! Signing in (the root user with its account's id or alias and password, an IAM user with
//! the account, its name and its login profile's password), signing out, and choosing a new
//! password when the login profile requires one.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use coffer_auth::Identity;
use coffer_iam::SignInNext as Next;
use serde::Deserialize;

use crate::page::{Chrome, Signed, error_page, render};

use crate::throttle::{Refused, address_key};
use crate::{Console, session};

#[derive(Template)]
#[template(path = "signin.html")]
struct SignInPage<'a> {
    chrome: Option<Chrome>,
    account: &'a str,
    username: &'a str,
    error: Option<&'a str>,
    /// Set when the browser will refuse the session cookie: plain HTTP on a host that is
    /// not this machine.
    insecure_host: Option<String>,
}

/// The host the console is reached at, when a browser will refuse its `Secure` session
/// cookie there: plain HTTP (no TLS proxy said `https`) on a name that is not loopback.
/// Browsers keep `Secure` cookies over plain HTTP only for `localhost` and loopback
/// addresses.
fn insecure_host(headers: &HeaderMap, peer: Option<&coffer_auth::PeerAddr>) -> Option<String> {
    // Coffer's own TLS.
    if peer.is_some_and(|peer| peer.tls) {
        return None;
    }
    // A TLS proxy in front says so: `X-Forwarded-Proto` (its first value, the client's
    // side) or RFC 7239's `Forwarded: proto=https`.
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("");
    let forwarded_proto = header("x-forwarded-proto").split(',').next().unwrap_or("").trim();
    let forwarded = header("forwarded").split(',').next().unwrap_or("");
    let rfc7239_https = forwarded
        .split(';')
        .filter_map(|pair| pair.trim().split_once('='))
        .any(|(key, value)| key.eq_ignore_ascii_case("proto") && value.trim_matches('"').eq_ignore_ascii_case("https"));
    if forwarded_proto.eq_ignore_ascii_case("https") || rfc7239_https {
        return None;
    }
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok())?;
    let name = match host.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(v6),
        None => host.rsplit_once(':').map_or(host, |(name, _)| name),
    };
    let loopback = name.eq_ignore_ascii_case("localhost")
        || name.to_ascii_lowercase().ends_with(".localhost")
        || name.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback());
    (!loopback).then(|| host.to_owned())
}

/// The sign-in form again, saying why: the browser did not send back the cookie it was
/// given a moment ago.
pub fn cookie_refused() -> Response {
    let mut response = render(&SignInPage {
        chrome: None,
        account: "",
        username: "",
        error: Some(
            "You were signed in, but your browser did not keep the sign-in cookie. The console's cookie is Secure: \
             browsers keep it only over HTTPS, or over plain HTTP at localhost or 127.0.0.1. Open the console that way, \
             or allow cookies for this site, and sign in again.",
        ),
        insecure_host: None,
    });
    *response.status_mut() = StatusCode::BAD_REQUEST;
    response
}

/// `/signin?account=<id or alias>`: the link a new user's sign-in details give.
#[derive(Deserialize)]
pub struct Prefill {
    #[serde(default)]
    account: String,
}

pub async fn form(
    Query(prefill): Query<Prefill>,
    peer: Option<Extension<coffer_auth::PeerAddr>>,
    headers: HeaderMap,
) -> Response {
    // An account id or alias is at most 63 characters; anything longer is not one.
    let account = if prefill.account.len() <= 63 {
        prefill.account.trim()
    } else {
        ""
    };
    render(&SignInPage {
        chrome: None,
        account,
        username: "",
        error: None,
        insecure_host: insecure_host(&headers, peer.as_deref()),
    })
}

#[derive(Deserialize)]
pub struct SignIn {
    account: String,
    #[serde(default)]
    username: String,
    password: String,
}

/// AWS's words for any failed sign-in: they never say which part was wrong.
const INCORRECT: &str = "Your authentication information is incorrect. Please try again.";

/// Whether a form came from this console (a cross-site form post carries another Origin).
fn same_origin(headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return true;
    };
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok()).unwrap_or("");
    origin
        .split_once("://")
        .is_some_and(|(_, authority)| authority.eq_ignore_ascii_case(host))
}

pub async fn submit(
    State(console): State<Console>,
    peer: Option<Extension<coffer_auth::PeerAddr>>,
    headers: HeaderMap,
    Form(form): Form<SignIn>,
) -> Response {
    if !same_origin(&headers) {
        return error_page(
            StatusCode::FORBIDDEN,
            "Sign-in refused",
            "The form came from another site.",
        );
    }
    let account_name = form.account.trim();
    let username = form.username.trim();
    // The client as the listener (and any trusted proxy) says, for the throttle and the log.
    let client = peer
        .as_deref()
        .and_then(|peer| coffer_auth::RequestFacts::new(&headers, Some(peer), None).source_ip);
    let address = client.map(address_key).unwrap_or_else(|| "ip:unknown".to_owned());
    let account = console.query.sign_in_account(account_name).await;
    let facts = coffer_auth::RequestFacts::new(&headers, peer.as_deref(), None);
    let scheme = if facts.secure_transport { "https" } else { "http" };
    let login_to = format!(
        "{scheme}://{}/",
        headers.get(header::HOST).and_then(|v| v.to_str().ok()).unwrap_or("")
    );
    let record = |failure: Option<&'static str>| {
        console
            .query
            .record_sign_in(account.as_ref(), username, failure, &facts, &login_to)
    };
    // Named by the account's id, so its alias and its id count as one name.
    let account_key = account
        .as_ref()
        .map_or_else(|| account_name.to_ascii_lowercase(), |a| a.account_id.clone());
    let name_key = format!("name:{account_key}/{}", username.to_lowercase());
    let attempt = match console.throttle.begin(&address, &name_key).await {
        Ok(attempt) => attempt,
        Err(Refused::Unavailable) => {
            return error_page(
                StatusCode::SERVICE_UNAVAILABLE,
                "Sign-in is unavailable",
                "The console cannot reach its database. Try again in a moment.",
            );
        }
        Err(Refused::Wait(wait)) => {
            let when = match wait.as_secs() {
                0..60 => format!("{} seconds", wait.as_secs().max(1)),
                secs => format!("{} minutes", secs.div_ceil(60)),
            };
            let mut response = error_page(
                StatusCode::TOO_MANY_REQUESTS,
                "Too many sign-in attempts",
                &format!("Sign-in is paused after repeated failures. Try again in {when}."),
            );
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, wait.as_secs().max(1).into());
            return response;
        }
    };
    let Some((principal, next, stamp)) = console.query.sign_in(account.as_ref(), username, &form.password).await else {
        // Not the typed user name: people type passwords into it by mistake.
        // At most 63 characters of what was typed, as an account id or alias has.
        let account: String = account_key.chars().take(63).collect();
        tracing::info!(%account, iam_user = !username.is_empty(), %address, "console sign-in failed");
        console.throttle.failed(attempt).await;
        // Refused either way; a record that could not be written is logged by the trail.
        let _ = record(Some("Failed authentication")).await;
        let mut response = render(&SignInPage {
            chrome: None,
            account: account_name,
            username,
            error: Some(INCORRECT),
            insecure_host: insecure_host(&headers, peer.as_deref()),
        });
        *response.status_mut() = StatusCode::UNAUTHORIZED;
        return response;
    };
    console.throttle.succeeded(attempt).await;
    // A sign-in the trail could not record does not happen.
    if record(None).await.is_err() {
        return error_page(
            StatusCode::SERVICE_UNAVAILABLE,
            "Sign-in is unavailable",
            "The console could not record your sign-in. Try again in a moment.",
        );
    }
    if next == Next::Expired {
        return error_page(
            StatusCode::FORBIDDEN,
            "Your password has expired",
            "This account's password policy lets only an administrator set a new password. Ask yours to reset it.",
        );
    }
    let must_change = next == Next::ChangePassword;
    console.query.record_password_use(&principal).await;
    let label = account
        .as_ref()
        .map(|a| a.alias.clone().unwrap_or_else(|| a.account_id.clone()))
        .unwrap_or_default();
    tracing::info!(principal = %principal.arn(), %address, "console sign-in");
    let Some(token) = console.sessions.start(principal, label, must_change, stamp).await else {
        return error_page(
            StatusCode::SERVICE_UNAVAILABLE,
            "Sign-in is unavailable",
            "The console could not record your session. Try again in a moment.",
        );
    };
    // `?signed-in` lets the page after tell a refused cookie from never having signed in.
    let target = if must_change {
        "/change-password?signed-in"
    } else {
        "/?signed-in"
    };
    let mut response = Redirect::to(target).into_response();
    if let Ok(cookie) = session::cookie(&token).parse() {
        response.headers_mut().insert(header::SET_COOKIE, cookie);
    }
    response
}

#[derive(Deserialize)]
pub struct SignOut {
    csrf: String,
}

pub async fn sign_out(State(console): State<Console>, signed: Signed, Form(form): Form<SignOut>) -> Response {
    if let Some(refused) = signed.refuse_forged(&form.csrf) {
        return refused;
    }
    console.sessions.end(&signed.token).await;
    let mut response = Redirect::to("/signin").into_response();
    if let Ok(cookie) = session::expired_cookie().parse() {
        response.headers_mut().insert(header::SET_COOKIE, cookie);
    }
    response
}

#[derive(Template)]
#[template(path = "change_password.html")]
struct ChangePasswordPage<'a> {
    chrome: Option<Chrome>,
    csrf: &'a str,
    required: bool,
    root: bool,
    error: Option<&'a str>,
}

pub async fn change_form(
    signed: Result<Signed, Response>,
    Query(landing): Query<crate::home::Landing>,
    headers: HeaderMap,
) -> Response {
    let signed = match signed {
        Ok(_) if landing.signed_in() => return Redirect::to("/change-password").into_response(),
        Ok(signed) => signed,
        Err(_) if landing.signed_in() && session::token_from(&headers).is_none() => return cookie_refused(),
        Err(redirect) => return redirect,
    };
    render(&ChangePasswordPage {
        chrome: (!signed.session.must_change_password).then(|| signed.chrome()),
        csrf: &signed.session.csrf,
        required: signed.session.must_change_password,
        root: matches!(signed.session.principal.identity, Identity::Root),
        error: None,
    })
}

#[derive(Deserialize)]
pub struct ChangePassword {
    csrf: String,
    old_password: String,
    new_password: String,
    confirm_password: String,
}

pub async fn change_submit(
    State(console): State<Console>,
    signed: Signed,
    Form(form): Form<ChangePassword>,
) -> Response {
    if let Some(refused) = signed.refuse_forged(&form.csrf) {
        return refused;
    }
    let again = |error: &str| {
        let mut response = render(&ChangePasswordPage {
            chrome: (!signed.session.must_change_password).then(|| signed.chrome()),
            csrf: &signed.session.csrf,
            required: signed.session.must_change_password,
            root: matches!(signed.session.principal.identity, Identity::Root),
            error: Some(error),
        });
        *response.status_mut() = StatusCode::BAD_REQUEST;
        response
    };
    if form.new_password != form.confirm_password {
        return again("The new passwords do not match.");
    }
    let params = [
        ("OldPassword", form.old_password.as_str()),
        ("NewPassword", form.new_password.as_str()),
    ];
    match signed.call(&console, "ChangePassword", &params).await {
        Ok(_) => {
            if let Some(stamp) = console.query.password_stamp(&signed.session.principal).await {
                console.sessions.password_changed(&signed.token, stamp).await;
            }
            Redirect::to("/").into_response()
        }
        Err(error) => again(&error.message),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_form_from_another_origin_is_refused() {
        let mut headers = HeaderMap::new();
        headers.insert(header::HOST, "127.0.0.1:9001".parse().unwrap());
        assert!(same_origin(&headers), "no Origin: a same-origin navigation");
        headers.insert(header::ORIGIN, "http://127.0.0.1:9001".parse().unwrap());
        assert!(same_origin(&headers));
        headers.insert(header::ORIGIN, "https://evil.example".parse().unwrap());
        assert!(!same_origin(&headers));
    }
}
