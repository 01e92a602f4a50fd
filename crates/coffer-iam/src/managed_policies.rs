//! Managed policies: CreatePolicy, GetPolicy, GetPolicyVersion, ListPolicies, DeletePolicy,
//! Attach/Detach{User,Group}Policy, ListAttached{User,Group}Policies. AWS managed policies
//! (`arn:aws:iam::aws:policy/…`) come from `coffer_policy::aws_managed`; customer managed
//! ones from the store. Attaching either changes what a user may do on the next request.

use coffer_policy::aws_managed::{self, AwsManagedPolicy};
use coffer_policy::{Policy, PolicyKind};
use coffer_store::{AttachedTo, Bounded, ManagedPolicy, StoreError};

use crate::groups::no_such_group;
use crate::paging::Pager;
use crate::users::{no_such_user, write_truncation};
use crate::xml::Xml;
use crate::{Call, IamError, validate};

/// IAM's quota on a managed policy document, counted without whitespace.
const MAX_MANAGED_POLICY: usize = 6144;

enum Resolved {
    Aws(&'static AwsManagedPolicy),
    Customer(ManagedPolicy),
}

fn no_such_policy(arn: &str) -> IamError {
    IamError::NoSuchEntity(format!("Policy {arn} does not exist or is not attachable."))
}

/// The managed policy an ARN names: AWS's, or one of the caller's account.
async fn resolve(cx: &Call<'_>, arn: &str) -> Result<Resolved, IamError> {
    if let Some(policy) = aws_managed::find(arn) {
        return Ok(Resolved::Aws(policy));
    }
    match cx.store.managed_policy(cx.account(), arn).await {
        Ok(policy) => Ok(Resolved::Customer(policy)),
        Err(StoreError::NoSuchPolicy) => Err(no_such_policy(arn)),
        Err(err) => Err(err.into()),
    }
}

fn policy_arn_param(cx: &Call<'_>) -> Result<String, IamError> {
    let arn = cx.params.require("PolicyArn")?;
    if !arn.starts_with("arn:aws:iam::") || !arn.contains(":policy/") {
        return Err(IamError::InvalidInput(format!("ARN {arn} is not valid.")));
    }
    Ok(arn.to_owned())
}

fn write_aws_policy(xml: &mut Xml, policy: &AwsManagedPolicy, attachments: i64) {
    xml.elem("PolicyName", &policy.name)
        .elem("DefaultVersionId", &policy.default_version)
        .elem("PolicyId", &policy.policy_id)
        .elem("Path", &policy.path)
        .elem("Arn", &policy.arn)
        .elem("AttachmentCount", &attachments.to_string())
        .elem("PermissionsBoundaryUsageCount", "0")
        .elem("IsAttachable", "true");
    xml.elem_opt("Description", policy.description.as_deref());
    xml.elem("CreateDate", &policy.create_date)
        .elem("UpdateDate", &policy.update_date);
}

fn write_customer_policy(xml: &mut Xml, policy: &ManagedPolicy) {
    xml.elem("PolicyName", &policy.name)
        .elem("DefaultVersionId", &policy.default_version)
        .elem("PolicyId", &policy.policy_id)
        .elem("Path", &policy.path)
        .elem("Arn", &policy.arn())
        .elem("AttachmentCount", &policy.attachment_count.to_string())
        .elem("PermissionsBoundaryUsageCount", "0")
        .elem("IsAttachable", "true");
    xml.elem_opt("Description", policy.description.as_deref());
    xml.date("CreateDate", policy.created_at)
        .date("UpdateDate", policy.updated_at);
}

fn validated_document<'a>(cx: &Call<'a>) -> Result<&'a str, IamError> {
    let document = cx.params.require("PolicyDocument")?;
    check_managed_policy(document)?;
    Ok(document)
}

/// What CreatePolicy and CreatePolicyVersion say of `document`: its statements when it
/// would be accepted.
pub fn check_managed_policy(document: &str) -> Result<usize, IamError> {
    if document.chars().filter(|c| !c.is_whitespace()).count() > MAX_MANAGED_POLICY {
        return Err(IamError::LimitExceeded(format!(
            "Cannot exceed quota for PolicySize: {MAX_MANAGED_POLICY}"
        )));
    }
    let policy =
        Policy::parse(document, PolicyKind::Identity).map_err(|e| IamError::MalformedPolicyDocument(e.to_string()))?;
    // Managed policies must use the current language version (inline ones may still say
    // 2008-10-17 or nothing, as in IAM).
    if policy.version != coffer_policy::document::Version::V2012 {
        return Err(IamError::MalformedPolicyDocument(
            "Policy document must be version 2012-10-17 or greater.".to_owned(),
        ));
    }
    Ok(policy.statements.len())
}

pub(crate) async fn create_policy(cx: &Call<'_>) -> Result<Option<String>, IamError> {
    let name = cx.params.require("PolicyName")?;
    validate::name_128(name, "policyName")?;
    let path = cx.params.get("Path").unwrap_or("/");
    validate::path(path, "path")?;
    let description = cx.params.get("Description");
    let document = validated_document(cx)?;
    let tags = crate::users::tags_param(cx)?;
    let arn = format!("arn:aws:iam::{}:policy{path}{name}", cx.account());
    if tags.is_empty() {
        cx.authorize("iam:CreatePolicy", &arn).await?;
    } else {
        cx.authorize_tagging("iam:CreatePolicy", &arn, &tags, &[]).await?;
        cx.authorize_tagging("iam:TagPolicy", &arn, &tags, &[]).await?;
    }
    let policy = cx
        .store
        .create_policy(cx.account(), name, path, description, document)
        .await
        .map_err(|e| match e {
            StoreError::PolicyExists => IamError::EntityAlreadyExists(format!(
                "A policy called {name} already exists. Duplicate names are not allowed."
            )),
            other => other.into(),
        })?;
    if !tags.is_empty() {
        cx.store.tag_policy(&policy, &tags).await.map_err(tag_error)?;
    }
    let mut xml = Xml::new();
    xml.with("Policy", |x| write_customer_policy(x, &policy));
    Ok(Some(xml.finish()))
}

pub(crate) async fn get_policy(cx: &Call<'_>) -> Result<Option<String>, IamError> {
    let arn = policy_arn_param(cx)?;
    cx.authorize("iam:GetPolicy", &arn).await?;
    let mut xml = Xml::new();
    match resolve(cx, &arn).await? {
        Resolved::Aws(policy) => {
            let count = cx.store.attachment_count(cx.account(), &arn).await?;
            xml.with("Policy", |x| write_aws_policy(x, policy, count));
        }
        Resolved::Customer(policy) => {
            xml.with("Policy", |x| write_customer_policy(x, &policy));
        }
    }
    Ok(Some(xml.finish()))
}

pub(crate) async fn get_policy_version(cx: &Call<'_>) -> Result<Option<String>, IamError> {
    let arn = policy_arn_param(cx)?;
    let version_id = cx.params.require("VersionId")?;
    cx.authorize("iam:GetPolicyVersion", &arn).await?;
    let no_such_version = || {
        IamError::NoSuchEntity(format!(
            "Policy {arn} version {version_id} does not exist or is not attachable."
        ))
    };
    let (document, is_default, created) = match resolve(cx, &arn).await? {
        Resolved::Aws(policy) if policy.default_version == version_id => {
            (policy.document.clone(), true, policy.update_date.clone())
        }
        Resolved::Aws(_) => return Err(no_such_version()),
        Resolved::Customer(policy) => {
            let version = cx
                .store
                .policy_version(&policy, version_id)
                .await
                .map_err(|e| match e {
                    StoreError::NoSuchPolicyVersion => no_such_version(),
                    other => other.into(),
                })?;
            (
                version.document,
                version.is_default,
                crate::xml::iso8601(version.created_at),
            )
        }
    };
    let mut xml = Xml::new();
    xml.with("PolicyVersion", |x| {
        x.elem("Document", &crate::xml::encoded_document(&document))
            .elem("VersionId", version_id)
            .elem("IsDefaultVersion", if is_default { "true" } else { "false" })
            .elem("CreateDate", &created);
    });
    Ok(Some(xml.finish()))
}

/// A policy in a ListPolicies answer: an AWS managed one with its attachments here, or one of
/// the account's own.
enum Listed<'a> {
    Aws(&'a AwsManagedPolicy, i64),
    Customer(ManagedPolicy),
}

pub(crate) async fn list_policies(cx: &Call<'_>) -> Result<Option<String>, IamError> {
    let scope = cx.params.get("Scope").unwrap_or("All");
    if !["All", "AWS", "Local"].contains(&scope) {
        return Err(crate::error::validation(
            Some(scope),
            "scope",
            "Member must satisfy enum value set: [All, AWS, Local]",
        ));
    }
    let only_attached = cx
        .params
        .get("OnlyAttached")
        .is_some_and(|v| v.eq_ignore_ascii_case("true"));
    let prefix = cx.params.get("PathPrefix").unwrap_or("/");
    validate::path_prefix(prefix)?;
    let pager = Pager::new(cx.params)?;
    cx.authorize("iam:ListPolicies", &format!("arn:aws:iam::{}:policy/", cx.account()))
        .await?;
    let mut listed = Vec::new();
    if scope != "Local" {
        for policy in aws_managed::all().iter().filter(|p| p.path.starts_with(prefix)) {
            let count = cx.store.attachment_count(cx.account(), &policy.arn).await?;
            if !only_attached || count > 0 {
                listed.push(Listed::Aws(policy, count));
            }
        }
    }
    if scope != "AWS" {
        let customer = cx.store.list_managed_policies(cx.account(), prefix).await?;
        listed.extend(
            customer
                .into_iter()
                .filter(|p| !only_attached || p.attachment_count > 0)
                .map(Listed::Customer),
        );
    }
    let page = pager.page(listed, |listed| match listed {
        Listed::Aws(policy, _) => policy.arn.clone(),
        Listed::Customer(policy) => policy.arn(),
    });
    let mut xml = Xml::new();
    xml.with("Policies", |x| {
        for listed in &page.items {
            x.with("member", |m| match listed {
                Listed::Aws(policy, count) => write_aws_policy(m, policy, *count),
                Listed::Customer(policy) => write_customer_policy(m, policy),
            });
        }
    });
    page.write_truncation(&mut xml);
    Ok(Some(xml.finish()))
}

pub(crate) async fn delete_policy(cx: &Call<'_>) -> Result<Option<String>, IamError> {
    let arn = policy_arn_param(cx)?;
    cx.authorize("iam:DeletePolicy", &arn).await?;
    let policy = match resolve(cx, &arn).await? {
        Resolved::Customer(policy) => policy,
        Resolved::Aws(_) => {
            return Err(IamError::AccessDenied(format!(
                "An AWS managed policy cannot be deleted: {arn}"
            )));
        }
    };
    cx.store.delete_managed_policy(&policy).await.map_err(|e| match e {
        StoreError::PolicyAttached => IamError::DeleteConflict("Cannot delete a policy attached to entities.".to_owned()),
        StoreError::PolicyHasVersions => IamError::DeleteConflict(
            "This policy has more than one version. Before you delete a policy, you must delete the policy's versions. \
             The default version is deleted with the policy."
                .to_owned(),
        ),
        other => other.into(),
    })?;
    Ok(None)
}

#[derive(Clone, Copy)]
enum Entity {
    User,
    Group,
    Role,
}

/// The entity's id and ARN, authorized for `action`.
async fn entity(
    cx: &Call<'_>,
    kind: Entity,
    action: &str,
    keys: Vec<(&str, String)>,
) -> Result<(String, String), IamError> {
    match kind {
        Entity::User => {
            let name = cx.params.existing_user_name()?;
            let (user, arn) = crate::users::user_and_arn(cx, name).await?;
            cx.authorize_with(action, &arn, keys).await?;
            let user = user.ok_or_else(|| no_such_user(name))?;
            Ok((user.user_id, arn))
        }
        Entity::Group => {
            let name = cx.params.require("GroupName")?;
            validate::name_128(name, "groupName")?;
            let group = cx.store.group(cx.account(), name).await;
            let arn = match &group {
                Ok(group) => group.arn(),
                Err(_) => format!("arn:aws:iam::{}:group/{name}", cx.account()),
            };
            cx.authorize_with(action, &arn, keys).await?;
            let group = group.map_err(|e| match e {
                StoreError::NoSuchGroup => no_such_group(name),
                other => other.into(),
            })?;
            Ok((group.group_id, arn))
        }
        Entity::Role => {
            let name = cx.params.require("RoleName")?;
            validate::user_name(name, "roleName")?;
            let (role, arn) = crate::roles::role_and_arn(cx, name).await?;
            cx.authorize_with(action, &arn, keys).await?;
            let role = role.ok_or_else(|| crate::roles::no_such_role(name))?;
            Ok((role.role_id, arn))
        }
    }
}

fn attached_to(kind: Entity, id: &str) -> AttachedTo<'_> {
    match kind {
        Entity::User => AttachedTo::User(id),
        Entity::Group => AttachedTo::Group(id),
        Entity::Role => AttachedTo::Role(id),
    }
}

async fn attach(cx: &Call<'_>, kind: Entity, action: &str) -> Result<Option<String>, IamError> {
    let arn = policy_arn_param(cx)?;
    let (id, _) = entity(cx, kind, action, vec![("iam:PolicyARN", arn.clone())]).await?;
    resolve(cx, &arn).await?;
    cx.store
        .attach_policy(cx.account(), &arn, attached_to(kind, &id))
        .await
        .map_err(|e| match e {
            StoreError::TooManyAttachedPolicies => IamError::LimitExceeded(format!(
                "Cannot exceed quota for PoliciesPer{}: {}",
                match kind {
                    Entity::User => "User",
                    Entity::Group => "Group",
                    Entity::Role => "Role",
                },
                coffer_store::MAX_ATTACHED_POLICIES
            )),
            other => other.into(),
        })?;
    Ok(None)
}

async fn detach(cx: &Call<'_>, kind: Entity, action: &str) -> Result<Option<String>, IamError> {
    let arn = policy_arn_param(cx)?;
    let (id, _) = entity(cx, kind, action, vec![("iam:PolicyARN", arn.clone())]).await?;
    cx.store
        .detach_policy(&arn, attached_to(kind, &id))
        .await
        .map_err(|e| match e {
            StoreError::NoSuchPolicy => IamError::NoSuchEntity(format!("Policy {arn} was not found.")),
            other => other.into(),
        })?;
    Ok(None)
}

async fn list_attached(cx: &Call<'_>, kind: Entity, action: &str) -> Result<Option<String>, IamError> {
    let pager = Pager::new(cx.params)?;
    let (id, _) = entity(cx, kind, action, Vec::new()).await?;
    let arns = pager.page(cx.store.attached_policies(attached_to(kind, &id)).await?, String::clone);
    let mut xml = Xml::new();
    xml.with("AttachedPolicies", |x| {
        for arn in &arns.items {
            let name = arn.rsplit('/').next().unwrap_or(arn);
            x.with("member", |m| {
                m.elem("PolicyName", name).elem("PolicyArn", arn);
            });
        }
    });
    arns.write_truncation(&mut xml);
    Ok(Some(xml.finish()))
}

pub(crate) async fn attach_user_policy(cx: &Call<'_>) -> Result<Option<String>, IamError> {
    attach(cx, Entity::User, "iam:AttachUserPolicy").await
}

pub(crate) async fn detach_user_policy(cx: &Call<'_>) -> Result<Option<String>, IamError> {
    detach(cx, Entity::User, "iam:DetachUserPolicy").await
}

pub(crate) async fn attach_group_policy(cx: &Call<'_>) -> Result<Option<String>, IamError> {
    attach(cx, Entity::Group, "iam:AttachGroupPolicy").await
}

pub(crate) async fn detach_group_policy(cx: &Call<'_>) -> Result<Option<String>, IamError> {
    detach(cx, Entity::Group, "iam:DetachGroupPolicy").await
}

pub(crate) async fn list_attached_user_policies(cx: &Call<'_>) -> Result<Option<String>, IamError> {
    list_attached(cx, Entity::User, "iam:ListAttachedUserPolicies").await
}

pub(crate) async fn list_attached_group_policies(cx: &Call<'_>) -> Result<Option<String>, IamError> {
    list_attached(cx, Entity::Group, "iam:ListAttachedGroupPolicies").await
}

pub(crate) async fn attach_role_policy(cx: &Call<'_>) -> Result<Option<String>, IamError> {
    attach(cx, Entity::Role, "iam:AttachRolePolicy").await
}

pub(crate) async fn detach_role_policy(cx: &Call<'_>) -> Result<Option<String>, IamError> {
    detach(cx, Entity::Role, "iam:DetachRolePolicy").await
}

pub(crate) async fn list_attached_role_policies(cx: &Call<'_>) -> Result<Option<String>, IamError> {
    list_attached(cx, Entity::Role, "iam:ListAttachedRolePolicies").await
}

/// The customer managed policy a `PolicyArn` names (versions exist only for those).
async fn customer_policy(cx: &Call<'_>, arn: &str) -> Result<ManagedPolicy, IamError> {
    match resolve(cx, arn).await? {
        Resolved::Customer(policy) => Ok(policy),
        Resolved::Aws(_) => Err(IamError::AccessDenied(format!(
            "AWS managed policies cannot be changed: {arn}"
        ))),
    }
}

fn version_error(arn: &str, version_id: &str) -> impl Fn(StoreError) -> IamError {
    let (arn, version_id) = (arn.to_owned(), version_id.to_owned());
    move |err| match err {
        StoreError::NoSuchPolicyVersion => IamError::NoSuchEntity(format!(
            "Policy {arn} version {version_id} does not exist or is not attachable."
        )),
        StoreError::DeleteDefaultVersion => {
            IamError::DeleteConflict("Cannot delete the default version of a policy.".to_owned())
        }
        other => other.into(),
    }
}

pub(crate) async fn create_policy_version(cx: &Call<'_>) -> Result<Option<String>, IamError> {
    let arn = policy_arn_param(cx)?;
    let document = validated_document(cx)?;
    let set_as_default = cx
        .params
        .get("SetAsDefault")
        .is_some_and(|v| v.eq_ignore_ascii_case("true"));
    cx.authorize("iam:CreatePolicyVersion", &arn).await?;
    let policy = customer_policy(cx, &arn).await?;
    let version = cx.store.create_policy_version(&policy, document, set_as_default).await.map_err(|e| match e {
        StoreError::TooManyPolicyVersions => IamError::LimitExceeded(format!(
            "A managed policy can have up to {} versions. Before you create a new version, you must delete an existing version.",
            coffer_store::MAX_POLICY_VERSIONS
        )),
        other => other.into(),
    })?;
    let mut xml = Xml::new();
    xml.with("PolicyVersion", |x| {
        x.elem("VersionId", &version.version_id)
            .elem("IsDefaultVersion", if version.is_default { "true" } else { "false" })
            .date("CreateDate", version.created_at);
    });
    Ok(Some(xml.finish()))
}

pub(crate) async fn list_policy_versions(cx: &Call<'_>) -> Result<Option<String>, IamError> {
    let arn = policy_arn_param(cx)?;
    let pager = Pager::new(cx.params)?;
    cx.authorize("iam:ListPolicyVersions", &arn).await?;
    let mut xml = Xml::new();
    let mut next_marker = None;
    match resolve(cx, &arn).await? {
        Resolved::Aws(policy) => {
            xml.with("Versions", |x| {
                x.with("member", |m| {
                    m.elem("VersionId", &policy.default_version)
                        .elem("IsDefaultVersion", "true")
                        .elem("CreateDate", &policy.update_date);
                });
            });
        }
        Resolved::Customer(policy) => {
            // Newest first, as IAM lists them; by number, not text (v10 is newer than v9).
            let versions = pager.page(cx.store.policy_versions(&policy).await?, |v| {
                std::cmp::Reverse(v.version_id.trim_start_matches('v').parse::<u32>().unwrap_or(0))
            });
            next_marker = versions.next_marker.clone();
            xml.with("Versions", |x| {
                for version in &versions.items {
                    x.with("member", |m| {
                        m.elem("VersionId", &version.version_id)
                            .elem("IsDefaultVersion", if version.is_default { "true" } else { "false" })
                            .date("CreateDate", version.created_at);
                    });
                }
            });
        }
    }
    write_truncation(&mut xml, next_marker.as_deref());
    Ok(Some(xml.finish()))
}

pub(crate) async fn delete_policy_version(cx: &Call<'_>) -> Result<Option<String>, IamError> {
    let arn = policy_arn_param(cx)?;
    let version_id = cx.params.require("VersionId")?;
    cx.authorize("iam:DeletePolicyVersion", &arn).await?;
    let policy = customer_policy(cx, &arn).await?;
    cx.store
        .delete_policy_version(&policy, version_id)
        .await
        .map_err(version_error(&arn, version_id))?;
    Ok(None)
}

pub(crate) async fn set_default_policy_version(cx: &Call<'_>) -> Result<Option<String>, IamError> {
    let arn = policy_arn_param(cx)?;
    let version_id = cx.params.require("VersionId")?;
    cx.authorize("iam:SetDefaultPolicyVersion", &arn).await?;
    let policy = customer_policy(cx, &arn).await?;
    cx.store
        .set_default_policy_version(&policy, version_id)
        .await
        .map_err(version_error(&arn, version_id))?;
    Ok(None)
}

/// `ARN … is not valid.` unless `arn` has the shape of a managed policy's ARN.
fn policy_arn_shape(arn: &str) -> Result<(), IamError> {
    if arn.starts_with("arn:aws:iam::") && arn.contains(":policy/") {
        Ok(())
    } else {
        Err(IamError::InvalidInput(format!("ARN {arn} is not valid.")))
    }
}

/// A permissions boundary a request names: a well-formed ARN of a managed policy that exists.
pub(crate) async fn check_boundary(cx: &Call<'_>, arn: &str) -> Result<(), IamError> {
    policy_arn_shape(arn)?;
    match resolve(cx, arn).await {
        Ok(_) => Ok(()),
        Err(IamError::NoSuchEntity(_)) => Err(IamError::NoSuchEntity(format!(
            "Scope ARN: {arn} does not exist or is not attachable."
        ))),
        Err(err) => Err(err),
    }
}

/// Put{User,Role}PermissionsBoundary.
async fn put_boundary(
    cx: &Call<'_>,
    kind: Entity,
    bounded: fn(&str) -> Bounded<'_>,
    action: &str,
) -> Result<Option<String>, IamError> {
    let arn = cx.params.require("PermissionsBoundary")?.to_owned();
    policy_arn_shape(&arn)?;
    let (id, _) = entity(cx, kind, action, vec![("iam:PermissionsBoundary", arn.clone())]).await?;
    check_boundary(cx, &arn).await?;
    cx.store.set_permissions_boundary(bounded(&id), Some(&arn)).await?;
    Ok(None)
}

/// Delete{User,Role}PermissionsBoundary: `NoSuchEntity` when there is none.
async fn delete_boundary(
    cx: &Call<'_>,
    kind: Entity,
    bounded: fn(&str) -> Bounded<'_>,
    action: &str,
    what: &str,
) -> Result<Option<String>, IamError> {
    let (id, _) = entity(cx, kind, action, Vec::new()).await?;
    if cx.store.permissions_boundary(bounded(&id)).await?.is_none() {
        return Err(IamError::NoSuchEntity(format!(
            "The {what} has no permissions boundary."
        )));
    }
    cx.store.set_permissions_boundary(bounded(&id), None).await?;
    Ok(None)
}

pub(crate) async fn put_user_permissions_boundary(cx: &Call<'_>) -> Result<Option<String>, IamError> {
    put_boundary(
        cx,
        Entity::User,
        |id| Bounded::User(id),
        "iam:PutUserPermissionsBoundary",
    )
    .await
}

pub(crate) async fn delete_user_permissions_boundary(cx: &Call<'_>) -> Result<Option<String>, IamError> {
    delete_boundary(
        cx,
        Entity::User,
        |id| Bounded::User(id),
        "iam:DeleteUserPermissionsBoundary",
        "user",
    )
    .await
}

pub(crate) async fn put_role_permissions_boundary(cx: &Call<'_>) -> Result<Option<String>, IamError> {
    put_boundary(
        cx,
        Entity::Role,
        |id| Bounded::Role(id),
        "iam:PutRolePermissionsBoundary",
    )
    .await
}

pub(crate) async fn delete_role_permissions_boundary(cx: &Call<'_>) -> Result<Option<String>, IamError> {
    delete_boundary(
        cx,
        Entity::Role,
        |id| Bounded::Role(id),
        "iam:DeleteRolePermissionsBoundary",
        "role",
    )
    .await
}

pub(crate) async fn list_entities_for_policy(cx: &Call<'_>) -> Result<Option<String>, IamError> {
    let arn = policy_arn_param(cx)?;
    let filter = cx.params.get("EntityFilter");
    if let Some(filter) = filter
        && !["User", "Role", "Group", "LocalManagedPolicy", "AWSManagedPolicy"].contains(&filter)
    {
        return Err(crate::error::validation(
            Some(filter),
            "entityFilter",
            "Member must satisfy enum value set: [User, Role, Group, LocalManagedPolicy, AWSManagedPolicy]",
        ));
    }
    let pager = Pager::new(cx.params)?;
    cx.authorize("iam:ListEntitiesForPolicy", &arn).await?;
    resolve(cx, &arn).await?;
    let wanted = |kind: &str| match filter {
        None => true,
        Some("User") => kind == "user",
        Some("Group") => kind == "group",
        Some("Role") => kind == "role",
        Some(_) => false,
    };
    let mut entities = cx.store.policy_entities(cx.account(), &arn).await?;
    entities.retain(|(kind, _, _)| wanted(kind));
    // By name across groups, users and roles: one page may end among any of them.
    let page = pager.page(entities, |(kind, name, _)| (kind.clone(), name.clone()));
    let entities = &page.items;
    let mut xml = Xml::new();
    xml.with("PolicyGroups", |x| {
        for (_, name, id) in entities.iter().filter(|e| e.0 == "group") {
            x.with("member", |m| {
                m.elem("GroupName", name).elem("GroupId", id);
            });
        }
    });
    xml.with("PolicyUsers", |x| {
        for (_, name, id) in entities.iter().filter(|e| e.0 == "user") {
            x.with("member", |m| {
                m.elem("UserName", name).elem("UserId", id);
            });
        }
    });
    xml.with("PolicyRoles", |x| {
        for (_, name, id) in entities.iter().filter(|e| e.0 == "role") {
            x.with("member", |m| {
                m.elem("RoleName", name).elem("RoleId", id);
            });
        }
    });
    page.write_truncation(&mut xml);
    Ok(Some(xml.finish()))
}

fn tag_error(err: StoreError) -> IamError {
    match err {
        StoreError::TooManyTags => IamError::LimitExceeded("Cannot exceed quota for TagsPerPolicy: 50".to_owned()),
        other => other.into(),
    }
}

pub(crate) async fn tag_policy(cx: &Call<'_>) -> Result<Option<String>, IamError> {
    let arn = policy_arn_param(cx)?;
    let tags = crate::users::tags_param(cx)?;
    cx.authorize_tagging("iam:TagPolicy", &arn, &tags, &[]).await?;
    let policy = customer_policy(cx, &arn).await?;
    cx.store.tag_policy(&policy, &tags).await.map_err(tag_error)?;
    Ok(None)
}

pub(crate) async fn untag_policy(cx: &Call<'_>) -> Result<Option<String>, IamError> {
    let arn = policy_arn_param(cx)?;
    let keys = cx.params.members("TagKeys");
    cx.authorize_tagging("iam:UntagPolicy", &arn, &[], &keys).await?;
    let policy = customer_policy(cx, &arn).await?;
    cx.store.untag_policy(&policy, &keys).await?;
    Ok(None)
}

pub(crate) async fn list_policy_tags(cx: &Call<'_>) -> Result<Option<String>, IamError> {
    let arn = policy_arn_param(cx)?;
    let pager = Pager::new(cx.params)?;
    cx.authorize("iam:ListPolicyTags", &arn).await?;
    let policy = customer_policy(cx, &arn).await?;
    let tags = pager.page(cx.store.policy_tags(&policy).await?, |tag| tag.key.clone());
    let mut xml = Xml::new();
    crate::users::write_tags(&mut xml, &tags.items);
    if tags.items.is_empty() {
        xml.with("Tags", |_| {});
    }
    tags.write_truncation(&mut xml);
    Ok(Some(xml.finish()))
}
