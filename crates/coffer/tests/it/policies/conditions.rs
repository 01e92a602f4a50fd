//! Condition keys reaching policies: source addresses and request keys, tags, and what a
//! trusted proxy says about TLS and the client.

use aws_sdk_s3::primitives::ByteStream;

use super::{grant, photos};
use crate::harness::{Coffer, assert_aws_error};
use crate::s3::s3_code;

#[tokio::test]
async fn source_ip_and_request_keys_reach_conditions() {
    let coffer = Coffer::start();
    photos(&coffer).await;
    let iam = coffer.root_iam();
    let (key, secret) = coffer.user_with_key("kim").await;
    let from_here = r#"{"Version":"2012-10-17","Statement":[
        {"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"127.0.0.0/8"}}},
        {"Effect":"Allow","Action":"s3:PutObject","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"203.0.113.0/24"}}},
        {"Effect":"Allow","Action":"s3:ListBucket","Resource":"*","Condition":{"StringEquals":{"aws:RequestedRegion":"eu-west-1","s3:authType":"REST-HEADER"}}},
        {"Effect":"Allow","Action":"iam:GetUser","Resource":"*","Condition":{"StringLike":{"aws:UserAgent":"*aws-sdk-rust*"}}}]}"#;
    grant(&iam, "kim", "ip", from_here).await;
    let kim = coffer.s3(&key, &secret);
    kim.get_object()
        .bucket("holiday-photos")
        .key("beach.jpg")
        .send()
        .await
        .unwrap();
    let err = kim
        .put_object()
        .bucket("holiday-photos")
        .key("x")
        .body(ByteStream::from_static(b"x"))
        .send()
        .await
        .unwrap_err();
    assert_aws_error(&err, "AccessDenied", 403);
    let err = kim.list_objects_v2().bucket("holiday-photos").send().await.unwrap_err();
    assert_eq!(s3_code(&err), "AccessDenied", "signed for us-east-1");
    coffer
        .s3_in("eu-west-1", &key, &secret)
        .list_objects_v2()
        .bucket("holiday-photos")
        .send()
        .await
        .unwrap();
    coffer.iam(&key, &secret).get_user().send().await.unwrap();
}

#[tokio::test]
async fn tagging_is_judged_on_the_request_tags_and_tag_keys() {
    let coffer = Coffer::start();
    let iam = coffer.root_iam();
    let (key, secret) = coffer.user_with_key("tagger").await;
    iam.create_user().user_name("worker").send().await.unwrap();
    // The IAM user guide's pattern: tag only with team=blue, and touch no other tag key.
    let tagging = r#"{"Version":"2012-10-17","Statement":[
        {"Effect":"Allow","Action":"iam:TagUser","Resource":"*",
         "Condition":{"StringEquals":{"aws:RequestTag/team":"blue"},"ForAllValues:StringEquals":{"aws:TagKeys":["team"]}}},
        {"Effect":"Allow","Action":"iam:UntagUser","Resource":"*",
         "Condition":{"ForAllValues:StringEquals":{"aws:TagKeys":["team"]}}}]}"#;
    grant(&iam, "tagger", "tagging", tagging).await;
    let tagger = coffer.iam(&key, &secret);
    let tag = |key: &str, value: &str| {
        aws_sdk_iam::types::Tag::builder()
            .key(key)
            .value(value)
            .build()
            .unwrap()
    };
    tagger
        .tag_user()
        .user_name("worker")
        .tags(tag("team", "blue"))
        .send()
        .await
        .unwrap();
    let err = tagger
        .tag_user()
        .user_name("worker")
        .tags(tag("team", "red"))
        .send()
        .await
        .unwrap_err();
    assert_aws_error(&err, "AccessDenied", 403);
    let err = tagger
        .tag_user()
        .user_name("worker")
        .tags(tag("team", "blue"))
        .tags(tag("cost-center", "42"))
        .send()
        .await
        .unwrap_err();
    assert_aws_error(&err, "AccessDenied", 403);
    iam.tag_user()
        .user_name("worker")
        .tags(tag("cost-center", "42"))
        .send()
        .await
        .unwrap();
    let err = tagger
        .untag_user()
        .user_name("worker")
        .tag_keys("cost-center")
        .send()
        .await
        .unwrap_err();
    assert_aws_error(&err, "AccessDenied", 403);
    tagger
        .untag_user()
        .user_name("worker")
        .tag_keys("team")
        .send()
        .await
        .unwrap();
    let left = iam.list_user_tags().user_name("worker").send().await.unwrap();
    let keys: Vec<&str> = left.tags().iter().map(|t| t.key()).collect();
    assert_eq!(keys, ["cost-center"]);
}

#[tokio::test]
async fn a_trusted_proxy_says_where_tls_ended_and_who_the_client_is() {
    use crate::s3_raw::{Payload, signed_s3};
    // The AWS docs' deny-unless-TLS policy, and reads only from one network.
    let policy = r#"{"Version":"2012-10-17","Statement":[
        {"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":["arn:aws:s3:::tls","arn:aws:s3:::tls/*"],
         "Condition":{"Bool":{"aws:SecureTransport":"false"}}},
        {"Effect":"Deny","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::tls/*",
         "Condition":{"NotIpAddress":{"aws:SourceIp":"198.51.100.0/24"}}}]}"#;
    let behind_proxy = Coffer::start_with(&[
        ("COFFER_ROOT_ACCESS_KEY_ID", crate::harness::ROOT_KEY_ID),
        ("COFFER_ROOT_SECRET_ACCESS_KEY", crate::harness::ROOT_SECRET),
        ("COFFER_TRUSTED_PROXIES", "127.0.0.1"),
    ]);
    let direct = Coffer::start();
    for coffer in [&behind_proxy, &direct] {
        let root = coffer.root_s3();
        root.create_bucket().bucket("tls").send().await.unwrap();
        root.put_object()
            .bucket("tls")
            .key("k")
            .body(ByteStream::from_static(b"x"))
            .send()
            .await
            .unwrap();
        root.put_bucket_policy()
            .bucket("tls")
            .policy(policy)
            .send()
            .await
            .unwrap();
    }
    async fn get(coffer: &Coffer, headers: &[(&str, &str)]) -> u16 {
        signed_s3(coffer, "GET", "/tls/k", headers, Vec::new(), Payload::Signed)
            .await
            .status
    }
    let over_tls_from = |ip| [("x-forwarded-proto", "https"), ("x-forwarded-for", ip)];
    // Two proxies, each appending what it heard and how.
    let via_two = |ips| [("x-forwarded-proto", "https, https"), ("x-forwarded-for", ips)];
    assert_eq!(get(&behind_proxy, &[]).await, 403, "plain HTTP");
    assert_eq!(get(&behind_proxy, &over_tls_from("198.51.100.7")).await, 200);
    assert_eq!(
        get(&behind_proxy, &over_tls_from("203.0.113.9")).await,
        403,
        "outside the network"
    );
    assert_eq!(
        get(&behind_proxy, &via_two("198.51.100.7, 203.0.113.9")).await,
        403,
        "a client cannot prepend an address"
    );
    assert_eq!(
        get(&behind_proxy, &via_two("198.51.100.7, 127.0.0.1")).await,
        200,
        "trusted hops are skipped"
    );
    assert_eq!(
        get(&behind_proxy, &over_tls_from("198.51.100.7, 127.0.0.1")).await,
        403,
        "one protocol for two hops could be the client's own header: not TLS"
    );
    assert_eq!(
        get(&direct, &over_tls_from("198.51.100.7")).await,
        403,
        "without --trusted-proxies the headers are ignored"
    );
}
