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
use crate::display::{cell, day, names_or_none, segment};
use crate::page::{Chrome, Signed, call_failed, error_page, render};
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
    match signed.call(&console, "CreateGroup", &[("GroupName", name)]).await {
        Ok(_) => {
            signed.notify(&console, format!("User group {name} created."));
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
    arn: String,
    members: Vec<String>,
    attached: Vec<(String, String)>,
}

pub async fn group(State(console): State<Console>, signed: Signed, Path(name): Path<String>) -> Response {
    let params = [("GroupName", name.as_str())];
    let group = match signed.call(&console, "GetGroup", &params).await {
        Ok(xml) => Results::new(xml),
        Err(error) => return call_failed(&signed, "iam:GetGroup", &error),
    };
    let attached = signed
        .call(&console, "ListAttachedGroupPolicies", &params)
        .await
        .map(|xml| Results::new(xml).members("AttachedPolicies"))
        .unwrap_or_default()
        .into_iter()
        .filter_map(|p| Some((p.get("PolicyName")?.clone(), p.get("PolicyArn")?.clone())))
        .collect();
    render(&GroupPage {
        chrome: Some(signed.chrome()),
        csrf: &signed.session.csrf,
        arn: group.text("Arn").unwrap_or_default(),
        members: group
            .members("Users")
            .into_iter()
            .filter_map(|u| u.get("UserName").cloned())
            .collect(),
        attached,
        name: &name,
    })
}

#[derive(Deserialize)]
pub struct GroupChange {
    csrf: String,
    /// `add-user`, `remove-user`, `attach-policy` or `detach-policy`.
    change: String,
    value: String,
}

/// One change to a group's members or policies.
pub async fn change_group(
    State(console): State<Console>,
    signed: Signed,
    Path(name): Path<String>,
    Form(form): Form<GroupChange>,
) -> Response {
    if let Some(refused) = signed.refuse_forged(&form.csrf) {
        return refused;
    }
    let value = form.value.trim();
    if form.change == "delete" {
        return delete_group(&console, &signed, &name, value).await;
    }
    let (action, params) = match form.change.as_str() {
        "add-user" => ("AddUserToGroup", [("GroupName", name.as_str()), ("UserName", value)]),
        "remove-user" => (
            "RemoveUserFromGroup",
            [("GroupName", name.as_str()), ("UserName", value)],
        ),
        "attach-policy" => (
            "AttachGroupPolicy",
            [("GroupName", name.as_str()), ("PolicyArn", value)],
        ),
        "detach-policy" => (
            "DetachGroupPolicy",
            [("GroupName", name.as_str()), ("PolicyArn", value)],
        ),
        _ => return crate::page::not_found().await,
    };
    match signed.call(&console, action, &params).await {
        Ok(_) => Redirect::to(&format!("/iam/groups/{}", segment(&name))).into_response(),
        Err(error) => call_failed(&signed, &format!("iam:{action}"), &error),
    }
}

/// Deletes the group once its name is typed to confirm (as AWS's console asks). IAM refuses
/// while it has members or policies (DeleteConflict); the failure page says so and leads
/// back here, where both can be removed.
async fn delete_group(console: &Console, signed: &Signed, name: &str, confirm: &str) -> Response {
    if confirm != name {
        return error_page(
            StatusCode::BAD_REQUEST,
            "The group was not deleted",
            "To confirm, type the group's name exactly.",
        );
    }
    match signed.call(console, "DeleteGroup", &[("GroupName", name)]).await {
        Ok(_) => {
            signed.notify(console, format!("User group {name} deleted."));
            Redirect::to("/iam/groups").into_response()
        }
        Err(error) => call_failed(signed, "iam:DeleteGroup", &error),
    }
}
