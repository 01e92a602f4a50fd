//! IAM OpenID Connect providers through the AWS SDK for Rust: created for an https issuer,
//! read, listed, their audiences and thumbprints changed, tagged and deleted.

use aws_sdk_iam::types::Tag;

use crate::harness::{Coffer, code};

const THUMBPRINT: &str = "9e99a48a9960b14926bb7f3b02e22da2b0ab7280";

#[tokio::test]
async fn a_provider_is_created_read_changed_tagged_and_deleted() {
    let coffer = Coffer::start();
    let iam = coffer.root_iam();
    let account = coffer.account_id().await;
    let created = iam
        .create_open_id_connect_provider()
        .url("https://ci.example.com/")
        .client_id_list("sts.amazonaws.com")
        .thumbprint_list(THUMBPRINT)
        .tags(Tag::builder().key("team").value("ci").build().unwrap())
        .send()
        .await
        .unwrap();
    let arn = created.open_id_connect_provider_arn().unwrap().to_owned();
    assert_eq!(arn, format!("arn:aws:iam::{account}:oidc-provider/ci.example.com"));
    let err = iam
        .create_open_id_connect_provider()
        .url("https://ci.example.com")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "EntityAlreadyExists");

    let got = iam
        .get_open_id_connect_provider()
        .open_id_connect_provider_arn(&arn)
        .send()
        .await
        .unwrap();
    assert_eq!(got.url(), Some("ci.example.com"));
    assert_eq!(got.client_id_list(), ["sts.amazonaws.com"]);
    assert_eq!(got.thumbprint_list(), [THUMBPRINT]);
    assert_eq!(got.tags()[0].key(), "team");

    iam.add_client_id_to_open_id_connect_provider()
        .open_id_connect_provider_arn(&arn)
        .client_id("deployer-app")
        .send()
        .await
        .unwrap();
    // Adding one twice, or removing one that is not there, changes nothing, as in IAM.
    iam.add_client_id_to_open_id_connect_provider()
        .open_id_connect_provider_arn(&arn)
        .client_id("deployer-app")
        .send()
        .await
        .unwrap();
    iam.remove_client_id_from_open_id_connect_provider()
        .open_id_connect_provider_arn(&arn)
        .client_id("sts.amazonaws.com")
        .send()
        .await
        .unwrap();
    iam.remove_client_id_from_open_id_connect_provider()
        .open_id_connect_provider_arn(&arn)
        .client_id("never-added")
        .send()
        .await
        .unwrap();
    let other = "a".repeat(40);
    iam.update_open_id_connect_provider_thumbprint()
        .open_id_connect_provider_arn(&arn)
        .thumbprint_list(&other)
        .send()
        .await
        .unwrap();
    let got = iam
        .get_open_id_connect_provider()
        .open_id_connect_provider_arn(&arn)
        .send()
        .await
        .unwrap();
    assert_eq!(got.client_id_list(), ["deployer-app"]);
    assert_eq!(got.thumbprint_list(), [other.as_str()]);

    iam.tag_open_id_connect_provider()
        .open_id_connect_provider_arn(&arn)
        .tags(Tag::builder().key("env").value("prod").build().unwrap())
        .send()
        .await
        .unwrap();
    iam.untag_open_id_connect_provider()
        .open_id_connect_provider_arn(&arn)
        .tag_keys("team")
        .send()
        .await
        .unwrap();
    let tags = iam
        .list_open_id_connect_provider_tags()
        .open_id_connect_provider_arn(&arn)
        .send()
        .await
        .unwrap();
    assert_eq!(tags.tags().iter().map(|t| t.key()).collect::<Vec<_>>(), ["env"]);

    let listed = iam.list_open_id_connect_providers().send().await.unwrap();
    assert_eq!(listed.open_id_connect_provider_list()[0].arn(), Some(arn.as_str()));
    iam.delete_open_id_connect_provider()
        .open_id_connect_provider_arn(&arn)
        .send()
        .await
        .unwrap();
    assert!(
        iam.list_open_id_connect_providers()
            .send()
            .await
            .unwrap()
            .open_id_connect_provider_list()
            .is_empty()
    );
    let err = iam
        .get_open_id_connect_provider()
        .open_id_connect_provider_arn(&arn)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "NoSuchEntity");
    let err = iam
        .delete_open_id_connect_provider()
        .open_id_connect_provider_arn(&arn)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "NoSuchEntity");
}

#[tokio::test]
async fn bad_providers_are_refused() {
    let coffer = Coffer::start();
    let iam = coffer.root_iam();
    let refused = |url: &'static str, thumbprint: &'static str| {
        let iam = iam.clone();
        async move {
            let err = iam
                .create_open_id_connect_provider()
                .url(url)
                .thumbprint_list(thumbprint)
                .send()
                .await
                .unwrap_err();
            code(&err)
        }
    };
    assert_eq!(refused("http://ci.example.com", THUMBPRINT).await, "InvalidInput");
    assert_eq!(refused("https://", THUMBPRINT).await, "InvalidInput");
    assert_eq!(
        refused("https://ci.example.com", "not-a-thumbprint").await,
        "ValidationError"
    );
    // Another account's provider is not one of this account's.
    let err = iam
        .get_open_id_connect_provider()
        .open_id_connect_provider_arn("arn:aws:iam::123456789012:oidc-provider/ci.example.com")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "NoSuchEntity");
    assert!(
        iam.list_open_id_connect_providers()
            .send()
            .await
            .unwrap()
            .open_id_connect_provider_list()
            .is_empty()
    );
}
