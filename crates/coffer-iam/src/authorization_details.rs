//! GetAccountAuthorizationDetails: every user, group, role and managed policy of the account
//! with the policies that apply to it, in one answer (paged by entity with MaxItems/Marker),
//! as auditors and tools snapshot an account.

use coffer_store::{AttachedTo, Bounded, PolicyOwner, Store};

use crate::users::{write_boundary, write_tags, write_truncation};
use crate::xml::{Xml, encoded_document};
use crate::{Call, IamError};

/// The entity kinds the `Filter` names.
const KINDS: [&str; 5] = ["User", "Role", "Group", "LocalManagedPolicy", "AWSManagedPolicy"];

/// One entity's element, rendered, and the list it belongs in.
struct Entry {
    list: &'static str,
    xml: String,
}

pub(crate) async fn get_account_authorization_details(cx: &Call<'_>) -> Result<Option<String>, IamError> {
    cx.authorize("iam:GetAccountAuthorizationDetails", "*").await?;
    let filter = cx.params.members("Filter");
    for kind in &filter {
        if !KINDS.contains(kind) {
            return Err(crate::error::validation(
                Some(kind),
                "filter",
                "Member must satisfy enum value set: [Role, Group, LocalManagedPolicy, User, AWSManagedPolicy]",
            ));
        }
    }
    let wanted = |kind: &str| filter.is_empty() || filter.contains(&kind);
    let max_items = cx.params.max_items()?;
    let start: usize = match cx.params.marker()? {
        None => 0,
        Some(marker) => marker
            .parse()
            .map_err(|_| IamError::InvalidInput("Invalid Marker.".to_owned()))?,
    };
    let (store, account) = (cx.store, cx.account());
    let mut entries = Vec::new();
    if wanted("User") {
        users(store, account, &mut entries).await?;
    }
    if wanted("Group") {
        groups(store, account, &mut entries).await?;
    }
    if wanted("Role") {
        roles(store, account, &mut entries).await?;
    }
    if wanted("LocalManagedPolicy") {
        local_policies(store, account, &mut entries).await?;
    }
    if wanted("AWSManagedPolicy") {
        aws_policies(store, account, &mut entries).await?;
    }
    let end = (start + max_items).min(entries.len());
    let page = entries.get(start..end).unwrap_or_default();
    let mut xml = Xml::new();
    for list in ["UserDetailList", "GroupDetailList", "RoleDetailList", "Policies"] {
        xml.open(list);
        for entry in page.iter().filter(|e| e.list == list) {
            xml.raw(&entry.xml);
        }
        xml.close(list);
    }
    let next = (end < entries.len()).then(|| end.to_string());
    write_truncation(&mut xml, next.as_deref());
    Ok(Some(xml.finish()))
}

/// `<member><PolicyName>…</PolicyName><PolicyDocument>…</PolicyDocument></member>` for each
/// inline policy of `owner`, in `list`.
async fn inline(store: &Store, owner: PolicyOwner<'_>, list: &str, xml: &mut Xml) -> Result<(), IamError> {
    let names = store.list_inline_policies(owner).await?;
    let mut documents = Vec::with_capacity(names.len());
    for name in &names {
        documents.push(store.inline_policy(owner, name).await?);
    }
    xml.with(list, |x| {
        for policy in &documents {
            x.with("member", |m| {
                m.elem("PolicyName", &policy.name)
                    .elem("PolicyDocument", &encoded_document(&policy.document));
            });
        }
    });
    Ok(())
}

async fn attached(store: &Store, to: AttachedTo<'_>, xml: &mut Xml) -> Result<(), IamError> {
    let arns = store.attached_policies(to).await?;
    xml.with("AttachedManagedPolicies", |x| {
        for arn in &arns {
            x.with("member", |m| {
                m.elem("PolicyName", arn.rsplit('/').next().unwrap_or(arn))
                    .elem("PolicyArn", arn);
            });
        }
    });
    Ok(())
}

async fn users(store: &Store, account: &str, entries: &mut Vec<Entry>) -> Result<(), IamError> {
    let mut marker: Option<String> = None;
    loop {
        let page = store.list_users(account, "/", marker.as_deref(), 1000).await?;
        for user in &page.items {
            let mut xml = Xml::new();
            xml.elem("Path", &user.path)
                .elem("UserName", &user.name)
                .elem("UserId", &user.user_id)
                .elem("Arn", &user.arn())
                .date("CreateDate", user.created_at);
            inline(store, PolicyOwner::User(&user.user_id), "UserPolicyList", &mut xml).await?;
            let groups = store.groups_for_user(user).await?;
            xml.with("GroupList", |x| {
                for group in &groups {
                    x.elem("member", &group.name);
                }
            });
            attached(store, AttachedTo::User(&user.user_id), &mut xml).await?;
            if let Some(boundary) = store.permissions_boundary(Bounded::User(&user.user_id)).await? {
                write_boundary(&mut xml, &boundary);
            }
            let tags = store.list_user_tags(account, &user.name, None, 50).await?.items;
            write_tags(&mut xml, &tags);
            entries.push(member("UserDetailList", xml));
        }
        match page.next_marker {
            Some(next) => marker = Some(next),
            None => return Ok(()),
        }
    }
}

async fn groups(store: &Store, account: &str, entries: &mut Vec<Entry>) -> Result<(), IamError> {
    let mut marker: Option<String> = None;
    loop {
        let page = store.list_groups(account, "/", marker.as_deref(), 1000).await?;
        for group in &page.items {
            let mut xml = Xml::new();
            xml.elem("Path", &group.path)
                .elem("GroupName", &group.name)
                .elem("GroupId", &group.group_id)
                .elem("Arn", &group.arn())
                .date("CreateDate", group.created_at);
            inline(store, PolicyOwner::Group(&group.group_id), "GroupPolicyList", &mut xml).await?;
            attached(store, AttachedTo::Group(&group.group_id), &mut xml).await?;
            entries.push(member("GroupDetailList", xml));
        }
        match page.next_marker {
            Some(next) => marker = Some(next),
            None => return Ok(()),
        }
    }
}

async fn roles(store: &Store, account: &str, entries: &mut Vec<Entry>) -> Result<(), IamError> {
    let mut marker: Option<String> = None;
    loop {
        let page = store.list_roles(account, "/", marker.as_deref(), 1000).await?;
        for role in &page.items {
            let mut xml = Xml::new();
            xml.elem("Path", &role.path)
                .elem("RoleName", &role.name)
                .elem("RoleId", &role.role_id)
                .elem("Arn", &role.arn())
                .date("CreateDate", role.created_at)
                .elem("AssumeRolePolicyDocument", &encoded_document(&role.trust_policy))
                // Coffer has no instance profiles (EC2 is not served).
                .with("InstanceProfileList", |_| {});
            inline(store, PolicyOwner::Role(&role.role_id), "RolePolicyList", &mut xml).await?;
            attached(store, AttachedTo::Role(&role.role_id), &mut xml).await?;
            if let Some(boundary) = &role.permissions_boundary {
                write_boundary(&mut xml, boundary);
            }
            let tags = store.list_role_tags(account, &role.name, None, 50).await?.items;
            write_tags(&mut xml, &tags);
            xml.with("RoleLastUsed", |used| {
                if let Some((at, region)) = &role.last_used {
                    used.date("LastUsedDate", *at).elem("Region", region);
                }
            });
            entries.push(member("RoleDetailList", xml));
        }
        match page.next_marker {
            Some(next) => marker = Some(next),
            None => return Ok(()),
        }
    }
}

async fn local_policies(store: &Store, account: &str, entries: &mut Vec<Entry>) -> Result<(), IamError> {
    for policy in store.list_managed_policies(account, "/").await? {
        let versions = store.policy_versions(&policy).await?;
        let mut xml = Xml::new();
        xml.elem("PolicyName", &policy.name)
            .elem("PolicyId", &policy.policy_id)
            .elem("Arn", &policy.arn())
            .elem("Path", &policy.path)
            .elem("DefaultVersionId", &policy.default_version)
            .elem("AttachmentCount", &policy.attachment_count.to_string())
            .elem("PermissionsBoundaryUsageCount", "0")
            .elem("IsAttachable", "true")
            .elem_opt("Description", policy.description.as_deref())
            .date("CreateDate", policy.created_at)
            .date("UpdateDate", policy.updated_at)
            .with("PolicyVersionList", |list| {
                for version in &versions {
                    list.with("member", |m| {
                        m.elem("Document", &encoded_document(&version.document))
                            .elem("VersionId", &version.version_id)
                            .elem("IsDefaultVersion", if version.is_default { "true" } else { "false" })
                            .date("CreateDate", version.created_at);
                    });
                }
            });
        entries.push(member("Policies", xml));
    }
    Ok(())
}

/// AWS managed policies the account uses (attached to one of its users, groups or roles).
async fn aws_policies(store: &Store, account: &str, entries: &mut Vec<Entry>) -> Result<(), IamError> {
    for managed in coffer_policy::aws_managed::all() {
        let arn = &managed.arn;
        let count = store.attachment_count(account, arn).await?;
        if count == 0 {
            continue;
        }
        let mut xml = Xml::new();
        xml.elem("PolicyName", &managed.name)
            .elem("PolicyId", &managed.policy_id)
            .elem("Arn", arn)
            .elem("Path", &managed.path)
            .elem("DefaultVersionId", &managed.default_version)
            .elem("AttachmentCount", &count.to_string())
            .elem("PermissionsBoundaryUsageCount", "0")
            .elem("IsAttachable", "true")
            .with("PolicyVersionList", |list| {
                list.with("member", |m| {
                    m.elem("Document", &encoded_document(&managed.document))
                        .elem("VersionId", &managed.default_version)
                        .elem("IsDefaultVersion", "true");
                });
            });
        entries.push(member("Policies", xml));
    }
    Ok(())
}

fn member(list: &'static str, content: Xml) -> Entry {
    Entry {
        list,
        xml: format!("<member>{}</member>", content.finish()),
    }
}
