//! GetObjectAttributes: an object's ETag, checksum, size, storage class and parts in one call.

use s3s::dto::*;
use s3s::{S3Request, S3Response, S3Result, s3_error};

use crate::CofferS3;
use crate::checksums::{Algorithm, COMPOSITE};
use crate::headers::{self, ChecksumFields};
use coffer_store::ObjectData;

const MAX_PARTS: i32 = 1000;

impl CofferS3 {
    pub(crate) async fn get_object_attributes_op(
        &self,
        req: S3Request<GetObjectAttributesInput>,
    ) -> S3Result<S3Response<GetObjectAttributesOutput>> {
        let reader = crate::authz(&req).ok();
        let input = req.input;
        let object = self.object(reader.as_ref(), &input.bucket, &input.key).await?;
        // The header is a comma-separated list; clients send it as one value or several.
        let names: Vec<&str> = input
            .object_attributes
            .iter()
            .flat_map(|a| a.as_str().split(','))
            .map(str::trim)
            .filter(|name| !name.is_empty())
            .collect();
        let wanted = |name: &str| names.contains(&name);
        let known = ["ETag", "Checksum", "ObjectParts", "StorageClass", "ObjectSize"];
        if names.is_empty() || names.iter().any(|name| !known.contains(name)) {
            return Err(s3_error!(InvalidArgument, "Invalid attribute name specified."));
        }
        let checksum = wanted("Checksum")
            .then(|| {
                let fields = ChecksumFields::of(object.checksum.as_ref());
                (fields.checksum_type.is_some()).then_some(Checksum {
                    checksum_crc32: fields.crc32,
                    checksum_crc32c: fields.crc32c,
                    checksum_crc64nvme: fields.crc64nvme,
                    checksum_sha1: fields.sha1,
                    checksum_sha256: fields.sha256,
                    checksum_type: fields.checksum_type,
                })
            })
            .flatten();
        let object_parts = match (&object.data, wanted("ObjectParts")) {
            (ObjectData::Parts(all), true) => {
                let max_parts = input.max_parts.unwrap_or(MAX_PARTS).clamp(0, MAX_PARTS);
                let marker = input.part_number_marker.unwrap_or(0).max(0);
                let after: Vec<_> = all.iter().filter(|p| p.part_number as i32 > marker).collect();
                let page: Vec<_> = after.iter().take(max_parts as usize).collect();
                let is_truncated = after.len() > page.len();
                // Part checksums are reported for composite objects, whose parts carry them.
                let algorithm = object
                    .checksum
                    .as_ref()
                    .filter(|c| c.checksum_type == COMPOSITE)
                    .and_then(|c| Algorithm::parse(&c.algorithm));
                Some(GetObjectAttributesParts {
                    is_truncated: Some(is_truncated),
                    max_parts: Some(max_parts),
                    next_part_number_marker: page.last().map(|p| p.part_number as i32).filter(|_| is_truncated),
                    part_number_marker: Some(marker),
                    total_parts_count: Some(all.len() as i32),
                    parts: Some(
                        page.iter()
                            .map(|p| {
                                let mut part = ObjectPart {
                                    part_number: Some(p.part_number as i32),
                                    size: Some(p.size as i64),
                                    ..Default::default()
                                };
                                let value = p.checksum_value.clone();
                                match algorithm {
                                    Some(Algorithm::Crc32) => part.checksum_crc32 = value,
                                    Some(Algorithm::Crc32c) => part.checksum_crc32c = value,
                                    Some(Algorithm::Crc64Nvme) => part.checksum_crc64nvme = value,
                                    Some(Algorithm::Sha1) => part.checksum_sha1 = value,
                                    Some(Algorithm::Sha256) => part.checksum_sha256 = value,
                                    None => {}
                                }
                                part
                            })
                            .collect(),
                    ),
                })
            }
            _ => None,
        };
        Ok(S3Response::new(GetObjectAttributesOutput {
            e_tag: wanted("ETag").then(|| headers::etag(&object.etag)),
            last_modified: Some(Timestamp::from(object.last_modified)),
            object_size: wanted("ObjectSize").then_some(object.size as i64),
            storage_class: wanted("StorageClass").then(|| StorageClass::from_static(StorageClass::STANDARD)),
            checksum,
            object_parts,
            ..Default::default()
        }))
    }
}
