//! Every IAM list honours `MaxItems` and `Marker`: the SDK's paginators walk each one to the
//! same items a single large page holds.

use crate::harness::Coffer;

const ALLOW_GETS: &str = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:Get*","Resource":"*"}}"#;

#[tokio::test]
async fn lists_of_members_policies_entities_and_results_page() {
    let coffer = Coffer::start();
    let iam = coffer.root_iam();
    let account = coffer.account_id().await;
    iam.create_group().group_name("team").send().await.unwrap();
    let policy = iam
        .create_policy()
        .policy_name("gets")
        .policy_document(ALLOW_GETS)
        .send()
        .await
        .unwrap();
    let arn = policy.policy().unwrap().arn().unwrap().to_owned();
    for i in 0..5 {
        let name = format!("member{i}");
        iam.create_user().user_name(&name).send().await.unwrap();
        iam.add_user_to_group()
            .group_name("team")
            .user_name(&name)
            .send()
            .await
            .unwrap();
        iam.attach_user_policy()
            .user_name(&name)
            .policy_arn(&arn)
            .send()
            .await
            .unwrap();
        iam.put_user_policy()
            .user_name("member0")
            .policy_name(format!("inline{i}"))
            .policy_document(ALLOW_GETS)
            .send()
            .await
            .unwrap();
    }
    iam.attach_group_policy()
        .group_name("team")
        .policy_arn(&arn)
        .send()
        .await
        .unwrap();

    let first = iam.get_group().group_name("team").max_items(2).send().await.unwrap();
    assert_eq!(first.users().len(), 2);
    assert!(first.is_truncated());
    let members: Vec<String> = iam
        .get_group()
        .group_name("team")
        .max_items(2)
        .into_paginator()
        .send()
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .flat_map(|page| {
            page.unwrap()
                .users()
                .iter()
                .map(|u| u.user_name().to_owned())
                .collect::<Vec<_>>()
        })
        .collect();
    assert_eq!(members, (0..5).map(|i| format!("member{i}")).collect::<Vec<_>>());

    let whole = iam.list_policies().send().await.unwrap();
    assert!(!whole.is_truncated());
    let paged: Vec<_> = iam
        .list_policies()
        .max_items(3)
        .into_paginator()
        .items()
        .send()
        .collect::<Vec<_>>()
        .await;
    assert_eq!(paged.len(), whole.policies().len());
    assert_eq!(
        paged.len(),
        9,
        "the 8 AWS managed policies Coffer carries and one of ours"
    );

    let entities = iam
        .list_entities_for_policy()
        .policy_arn(&arn)
        .max_items(4)
        .send()
        .await
        .unwrap();
    assert_eq!(entities.policy_groups().len() + entities.policy_users().len(), 4);
    assert!(entities.is_truncated());
    let rest = iam
        .list_entities_for_policy()
        .policy_arn(&arn)
        .marker(entities.marker().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(rest.policy_groups().len() + rest.policy_users().len(), 2);
    assert!(!rest.is_truncated());

    let inline: Vec<_> = iam
        .list_user_policies()
        .user_name("member0")
        .max_items(2)
        .into_paginator()
        .items()
        .send()
        .collect::<Vec<_>>()
        .await;
    assert_eq!(inline.len(), 5);

    let results: Vec<_> = iam
        .simulate_principal_policy()
        .policy_source_arn(format!("arn:aws:iam::{account}:user/member0"))
        .action_names("s3:GetObject")
        .action_names("s3:PutObject")
        .action_names("s3:GetBucketPolicy")
        .max_items(2)
        .into_paginator()
        .items()
        .send()
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .map(|r| {
            let r = r.unwrap();
            (r.eval_action_name().to_owned(), r.eval_decision().as_str().to_owned())
        })
        .collect();
    assert_eq!(
        results,
        [
            ("s3:GetObject".to_owned(), "allowed".to_owned()),
            ("s3:PutObject".to_owned(), "implicitDeny".to_owned()),
            ("s3:GetBucketPolicy".to_owned(), "allowed".to_owned()),
        ],
        "pages keep the order of the actions asked"
    );
}
