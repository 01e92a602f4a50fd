//! PutObject, GetObject, HeadObject, DeleteObject, DeleteObjects, CopyObject.

use s3s::dto::*;
use s3s::{S3Error, S3Request, S3Response, S3Result, s3_error};

use crate::body::{self, ChecksumClaim, checksum_headers};
use crate::checksums::Algorithm;
use crate::headers::{self, ChecksumFields, ReadConditions, header_input};
use crate::reading::{self, Segment};
use crate::{Authz, CofferS3, internal, store_error};
use coffer_store::{NewObject, ObjectData, ObjectMeta, WriteCondition};

/// The largest object a single PUT or copy may create: 5 GiB, as in S3.
pub const MAX_SINGLE_UPLOAD: u64 = 5 * 1024 * 1024 * 1024;

pub(crate) fn no_such_key() -> S3Error {
    s3_error!(NoSuchKey, "The specified key does not exist.")
}

/// Buckets are unversioned so far: the only version id is `null`.
pub(crate) fn check_version(version_id: Option<&str>) -> S3Result<()> {
    match version_id {
        Some(id) if id != coffer_store::NULL_VERSION => Err(s3_error!(InvalidArgument, "Invalid version id specified")),
        _ => Ok(()),
    }
}

/// Storage classes are accepted, and every object is kept as STANDARD.
pub(crate) fn check_storage_class(class: Option<&StorageClass>) -> S3Result<()> {
    const KNOWN: [&str; 11] = [
        "STANDARD",
        "REDUCED_REDUNDANCY",
        "STANDARD_IA",
        "ONEZONE_IA",
        "INTELLIGENT_TIERING",
        "GLACIER",
        "DEEP_ARCHIVE",
        "OUTPOSTS",
        "GLACIER_IR",
        "SNOW",
        "EXPRESS_ONEZONE",
    ];
    match class {
        Some(class) if !KNOWN.contains(&class.as_str()) => Err(s3_error!(
            InvalidStorageClass,
            "The storage class you specified is not valid"
        )),
        _ => Ok(()),
    }
}

/// What a GET or HEAD answers for a byte range or part of an object.
struct Selection {
    range: std::ops::Range<u64>,
    content_range: Option<String>,
    /// Checksums describe the whole object (or one part of a composite one).
    checksum: ChecksumFields,
}

/// The `response-*` query overrides of a GET or HEAD.
struct Overrides {
    cache_control: Option<String>,
    content_disposition: Option<String>,
    content_encoding: Option<String>,
    content_language: Option<String>,
    content_type: Option<String>,
    expires: Option<Timestamp>,
}

/// GetObjectInput and HeadObjectInput name their overrides alike.
macro_rules! overrides {
    ($input:expr) => {
        Overrides {
            cache_control: $input.response_cache_control,
            content_disposition: $input.response_content_disposition,
            content_encoding: $input.response_content_encoding,
            content_language: $input.response_content_language,
            content_type: $input.response_content_type,
            expires: $input.response_expires,
        }
    };
}

/// What GetObject and HeadObject both answer about an object (GetObject adds the body).
struct Described {
    content_length: i64,
    content_range: Option<String>,
    e_tag: ETag,
    last_modified: Timestamp,
    cache_control: Option<String>,
    content_disposition: Option<String>,
    content_encoding: Option<String>,
    content_language: Option<String>,
    content_type: Option<ContentType>,
    expires: Option<Timestamp>,
    metadata: Option<Metadata>,
    checksum: ChecksumFields,
    parts_count: Option<i32>,
}

impl Described {
    fn new(object: &ObjectMeta, selection: &Selection, overrides: Overrides, by_part: bool) -> Described {
        let h = &object.headers;
        Described {
            content_length: (selection.range.end - selection.range.start) as i64,
            content_range: selection.content_range.clone(),
            e_tag: headers::etag(&object.etag),
            last_modified: Timestamp::from(object.last_modified),
            cache_control: overrides.cache_control.or_else(|| h.cache_control.clone()),
            content_disposition: overrides.content_disposition.or_else(|| h.content_disposition.clone()),
            content_encoding: overrides.content_encoding.or_else(|| h.content_encoding.clone()),
            content_language: overrides.content_language.or_else(|| h.content_language.clone()),
            content_type: overrides
                .content_type
                .or_else(|| h.content_type.clone())
                .and_then(|t| t.parse().ok()),
            expires: overrides
                .expires
                .or_else(|| h.expires.as_deref().and_then(headers::parse_http_date)),
            metadata: headers::metadata(h),
            checksum: selection.checksum.clone(),
            parts_count: match &object.data {
                ObjectData::Parts(parts) if by_part => Some(parts.len() as i32),
                _ => None,
            },
        }
    }
}

/// GetObjectOutput and HeadObjectOutput have the same header fields.
macro_rules! object_output {
    ($output:ident, $d:expr $(, $field:ident: $value:expr)* $(,)?) => {{
        let d = $d;
        $output {
            accept_ranges: Some("bytes".to_owned()),
            content_length: Some(d.content_length),
            content_range: d.content_range,
            e_tag: Some(d.e_tag),
            last_modified: Some(d.last_modified),
            cache_control: d.cache_control,
            content_disposition: d.content_disposition,
            content_encoding: d.content_encoding,
            content_language: d.content_language,
            content_type: d.content_type,
            expires: d.expires,
            metadata: d.metadata,
            checksum_crc32: d.checksum.crc32,
            checksum_crc32c: d.checksum.crc32c,
            checksum_crc64nvme: d.checksum.crc64nvme,
            checksum_sha1: d.checksum.sha1,
            checksum_sha256: d.checksum.sha256,
            checksum_type: d.checksum.checksum_type,
            parts_count: d.parts_count,
            $($field: $value,)*
            ..Default::default()
        }
    }};
}

impl CofferS3 {
    pub(crate) async fn put_object_op(&self, req: S3Request<PutObjectInput>) -> S3Result<S3Response<PutObjectOutput>> {
        let S3Request {
            input,
            headers,
            trailing_headers,
            ..
        } = req;
        self.bucket(&input.bucket).await?;
        check_storage_class(input.storage_class.as_ref())?;
        let condition = headers::write_condition(input.if_match, input.if_none_match)?;
        let claim = ChecksumClaim::from_request(
            &headers,
            checksum_headers!(input),
            input.checksum_algorithm.as_ref().map(|a| a.as_str()),
            input.content_md5.as_ref(),
        )?;
        let algorithms = claim.algorithms(None);
        let received = body::receive(
            &self.store,
            self.idle_timeout,
            input.body,
            input.content_length,
            MAX_SINGLE_UPLOAD,
            &algorithms,
        )
        .await?;
        claim.verify(&received.digests, trailing_headers.as_ref())?;
        let algorithm = algorithms[0];
        let checksum = headers::full_object(algorithm, received.digests.base64(algorithm).unwrap_or_default());
        let object = NewObject {
            key: input.key,
            size: received.size,
            etag: received.digests.etag(),
            headers: header_input!(input).into_headers()?,
            checksum: Some(checksum),
        };
        let stored = self.commit_received(&input.bucket, object, received, condition).await?;
        let fields = ChecksumFields::of(stored.checksum.as_ref());
        Ok(S3Response::new(PutObjectOutput {
            e_tag: Some(headers::etag(&stored.etag)),
            checksum_crc32: fields.crc32,
            checksum_crc32c: fields.crc32c,
            checksum_crc64nvme: fields.crc64nvme,
            checksum_sha1: fields.sha1,
            checksum_sha256: fields.sha256,
            checksum_type: fields.checksum_type,
            ..Default::default()
        }))
    }

    /// The current object, for a read by `reader`. A missing one is `NoSuchKey` only to a
    /// caller who may list the bucket (`s3:ListBucket`); to others it is `AccessDenied`, so a
    /// read never tells which keys exist (as S3 documents for GetObject and HeadObject).
    pub(crate) async fn object(&self, reader: Option<&Authz>, bucket: &str, key: &str) -> S3Result<ObjectMeta> {
        let found = self.bucket(bucket).await?;
        let object = self.store.object(bucket, key).await.map_err(internal)?;
        object.ok_or_else(|| match reader {
            Some(reader) if reader.bucket("s3:ListBucket", &found).is_ok() => no_such_key(),
            _ => s3_error!(AccessDenied, "Access Denied"),
        })
    }

    /// The byte range a GET or HEAD selects (by `Range` or `partNumber`).
    async fn select(
        &self,
        object: &ObjectMeta,
        range: Option<&Range>,
        part_number: Option<i32>,
        checksum_mode: Option<&ChecksumMode>,
    ) -> S3Result<Selection> {
        let checksums_wanted = checksum_mode.is_some_and(|m| m.as_str() == ChecksumMode::ENABLED);
        let whole = ChecksumFields::of(object.checksum.as_ref().filter(|_| checksums_wanted));
        match (range, part_number) {
            (Some(_), Some(_)) => Err(s3_error!(
                InvalidRequest,
                "Cannot specify both Range header and partNumber query parameter"
            )),
            (Some(range), None) => {
                let selected = range
                    .check(object.size)
                    .map_err(|_| s3_error!(InvalidRange, "The requested range is not satisfiable"))?;
                let content_range = format!("bytes {}-{}/{}", selected.start, selected.end - 1, object.size);
                Ok(Selection {
                    range: selected,
                    content_range: Some(content_range),
                    checksum: ChecksumFields::default(),
                })
            }
            (None, Some(number)) => {
                let invalid = crate::invalid_part_number;
                let number = u32::try_from(number).ok().filter(|n| *n >= 1).ok_or_else(invalid)?;
                match &object.data {
                    ObjectData::Blob(_) if number == 1 => Ok(Selection {
                        range: 0..object.size,
                        content_range: None,
                        checksum: whole,
                    }),
                    ObjectData::Blob(_) => Err(invalid()),
                    ObjectData::Parts(parts) => {
                        let index = parts.iter().position(|p| p.part_number == number).ok_or_else(invalid)?;
                        let start: u64 = parts[..index].iter().map(|p| p.size).sum();
                        let end = start + parts[index].size;
                        let content_range =
                            (end > start).then(|| format!("bytes {}-{}/{}", start, end - 1, object.size));
                        // A part's checksum describes exactly the bytes returned, so S3
                        // sends it with every part GET.
                        let checksum = match (&object.checksum, &parts[index].checksum_value) {
                            (Some(c), Some(value)) => ChecksumFields::of(Some(&coffer_store::ObjectChecksum {
                                value: value.clone(),
                                ..c.clone()
                            })),
                            _ => ChecksumFields::default(),
                        };
                        Ok(Selection {
                            range: start..end,
                            content_range,
                            checksum,
                        })
                    }
                }
            }
            (None, None) => Ok(Selection {
                range: 0..object.size,
                content_range: None,
                checksum: whole,
            }),
        }
    }

    pub(crate) async fn get_object_op(&self, req: S3Request<GetObjectInput>) -> S3Result<S3Response<GetObjectOutput>> {
        let reader = crate::authz(&req).ok();
        let input = req.input;
        check_version(input.version_id.as_deref())?;
        let conditions = ReadConditions {
            if_match: input.if_match,
            if_none_match: input.if_none_match,
            if_modified_since: input.if_modified_since,
            if_unmodified_since: input.if_unmodified_since,
        };
        // A blob can disappear between reading the row and opening the file when a write
        // replaces the object; the new row then names the new blob, so look again.
        let mut attempts = 0;
        let (object, selection, body) = loop {
            attempts += 1;
            let object = self.object(reader.as_ref(), &input.bucket, &input.key).await?;
            conditions.check(&object)?;
            let selection = self
                .select(
                    &object,
                    input.range.as_ref(),
                    input.part_number,
                    input.checksum_mode.as_ref(),
                )
                .await?;
            let segments: Vec<Segment> = reading::segments(&object, selection.range.clone());
            let Some(lease) = reading::lease(&self.store, &segments).await else {
                // Replaced between reading its row and leasing its blobs: read it again.
                if attempts < 5 {
                    continue;
                }
                return Err(internal("an object kept changing while it was read"));
            };
            match reading::stream(&self.store, segments, lease).await {
                Ok(body) => break (object, selection, body),
                Err(err) if err.kind() == std::io::ErrorKind::NotFound && attempts < 5 => continue,
                Err(err) => return Err(internal(err)),
            }
        };
        let described = Described::new(&object, &selection, overrides!(input), input.part_number.is_some());
        let output = object_output!(GetObjectOutput, described, body: Some(body));
        let mut response = S3Response::new(output);
        if selection.content_range.is_some() {
            response.status = Some(http::StatusCode::PARTIAL_CONTENT);
        }
        Ok(response)
    }

    pub(crate) async fn head_object_op(
        &self,
        req: S3Request<HeadObjectInput>,
    ) -> S3Result<S3Response<HeadObjectOutput>> {
        let reader = crate::authz(&req).ok();
        let input = req.input;
        check_version(input.version_id.as_deref())?;
        let object = self.object(reader.as_ref(), &input.bucket, &input.key).await?;
        ReadConditions {
            if_match: input.if_match,
            if_none_match: input.if_none_match,
            if_modified_since: input.if_modified_since,
            if_unmodified_since: input.if_unmodified_since,
        }
        .check(&object)?;
        let selection = self
            .select(
                &object,
                input.range.as_ref(),
                input.part_number,
                input.checksum_mode.as_ref(),
            )
            .await?;
        let described = Described::new(&object, &selection, overrides!(input), input.part_number.is_some());
        let output = object_output!(HeadObjectOutput, described);
        let mut response = S3Response::new(output);
        if selection.content_range.is_some() {
            response.status = Some(http::StatusCode::PARTIAL_CONTENT);
        }
        Ok(response)
    }

    pub(crate) async fn delete_object_op(
        &self,
        req: S3Request<DeleteObjectInput>,
    ) -> S3Result<S3Response<DeleteObjectOutput>> {
        let input = req.input;
        check_version(input.version_id.as_deref())?;
        self.bucket(&input.bucket).await?;
        // Conditional delete: the object must exist with this ETag, checked in the commit.
        let condition = match input
            .if_match
            .as_ref()
            .map(|c| c.as_etag().map(|e| e.value().to_owned()))
        {
            Some(Some(etag)) => WriteCondition::IfMatch(etag),
            Some(None) => WriteCondition::IfMatch("*".to_owned()),
            None => WriteCondition::Always,
        };
        self.store
            .delete_object(&input.bucket, &input.key, &condition)
            .await
            .map_err(store_error)?;
        let mut response = S3Response::new(DeleteObjectOutput::default());
        response.status = Some(http::StatusCode::NO_CONTENT);
        Ok(response)
    }

    pub(crate) async fn delete_objects_op(
        &self,
        req: S3Request<DeleteObjectsInput>,
    ) -> S3Result<S3Response<DeleteObjectsOutput>> {
        let authz = crate::authz(&req)?;
        let input = req.input;
        self.bucket(&input.bucket).await?;
        let objects = input.delete.objects;
        if objects.is_empty() || objects.len() > 1000 {
            return Err(s3_error!(
                MalformedXML,
                "The XML you provided was not well-formed or did not validate against our published schema"
            ));
        }
        let quiet = input.delete.quiet.unwrap_or(false);
        let mut deleted = Vec::new();
        let mut errors = Vec::new();
        // Every key's delete is queued at once, so they share a few group commits instead of
        // waiting for a thousand in turn; the answers keep the request's order.
        let target = self.bucket(&input.bucket).await?;
        let (authz, target) = (&authz, &target);
        let bucket = input.bucket.as_str();
        let outcomes = futures::future::join_all(objects.into_iter().map(|object| async move {
            let key = object.key;
            if key.is_empty() || key.len() > 1024 {
                return (key, Err(("KeyTooLongError", "Your key is too long")));
            }
            if object
                .version_id
                .as_deref()
                .is_some_and(|v| v != coffer_store::NULL_VERSION)
            {
                return (key, Err(("NoSuchVersion", "The specified version does not exist.")));
            }
            if authz.object("s3:DeleteObject", target, &key).is_err() {
                return (key, Err(("AccessDenied", "Access Denied")));
            }
            match self.store.delete_object(bucket, &key, &WriteCondition::Always).await {
                Ok(_) => (key, Ok(())),
                Err(err) => {
                    tracing::error!(%err, "delete failed");
                    (
                        key,
                        Err(("InternalError", "We encountered an internal error. Please try again.")),
                    )
                }
            }
        }))
        .await;
        for (key, outcome) in outcomes {
            match outcome {
                Ok(()) if quiet => {}
                Ok(()) => deleted.push(DeletedObject {
                    key: Some(key),
                    ..Default::default()
                }),
                Err((code, message)) => errors.push(Error {
                    code: Some(code.to_owned()),
                    key: Some(key),
                    message: Some(message.to_owned()),
                    version_id: None,
                }),
            }
        }
        Ok(S3Response::new(DeleteObjectsOutput {
            deleted: Some(deleted),
            errors: Some(errors),
            ..Default::default()
        }))
    }

    pub(crate) async fn copy_object_op(
        &self,
        req: S3Request<CopyObjectInput>,
    ) -> S3Result<S3Response<CopyObjectOutput>> {
        let authz = crate::authz(&req)?;
        let input = req.input;
        let CopySource::Bucket {
            bucket: source_bucket,
            key: source_key,
            version_id,
        } = &input.copy_source
        else {
            return Err(s3_error!(
                NotImplemented,
                "Copying from access points is not implemented"
            ));
        };
        if version_id.as_deref().is_some_and(|v| v != coffer_store::NULL_VERSION) {
            return Err(s3_error!(NoSuchVersion, "The specified version does not exist."));
        }
        self.bucket(&input.bucket).await?;
        let source_bucket_meta = self.bucket(source_bucket).await?;
        authz.object("s3:GetObject", &source_bucket_meta, source_key)?;
        let source = self.object(Some(&authz), source_bucket, source_key).await?;
        ReadConditions {
            if_match: input.copy_source_if_match,
            if_none_match: input.copy_source_if_none_match,
            if_modified_since: input.copy_source_if_modified_since,
            if_unmodified_since: input.copy_source_if_unmodified_since,
        }
        .check_copy_source(&source)?;
        check_storage_class(input.storage_class.as_ref())?;
        if source.size > MAX_SINGLE_UPLOAD {
            return Err(s3_error!(
                InvalidRequest,
                "The specified copy source is larger than the maximum allowable size for a copy source: 5368709120"
            ));
        }
        let replace = match input.metadata_directive.as_ref().map(|d| d.as_str()) {
            None | Some("COPY") => false,
            Some("REPLACE") => true,
            Some(_) => return Err(s3_error!(InvalidArgument, "Unknown metadata directive.")),
        };
        let same_object = source_bucket.as_ref() == input.bucket.as_str() && source_key.as_ref() == input.key.as_str();
        let changes_something = replace || input.storage_class.is_some() || input.checksum_algorithm.is_some();
        if same_object && !changes_something {
            return Err(s3_error!(
                InvalidRequest,
                "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes."
            ));
        }
        let object_headers = if replace {
            header_input!(input).into_headers()?
        } else {
            source.headers.clone()
        };
        let algorithm = input
            .checksum_algorithm
            .as_ref()
            .and_then(|a| Algorithm::parse(a.as_str()))
            .or_else(|| source.checksum.as_ref().and_then(|c| Algorithm::parse(&c.algorithm)))
            .unwrap_or(Algorithm::Crc64Nvme);
        let received = self.copy_bytes(&source, 0..source.size, &[algorithm]).await?;
        let checksum = headers::full_object(algorithm, received.digests.base64(algorithm).unwrap_or_default());
        let object = NewObject {
            key: input.key.clone(),
            size: received.size,
            etag: received.digests.etag(),
            headers: object_headers,
            checksum: Some(checksum),
        };
        let stored = self
            .commit_received(&input.bucket, object, received, WriteCondition::Always)
            .await?;
        let fields = ChecksumFields::of(stored.checksum.as_ref());
        Ok(S3Response::new(CopyObjectOutput {
            copy_object_result: Some(CopyObjectResult {
                e_tag: Some(headers::etag(&stored.etag)),
                last_modified: Some(Timestamp::from(stored.last_modified)),
                checksum_crc32: fields.crc32,
                checksum_crc32c: fields.crc32c,
                checksum_crc64nvme: fields.crc64nvme,
                checksum_sha1: fields.sha1,
                checksum_sha256: fields.sha256,
                checksum_type: fields.checksum_type,
            }),
            ..Default::default()
        }))
    }

    /// Makes a received body durable and commits it as the current object, in a task of its
    /// own: a client that disconnects now cannot leave the blob durable but unnamed.
    pub(crate) async fn commit_received(
        &self,
        bucket: &str,
        object: NewObject,
        received: body::Received,
        condition: WriteCondition,
    ) -> S3Result<ObjectMeta> {
        let store = self.store.clone();
        let bucket = bucket.to_owned();
        tokio::spawn(async move {
            let blob_id = received.finish(&store).await?;
            store
                .put_object(&bucket, object, blob_id, &condition)
                .await
                .map_err(store_error)
        })
        .await
        .map_err(internal)?
    }

    /// Copies `range` of an object's bytes into a new temp blob, hashing them on the way.
    pub(crate) async fn copy_bytes(
        &self,
        source: &ObjectMeta,
        range: std::ops::Range<u64>,
        algorithms: &[Algorithm],
    ) -> S3Result<body::Received> {
        let segments = reading::segments(source, range.clone());
        // A source replaced since it was read: SDKs retry an InternalError.
        let lease = reading::lease(&self.store, &segments)
            .await
            .ok_or_else(|| internal("the copy source changed while it was read"))?;
        let stream = reading::stream(&self.store, segments, lease).await.map_err(|err| {
            // A source replaced since it was read: SDKs retry an InternalError.
            internal(format!("the copy source changed while it was read: {err}"))
        })?;
        let declared = Some((range.end - range.start) as i64);
        body::receive(
            &self.store,
            self.idle_timeout,
            Some(stream),
            declared,
            u64::MAX,
            algorithms,
        )
        .await
        // A short read here is the server's fault, not the client's.
        .map_err(|err| {
            if *err.code() == s3s::S3ErrorCode::IncompleteBody {
                internal("a copy source ended early")
            } else {
                err
            }
        })
    }
}
