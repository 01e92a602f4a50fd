//! Inline policies of users, groups and roles: Put/Get/List/Delete{User,Group,Role}Policy. Documents are
//! validated by the policy engine's parser (`MalformedPolicyDocument`), bounded as IAM bounds
//! them (`LimitExceeded`), stored as written and returned URL-encoded, as IAM returns them.

use coffer_policy::{Policy, PolicyKind};
use coffer_store::{PolicyOwner, StoreError};

use crate::groups::no_such_group;
use crate::paging::Pager;
use crate::users::no_such_user;
use crate::xml::Xml;
use crate::{Call, IamError, validate};

/// IAM's quotas on inline policy size, counted without whitespace.
const MAX_USER_POLICY: usize = 2048;
const MAX_GROUP_POLICY: usize = 5120;
const MAX_ROLE_POLICY: usize = 10240;

#[derive(Clone, Copy)]
enum Owner {
    User,
    Group,
    Role,
}

impl Owner {
    fn param(self) -> &'static str {
        match self {
            Owner::User => "UserName",
            Owner::Group => "GroupName",
            Owner::Role => "RoleName",
        }
    }

    /// What the owner is called in actions and messages.
    fn kind(self) -> &'static str {
        match self {
            Owner::User => "user",
            Owner::Group => "group",
            Owner::Role => "role",
        }
    }

    fn action(self, verb: &str) -> String {
        let owner = match self {
            Owner::User => "User",
            Owner::Group => "Group",
            Owner::Role => "Role",
        };
        format!("iam:{verb}{owner}Polic{}", if verb == "List" { "ies" } else { "y" })
    }

    /// IAM's quota on one inline policy of this owner, counted without whitespace.
    fn size_limit(self) -> usize {
        match self {
            Owner::User => MAX_USER_POLICY,
            Owner::Group => MAX_GROUP_POLICY,
            Owner::Role => MAX_ROLE_POLICY,
        }
    }
}

/// The owner's id and ARN, or `NoSuchEntity` once the caller may act on it.
async fn owner(cx: &Call<'_>, kind: Owner, verb: &str) -> Result<(String, String, String), IamError> {
    let name = cx.params.require(kind.param())?;
    match kind {
        Owner::User => {
            validate::existing_user_name(name, "userName")?;
            let (user, arn) = crate::users::user_and_arn(cx, name).await?;
            cx.authorize(&kind.action(verb), &arn).await?;
            let user = user.ok_or_else(|| no_such_user(name))?;
            Ok((user.user_id, name.to_owned(), arn))
        }
        Owner::Group => {
            validate::name_128(name, "groupName")?;
            let group = cx.store.group(cx.account(), name).await;
            let arn = match &group {
                Ok(group) => group.arn(),
                Err(_) => format!("arn:aws:iam::{}:group/{name}", cx.account()),
            };
            cx.authorize(&kind.action(verb), &arn).await?;
            let group = group.map_err(|e| match e {
                StoreError::NoSuchGroup => no_such_group(name),
                other => other.into(),
            })?;
            Ok((group.group_id, name.to_owned(), arn))
        }
        Owner::Role => {
            validate::user_name(name, "roleName")?;
            let (role, arn) = crate::roles::role_and_arn(cx, name).await?;
            cx.authorize(&kind.action(verb), &arn).await?;
            let role = role.ok_or_else(|| crate::roles::no_such_role(name))?;
            Ok((role.role_id, name.to_owned(), arn))
        }
    }
}

fn store_owner(kind: Owner, id: &str) -> PolicyOwner<'_> {
    match kind {
        Owner::User => PolicyOwner::User(id),
        Owner::Group => PolicyOwner::Group(id),
        Owner::Role => PolicyOwner::Role(id),
    }
}

fn policy_name<'a>(cx: &Call<'a>) -> Result<&'a str, IamError> {
    let name = cx.params.require("PolicyName")?;
    validate::name_128(name, "policyName")?;
    Ok(name)
}

fn no_such_policy(kind: Owner, owner: &str, policy: &str) -> IamError {
    IamError::NoSuchEntity(format!(
        "The {} policy with name {policy} cannot be found for {owner}.",
        kind.kind()
    ))
}

async fn put(cx: &Call<'_>, kind: Owner) -> Result<Option<String>, IamError> {
    let name = policy_name(cx)?;
    let document = cx.params.require("PolicyDocument")?;
    let (id, owner_name, _) = owner(cx, kind, "Put").await?;
    let size = document.chars().filter(|c| !c.is_whitespace()).count();
    let limit = kind.size_limit();
    if size > limit {
        return Err(IamError::LimitExceeded(format!(
            "Maximum policy size of {limit} bytes exceeded for {} {owner_name}",
            kind.kind()
        )));
    }
    Policy::parse(document, PolicyKind::Identity).map_err(|e| IamError::MalformedPolicyDocument(e.to_string()))?;
    cx.store
        .put_inline_policy(store_owner(kind, &id), name, document)
        .await?;
    Ok(None)
}

async fn get(cx: &Call<'_>, kind: Owner) -> Result<Option<String>, IamError> {
    let name = policy_name(cx)?;
    let (id, owner_name, _) = owner(cx, kind, "Get").await?;
    let policy = cx
        .store
        .inline_policy(store_owner(kind, &id), name)
        .await
        .map_err(|e| match e {
            StoreError::NoSuchPolicy => no_such_policy(kind, &owner_name, name),
            other => other.into(),
        })?;
    let mut xml = Xml::new();
    xml.elem(kind.param(), &owner_name)
        .elem("PolicyName", &policy.name)
        .elem("PolicyDocument", &crate::xml::encoded_document(&policy.document));
    Ok(Some(xml.finish()))
}

async fn list(cx: &Call<'_>, kind: Owner) -> Result<Option<String>, IamError> {
    let pager = Pager::new(cx.params)?;
    let (id, _, _) = owner(cx, kind, "List").await?;
    let names = pager.page(
        cx.store.list_inline_policies(store_owner(kind, &id)).await?,
        String::clone,
    );
    let mut xml = Xml::new();
    xml.with("PolicyNames", |x| {
        for name in &names.items {
            x.elem("member", name);
        }
    });
    names.write_truncation(&mut xml);
    Ok(Some(xml.finish()))
}

async fn delete(cx: &Call<'_>, kind: Owner) -> Result<Option<String>, IamError> {
    let name = policy_name(cx)?;
    let (id, owner_name, _) = owner(cx, kind, "Delete").await?;
    cx.store
        .delete_inline_policy(store_owner(kind, &id), name)
        .await
        .map_err(|e| match e {
            StoreError::NoSuchPolicy => no_such_policy(kind, &owner_name, name),
            other => other.into(),
        })?;
    Ok(None)
}

pub(crate) async fn put_user_policy(cx: &Call<'_>) -> Result<Option<String>, IamError> {
    put(cx, Owner::User).await
}

pub(crate) async fn get_user_policy(cx: &Call<'_>) -> Result<Option<String>, IamError> {
    get(cx, Owner::User).await
}

pub(crate) async fn list_user_policies(cx: &Call<'_>) -> Result<Option<String>, IamError> {
    list(cx, Owner::User).await
}

pub(crate) async fn delete_user_policy(cx: &Call<'_>) -> Result<Option<String>, IamError> {
    delete(cx, Owner::User).await
}

pub(crate) async fn put_group_policy(cx: &Call<'_>) -> Result<Option<String>, IamError> {
    put(cx, Owner::Group).await
}

pub(crate) async fn get_group_policy(cx: &Call<'_>) -> Result<Option<String>, IamError> {
    get(cx, Owner::Group).await
}

pub(crate) async fn list_group_policies(cx: &Call<'_>) -> Result<Option<String>, IamError> {
    list(cx, Owner::Group).await
}

pub(crate) async fn delete_group_policy(cx: &Call<'_>) -> Result<Option<String>, IamError> {
    delete(cx, Owner::Group).await
}

pub(crate) async fn put_role_policy(cx: &Call<'_>) -> Result<Option<String>, IamError> {
    put(cx, Owner::Role).await
}

pub(crate) async fn get_role_policy(cx: &Call<'_>) -> Result<Option<String>, IamError> {
    get(cx, Owner::Role).await
}

pub(crate) async fn list_role_policies(cx: &Call<'_>) -> Result<Option<String>, IamError> {
    list(cx, Owner::Role).await
}

pub(crate) async fn delete_role_policy(cx: &Call<'_>) -> Result<Option<String>, IamError> {
    delete(cx, Owner::Role).await
}
