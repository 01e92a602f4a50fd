//! The pages every signed-in person has: the home dashboard (what the principal may see: the
//! account's IAM summary for administrators, its buckets, its own credentials) and "My
//! security credentials" (the caller's own access keys and console password, as AWS's
//! console offers every user whose policy allows it).

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, Method};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use crate::display::{Listed, age, day};
use crate::page::{Chrome, Signed, render};
use crate::results::Results;
use crate::{Console, session};

/// IAM's account summary entries the dashboard shows, with their labels.
const SUMMARY: [(&str, &str); 4] = [
    ("Users", "Users"),
    ("Groups", "User groups"),
    ("Policies", "Customer managed policies"),
    ("MFADevices", "MFA devices"),
];

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    chrome: Option<Chrome>,
    /// The IAM user's own name; `None` for the root user.
    user_name: Option<String>,
    /// IAM's account summary, when the caller may read it (`iam:GetAccountSummary`).
    summary: Option<Vec<(&'static str, String)>>,
    buckets: Listed<String>,
}

/// `?signed-in`: the redirect after a sign-in, where a missing cookie means the browser
/// refused it.
#[derive(Deserialize)]
pub struct Landing {
    #[serde(rename = "signed-in")]
    signed_in: Option<String>,
}

impl Landing {
    pub fn signed_in(&self) -> bool {
        self.signed_in.is_some()
    }
}

pub async fn home(
    State(console): State<Console>,
    signed: Result<Signed, Response>,
    Query(landing): Query<Landing>,
    headers: HeaderMap,
) -> Response {
    let signed = match signed {
        // The marker has done its job: the address bar keeps a plain `/`.
        Ok(_) if landing.signed_in() => return Redirect::to("/").into_response(),
        Ok(signed) => signed,
        // Signed in a moment ago, yet no cookie came back: the browser dropped it. (A
        // cookie that came back but names no session is an ended one: sign in again.)
        Err(_) if landing.signed_in() && session::token_from(&headers).is_none() => {
            return crate::signin::cookie_refused();
        }
        Err(redirect) => return redirect,
    };
    let summary = signed.call(&console, "GetAccountSummary", &[]).await.ok().map(|xml| {
        let entries = Results::new(xml).elements("entry");
        SUMMARY
            .iter()
            .map(|(key, label)| {
                let value = entries
                    .iter()
                    .find(|e| e.get("key").is_some_and(|k| k == key))
                    .and_then(|e| e.get("value").cloned())
                    .unwrap_or_default();
                (*label, value)
            })
            .collect()
    });
    let buckets = match console
        .s3(&signed, Method::GET, "/", &[], coffer_s3::Body::empty())
        .await
        .ok()
        .await
    {
        Ok(reply) => Listed {
            items: reply
                .results()
                .await
                .elements("Bucket")
                .into_iter()
                .filter_map(|b| b.get("Name").cloned())
                .collect(),
            denied: None,
        },
        Err(failure) => Listed {
            items: Vec::new(),
            denied: Some(failure.message),
        },
    };
    render(&HomePage {
        chrome: Some(signed.chrome()),
        user_name: signed.own_user_name(),
        summary,
        buckets,
    })
}

/// One of the caller's own access keys.
struct OwnKey {
    id: String,
    status: String,
    created: String,
    age: String,
}

#[derive(Template)]
#[template(path = "my_credentials.html")]
struct CredentialsPage<'a> {
    chrome: Option<Chrome>,
    csrf: &'a str,
    user_name: Option<String>,
    keys: Listed<OwnKey>,
}

/// "My security credentials": the caller's own keys (ListAccessKeys without a user name
/// lists the caller's) and the way to change its password.
pub async fn my_credentials(State(console): State<Console>, signed: Signed) -> Response {
    let keys = Listed::from_call(
        signed.call(&console, "ListAccessKeys", &[]).await,
        "AccessKeyMetadata",
        |k| {
            let created = k.get("CreateDate")?.clone();
            Some(OwnKey {
                id: k.get("AccessKeyId")?.clone(),
                status: k.get("Status")?.clone(),
                age: age(&created),
                created: day(&created),
            })
        },
    );
    render(&CredentialsPage {
        chrome: Some(signed.chrome()),
        csrf: &signed.session.csrf,
        user_name: signed.own_user_name(),
        keys,
    })
}
