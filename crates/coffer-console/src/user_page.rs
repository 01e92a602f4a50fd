//! A user's page, as AWS's console has it: summary, console access (enable, reset, remove the
//! password; require a new one), groups, permissions (attached and inline policies), tags and
//! access keys, each with its changes. Every read and write is the IAM operation of the same
//! name, run as the signed-in principal; a failed change is shown on its form with what was
//! typed kept.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};

use crate::Console;
use crate::display::{Listed, age, day, segment};
use crate::forms::{ChangeForm, Outcome, Problem};
use crate::page::{Chrome, Signed, call_failed, render};
use crate::permits::Permits;
use crate::pickers::{Listing, NamePicker, PolicyPicker};
use crate::results::Results;
use crate::session::Reveal;

/// The managed policy AWS's console attaches to a user who must choose a new password, so
/// the user may change it.
const CHANGE_PASSWORD_POLICY: &str = "arn:aws:iam::aws:policy/IAMUserChangePassword";

/// An access key as the user page shows it.
pub struct KeyRow {
    pub id: String,
    pub status: String,
    pub created: String,
    pub age: String,
    pub last_used: String,
    pub description: String,
}

/// The user's console password, as far as the caller may read it.
pub enum ConsoleAccess {
    Enabled { reset_required: bool },
    Disabled,
    Denied,
}

/// What was typed into the page's forms, kept when a change fails.
#[derive(Default)]
struct Kept {
    /// The access key whose description was being edited, and the description typed.
    key: String,
    description: String,
    tag_key: String,
    tag_value: String,
    /// Whether a custom password was chosen (the password itself is never sent back).
    custom: bool,
    chosen: Vec<String>,
}

#[derive(Template)]
#[template(path = "user.html")]
struct UserPage<'a> {
    chrome: Option<Chrome>,
    csrf: &'a str,
    name: &'a str,
    /// Where the page's forms post.
    action: String,
    arn: String,
    created: String,
    console_access: ConsoleAccess,
    groups: Listed<String>,
    group_picker: NamePicker,
    attached: Listed<(String, String)>,
    inline: Listed<String>,
    policy_picker: PolicyPicker,
    tags: Listed<(String, String)>,
    keys: Listed<KeyRow>,
    problem: Option<Problem>,
    kept: Kept,
    permits: Permits,
    /// Whether the page is the signed-in user's own.
    own: bool,
}

/// The actions on the user (its ARN the resource) whose controls the page offers. Not those
/// whose decision may rest on keys only the operation knows (`iam:PolicyARN` for attaching
/// and detaching, request tags for tagging): asked without them, a conditioned grant would
/// look like a denial.
const USER_ACTIONS: [&str; 8] = [
    "iam:CreateLoginProfile",
    "iam:UpdateLoginProfile",
    "iam:DeleteLoginProfile",
    "iam:DeleteUserPolicy",
    "iam:CreateAccessKey",
    "iam:UpdateAccessKey",
    "iam:DeleteAccessKey",
    "iam:DeleteUser",
];

impl UserPage<'_> {
    /// Whether the failed change was the description of `key`, to reopen its form.
    fn editing(&self, key: &str) -> bool {
        self.problem.as_ref().is_some_and(|p| p.on("key-description")) && self.kept.key == key
    }

    fn active_keys(&self) -> usize {
        self.keys.items.iter().filter(|k| k.status == "Active").count()
    }
}

async fn key_rows(console: &Console, signed: &Signed, name: &str, tags: &[(String, String)]) -> Listed<KeyRow> {
    let listed = signed.call(console, "ListAccessKeys", &[("UserName", name)]).await;
    let Listed { items, denied } = Listed::from_call(listed, "AccessKeyMetadata", |key| {
        Some((
            key.get("AccessKeyId")?.clone(),
            key.get("Status")?.clone(),
            key.get("CreateDate")?.clone(),
        ))
    });
    let mut keys = Vec::new();
    for (id, status, created) in items {
        let last_used = match signed
            .call(console, "GetAccessKeyLastUsed", &[("AccessKeyId", &id)])
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
        keys.push(KeyRow {
            // The description of a key is the user's tag keyed by the key's id, as in AWS's console.
            description: tags
                .iter()
                .find(|(key, _)| *key == id)
                .map(|(_, value)| value.clone())
                .unwrap_or_default(),
            age: age(&created),
            created: day(&created),
            status,
            last_used,
            id,
        });
    }
    Listed { items: keys, denied }
}

async fn user_page(console: &Console, signed: &Signed, name: &str, problem: Option<Problem>, kept: Kept) -> Response {
    let params = [("UserName", name)];
    let user = match signed.call(console, "GetUser", &params).await {
        Ok(xml) => Results::new(xml),
        Err(error) => return call_failed(signed, "iam:GetUser", &error),
    };
    let tags = Listed::from_call(signed.call(console, "ListUserTags", &params).await, "Tags", |t| {
        Some((t.get("Key")?.clone(), t.get("Value").cloned().unwrap_or_default()))
    });
    let keys = key_rows(console, signed, name, &tags.items).await;
    let console_access = match signed.call(console, "GetLoginProfile", &params).await {
        Ok(xml) => ConsoleAccess::Enabled {
            reset_required: Results::new(xml)
                .text("PasswordResetRequired")
                .is_some_and(|r| r == "true"),
        },
        Err(error) if error.code == "NoSuchEntity" => ConsoleAccess::Disabled,
        Err(_) => ConsoleAccess::Denied,
    };
    let groups = Listed::from_call(
        signed.call(console, "ListGroupsForUser", &params).await,
        "Groups",
        |g| g.get("GroupName").cloned(),
    );
    let attached = Listed::from_call(
        signed.call(console, "ListAttachedUserPolicies", &params).await,
        "AttachedPolicies",
        |p| Some((p.get("PolicyName")?.clone(), p.get("PolicyArn")?.clone())),
    );
    let inline = Listed::names(signed.call(console, "ListUserPolicies", &params).await, "PolicyNames");
    let attached_arns: Vec<String> = attached.items.iter().map(|(_, arn)| arn.clone()).collect();
    let policy_picker = PolicyPicker::load(console, signed, &attached_arns, &kept.chosen).await;
    let group_picker = NamePicker::load(console, signed, Listing::Groups, &groups.items, &kept.chosen).await;
    let status = problem.as_ref().and_then(|p| StatusCode::from_u16(p.status).ok());
    let arn = user.text("Arn").unwrap_or_default();
    let permits = Permits::load(console, signed, &arn, &USER_ACTIONS).await;
    let mut response = render(&UserPage {
        chrome: Some(signed.chrome()),
        csrf: &signed.session.csrf,
        arn,
        created: user.text("CreateDate").map(|d| day(&d)).unwrap_or_default(),
        action: format!("/iam/users/{}", segment(name)),
        name,
        console_access,
        groups,
        group_picker,
        attached,
        inline,
        policy_picker,
        tags,
        keys,
        problem,
        kept,
        permits,
        own: signed.own_user_name().as_deref() == Some(name),
    });
    if let Some(status) = status {
        *response.status_mut() = status;
    }
    response
}

/// The user's page with `problem` said on its form (`created`: at the top).
pub async fn user_with_problem(console: &Console, signed: &Signed, name: &str, problem: Problem) -> Response {
    user_page(console, signed, name, Some(problem), Kept::default()).await
}

pub async fn user(State(console): State<Console>, signed: Signed, Path(name): Path<String>) -> Response {
    user_page(&console, &signed, &name, None, Kept::default()).await
}

/// Sets the user's console password (a new login profile, or a new password for the one it
/// has) and, when a new one must be chosen at sign-in, attaches IAMUserChangePassword as
/// AWS's console does. Returns what of the second step failed, if it did.
pub async fn set_console_password(
    console: &Console,
    signed: &Signed,
    name: &str,
    password: &str,
    reset: bool,
    create: bool,
) -> Result<Option<String>, coffer_iam::CallError> {
    let reset_text = if reset { "true" } else { "false" };
    let profile = [
        ("UserName", name),
        ("Password", password),
        ("PasswordResetRequired", reset_text),
    ];
    let action = if create {
        "CreateLoginProfile"
    } else {
        "UpdateLoginProfile"
    };
    signed.call(console, action, &profile).await?;
    if !reset {
        return Ok(None);
    }
    Ok(allow_password_change(console, signed, name)
        .await
        .err()
        .map(|error| format!("IAMUserChangePassword was not attached: {}", error.message)))
}

/// Attaches IAMUserChangePassword, so a user who must choose a new password can.
async fn allow_password_change(console: &Console, signed: &Signed, name: &str) -> Result<(), coffer_iam::CallError> {
    let change = [("UserName", name), ("PolicyArn", CHANGE_PASSWORD_POLICY)];
    signed.call(console, "AttachUserPolicy", &change).await.map(|_| ())
}

/// One change from the user's page.
pub async fn change_user(
    State(console): State<Console>,
    signed: Signed,
    Path(name): Path<String>,
    body: axum::body::Bytes,
) -> Response {
    let form = ChangeForm::parse(&body);
    if let Some(refused) = signed.refuse_forged(&form.csrf) {
        return refused;
    }
    let user = name.as_str();
    let done = async |notice: String, anchor: &str| {
        signed.notify(&console, notice).await;
        Redirect::to(&format!("/iam/users/{}#{anchor}", segment(user))).into_response()
    };
    let failed = |problem: Problem, kept: Kept| user_page(&console, &signed, user, Some(problem), kept);
    let change = form.change.as_str();
    match change {
        "console-enable" | "console-reset" => {
            let kept = Kept {
                custom: form.field("password_kind") == "custom",
                ..Kept::default()
            };
            let reset = form.ticked("reset");
            if form.field("password_kind") == "keep" {
                // Only whether a new password must be chosen at the next sign-in changes.
                let params = [
                    ("UserName", user),
                    ("PasswordResetRequired", if reset { "true" } else { "false" }),
                ];
                if let Err(error) = signed.call(&console, "UpdateLoginProfile", &params).await {
                    return failed(Problem::from_call(change, &error), kept).await;
                }
                // Whoever must choose a new password may (as when the password is set).
                if reset && let Err(error) = allow_password_change(&console, &signed, user).await {
                    let problem = Problem {
                        message: format!("A new password is now required, but {}", error.message),
                        ..Problem::from_call(change, &error)
                    };
                    return failed(problem, kept).await;
                }
                return done(format!("Console access of {user} updated."), "console-access").await;
            }
            let password = if kept.custom {
                let typed = form.field("password");
                // Checked before anything is changed.
                if let Some(problem) = console.query.password_problem(&signed.session.principal, typed).await {
                    return failed(Problem::new(change, format!("Console password: {problem}")), kept).await;
                }
                typed.to_owned()
            } else {
                crate::users::generated_for_policy(&console, &signed).await
            };
            let create = change == "console-enable";
            match set_console_password(&console, &signed, user, &password, reset, create).await {
                Ok(problem) => {
                    // Your own password: this session goes on with it (the others end).
                    if signed.own_user_name().as_deref() == Some(user)
                        && let Some(stamp) = console.query.password_stamp(&signed.session.principal).await
                    {
                        console.sessions.password_changed(&signed.token, stamp).await;
                    }
                    console
                        .sessions
                        .stash(
                            &signed.token,
                            Reveal::SignIn {
                                user_name: user.to_owned(),
                                password,
                                problems: problem.into_iter().collect(),
                            },
                        )
                        .await;
                    Redirect::to(&format!("/iam/users/{}/created", segment(user))).into_response()
                }
                Err(error) => failed(Problem::from_call(change, &error), kept).await,
            }
        }
        "console-remove" => match signed.call(&console, "DeleteLoginProfile", &[("UserName", user)]).await {
            Ok(_) => done(format!("Console access of {user} removed."), "console-access").await,
            Err(error) => failed(Problem::from_call(change, &error), Kept::default()).await,
        },
        "add-groups" | "attach-policies" => {
            let (action, param, verb, anchor) = if change == "add-groups" {
                ("AddUserToGroup", "GroupName", "Added to", "groups")
            } else {
                ("AttachUserPolicy", "PolicyArn", "Attached", "permissions")
            };
            if form.values.is_empty() {
                let what = if change == "add-groups" { "group" } else { "policy" };
                let problem = Problem::new(change, format!("Nothing was changed: tick at least one {what}."));
                return failed(problem, Kept::default()).await;
            }
            let outcome = Outcome::of_calls(&console, &signed, action, ("UserName", user), param, &form.values).await;
            match &outcome.failed {
                None => done(outcome.describe(verb), anchor).await,
                Some((_, error)) => {
                    let problem = Problem {
                        message: outcome.describe(verb),
                        ..Problem::from_call(change, error)
                    };
                    // What was not done stays ticked, to send again once fixed (the calls
                    // stop at the first failure, so what was done is the first few).
                    let chosen = form.values[outcome.done.len()..].to_vec();
                    failed(
                        problem,
                        Kept {
                            chosen,
                            ..Kept::default()
                        },
                    )
                    .await
                }
            }
        }
        "remove-group" | "detach-policy" | "delete-inline" | "remove-tag" => {
            let value = form.value();
            let (action, param, notice, anchor) = match change {
                "remove-group" => (
                    "RemoveUserFromGroup",
                    "GroupName",
                    format!("Removed {user} from group {value}."),
                    "groups",
                ),
                "detach-policy" => (
                    "DetachUserPolicy",
                    "PolicyArn",
                    format!("Detached {}.", value.rsplit('/').next().unwrap_or(value)),
                    "permissions",
                ),
                "delete-inline" => (
                    "DeleteUserPolicy",
                    "PolicyName",
                    format!("Inline policy {value} deleted."),
                    "permissions",
                ),
                _ => ("UntagUser", "TagKeys.member.1", format!("Tag {value} removed."), "tags"),
            };
            match signed
                .call(&console, action, &[("UserName", user), (param, value)])
                .await
            {
                Ok(_) => done(notice, anchor).await,
                Err(error) => failed(Problem::from_call(change, &error), Kept::default()).await,
            }
        }
        "key-description" => {
            // A key's description is the user's tag keyed by the key's id, as AWS's console
            // keeps it; an empty one removes the tag.
            let key = form.value();
            let description = form.field("description").trim();
            let kept = Kept {
                key: key.to_owned(),
                description: description.to_owned(),
                ..Kept::default()
            };
            if let Some(problem) = coffer_iam::tag_value_problem(description) {
                return failed(Problem::new(change, format!("Description: {problem}")), kept).await;
            }
            let result = if description.is_empty() {
                signed
                    .call(&console, "UntagUser", &[("UserName", user), ("TagKeys.member.1", key)])
                    .await
            } else {
                let params = [
                    ("UserName", user),
                    ("Tags.member.1.Key", key),
                    ("Tags.member.1.Value", description),
                ];
                signed.call(&console, "TagUser", &params).await
            };
            match result {
                Ok(_) => done(format!("Description of access key {key} saved."), "access-keys").await,
                Err(error) => failed(Problem::from_call(change, &error), kept).await,
            }
        }
        "add-tag" => {
            let kept = Kept {
                tag_key: form.field("tag_key").trim().to_owned(),
                tag_value: form.field("tag_value").to_owned(),
                ..Kept::default()
            };
            let params = [
                ("UserName", user),
                ("Tags.member.1.Key", kept.tag_key.as_str()),
                ("Tags.member.1.Value", kept.tag_value.as_str()),
            ];
            match signed.call(&console, "TagUser", &params).await {
                Ok(_) => done(format!("Tag {} added.", kept.tag_key), "tags").await,
                Err(error) => failed(Problem::from_call(change, &error), kept).await,
            }
        }
        _ => crate::page::not_found().await,
    }
}
