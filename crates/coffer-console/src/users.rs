//! IAM → Users: the users table, a user's page with its security credentials, and the
//! create-user form (console password, groups, policies; the sign-in details shown once).
//! Every read and write is the IAM operation of the same name, run as the signed-in principal.

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use coffer_iam::CallError;
use serde::Deserialize;

use crate::Console;
use crate::access_keys::csv_href;
use crate::display::{age, cell, day, names_or_none, segment};
use crate::forms::Problem;
use crate::page::{Chrome, Signed, call_failed, render};
use crate::permits::Permits;
use crate::pickers::{Listing, NamePicker, PolicyPicker};
use crate::results::{Member, Results};
use crate::session::Reveal;
use crate::user_page::set_console_password;

/// Users per page of the table.
const PAGE_SIZE: &str = "50";
/// The most users a search looks through.
const SEARCH_LIMIT: &str = "1000";

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

async fn user_row(console: &Console, signed: &Signed, user: &Member) -> UserRow {
    let name = user.get("UserName").cloned().unwrap_or_default();
    let params = [("UserName", name.as_str())];
    let groups = cell(signed.call(console, "ListGroupsForUser", &params).await, |r| {
        names_or_none(&r, "Groups", "GroupName")
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

#[derive(Template)]
#[template(path = "user_new.html")]
struct NewUserPage<'a> {
    chrome: Option<Chrome>,
    csrf: &'a str,
    form: &'a NewUser,
    groups: NamePicker,
    policies: PolicyPicker,
    error: Option<String>,
}

/// The create-user form, as sent (every field optional so a half-filled form can be shown
/// again).
#[derive(Default)]
pub struct NewUser {
    csrf: String,
    name: String,
    path: String,
    console: bool,
    custom: bool,
    password: String,
    reset: bool,
    groups: Vec<String>,
    policies: Vec<String>,
}

impl NewUser {
    fn parse(body: &[u8]) -> NewUser {
        let mut form = NewUser::default();
        for (key, value) in form_urlencoded::parse(body) {
            let value = value.into_owned();
            match key.as_ref() {
                "csrf" => form.csrf = value,
                "name" => form.name = value.trim().to_owned(),
                "path" => form.path = value.trim().to_owned(),
                "console" => form.console = true,
                "password_kind" => form.custom = value == "custom",
                "password" => form.password = value,
                "reset" => form.reset = true,
                "group" => form.groups.push(value),
                "policy" => form.policies.push(value),
                _ => {}
            }
        }
        form
    }
}

async fn new_user_page(console: &Console, signed: &Signed, form: &NewUser, error: Option<String>) -> Response {
    render(&NewUserPage {
        chrome: Some(signed.chrome()),
        csrf: &signed.session.csrf,
        groups: NamePicker::load(console, signed, Listing::Groups, &[], &form.groups).await,
        policies: PolicyPicker::load(console, signed, &[], &form.policies).await,
        form,
        error,
    })
}

pub async fn new_user(State(console): State<Console>, signed: Signed) -> Response {
    let form = NewUser {
        console: false,
        reset: true,
        ..NewUser::default()
    };
    new_user_page(&console, &signed, &form, None).await
}

/// A new password that meets the account's password policy.
pub async fn generated_for_policy(console: &Console, signed: &Signed) -> String {
    let minimum = signed
        .call(console, "GetAccountPasswordPolicy", &[])
        .await
        .ok()
        .and_then(|xml| Results::new(xml).text("MinimumPasswordLength"))
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    generated_password(minimum)
}

/// A password that meets any IAM password policy: every kind of character, and at least 20
/// characters or the policy's minimum.
fn generated_password(length: usize) -> String {
    use rand::Rng;
    use rand::seq::SliceRandom;
    const KINDS: [&str; 4] = [
        "ABCDEFGHJKLMNPQRSTUVWXYZ",
        "abcdefghijkmnopqrstuvwxyz",
        "23456789",
        "!@#$%^&*()_+-=[]{}|",
    ];
    let mut rng = rand::rng();
    let mut chars: Vec<char> = KINDS
        .iter()
        .map(|kind| kind.as_bytes()[rng.random_range(0..kind.len())] as char)
        .collect();
    let all: Vec<u8> = KINDS.concat().into_bytes();
    while chars.len() < length.max(20) {
        chars.push(all[rng.random_range(0..all.len())] as char);
    }
    chars.shuffle(&mut rng);
    chars.into_iter().collect()
}

/// Creates the user, then its console password, groups and policies, each through its IAM
/// operation; the sign-in details are shown once on the next page.
pub async fn create_user(State(console): State<Console>, signed: Signed, body: axum::body::Bytes) -> Response {
    let form = NewUser::parse(&body);
    if let Some(refused) = signed.refuse_forged(&form.csrf) {
        return refused;
    }
    if let Some(problem) = crate::forms::iam_name_problem("user", &form.name, 64) {
        let mut response = new_user_page(&console, &signed, &form, Some(problem)).await;
        *response.status_mut() = StatusCode::BAD_REQUEST;
        return response;
    }
    // Check what can fail later before the first step: a chosen password the account's
    // policy refuses would otherwise leave a user created without the console access asked for.
    if form.console
        && form.custom
        && let Some(problem) = console
            .query
            .password_problem(&signed.session.principal, &form.password)
            .await
    {
        let mut response = new_user_page(&console, &signed, &form, Some(format!("Console password: {problem}"))).await;
        *response.status_mut() = StatusCode::BAD_REQUEST;
        return response;
    }
    let mut create = vec![("UserName", form.name.as_str())];
    if !form.path.is_empty() {
        create.push(("Path", form.path.as_str()));
    }
    if let Err(error) = signed.call(&console, "CreateUser", &create).await {
        if error.code == "AccessDenied" {
            return call_failed(&signed, "iam:CreateUser", &error);
        }
        let mut response = new_user_page(&console, &signed, &form, Some(error.message)).await;
        *response.status_mut() = StatusCode::from_u16(error.status).unwrap_or(StatusCode::BAD_REQUEST);
        return response;
    }
    let name = form.name.as_str();
    let mut failures = Vec::new();
    let mut password = None;
    if form.console {
        let chosen = if form.custom {
            form.password.clone()
        } else {
            generated_for_policy(&console, &signed).await
        };
        match set_console_password(&console, &signed, name, &chosen, form.reset, true).await {
            Ok(problem) => {
                failures.extend(problem);
                password = Some(chosen);
            }
            Err(error) => failures.push(format!("Console password: {}", error.message)),
        }
    }
    for group in &form.groups {
        if let Err(error) = signed
            .call(&console, "AddUserToGroup", &[("GroupName", group), ("UserName", name)])
            .await
        {
            failures.push(format!("Group {group}: {}", error.message));
        }
    }
    for policy in &form.policies {
        if let Err(error) = signed
            .call(
                &console,
                "AttachUserPolicy",
                &[("UserName", name), ("PolicyArn", policy)],
            )
            .await
        {
            failures.push(format!("Policy {policy}: {}", error.message));
        }
    }
    match password {
        // The password is shown even if a later step failed: it exists, and nobody else
        // knows it.
        Some(password) => {
            console
                .sessions
                .stash(
                    &signed.token,
                    Reveal::SignIn {
                        user_name: name.to_owned(),
                        password,
                        problems: failures,
                    },
                )
                .await;
            Redirect::to(&format!("/iam/users/{}/created", segment(name))).into_response()
        }
        None if failures.is_empty() => Redirect::to(&format!("/iam/users/{}", segment(name))).into_response(),
        None => {
            let message = format!(
                "User {name} was created, but not everything asked for was done: {}",
                failures.join("; ")
            );
            // The user's own page, with what is missing said at its top: the fix is there.
            let problem = crate::forms::Problem::new("created", message);
            crate::user_page::user_with_problem(&console, &signed, name, problem).await
        }
    }
}

#[derive(Template)]
#[template(path = "user_created.html")]
struct UserCreatedPage<'a> {
    chrome: Option<Chrome>,
    name: &'a str,
    account: &'a str,
    sign_in_url: String,
    password: Option<String>,
    problems: Vec<String>,
    csv_href: String,
    csv_name: String,
}

/// The new user's sign-in details, shown once.
pub async fn created_user(
    State(console): State<Console>,
    signed: Signed,
    headers: axum::http::HeaderMap,
    Path(name): Path<String>,
) -> Response {
    let password = match console.sessions.take(&signed.token).await {
        Some(Reveal::SignIn {
            user_name,
            password,
            problems,
        }) if user_name == name => Some((password, problems)),
        _ => None,
    };
    let (password, problems) = match password {
        Some((password, problems)) => (Some(password), problems),
        None => (None, Vec::new()),
    };
    let host = headers
        .get(axum::http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("127.0.0.1:9001");
    // As AWS's per-account sign-in URL: the form opens with the account filled in.
    let sign_in_url = format!(
        "http://{host}/signin?account={}",
        crate::s3::encode(&signed.session.account_label, false)
    );
    render(&UserCreatedPage {
        chrome: Some(signed.chrome()),
        account: &signed.session.account_label,
        csv_href: password
            .as_deref()
            .map(|p| csv_href("User name,Password,Console sign-in URL", &[&name, p, &sign_in_url]))
            .unwrap_or_default(),
        csv_name: format!("{name}_credentials.csv"),
        sign_in_url,
        password,
        problems,
        name: &name,
    })
}

#[derive(Deserialize)]
pub struct DeleteUser {
    csrf: String,
    #[serde(default)]
    confirm: String,
}

/// Deletes the user once its name is typed to confirm, and with it what IAM would otherwise
/// refuse the deletion for (DeleteConflict): its access keys, console password, group
/// memberships and policies, as AWS's console does. A user with an active key is not deleted:
/// the page asks to deactivate it first. Where a step fails, the user's page says exactly
/// what was removed and what was not.
pub async fn delete_user(
    State(console): State<Console>,
    signed: Signed,
    Path(name): Path<String>,
    Form(form): Form<DeleteUser>,
) -> Response {
    if let Some(refused) = signed.refuse_forged(&form.csrf) {
        return refused;
    }
    let user = name.as_str();
    if form.confirm.trim() != user {
        let problem = Problem::new("delete", "The user was not deleted: to confirm, type its name exactly.");
        return crate::user_page::user_with_problem(&console, &signed, user, problem).await;
    }
    let parts = match dependents(&console, &signed, user).await {
        Ok(parts) => parts,
        Err((action, error)) => return call_failed(&signed, &format!("iam:{action}"), &error),
    };
    if parts.active_keys > 0 {
        let problem = Problem::new(
            "delete",
            "The user was not deleted: deactivate its active access keys first, under Access keys.",
        );
        return crate::user_page::user_with_problem(&console, &signed, user, problem).await;
    }
    // Every step allowed, asked before the first: a deletion denied halfway would leave the
    // user without its keys and password, but not gone.
    let missing = parts.denied_steps(&console, &signed).await;
    if !missing.is_empty() {
        let problem = Problem::new(
            "delete",
            format!(
                "The user was not deleted, and nothing was removed: your permissions do not allow {}.",
                missing.join(", ")
            ),
        );
        return crate::user_page::user_with_problem(&console, &signed, user, problem).await;
    }
    let mut removed = Vec::new();
    for (action, what, params) in parts.steps(user) {
        let params: Vec<(&str, &str)> = params.iter().map(|(k, v)| (*k, v.as_str())).collect();
        match signed.call(&console, action, &params).await {
            Ok(_) => removed.push(what),
            Err(error) => {
                let mut message = format!(
                    "The user was not deleted. {what} could not be removed: {}",
                    error.message
                );
                if !removed.is_empty() {
                    message.push_str(&format!(" Already removed: {}.", removed.join(", ")));
                }
                let problem = Problem {
                    message,
                    ..Problem::from_call("delete", &error)
                };
                return crate::user_page::user_with_problem(&console, &signed, user, problem).await;
            }
        }
    }
    signed.notify(&console, format!("User {user} deleted.")).await;
    Redirect::to("/iam/users").into_response()
}

/// What stands between a user and its deletion.
struct Dependents {
    /// The user's ARN (empty when it cannot be read).
    arn: String,
    keys: Vec<String>,
    active_keys: usize,
    login_profile: bool,
    /// Each group's name and ARN.
    groups: Vec<(String, String)>,
    attached: Vec<String>,
    inline: Vec<String>,
}

/// Reads what the user has; the failing read's action and error if one fails.
async fn dependents(console: &Console, signed: &Signed, user: &str) -> Result<Dependents, (&'static str, CallError)> {
    let params = [("UserName", user)];
    let read = |action: &'static str| async move {
        signed
            .call(console, action, &params)
            .await
            .map(Results::new)
            .map_err(|error| (action, error))
    };
    let keys = read("ListAccessKeys").await?.members("AccessKeyMetadata");
    let login_profile = match signed.call(console, "GetLoginProfile", &params).await {
        Ok(_) => true,
        Err(error) if error.code == "NoSuchEntity" => false,
        Err(error) => return Err(("GetLoginProfile", error)),
    };
    let field = |members: Vec<crate::results::Member>, name: &str| -> Vec<String> {
        members.into_iter().filter_map(|m| m.get(name).cloned()).collect()
    };
    let groups = read("ListGroupsForUser")
        .await?
        .members("Groups")
        .into_iter()
        .filter_map(|g| Some((g.get("GroupName")?.clone(), g.get("Arn")?.clone())))
        .collect();
    let arn = match signed.call(console, "GetUser", &params).await {
        Ok(xml) => Results::new(xml).text("Arn").unwrap_or_default(),
        Err(_) => String::new(),
    };
    Ok(Dependents {
        arn,
        groups,
        active_keys: keys
            .iter()
            .filter(|k| k.get("Status").is_some_and(|s| s == "Active"))
            .count(),
        keys: field(keys, "AccessKeyId"),
        login_profile,
        attached: field(
            read("ListAttachedUserPolicies").await?.members("AttachedPolicies"),
            "PolicyArn",
        ),
        inline: read("ListUserPolicies").await?.texts("PolicyNames"),
    })
}

impl Dependents {
    /// The steps' actions the caller's policies do not allow (asked as `QueryApi::permits`
    /// asks; detaching is left to the operation, which `iam:PolicyARN` may decide).
    async fn denied_steps(&self, console: &Console, signed: &Signed) -> Vec<String> {
        let mut on_user = vec!["iam:DeleteUser"];
        if !self.inline.is_empty() {
            on_user.push("iam:DeleteUserPolicy");
        }
        if self.login_profile {
            on_user.push("iam:DeleteLoginProfile");
        }
        if !self.keys.is_empty() {
            on_user.push("iam:DeleteAccessKey");
        }
        let mut missing: Vec<String> = Permits::load(console, signed, &self.arn, &on_user)
            .await
            .denied()
            .map(str::to_owned)
            .collect();
        for (group, arn) in &self.groups {
            let permits = Permits::load(console, signed, arn, &["iam:RemoveUserFromGroup"]).await;
            missing.extend(permits.denied().map(|action| format!("{action} on group {group}")));
        }
        missing
    }

    /// The IAM calls that remove everything, the user last: each as its action, what it
    /// removes in words, and its parameters. What can be restored comes first (memberships,
    /// policies), the password and keys last, so a failure midway loses the least.
    fn steps(&self, user: &str) -> Vec<(&'static str, String, Vec<(&'static str, String)>)> {
        let user = ("UserName", user.to_owned());
        let mut steps = Vec::new();
        for (group, _) in &self.groups {
            steps.push((
                "RemoveUserFromGroup",
                format!("membership of group {group}"),
                vec![user.clone(), ("GroupName", group.clone())],
            ));
        }
        for arn in &self.attached {
            steps.push((
                "DetachUserPolicy",
                format!("policy {}", arn.rsplit('/').next().unwrap_or(arn)),
                vec![user.clone(), ("PolicyArn", arn.clone())],
            ));
        }
        for policy in &self.inline {
            steps.push((
                "DeleteUserPolicy",
                format!("inline policy {policy}"),
                vec![user.clone(), ("PolicyName", policy.clone())],
            ));
        }
        if self.login_profile {
            steps.push((
                "DeleteLoginProfile",
                "the console password".to_owned(),
                vec![user.clone()],
            ));
        }
        for key in &self.keys {
            steps.push((
                "DeleteAccessKey",
                format!("access key {key}"),
                vec![user.clone(), ("AccessKeyId", key.clone())],
            ));
        }
        steps.push(("DeleteUser", "the user".to_owned(), vec![user]));
        steps
    }
}
