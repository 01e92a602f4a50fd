//! The principals of the `*-session` and `*-user` workloads: a role with S3 access, assumed
//! by an IAM user the run creates, so its requests carry an `ASIA…` key and a session token,
//! as a CI job's do; and that IAM user itself, holding the same managed policy, signing with
//! its long-term key: the fair baseline (the root user skips policy evaluation altogether).

use std::time::{SystemTime, UNIX_EPOCH};

use crate::Target;
use crate::heavy::element;
use crate::signing::Signer;

/// Creates the role and its assumer with the root key; returns signers with the user's
/// long-term key and with the session's credentials (they last an hour: longer than any run).
pub async fn create(target: &Target) -> Result<(Signer, Signer), String> {
    let stamp = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_err(|e| e.to_string())?
        .as_millis();
    let who = target
        .sts(&target.signer, "Action=GetCallerIdentity&Version=2011-06-15")
        .await?;
    let account = element(&who, "Account")?.to_owned();
    let role = format!("coffer-bench-role-{stamp}");
    let trust = format!(
        r#"{{"Version":"2012-10-17","Statement":{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{account}:root"}},"Action":"sts:AssumeRole"}}}}"#
    );
    let created = target
        .iam(&[
            ("Action", "CreateRole"),
            ("RoleName", &role),
            ("AssumeRolePolicyDocument", &trust),
        ])
        .await?;
    let role_arn = element(&created, "Arn")?.to_owned();
    target
        .iam(&[
            ("Action", "AttachRolePolicy"),
            ("RoleName", &role),
            ("PolicyArn", "arn:aws:iam::aws:policy/AmazonS3FullAccess"),
        ])
        .await?;
    let user = format!("coffer-bench-assumer-{stamp}");
    target.iam(&[("Action", "CreateUser"), ("UserName", &user)]).await?;
    let allow = format!(
        r#"{{"Version":"2012-10-17","Statement":{{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"{role_arn}"}}}}"#
    );
    target
        .iam(&[
            ("Action", "PutUserPolicy"),
            ("UserName", &user),
            ("PolicyName", "assume"),
            ("PolicyDocument", &allow),
        ])
        .await?;
    target
        .iam(&[
            ("Action", "AttachUserPolicy"),
            ("UserName", &user),
            ("PolicyArn", "arn:aws:iam::aws:policy/AmazonS3FullAccess"),
        ])
        .await?;
    let key = target
        .iam(&[("Action", "CreateAccessKey"), ("UserName", &user)])
        .await?;
    let assumer = Signer {
        key_id: element(&key, "AccessKeyId")?.to_owned(),
        secret: element(&key, "SecretAccessKey")?.to_owned(),
        host: target.signer.host.clone(),
        token: None,
    };
    let form = format!(
        "Action=AssumeRole&Version=2011-06-15&RoleSessionName=bench&RoleArn={}",
        crate::percent_encode(&role_arn)
    );
    let assumed = target.sts(&assumer, &form).await?;
    let session = Signer {
        key_id: element(&assumed, "AccessKeyId")?.to_owned(),
        secret: element(&assumed, "SecretAccessKey")?.to_owned(),
        host: target.signer.host.clone(),
        token: Some(element(&assumed, "SessionToken")?.to_owned()),
    };
    Ok((assumer, session))
}
