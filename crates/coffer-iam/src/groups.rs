//! IAM groups: CreateGroup, GetGroup, ListGroups, UpdateGroup, DeleteGroup, AddUserToGroup,
//! RemoveUserFromGroup, ListGroupsForUser.

use coffer_store::{Group, StoreError};

use crate::paging::Pager;
use crate::users::{no_such_user, write_truncation, write_user};
use crate::xml::Xml;
use crate::{Call, IamError, validate};

pub(crate) fn no_such_group(name: &str) -> IamError {
    IamError::NoSuchEntity(format!("The group with name {name} cannot be found."))
}

fn group_error(err: StoreError, group: &str, user: Option<&str>) -> IamError {
    match err {
        StoreError::NoSuchGroup => no_such_group(group),
        StoreError::NoSuchUser => no_such_user(user.unwrap_or_default()),
        StoreError::GroupExists => IamError::EntityAlreadyExists(format!("Group with name {group} already exists.")),
        StoreError::GroupHasMembers => {
            IamError::DeleteConflict("Cannot delete entity, must remove users from group first.".to_owned())
        }
        StoreError::HasPolicies => {
            IamError::DeleteConflict("Cannot delete entity, must delete policies first.".to_owned())
        }
        StoreError::NotAMember => no_such_user(user.unwrap_or_default()),
        StoreError::HasAttachedPolicies => {
            IamError::DeleteConflict("Cannot delete entity, must detach all policies first.".to_owned())
        }
        other => other.into(),
    }
}

fn write_group(xml: &mut Xml, group: &Group) {
    xml.elem("Path", &group.path)
        .elem("GroupName", &group.name)
        .elem("GroupId", &group.group_id)
        .elem("Arn", &group.arn())
        .date("CreateDate", group.created_at);
}

/// The ARN authorization names for a group: its real one, or `group/<name>` if there is none.
async fn group_arn(cx: &Call<'_>, name: &str) -> Result<(Option<Group>, String), IamError> {
    match cx.store.group(cx.account(), name).await {
        Ok(group) => {
            let arn = group.arn();
            Ok((Some(group), arn))
        }
        Err(StoreError::NoSuchGroup) => Ok((None, format!("arn:aws:iam::{}:group/{name}", cx.account()))),
        Err(err) => Err(err.into()),
    }
}

fn group_name<'a>(cx: &Call<'a>) -> Result<&'a str, IamError> {
    let name = cx.params.require("GroupName")?;
    validate::name_128(name, "groupName")?;
    Ok(name)
}

pub(crate) async fn create_group(cx: &Call<'_>) -> Result<Option<String>, IamError> {
    let name = group_name(cx)?;
    let path = cx.params.get("Path").unwrap_or("/");
    validate::path(path, "path")?;
    cx.authorize(
        "iam:CreateGroup",
        &format!("arn:aws:iam::{}:group{path}{name}", cx.account()),
    )
    .await?;
    let group = cx
        .store
        .create_group(cx.account(), name, path)
        .await
        .map_err(|e| group_error(e, name, None))?;
    let mut xml = Xml::new();
    xml.with("Group", |x| write_group(x, &group));
    Ok(Some(xml.finish()))
}

pub(crate) async fn get_group(cx: &Call<'_>) -> Result<Option<String>, IamError> {
    let name = group_name(cx)?;
    let pager = Pager::new(cx.params)?;
    let (group, arn) = group_arn(cx, name).await?;
    cx.authorize("iam:GetGroup", &arn).await?;
    let group = group.ok_or_else(|| no_such_group(name))?;
    let members = pager.page(cx.store.group_members(&group).await?, |u| u.name.clone());
    let mut xml = Xml::new();
    xml.with("Group", |x| write_group(x, &group));
    xml.with("Users", |x| {
        for user in &members.items {
            x.with("member", |m| write_user(m, user, &[]));
        }
    });
    members.write_truncation(&mut xml);
    Ok(Some(xml.finish()))
}

pub(crate) async fn list_groups(cx: &Call<'_>) -> Result<Option<String>, IamError> {
    let prefix = cx.params.get("PathPrefix").unwrap_or("/");
    validate::path_prefix(prefix)?;
    let marker = cx.params.marker()?;
    let max_items = cx.params.max_items()?;
    cx.authorize("iam:ListGroups", &format!("arn:aws:iam::{}:group/", cx.account()))
        .await?;
    let page = cx
        .store
        .list_groups(cx.account(), prefix, marker, max_items as i64)
        .await?;
    let mut xml = Xml::new();
    xml.with("Groups", |x| {
        for group in &page.items {
            x.with("member", |m| write_group(m, group));
        }
    });
    write_truncation(&mut xml, page.next_marker.as_deref());
    Ok(Some(xml.finish()))
}

pub(crate) async fn update_group(cx: &Call<'_>) -> Result<Option<String>, IamError> {
    let name = group_name(cx)?;
    let new_name = cx.params.get("NewGroupName");
    if let Some(new_name) = new_name {
        validate::name_128(new_name, "newGroupName")?;
    }
    let new_path = cx.params.get("NewPath");
    if let Some(new_path) = new_path {
        validate::path(new_path, "newPath")?;
    }
    let (group, arn) = group_arn(cx, name).await?;
    cx.authorize("iam:UpdateGroup", &arn).await?;
    if let Some(group) = &group
        && (new_name.is_some() || new_path.is_some())
    {
        // Renaming or moving needs permission on the destination too, as in IAM.
        let destination = format!(
            "arn:aws:iam::{}:group{}{}",
            cx.account(),
            new_path.unwrap_or(&group.path),
            new_name.unwrap_or(&group.name)
        );
        cx.authorize("iam:UpdateGroup", &destination).await?;
    }
    cx.store
        .update_group(cx.account(), name, new_name, new_path)
        .await
        .map_err(|e| group_error(e, new_name.unwrap_or(name), None))?;
    Ok(None)
}

pub(crate) async fn delete_group(cx: &Call<'_>) -> Result<Option<String>, IamError> {
    let name = group_name(cx)?;
    let (_, arn) = group_arn(cx, name).await?;
    cx.authorize("iam:DeleteGroup", &arn).await?;
    cx.store
        .delete_group(cx.account(), name)
        .await
        .map_err(|e| group_error(e, name, None))?;
    Ok(None)
}

pub(crate) async fn add_user_to_group(cx: &Call<'_>) -> Result<Option<String>, IamError> {
    let name = group_name(cx)?;
    let user = cx.params.existing_user_name()?;
    let (_, arn) = group_arn(cx, name).await?;
    cx.authorize("iam:AddUserToGroup", &arn).await?;
    cx.store
        .add_user_to_group(cx.account(), name, user)
        .await
        .map_err(|e| group_error(e, name, Some(user)))?;
    Ok(None)
}

pub(crate) async fn remove_user_from_group(cx: &Call<'_>) -> Result<Option<String>, IamError> {
    let name = group_name(cx)?;
    let user = cx.params.existing_user_name()?;
    let (_, arn) = group_arn(cx, name).await?;
    cx.authorize("iam:RemoveUserFromGroup", &arn).await?;
    cx.store
        .remove_user_from_group(cx.account(), name, user)
        .await
        .map_err(|e| group_error(e, name, Some(user)))?;
    Ok(None)
}

pub(crate) async fn list_groups_for_user(cx: &Call<'_>) -> Result<Option<String>, IamError> {
    let name = cx.params.existing_user_name()?;
    let pager = Pager::new(cx.params)?;
    let (user, arn) = crate::users::user_and_arn(cx, name).await?;
    cx.authorize("iam:ListGroupsForUser", &arn).await?;
    let user = user.ok_or_else(|| no_such_user(name))?;
    let groups = pager.page(cx.store.groups_for_user(&user).await?, |g| g.name.clone());
    let mut xml = Xml::new();
    xml.with("Groups", |x| {
        for group in &groups.items {
            x.with("member", |m| write_group(m, group));
        }
    });
    groups.write_truncation(&mut xml);
    Ok(Some(xml.finish()))
}
