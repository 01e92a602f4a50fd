//! What every page shares: the signed-in session as an extractor, CSRF checks, the pages for
//! a denied action and for errors, and the security headers on every response.

use askama::Template;
use axum::extract::{FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Redirect, Response};
use coffer_iam::CallError;

use crate::Console;
use crate::session::{self, Session};

/// A request from a signed-in person: the session and its cookie token.
pub struct Signed {
    pub session: Session,
    pub token: String,
    /// Facts for the IAM call (`aws:SourceIp`, `aws:UserAgent`).
    pub facts: coffer_auth::RequestFacts,
    /// The `Host` the person reached the console at.
    pub host: String,
    peer: Option<coffer_auth::PeerAddr>,
    /// The page's path, to mark its section in the sidebar.
    path: String,
    /// What the last action did, said once on the page shown after it.
    notice: Option<String>,
    /// The console page the request came from (its `Referer`, when it is this console's
    /// own), else `/`: where a failure's "Back" leads.
    pub back: String,
}

impl FromRequestParts<Console> for Signed {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, console: &Console) -> Result<Self, Self::Rejection> {
        let Some(token) = session::token_from(&parts.headers) else {
            return Err(Redirect::to("/signin").into_response());
        };
        let Some(session) = console.sessions.get(&token).await else {
            return Err(Redirect::to("/signin").into_response());
        };
        // A person whose password changed since sign-in (an administrator's reset, a change
        // in another session), or whose console access was taken away (or who was deleted,
        // even if a new user now has the name), is signed out at once.
        if console.query.password_stamp(&session.signed_in).await != Some(session.password) {
            console.sessions.end(&token).await;
            return Err(Redirect::to("/signin").into_response());
        }
        // Until a required new password is chosen, only that page (and signing out) is open.
        if session.must_change_password && !matches!(parts.uri.path(), "/change-password" | "/signout") {
            return Err(Redirect::to("/change-password").into_response());
        }
        let peer = parts.extensions.get::<coffer_auth::PeerAddr>().cloned();
        let facts = coffer_auth::RequestFacts::new(&parts.headers, peer.as_ref(), Some("us-east-1".to_owned()));
        let host = parts
            .headers
            .get(http::header::HOST)
            .and_then(|h| h.to_str().ok())
            .unwrap_or("127.0.0.1")
            .to_owned();
        // Only a page shown takes the notice; an action's POST leaves it for the page after.
        let notice = match parts.method {
            http::Method::GET if session.has_notice() => console.sessions.take_notice(&token).await,
            _ => None,
        };
        let back = back_link(&parts.headers, &host);
        Ok(Signed {
            session,
            token,
            facts,
            host,
            peer,
            path: parts.uri.path().to_owned(),
            notice,
            back,
        })
    }
}

impl Signed {
    /// The connection the person is on (for S3's `aws:SourceIp`).
    pub fn peer(&self) -> Option<coffer_auth::PeerAddr> {
        self.peer.clone()
    }

    /// Runs an IAM operation as the signed-in principal.
    pub async fn call(
        &self,
        console: &Console,
        action: &str,
        params: &[(&str, &str)],
    ) -> Result<Option<String>, CallError> {
        console
            .query
            .call_as(&self.session.principal, &self.facts, action, params)
            .await
    }

    /// The refusal for a form whose CSRF token is not the session's; `None` when it is.
    pub fn refuse_forged(&self, token: &str) -> Option<Response> {
        (!self.session.csrf_matches(token)).then(|| {
            error_page(
                StatusCode::FORBIDDEN,
                "This form has expired",
                "The form was not sent from this session. Reload the page and try again.",
            )
        })
    }

    /// As [`Signed::refuse_forged`] for a script's request, which sends the token in the
    /// `x-csrf-token` header (a cross-site page cannot set it without a CORS preflight the
    /// console refuses).
    /// The refusal is plain text: the upload script shows it beside the file.
    pub fn refuse_forged_header(&self, headers: &http::HeaderMap) -> Option<Response> {
        let token = headers.get("x-csrf-token").and_then(|v| v.to_str().ok()).unwrap_or("");
        (!self.session.csrf_matches(token)).then(|| {
            closing(plain_text(
                StatusCode::FORBIDDEN,
                "This page has expired: reload it and try again.",
            ))
        })
    }

    /// The signed-in IAM user's name; `None` for the root user.
    pub fn own_user_name(&self) -> Option<String> {
        match &self.session.principal.identity {
            coffer_auth::Identity::User { name, .. } => Some(name.clone()),
            coffer_auth::Identity::Root
            | coffer_auth::Identity::AssumedRole { .. }
            | coffer_auth::Identity::FederatedUser { .. } => None,
        }
    }

    /// The layout's view of the session.
    pub fn chrome(&self) -> Chrome {
        Chrome {
            who: match &self.session.principal.identity {
                coffer_auth::Identity::Root => "Root user".to_owned(),
                coffer_auth::Identity::User { name, .. } => name.clone(),
                coffer_auth::Identity::AssumedRole { role_name, .. } => role_name.clone(),
                coffer_auth::Identity::FederatedUser { name, .. } => name.clone(),
            },
            account: if self.switched() {
                self.session.principal.account_id.clone()
            } else {
                self.session.account_label.clone()
            },
            switched: self.switched(),
            csrf: self.session.csrf.clone(),
            section: Section::of(&self.path),
            notice: self.notice.clone(),
        }
    }

    /// Whether the console acts as a role the person switched to.
    pub fn switched(&self) -> bool {
        crate::session::Sessions::is_switched(&self.session)
    }

    /// Says `text` on the next page this person sees (an action's success, before its
    /// redirect).
    pub async fn notify(&self, console: &Console, text: impl Into<String>) {
        console.sessions.notice(&self.token, text.into()).await;
    }
}

/// A response sent before the request's body was read: the connection cannot carry another
/// request after it, so the client is told to close it.
pub fn closing(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    response
}

/// A short answer in words for the page's script, which shows it as text.
pub fn plain_text(status: StatusCode, text: &str) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        text.to_owned(),
    )
        .into_response()
}

/// What the layout shows of the session on every page.
#[derive(Clone, Debug)]
pub struct Chrome {
    pub who: String,
    pub account: String,
    /// The console acts as a role session ("Switch back" is offered).
    pub switched: bool,
    pub csrf: String,
    /// Which sidebar entry the page belongs to (marked `aria-current`).
    pub section: Section,
    /// What the last action did.
    pub notice: Option<String>,
}

/// The sidebar's entries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Section {
    Users,
    Groups,
    Roles,
    IdentityProviders,
    Policies,
    Account,
    Buckets,
    Events,
    None,
}

impl Section {
    fn of(path: &str) -> Section {
        let under = |prefix: &str| path == prefix || path.starts_with(&format!("{prefix}/"));
        if under("/iam/users") || path == "/iam/new-user" {
            Section::Users
        } else if under("/iam/groups") {
            Section::Groups
        } else if under("/iam/roles") || path == "/switch-role" {
            Section::Roles
        } else if under("/iam/identity-providers") {
            Section::IdentityProviders
        } else if under("/iam/policies") || under("/iam/policy") {
            Section::Policies
        } else if under("/iam/account") {
            Section::Account
        } else if under("/s3/buckets") || path == "/s3/new-bucket" {
            Section::Buckets
        } else if path == "/events" {
            Section::Events
        } else {
            Section::None
        }
    }

    /// `aria-current="page"` for the entry of this section.
    pub fn current(&self, entry: &str) -> &'static str {
        let this = match self {
            Section::Users => "users",
            Section::Groups => "groups",
            Section::Roles => "roles",
            Section::IdentityProviders => "identity-providers",
            Section::Policies => "policies",
            Section::Account => "account",
            Section::Buckets => "buckets",
            Section::Events => "events",
            Section::None => "",
        };
        if this == entry { r#"aria-current="page""# } else { "" }
    }
}

/// The path (and query) of the `Referer` when it is a page of this console (`host`), else `/`.
fn back_link(headers: &http::HeaderMap, host: &str) -> String {
    headers
        .get(http::header::REFERER)
        .and_then(|v| v.to_str().ok())
        .and_then(|referer| referer.split_once("://"))
        .and_then(|(_, rest)| rest.split_once('/'))
        .filter(|(authority, _)| authority.eq_ignore_ascii_case(host))
        .map(|(_, path)| format!("/{path}"))
        .filter(|path| !path.starts_with("//"))
        .unwrap_or_else(|| "/".to_owned())
}

/// A rendered template, or a plain error page if rendering fails.
pub fn render(template: &impl Template) -> Response {
    match template.render() {
        Ok(html) => Html(html).into_response(),
        Err(err) => {
            tracing::error!(%err, "a console template failed to render");
            (StatusCode::INTERNAL_SERVER_ERROR, "The page could not be shown.").into_response()
        }
    }
}

#[derive(Template)]
#[template(path = "message.html")]
struct MessagePage<'a> {
    chrome: Option<Chrome>,
    title: &'a str,
    message: &'a str,
    /// AWS's error code, shown as a detail below the message.
    code: Option<&'a str>,
    /// Where "Back" leads: the page the person came from, when it was this console's.
    back: &'a str,
}

pub fn error_page(status: StatusCode, title: &str, message: &str) -> Response {
    let mut response = render(&MessagePage {
        chrome: None,
        title,
        message,
        code: None,
        back: "/",
    });
    *response.status_mut() = status;
    response
}

#[derive(Template)]
#[template(path = "denied.html")]
struct DeniedPage<'a> {
    chrome: Option<Chrome>,
    action: &'a str,
    message: &'a str,
}

/// The page for an IAM call that failed: a denial names the action, as AWS's console does;
/// anything else shows AWS's error code and message.
pub fn call_failed(signed: &Signed, action: &str, error: &CallError) -> Response {
    failed(signed, action, error.status, error.code, &error.message)
}

/// The page for an IAM or S3 operation that failed with AWS's `code` and `message`.
pub fn failed(signed: &Signed, action: &str, status: u16, code: &str, message: &str) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = if code == "AccessDenied" {
        render(&DeniedPage {
            chrome: Some(signed.chrome()),
            action,
            message,
        })
    } else {
        // The message in words as the heading's story; the code only as a detail.
        render(&MessagePage {
            chrome: Some(signed.chrome()),
            title: "That did not work",
            message,
            code: Some(code),
            back: &signed.back,
        })
    };
    *response.status_mut() = status;
    response
}

pub async fn not_found() -> Response {
    error_page(StatusCode::NOT_FOUND, "Not found", "There is no such page.")
}

/// Headers that keep the console's pages to themselves: no framing, no scripts or styles
/// from elsewhere (htmx and ours are served from `/assets`), no MIME sniffing.
pub async fn security_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    let set = [
        (
            header::CONTENT_SECURITY_POLICY,
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
             frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
        ),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "same-origin"),
        (header::X_FRAME_OPTIONS, "DENY"),
    ];
    for (name, value) in set {
        headers.insert(name, HeaderValue::from_static(value));
    }
    if !headers.contains_key(header::CACHE_CONTROL) {
        // Pages hold account data: never from a shared cache, never from history.
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}
