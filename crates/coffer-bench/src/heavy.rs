//! The policy issue's "heavy principal", for `s3-get-heavy`: an IAM user with 10 customer
//! managed policies of 10 statements each and a bucket policy on the benchmark bucket. Every
//! statement matches a GET of the bucket by its action and resource, and only the very last
//! one's network condition holds, so deciding afresh looks at all 100 (the worst case for an
//! allowed request). Created through the IAM Query API with the key the benchmark runs with
//! (the account's root).

use std::time::{SystemTime, UNIX_EPOCH};

use crate::Target;
use crate::signing::Signer;

const POLICIES: usize = 10;
const STATEMENTS: usize = 10;

/// Managed policy `n`: statements that allow GETs in `bucket` from a network, which is the
/// benchmark's own only for the last statement of the last policy.
fn identity_policy(bucket: &str, n: usize) -> String {
    let statements: Vec<String> = (0..STATEMENTS)
        .map(|i| {
            let last = (n, i) == (POLICIES - 1, STATEMENTS - 1);
            let network = if last {
                r#""127.0.0.0/8","::1/128""#
            } else {
                r#""192.0.2.0/24""#
            };
            format!(
                r#"{{"Sid":"P{n}S{i}","Effect":"Allow","Action":["s3:GetObject","s3:ListBucket","iam:Get{n}{i}*"],
                  "Resource":["arn:aws:s3:::{bucket}-other-{n}-{i}/*","arn:aws:s3:::{bucket}/*"],
                  "Condition":{{"StringLike":{{"aws:UserAgent":"*"}},
                                "IpAddress":{{"aws:SourceIp":["10.{n}.{i}.0/24",{network}]}}}}}}"#
            )
        })
        .collect();
    format!(r#"{{"Version":"2012-10-17","Statement":[{}]}}"#, statements.join(","))
}

fn bucket_policy(bucket: &str, user_arn: &str) -> String {
    format!(
        r#"{{"Version":"2012-10-17","Statement":[
          {{"Effect":"Deny","Principal":"*","Action":"s3:DeleteBucketPolicy","Resource":"arn:aws:s3:::{bucket}"}},
          {{"Effect":"Allow","Principal":{{"AWS":"{user_arn}"}},"Action":"s3:GetObject","Resource":"arn:aws:s3:::{bucket}/*"}}]}}"#
    )
}

/// The text of `<tag>` in an XML response.
pub(crate) fn element<'a>(xml: &'a str, tag: &str) -> Result<&'a str, String> {
    xml.split(&format!("<{tag}>"))
        .nth(1)
        .and_then(|rest| rest.split(&format!("</{tag}>")).next())
        .ok_or_else(|| format!("no <{tag}> in {xml}"))
}

/// Creates the heavy user, its policies and the bucket policy; returns a signer with its key.
pub async fn create(target: &Target) -> Result<Signer, String> {
    let stamp = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_err(|e| e.to_string())?
        .as_millis();
    let user = format!("coffer-bench-heavy-{stamp}");
    let created = target.iam(&[("Action", "CreateUser"), ("UserName", &user)]).await?;
    let user_arn = element(&created, "Arn")?.to_owned();
    for n in 0..POLICIES {
        let name = format!("{user}-{n}");
        let document = identity_policy(&target.bucket, n);
        let policy = target
            .iam(&[
                ("Action", "CreatePolicy"),
                ("PolicyName", &name),
                ("PolicyDocument", &document),
            ])
            .await?;
        let arn = element(&policy, "Arn")?;
        target
            .iam(&[("Action", "AttachUserPolicy"), ("UserName", &user), ("PolicyArn", arn)])
            .await?;
    }
    let path = format!("/{}", target.bucket);
    let policy = bucket_policy(&target.bucket, &user_arn);
    let length = policy.len() as u64;
    let response = target
        .signed_as(
            &target.signer,
            reqwest::Method::PUT,
            &path,
            "policy",
            Some((policy.into(), length)),
        )
        .await?;
    if !response.status().is_success() {
        let status = response.status();
        return Err(format!(
            "PutBucketPolicy: HTTP {status}: {}",
            response.text().await.unwrap_or_default()
        ));
    }
    let key = target
        .iam(&[("Action", "CreateAccessKey"), ("UserName", &user)])
        .await?;
    Ok(Signer {
        key_id: element(&key, "AccessKeyId")?.to_owned(),
        secret: element(&key, "SecretAccessKey")?.to_owned(),
        host: target.signer.host.clone(),
        token: None,
    })
}
