//! Coffer's store: accounts, IAM users, access keys, buckets and object metadata in SQL, reached through sqlx's
//! `Any` driver so one code path serves SQLite (the default, `<data-dir>/meta.db`) and, later,
//! PostgreSQL; object bytes in blob files ([`BlobStore`]). Secrets are sealed before they reach SQL and never leave this crate in the clear
//! except as the [`Credential`] used to verify a signature, or once, when a key is created.
//!
//! Start reading at [`Store`]. This crate knows nothing of HTTP or of AWS's wire formats.

mod access_keys;
mod accounts;
mod acl;
mod blob_cache;
mod blobs;
mod buckets;
mod cache;
mod commits;
mod console_sessions;
mod copy;
mod cors;
mod credential_reports;
mod credentials;
mod db;
mod direct_io;
mod encryption;
mod epochs;
mod groups;
pub mod ids;
mod joined;
mod kms;
mod lifecycle;
pub mod listing;
mod logging;
mod managed;
mod model;
mod multipart;
mod object_cache;
mod object_lock;
mod objects;
mod oidc;
mod passwords;
mod policies;
pub mod private_fs;
mod roles;
mod secrets;
mod signin_throttle;
mod small_puts;
pub mod stats;
mod tagging;
mod tags;
mod users;
mod versions;

use std::sync::Arc;

pub use access_keys::KeyOwnerName;
pub use accounts::{AccountCounts, DEFAULT_ACCOUNT_NAME};
pub use acl::{Grant, Grantee, ObjectAccess, ObjectAcl, ObjectOwnership, Permission};
pub use blobs::{BlobLease, BlobStore, BlobWriter, SMALL_BLOB, read_exact_at};
pub use buckets::{Bucket, NewBucket, PublicAccessBlock};
pub use console_sessions::StoredSession;
pub use copy::{CopyReport, copy_database};
pub use cors::CorsRule;
pub use credentials::{Credential, KeyOwner};
pub use db::{Backend, DatabaseOptions, POSTGRES_POOL_SIZE};
pub use encryption::{
    BlobKey, BucketEncryption, DataKey, Encryption, KmsUse, SEGMENT, Sealing, SegmentError, TAG, open_segment,
    open_segment_in_place, sealed_len, sealed_span, segment_count,
};
pub use epochs::{FULL_REFRESH, POLL_INTERVAL};
pub use groups::Group;
pub use kms::{AWS_MANAGED_S3, KmsAlias, KmsKey, KmsKeyState};
pub use lifecycle::{
    Expiration, Judged, LIFECYCLE_DAY, Lease, LifecycleDay, LifecycleFilter, LifecycleReport, LifecycleRule,
    NoncurrentExpiration, expiration,
};
pub use logging::{BucketLogging, LogKeyFormat};
pub use managed::{AttachedTo, MAX_ATTACHED_POLICIES, MAX_POLICY_VERSIONS, ManagedPolicy, PolicyVersion};
pub use model::{AccessKey, Account, KeyLastUsed, KeyStatus, NewAccessKey, Page, Tag, User};
pub use multipart::{Upload, UploadedPart};
pub use object_lock::{BucketLock, DefaultRetention, ObjectLock, Retention, RetentionMode, RetentionPeriod};
pub use objects::{
    MAX_INLINE_BODY, NULL_VERSION, NewBytes, NewObject, ObjectChecksum, ObjectData, ObjectHeaders, ObjectMeta,
    ObjectPart, WriteCondition,
};
pub use oidc::{MAX_OIDC_PROVIDERS, OidcChange, OidcProvider};
pub use passwords::{LoginProfile, PasswordPolicy};
pub use policies::{Boundary, Bounded, InlinePolicy, PolicyDocument, PolicyOwner, UserPolicies};
pub use roles::{MAX_ROLES_PER_ACCOUNT, NewRole, Role, RoleChange};
pub use secrets::{MASTER_KEY_FILE, Sealer};
pub use signin_throttle::{SigninAttemptId, SigninHistory, SigninKey};
pub use versions::{Deleted, Versioning, is_version_id, new_version_id};

/// What can go wrong in the store. Domain variants name the AWS condition they become.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("account not found")]
    NoSuchAccount,
    #[error("KMS key not found")]
    NoSuchKmsKey,
    #[error("KMS alias not found")]
    NoSuchKmsAlias,
    #[error("the KMS alias already exists")]
    KmsAliasExists,
    #[error("{0}")]
    CopyRefused(String),
    /// The database could not be reached for a write; nothing was written.
    #[error("the database is unavailable: {0}")]
    Unavailable(String),
    /// The database was lost while a transaction committed: it may or may not have taken
    /// effect, so nothing it named may be thrown away.
    #[error("the commit's outcome is unknown: {0}")]
    CommitUnknown(String),
    #[error("an account with this name already exists")]
    AccountExists,
    #[error("the account alias is taken")]
    AliasTaken,
    #[error("user not found")]
    NoSuchUser,
    #[error("group not found")]
    NoSuchGroup,
    #[error("a group with this name already exists")]
    GroupExists,
    #[error("the group still has members")]
    GroupHasMembers,
    #[error("the user is not a member of the group")]
    NotAMember,
    #[error("the user or group still has policies")]
    HasPolicies,
    #[error("the user is still in groups")]
    UserInGroups,
    #[error("policy not found")]
    NoSuchPolicy,
    #[error("policy version not found")]
    NoSuchPolicyVersion,
    #[error("a policy with this name already exists")]
    PolicyExists,
    #[error("the policy is still attached")]
    PolicyAttached,
    #[error("the policy already has the most versions allowed")]
    TooManyPolicyVersions,
    #[error("the default version of a policy cannot be deleted")]
    DeleteDefaultVersion,
    #[error("the policy has versions besides its default")]
    PolicyHasVersions,
    #[error("the user or group still has managed policies attached")]
    HasAttachedPolicies,
    #[error("a user with this name already exists")]
    UserExists,
    #[error("role not found")]
    NoSuchRole,
    #[error("OpenID Connect provider not found")]
    NoSuchOidcProvider,
    #[error("an OpenID Connect provider for this URL already exists")]
    OidcProviderExists,
    #[error("the account already has the most OpenID Connect providers allowed")]
    TooManyOidcProviders,
    #[error("the provider already has the most client ids allowed")]
    TooManyClientIds,
    #[error("a role with this name already exists")]
    RoleExists,
    #[error("the account already has the most roles allowed")]
    TooManyRoles,
    #[error("the user, group or role already has the most managed policies attached")]
    TooManyAttachedPolicies,
    #[error("the user still has access keys")]
    UserHasKeys,
    #[error("the user still has a login profile")]
    HasLoginProfile,
    #[error("login profile not found")]
    NoSuchLoginProfile,
    #[error("the user already has a login profile")]
    LoginProfileExists,
    #[error("the account has no password policy")]
    NoPasswordPolicy,
    #[error("access key not found")]
    NoSuchAccessKey,
    #[error("an access key with this id already exists")]
    AccessKeyExists,
    #[error("the owner already has the maximum number of access keys")]
    TooManyAccessKeys,
    #[error("the user already has the maximum number of tags")]
    TooManyTags,
    #[error("a bucket with this name already exists")]
    BucketExists { owned_by_caller: bool },
    #[error("bucket not found")]
    NoSuchBucket,
    #[error("the bucket is not empty")]
    BucketNotEmpty,
    #[error("object not found")]
    NoSuchKey,
    #[error("version not found")]
    NoSuchVersion,
    /// The version named is a delete marker, which has no lock to read or set.
    #[error("the version is a delete marker")]
    MethodNotAllowed,
    /// The bucket enforces bucket-owner ownership (ACLs disabled), and the change would give
    /// it an ACL other than the default, or it has one and is to enforce.
    #[error("a bucket enforcing bucket-owner ownership cannot have a non-default ACL")]
    AclWithEnforcedOwnership,
    /// Object Lock protects the version: it may not be deleted, or its retention shortened.
    #[error("the version is protected by Object Lock")]
    ObjectLocked,
    /// The bucket's state forbids the change (Object Lock without versioning Enabled,
    /// suspending versioning under Object Lock).
    #[error("the bucket's state does not allow this")]
    InvalidBucketState,
    /// A write asked for a lock in a bucket without Object Lock.
    #[error("the bucket has no Object Lock configuration")]
    ObjectLockNotEnabled,
    #[error("a write condition did not hold")]
    PreconditionFailed,
    #[error("multipart upload not found")]
    NoSuchUpload,
    #[error("a chosen part was uploaded again meanwhile")]
    InvalidPart,
    #[error("stored metadata is corrupt: {0}")]
    Corrupt(&'static str),
    #[error("the master key must be 64 hexadecimal digits (32 bytes)")]
    BadMasterKey,
    #[error("{0} is missing but the data dir already holds sealed secrets: restore it or set COFFER_MASTER_KEY")]
    MasterKeyMissing(std::path::PathBuf),
    #[error("a sealed secret could not be opened: wrong master key or corrupted row")]
    SealBroken,
    #[error("database: {0}")]
    Db(#[from] sqlx::Error),
    #[error("migration: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// The metadata database's file in the data dir.
pub(crate) const META_DB_FILE: &str = "meta.db";

/// Maps a unique-constraint violation to `on_conflict`, passing other errors through.
impl StoreError {
    /// Whether the database could not be reached (refused, lost, or no connection free in
    /// time), as opposed to a request it refused: a node answers 503 and recovers by itself
    /// once the database is back.
    pub fn is_unavailable(&self) -> bool {
        matches!(self, StoreError::CommitUnknown(_) | StoreError::Unavailable(_))
            || matches!(
                self,
                StoreError::Db(
                    sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) | sqlx::Error::Tls(_)
                )
            )
            || matches!(self, StoreError::Db(sqlx::Error::Database(db)) if db.code().is_some_and(|code| {
                // PostgreSQL's connection exceptions, operator intervention (a terminated
                // connection, a server shutting down), insufficient resources (too many
                // connections), and a database not accepting connections.
                code.starts_with("08") || code.starts_with("57") || code.starts_with("53") || code == "55000"
                // A deadlock, a serialization failure, or a lock not had in time: nothing was
                // written, and the same request can succeed when retried.
                || code == "40P01" || code == "40001" || code == "55P03"
                // SQLite's busy and locked (with their extended codes): another process (a
                // `coffer db copy`, an account command) held the write lock past the timeout.
                || (code.len() < 5 && code.parse::<u32>().is_ok_and(|n| matches!(n & 0xff, 5 | 6)))
            }))
    }
}

pub(crate) fn unique_violation(err: sqlx::Error, on_conflict: StoreError) -> StoreError {
    match &err {
        sqlx::Error::Database(db) if db.is_unique_violation() => on_conflict,
        _ => err.into(),
    }
}

/// `on_violation` for a write a foreign key refused (a parent deleted meanwhile, or a child
/// added meanwhile), else the error as it is.
pub(crate) fn foreign_key_violation(err: sqlx::Error, on_violation: StoreError) -> StoreError {
    match &err {
        sqlx::Error::Database(db) if db.is_foreign_key_violation() => on_violation,
        _ => err.into(),
    }
}

/// The metadata store. Cheap to clone; share one per process.
#[derive(Clone, Debug)]
pub struct Store {
    inner: Arc<db::Db>,
}

/// How many access keys one user (or one root user) may have, as in AWS.
pub const MAX_ACCESS_KEYS_PER_USER: i64 = 2;
/// How many tags one IAM user may carry, as in AWS.
pub const MAX_TAGS_PER_USER: i64 = 50;

#[cfg(test)]
mod kms_tests;
#[cfg(test)]
mod object_tests;
#[cfg(test)]
mod race_tests;
#[cfg(test)]
mod small_put_tests;
#[cfg(test)]
mod test_backends;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod version_tests;
