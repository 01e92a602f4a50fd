//! Server-side encryption as S3 defines it: SSE-S3 (`AES256`: each object its own data key,
//! sealed under the master key), SSE-KMS (`aws:kms`: the data key sealed under a key of
//! Coffer's key ring, which the caller must be allowed to use: `kms:GenerateDataKey` to write,
//! `kms:Decrypt` to read) and SSE-C (the customer's key, sent with every request that
//! touches the bytes and never stored: only a salted keyed digest to check it), a bucket's
//! default encryption (Put/Get/DeleteBucketEncryption), and the headers answers carry.
//! DSSE-KMS (`aws:kms:dsse`) is not served: asking for it is `NotImplemented`.
//!
//! The bytes themselves are sealed in segments (`coffer_store::Sealing`), so a ranged read
//! opens only the segments it needs.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use s3s::dto::*;
use s3s::{S3Request, S3Response};

use crate::CofferS3;
use crate::error::{Result, S3Fault};
use coffer_auth::Caller;
use coffer_store::{Bucket, BucketEncryption, DataKey, Encryption, KmsKey, KmsKeyState, KmsUse};

/// The purpose of SSE-C key digests.
const CUSTOMER_KEY_DIGEST: &str = "sse-c key";

/// A customer's key as a request gave it, checked: the key, and its MD5 (base64), which
/// answers echo from the request (it is never stored).
#[derive(Clone, Debug)]
pub(crate) struct CustomerKey {
    pub key: DataKey,
    pub md5: String,
}

/// Reads and checks SSE-C headers (the customer algorithm, key and key MD5); `None` when
/// there are none.
pub(crate) fn customer_key(
    algorithm: Option<&str>,
    key: Option<&str>,
    key_md5: Option<&str>,
) -> Result<Option<CustomerKey>> {
    if algorithm.is_none() && key.is_none() && key_md5.is_none() {
        return Ok(None);
    }
    let invalid = |message: &str| S3Fault::InvalidArgument(message.to_owned());
    match algorithm {
        Some("AES256") => {}
        Some(_) => return Err(S3Fault::InvalidEncryptionAlgorithmError),
        None => {
            return Err(invalid(
                "Requests specifying Server Side Encryption with Customer provided keys must provide a valid encryption algorithm.",
            ));
        }
    }
    let key = key.ok_or_else(|| {
        invalid("Requests specifying Server Side Encryption with Customer provided keys must provide an appropriate secret key.")
    })?;
    let key_md5 = key_md5.ok_or_else(|| {
        invalid("Requests specifying Server Side Encryption with Customer provided keys must provide the client calculated MD5 of the secret key.")
    })?;
    let raw = STANDARD
        .decode(key)
        .ok()
        .and_then(|bytes| <[u8; 32]>::try_from(bytes).ok())
        .ok_or_else(|| invalid("The secret key was invalid for the specified algorithm."))?;
    let md5 = STANDARD.encode(crate::checksums::md5(&raw));
    if md5 != key_md5 {
        return Err(invalid(
            "The calculated MD5 hash of the key did not match the hash that was provided.",
        ));
    }
    Ok(Some(CustomerKey { key: DataKey(raw), md5 }))
}

/// The SSE-C key of an input's `sse_customer_*` fields (GetObject, HeadObject, PutObject,
/// UploadPart, CopyObject, UploadPartCopy, CreateMultipartUpload name them alike).
macro_rules! customer_key_of {
    ($input:expr) => {
        $crate::encryption::customer_key(
            $input.sse_customer_algorithm.as_deref(),
            $input.sse_customer_key.as_deref(),
            $input.sse_customer_key_md5.as_deref(),
        )
    };
}
pub(crate) use customer_key_of;

/// What a new object's request asks for about encryption.
#[derive(Clone, Debug, Default)]
pub(crate) struct Asked {
    pub server_side_encryption: Option<String>,
    pub kms_key_id: Option<String>,
    pub kms_context: Option<String>,
    pub bucket_key: Option<bool>,
    pub customer: Option<CustomerKey>,
}

/// The [`Asked`] of PutObject, CopyObject and CreateMultipartUpload inputs.
macro_rules! asked {
    ($input:expr) => {
        $crate::encryption::Asked {
            server_side_encryption: $input.server_side_encryption.as_ref().map(|s| s.as_str().to_owned()),
            kms_key_id: $input.ssekms_key_id.clone(),
            kms_context: $input.ssekms_encryption_context.clone(),
            bucket_key: $input.bucket_key_enabled,
            customer: $crate::encryption::customer_key_of!($input)?,
        }
    };
}
pub(crate) use asked;

/// How a new object will be encrypted: what its row keeps, and the key its bytes are sealed
/// with (`None`: stored in the clear).
#[derive(Clone, Debug, Default)]
pub(crate) struct Plan {
    pub stored: Option<Encryption>,
    pub key: Option<DataKey>,
}

impl CofferS3 {
    /// The encryption of a new object at `key` in `bucket`: what its request asks for, else
    /// the bucket's default. `secure`: the request came over TLS (to a trusted proxy), which
    /// SSE-C requires unless the server was told otherwise.
    pub(crate) async fn plan_encryption(
        &self,
        caller: Option<&Caller>,
        bucket: &Bucket,
        key: &str,
        asked: Asked,
        secure: bool,
    ) -> Result<Plan> {
        if let Some(customer) = asked.customer {
            if asked.server_side_encryption.is_some() || asked.kms_key_id.is_some() {
                return Err(S3Fault::InvalidArgument(
                    "Server Side Encryption with Customer provided key is incompatible with the encryption method specified"
                        .to_owned(),
                ));
            }
            self.require_tls_for(Some(&customer), secure)?;
            return Ok(Plan {
                stored: Some(Encryption::Customer {
                    key_digest: self.store.sealer().salted_digest(CUSTOMER_KEY_DIGEST, &customer.key.0),
                }),
                key: Some(customer.key),
            });
        }
        // The KMS-only headers mean nothing without aws:kms: refused, never ignored.
        let kms = matches!(
            asked.server_side_encryption.as_deref(),
            Some("aws:kms" | "aws:kms:dsse")
        );
        if !kms && (asked.kms_key_id.is_some() || asked.kms_context.is_some()) {
            return Err(S3Fault::InvalidArgument(
                "Server Side Encryption with AWS KMS managed key requires HTTP header x-amz-server-side-encryption : aws:kms"
                    .to_owned(),
            ));
        }
        let default = self.default_encryption(bucket);
        let (algorithm, kms_key_id, bucket_key) = match asked.server_side_encryption {
            Some(algorithm) => (Some(algorithm), asked.kms_key_id, asked.bucket_key),
            None => match default {
                Some(default) => (
                    Some(default.algorithm),
                    default.kms_master_key_id,
                    asked.bucket_key.or(Some(default.bucket_key_enabled)),
                ),
                None => (None, None, asked.bucket_key),
            },
        };
        match algorithm.as_deref() {
            None => Ok(Plan::default()),
            Some("AES256") => {
                let data_key = DataKey::random();
                Ok(Plan {
                    stored: Some(Encryption::S3 {
                        sealed_key: self.store.seal_data_key(&bucket.name, key, &data_key),
                    }),
                    key: Some(data_key),
                })
            }
            Some("aws:kms") => {
                // KMS is never used for an anonymous caller: refused before any key is read.
                let caller = caller.ok_or_else(|| anonymous_kms("kms:GenerateDataKey"))?;
                let bucket_key = bucket_key.unwrap_or(false);
                let context = encryption_context(asked.kms_context.as_deref(), &bucket.name, key, bucket_key)?;
                let kms_key = self.kms_key_for(caller, &bucket.region, kms_key_id.as_deref()).await?;
                may_use_kms_key(caller, &kms_key, "kms:GenerateDataKey", &context)?;
                usable(&kms_key)?;
                let kms = KmsUse {
                    key_arn: kms_key.arn(),
                    context: Some(context),
                    bucket_key,
                };
                let data_key = DataKey::random();
                Ok(Plan {
                    stored: Some(Encryption::Kms {
                        sealed_key: kms_key.seal_data_key(&kms_binding(&bucket.name, key, &kms), &data_key)?,
                        kms,
                    }),
                    key: Some(data_key),
                })
            }
            Some("aws:kms:dsse") => Err(S3Fault::NotImplemented(
                "Dual-layer server-side encryption with KMS keys (aws:kms:dsse) is not implemented".to_owned(),
            )),
            Some(_) => Err(S3Fault::InvalidArgument(
                "The encryption method specified is not supported".to_owned(),
            )),
        }
    }

    /// The KMS key a write names (an id, ARN or alias), else the account's AWS managed key
    /// for S3, made on first use as S3 does (whichever way it is named).
    async fn kms_key_for(&self, caller: &Caller, region: &str, reference: Option<&str>) -> Result<KmsKey> {
        // The caller's own account names a key by id or alias (S3 resolves them in the
        // requester's account); another's key only by ARN.
        let account = caller.principal().account_id.as_str();
        let managed_alias = format!("alias/{}", coffer_store::AWS_MANAGED_S3);
        let names_managed = |reference: &str| {
            reference == managed_alias
                || reference
                    .strip_prefix("arn:aws:kms:")
                    .is_some_and(|rest| rest.ends_with(&format!(":{account}:{managed_alias}")))
        };
        match reference {
            None | Some("") => Ok(self.store.aws_managed_s3_key(account, region).await?),
            Some(reference) if names_managed(reference) => Ok(self.store.aws_managed_s3_key(account, region).await?),
            Some(reference) => self
                .store
                .kms_key(account, reference)
                .await?
                .ok_or_else(|| S3Fault::KmsNotFound(format!("Invalid keyId '{reference}'"))),
        }
    }

    /// The key that sealed an SSE-KMS object's data key, usable by the caller for `kms:Decrypt`.
    async fn kms_key_of(&self, caller: Option<&Caller>, kms: &KmsUse) -> Result<KmsKey> {
        let caller = caller.ok_or_else(|| anonymous_kms("kms:Decrypt"))?;
        let account = kms.key_arn.split(':').nth(4).unwrap_or_default();
        let key = self
            .store
            .kms_key(account, &kms.key_arn)
            .await?
            .ok_or_else(|| S3Fault::KmsNotFound(format!("Invalid arn {}", kms.key_arn)))?;
        may_use_kms_key(caller, &key, "kms:Decrypt", kms.context.as_deref().unwrap_or("{}"))?;
        usable(&key)?;
        Ok(key)
    }

    /// The bucket's default encryption: as put, else the server's (SSE-S3, AWS's for every
    /// bucket since 2023, under the current defaults; none under the pre-2023 ones).
    pub(crate) fn default_encryption(&self, bucket: &Bucket) -> Option<BucketEncryption> {
        bucket
            .encryption
            .clone()
            .or_else(|| self.encrypt_by_default.then(BucketEncryption::sse_s3))
    }

    /// S3 takes an SSE-C key only over TLS (here: as a trusted proxy says), unless the server
    /// was told to take them over plain HTTP.
    pub(crate) fn require_tls_for(&self, customer: Option<&CustomerKey>, secure: bool) -> Result<()> {
        if customer.is_some() && !secure && !self.sse_c_over_http {
            return Err(S3Fault::InvalidRequest(
                "Requests specifying Server Side Encryption with Customer provided keys must be made over a secure connection."
                    .to_owned(),
            ));
        }
        Ok(())
    }

    /// The key that opens an object (or an upload's parts) at `key` in `bucket` stored with
    /// `stored`, given the customer key the request sent (over TLS when `secure`): none for
    /// bytes in the clear, the sealed key opened for SSE-S3, the customer's key checked against
    /// its digest for SSE-C.
    pub(crate) async fn opening_key(
        &self,
        caller: Option<&Caller>,
        opening: Opening<'_>,
        stored: Option<&Encryption>,
        customer: Option<&CustomerKey>,
        secure: bool,
    ) -> Result<Option<DataKey>> {
        self.require_tls_for(customer, secure)?;
        let not_applicable =
            || S3Fault::InvalidRequest("The encryption parameters are not applicable to this object.".to_owned());
        match (stored, customer) {
            (None, None) => Ok(None),
            (None | Some(Encryption::S3 { .. }) | Some(Encryption::Kms { .. }), Some(_)) => Err(not_applicable()),
            // Reading an SSE-KMS object's metadata uses no key (S3 asks for kms:Decrypt only
            // to read its bytes).
            (Some(Encryption::Kms { .. }), None) if opening.metadata_only => Ok(None),
            (Some(Encryption::Kms { sealed_key, kms }), None) => {
                let key = self.kms_key_of(caller, kms).await?;
                Ok(Some(
                    key.open_data_key(&kms_binding(opening.bucket, opening.key, kms), sealed_key)
                        .map_err(S3Fault::from)?,
                ))
            }
            (Some(Encryption::S3 { sealed_key }), None) => Ok(Some(
                self.store
                    .open_data_key(opening.bucket, opening.key, sealed_key)
                    .map_err(S3Fault::from)?,
            )),
            (Some(Encryption::Customer { .. }), None) => Err(S3Fault::InvalidRequest(match opening.part {
                false => "The object was stored using a form of Server Side Encryption. The correct parameters must be provided to retrieve the object.",
                true => "The multipart upload initiate requested encryption. Subsequent part requests must include the appropriate encryption parameters.",
            }
            .to_owned())),
            (Some(Encryption::Customer { key_digest }), Some(customer)) => {
                let matches = self
                    .store
                    .sealer()
                    .matches_salted_digest(CUSTOMER_KEY_DIGEST, key_digest, &customer.key.0);
                match (matches, opening.part) {
                    (true, _) => Ok(Some(customer.key.clone())),
                    (false, false) => Err(S3Fault::AccessDenied("Access Denied".to_owned())),
                    (false, true) => Err(S3Fault::InvalidRequest(
                        "The provided encryption parameters did not match the ones used originally.".to_owned(),
                    )),
                }
            }
        }
    }
}

/// What [`CofferS3::opening_key`] opens: an object (a read or a copy's source), or an upload
/// (a part is sent), whose errors S3 words differently.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Opening<'a> {
    pub bucket: &'a str,
    pub key: &'a str,
    pub part: bool,
    /// Only the request's SSE-C key is checked (HEAD, GetObjectAttributes): no bytes are read.
    pub metadata_only: bool,
}

impl<'a> Opening<'a> {
    pub(crate) fn object(bucket: &'a str, key: &'a str) -> Opening<'a> {
        Opening {
            bucket,
            key,
            part: false,
            metadata_only: false,
        }
    }

    pub(crate) fn metadata(bucket: &'a str, key: &'a str) -> Opening<'a> {
        Opening {
            metadata_only: true,
            ..Opening::object(bucket, key)
        }
    }

    pub(crate) fn part(bucket: &'a str, key: &'a str) -> Opening<'a> {
        Opening {
            bucket,
            key,
            part: true,
            metadata_only: false,
        }
    }
}

/// What an SSE-KMS object's sealed data key is bound to: the object and its encryption
/// context, so it opens for neither another object nor another context. Each field is
/// length-prefixed: a key holding `|` cannot pass for another split.
fn kms_binding(bucket: &str, key: &str, kms: &KmsUse) -> String {
    let context = kms.context.as_deref().unwrap_or("");
    format!(
        "sse-kms|{}:{bucket}|{}:{key}|{}:{context}",
        bucket.len(),
        key.len(),
        context.len()
    )
}

fn anonymous_kms(action: &str) -> S3Fault {
    S3Fault::AccessDenied(format!(
        "An anonymous request cannot perform {action}: SSE-KMS needs a signed request"
    ))
}

/// A key S3 may use: enabled (a disabled key or one pending deletion refuses, as KMS does).
fn usable(key: &KmsKey) -> Result<()> {
    match key.state {
        KmsKeyState::Enabled => Ok(()),
        KmsKeyState::Disabled => Err(S3Fault::KmsDisabled(format!("{} is disabled.", key.arn()))),
        KmsKeyState::PendingDeletion => Err(S3Fault::KmsInvalidState(format!("{} is pending deletion.", key.arn()))),
    }
}

/// Whether the caller may use `key` for `action` (`kms:GenerateDataKey`, `kms:Decrypt`) on
/// S3's behalf, with the encryption context `context` (JSON): its own policies decide for a
/// key of its account, as under KMS's default key policy, with KMS's condition keys
/// (`kms:ViaService`, `kms:CallerAccount`, `kms:EncryptionContext:<key>`,
/// `kms:EncryptionContextKeys`); another account may not. The AWS managed key `aws/s3`'s
/// policy lets every principal of its account use it through S3, unless a policy denies it.
fn may_use_kms_key(caller: &Caller, key: &KmsKey, action: &str, context: &str) -> Result<()> {
    let arn = key.arn();
    let account = caller.principal().account_id.clone();
    let context: std::collections::BTreeMap<String, String> = serde_json::from_str(context).unwrap_or_default();
    let mut values: Vec<(String, Vec<String>)> = context
        .iter()
        .map(|(k, v)| (format!("kms:EncryptionContext:{k}"), vec![v.clone()]))
        .collect();
    values.push((
        "kms:EncryptionContextKeys".to_owned(),
        context.keys().cloned().collect(),
    ));
    let decided = caller.may(&coffer_auth::Request {
        action,
        resource: &arn,
        resource_account: &key.account_id,
        keys: vec![
            ("kms:ViaService", format!("s3.{}.amazonaws.com", key.region)),
            ("kms:CallerAccount", account.clone()),
        ],
        values,
        ..coffer_auth::Request::default()
    });
    match decided {
        Ok(()) => Ok(()),
        Err(denied) if key.managed.is_some() && key.account_id == account && !denied.explicit => Ok(()),
        Err(_) => Err(S3Fault::AccessDenied(format!(
            "User: {} is not authorized to perform: {action} on resource: {arn}",
            caller.principal().arn()
        ))),
    }
}

/// The encryption context an SSE-KMS write keeps: the request's (base64 of a JSON object of
/// strings), with `aws:s3:arn` set as S3 sets it: the object's ARN, or the bucket's with a
/// bucket key. A request naming another ARN there is refused.
fn encryption_context(header: Option<&str>, bucket: &str, key: &str, bucket_key: bool) -> Result<String> {
    let invalid = || {
        S3Fault::InvalidArgument("The header 'x-amz-server-side-encryption-context' shall be Base64-encoded UTF-8 string holding JSON which represents a string-string map".to_owned())
    };
    let mut context: std::collections::BTreeMap<String, String> = match header {
        None => Default::default(),
        Some(encoded) => {
            let json = STANDARD.decode(encoded).map_err(|_| invalid())?;
            serde_json::from_slice(&json).map_err(|_| invalid())?
        }
    };
    let arn = match bucket_key {
        true => format!("arn:aws:s3:::{bucket}"),
        false => format!("arn:aws:s3:::{bucket}/{key}"),
    };
    if context.get("aws:s3:arn").is_some_and(|given| *given != arn) {
        return Err(S3Fault::InvalidArgument(format!(
            "The encryption context's aws:s3:arn must be {arn}"
        )));
    }
    context.insert("aws:s3:arn".to_owned(), arn);
    serde_json::to_string(&context).map_err(S3Fault::internal)
}

/// The encryption headers an answer about an object stored with `stored` carries.
#[derive(Clone, Debug, Default)]
pub(crate) struct Reported {
    pub server_side_encryption: Option<ServerSideEncryption>,
    pub sse_customer_algorithm: Option<String>,
    pub sse_customer_key_md5: Option<String>,
    /// SSE-KMS: the key's ARN, whether a bucket key was asked for, and the context (base64).
    pub ssekms_key_id: Option<String>,
    pub bucket_key_enabled: Option<bool>,
    pub ssekms_encryption_context: Option<String>,
}

impl Reported {
    /// For SSE-C, the key's MD5 echoed is the request's (`customer`): Coffer keeps none.
    pub(crate) fn of(stored: Option<&Encryption>, customer: Option<&CustomerKey>) -> Reported {
        match stored {
            None => Reported::default(),
            Some(Encryption::S3 { .. }) => Reported {
                server_side_encryption: Some(ServerSideEncryption::from_static(ServerSideEncryption::AES256)),
                ..Reported::default()
            },
            Some(Encryption::Customer { .. }) => Reported {
                sse_customer_algorithm: Some("AES256".to_owned()),
                sse_customer_key_md5: customer.map(|c| c.md5.clone()),
                ..Reported::default()
            },
            Some(Encryption::Kms { kms, .. }) => Reported {
                server_side_encryption: Some(ServerSideEncryption::from_static(ServerSideEncryption::AWS_KMS)),
                ssekms_key_id: Some(kms.key_arn.clone()),
                bucket_key_enabled: kms.bucket_key.then_some(true),
                ssekms_encryption_context: kms.context.as_ref().map(|c| STANDARD.encode(c)),
                ..Reported::default()
            },
        }
    }
}

/// Refuses `x-amz-server-side-encryption` on a request that cannot take it (a read, a part):
/// S3 answers 400 rather than ignore it.
pub(crate) fn refuse_sse_header(headers: &http::HeaderMap) -> Result<()> {
    if headers.contains_key("x-amz-server-side-encryption") {
        return Err(S3Fault::InvalidArgument(
            "x-amz-server-side-encryption header is not supported for this operation.".to_owned(),
        ));
    }
    Ok(())
}

/// An object's (or a part's) ETag: the MD5 of its bytes, except under SSE-C and SSE-KMS, where
/// S3's ETag is not an MD5 of the data (one would let whoever sees it test guesses at encrypted
/// content). There it is keyed by the data key (`key`: the customer's, or the object's own):
/// the same bytes sent again under the same key get the same ETag, as a client re-sending a
/// part expects, and it says nothing to anyone without the key.
pub(crate) fn etag_for(stored: Option<&Encryption>, key: Option<&DataKey>, md5_etag: String) -> String {
    match (stored, key) {
        // SSE-KMS's ETag is not an MD5 either (S3's), so it tells no one without the key
        // anything about the bytes.
        (Some(Encryption::Customer { .. } | Encryption::Kms { .. }), Some(key)) => {
            use hmac::Mac;
            let mut mac =
                <hmac::Hmac<sha2::Sha256> as Mac>::new_from_slice(&key.0).expect("HMAC takes a key of any length");
            mac.update(b"coffer sse-c etag v1\0");
            mac.update(md5_etag.as_bytes());
            hex::encode(&mac.finalize().into_bytes()[..16])
        }
        _ => md5_etag,
    }
}

pub(crate) async fn put_bucket_encryption(
    s3: &CofferS3,
    req: S3Request<PutBucketEncryptionInput>,
) -> Result<S3Response<PutBucketEncryptionOutput>> {
    let input = req.input;
    let bucket = s3.bucket(&input.bucket).await?;
    let [rule] = &input.server_side_encryption_configuration.rules[..] else {
        return Err(S3Fault::MalformedXML);
    };
    let default = rule
        .apply_server_side_encryption_by_default
        .as_ref()
        .ok_or(S3Fault::MalformedXML)?;
    let algorithm = default.sse_algorithm.as_str();
    match algorithm {
        "AES256" if default.kms_master_key_id.is_some() => {
            return Err(S3Fault::InvalidArgument(
                "a KMSMasterKeyID is not applicable if the default sse algorithm is not aws:kms or aws:kms:dsse"
                    .to_owned(),
            ));
        }
        "AES256" | "aws:kms" => {}
        "aws:kms:dsse" => {
            return Err(S3Fault::NotImplemented(
                "Dual-layer server-side encryption with KMS keys (aws:kms:dsse) is not implemented".to_owned(),
            ));
        }
        _ => return Err(S3Fault::MalformedXML),
    }
    let encryption = BucketEncryption {
        algorithm: algorithm.to_owned(),
        bucket_key_enabled: rule.bucket_key_enabled.unwrap_or(false),
        kms_master_key_id: default.kms_master_key_id.clone().filter(|id| !id.is_empty()),
    };
    s3.store
        .set_bucket_encryption(&bucket.name, Some(&encryption))
        .await
        .map_err(S3Fault::from)?;
    Ok(S3Response::new(PutBucketEncryptionOutput {}))
}

pub(crate) async fn get_bucket_encryption(
    s3: &CofferS3,
    req: S3Request<GetBucketEncryptionInput>,
) -> Result<S3Response<GetBucketEncryptionOutput>> {
    let bucket = s3.bucket(&req.input.bucket).await?;
    let encryption = s3
        .default_encryption(&bucket)
        .ok_or(S3Fault::ServerSideEncryptionConfigurationNotFoundError)?;
    Ok(S3Response::new(GetBucketEncryptionOutput {
        server_side_encryption_configuration: Some(ServerSideEncryptionConfiguration {
            rules: vec![ServerSideEncryptionRule {
                apply_server_side_encryption_by_default: Some(ServerSideEncryptionByDefault {
                    sse_algorithm: ServerSideEncryption::from(encryption.algorithm),
                    kms_master_key_id: encryption.kms_master_key_id,
                }),
                bucket_key_enabled: Some(encryption.bucket_key_enabled),
            }],
        }),
    }))
}

/// The bucket goes back to the server's default: SSE-S3 under the current defaults (S3 no
/// longer lets a bucket go without), none under the pre-2023 ones.
pub(crate) async fn delete_bucket_encryption(
    s3: &CofferS3,
    req: S3Request<DeleteBucketEncryptionInput>,
) -> Result<S3Response<DeleteBucketEncryptionOutput>> {
    let bucket = s3.bucket(&req.input.bucket).await?;
    s3.store
        .set_bucket_encryption(&bucket.name, None)
        .await
        .map_err(S3Fault::from)?;
    let mut response = S3Response::new(DeleteBucketEncryptionOutput {});
    response.status = Some(http::StatusCode::NO_CONTENT);
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "pO3upElrwuEXSoFwCfnZPdSsmt/xWeFa0N9KgDijwVs=";
    const KEY_MD5: &str = "DWygnHRtgiJ77HCm+1rvHw==";

    #[test]
    fn customer_keys_are_checked_as_s3_checks_them() {
        assert!(customer_key(None, None, None).unwrap().is_none());
        let key = customer_key(Some("AES256"), Some(KEY), Some(KEY_MD5)).unwrap().unwrap();
        assert_eq!(key.md5, KEY_MD5);
        let code = |r: Result<Option<CustomerKey>>| r.unwrap_err().code_status_message().0;
        assert_eq!(
            code(customer_key(Some("AES128"), Some(KEY), Some(KEY_MD5))),
            "InvalidEncryptionAlgorithmError"
        );
        assert_eq!(
            code(customer_key(Some("AES256"), None, Some(KEY_MD5))),
            "InvalidArgument"
        );
        assert_eq!(code(customer_key(Some("AES256"), Some(KEY), None)), "InvalidArgument");
        assert_eq!(
            code(customer_key(
                Some("AES256"),
                Some(KEY),
                Some("AAAAAAAAAAAAAAAAAAAAAA==")
            )),
            "InvalidArgument"
        );
        assert_eq!(
            code(customer_key(Some("AES256"), Some("c2hvcnQ="), Some(KEY_MD5))),
            "InvalidArgument"
        );
        assert_eq!(code(customer_key(None, Some(KEY), Some(KEY_MD5))), "InvalidArgument");
    }
}
