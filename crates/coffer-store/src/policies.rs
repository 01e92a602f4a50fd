//! Inline policies of users and groups, and the set of documents that apply to a user (cached:
//! every authorization needs it; every policy or membership write clears the cache, so a
//! revoked permission stops working on the next request).

use std::sync::Arc;

use crate::epochs::Cache;
use crate::managed::{AttachedTo, lock_customer_policy, lock_entity};
use crate::users::fold;
use crate::{Result, Store, StoreError};

/// Whose inline policy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PolicyOwner<'a> {
    User(&'a str),
    Group(&'a str),
    Role(&'a str),
}

impl PolicyOwner<'_> {
    fn kind(&self) -> &'static str {
        match self {
            PolicyOwner::User(_) => "user",
            PolicyOwner::Group(_) => "group",
            PolicyOwner::Role(_) => "role",
        }
    }

    fn id(&self) -> &str {
        match self {
            PolicyOwner::User(id) | PolicyOwner::Group(id) | PolicyOwner::Role(id) => id,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InlinePolicy {
    pub name: String,
    pub document: String,
}

/// The policies that apply to one user: the documents of its own and its groups' inline and
/// customer managed policies (as written), and the ARNs of the AWS managed policies attached
/// to it or its groups (their documents are built into Coffer, not stored).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UserPolicies {
    pub documents: Vec<PolicyDocument>,
    pub aws_managed: Vec<String>,
    /// The permissions boundary: a customer managed policy's default document, or the ARN of
    /// an AWS managed one.
    pub boundary: Option<Boundary>,
    /// The user's or role's own tags (`aws:PrincipalTag/*`).
    pub tags: Vec<crate::Tag>,
    /// Whether the user or role still exists (false: a session of one deleted since).
    pub exists: bool,
}

/// One stored policy that applies to a user, with where it comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PolicyDocument {
    /// `user` (the user's inline policy), `group` (a group's) or `user-managed` (a customer
    /// managed policy attached to the user or a group), as IAM's simulator names them.
    pub kind: String,
    pub name: String,
    pub text: String,
}

/// Whose permissions boundary: a user's or a role's, by id.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Bounded<'a> {
    User(&'a str),
    Role(&'a str),
}

impl Bounded<'_> {
    /// The owner's table and id column (fixed texts, never from a request).
    fn table(self) -> (&'static str, &'static str) {
        match self {
            Bounded::User(_) => ("users", "user_id"),
            Bounded::Role(_) => ("roles", "role_id"),
        }
    }

    fn entity(&self) -> AttachedTo<'_> {
        match *self {
            Bounded::User(id) => AttachedTo::User(id),
            Bounded::Role(id) => AttachedTo::Role(id),
        }
    }

    fn id(&self) -> &str {
        match self {
            Bounded::User(id) | Bounded::Role(id) => id,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Boundary {
    /// A customer managed policy: its name and default document.
    Document {
        name: String,
        text: String,
    },
    AwsManaged(String),
}

impl Store {
    /// Creates or replaces an inline policy.
    pub async fn put_inline_policy(&self, owner: PolicyOwner<'_>, name: &str, document: &str) -> Result<()> {
        let mut tx = self.begin_write().await?;
        // The owner cannot be deleted with its new policy on the way.
        let owner_entity = match owner {
            PolicyOwner::User(id) => AttachedTo::User(id),
            PolicyOwner::Group(id) => AttachedTo::Group(id),
            PolicyOwner::Role(id) => AttachedTo::Role(id),
        };
        lock_entity(&mut tx, owner_entity).await?;
        sqlx::query(
            "INSERT INTO inline_policies (owner_kind, owner_id, name, name_key, document) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (owner_kind, owner_id, name_key) DO UPDATE SET name = excluded.name, document = excluded.document",
        )
        .bind(owner.kind())
        .bind(owner.id())
        .bind(name)
        .bind(fold(name))
        .bind(document)
        .execute(&mut *tx)
        .await?;
        self.commit_changed(tx, Cache::Policies).await
    }

    pub async fn inline_policy(&self, owner: PolicyOwner<'_>, name: &str) -> Result<InlinePolicy> {
        let row: Option<(String, String)> = sqlx::query_as(
            "SELECT name, document FROM inline_policies WHERE owner_kind = $1 AND owner_id = $2 AND name_key = $3",
        )
        .bind(owner.kind())
        .bind(owner.id())
        .bind(fold(name))
        .fetch_optional(&self.inner.reader)
        .await?;
        row.map(|(name, document)| InlinePolicy { name, document })
            .ok_or(StoreError::NoSuchPolicy)
    }

    /// An owner's inline policy names, in order.
    pub async fn list_inline_policies(&self, owner: PolicyOwner<'_>) -> Result<Vec<String>> {
        Ok(sqlx::query_scalar(
            "SELECT name FROM inline_policies WHERE owner_kind = $1 AND owner_id = $2 ORDER BY name_key",
        )
        .bind(owner.kind())
        .bind(owner.id())
        .fetch_all(&self.inner.reader)
        .await?)
    }

    pub async fn delete_inline_policy(&self, owner: PolicyOwner<'_>, name: &str) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let deleted =
            sqlx::query("DELETE FROM inline_policies WHERE owner_kind = $1 AND owner_id = $2 AND name_key = $3")
                .bind(owner.kind())
                .bind(owner.id())
                .bind(fold(name))
                .execute(&mut *tx)
                .await?;
        if deleted.rows_affected() == 0 {
            return Err(StoreError::NoSuchPolicy);
        }
        self.commit_changed(tx, Cache::Policies).await
    }

    /// Sets or (with `None`) removes a user's permissions boundary.
    pub async fn set_permissions_boundary(&self, owner: Bounded<'_>, arn: Option<&str>) -> Result<()> {
        let (table, column) = owner.table();
        let mut tx = self.begin_write().await?;
        lock_entity(&mut tx, owner.entity()).await?;
        if let Some(arn) = arn {
            // The policy cannot be deleted while it becomes a boundary (a delete checks for those).
            let account_id: String = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
                "SELECT account_id FROM {table} WHERE {column} = $1"
            )))
            .bind(owner.id())
            .fetch_one(&mut *tx)
            .await?;
            lock_customer_policy(&mut tx, &account_id, arn).await?;
        }
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "UPDATE {table} SET permissions_boundary = $2 WHERE {column} = $1"
        )))
        .bind(owner.id())
        .bind(arn)
        .execute(&mut *tx)
        .await?;
        self.commit_changed(tx, Cache::Policies).await
    }

    /// A user's or role's permissions boundary ARN, if it has one.
    pub async fn permissions_boundary(&self, owner: Bounded<'_>) -> Result<Option<String>> {
        let (table, column) = owner.table();
        Ok(sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT permissions_boundary FROM {table} WHERE {column} = $1"
        )))
        .bind(owner.id())
        .fetch_optional(&self.inner.reader)
        .await?
        .flatten())
    }

    /// Every policy document that applies to the user `user_id` (cached).
    pub async fn user_policies(&self, user_id: &str) -> Result<Arc<UserPolicies>> {
        self.entity_policies(Bounded::User(user_id)).await
    }

    /// Every policy document that applies to the role `role_id` (cached): its own inline and
    /// attached policies, and its boundary.
    pub async fn role_policies(&self, role_id: &str) -> Result<Arc<UserPolicies>> {
        self.entity_policies(Bounded::Role(role_id)).await
    }

    /// The default documents of the managed policies `arns` names (a session's managed
    /// session policies): customer managed ones in `documents`, AWS managed ones in
    /// `aws_managed`. An ARN that names no policy (any more) is left out. Each policy is
    /// cached on its own while no policy changes, so the cache holds at most one entry per
    /// policy whatever lists sessions carry.
    pub async fn policies_by_arn(&self, arns: &[String]) -> Result<UserPolicies> {
        let mut all = UserPolicies {
            documents: Vec::new(),
            aws_managed: Vec::new(),
            boundary: None,
            tags: Vec::new(),
            exists: true,
        };
        for arn in arns {
            if arn.starts_with("arn:aws:iam::aws:policy/") {
                all.aws_managed.push(arn.clone());
                continue;
            }
            // Never an entity id: those are upper-case letters and digits only.
            let key = format!("arn:{arn}");
            let one = match self.inner.policies.get(&key) {
                Ok(found) => found,
                Err(generation) => {
                    let text: Option<(String, String)> = sqlx::query_as(
                        "SELECT p.name, v.document FROM managed_policies p JOIN policy_versions v \
                         ON v.policy_id = p.policy_id AND v.version = p.default_version \
                         WHERE 'arn:aws:iam::' || p.account_id || ':policy' || p.path || p.name = $1",
                    )
                    .bind(arn)
                    .fetch_optional(&self.inner.reader)
                    .await?;
                    let one = Arc::new(UserPolicies {
                        documents: text
                            .map(|(name, text)| PolicyDocument {
                                kind: "session".to_owned(),
                                name,
                                text,
                            })
                            .into_iter()
                            .collect(),
                        aws_managed: Vec::new(),
                        boundary: None,
                        tags: Vec::new(),
                        exists: true,
                    });
                    self.inner.policies.insert(generation, key, one.clone());
                    one
                }
            };
            all.documents.extend(one.documents.iter().cloned());
        }
        Ok(all)
    }

    /// The policies of a user (with its groups') or of a role, cached under the entity's id
    /// (user and role ids never collide: `AIDA…`, `AROA…`).
    async fn entity_policies(&self, entity: Bounded<'_>) -> Result<Arc<UserPolicies>> {
        let id = entity.id();
        let generation = match self.inner.policies.get(id) {
            Ok(found) => return Ok(found),
            Err(generation) => generation,
        };
        // Inline policies, and where managed ones are attached: to the entity, or to a group
        // the user is in.
        let (inline, attached) = match entity {
            Bounded::User(_) => (
                "SELECT owner_kind, name, document FROM inline_policies WHERE owner_kind = 'user' AND owner_id = $1 \
                 UNION ALL SELECT p.owner_kind, p.name, p.document FROM inline_policies p JOIN group_members m \
                 ON p.owner_kind = 'group' AND p.owner_id = m.group_id WHERE m.user_id = $1",
                "(a.entity_kind = 'user' AND a.entity_id = $1) OR (a.entity_kind = 'group' AND a.entity_id IN \
                 (SELECT group_id FROM group_members WHERE user_id = $1))",
            ),
            Bounded::Role(_) => (
                "SELECT owner_kind, name, document FROM inline_policies WHERE owner_kind = 'role' AND owner_id = $1",
                "a.entity_kind = 'role' AND a.entity_id = $1",
            ),
        };
        let documents: Vec<(String, String, String)> = sqlx::query_as(sqlx::AssertSqlSafe(inline))
            .bind(id)
            .fetch_all(&self.inner.reader)
            .await?;
        let managed: Vec<(String, String, String)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT '{kind}-managed', p.name, v.document FROM policy_attachments a JOIN managed_policies p \
             ON a.policy_arn = 'arn:aws:iam::' || p.account_id || ':policy' || p.path || p.name \
             JOIN policy_versions v ON v.policy_id = p.policy_id AND v.version = p.default_version WHERE {attached}",
            kind = match entity {
                Bounded::User(_) => "user",
                Bounded::Role(_) => "role",
            }
        )))
        .bind(id)
        .fetch_all(&self.inner.reader)
        .await?;
        let aws_managed: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT DISTINCT a.policy_arn FROM policy_attachments a \
             WHERE substr(a.policy_arn, 1, 24) = 'arn:aws:iam::aws:policy/' AND ({attached})"
        )))
        .bind(id)
        .fetch_all(&self.inner.reader)
        .await?;
        let documents = documents
            .into_iter()
            .chain(managed)
            .map(|(kind, name, text)| PolicyDocument { kind, name, text })
            .collect();
        // The entity's row: gone, its sessions (which name it by id) are held to nothing.
        let (table, column) = entity.table();
        let row: Option<Option<String>> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT permissions_boundary FROM {table} WHERE {column} = $1"
        )))
        .bind(id)
        .fetch_optional(&self.inner.reader)
        .await?;
        let exists = row.is_some();
        let boundary_arn = row.flatten();
        let boundary = match boundary_arn {
            None => None,
            Some(arn) if arn.starts_with("arn:aws:iam::aws:policy/") => Some(Boundary::AwsManaged(arn)),
            Some(arn) => {
                let document: Option<String> = sqlx::query_scalar(
                    "SELECT v.document FROM managed_policies p JOIN policy_versions v \
                     ON v.policy_id = p.policy_id AND v.version = p.default_version \
                     WHERE 'arn:aws:iam::' || p.account_id || ':policy' || p.path || p.name = $1",
                )
                .bind(&arn)
                .fetch_optional(&self.inner.reader)
                .await?;
                // A boundary whose policy is gone allows nothing, as an empty boundary.
                let name = arn.rsplit('/').next().unwrap_or(&arn).to_owned();
                let text = document.unwrap_or_else(|| {
                    r#"{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":"*","Resource":"*"}}"#.to_owned()
                });
                Some(Boundary::Document { name, text })
            }
        };
        let (table, column) = match entity {
            Bounded::User(_) => ("user_tags", "user_id"),
            Bounded::Role(_) => ("role_tags", "role_id"),
        };
        let tags: Vec<(String, String)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT tag_key, tag_value FROM {table} WHERE {column} = $1 ORDER BY tag_key_key"
        )))
        .bind(id)
        .fetch_all(&self.inner.reader)
        .await?;
        let policies = Arc::new(UserPolicies {
            documents,
            aws_managed,
            boundary,
            tags: tags.into_iter().map(|(key, value)| crate::Tag { key, value }).collect(),
            exists,
        });
        self.inner.policies.insert(generation, id.to_owned(), policies.clone());
        Ok(policies)
    }
}
