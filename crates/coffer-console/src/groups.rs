//! IAM → User groups: the groups table, creating a group, and a group's page (its members and
//! policies; add and remove members, attach and detach managed policies). Every read and
//! write is the IAM operation of the same name, run as the signed-in principal.

use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use crate::Console;
use crate::display::{Listed, cell, day, names_or_none, segment};
use crate::forms::{ChangeForm, Outcome, Problem};
use crate::page::{Chrome, Signed, call_failed, render};
use crate::permits::Permits;
use crate::pickers::{Listing, NamePicker, PolicyPicker};
use crate::results::Results;

struct GroupRow {
    name: String,
    members: String,
    policies: String,
    created: String,
}

#[derive(Template)]
#[template(path = "groups.html")]
struct GroupsPage<'a> {
    chrome: Option<Chrome>,
    csrf: &'a str,
    rows: Vec<GroupRow>,
    error: Option<String>,
}

async fn groups_page(console: &Console, signed: &Signed, error: Option<String>) -> Response {
    let listed = match signed.call(console, "ListGroups", &[("MaxItems", "1000")]).await {
        Ok(xml) => Results::new(xml),
        Err(error) => return call_failed(signed, "iam:ListGroups", &error),
    };
    let mut rows = Vec::new();
    for group in listed.members("Groups") {
        let name = group.get("GroupName").cloned().unwrap_or_default();
        let params = [("GroupName", name.as_str())];
        let members = cell(signed.call(console, "GetGroup", &params).await, |r| {
            r.members("Users").len().to_string()
        });
        let policies = cell(signed.call(console, "ListAttachedGroupPolicies", &params).await, |r| {
            names_or_none(&r, "AttachedPolicies", "PolicyName")
        });
        rows.push(GroupRow {
            created: group.get("CreateDate").map(|d| day(d)).unwrap_or_default(),
            name,
            members,
            policies,
        });
    }
    render(&GroupsPage {
        chrome: Some(signed.chrome()),
        csrf: &signed.session.csrf,
        rows,
        error,
    })
}

pub async fn groups(State(console): State<Console>, signed: Signed) -> Response {
    groups_page(&console, &signed, None).await
}

#[derive(Deserialize)]
pub struct NewGroup {
    csrf: String,
    name: String,
}

pub async fn create_group(State(console): State<Console>, signed: Signed, Form(form): Form<NewGroup>) -> Response {
    if let Some(refused) = signed.refuse_forged(&form.csrf) {
        return refused;
    }
    let name = form.name.trim();
    if let Some(problem) = crate::forms::iam_name_problem("group", name, 128) {
        let mut response = groups_page(&console, &signed, Some(problem)).await;
        *response.status_mut() = StatusCode::BAD_REQUEST;
        return response;
    }
    match signed.call(&console, "CreateGroup", &[("GroupName", name)]).await {
        Ok(_) => {
            signed.notify(&console, format!("User group {name} created.")).await;
            Redirect::to(&format!("/iam/groups/{}", segment(name))).into_response()
        }
        Err(error) if error.code == "AccessDenied" => call_failed(&signed, "iam:CreateGroup", &error),
        Err(error) => {
            let mut response = groups_page(&console, &signed, Some(error.message)).await;
            *response.status_mut() = StatusCode::from_u16(error.status).unwrap_or(StatusCode::BAD_REQUEST);
            response
        }
    }
}

#[derive(Template)]
#[template(path = "group.html")]
struct GroupPage<'a> {
    chrome: Option<Chrome>,
    csrf: &'a str,
    name: &'a str,
    /// Where the page's forms post.
    action: String,
    arn: String,
    members: Vec<String>,
    attached: Listed<(String, String)>,
    inline: Listed<String>,
    user_picker: NamePicker,
    policy_picker: PolicyPicker,
    problem: Option<Problem>,
    permits: Permits,
}

/// The actions on the group (its ARN the resource) whose controls the page offers (not
/// attaching and detaching, which `iam:PolicyARN` may decide: see `USER_ACTIONS`).
const GROUP_ACTIONS: [&str; 4] = [
    "iam:AddUserToGroup",
    "iam:RemoveUserFromGroup",
    "iam:DeleteGroupPolicy",
    "iam:DeleteGroup",
];

/// The group's page; after a failed change, with the problem on its form and what was
/// ticked still ticked.
async fn group_page(
    console: &Console,
    signed: &Signed,
    name: &str,
    problem: Option<Problem>,
    chosen: &[String],
) -> Response {
    let params = [("GroupName", name)];
    let group = match signed.call(console, "GetGroup", &params).await {
        Ok(xml) => Results::new(xml),
        Err(error) => return call_failed(signed, "iam:GetGroup", &error),
    };
    let attached = Listed::from_call(
        signed.call(console, "ListAttachedGroupPolicies", &params).await,
        "AttachedPolicies",
        |p| Some((p.get("PolicyName")?.clone(), p.get("PolicyArn")?.clone())),
    );
    let inline = Listed::names(signed.call(console, "ListGroupPolicies", &params).await, "PolicyNames");
    let members: Vec<String> = group
        .members("Users")
        .into_iter()
        .filter_map(|u| u.get("UserName").cloned())
        .collect();
    let attached_arns: Vec<String> = attached.items.iter().map(|(_, arn)| arn.clone()).collect();
    let status = problem.as_ref().and_then(|p| StatusCode::from_u16(p.status).ok());
    let arn = group.text("Arn").unwrap_or_default();
    let permits = Permits::load(console, signed, &arn, &GROUP_ACTIONS).await;
    let mut response = render(&GroupPage {
        chrome: Some(signed.chrome()),
        csrf: &signed.session.csrf,
        action: format!("/iam/groups/{}", segment(name)),
        arn,
        permits,
        user_picker: NamePicker::load(console, signed, Listing::Users, &members, chosen).await,
        policy_picker: PolicyPicker::load(console, signed, &attached_arns, chosen).await,
        members,
        attached,
        inline,
        problem,
        name,
    });
    if let Some(status) = status {
        *response.status_mut() = status;
    }
    response
}

pub async fn group(State(console): State<Console>, signed: Signed, Path(name): Path<String>) -> Response {
    group_page(&console, &signed, &name, None, &[]).await
}

/// One change to a group's members or policies, or its deletion.
pub async fn change_group(
    State(console): State<Console>,
    signed: Signed,
    Path(name): Path<String>,
    body: axum::body::Bytes,
) -> Response {
    let form = ChangeForm::parse(&body);
    if let Some(refused) = signed.refuse_forged(&form.csrf) {
        return refused;
    }
    let group = name.as_str();
    let change = form.change.as_str();
    if change == "delete" {
        return delete_group(&console, &signed, group, form.value()).await;
    }
    let (action, param, verb) = match change {
        "add-users" => ("AddUserToGroup", "UserName", "Added"),
        "remove-user" => ("RemoveUserFromGroup", "UserName", "Removed"),
        "attach-policies" => ("AttachGroupPolicy", "PolicyArn", "Attached"),
        "detach-policy" => ("DetachGroupPolicy", "PolicyArn", "Detached"),
        "delete-inline" => ("DeleteGroupPolicy", "PolicyName", "Deleted inline policy"),
        _ => return crate::page::not_found().await,
    };
    if form.values.iter().all(|v| v.is_empty()) {
        let what = if param == "UserName" { "user" } else { "policy" };
        let problem = Problem::new(change, format!("Nothing was changed: tick at least one {what}."));
        return group_page(&console, &signed, group, Some(problem), &[]).await;
    }
    let outcome = Outcome::of_calls(&console, &signed, action, ("GroupName", group), param, &form.values).await;
    match &outcome.failed {
        None => {
            signed.notify(&console, outcome.describe(verb)).await;
            Redirect::to(&format!("/iam/groups/{}", segment(group))).into_response()
        }
        Some((_, error)) => {
            let problem = Problem {
                message: outcome.describe(verb),
                ..Problem::from_call(change, error)
            };
            // The calls stop at the first failure: what is left stays ticked.
            let left = &form.values[outcome.done.len()..];
            group_page(&console, &signed, group, Some(problem), left).await
        }
    }
}
/// Deletes the group once its name is typed to confirm (as AWS's console asks). IAM refuses
/// while it has members or policies (DeleteConflict); that is said on the delete form, on
/// this page where both can be removed.
async fn delete_group(console: &Console, signed: &Signed, name: &str, confirm: &str) -> Response {
    if confirm != name {
        let problem = Problem::new(
            "delete",
            "The group was not deleted: to confirm, type its name exactly.",
        );
        return group_page(console, signed, name, Some(problem), &[]).await;
    }
    match signed.call(console, "DeleteGroup", &[("GroupName", name)]).await {
        Ok(_) => {
            signed.notify(console, format!("User group {name} deleted.")).await;
            Redirect::to("/iam/groups").into_response()
        }
        Err(error) if error.code == "AccessDenied" => call_failed(signed, "iam:DeleteGroup", &error),
        Err(error) => {
            let problem = Problem {
                message: format!(
                    "The group was not deleted: {} Remove its users, detach its policies and delete its inline policies above, then delete it.",
                    error.message
                ),
                ..Problem::from_call("delete", &error)
            };
            group_page(console, signed, name, Some(problem), &[]).await
        }
    }
}
