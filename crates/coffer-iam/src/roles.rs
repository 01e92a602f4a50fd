//! IAM roles: CreateRole, GetRole, ListRoles, UpdateRole, UpdateRoleDescription,
//! UpdateAssumeRolePolicy, DeleteRole and role tags. A role's trust policy is checked as IAM
//! checks it: a resource policy with principals, no resources, and only the STS actions that
//! assume a role.

use coffer_policy::{Match, Policy, PolicyKind};
use coffer_store::{NewRole, Role, RoleChange, StoreError, Tag};

use crate::error::validation;
use crate::users::{tag_keys_param, tags_param, write_boundary, write_tag_page, write_tags, write_truncation};
use crate::xml::{Xml, encoded_document};
use crate::{Call, IamError, validate};

/// IAM's default quota on a trust policy, counted without whitespace.
const MAX_TRUST_POLICY: usize = 2048;
/// The actions a trust policy may name, lower-cased.
const TRUST_ACTIONS: [&str; 6] = [
    "sts:assumerole",
    "sts:assumerolewithsaml",
    "sts:assumerolewithwebidentity",
    "sts:tagsession",
    "sts:setsourceidentity",
    "sts:setcontext",
];
/// The longest and shortest MaxSessionDuration, in seconds.
const SESSION_DURATIONS: std::ops::RangeInclusive<i64> = 3600..=43200;

pub(crate) fn no_such_role(name: &str) -> IamError {
    IamError::NoSuchEntity(format!("The role with name {name} cannot be found."))
}

fn role_error(err: StoreError, name: &str) -> IamError {
    match err {
        StoreError::NoSuchRole => no_such_role(name),
        StoreError::RoleExists => IamError::EntityAlreadyExists(format!("Role with name {name} already exists.")),
        StoreError::TooManyRoles => IamError::LimitExceeded(format!(
            "Cannot exceed quota for RolesPerAccount: {}",
            coffer_store::MAX_ROLES_PER_ACCOUNT
        )),
        StoreError::TooManyTags => IamError::LimitExceeded("Cannot exceed quota for TagsPerRole: 50".to_owned()),
        StoreError::HasPolicies => {
            IamError::DeleteConflict("Cannot delete entity, must delete policies first.".to_owned())
        }
        StoreError::HasAttachedPolicies => {
            IamError::DeleteConflict("Cannot delete entity, must detach all policies first.".to_owned())
        }
        // A boundary deleted while the role was being created.
        StoreError::NoSuchPolicy => IamError::NoSuchEntity("Scope ARN does not exist or is not attachable.".to_owned()),
        other => other.into(),
    }
}

/// Which of a role's fields an answer carries: AWS's differ by operation.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Shape {
    /// CreateRole: the identity, the trust policy, and the boundary and tags it set.
    Created,
    /// UpdateRoleDescription: as created, with the description.
    Described,
    /// GetRole: everything, RoleLastUsed (empty if never used) included.
    Full,
    /// ListRoles: no boundary, tags or last use.
    Listed,
}

fn write_role(xml: &mut Xml, role: &Role, tags: &[Tag], shape: Shape) {
    xml.elem("Path", &role.path)
        .elem("RoleName", &role.name)
        .elem("RoleId", &role.role_id)
        .elem("Arn", &role.arn())
        .date("CreateDate", role.created_at)
        .elem("AssumeRolePolicyDocument", &encoded_document(&role.trust_policy));
    if shape != Shape::Created {
        xml.elem_opt("Description", role.description.as_deref());
    }
    if matches!(shape, Shape::Full | Shape::Listed) {
        xml.elem("MaxSessionDuration", &role.max_session_duration.to_string());
    }
    if shape != Shape::Listed {
        if let Some(boundary) = &role.permissions_boundary {
            write_boundary(xml, boundary);
        }
        if !tags.is_empty() {
            write_tags(xml, tags);
        }
    }
    if shape == Shape::Full {
        xml.with("RoleLastUsed", |used| {
            if let Some((at, region)) = &role.last_used {
                used.date("LastUsedDate", *at).elem("Region", region);
            }
        });
    }
}

/// The ARN authorization names for a role operation: the role's real ARN when it exists,
/// `role/<name>` otherwise (the operation then fails with `NoSuchEntity` once allowed).
pub(crate) async fn role_and_arn(cx: &Call<'_>, name: &str) -> Result<(Option<Role>, String), IamError> {
    match cx.store.role(cx.account(), name).await {
        Ok(role) => {
            let arn = role.arn();
            Ok((Some(role), arn))
        }
        Err(StoreError::NoSuchRole) => Ok((None, format!("arn:aws:iam::{}:role/{name}", cx.account()))),
        Err(err) => Err(err.into()),
    }
}

fn role_name<'a>(cx: &Call<'a>) -> Result<&'a str, IamError> {
    let name = cx.params.require("RoleName")?;
    validate::user_name(name, "roleName")?;
    Ok(name)
}

/// Descriptions: at most 1000 characters of printable Latin-1, tabs and line breaks.
fn description(value: &str) -> Result<(), IamError> {
    if value.chars().count() > 1000 {
        return Err(validation(
            Some(value),
            "description",
            "Member must have length less than or equal to 1000",
        ));
    }
    let allowed = |c: char| matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{7e}' | '\u{a1}'..='\u{ff}');
    if value.chars().all(allowed) {
        Ok(())
    } else {
        Err(validation(
            Some(value),
            "description",
            r"Member must satisfy regular expression pattern: [\u0009\u000A\u000D\u0020-\u007E\u00A1-\u00FF]*",
        ))
    }
}

fn max_session_duration(cx: &Call<'_>) -> Result<Option<i64>, IamError> {
    let Some(text) = cx.params.get("MaxSessionDuration") else {
        return Ok(None);
    };
    let value: i64 = text
        .parse()
        .map_err(|_| validation(Some(text), "maxSessionDuration", "Member must be a number"))?;
    if value < *SESSION_DURATIONS.start() {
        return Err(validation(
            Some(text),
            "maxSessionDuration",
            "Member must have value greater than or equal to 3600",
        ));
    }
    if value > *SESSION_DURATIONS.end() {
        return Err(validation(
            Some(text),
            "maxSessionDuration",
            "Member must have value less than or equal to 43200",
        ));
    }
    Ok(Some(value))
}

fn malformed(message: impl Into<String>) -> IamError {
    IamError::MalformedPolicyDocument(message.into())
}

/// Whether a trust policy may name `action`: one of the STS actions that assume a role, or
/// a wildcard (`sts:AssumeRole*`) that matches one.
fn trust_action(action: &str) -> bool {
    let action = action.to_ascii_lowercase();
    TRUST_ACTIONS
        .iter()
        .any(|allowed| glob(action.as_bytes(), allowed.as_bytes()))
}

/// Whether `text` matches `pattern`, whose `*` stands for any run and `?` for any one character.
fn glob(pattern: &[u8], text: &[u8]) -> bool {
    match (pattern.split_first(), text.split_first()) {
        (None, None) => true,
        (Some((b'*', rest)), _) => glob(rest, text) || (!text.is_empty() && glob(pattern, &text[1..])),
        (Some((b'?', rest)), Some((_, more))) => glob(rest, more),
        (Some((p, rest)), Some((t, more))) if p == t => glob(rest, more),
        _ => false,
    }
}

/// What IAM checks of a trust policy before it keeps one.
async fn check_trust_policy(cx: &Call<'_>, document: &str) -> Result<(), IamError> {
    if document.chars().filter(|c| !c.is_whitespace()).count() > MAX_TRUST_POLICY {
        return Err(IamError::LimitExceeded(format!(
            "Cannot exceed quota for ACLSizePerRole: {MAX_TRUST_POLICY}"
        )));
    }
    let policy = Policy::parse(document, PolicyKind::Resource).map_err(|e| {
        let message = e.to_string();
        if message.starts_with("Syntax errors") {
            malformed("This policy contains invalid Json")
        } else {
            malformed(message)
        }
    })?;
    for statement in &policy.statements {
        if statement.resources.is_some() {
            return Err(malformed("Has prohibited field Resource"));
        }
        match &statement.actions {
            Match::Is(actions) if actions.iter().all(|a| trust_action(a)) => {}
            _ => return Err(malformed("AssumeRole policy may only specify STS AssumeRole actions.")),
        }
        // A user or role of this account that does not exist cannot be trusted: IAM refuses
        // the policy rather than keep a principal that matches nobody.
        if let Some(Match::Is(principals) | Match::Not(principals)) = &statement.principals {
            for arn in &principals.aws {
                if !principal_exists(cx, arn).await? {
                    return Err(malformed(format!("Invalid principal in policy: \"AWS\":\"{arn}\"")));
                }
            }
        }
    }
    Ok(())
}

/// Whether an AWS principal of the caller's account names a user or role that exists
/// (principals of other accounts, and account principals, are taken as written).
async fn principal_exists(cx: &Call<'_>, arn: &str) -> Result<bool, IamError> {
    let prefix = format!("arn:aws:iam::{}:", cx.account());
    let Some(resource) = arn.strip_prefix(&prefix) else {
        return Ok(true);
    };
    let name = |rest: &str| rest.rsplit('/').next().unwrap_or_default().to_owned();
    let found = if let Some(rest) = resource.strip_prefix("user/") {
        cx.store.user(cx.account(), &name(rest)).await.map(|u| u.arn() == arn)
    } else if let Some(rest) = resource.strip_prefix("role/") {
        cx.store.role(cx.account(), &name(rest)).await.map(|r| r.arn() == arn)
    } else {
        return Ok(true);
    };
    match found {
        Ok(same) => Ok(same),
        Err(StoreError::NoSuchUser | StoreError::NoSuchRole) => Ok(false),
        Err(err) => Err(err.into()),
    }
}

pub(crate) async fn create_role(cx: &Call<'_>) -> Result<Option<String>, IamError> {
    let name = role_name(cx)?;
    let path = cx.params.get("Path").unwrap_or("/");
    validate::path(path, "path")?;
    let trust_policy = cx.params.require("AssumeRolePolicyDocument")?;
    let role_description = cx.params.get("Description");
    if let Some(text) = role_description {
        description(text)?;
    }
    let max_session_duration = max_session_duration(cx)?.unwrap_or(*SESSION_DURATIONS.start());
    let boundary = cx.params.get("PermissionsBoundary");
    let tags = tags_param(cx)?;
    let arn = format!("arn:aws:iam::{}:role{path}{name}", cx.account());
    let boundary_key = boundary.map(|b| ("iam:PermissionsBoundary", b.to_owned()));
    // Both see the tags (a policy may allow or deny creating roles by them).
    cx.authorize_tagging_with("iam:CreateRole", &arn, boundary_key.into_iter().collect(), &tags)
        .await?;
    if !tags.is_empty() {
        // Tagging on create needs iam:TagRole too, as in IAM.
        cx.authorize_tagging("iam:TagRole", &arn, &tags, &[]).await?;
    }
    check_trust_policy(cx, trust_policy).await?;
    if let Some(boundary) = boundary {
        crate::managed_policies::check_boundary(cx, boundary).await?;
    }
    let role = cx
        .store
        .create_role(
            cx.account(),
            &NewRole {
                name,
                path,
                trust_policy,
                description: role_description,
                max_session_duration,
                permissions_boundary: boundary,
                tags: &tags,
            },
        )
        .await
        .map_err(|e| role_error(e, name))?;
    let mut xml = Xml::new();
    xml.with("Role", |x| write_role(x, &role, &tags, Shape::Created));
    Ok(Some(xml.finish()))
}

pub(crate) async fn get_role(cx: &Call<'_>) -> Result<Option<String>, IamError> {
    let name = role_name(cx)?;
    let (role, arn) = role_and_arn(cx, name).await?;
    cx.authorize("iam:GetRole", &arn).await?;
    let role = role.ok_or_else(|| no_such_role(name))?;
    let tags = cx
        .store
        .list_role_tags(cx.account(), name, None, 50)
        .await
        .map_err(|e| role_error(e, name))?;
    let mut xml = Xml::new();
    xml.with("Role", |x| write_role(x, &role, &tags.items, Shape::Full));
    Ok(Some(xml.finish()))
}

pub(crate) async fn list_roles(cx: &Call<'_>) -> Result<Option<String>, IamError> {
    let prefix = cx.params.get("PathPrefix").unwrap_or("/");
    validate::path_prefix(prefix)?;
    let marker = cx.params.marker()?;
    let max_items = cx.params.max_items()?;
    cx.authorize("iam:ListRoles", &format!("arn:aws:iam::{}:role/", cx.account()))
        .await?;
    let page = cx.store.list_roles(cx.account(), prefix, marker, max_items).await?;
    let mut xml = Xml::new();
    xml.with("Roles", |x| {
        for role in &page.items {
            x.with("member", |m| write_role(m, role, &[], Shape::Listed));
        }
    });
    write_truncation(&mut xml, page.next_marker.as_deref());
    Ok(Some(xml.finish()))
}

/// Authorizes `action` on the role `name` and applies `change` to it.
async fn change_role(cx: &Call<'_>, action: &str, name: &str, change: &RoleChange<'_>) -> Result<Role, IamError> {
    let (role, arn) = role_and_arn(cx, name).await?;
    cx.authorize(action, &arn).await?;
    if role.is_none() {
        return Err(no_such_role(name));
    }
    if let Some(trust_policy) = change.trust_policy {
        check_trust_policy(cx, trust_policy).await?;
    }
    cx.store
        .update_role(cx.account(), name, change)
        .await
        .map_err(|e| role_error(e, name))
}

pub(crate) async fn update_role(cx: &Call<'_>) -> Result<Option<String>, IamError> {
    let name = role_name(cx)?;
    let new_description = cx.params.get("Description");
    if let Some(text) = new_description {
        description(text)?;
    }
    let change = RoleChange {
        description: new_description,
        max_session_duration: max_session_duration(cx)?,
        trust_policy: None,
    };
    change_role(cx, "iam:UpdateRole", name, &change).await?;
    // AWS answers an empty <UpdateRoleResult/>; botocore fails to parse an answer without it.
    Ok(Some(String::new()))
}

pub(crate) async fn update_role_description(cx: &Call<'_>) -> Result<Option<String>, IamError> {
    let name = role_name(cx)?;
    let new_description = cx.params.require("Description")?;
    description(new_description)?;
    let change = RoleChange {
        description: Some(new_description),
        ..RoleChange::default()
    };
    let role = change_role(cx, "iam:UpdateRoleDescription", name, &change).await?;
    let mut xml = Xml::new();
    xml.with("Role", |x| write_role(x, &role, &[], Shape::Described));
    Ok(Some(xml.finish()))
}

pub(crate) async fn update_assume_role_policy(cx: &Call<'_>) -> Result<Option<String>, IamError> {
    let name = role_name(cx)?;
    let change = RoleChange {
        trust_policy: Some(cx.params.require("PolicyDocument")?),
        ..RoleChange::default()
    };
    change_role(cx, "iam:UpdateAssumeRolePolicy", name, &change).await?;
    Ok(None)
}

pub(crate) async fn delete_role(cx: &Call<'_>) -> Result<Option<String>, IamError> {
    let name = role_name(cx)?;
    let (_, arn) = role_and_arn(cx, name).await?;
    cx.authorize("iam:DeleteRole", &arn).await?;
    cx.store
        .delete_role(cx.account(), name)
        .await
        .map_err(|e| role_error(e, name))?;
    Ok(None)
}

pub(crate) async fn tag_role(cx: &Call<'_>) -> Result<Option<String>, IamError> {
    let name = role_name(cx)?;
    let tags = tags_param(cx)?;
    if tags.is_empty() {
        return Err(validation(None, "tags", "Member must not be null"));
    }
    let (_, arn) = role_and_arn(cx, name).await?;
    cx.authorize_tagging("iam:TagRole", &arn, &tags, &[]).await?;
    cx.store
        .tag_role(cx.account(), name, &tags)
        .await
        .map_err(|e| role_error(e, name))?;
    Ok(None)
}

pub(crate) async fn untag_role(cx: &Call<'_>) -> Result<Option<String>, IamError> {
    let name = role_name(cx)?;
    let keys = tag_keys_param(cx)?;
    let (_, arn) = role_and_arn(cx, name).await?;
    let removed: Vec<&str> = keys.iter().map(String::as_str).collect();
    cx.authorize_tagging("iam:UntagRole", &arn, &[], &removed).await?;
    cx.store
        .untag_role(cx.account(), name, &keys)
        .await
        .map_err(|e| role_error(e, name))?;
    Ok(None)
}

pub(crate) async fn list_role_tags(cx: &Call<'_>) -> Result<Option<String>, IamError> {
    let name = role_name(cx)?;
    let marker = cx.params.marker()?;
    let max_items = cx.params.max_items()?;
    let (_, arn) = role_and_arn(cx, name).await?;
    cx.authorize("iam:ListRoleTags", &arn).await?;
    let page = cx
        .store
        .list_role_tags(cx.account(), name, marker, max_items)
        .await
        .map_err(|e| role_error(e, name))?;
    Ok(Some(write_tag_page(&page)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_trust_policy_names_only_the_actions_that_assume_a_role() {
        for allowed in [
            "sts:AssumeRole",
            "STS:assumerolewithwebidentity",
            "sts:TagSession",
            "sts:AssumeRole*",
            "sts:*",
        ] {
            assert!(trust_action(allowed), "{allowed}");
        }
        for refused in [
            "s3:GetObject",
            "sts:GetSessionToken",
            "sts:Get*",
            "*:GetObject",
            "sts:AssumeRoleX",
        ] {
            assert!(!trust_action(refused), "{refused}");
        }
    }
}
