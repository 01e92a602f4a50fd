//! ACLs, Object Ownership, the new-bucket defaults and storage classes, through the AWS SDK for
//! Rust and plain (anonymous) HTTP: what AWS's current defaults refuse, what a public-read ACL
//! shows to anyone and Block Public Access takes away, grants across accounts, and who owns
//! what another account writes.

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{
    AccessControlPolicy, BucketCannedAcl, Grant, Grantee, ObjectCannedAcl, ObjectOwnership, Owner, OwnershipControls,
    OwnershipControlsRule, Permission, PublicAccessBlockConfiguration, StorageClass, Type,
};

use crate::harness::{Coffer, ROOT_KEY_ID, ROOT_SECRET, assert_aws_error, finish_upload};

/// The pre-2023 defaults: no Block Public Access, no Object Ownership setting.
fn start_pre_2023() -> Coffer {
    Coffer::start_with(&[
        ("COFFER_ROOT_ACCESS_KEY_ID", ROOT_KEY_ID),
        ("COFFER_ROOT_SECRET_ACCESS_KEY", ROOT_SECRET),
        ("COFFER_NEW_BUCKET_DEFAULTS", "pre-2023"),
    ])
}

async fn anonymous_get(coffer: &Coffer, path: &str) -> u16 {
    reqwest::get(format!("{}/{path}", coffer.endpoint))
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// (permission, grantee type, canonical id or group URI) of each grant, in order.
fn grants(list: &[Grant]) -> Vec<(String, String, String)> {
    list.iter()
        .map(|g| {
            let grantee = g.grantee().unwrap();
            (
                g.permission().unwrap().as_str().to_owned(),
                grantee.r#type().as_str().to_owned(),
                grantee.id().or(grantee.uri()).unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

fn full_control(id: &str) -> (String, String, String) {
    ("FULL_CONTROL".into(), "CanonicalUser".into(), id.into())
}

#[tokio::test]
async fn new_buckets_have_acls_disabled_as_aws_defaults_since_2023() {
    let coffer = Coffer::start();
    let s3 = coffer.root_s3();
    s3.create_bucket().bucket("modern").send().await.unwrap();
    let ownership = s3
        .get_bucket_ownership_controls()
        .bucket("modern")
        .send()
        .await
        .unwrap();
    let rules = ownership.ownership_controls().unwrap().rules();
    assert_eq!(rules[0].object_ownership(), &ObjectOwnership::BucketOwnerEnforced);
    // Reading an ACL works and shows the owner's full control alone.
    let acl = s3.get_bucket_acl().bucket("modern").send().await.unwrap();
    let owner = acl.owner().unwrap().id().unwrap().to_owned();
    assert_eq!(grants(acl.grants()), [full_control(&owner)]);
    // Setting one, or writing with one other than the owner's full control, is refused.
    let refused = s3
        .put_bucket_acl()
        .bucket("modern")
        .acl(BucketCannedAcl::Private)
        .send()
        .await
        .unwrap_err();
    assert_aws_error(&refused, "AccessControlListNotSupported", 400);
    // bucket-owner-full-control changes nothing there, and is taken.
    s3.put_bucket_acl()
        .bucket("modern")
        .acl(BucketCannedAcl::from("bucket-owner-full-control"))
        .send()
        .await
        .unwrap();
    let refused = s3
        .put_object()
        .bucket("modern")
        .key("k")
        .acl(ObjectCannedAcl::PublicRead)
        .body(ByteStream::from_static(b"x"))
        .send()
        .await
        .unwrap_err();
    assert_aws_error(&refused, "AccessControlListNotSupported", 400);
    s3.put_object()
        .bucket("modern")
        .key("k")
        .acl(ObjectCannedAcl::BucketOwnerFullControl)
        .body(ByteStream::from_static(b"x"))
        .send()
        .await
        .unwrap();
    let acl = s3.get_object_acl().bucket("modern").key("k").send().await.unwrap();
    assert_eq!(grants(acl.grants()), [full_control(&owner)]);
    let refused = s3
        .create_bucket()
        .bucket("public-at-birth")
        .acl(BucketCannedAcl::PublicRead)
        .send()
        .await
        .unwrap_err();
    assert_aws_error(&refused, "InvalidBucketAclWithObjectOwnership", 400);
    // Created with ObjectWriter, a public ACL still meets Block Public Access.
    let refused = s3
        .create_bucket()
        .bucket("public-at-birth")
        .object_ownership(ObjectOwnership::ObjectWriter)
        .acl(BucketCannedAcl::PublicRead)
        .send()
        .await
        .unwrap_err();
    assert_aws_error(&refused, "AccessDenied", 403);
    assert_eq!(anonymous_get(&coffer, "modern/k").await, 403);
}

#[tokio::test]
async fn a_public_read_acl_shows_an_object_to_anyone_until_block_public_access_says_no() {
    let coffer = Coffer::start();
    let s3 = coffer.root_s3();
    s3.create_bucket()
        .bucket("shared")
        .object_ownership(ObjectOwnership::ObjectWriter)
        .send()
        .await
        .unwrap();
    // Block Public Access is on by default: a public ACL is refused.
    let put_public = || {
        s3.put_object()
            .bucket("shared")
            .key("hello.txt")
            .acl(ObjectCannedAcl::PublicRead)
            .body(ByteStream::from_static(b"hello"))
            .send()
    };
    assert_aws_error(&put_public().await.unwrap_err(), "AccessDenied", 403);
    s3.delete_public_access_block().bucket("shared").send().await.unwrap();
    put_public().await.unwrap();
    s3.put_object()
        .bucket("shared")
        .key("private.txt")
        .body(ByteStream::from_static(b"mine"))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous_get(&coffer, "shared/hello.txt").await, 200);
    let body = reqwest::get(format!("{}/shared/hello.txt", coffer.endpoint))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(body, "hello");
    assert_eq!(anonymous_get(&coffer, "shared/private.txt").await, 403);
    assert_eq!(
        anonymous_get(&coffer, "shared").await,
        403,
        "the bucket's own ACL is private"
    );
    let acl = s3
        .get_object_acl()
        .bucket("shared")
        .key("hello.txt")
        .send()
        .await
        .unwrap();
    let owner = acl.owner().unwrap().id().unwrap().to_owned();
    assert_eq!(
        grants(acl.grants()),
        [
            (
                "READ".into(),
                "Group".into(),
                "http://acs.amazonaws.com/groups/global/AllUsers".into()
            ),
            full_control(&owner),
        ]
    );
    // The bucket's ACL: AllUsers READ lists it.
    s3.put_bucket_acl()
        .bucket("shared")
        .acl(BucketCannedAcl::PublicRead)
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous_get(&coffer, "shared").await, 200);
    // Who may list may learn that a key is missing.
    assert_eq!(anonymous_get(&coffer, "shared/missing").await, 404);
    // IgnorePublicAcls: the grants stay, and count for nothing.
    let ignore = PublicAccessBlockConfiguration::builder()
        .ignore_public_acls(true)
        .build();
    s3.put_public_access_block()
        .bucket("shared")
        .public_access_block_configuration(ignore)
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous_get(&coffer, "shared/hello.txt").await, 403);
    assert_eq!(anonymous_get(&coffer, "shared").await, 403);
    // A read of the ACL shows what is enforced.
    let acl = s3.get_bucket_acl().bucket("shared").send().await.unwrap();
    assert_eq!(grants(acl.grants()), [full_control(&owner)]);
    // BlockPublicAcls: a new public grant is refused, a private one is fine.
    let block = PublicAccessBlockConfiguration::builder()
        .block_public_acls(true)
        .build();
    s3.put_public_access_block()
        .bucket("shared")
        .public_access_block_configuration(block)
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous_get(&coffer, "shared/hello.txt").await, 200);
    let refused = s3
        .put_object_acl()
        .bucket("shared")
        .key("private.txt")
        .acl(ObjectCannedAcl::PublicRead)
        .send()
        .await
        .unwrap_err();
    assert_aws_error(&refused, "AccessDenied", 403);
    s3.put_object_acl()
        .bucket("shared")
        .key("hello.txt")
        .acl(ObjectCannedAcl::Private)
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous_get(&coffer, "shared/hello.txt").await, 403);
    // Enforcing bucket-owner ownership needs the bucket's ACL private again.
    let enforce = || {
        s3.put_bucket_ownership_controls()
            .bucket("shared")
            .ownership_controls(
                OwnershipControls::builder()
                    .rules(
                        OwnershipControlsRule::builder()
                            .object_ownership(ObjectOwnership::BucketOwnerEnforced)
                            .build()
                            .unwrap(),
                    )
                    .build()
                    .unwrap(),
            )
            .send()
    };
    assert_aws_error(
        &enforce().await.unwrap_err(),
        "InvalidBucketAclWithObjectOwnership",
        400,
    );
    s3.put_bucket_acl()
        .bucket("shared")
        .acl(BucketCannedAcl::Private)
        .send()
        .await
        .unwrap();
    enforce().await.unwrap();
    s3.delete_bucket_ownership_controls()
        .bucket("shared")
        .send()
        .await
        .unwrap();
    let missing = s3
        .get_bucket_ownership_controls()
        .bucket("shared")
        .send()
        .await
        .unwrap_err();
    assert_aws_error(&missing, "OwnershipControlsNotFoundError", 404);
}

#[tokio::test]
async fn grants_reach_other_accounts_and_objects_they_write_are_theirs() {
    let coffer = start_pre_2023();
    let s3 = coffer.root_s3();
    let (other_key, other_secret) = coffer.other_account("other");
    let other = coffer.s3(&other_key, &other_secret);
    s3.create_bucket().bucket("dropbox").send().await.unwrap();
    // Pre-2023 defaults: no ownership controls, no Block Public Access.
    let none = s3
        .get_bucket_ownership_controls()
        .bucket("dropbox")
        .send()
        .await
        .unwrap_err();
    assert_aws_error(&none, "OwnershipControlsNotFoundError", 404);
    let none = s3.get_public_access_block().bucket("dropbox").send().await.unwrap_err();
    assert_aws_error(&none, "NoSuchPublicAccessBlockConfiguration", 404);
    let owner_id = s3
        .get_bucket_acl()
        .bucket("dropbox")
        .send()
        .await
        .unwrap()
        .owner()
        .unwrap()
        .id()
        .unwrap()
        .to_owned();
    let put = |client: &aws_sdk_s3::Client, key: &str, acl: Option<ObjectCannedAcl>| {
        client
            .put_object()
            .bucket("dropbox")
            .key(key)
            .set_acl(acl)
            .body(ByteStream::from_static(b"data"))
            .send()
    };
    assert_aws_error(&put(&other, "a", None).await.unwrap_err(), "AccessDenied", 403);
    // The owner grants the other account WRITE by the grant header, naming its canonical id
    // as read from an ACL the other account owns.
    other.create_bucket().bucket("theirs").send().await.unwrap();
    let other_id = other
        .get_bucket_acl()
        .bucket("theirs")
        .send()
        .await
        .unwrap()
        .owner()
        .unwrap()
        .id()
        .unwrap()
        .to_owned();
    s3.put_bucket_acl()
        .bucket("dropbox")
        .grant_write(format!("id=\"{other_id}\""))
        .grant_full_control(format!("id=\"{owner_id}\""))
        .send()
        .await
        .unwrap();
    put(&other, "a", None).await.unwrap();
    put(&other, "b", Some(ObjectCannedAcl::BucketOwnerRead)).await.unwrap();
    // The writer owns them: the bucket owner reads only what it was granted.
    let denied = s3.get_object().bucket("dropbox").key("a").send().await.unwrap_err();
    assert_aws_error(&denied, "AccessDenied", 403);
    s3.get_object().bucket("dropbox").key("b").send().await.unwrap();
    let acl = other.get_object_acl().bucket("dropbox").key("b").send().await.unwrap();
    assert_eq!(acl.owner().unwrap().id(), Some(other_id.as_str()));
    assert_eq!(
        grants(acl.grants()),
        [
            full_control(&other_id),
            ("READ".into(), "CanonicalUser".into(), owner_id.clone())
        ]
    );
    // The listing names each object's owner.
    let listed = s3
        .list_objects_v2()
        .bucket("dropbox")
        .fetch_owner(true)
        .send()
        .await
        .unwrap();
    let owners: Vec<_> = listed
        .contents()
        .iter()
        .map(|o| o.owner().unwrap().id().unwrap())
        .collect();
    assert_eq!(owners, [other_id.as_str(), other_id.as_str()]);
    // Enabling ACLs on a new bucket is a permission of its own.
    let (key_id, secret) = coffer.user_with_key("creator").await;
    coffer
        .root_iam()
        .put_user_policy()
        .user_name("creator")
        .policy_name("create")
        .policy_document(
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:CreateBucket","Resource":"*"}}"#,
        )
        .send()
        .await
        .unwrap();
    let creator = coffer.s3(&key_id, &secret);
    let denied = creator
        .create_bucket()
        .bucket("acls-on")
        .object_ownership(ObjectOwnership::ObjectWriter)
        .send()
        .await
        .unwrap_err();
    assert_aws_error(&denied, "AccessDenied", 403);
    creator
        .create_bucket()
        .bucket("acls-off")
        .object_ownership(ObjectOwnership::BucketOwnerEnforced)
        .send()
        .await
        .unwrap();
    // Its tags are its owner's to read and set, not the bucket owner's.
    let tag_set = aws_sdk_s3::types::Tagging::builder()
        .tag_set(aws_sdk_s3::types::Tag::builder().key("k").value("v").build().unwrap())
        .build()
        .unwrap();
    let denied = s3
        .put_object_tagging()
        .bucket("dropbox")
        .key("a")
        .tagging(tag_set.clone())
        .send()
        .await
        .unwrap_err();
    assert_aws_error(&denied, "AccessDenied", 403);
    other
        .put_object_tagging()
        .bucket("dropbox")
        .key("a")
        .tagging(tag_set)
        .send()
        .await
        .unwrap();
    // WRITE creates objects, and deletes none but by the bucket's owner.
    s3.put_object()
        .bucket("dropbox")
        .key("owners")
        .body(ByteStream::from_static(b"mine"))
        .send()
        .await
        .unwrap();
    let denied = other
        .delete_object()
        .bucket("dropbox")
        .key("owners")
        .send()
        .await
        .unwrap_err();
    assert_aws_error(&denied, "AccessDenied", 403);
    s3.delete_object().bucket("dropbox").key("a").send().await.unwrap();
    // A grant to an account is its root's: its users still need their own policies.
    let iam = coffer.iam(&other_key, &other_secret);
    iam.create_user().user_name("intern").send().await.unwrap();
    let key = iam.create_access_key().user_name("intern").send().await.unwrap();
    let key = key.access_key().unwrap();
    let intern = coffer.s3(key.access_key_id(), key.secret_access_key());
    assert_aws_error(&put(&intern, "c", None).await.unwrap_err(), "AccessDenied", 403);
    // BucketOwnerPreferred: bucket-owner-full-control hands the object over.
    s3.put_bucket_ownership_controls()
        .bucket("dropbox")
        .ownership_controls(
            OwnershipControls::builder()
                .rules(
                    OwnershipControlsRule::builder()
                        .object_ownership(ObjectOwnership::BucketOwnerPreferred)
                        .build()
                        .unwrap(),
                )
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    put(&other, "d", Some(ObjectCannedAcl::BucketOwnerFullControl))
        .await
        .unwrap();
    let acl = s3.get_object_acl().bucket("dropbox").key("d").send().await.unwrap();
    assert_eq!(acl.owner().unwrap().id(), Some(owner_id.as_str()));
    assert_eq!(grants(acl.grants()), [full_control(&owner_id)]);
}

#[tokio::test]
async fn an_access_control_policy_body_is_checked_and_kept() {
    let coffer = start_pre_2023();
    let s3 = coffer.root_s3();
    s3.create_bucket().bucket("acp").send().await.unwrap();
    let owner = s3
        .get_bucket_acl()
        .bucket("acp")
        .send()
        .await
        .unwrap()
        .owner()
        .unwrap()
        .clone();
    let owner_id = owner.id().unwrap().to_owned();
    let grant =
        |grantee: Grantee, permission: Permission| Grant::builder().grantee(grantee).permission(permission).build();
    let user = |id: &str| Grantee::builder().r#type(Type::CanonicalUser).id(id).build().unwrap();
    let group = |uri: &str| Grantee::builder().r#type(Type::Group).uri(uri).build().unwrap();
    let policy = |grants: Vec<Grant>| {
        AccessControlPolicy::builder()
            .owner(Owner::builder().id(owner_id.clone()).build())
            .set_grants(Some(grants))
            .build()
    };
    s3.put_bucket_acl()
        .bucket("acp")
        .access_control_policy(policy(vec![
            grant(user(&owner_id), Permission::FullControl),
            grant(
                group("http://acs.amazonaws.com/groups/global/AuthenticatedUsers"),
                Permission::Read,
            ),
        ]))
        .send()
        .await
        .unwrap();
    let acl = s3.get_bucket_acl().bucket("acp").send().await.unwrap();
    assert_eq!(
        grants(acl.grants()),
        [
            full_control(&owner_id),
            (
                "READ".into(),
                "Group".into(),
                "http://acs.amazonaws.com/groups/global/AuthenticatedUsers".into()
            )
        ]
    );
    // AuthenticatedUsers: any signed caller lists, an anonymous one does not.
    let (other_key, other_secret) = coffer.other_account("other");
    coffer
        .s3(&other_key, &other_secret)
        .list_objects_v2()
        .bucket("acp")
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous_get(&coffer, "acp").await, 403);
    let unknown = s3
        .put_bucket_acl()
        .bucket("acp")
        .access_control_policy(policy(vec![grant(user(&"0".repeat(64)), Permission::Read)]))
        .send()
        .await
        .unwrap_err();
    assert_aws_error(&unknown, "InvalidArgument", 400);
    let by_email = s3
        .put_bucket_acl()
        .bucket("acp")
        .grant_read("emailAddress=\"nobody@example.com\"")
        .send()
        .await
        .unwrap_err();
    assert_aws_error(&by_email, "UnresolvableGrantByEmailAddress", 400);
    let both = s3
        .put_bucket_acl()
        .bucket("acp")
        .acl(BucketCannedAcl::Private)
        .grant_read(format!("id=\"{owner_id}\""))
        .send()
        .await
        .unwrap_err();
    assert_aws_error(&both, "InvalidRequest", 400);
    // Created again by its owner in us-east-1: 200, and the ACL is reset, as S3 does.
    s3.create_bucket().bucket("acp").send().await.unwrap();
    let acl = s3.get_bucket_acl().bucket("acp").send().await.unwrap();
    assert_eq!(grants(acl.grants()), [full_control(&owner_id)]);
}

#[tokio::test]
async fn storage_classes_are_kept_and_reported_and_archives_refused() {
    let coffer = Coffer::start();
    let s3 = coffer.root_s3();
    s3.create_bucket().bucket("classes").send().await.unwrap();
    let put = |key: &str, class: StorageClass| {
        s3.put_object()
            .bucket("classes")
            .key(key)
            .storage_class(class)
            .body(ByteStream::from_static(b"data"))
            .send()
    };
    put("ia", StorageClass::StandardIa).await.unwrap();
    put("plain", StorageClass::Standard).await.unwrap();
    for archive in [StorageClass::Glacier, StorageClass::DeepArchive] {
        assert_aws_error(&put("cold", archive).await.unwrap_err(), "InvalidStorageClass", 400);
    }
    let head = s3.head_object().bucket("classes").key("ia").send().await.unwrap();
    assert_eq!(head.storage_class(), Some(&StorageClass::StandardIa));
    let head = s3.head_object().bucket("classes").key("plain").send().await.unwrap();
    assert_eq!(head.storage_class(), None, "S3 sends no header for STANDARD");
    let got = s3.get_object().bucket("classes").key("ia").send().await.unwrap();
    assert_eq!(got.storage_class(), Some(&StorageClass::StandardIa));
    // A copy is STANDARD unless it names a class.
    s3.copy_object()
        .bucket("classes")
        .key("copied")
        .copy_source("classes/ia")
        .send()
        .await
        .unwrap();
    s3.copy_object()
        .bucket("classes")
        .key("ia")
        .copy_source("classes/ia")
        .storage_class(StorageClass::OnezoneIa)
        .send()
        .await
        .unwrap();
    let upload = s3
        .create_multipart_upload()
        .bucket("classes")
        .key("multi")
        .storage_class(StorageClass::IntelligentTiering)
        .send()
        .await
        .unwrap();
    let upload_id = upload.upload_id().unwrap();
    let parts = s3
        .list_parts()
        .bucket("classes")
        .key("multi")
        .upload_id(upload_id)
        .send()
        .await
        .unwrap();
    assert_eq!(parts.storage_class(), Some(&StorageClass::IntelligentTiering));
    finish_upload(&s3, "classes", "multi", upload_id, vec![b"part".to_vec()]).await;
    let listed = s3.list_objects_v2().bucket("classes").send().await.unwrap();
    let classes: Vec<(&str, &str)> = listed
        .contents()
        .iter()
        .map(|o| (o.key().unwrap(), o.storage_class().unwrap().as_str()))
        .collect();
    assert_eq!(
        classes,
        [
            ("copied", "STANDARD"),
            ("ia", "ONEZONE_IA"),
            ("multi", "INTELLIGENT_TIERING"),
            ("plain", "STANDARD")
        ]
    );
}

/// GetObject and HeadObject of a key that is not there: who may list the bucket learns it is
/// missing (404), whatever else it may do; anyone else gets 403, as S3 documents.
#[tokio::test]
async fn a_missing_key_is_news_only_to_who_may_list() {
    let coffer = Coffer::start();
    let s3 = coffer.root_s3();
    s3.create_bucket().bucket("listed").send().await.unwrap();
    s3.put_object()
        .bucket("listed")
        .key("there")
        .body(ByteStream::from_static(b"x"))
        .send()
        .await
        .unwrap();
    let (lister_key, lister_secret) = coffer.user_with_key("lister").await;
    coffer
        .root_iam()
        .put_user_policy()
        .user_name("lister")
        .policy_name("list")
        .policy_document(
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::listed"}}"#,
        )
        .send()
        .await
        .unwrap();
    let (stranger_key, stranger_secret) = coffer.user_with_key("stranger").await;
    let lister = coffer.s3(&lister_key, &lister_secret);
    let stranger = coffer.s3(&stranger_key, &stranger_secret);
    let missing = lister
        .get_object()
        .bucket("listed")
        .key("gone")
        .send()
        .await
        .unwrap_err();
    assert_aws_error(&missing, "NoSuchKey", 404);
    let head = lister
        .head_object()
        .bucket("listed")
        .key("gone")
        .send()
        .await
        .unwrap_err();
    assert_eq!(head.raw_response().unwrap().status().as_u16(), 404);
    let there = lister
        .get_object()
        .bucket("listed")
        .key("there")
        .send()
        .await
        .unwrap_err();
    assert_aws_error(&there, "AccessDenied", 403);
    let missing = stranger
        .get_object()
        .bucket("listed")
        .key("gone")
        .send()
        .await
        .unwrap_err();
    assert_aws_error(&missing, "AccessDenied", 403);
}
