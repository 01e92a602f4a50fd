//! Bucket policies: grants across accounts, public reads behind Block Public Access, copy
//! sources, who manages a policy, and what a missing key tells whom.

use super::{READ_ONLY_S3, grant, photos};
use crate::harness::{Coffer, assert_aws_error};
use crate::s3::s3_code;

#[tokio::test]
async fn bucket_policies_grant_deny_and_reach_across_accounts() {
    let coffer = Coffer::start();
    photos(&coffer).await;
    let root = coffer.root_s3();
    let account = coffer.account_id().await;
    let (key, secret) = coffer.user_with_key("judy").await;
    let judy = coffer.s3(&key, &secret);
    let err = judy
        .get_object()
        .bucket("holiday-photos")
        .key("beach.jpg")
        .send()
        .await
        .unwrap_err();
    assert_aws_error(&err, "AccessDenied", 403);

    let (other_key, other_secret) = coffer.other_account("partner");
    let partner = coffer.s3(&other_key, &other_secret);
    let partner_account = coffer
        .sts(&other_key, &other_secret, "us-east-1")
        .get_caller_identity()
        .send()
        .await
        .unwrap()
        .account()
        .unwrap()
        .to_owned();
    let policy = format!(
        r#"{{"Version":"2012-10-17","Statement":[
          {{"Sid":"Judy","Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{account}:user/judy"}},"Action":"s3:GetObject","Resource":"arn:aws:s3:::holiday-photos/*"}},
          {{"Sid":"Partner","Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{partner_account}:root"}},"Action":"s3:GetObject","Resource":"arn:aws:s3:::holiday-photos/beach.jpg"}},
          {{"Sid":"NoDeletes","Effect":"Deny","Principal":"*","Action":"s3:DeleteObject","Resource":"arn:aws:s3:::holiday-photos/*"}}]}}"#
    );
    root.put_bucket_policy()
        .bucket("holiday-photos")
        .policy(&policy)
        .send()
        .await
        .unwrap();
    assert_eq!(
        root.get_bucket_policy()
            .bucket("holiday-photos")
            .send()
            .await
            .unwrap()
            .policy(),
        Some(policy.as_str())
    );
    // A bucket policy naming a user of the same account allows on its own.
    judy.get_object()
        .bucket("holiday-photos")
        .key("beach.jpg")
        .send()
        .await
        .unwrap();
    // The other account's root, granted by the bucket's account.
    partner
        .get_object()
        .bucket("holiday-photos")
        .key("beach.jpg")
        .send()
        .await
        .unwrap();
    let err = partner
        .get_object()
        .bucket("holiday-photos")
        .key("home/bob/cv.pdf")
        .send()
        .await
        .unwrap_err();
    assert_aws_error(&err, "AccessDenied", 403);
    // The bucket policy's Deny binds even the owner's root user.
    let err = root
        .delete_object()
        .bucket("holiday-photos")
        .key("beach.jpg")
        .send()
        .await
        .unwrap_err();
    assert_aws_error(&err, "AccessDenied", 403);
    let status = root
        .get_bucket_policy_status()
        .bucket("holiday-photos")
        .send()
        .await
        .unwrap();
    assert_eq!(status.policy_status().and_then(|s| s.is_public()), Some(false));

    let err = root
        .put_bucket_policy()
        .bucket("holiday-photos")
        .policy("{nope")
        .send()
        .await
        .unwrap_err();
    assert_eq!(s3_code(&err), "MalformedPolicy");
    root.delete_bucket_policy()
        .bucket("holiday-photos")
        .send()
        .await
        .unwrap();
    let err = root
        .get_bucket_policy()
        .bucket("holiday-photos")
        .send()
        .await
        .unwrap_err();
    assert_eq!(s3_code(&err), "NoSuchBucketPolicy");
    let err = judy
        .get_object()
        .bucket("holiday-photos")
        .key("beach.jpg")
        .send()
        .await
        .unwrap_err();
    assert_aws_error(&err, "AccessDenied", 403);
}

#[tokio::test]
async fn public_reads_need_block_public_access_lifted() {
    let coffer = Coffer::start();
    photos(&coffer).await;
    let root = coffer.root_s3();
    let url = format!("{}/holiday-photos/beach.jpg", coffer.endpoint);
    assert_eq!(reqwest::get(&url).await.unwrap().status().as_u16(), 403);
    let public = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::holiday-photos/*"}}"#;
    // New buckets block public policies, as S3 does.
    let block = root
        .get_public_access_block()
        .bucket("holiday-photos")
        .send()
        .await
        .unwrap();
    assert_eq!(
        block
            .public_access_block_configuration()
            .and_then(|c| c.block_public_policy()),
        Some(true)
    );
    let err = root
        .put_bucket_policy()
        .bucket("holiday-photos")
        .policy(public)
        .send()
        .await
        .unwrap_err();
    assert_aws_error(&err, "AccessDenied", 403);
    root.delete_public_access_block()
        .bucket("holiday-photos")
        .send()
        .await
        .unwrap();
    root.put_bucket_policy()
        .bucket("holiday-photos")
        .policy(public)
        .send()
        .await
        .unwrap();
    let status = root
        .get_bucket_policy_status()
        .bucket("holiday-photos")
        .send()
        .await
        .unwrap();
    assert_eq!(status.policy_status().and_then(|s| s.is_public()), Some(true));
    let response = reqwest::get(&url).await.unwrap();
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(response.bytes().await.unwrap().as_ref(), b"x");
    // Anonymous writes are still refused.
    let put = reqwest::Client::new().put(&url).body("defaced").send().await.unwrap();
    assert_eq!(put.status().as_u16(), 403);
    // A bucket that does not exist is NoSuchBucket to anyone, as in S3.
    let missing = reqwest::get(format!("{}/no-such-bucket-here/x", coffer.endpoint))
        .await
        .unwrap();
    assert_eq!(missing.status().as_u16(), 404);
    assert!(missing.text().await.unwrap().contains("<Code>NoSuchBucket</Code>"));
}

#[tokio::test]
async fn a_copy_source_is_judged_with_its_bucket_policy() {
    let coffer = Coffer::start();
    photos(&coffer).await;
    let root = coffer.root_s3();
    let account = coffer.account_id().await;
    let iam = coffer.root_iam();
    let (key, secret) = coffer.user_with_key("judy").await;
    let own = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:PutObject","Resource":"arn:aws:s3:::holiday-photos/home/${aws:username}/*"}}"#;
    grant(&iam, "judy", "own", own).await;
    let grant = format!(
        r#"{{"Version":"2012-10-17","Statement":{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{account}:user/judy"}},"Action":"s3:GetObject","Resource":"arn:aws:s3:::holiday-photos/beach.jpg"}}}}"#
    );
    root.put_bucket_policy()
        .bucket("holiday-photos")
        .policy(grant)
        .send()
        .await
        .unwrap();
    let judy = coffer.s3(&key, &secret);
    judy.copy_object()
        .bucket("holiday-photos")
        .key("home/judy/beach.jpg")
        .copy_source("holiday-photos/beach.jpg")
        .send()
        .await
        .unwrap();
    let err = judy
        .copy_object()
        .bucket("holiday-photos")
        .key("home/judy/cv.pdf")
        .copy_source("holiday-photos/home/bob/cv.pdf")
        .send()
        .await
        .unwrap_err();
    assert_aws_error(&err, "AccessDenied", 403);
}

#[tokio::test]
async fn only_the_owners_account_manages_a_bucket_policy() {
    let coffer = Coffer::start();
    photos(&coffer).await;
    let root = coffer.root_s3();
    let (key, secret) = coffer.other_account("partner");
    let partner_account = coffer
        .sts(&key, &secret, "us-east-1")
        .get_caller_identity()
        .send()
        .await
        .unwrap()
        .account()
        .unwrap()
        .to_owned();
    let everything = format!(
        r#"{{"Version":"2012-10-17","Statement":{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{partner_account}:root"}},"Action":"s3:*","Resource":["arn:aws:s3:::holiday-photos","arn:aws:s3:::holiday-photos/*"]}}}}"#
    );
    root.put_bucket_policy()
        .bucket("holiday-photos")
        .policy(&everything)
        .send()
        .await
        .unwrap();
    let partner = coffer.s3(&key, &secret);
    partner
        .get_object()
        .bucket("holiday-photos")
        .key("beach.jpg")
        .send()
        .await
        .unwrap();
    // Allowed by the policy but not of the owner's account: 405, as S3 documents.
    let err = partner
        .delete_bucket_policy()
        .bucket("holiday-photos")
        .send()
        .await
        .unwrap_err();
    assert_eq!(s3_code(&err), "MethodNotAllowed");
    assert_eq!(err.raw_response().unwrap().status().as_u16(), 405);
    let err = partner
        .delete_public_access_block()
        .bucket("holiday-photos")
        .send()
        .await
        .unwrap_err();
    assert_aws_error(&err, "AccessDenied", 403);
    root.get_bucket_policy().bucket("holiday-photos").send().await.unwrap();
}

#[tokio::test]
async fn a_missing_key_is_no_such_key_only_to_those_who_may_list_the_bucket() {
    let coffer = Coffer::start();
    photos(&coffer).await;
    let iam = coffer.root_iam();
    let (reader_key, reader_secret) = coffer.user_with_key("reader").await;
    let get_only = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::holiday-photos/*"}}"#;
    grant(&iam, "reader", "get-only", get_only).await;
    let (lister_key, lister_secret) = coffer.user_with_key("lister").await;
    grant(&iam, "lister", "read", READ_ONLY_S3).await;
    let reader = coffer.s3(&reader_key, &reader_secret);
    reader
        .get_object()
        .bucket("holiday-photos")
        .key("beach.jpg")
        .send()
        .await
        .unwrap();
    // Without s3:ListBucket a read must not tell which keys exist.
    assert_eq!(missing(&reader).await, ("AccessDenied".to_owned(), 403));
    let lister = coffer.s3(&lister_key, &lister_secret);
    assert_eq!(missing(&lister).await, ("NoSuchKey".to_owned(), 404));
    assert_eq!(missing(&coffer.root_s3()).await, ("NoSuchKey".to_owned(), 404));
}

/// What GET and HEAD of a key that does not exist answer: GET's code, HEAD's status.
async fn missing(s3: &aws_sdk_s3::Client) -> (String, u16) {
    let get = s3
        .get_object()
        .bucket("holiday-photos")
        .key("missing.jpg")
        .send()
        .await
        .unwrap_err();
    let head = s3
        .head_object()
        .bucket("holiday-photos")
        .key("missing.jpg")
        .send()
        .await
        .unwrap_err();
    (s3_code(&get), head.raw_response().unwrap().status().as_u16())
}

/// S3 keeps a bucket policy only about its own bucket and about principals that exist.
#[tokio::test]
async fn a_bucket_policy_about_another_bucket_or_an_unknown_principal_is_refused() {
    let coffer = Coffer::start();
    let account = coffer.account_id().await;
    let root = coffer.root_s3();
    root.create_bucket().bucket("mine").send().await.unwrap();
    coffer.root_iam().create_user().user_name("alice").send().await.unwrap();
    let policy = |principal: &str, resource: &str| {
        format!(
            r#"{{"Version":"2012-10-17","Statement":{{"Effect":"Allow","Principal":{{"AWS":"{principal}"}},"Action":"s3:GetObject","Resource":"{resource}"}}}}"#
        )
    };
    let put = |text: String| root.put_bucket_policy().bucket("mine").policy(text).send();
    let alice = format!("arn:aws:iam::{account}:user/alice");
    for fine in [
        "arn:aws:s3:::mine/*",
        "arn:aws:s3:::mine/photos/*",
        "arn:aws:s3:::mine",
        "arn:aws:s3:::*",
        "*",
        "arn:aws:s3:::mi*/x",
    ] {
        put(policy(&alice, fine))
            .await
            .unwrap_or_else(|e| panic!("{fine}: {e:?}"));
    }
    let err = put(policy(&alice, "arn:aws:s3:::someone-elses/*")).await.unwrap_err();
    assert_aws_error(&err, "MalformedPolicy", 400);
    assert!(format!("{err:?}").contains("Policy has invalid resource"));
    for unknown in [
        format!("arn:aws:iam::{account}:user/nobody"),
        format!("arn:aws:iam::{account}:role/nothing"),
        "arn:aws:iam::999999999999:root".to_owned(),
        "999999999999".to_owned(),
    ] {
        let err = put(policy(&unknown, "arn:aws:s3:::mine/*")).await.unwrap_err();
        assert_aws_error(&err, "MalformedPolicy", 400);
        assert!(format!("{err:?}").contains("Invalid principal in policy"), "{unknown}");
    }
    put(policy(&account, "arn:aws:s3:::mine/*")).await.unwrap();
}
