//! Server-side encryption as S3 defines it: SSE-S3 (`AES256`: each object its own data key,
//! sealed under the master key) and SSE-C (the customer's key, sent with every request that
//! touches the bytes and never stored: only a salted keyed digest to check it), a bucket's
//! default encryption (Put/Get/DeleteBucketEncryption), and the headers answers carry.
//! SSE-KMS is not served yet: asking for it is `NotImplemented`, never silently dropped.
//!
//! The bytes themselves are sealed in segments (`coffer_store::Sealing`), so a ranged read
//! opens only the segments it needs.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use s3s::dto::*;
use s3s::{S3Request, S3Response};

use crate::CofferS3;
use crate::error::{Result, S3Fault};
use coffer_store::{Bucket, BucketEncryption, DataKey, Encryption};

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
    pub customer: Option<CustomerKey>,
}

/// The [`Asked`] of PutObject, CopyObject and CreateMultipartUpload inputs.
macro_rules! asked {
    ($input:expr) => {
        $crate::encryption::Asked {
            server_side_encryption: $input.server_side_encryption.as_ref().map(|s| s.as_str().to_owned()),
            kms_key_id: $input.ssekms_key_id.clone(),
            kms_context: $input.ssekms_encryption_context.clone(),
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
    pub(crate) fn plan_encryption(&self, bucket: &Bucket, key: &str, asked: Asked, secure: bool) -> Result<Plan> {
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
        let algorithm = match asked.server_side_encryption {
            Some(algorithm) => Some(algorithm),
            None => self.default_encryption(bucket).map(|e| e.algorithm),
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
            Some("aws:kms") | Some("aws:kms:dsse") => Err(S3Fault::NotImplemented(
                "Server-side encryption with KMS keys is not implemented".to_owned(),
            )),
            Some(_) => Err(S3Fault::InvalidArgument(
                "The encryption method specified is not supported".to_owned(),
            )),
        }
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
    pub(crate) fn opening_key(
        &self,
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
            (None | Some(Encryption::S3 { .. }), Some(_)) => Err(not_applicable()),
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
}

impl<'a> Opening<'a> {
    pub(crate) fn object(bucket: &'a str, key: &'a str) -> Opening<'a> {
        Opening {
            bucket,
            key,
            part: false,
        }
    }

    pub(crate) fn part(bucket: &'a str, key: &'a str) -> Opening<'a> {
        Opening {
            bucket,
            key,
            part: true,
        }
    }
}

/// The encryption headers an answer about an object stored with `stored` carries.
#[derive(Clone, Debug, Default)]
pub(crate) struct Reported {
    pub server_side_encryption: Option<ServerSideEncryption>,
    pub sse_customer_algorithm: Option<String>,
    pub sse_customer_key_md5: Option<String>,
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

/// An object's (or a part's) ETag: the MD5 of its bytes, except under SSE-C, where S3's ETag is
/// not an MD5 of the data (one would let whoever sees it test guesses at encrypted content).
/// There it is keyed by the customer's key (`key`): the same bytes sent again under the same
/// key get the same ETag, as a client re-sending a part expects, and it says nothing to anyone
/// without the key.
pub(crate) fn etag_for(stored: Option<&Encryption>, key: Option<&DataKey>, md5_etag: String) -> String {
    match (stored, key) {
        (Some(Encryption::Customer { .. }), Some(key)) => {
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
        "AES256" => {}
        "aws:kms" | "aws:kms:dsse" => {
            return Err(S3Fault::NotImplemented(
                "Server-side encryption with KMS keys is not implemented".to_owned(),
            ));
        }
        _ => return Err(S3Fault::MalformedXML),
    }
    let encryption = BucketEncryption {
        algorithm: algorithm.to_owned(),
        bucket_key_enabled: rule.bucket_key_enabled.unwrap_or(false),
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
                    kms_master_key_id: None,
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
