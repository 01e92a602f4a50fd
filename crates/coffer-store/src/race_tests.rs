//! Deletes racing the writes that add to what they delete, on two stores (two nodes) of one
//! database: whatever the interleaving, each call gets IAM's or S3's answer (never a raw
//! database error), and nothing is left that names a deleted entity.

use crate::test_backends::{TestDb, on_both_backends};
use crate::*;

/// Rounds per race: enough interleavings to meet the bad ones often, on two cores.
const ROUNDS: usize = 12;

async fn two_nodes(db: &TestDb) -> (Store, Store, String) {
    let (one, two) = (db.open().await, db.open().await);
    let (account, _) = one.create_account("a", None).await.unwrap();
    (one, two, account.account_id)
}

const DOCUMENT: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}"#;

on_both_backends! {
async fn a_group_deleted_while_another_node_adds_to_it_keeps_nothing_behind(db: TestDb) {
    let (one, two, account) = two_nodes(&db).await;
    let policy = one.create_policy(&account, "p", "/", None, DOCUMENT).await.unwrap();
    for round in 0..ROUNDS {
        let user = one.create_user(&account, &format!("u{round}"), "/", &[]).await.unwrap();
        let group = one.create_group(&account, &format!("g{round}"), "/").await.unwrap();
        let (deleting, adding) = tokio::join!(
            one.delete_group(&account, &group.name),
            async {
                (
                    two.add_user_to_group(&account, &group.name, &user.name).await,
                    two.attach_policy(&account, &policy.arn(), AttachedTo::Group(&group.group_id)).await,
                    two.put_inline_policy(PolicyOwner::Group(&group.group_id), "inline", DOCUMENT).await,
                )
            }
        );
        for added in [adding.0, adding.1, adding.2] {
            assert!(
                matches!(added, Ok(()) | Err(StoreError::NoSuchGroup)),
                "round {round}: {added:?}"
            );
        }
        match deleting {
            Ok(()) => {
                assert!(one.group_members(&group).await.unwrap().is_empty(), "round {round}");
                assert!(one.policy_entities(&account, &policy.arn()).await.unwrap().is_empty(), "round {round}");
                let inline = one.list_inline_policies(PolicyOwner::Group(&group.group_id)).await.unwrap();
                assert!(inline.is_empty(), "round {round}");
            }
            Err(StoreError::GroupHasMembers | StoreError::HasPolicies | StoreError::HasAttachedPolicies) => {
                assert!(one.group(&account, &group.name).await.is_ok(), "round {round}");
            }
            Err(other) => panic!("round {round}: {other:?}"),
        }
        // Clean up for the next round's policy check.
        let _ = one.detach_policy(&policy.arn(), AttachedTo::Group(&group.group_id)).await;
    }
}

async fn a_user_deleted_while_another_node_adds_to_it_keeps_nothing_behind(db: TestDb) {
    let (one, two, account) = two_nodes(&db).await;
    let policy = one.create_policy(&account, "p", "/", None, DOCUMENT).await.unwrap();
    let group = one.create_group(&account, "g", "/").await.unwrap();
    for round in 0..ROUNDS {
        let user = one.create_user(&account, &format!("u{round}"), "/", &[]).await.unwrap();
        let (deleting, adding) = tokio::join!(
            one.delete_user(&account, &user.name),
            async {
                (
                    two.add_user_to_group(&account, &group.name, &user.name).await,
                    two.attach_policy(&account, &policy.arn(), AttachedTo::User(&user.user_id)).await,
                    two.put_inline_policy(PolicyOwner::User(&user.user_id), "inline", DOCUMENT).await,
                    two.create_access_key(&account, KeyOwnerName::User(&user.name)).await.map(|_| ()),
                    two.create_login_profile(&user.user_id, "hash", false).await.map(|_| ()),
                )
            }
        );
        for added in [adding.0, adding.1, adding.2, adding.3, adding.4] {
            assert!(
                matches!(added, Ok(()) | Err(StoreError::NoSuchUser)),
                "round {round}: {added:?}"
            );
        }
        match deleting {
            Ok(()) => {
                assert!(one.group_members(&group).await.unwrap().is_empty(), "round {round}");
                assert!(one.policy_entities(&account, &policy.arn()).await.unwrap().is_empty(), "round {round}");
                let inline = one.list_inline_policies(PolicyOwner::User(&user.user_id)).await.unwrap();
                assert!(inline.is_empty(), "round {round}");
            }
            Err(
                StoreError::UserHasKeys
                | StoreError::UserInGroups
                | StoreError::HasPolicies
                | StoreError::HasAttachedPolicies
                | StoreError::HasLoginProfile,
            ) => {}
            Err(other) => panic!("round {round}: {other:?}"),
        }
        let _ = one.detach_policy(&policy.arn(), AttachedTo::User(&user.user_id)).await;
        let _ = one.remove_user_from_group(&account, &group.name, &user.name).await;
    }
}

async fn a_role_deleted_while_another_node_adds_to_it_keeps_nothing_behind(db: TestDb) {
    let (one, two, account) = two_nodes(&db).await;
    let policy = one.create_policy(&account, "p", "/", None, DOCUMENT).await.unwrap();
    let trust = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"sts:AssumeRole"}]}"#;
    for round in 0..ROUNDS {
        let name = format!("r{round}");
        let new = NewRole {
            name: &name,
            path: "/",
            trust_policy: trust,
            description: None,
            max_session_duration: 3600,
            permissions_boundary: None,
            tags: &[],
        };
        let role = one.create_role(&account, &new).await.unwrap();
        let (deleting, adding) = tokio::join!(one.delete_role(&account, &name), async {
            (
                two.attach_policy(&account, &policy.arn(), AttachedTo::Role(&role.role_id)).await,
                two.put_inline_policy(PolicyOwner::Role(&role.role_id), "inline", DOCUMENT).await,
            )
        });
        for added in [adding.0, adding.1] {
            assert!(
                matches!(added, Ok(()) | Err(StoreError::NoSuchRole)),
                "round {round}: {added:?}"
            );
        }
        match deleting {
            Ok(()) => {
                assert!(one.policy_entities(&account, &policy.arn()).await.unwrap().is_empty(), "round {round}");
                let inline = one.list_inline_policies(PolicyOwner::Role(&role.role_id)).await.unwrap();
                assert!(inline.is_empty(), "round {round}");
            }
            Err(StoreError::HasPolicies | StoreError::HasAttachedPolicies) => {}
            Err(other) => panic!("round {round}: {other:?}"),
        }
        let _ = one.detach_policy(&policy.arn(), AttachedTo::Role(&role.role_id)).await;
    }
}

async fn a_policy_deleted_while_another_node_attaches_it_keeps_nothing_behind(db: TestDb) {
    let (one, two, account) = two_nodes(&db).await;
    let user = one.create_user(&account, "u", "/", &[]).await.unwrap();
    for round in 0..ROUNDS {
        let policy = one.create_policy(&account, &format!("p{round}"), "/", None, DOCUMENT).await.unwrap();
        let arn = policy.arn();
        let (deleting, attaching, bounding) = tokio::join!(
            one.delete_managed_policy(&policy),
            two.attach_policy(&account, &arn, AttachedTo::User(&user.user_id)),
            two.set_permissions_boundary(Bounded::User(&user.user_id), Some(&arn)),
        );
        for added in [attaching, bounding] {
            assert!(
                matches!(added, Ok(()) | Err(StoreError::NoSuchPolicy)),
                "round {round}: {added:?}"
            );
        }
        match deleting {
            Ok(()) => {
                assert!(one.policy_entities(&account, &arn).await.unwrap().is_empty(), "round {round}");
                assert_ne!(one.permissions_boundary(Bounded::User(&user.user_id)).await.unwrap(), Some(arn.clone()));
            }
            Err(StoreError::PolicyAttached) => {}
            Err(other) => panic!("round {round}: {other:?}"),
        }
        let _ = one.detach_policy(&arn, AttachedTo::User(&user.user_id)).await;
        one.set_permissions_boundary(Bounded::User(&user.user_id), None).await.unwrap();
    }
}

async fn a_version_made_default_while_another_node_deletes_it_is_never_lost(db: TestDb) {
    let (one, two, account) = two_nodes(&db).await;
    for round in 0..ROUNDS {
        let policy = one.create_policy(&account, &format!("p{round}"), "/", None, DOCUMENT).await.unwrap();
        one.create_policy_version(&policy, DOCUMENT, false).await.unwrap();
        // Both read the policy when v1 was its default.
        let (setting, deleting) = tokio::join!(
            one.set_default_policy_version(&policy, "v2"),
            two.delete_policy_version(&policy, "v2"),
        );
        match (&setting, &deleting) {
            (Ok(()), Err(StoreError::DeleteDefaultVersion)) | (Err(StoreError::NoSuchPolicyVersion), Ok(())) => {}
            other => panic!("round {round}: {other:?}"),
        }
        let now = one.managed_policy(&account, &policy.arn()).await.unwrap();
        let versions = one.policy_versions(&now).await.unwrap();
        assert!(
            versions.iter().any(|v| v.is_default),
            "round {round}: the default version {} is gone",
            now.default_version
        );
    }
}

async fn a_bucket_deleted_while_another_node_starts_an_upload_in_it_answers_s3s_errors(db: TestDb) {
    let (one, two, account) = two_nodes(&db).await;
    for round in 0..ROUNDS {
        let bucket = format!("b{round}");
        one.create_bucket(&account, &bucket, "us-east-1").await.unwrap();
        let upload = Upload {
            bucket: bucket.clone(),
            ..crate::object_tests::new_upload("k")
        };
        let (deleting, starting) = tokio::join!(one.delete_bucket(&bucket), two.create_upload(upload));
        match (&deleting, &starting) {
            (Ok(()), Err(StoreError::NoSuchBucket)) | (Ok(()), Ok(_)) | (Err(StoreError::BucketNotEmpty), Ok(_)) => {}
            other => panic!("round {round}: {other:?}"),
        }
    }
}
}
