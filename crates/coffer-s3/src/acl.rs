//! Access control lists and Object Ownership: Get/PutBucketAcl, Get/PutObjectAcl,
//! Put/Get/DeleteBucketOwnershipControls, and the ACL a write asks for (`x-amz-acl`,
//! `x-amz-grant-*`) on CreateBucket, PutObject, CopyObject and CreateMultipartUpload.
//!
//! What the grants allow is decided with the policies (`coffer_auth`'s `acl_grants`); here
//! they are read from S3's shapes, checked and written back. Under BucketOwnerEnforced (the
//! default for new buckets) ACLs are disabled: reads show the owner's full control, and
//! setting anything but the bucket owner's full control is `AccessControlListNotSupported`.

use s3s::dto::{self, *};
use s3s::{S3Request, S3Response};

use crate::error::{Result, S3Fault};
use crate::versioning::{check_version_id, reported_version};
use crate::{CofferS3, canonical_user_id};
use coffer_store::{Bucket, Grant, Grantee, ObjectAcl, ObjectOwnership, Permission, StoreError};

const ALL_USERS: &str = "http://acs.amazonaws.com/groups/global/AllUsers";
const AUTHENTICATED_USERS: &str = "http://acs.amazonaws.com/groups/global/AuthenticatedUsers";
const LOG_DELIVERY: &str = "http://acs.amazonaws.com/groups/s3/LogDelivery";
/// The canonical user `aws-exec-read` grants READ to (Amazon EC2's).
const EC2_CANONICAL_ID: &str = "6aa5a366c34c1cbe25dc49211496e913e0351eb0e8c37aa3477e40942ec6b97c";
/// An ACL holds at most 100 grants.
const MAX_GRANTS: usize = 100;

/// The ACL a request asks for: a canned one by name, or grants (from the `x-amz-grant-*`
/// headers or an AccessControlPolicy body).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum AclRequest {
    Canned(String),
    Grants(Vec<Grant>),
}

impl AclRequest {
    /// The grants it makes on a resource `owner` owns, in a bucket `bucket_owner` owns.
    fn grants(&self, owner: &str, bucket_owner: &str) -> Result<Vec<Grant>> {
        let name = match self {
            Self::Grants(grants) => return Ok(grants.clone()),
            Self::Canned(name) => name,
        };
        let grant = |grantee, permission| Grant { grantee, permission };
        let account = |id: &str| Grantee::Account(id.to_owned());
        let owner_full = grant(account(owner), Permission::FullControl);
        // Grants to groups first and the owner's last, as s3-tests expects S3 to list them.
        let mut grants = match name.as_str() {
            "private" => vec![],
            "public-read" => vec![grant(Grantee::AllUsers, Permission::Read)],
            "public-read-write" => vec![
                grant(Grantee::AllUsers, Permission::Read),
                grant(Grantee::AllUsers, Permission::Write),
            ],
            "authenticated-read" => vec![grant(Grantee::AuthenticatedUsers, Permission::Read)],
            "aws-exec-read" => vec![grant(Grantee::Canonical(EC2_CANONICAL_ID.to_owned()), Permission::Read)],
            "log-delivery-write" => vec![
                grant(Grantee::LogDelivery, Permission::Write),
                grant(Grantee::LogDelivery, Permission::ReadAcp),
            ],
            "bucket-owner-read" | "bucket-owner-full-control" => {
                let permission = if name == "bucket-owner-read" {
                    Permission::Read
                } else {
                    Permission::FullControl
                };
                let mut grants = vec![owner_full.clone()];
                if owner != bucket_owner {
                    grants.push(grant(account(bucket_owner), permission));
                }
                return Ok(grants);
            }
            _ => return Err(S3Fault::InvalidArgument(format!("Invalid canned ACL: {name}"))),
        };
        grants.push(owner_full);
        Ok(grants)
    }

    fn is_bucket_owner_full_control(&self) -> bool {
        matches!(self, Self::Canned(name) if name == "bucket-owner-full-control")
    }
}

/// The `x-amz-grant-*` headers of a request (objects have no WRITE).
#[derive(Default)]
pub(crate) struct GrantHeaders<'a> {
    pub full_control: Option<&'a str>,
    pub read: Option<&'a str>,
    pub read_acp: Option<&'a str>,
    pub write: Option<&'a str>,
    pub write_acp: Option<&'a str>,
}

/// The ACL-related fields of an input with the `x-amz-acl` and object `x-amz-grant-*` headers.
macro_rules! object_acl_input {
    ($input:expr) => {
        (
            $input.acl.as_ref().map(|acl| acl.as_str()),
            $crate::acl::GrantHeaders {
                full_control: $input.grant_full_control.as_deref(),
                read: $input.grant_read.as_deref(),
                read_acp: $input.grant_read_acp.as_deref(),
                write: None,
                write_acp: $input.grant_write_acp.as_deref(),
            },
        )
    };
}
pub(crate) use object_acl_input;

/// The five `x-amz-grant-*` headers of CreateBucket, PutBucketAcl and PutObjectAcl inputs.
macro_rules! all_grant_headers {
    ($input:expr) => {
        GrantHeaders {
            full_control: $input.grant_full_control.as_deref(),
            read: $input.grant_read.as_deref(),
            read_acp: $input.grant_read_acp.as_deref(),
            write: $input.grant_write.as_deref(),
            write_acp: $input.grant_write_acp.as_deref(),
        }
    };
}

impl GrantHeaders<'_> {
    fn is_empty(&self) -> bool {
        [self.full_control, self.read, self.read_acp, self.write, self.write_acp]
            .iter()
            .all(Option::is_none)
    }
}

impl CofferS3 {
    /// The account whose canonical user id is `id`, if it is a Coffer account's.
    async fn account_of_canonical(&self, id: &str) -> Result<Option<String>> {
        let accounts = self.store.list_accounts().await.map_err(S3Fault::from)?;
        Ok(accounts
            .into_iter()
            .map(|account| account.account_id)
            .find(|account| canonical_user_id(account) == id))
    }

    /// A grantee named by canonical id, group URI or email address. Email addresses name no
    /// Coffer account (accounts have none), as AWS answers an address it does not know.
    async fn grantee(&self, kind: &str, value: &str) -> Result<Grantee> {
        match kind {
            "id" => match self.account_of_canonical(value).await? {
                Some(account) => Ok(Grantee::Account(account)),
                None => Err(S3Fault::InvalidArgument("Invalid id".to_owned())),
            },
            "uri" => match value {
                ALL_USERS => Ok(Grantee::AllUsers),
                AUTHENTICATED_USERS => Ok(Grantee::AuthenticatedUsers),
                LOG_DELIVERY => Ok(Grantee::LogDelivery),
                _ => Err(S3Fault::InvalidArgument("Invalid group uri".to_owned())),
            },
            "emailAddress" => Err(S3Fault::UnresolvableGrantByEmailAddress),
            _ => Err(S3Fault::InvalidArgument(format!("Invalid grantee type: {kind}"))),
        }
    }

    /// The ACL a request asks for, from its canned ACL or its grant headers (not both).
    pub(crate) async fn requested_acl(
        &self,
        canned: Option<&str>,
        headers: GrantHeaders<'_>,
    ) -> Result<Option<AclRequest>> {
        if let Some(canned) = canned {
            if !headers.is_empty() {
                return Err(S3Fault::InvalidRequest(
                    "Specifying both Canned ACLs and Header Grants is not allowed".to_owned(),
                ));
            }
            return Ok(Some(AclRequest::Canned(canned.to_owned())));
        }
        if headers.is_empty() {
            return Ok(None);
        }
        let mut grants = Vec::new();
        for (permission, header) in [
            (Permission::FullControl, headers.full_control),
            (Permission::Read, headers.read),
            (Permission::ReadAcp, headers.read_acp),
            (Permission::Write, headers.write),
            (Permission::WriteAcp, headers.write_acp),
        ] {
            for (kind, value) in parse_grant_header(header.unwrap_or(""))? {
                let grantee = self.grantee(&kind, &value).await?;
                grants.push(Grant { grantee, permission });
            }
        }
        check_count(&grants)?;
        Ok(Some(AclRequest::Grants(grants)))
    }

    /// The grantee a grant element names by canonical id, group URI or email address;
    /// `malformed` for any other shape.
    async fn grantee_of(&self, grantee: dto::Grantee, malformed: S3Fault) -> Result<Grantee> {
        match (grantee.type_.as_str(), grantee.id, grantee.uri, grantee.email_address) {
            ("CanonicalUser", Some(id), _, _) => self.grantee("id", &id).await,
            ("Group", _, Some(uri), _) => self.grantee("uri", &uri).await,
            ("AmazonCustomerByEmail", _, _, Some(email)) => self.grantee("emailAddress", &email).await,
            _ => Err(malformed),
        }
    }

    /// The grants of an AccessControlPolicy body.
    async fn policy_grants(&self, policy: AccessControlPolicy) -> Result<Vec<Grant>> {
        let mut grants = Vec::new();
        for grant in policy.grants.unwrap_or_default() {
            let (Some(grantee), Some(permission)) = (grant.grantee, grant.permission) else {
                return Err(S3Fault::MalformedACLError);
            };
            let permission = match permission.as_str() {
                "FULL_CONTROL" => Permission::FullControl,
                "READ" => Permission::Read,
                "WRITE" => Permission::Write,
                "READ_ACP" => Permission::ReadAcp,
                "WRITE_ACP" => Permission::WriteAcp,
                _ => return Err(S3Fault::MalformedACLError),
            };
            let grantee = self.grantee_of(grantee, S3Fault::MalformedACLError).await?;
            grants.push(Grant { grantee, permission });
        }
        check_count(&grants)?;
        Ok(grants)
    }

    /// The grants PutBucketLogging's TargetGrants give delivered log objects (FULL_CONTROL,
    /// READ or WRITE, as S3 takes them there).
    pub(crate) async fn target_grants(&self, grants: Vec<dto::TargetGrant>) -> Result<Vec<Grant>> {
        let mut taken = Vec::with_capacity(grants.len());
        for grant in grants {
            let (Some(grantee), Some(permission)) = (grant.grantee, grant.permission) else {
                return Err(S3Fault::MalformedXML);
            };
            let permission = match permission.as_str() {
                "FULL_CONTROL" => Permission::FullControl,
                "READ" => Permission::Read,
                "WRITE" => Permission::Write,
                _ => return Err(S3Fault::MalformedXML),
            };
            let grantee = self.grantee_of(grantee, S3Fault::MalformedXML).await?;
            taken.push(Grant { grantee, permission });
        }
        check_count(&taken)?;
        Ok(taken)
    }

    /// The ACL a PutBucketAcl or PutObjectAcl asks for: a canned ACL, grant headers or a
    /// body, exactly one of them.
    async fn acl_to_put(
        &self,
        canned: Option<&str>,
        headers: GrantHeaders<'_>,
        body: Option<AccessControlPolicy>,
    ) -> Result<AclRequest> {
        let from_headers = self.requested_acl(canned, headers).await?;
        match (from_headers, body) {
            (Some(_), Some(_)) => Err(S3Fault::InvalidRequest(
                "Specifying both an ACL in the body and in headers is not allowed".to_owned(),
            )),
            (Some(acl), None) => Ok(acl),
            (None, Some(body)) => Ok(AclRequest::Grants(self.policy_grants(body).await?)),
            (None, None) => Err(S3Fault::MissingSecurityHeader),
        }
    }

    /// The owner and ACL a new object gets, written by `writer` (`None`: anonymous, which
    /// Coffer counts as the bucket owner's) asking for `acl`, under the bucket's Object
    /// Ownership; refuses an ACL the bucket does not take.
    pub(crate) fn new_object_acl(
        &self,
        bucket: &Bucket,
        writer: Option<&str>,
        acl: Option<&AclRequest>,
    ) -> Result<ObjectAcl> {
        let bucket_owner = bucket.account_id.as_str();
        let writer = writer.unwrap_or(bucket_owner);
        let handed_over = match bucket.object_ownership {
            Some(ObjectOwnership::BucketOwnerEnforced) => {
                if acl.is_some_and(|acl| !acl.is_bucket_owner_full_control()) {
                    return Err(S3Fault::AccessControlListNotSupported);
                }
                return Ok(ObjectAcl::default());
            }
            Some(ObjectOwnership::BucketOwnerPreferred) => acl.is_some_and(AclRequest::is_bucket_owner_full_control),
            Some(ObjectOwnership::ObjectWriter) | None => false,
        };
        let owner = if handed_over { bucket_owner } else { writer };
        let grants = match acl {
            // The bucket owner takes the object with full control; the writer keeps none.
            Some(_) if handed_over => None,
            Some(acl) => Some(acl.grants(owner, bucket_owner)?),
            None => None,
        };
        if let Some(grants) = &grants {
            check_public(bucket, grants)?;
        }
        let private = [Grant {
            grantee: Grantee::Account(owner.to_owned()),
            permission: Permission::FullControl,
        }];
        Ok(ObjectAcl {
            owner: (owner != bucket_owner).then(|| owner.to_owned()),
            grants: grants.filter(|grants| grants[..] != private),
        })
    }

    /// The `Owner` element for an account.
    pub(crate) async fn owner_of(&self, account_id: &str) -> Result<Owner> {
        let account = self.store.account(account_id).await.map_err(S3Fault::from)?;
        Ok(Owner {
            display_name: Some(account.alias.unwrap_or(account.name)),
            id: Some(canonical_user_id(account_id)),
        })
    }

    /// Grants as S3 lists them, with each account's canonical id and display name.
    async fn grants_dto(&self, grants: &[Grant]) -> Result<dto::Grants> {
        let mut listed = Vec::with_capacity(grants.len());
        for grant in grants {
            let group = |uri: &str| dto::Grantee {
                type_: Type::from_static(Type::GROUP),
                uri: Some(uri.to_owned()),
                display_name: None,
                email_address: None,
                id: None,
            };
            let grantee = match &grant.grantee {
                Grantee::Account(account) => {
                    let owner = self.owner_of(account).await?;
                    dto::Grantee {
                        type_: Type::from_static(Type::CANONICAL_USER),
                        id: owner.id,
                        display_name: owner.display_name,
                        email_address: None,
                        uri: None,
                    }
                }
                Grantee::Canonical(id) => dto::Grantee {
                    type_: Type::from_static(Type::CANONICAL_USER),
                    id: Some(id.clone()),
                    display_name: None,
                    email_address: None,
                    uri: None,
                },
                Grantee::AllUsers => group(ALL_USERS),
                Grantee::AuthenticatedUsers => group(AUTHENTICATED_USERS),
                Grantee::LogDelivery => group(LOG_DELIVERY),
            };
            let permission = match grant.permission {
                Permission::FullControl => Permission_::FULL_CONTROL,
                Permission::Read => Permission_::READ,
                Permission::Write => Permission_::WRITE,
                Permission::ReadAcp => Permission_::READ_ACP,
                Permission::WriteAcp => Permission_::WRITE_ACP,
            };
            listed.push(dto::Grant {
                grantee: Some(grantee),
                permission: Some(Permission_::from_static(permission)),
            });
        }
        Ok(listed)
    }
}

type Permission_ = dto::Permission;

/// `id="…", uri="…", emailAddress="…"`: the grantees of one `x-amz-grant-*` header.
fn parse_grant_header(header: &str) -> Result<Vec<(String, String)>> {
    let malformed = || S3Fault::InvalidArgument("Invalid grant header".to_owned());
    header
        .split(',')
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .map(|item| {
            let (kind, value) = item.split_once('=').ok_or_else(malformed)?;
            let value = value.trim();
            let value = value
                .strip_prefix('"')
                .and_then(|v| v.strip_suffix('"'))
                .unwrap_or(value);
            Ok((kind.trim().to_owned(), value.to_owned()))
        })
        .collect()
}

fn check_count(grants: &[Grant]) -> Result<()> {
    if grants.len() > MAX_GRANTS {
        return Err(S3Fault::MalformedACLError);
    }
    Ok(())
}

/// Block Public Access's BlockPublicAcls: a public grant is refused.
fn check_public(bucket: &Bucket, grants: &[Grant]) -> Result<()> {
    let blocked = bucket.public_access_block.is_some_and(|b| b.block_public_acls);
    if blocked && grants.iter().any(|g| g.grantee.is_public()) {
        return Err(S3Fault::AccessDenied("Access Denied".to_owned()));
    }
    Ok(())
}

/// The grants S3 enforces, which a read of an ACL shows ("GET Bucket acl returns an ACL that
/// reflects the access permissions that Amazon S3 is enforcing"): with IgnorePublicAcls on,
/// none to everyone.
fn enforced(bucket: &Bucket, mut grants: Vec<Grant>) -> Vec<Grant> {
    if bucket.public_access_block.is_some_and(|b| b.ignore_public_acls) {
        grants.retain(|g| !g.grantee.is_public());
    }
    grants
}

/// Under BucketOwnerEnforced an ACL write is refused unless it is the
/// `bucket-owner-full-control` canned ACL, which changes nothing there.
fn refused_when_enforced(bucket: &Bucket, canned: Option<&str>) -> Result<bool> {
    if bucket.acls_enabled() {
        return Ok(false);
    }
    match canned {
        Some("bucket-owner-full-control") => Ok(true),
        _ => Err(S3Fault::AccessControlListNotSupported),
    }
}

/// The owner's full control alone: S3's default ACL.
pub(crate) fn private(owner: &str) -> Vec<Grant> {
    vec![Grant {
        grantee: Grantee::Account(owner.to_owned()),
        permission: Permission::FullControl,
    }]
}

/// The ACL a new bucket gets from its CreateBucket request, or the error S3 gives.
pub(crate) async fn new_bucket_acl(
    s3: &CofferS3,
    account: &str,
    input: &CreateBucketInput,
    ownership: Option<ObjectOwnership>,
) -> Result<Option<Vec<Grant>>> {
    let headers = all_grant_headers!(input);
    let canned = input.acl.as_ref().map(|acl| acl.as_str());
    let Some(acl) = s3.requested_acl(canned, headers).await? else {
        return Ok(None);
    };
    // The object-only canned ACLs mean nothing on a bucket: S3 ignores them.
    if matches!(&acl, AclRequest::Canned(name) if name.starts_with("bucket-owner-")) {
        return Ok(None);
    }
    let grants = acl.grants(account, account)?;
    if ownership == Some(ObjectOwnership::BucketOwnerEnforced) && grants != private(account) {
        return Err(S3Fault::InvalidBucketAclWithObjectOwnership);
    }
    // The new bucket's own Block Public Access holds from its first moment.
    let blocked = s3.new_buckets.public_access_block.is_some_and(|b| b.block_public_acls);
    if blocked && grants.iter().any(|g| g.grantee.is_public()) {
        return Err(S3Fault::AccessDenied("Access Denied".to_owned()));
    }
    Ok(Some(grants))
}

pub(crate) async fn get_bucket_acl(
    s3: &CofferS3,
    req: S3Request<GetBucketAclInput>,
) -> Result<S3Response<GetBucketAclOutput>> {
    let bucket = s3.bucket(&req.input.bucket).await?;
    let grants = match &bucket.acl {
        Some(grants) if bucket.acls_enabled() => enforced(&bucket, grants.clone()),
        _ => private(&bucket.account_id),
    };
    Ok(S3Response::new(GetBucketAclOutput {
        grants: Some(s3.grants_dto(&grants).await?),
        owner: Some(s3.owner_of(&bucket.account_id).await?),
    }))
}

pub(crate) async fn put_bucket_acl(
    s3: &CofferS3,
    req: S3Request<PutBucketAclInput>,
) -> Result<S3Response<PutBucketAclOutput>> {
    let input = req.input;
    let bucket = s3.bucket(&input.bucket).await?;
    let canned = input.acl.as_ref().map(|acl| acl.as_str());
    if refused_when_enforced(&bucket, canned)? {
        return Ok(S3Response::new(PutBucketAclOutput {}));
    }
    let headers = all_grant_headers!(input);
    let acl = s3.acl_to_put(canned, headers, input.access_control_policy).await?;
    let grants = acl.grants(&bucket.account_id, &bucket.account_id)?;
    check_public(&bucket, &grants)?;
    s3.store
        .set_bucket_acl(&bucket.name, &bucket.account_id, &grants)
        .await
        .map_err(acl_fault)?;
    Ok(S3Response::new(PutBucketAclOutput {}))
}

pub(crate) async fn get_object_acl(
    s3: &CofferS3,
    req: S3Request<GetObjectAclInput>,
) -> Result<S3Response<GetObjectAclOutput>> {
    let reader = crate::caller(&req).ok().cloned();
    let input = req.input;
    // A marker named by id has no ACL (405); the latest being a marker, the key is gone.
    let found = match s3
        .object(reader.as_ref(), &input.bucket, &input.key, input.version_id.as_deref())
        .await
    {
        Err(S3Fault::DeleteMarker { named: true, .. }) => return Err(S3Fault::MethodNotAllowed),
        other => other?,
    };
    let (owner, grants) = match (found.bucket.acls_enabled(), &found.object.acl) {
        (true, acl) => {
            let owner = acl.owner.clone().unwrap_or_else(|| found.bucket.account_id.clone());
            let grants = acl.grants.clone().unwrap_or_else(|| private(&owner));
            (owner, enforced(&found.bucket, grants))
        }
        (false, _) => (found.bucket.account_id.clone(), private(&found.bucket.account_id)),
    };
    let mut response = S3Response::new(GetObjectAclOutput {
        grants: Some(s3.grants_dto(&grants).await?),
        owner: Some(s3.owner_of(&owner).await?),
        request_charged: None,
    });
    add_version_header(&mut response, reported_version(&found.bucket, &found.object.version_id));
    Ok(response)
}

pub(crate) async fn put_object_acl(
    s3: &CofferS3,
    req: S3Request<PutObjectAclInput>,
) -> Result<S3Response<PutObjectAclOutput>> {
    let input = req.input;
    let version = check_version_id(input.version_id.as_deref())?;
    let bucket = s3.bucket(&input.bucket).await?;
    let canned = input.acl.as_ref().map(|acl| acl.as_str());
    let access = s3
        .store
        .object_access(&bucket, &input.key, version)
        .await
        .map_err(S3Fault::from)?;
    let Some(access) = access else {
        // A delete marker named by id has no ACL to set.
        let marker = match version {
            Some(id) => s3
                .store
                .object_version(&bucket.name, &input.key, Some(id))
                .await
                .map_err(S3Fault::from)?
                .is_some_and(|object| object.is_delete_marker),
            None => false,
        };
        return Err(match (marker, version) {
            (true, _) => S3Fault::MethodNotAllowed,
            (false, Some(_)) => S3Fault::NoSuchVersion,
            (false, None) => S3Fault::NoSuchKey,
        });
    };
    if refused_when_enforced(&bucket, canned)? {
        let mut response = S3Response::new(PutObjectAclOutput { request_charged: None });
        add_version_header(&mut response, version.map(str::to_owned));
        return Ok(response);
    }
    let headers = all_grant_headers!(input);
    let acl = s3.acl_to_put(canned, headers, input.access_control_policy).await?;
    let grants = acl.grants(&access.owner, &bucket.account_id)?;
    check_public(&bucket, &grants)?;
    let version_id = s3
        .store
        .set_object_acl(&bucket.name, &input.key, version, &grants)
        .await
        .map_err(acl_fault)?;
    let mut response = S3Response::new(PutObjectAclOutput { request_charged: None });
    add_version_header(&mut response, reported_version(&bucket, &version_id));
    Ok(response)
}

pub(crate) async fn put_bucket_ownership_controls(
    s3: &CofferS3,
    req: S3Request<PutBucketOwnershipControlsInput>,
) -> Result<S3Response<PutBucketOwnershipControlsOutput>> {
    let input = req.input;
    let bucket = s3.bucket(&input.bucket).await?;
    let [rule] = &input.ownership_controls.rules[..] else {
        return Err(S3Fault::MalformedXML);
    };
    let ownership = ObjectOwnership::parse(rule.object_ownership.as_str()).ok_or(S3Fault::MalformedXML)?;
    s3.store
        .set_bucket_ownership(&bucket.name, Some(ownership))
        .await
        .map_err(|err| match err {
            StoreError::AclWithEnforcedOwnership => S3Fault::InvalidBucketAclWithObjectOwnership,
            other => other.into(),
        })?;
    Ok(S3Response::new(PutBucketOwnershipControlsOutput {}))
}

pub(crate) async fn get_bucket_ownership_controls(
    s3: &CofferS3,
    req: S3Request<GetBucketOwnershipControlsInput>,
) -> Result<S3Response<GetBucketOwnershipControlsOutput>> {
    let bucket = s3.bucket(&req.input.bucket).await?;
    let ownership = bucket.object_ownership.ok_or(S3Fault::OwnershipControlsNotFoundError)?;
    Ok(S3Response::new(GetBucketOwnershipControlsOutput {
        ownership_controls: Some(OwnershipControls {
            rules: vec![OwnershipControlsRule {
                object_ownership: dto::ObjectOwnership::from(ownership.as_str().to_owned()),
            }],
        }),
    }))
}

pub(crate) async fn delete_bucket_ownership_controls(
    s3: &CofferS3,
    req: S3Request<DeleteBucketOwnershipControlsInput>,
) -> Result<S3Response<DeleteBucketOwnershipControlsOutput>> {
    let bucket = s3.bucket(&req.input.bucket).await?;
    s3.store
        .set_bucket_ownership(&bucket.name, None)
        .await
        .map_err(S3Fault::from)?;
    let mut response = S3Response::new(DeleteBucketOwnershipControlsOutput {});
    response.status = Some(http::StatusCode::NO_CONTENT);
    Ok(response)
}

/// `x-amz-version-id`, which S3 sends with the ACL operations but s3s's outputs lack.
fn add_version_header<T>(response: &mut S3Response<T>, version: Option<String>) {
    if let Some(value) = version.and_then(|v| http::HeaderValue::from_str(&v).ok()) {
        response.headers.insert("x-amz-version-id", value);
    }
}

fn acl_fault(err: StoreError) -> S3Fault {
    match err {
        StoreError::AclWithEnforcedOwnership => S3Fault::AccessControlListNotSupported,
        StoreError::MethodNotAllowed => S3Fault::MethodNotAllowed,
        other => other.into(),
    }
}

/// A log-delivery grant as GetBucketLogging lists it (accounts by canonical id).
pub(crate) fn target_grant_dto(grant: &Grant) -> dto::TargetGrant {
    let group = |uri: &str| dto::Grantee {
        type_: Type::from_static(Type::GROUP),
        uri: Some(uri.to_owned()),
        display_name: None,
        email_address: None,
        id: None,
    };
    let canonical = |id: String| dto::Grantee {
        type_: Type::from_static(Type::CANONICAL_USER),
        id: Some(id),
        display_name: None,
        email_address: None,
        uri: None,
    };
    let grantee = match &grant.grantee {
        Grantee::Account(account) => canonical(canonical_user_id(account)),
        Grantee::Canonical(id) => canonical(id.clone()),
        Grantee::AllUsers => group(ALL_USERS),
        Grantee::AuthenticatedUsers => group(AUTHENTICATED_USERS),
        Grantee::LogDelivery => group(LOG_DELIVERY),
    };
    let permission = match grant.permission {
        Permission::FullControl => "FULL_CONTROL",
        Permission::Read => "READ",
        _ => "WRITE",
    };
    dto::TargetGrant {
        grantee: Some(grantee),
        permission: Some(dto::BucketLogsPermission::from_static(permission)),
    }
}

/// The `x-amz-grant-*` header and value that give `grant` on a new object.
pub(crate) fn grant_header(grant: &Grant) -> (&'static str, String) {
    let name = match grant.permission {
        Permission::FullControl => "x-amz-grant-full-control",
        Permission::Read => "x-amz-grant-read",
        Permission::Write => "x-amz-grant-write",
        Permission::ReadAcp => "x-amz-grant-read-acp",
        Permission::WriteAcp => "x-amz-grant-write-acp",
    };
    let value = match &grant.grantee {
        Grantee::Account(account) => format!("id=\"{}\"", canonical_user_id(account)),
        Grantee::Canonical(id) => format!("id=\"{id}\""),
        Grantee::AllUsers => format!("uri=\"{ALL_USERS}\""),
        Grantee::AuthenticatedUsers => format!("uri=\"{AUTHENTICATED_USERS}\""),
        Grantee::LogDelivery => format!("uri=\"{LOG_DELIVERY}\""),
    };
    (name, value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grant_headers_list_grantees_by_kind() {
        assert_eq!(
            parse_grant_header(r#"id="abc", uri="http://acs.amazonaws.com/groups/global/AllUsers",emailAddress=x@y"#)
                .unwrap(),
            [
                ("id".to_owned(), "abc".to_owned()),
                ("uri".to_owned(), ALL_USERS.to_owned()),
                ("emailAddress".to_owned(), "x@y".to_owned()),
            ]
        );
        assert!(parse_grant_header("nonsense").is_err());
        assert!(parse_grant_header("").unwrap().is_empty());
    }

    #[test]
    fn canned_acls_grant_as_s3_documents() {
        let canned = |name: &str, owner: &str| AclRequest::Canned(name.into()).grants(owner, "1").unwrap();
        let owner_full = |id: &str| Grant {
            grantee: Grantee::Account(id.into()),
            permission: Permission::FullControl,
        };
        assert_eq!(canned("private", "1"), [owner_full("1")]);
        assert_eq!(
            canned("public-read-write", "1"),
            [
                Grant {
                    grantee: Grantee::AllUsers,
                    permission: Permission::Read
                },
                Grant {
                    grantee: Grantee::AllUsers,
                    permission: Permission::Write
                },
                owner_full("1"),
            ]
        );
        assert_eq!(
            canned("bucket-owner-read", "2"),
            [
                owner_full("2"),
                Grant {
                    grantee: Grantee::Account("1".into()),
                    permission: Permission::Read
                },
            ]
        );
        assert_eq!(canned("bucket-owner-full-control", "1"), [owner_full("1")]);
        assert!(AclRequest::Canned("everyone".into()).grants("1", "1").is_err());
    }
}
