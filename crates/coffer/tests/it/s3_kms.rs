//! SSE-KMS with Coffer's key ring: keys made and managed with the real AWS CLI (`aws kms`),
//! objects written and read through the AWS SDK for Rust and `aws s3 cp --sse aws:kms`, the
//! caller's permission to use the key (`kms:GenerateDataKey`, `kms:Decrypt`) enforced, a
//! disabled key refusing reads, bucket default encryption with a key, multipart uploads and
//! copies.

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{
    ServerSideEncryption, ServerSideEncryptionByDefault, ServerSideEncryptionConfiguration, ServerSideEncryptionRule,
};
use serde_json::json;

use crate::cli::Aws;
use crate::harness::{Coffer, ROOT_KEY_ID, ROOT_SECRET, assert_aws_error, finish_upload};

/// The CLI, configured as the account's root.
fn root_cli(coffer: &Coffer) -> Aws {
    let aws = Aws::new(&coffer.endpoint);
    aws.configure(ROOT_KEY_ID, ROOT_SECRET, "us-east-1");
    aws
}

/// A new key's id and ARN, made with `aws kms create-key`.
fn create_key(aws: &Aws, description: &str) -> (String, String) {
    let made = aws.ok(&["kms", "create-key", "--description", description]);
    let metadata = &made["KeyMetadata"];
    (
        metadata["KeyId"].as_str().unwrap().to_owned(),
        metadata["Arn"].as_str().unwrap().to_owned(),
    )
}

async fn body_of(s3: &aws_sdk_s3::Client, bucket: &str, key: &str) -> Result<Vec<u8>, String> {
    match s3.get_object().bucket(bucket).key(key).send().await {
        Ok(got) => Ok(got.body.collect().await.unwrap().into_bytes().to_vec()),
        Err(err) => Err(err
            .as_service_error()
            .and_then(|e| aws_sdk_s3::error::ProvideErrorMetadata::code(e).map(str::to_owned))
            .unwrap_or_else(|| format!("{err:?}"))),
    }
}

#[tokio::test]
async fn keys_are_made_and_managed_with_the_aws_cli() {
    let coffer = Coffer::start();
    let aws = root_cli(&coffer);
    let (key_id, arn) = create_key(&aws, "application data");
    assert!(arn.ends_with(&format!(":key/{key_id}")), "{arn}");
    let described = aws.ok(&["kms", "describe-key", "--key-id", &key_id]);
    assert_eq!(described["KeyMetadata"]["KeyState"], "Enabled");
    assert_eq!(described["KeyMetadata"]["KeyManager"], "CUSTOMER");
    assert_eq!(described["KeyMetadata"]["Description"], "application data");

    aws.ok(&[
        "kms",
        "create-alias",
        "--alias-name",
        "alias/app",
        "--target-key-id",
        &key_id,
    ]);
    let by_alias = aws.ok(&["kms", "describe-key", "--key-id", "alias/app"]);
    assert_eq!(by_alias["KeyMetadata"]["KeyId"], key_id.as_str());
    let aliases = aws.ok(&["kms", "list-aliases"]);
    assert_eq!(aliases["Aliases"][0]["AliasName"], "alias/app");
    let keys = aws.ok(&["kms", "list-keys"]);
    assert_eq!(keys["Keys"].as_array().unwrap().len(), 1);

    aws.ok(&["kms", "disable-key", "--key-id", &key_id]);
    let disabled = aws.ok(&["kms", "describe-key", "--key-id", &key_id]);
    assert_eq!(disabled["KeyMetadata"]["KeyState"], "Disabled");
    let scheduled = aws.ok(&[
        "kms",
        "schedule-key-deletion",
        "--key-id",
        &key_id,
        "--pending-window-in-days",
        "7",
    ]);
    assert_eq!(scheduled["KeyState"], "PendingDeletion");
    aws.ok(&["kms", "cancel-key-deletion", "--key-id", &key_id]);

    // What a key cannot be is refused, never ignored; what Coffer does not serve is named.
    let refused = aws.run(&[
        "kms",
        "create-key",
        "--key-spec",
        "RSA_2048",
        "--key-usage",
        "SIGN_VERIFY",
    ]);
    assert!(String::from_utf8_lossy(&refused.stderr).contains("UnsupportedOperationException"));
    let refused = aws.run(&["kms", "describe-key", "--key-id", "alias/missing"]);
    assert!(String::from_utf8_lossy(&refused.stderr).contains("NotFoundException"));
    let refused = aws.run(&["kms", "generate-random", "--number-of-bytes", "8"]);
    assert!(String::from_utf8_lossy(&refused.stderr).contains("UnsupportedOperationException"));
}

#[tokio::test]
async fn objects_are_sealed_under_the_key_and_unreadable_while_it_is_disabled() {
    let coffer = Coffer::start();
    let aws = root_cli(&coffer);
    let (key_id, arn) = create_key(&aws, "objects");
    let s3 = coffer.root_s3();
    s3.create_bucket().bucket("kms").send().await.unwrap();
    let secret = b"sealed under a key of the ring, never in the clear".repeat(100);
    let put = s3
        .put_object()
        .bucket("kms")
        .key("doc")
        .server_side_encryption(ServerSideEncryption::AwsKms)
        .ssekms_key_id(&key_id)
        .body(ByteStream::from(secret.clone()))
        .send()
        .await
        .unwrap();
    assert_eq!(put.server_side_encryption(), Some(&ServerSideEncryption::AwsKms));
    assert_eq!(put.ssekms_key_id(), Some(arn.as_str()));
    assert!(!coffer.blob_files().iter().any(|path| {
        let bytes = std::fs::read(path).unwrap_or_default();
        bytes.windows(48).any(|w| w == &secret[..48])
    }));
    let got = s3.get_object().bucket("kms").key("doc").send().await.unwrap();
    assert_eq!(got.ssekms_key_id(), Some(arn.as_str()));
    assert_eq!(
        got.body.collect().await.unwrap().into_bytes().as_ref(),
        secret.as_slice()
    );

    aws.ok(&["kms", "disable-key", "--key-id", &key_id]);
    assert_eq!(
        body_of(&s3, "kms", "doc").await,
        Err("KMS.DisabledException".to_owned())
    );
    // Its metadata needs no key.
    let head = s3.head_object().bucket("kms").key("doc").send().await.unwrap();
    assert_eq!(head.server_side_encryption(), Some(&ServerSideEncryption::AwsKms));
    let refused = s3
        .put_object()
        .bucket("kms")
        .key("new")
        .server_side_encryption(ServerSideEncryption::AwsKms)
        .ssekms_key_id(&key_id)
        .body(ByteStream::from_static(b"x"))
        .send()
        .await
        .unwrap_err();
    assert_aws_error(&refused, "KMS.DisabledException", 400);
    aws.ok(&["kms", "enable-key", "--key-id", &key_id]);
    assert_eq!(body_of(&s3, "kms", "doc").await.unwrap(), secret);

    // No key named: the account's AWS managed key for S3, made on first use.
    let managed = s3
        .put_object()
        .bucket("kms")
        .key("managed")
        .server_side_encryption(ServerSideEncryption::AwsKms)
        .body(ByteStream::from_static(b"managed"))
        .send()
        .await
        .unwrap();
    let aliases = aws.ok(&["kms", "list-aliases"]);
    let s3_alias = aliases["Aliases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["AliasName"] == "alias/aws/s3")
        .expect("alias/aws/s3 exists once used");
    assert!(
        managed
            .ssekms_key_id()
            .unwrap()
            .ends_with(s3_alias["TargetKeyId"].as_str().unwrap())
    );

    let missing = s3
        .put_object()
        .bucket("kms")
        .key("nowhere")
        .server_side_encryption(ServerSideEncryption::AwsKms)
        .ssekms_key_id("alias/none")
        .body(ByteStream::from_static(b"x"))
        .send()
        .await
        .unwrap_err();
    assert_aws_error(&missing, "KMS.NotFoundException", 400);
}

#[tokio::test]
async fn using_a_key_takes_the_callers_permission() {
    let coffer = Coffer::start();
    let aws = root_cli(&coffer);
    let (_, arn) = create_key(&aws, "guarded");
    let s3 = coffer.root_s3();
    s3.create_bucket().bucket("guarded").send().await.unwrap();
    let (key_id, secret) = coffer.user_with_key("writer").await;
    let policy = |actions: &[&str]| {
        json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": ["s3:PutObject", "s3:GetObject"], "Resource": "arn:aws:s3:::guarded/*"},
            {"Effect": "Allow", "Action": actions, "Resource": arn},
        ]})
        .to_string()
    };
    let iam = coffer.root_iam();
    let set = |actions: &'static [&'static str]| {
        let iam = iam.clone();
        let document = policy(actions);
        async move {
            iam.put_user_policy()
                .user_name("writer")
                .policy_name("p")
                .policy_document(document)
                .send()
                .await
                .unwrap();
        }
    };
    set(&["kms:DescribeKey"]).await;
    let user = coffer.s3(&key_id, &secret);
    let put = || {
        user.put_object()
            .bucket("guarded")
            .key("k")
            .server_side_encryption(ServerSideEncryption::AwsKms)
            .ssekms_key_id(&arn)
            .body(ByteStream::from_static(b"guarded bytes"))
            .send()
    };
    assert_aws_error(&put().await.unwrap_err(), "AccessDenied", 403);
    set(&["kms:GenerateDataKey"]).await;
    let written = put().await.unwrap();
    // An SSE-KMS object's ETag is no MD5 of its bytes (S3's), which would tell about them.
    assert_ne!(
        written.e_tag().unwrap().trim_matches('"'),
        format!("{:032x}", crate::s3_objects::md5_of(b"guarded bytes"))
    );
    assert_eq!(body_of(&user, "guarded", "k").await, Err("AccessDenied".to_owned()));
    // Its metadata needs no key; its plain bytes' checksums do.
    user.head_object().bucket("guarded").key("k").send().await.unwrap();
    let checksums = user
        .head_object()
        .bucket("guarded")
        .key("k")
        .checksum_mode(aws_sdk_s3::types::ChecksumMode::Enabled)
        .send()
        .await;
    assert!(checksums.is_err(), "checksums of the bytes without kms:Decrypt");
    set(&["kms:GenerateDataKey", "kms:Decrypt"]).await;
    assert_eq!(body_of(&user, "guarded", "k").await.unwrap(), b"guarded bytes");

    // KMS's condition keys: the encryption context S3 sets names the object.
    let fenced = json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["s3:PutObject", "s3:GetObject"], "Resource": "arn:aws:s3:::guarded/*"},
        {"Effect": "Allow", "Action": ["kms:GenerateDataKey", "kms:Decrypt"], "Resource": arn,
         "Condition": {"StringEquals": {"kms:ViaService": "s3.us-east-1.amazonaws.com"}}},
        {"Effect": "Deny", "Action": "kms:Decrypt", "Resource": "*",
         "Condition": {"StringLike": {"kms:EncryptionContext:aws:s3:arn": "arn:aws:s3:::guarded/secret/*"}}},
    ]});
    iam.put_user_policy()
        .user_name("writer")
        .policy_name("p")
        .policy_document(fenced.to_string())
        .send()
        .await
        .unwrap();
    for key in ["open/a", "secret/a"] {
        user.put_object()
            .bucket("guarded")
            .key(key)
            .server_side_encryption(ServerSideEncryption::AwsKms)
            .ssekms_key_id(&arn)
            .body(ByteStream::from_static(b"fenced"))
            .send()
            .await
            .unwrap();
    }
    assert_eq!(body_of(&user, "guarded", "open/a").await.unwrap(), b"fenced");
    assert_eq!(
        body_of(&user, "guarded", "secret/a").await,
        Err("AccessDenied".to_owned())
    );

    // Another account may not use it, even by its ARN, even where the bucket lets it write.
    let (other_key, other_secret) = coffer.other_account("elsewhere");
    let other = coffer.s3(&other_key, &other_secret);
    other.create_bucket().bucket("theirs").send().await.unwrap();
    let refused = other
        .put_object()
        .bucket("theirs")
        .key("k")
        .server_side_encryption(ServerSideEncryption::AwsKms)
        .ssekms_key_id(&arn)
        .body(ByteStream::from_static(b"x"))
        .send()
        .await
        .unwrap_err();
    assert_aws_error(&refused, "AccessDenied", 403);
}

#[tokio::test]
async fn a_bucket_default_key_seals_uploads_copies_and_cli_writes() {
    let coffer = Coffer::start();
    let aws = root_cli(&coffer);
    let (key_id, arn) = create_key(&aws, "bucket default");
    let s3 = coffer.root_s3();
    s3.create_bucket().bucket("defaults").send().await.unwrap();
    let rule = ServerSideEncryptionRule::builder()
        .apply_server_side_encryption_by_default(
            ServerSideEncryptionByDefault::builder()
                .sse_algorithm(ServerSideEncryption::AwsKms)
                .kms_master_key_id(&key_id)
                .build()
                .unwrap(),
        )
        .bucket_key_enabled(true)
        .build();
    s3.put_bucket_encryption()
        .bucket("defaults")
        .server_side_encryption_configuration(
            ServerSideEncryptionConfiguration::builder()
                .rules(rule)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let config = s3.get_bucket_encryption().bucket("defaults").send().await.unwrap();
    let default = config.server_side_encryption_configuration().unwrap().rules()[0]
        .apply_server_side_encryption_by_default()
        .unwrap()
        .clone();
    assert_eq!(default.kms_master_key_id(), Some(key_id.as_str()));

    let put = s3
        .put_object()
        .bucket("defaults")
        .key("plain-request")
        .body(ByteStream::from_static(b"by default"))
        .send()
        .await
        .unwrap();
    assert_eq!(put.ssekms_key_id(), Some(arn.as_str()));
    assert_eq!(put.bucket_key_enabled(), Some(true));

    // A multipart upload: every part sealed under the upload's data key.
    let upload = s3
        .create_multipart_upload()
        .bucket("defaults")
        .key("parts")
        .send()
        .await
        .unwrap();
    assert_eq!(upload.ssekms_key_id(), Some(arn.as_str()));
    let parts = vec![vec![b'a'; 5 * 1024 * 1024], b"tail".to_vec()];
    finish_upload(&s3, "defaults", "parts", upload.upload_id().unwrap(), parts.clone()).await;
    assert_eq!(body_of(&s3, "defaults", "parts").await.unwrap(), parts.concat());

    // A copy to SSE-S3, and back under the key.
    let copied = s3
        .copy_object()
        .bucket("defaults")
        .key("as-s3")
        .copy_source("defaults/plain-request")
        .server_side_encryption(ServerSideEncryption::Aes256)
        .send()
        .await
        .unwrap();
    assert_eq!(copied.server_side_encryption(), Some(&ServerSideEncryption::Aes256));
    assert_eq!(body_of(&s3, "defaults", "as-s3").await.unwrap(), b"by default");

    // The CLI's `--sse aws:kms --sse-kms-key-id`.
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), b"from the cli").unwrap();
    aws.ok(&[
        "s3",
        "cp",
        file.path().to_str().unwrap(),
        "s3://defaults/cli.txt",
        "--sse",
        "aws:kms",
        "--sse-kms-key-id",
        &arn,
    ]);
    let head = s3.head_object().bucket("defaults").key("cli.txt").send().await.unwrap();
    assert_eq!(head.ssekms_key_id(), Some(arn.as_str()));
    assert_eq!(body_of(&s3, "defaults", "cli.txt").await.unwrap(), b"from the cli");
}

#[tokio::test]
async fn the_aws_managed_key_serves_s3_users_and_an_unusable_key_stops_an_upload() {
    let coffer = Coffer::start_with(&[
        ("COFFER_ROOT_ACCESS_KEY_ID", ROOT_KEY_ID),
        ("COFFER_ROOT_SECRET_ACCESS_KEY", ROOT_SECRET),
        ("COFFER_NEW_BUCKET_DEFAULTS", "pre-2023"),
    ]);
    let s3 = coffer.root_s3();
    s3.create_bucket().bucket("managed").send().await.unwrap();
    // A user with S3 permissions only: `aws/s3`'s key policy lets it use the key through S3.
    let (key_id, secret) = coffer.user_with_key("s3-only").await;
    let s3_only = json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["s3:PutObject", "s3:GetObject"], "Resource": "arn:aws:s3:::managed/*"}]});
    coffer
        .root_iam()
        .put_user_policy()
        .user_name("s3-only")
        .policy_name("p")
        .policy_document(s3_only.to_string())
        .send()
        .await
        .unwrap();
    let user = coffer.s3(&key_id, &secret);
    user.put_object()
        .bucket("managed")
        .key("doc")
        .server_side_encryption(ServerSideEncryption::AwsKms)
        .body(ByteStream::from_static(b"managed"))
        .send()
        .await
        .unwrap();
    assert_eq!(body_of(&user, "managed", "doc").await.unwrap(), b"managed");

    // No anonymous request uses KMS, even where the bucket lets anyone write.
    let anyone = json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": "*", "Action": "s3:PutObject", "Resource": "arn:aws:s3:::managed/*"}]});
    s3.put_bucket_policy()
        .bucket("managed")
        .policy(anyone.to_string())
        .send()
        .await
        .unwrap();
    let anonymous = reqwest::Client::new()
        .put(format!("{}/managed/anon", coffer.endpoint))
        .header("x-amz-server-side-encryption", "aws:kms")
        .body("x")
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 403);

    // A key disabled while an upload is under way stops its completion.
    let aws = root_cli(&coffer);
    let (kms_key, _) = create_key(&aws, "upload");
    let upload = s3
        .create_multipart_upload()
        .bucket("managed")
        .key("parts")
        .server_side_encryption(ServerSideEncryption::AwsKms)
        .ssekms_key_id(&kms_key)
        .send()
        .await
        .unwrap();
    let part = s3
        .upload_part()
        .bucket("managed")
        .key("parts")
        .upload_id(upload.upload_id().unwrap())
        .part_number(1)
        .body(ByteStream::from_static(b"part"))
        .send()
        .await
        .unwrap();
    aws.ok(&["kms", "disable-key", "--key-id", &kms_key]);
    let refused = s3
        .complete_multipart_upload()
        .bucket("managed")
        .key("parts")
        .upload_id(upload.upload_id().unwrap())
        .multipart_upload(
            aws_sdk_s3::types::CompletedMultipartUpload::builder()
                .parts(
                    aws_sdk_s3::types::CompletedPart::builder()
                        .part_number(1)
                        .e_tag(part.e_tag().unwrap())
                        .build(),
                )
                .build(),
        )
        .send()
        .await
        .unwrap_err();
    assert_aws_error(&refused, "KMS.DisabledException", 400);
}
