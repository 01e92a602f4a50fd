//! IAM users: CreateUser, GetUser, ListUsers, UpdateUser, DeleteUser and user tags.

use coffer_auth::Identity;
use coffer_store::{StoreError, Tag, User};

use crate::xml::Xml;
use crate::{Call, IamError, validate};

/// Most tags one request may add or remove, as in IAM.
const MAX_TAGS_PER_REQUEST: usize = 50;

pub(crate) fn no_such_user(name: &str) -> IamError {
    IamError::NoSuchEntity(format!("The user with name {name} cannot be found."))
}

fn user_error(err: StoreError, name: &str) -> IamError {
    match err {
        StoreError::NoSuchUser => no_such_user(name),
        StoreError::UserExists => IamError::EntityAlreadyExists(format!("User with name {name} already exists.")),
        StoreError::UserHasKeys => {
            IamError::DeleteConflict("Cannot delete entity, must delete access keys first.".to_owned())
        }
        StoreError::TooManyTags => IamError::LimitExceeded("Cannot exceed quota for TagsPerUser: 50".to_owned()),
        StoreError::UserInGroups => {
            IamError::DeleteConflict("Cannot delete entity, must remove users from group first.".to_owned())
        }
        StoreError::HasAttachedPolicies => {
            IamError::DeleteConflict("Cannot delete entity, must detach all policies first.".to_owned())
        }
        StoreError::HasPolicies => {
            IamError::DeleteConflict("Cannot delete entity, must delete policies first.".to_owned())
        }
        StoreError::HasLoginProfile => {
            IamError::DeleteConflict("Cannot delete entity, must delete login profile first.".to_owned())
        }
        other => other.into(),
    }
}

pub(crate) fn write_user(xml: &mut Xml, user: &User, tags: &[Tag]) {
    xml.elem("Path", &user.path)
        .elem("UserName", &user.name)
        .elem("UserId", &user.user_id)
        .elem("Arn", &user.arn())
        .date("CreateDate", user.created_at);
    if let Some(used) = user.password_last_used {
        xml.date("PasswordLastUsed", used);
    }
    if !tags.is_empty() {
        write_tags(xml, tags);
    }
}

/// A user's or role's permissions boundary.
pub(crate) fn write_boundary(xml: &mut Xml, arn: &str) {
    xml.with("PermissionsBoundary", |b| {
        // What AWS answers (its CLI's examples, recorded responses), whatever the API
        // model's enum says ("PermissionsBoundaryPolicy").
        b.elem("PermissionsBoundaryType", "Policy")
            .elem("PermissionsBoundaryArn", arn);
    });
}

pub(crate) fn write_tags(xml: &mut Xml, tags: &[Tag]) {
    xml.with("Tags", |x| {
        for tag in tags {
            x.with("member", |m| {
                m.elem("Key", &tag.key).elem("Value", &tag.value);
            });
        }
    });
}

/// The ARN authorization names for a user operation: the user's real ARN when it exists,
/// `user/<name>` otherwise (the operation then fails with `NoSuchEntity` once allowed).
pub(crate) async fn user_and_arn(cx: &Call<'_>, name: &str) -> Result<(Option<User>, String), IamError> {
    match cx.store.user(cx.account(), name).await {
        Ok(user) => {
            let arn = user.arn();
            Ok((Some(user), arn))
        }
        Err(StoreError::NoSuchUser) => Ok((None, format!("arn:aws:iam::{}:user/{name}", cx.account()))),
        Err(err) => Err(err.into()),
    }
}

/// `Tags.member.N.Key/Value`, validated.
pub(crate) fn tags_param(cx: &Call<'_>) -> Result<Vec<Tag>, IamError> {
    let pairs = cx.params.key_values("Tags");
    if pairs.len() > MAX_TAGS_PER_REQUEST {
        return Err(crate::error::validation(
            None,
            "tags",
            "Member must have length less than or equal to 50",
        ));
    }
    let mut tags = Vec::with_capacity(pairs.len());
    for (i, (key, value)) in pairs.into_iter().enumerate() {
        validate::tag_key(key, &format!("tags.{}.member.key", i + 1))?;
        let field = format!("tags.{}.member.value", i + 1);
        let value = value.ok_or_else(|| crate::error::validation(None, &field, "Member must not be null"))?;
        validate::tag_value(value, &field)?;
        tags.push(Tag {
            key: key.to_owned(),
            value: value.to_owned(),
        });
    }
    let mut keys: Vec<String> = tags.iter().map(|t| t.key.to_lowercase()).collect();
    keys.sort();
    keys.dedup();
    if keys.len() != tags.len() {
        return Err(IamError::Validation(
            "Duplicate tag keys found. Please note that Tag keys are case insensitive.".to_owned(),
        ));
    }
    Ok(tags)
}

pub(crate) async fn create_user(cx: &Call<'_>) -> Result<Option<String>, IamError> {
    let name = cx.params.require("UserName")?;
    validate::user_name(name, "userName")?;
    let path = cx.params.get("Path").unwrap_or("/");
    validate::path(path, "path")?;
    let boundary = cx.params.get("PermissionsBoundary");
    let tags = tags_param(cx)?;
    let arn = format!("arn:aws:iam::{}:user{path}{name}", cx.account());
    let boundary_key = boundary.map(|b| ("iam:PermissionsBoundary", b.to_owned()));
    // Tagging on create needs iam:TagUser too, as in IAM; both see the tags.
    cx.authorize_tagging_with("iam:CreateUser", &arn, boundary_key.into_iter().collect(), &tags)
        .await?;
    if !tags.is_empty() {
        cx.authorize_tagging("iam:TagUser", &arn, &tags, &[]).await?;
    }
    if let Some(boundary) = boundary {
        crate::managed_policies::check_boundary(cx, boundary).await?;
    }
    let user = cx
        .store
        .create_user_bounded(cx.account(), name, path, &tags, boundary)
        .await
        .map_err(|e| user_error(e, name))?;
    let mut xml = Xml::new();
    xml.with("User", |x| {
        write_user(x, &user, &tags);
        if let Some(arn) = boundary {
            write_boundary(x, arn);
        }
    });
    Ok(Some(xml.finish()))
}

/// What IAM answers a role session that leaves out the user an operation is about.
pub(crate) fn user_name_required() -> IamError {
    IamError::Validation("Must specify userName when calling with non-User credentials".to_owned())
}

pub(crate) async fn get_user(cx: &Call<'_>) -> Result<Option<String>, IamError> {
    let name = match (cx.params.get("UserName"), &cx.caller.identity) {
        (Some(name), _) => name,
        (None, Identity::User { name, .. }) => name.as_str(),
        (None, Identity::Root) => return get_root_user(cx).await,
        (None, Identity::AssumedRole { .. } | Identity::FederatedUser { .. }) => return Err(user_name_required()),
    };
    validate::existing_user_name(name, "userName")?;
    let (user, arn) = user_and_arn(cx, name).await?;
    cx.authorize("iam:GetUser", &arn).await?;
    let user = user.ok_or_else(|| no_such_user(name))?;
    let tags = cx
        .store
        .list_user_tags(cx.account(), &user.name, None, 50)
        .await
        .map_err(|e| user_error(e, name))?;
    let boundary = cx
        .store
        .permissions_boundary(coffer_store::Bounded::User(&user.user_id))
        .await?;
    let mut xml = Xml::new();
    xml.with("User", |x| {
        write_user(x, &user, &tags.items);
        if let Some(arn) = &boundary {
            write_boundary(x, arn);
        }
    });
    Ok(Some(xml.finish()))
}

/// GetUser as the root user without a name: AWS answers with the account's root identity.
async fn get_root_user(cx: &Call<'_>) -> Result<Option<String>, IamError> {
    let arn = cx.caller.arn();
    cx.authorize("iam:GetUser", &arn).await?;
    let account = cx.store.account(cx.account()).await?;
    let mut xml = Xml::new();
    xml.with("User", |x| {
        x.elem("UserId", cx.account())
            .elem("Arn", &arn)
            .date("CreateDate", account.created_at);
    });
    Ok(Some(xml.finish()))
}

pub(crate) async fn list_users(cx: &Call<'_>) -> Result<Option<String>, IamError> {
    let prefix = cx.params.get("PathPrefix").unwrap_or("/");
    validate::path_prefix(prefix)?;
    let marker = cx.params.marker()?;
    let max_items = cx.params.max_items()?;
    cx.authorize("iam:ListUsers", &format!("arn:aws:iam::{}:user/", cx.account()))
        .await?;
    let page = cx.store.list_users(cx.account(), prefix, marker, max_items).await?;
    let mut xml = Xml::new();
    xml.with("Users", |x| {
        for user in &page.items {
            x.with("member", |m| write_user(m, user, &[]));
        }
    });
    write_truncation(&mut xml, page.next_marker.as_deref());
    Ok(Some(xml.finish()))
}

pub(crate) fn write_truncation(xml: &mut Xml, next_marker: Option<&str>) {
    xml.elem("IsTruncated", if next_marker.is_some() { "true" } else { "false" });
    xml.elem_opt("Marker", next_marker);
}

pub(crate) async fn update_user(cx: &Call<'_>) -> Result<Option<String>, IamError> {
    let name = cx.params.existing_user_name()?;
    let new_name = cx.params.get("NewUserName");
    if let Some(new_name) = new_name {
        validate::user_name(new_name, "newUserName")?;
    }
    let new_path = cx.params.get("NewPath");
    if let Some(new_path) = new_path {
        validate::path(new_path, "newPath")?;
    }
    let (user, arn) = user_and_arn(cx, name).await?;
    cx.authorize("iam:UpdateUser", &arn).await?;
    if let Some(user) = &user
        && (new_name.is_some() || new_path.is_some())
    {
        // Renaming or moving needs permission on the destination too, as in IAM.
        cx.authorize(
            "iam:UpdateUser",
            &format!(
                "arn:aws:iam::{}:user{}{}",
                cx.account(),
                new_path.unwrap_or(&user.path),
                new_name.unwrap_or(&user.name)
            ),
        )
        .await?;
    }
    cx.store
        .update_user(cx.account(), name, new_name, new_path)
        .await
        .map_err(|e| {
            let named = if matches!(e, StoreError::UserExists) {
                new_name.unwrap_or(name)
            } else {
                name
            };
            user_error(e, named)
        })?;
    Ok(None)
}

pub(crate) async fn delete_user(cx: &Call<'_>) -> Result<Option<String>, IamError> {
    let name = cx.params.existing_user_name()?;
    let (_, arn) = user_and_arn(cx, name).await?;
    cx.authorize("iam:DeleteUser", &arn).await?;
    cx.store
        .delete_user(cx.account(), name)
        .await
        .map_err(|e| user_error(e, name))?;
    Ok(None)
}

pub(crate) async fn tag_user(cx: &Call<'_>) -> Result<Option<String>, IamError> {
    let name = cx.params.existing_user_name()?;
    let tags = tags_param(cx)?;
    if tags.is_empty() {
        return Err(crate::error::validation(None, "tags", "Member must not be null"));
    }
    let (_, arn) = user_and_arn(cx, name).await?;
    cx.authorize_tagging("iam:TagUser", &arn, &tags, &[]).await?;
    cx.store
        .tag_user(cx.account(), name, &tags)
        .await
        .map_err(|e| user_error(e, name))?;
    Ok(None)
}

/// `TagKeys.member.N`, validated: 1 to 50 keys.
pub(crate) fn tag_keys_param(cx: &Call<'_>) -> Result<Vec<String>, IamError> {
    let keys: Vec<String> = cx.params.members("TagKeys").into_iter().map(str::to_owned).collect();
    if keys.is_empty() {
        return Err(crate::error::validation(None, "tagKeys", "Member must not be null"));
    }
    if keys.len() > MAX_TAGS_PER_REQUEST {
        return Err(crate::error::validation(
            None,
            "tagKeys",
            "Member must have length less than or equal to 50",
        ));
    }
    for (i, key) in keys.iter().enumerate() {
        validate::tag_key(key, &format!("tagKeys.{}.member", i + 1))?;
    }
    Ok(keys)
}

/// A page of tags, as ListUserTags and ListRoleTags answer.
pub(crate) fn write_tag_page(page: &coffer_store::Page<Tag>) -> String {
    let mut xml = Xml::new();
    xml.with("Tags", |x| {
        for tag in &page.items {
            x.with("member", |m| {
                m.elem("Key", &tag.key).elem("Value", &tag.value);
            });
        }
    });
    write_truncation(&mut xml, page.next_marker.as_deref());
    xml.finish()
}

pub(crate) async fn untag_user(cx: &Call<'_>) -> Result<Option<String>, IamError> {
    let name = cx.params.existing_user_name()?;
    let keys = tag_keys_param(cx)?;
    let (_, arn) = user_and_arn(cx, name).await?;
    let removed: Vec<&str> = keys.iter().map(String::as_str).collect();
    cx.authorize_tagging("iam:UntagUser", &arn, &[], &removed).await?;
    cx.store
        .untag_user(cx.account(), name, &keys)
        .await
        .map_err(|e| user_error(e, name))?;
    Ok(None)
}

pub(crate) async fn list_user_tags(cx: &Call<'_>) -> Result<Option<String>, IamError> {
    let name = cx.params.existing_user_name()?;
    let marker = cx.params.marker()?;
    let max_items = cx.params.max_items()?;
    let (_, arn) = user_and_arn(cx, name).await?;
    cx.authorize("iam:ListUserTags", &arn).await?;
    let page = cx
        .store
        .list_user_tags(cx.account(), name, marker, max_items)
        .await
        .map_err(|e| user_error(e, name))?;
    Ok(Some(write_tag_page(&page)))
}
