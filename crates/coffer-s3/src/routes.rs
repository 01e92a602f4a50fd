//! The route table: every S3 operation Coffer implements, by its AWS name, and the function
//! of the same (snake-case) name that handles it, in the module of its concern. From this one
//! table come the s3s `S3` trait's methods and [`SUPPORTED`], which the tests hold against
//! s3s's operations and docs/compatibility.md, so an operation cannot be half-registered.
//! Everything else s3s routes answers s3s's default, AWS's `NotImplemented`.
//!
//! Adding an operation: a row here, its function in its module.

use s3s::dto::*;
use s3s::{S3, S3Request, S3Response, S3Result};

use crate::{
    CofferS3, access_log, acl, bucket, bucket_policy, copy, cors, delete, encryption, get, lifecycle, list, multipart,
    object_lock, post_object, put, tagging, unserved, versioning,
};

/// `module::method: OperationName(Input) -> Output;` rows: the `S3` impl calls
/// `module::method(self, req)` for each.
macro_rules! routes {
    ($($module:ident::$method:ident: $name:ident($input:ident) -> $output:ident;)*) => {
        #[async_trait::async_trait]
        impl S3 for CofferS3 {
            $(
                async fn $method(&self, req: S3Request<$input>) -> S3Result<S3Response<$output>> {
                    if let Some(log) = req.extensions.get::<crate::RequestLog>() {
                        log.note_served();
                    }
                    Ok($module::$method(self, req).await?)
                }
            )*
        }

        /// The operations Coffer implements (AWS's names); docs/compatibility.md marks exactly
        /// these supported.
        pub const SUPPORTED: &[&str] = &[$(stringify!($name)),*];

        /// Each row's operation name and its input and output types' names, to check that a
        /// row names one operation throughout.
        #[cfg(test)]
        const ROWS: &[(&str, &str, &str)] = &[$((stringify!($name), stringify!($input), stringify!($output))),*];
    };
}

routes! {
    bucket::create_bucket: CreateBucket(CreateBucketInput) -> CreateBucketOutput;
    bucket::head_bucket: HeadBucket(HeadBucketInput) -> HeadBucketOutput;
    bucket::get_bucket_location: GetBucketLocation(GetBucketLocationInput) -> GetBucketLocationOutput;
    bucket::delete_bucket: DeleteBucket(DeleteBucketInput) -> DeleteBucketOutput;
    bucket::list_buckets: ListBuckets(ListBucketsInput) -> ListBucketsOutput;
    bucket_policy::put_bucket_policy: PutBucketPolicy(PutBucketPolicyInput) -> PutBucketPolicyOutput;
    bucket_policy::get_bucket_policy: GetBucketPolicy(GetBucketPolicyInput) -> GetBucketPolicyOutput;
    bucket_policy::delete_bucket_policy: DeleteBucketPolicy(DeleteBucketPolicyInput) -> DeleteBucketPolicyOutput;
    bucket_policy::get_bucket_policy_status: GetBucketPolicyStatus(GetBucketPolicyStatusInput) -> GetBucketPolicyStatusOutput;
    bucket_policy::put_public_access_block: PutPublicAccessBlock(PutPublicAccessBlockInput) -> PutPublicAccessBlockOutput;
    bucket_policy::get_public_access_block: GetPublicAccessBlock(GetPublicAccessBlockInput) -> GetPublicAccessBlockOutput;
    bucket_policy::delete_public_access_block: DeletePublicAccessBlock(DeletePublicAccessBlockInput) -> DeletePublicAccessBlockOutput;
    acl::get_bucket_acl: GetBucketAcl(GetBucketAclInput) -> GetBucketAclOutput;
    acl::put_bucket_acl: PutBucketAcl(PutBucketAclInput) -> PutBucketAclOutput;
    acl::get_object_acl: GetObjectAcl(GetObjectAclInput) -> GetObjectAclOutput;
    acl::put_object_acl: PutObjectAcl(PutObjectAclInput) -> PutObjectAclOutput;
    acl::put_bucket_ownership_controls: PutBucketOwnershipControls(PutBucketOwnershipControlsInput) -> PutBucketOwnershipControlsOutput;
    acl::get_bucket_ownership_controls: GetBucketOwnershipControls(GetBucketOwnershipControlsInput) -> GetBucketOwnershipControlsOutput;
    acl::delete_bucket_ownership_controls: DeleteBucketOwnershipControls(DeleteBucketOwnershipControlsInput) -> DeleteBucketOwnershipControlsOutput;
    cors::put_bucket_cors: PutBucketCors(PutBucketCorsInput) -> PutBucketCorsOutput;
    cors::get_bucket_cors: GetBucketCors(GetBucketCorsInput) -> GetBucketCorsOutput;
    cors::delete_bucket_cors: DeleteBucketCors(DeleteBucketCorsInput) -> DeleteBucketCorsOutput;
    encryption::put_bucket_encryption: PutBucketEncryption(PutBucketEncryptionInput) -> PutBucketEncryptionOutput;
    encryption::get_bucket_encryption: GetBucketEncryption(GetBucketEncryptionInput) -> GetBucketEncryptionOutput;
    encryption::delete_bucket_encryption: DeleteBucketEncryption(DeleteBucketEncryptionInput) -> DeleteBucketEncryptionOutput;
    unserved::get_bucket_website: GetBucketWebsite(GetBucketWebsiteInput) -> GetBucketWebsiteOutput;
    unserved::get_bucket_replication: GetBucketReplication(GetBucketReplicationInput) -> GetBucketReplicationOutput;
    unserved::get_bucket_notification_configuration: GetBucketNotificationConfiguration(GetBucketNotificationConfigurationInput) -> GetBucketNotificationConfigurationOutput;
    unserved::get_bucket_request_payment: GetBucketRequestPayment(GetBucketRequestPaymentInput) -> GetBucketRequestPaymentOutput;
    unserved::get_bucket_accelerate_configuration: GetBucketAccelerateConfiguration(GetBucketAccelerateConfigurationInput) -> GetBucketAccelerateConfigurationOutput;
    unserved::get_bucket_analytics_configuration: GetBucketAnalyticsConfiguration(GetBucketAnalyticsConfigurationInput) -> GetBucketAnalyticsConfigurationOutput;
    unserved::get_bucket_inventory_configuration: GetBucketInventoryConfiguration(GetBucketInventoryConfigurationInput) -> GetBucketInventoryConfigurationOutput;
    unserved::get_bucket_metrics_configuration: GetBucketMetricsConfiguration(GetBucketMetricsConfigurationInput) -> GetBucketMetricsConfigurationOutput;
    unserved::get_bucket_intelligent_tiering_configuration: GetBucketIntelligentTieringConfiguration(GetBucketIntelligentTieringConfigurationInput) -> GetBucketIntelligentTieringConfigurationOutput;
    unserved::list_bucket_analytics_configurations: ListBucketAnalyticsConfigurations(ListBucketAnalyticsConfigurationsInput) -> ListBucketAnalyticsConfigurationsOutput;
    unserved::list_bucket_inventory_configurations: ListBucketInventoryConfigurations(ListBucketInventoryConfigurationsInput) -> ListBucketInventoryConfigurationsOutput;
    unserved::list_bucket_metrics_configurations: ListBucketMetricsConfigurations(ListBucketMetricsConfigurationsInput) -> ListBucketMetricsConfigurationsOutput;
    unserved::list_bucket_intelligent_tiering_configurations: ListBucketIntelligentTieringConfigurations(ListBucketIntelligentTieringConfigurationsInput) -> ListBucketIntelligentTieringConfigurationsOutput;
    versioning::put_bucket_versioning: PutBucketVersioning(PutBucketVersioningInput) -> PutBucketVersioningOutput;
    versioning::get_bucket_versioning: GetBucketVersioning(GetBucketVersioningInput) -> GetBucketVersioningOutput;
    lifecycle::put_bucket_lifecycle_configuration: PutBucketLifecycleConfiguration(PutBucketLifecycleConfigurationInput) -> PutBucketLifecycleConfigurationOutput;
    lifecycle::get_bucket_lifecycle_configuration: GetBucketLifecycleConfiguration(GetBucketLifecycleConfigurationInput) -> GetBucketLifecycleConfigurationOutput;
    lifecycle::delete_bucket_lifecycle: DeleteBucketLifecycle(DeleteBucketLifecycleInput) -> DeleteBucketLifecycleOutput;
    object_lock::put_object_lock_configuration: PutObjectLockConfiguration(PutObjectLockConfigurationInput) -> PutObjectLockConfigurationOutput;
    object_lock::get_object_lock_configuration: GetObjectLockConfiguration(GetObjectLockConfigurationInput) -> GetObjectLockConfigurationOutput;
    object_lock::put_object_retention: PutObjectRetention(PutObjectRetentionInput) -> PutObjectRetentionOutput;
    object_lock::get_object_retention: GetObjectRetention(GetObjectRetentionInput) -> GetObjectRetentionOutput;
    object_lock::put_object_legal_hold: PutObjectLegalHold(PutObjectLegalHoldInput) -> PutObjectLegalHoldOutput;
    object_lock::get_object_legal_hold: GetObjectLegalHold(GetObjectLegalHoldInput) -> GetObjectLegalHoldOutput;
    tagging::put_object_tagging: PutObjectTagging(PutObjectTaggingInput) -> PutObjectTaggingOutput;
    tagging::get_object_tagging: GetObjectTagging(GetObjectTaggingInput) -> GetObjectTaggingOutput;
    tagging::delete_object_tagging: DeleteObjectTagging(DeleteObjectTaggingInput) -> DeleteObjectTaggingOutput;
    tagging::put_bucket_tagging: PutBucketTagging(PutBucketTaggingInput) -> PutBucketTaggingOutput;
    tagging::get_bucket_tagging: GetBucketTagging(GetBucketTaggingInput) -> GetBucketTaggingOutput;
    tagging::delete_bucket_tagging: DeleteBucketTagging(DeleteBucketTaggingInput) -> DeleteBucketTaggingOutput;
    put::put_object: PutObject(PutObjectInput) -> PutObjectOutput;
    post_object::post_object: PostObject(PostObjectInput) -> PostObjectOutput;
    get::get_object: GetObject(GetObjectInput) -> GetObjectOutput;
    get::head_object: HeadObject(HeadObjectInput) -> HeadObjectOutput;
    get::get_object_attributes: GetObjectAttributes(GetObjectAttributesInput) -> GetObjectAttributesOutput;
    delete::delete_object: DeleteObject(DeleteObjectInput) -> DeleteObjectOutput;
    delete::delete_objects: DeleteObjects(DeleteObjectsInput) -> DeleteObjectsOutput;
    copy::copy_object: CopyObject(CopyObjectInput) -> CopyObjectOutput;
    copy::upload_part_copy: UploadPartCopy(UploadPartCopyInput) -> UploadPartCopyOutput;
    list::list_objects_v2: ListObjectsV2(ListObjectsV2Input) -> ListObjectsV2Output;
    list::list_objects: ListObjects(ListObjectsInput) -> ListObjectsOutput;
    list::list_object_versions: ListObjectVersions(ListObjectVersionsInput) -> ListObjectVersionsOutput;
    multipart::create_multipart_upload: CreateMultipartUpload(CreateMultipartUploadInput) -> CreateMultipartUploadOutput;
    multipart::upload_part: UploadPart(UploadPartInput) -> UploadPartOutput;
    multipart::complete_multipart_upload: CompleteMultipartUpload(CompleteMultipartUploadInput) -> CompleteMultipartUploadOutput;
    multipart::abort_multipart_upload: AbortMultipartUpload(AbortMultipartUploadInput) -> AbortMultipartUploadOutput;
    multipart::list_parts: ListParts(ListPartsInput) -> ListPartsOutput;
    multipart::list_multipart_uploads: ListMultipartUploads(ListMultipartUploadsInput) -> ListMultipartUploadsOutput;
    access_log::put_bucket_logging: PutBucketLogging(PutBucketLoggingInput) -> PutBucketLoggingOutput;
    access_log::get_bucket_logging: GetBucketLogging(GetBucketLoggingInput) -> GetBucketLoggingOutput;
}

/// The S3 operations of the AWS API that s3s 0.14 routes.
pub const S3_OPERATIONS: &[&str] = &[
    "AbortMultipartUpload",
    "CompleteMultipartUpload",
    "CopyObject",
    "CreateBucket",
    "CreateBucketMetadataTableConfiguration",
    "CreateMultipartUpload",
    "CreateSession",
    "DeleteBucket",
    "DeleteBucketAnalyticsConfiguration",
    "DeleteBucketCors",
    "DeleteBucketEncryption",
    "DeleteBucketIntelligentTieringConfiguration",
    "DeleteBucketInventoryConfiguration",
    "DeleteBucketLifecycle",
    "DeleteBucketMetadataTableConfiguration",
    "DeleteBucketMetricsConfiguration",
    "DeleteBucketOwnershipControls",
    "DeleteBucketPolicy",
    "DeleteBucketReplication",
    "DeleteBucketTagging",
    "DeleteBucketWebsite",
    "DeleteObject",
    "DeleteObjectTagging",
    "DeleteObjects",
    "DeletePublicAccessBlock",
    "GetBucketAccelerateConfiguration",
    "GetBucketAcl",
    "GetBucketAnalyticsConfiguration",
    "GetBucketCors",
    "GetBucketEncryption",
    "GetBucketIntelligentTieringConfiguration",
    "GetBucketInventoryConfiguration",
    "GetBucketLifecycleConfiguration",
    "GetBucketLocation",
    "GetBucketLogging",
    "GetBucketMetadataTableConfiguration",
    "GetBucketMetricsConfiguration",
    "GetBucketNotificationConfiguration",
    "GetBucketOwnershipControls",
    "GetBucketPolicy",
    "GetBucketPolicyStatus",
    "GetBucketReplication",
    "GetBucketRequestPayment",
    "GetBucketTagging",
    "GetBucketVersioning",
    "GetBucketWebsite",
    "GetObject",
    "GetObjectAcl",
    "GetObjectAttributes",
    "GetObjectLegalHold",
    "GetObjectLockConfiguration",
    "GetObjectRetention",
    "GetObjectTagging",
    "GetObjectTorrent",
    "GetPublicAccessBlock",
    "HeadBucket",
    "HeadObject",
    "ListBucketAnalyticsConfigurations",
    "ListBucketIntelligentTieringConfigurations",
    "ListBucketInventoryConfigurations",
    "ListBucketMetricsConfigurations",
    "ListBuckets",
    "ListDirectoryBuckets",
    "ListMultipartUploads",
    "ListObjectVersions",
    "ListObjects",
    "ListObjectsV2",
    "ListParts",
    "PostObject",
    "PutBucketAccelerateConfiguration",
    "PutBucketAcl",
    "PutBucketAnalyticsConfiguration",
    "PutBucketCors",
    "PutBucketEncryption",
    "PutBucketIntelligentTieringConfiguration",
    "PutBucketInventoryConfiguration",
    "PutBucketLifecycleConfiguration",
    "PutBucketLogging",
    "PutBucketMetricsConfiguration",
    "PutBucketNotificationConfiguration",
    "PutBucketOwnershipControls",
    "PutBucketPolicy",
    "PutBucketReplication",
    "PutBucketRequestPayment",
    "PutBucketTagging",
    "PutBucketVersioning",
    "PutBucketWebsite",
    "PutObject",
    "PutObjectAcl",
    "PutObjectLegalHold",
    "PutObjectLockConfiguration",
    "PutObjectRetention",
    "PutObjectTagging",
    "PutPublicAccessBlock",
    "RestoreObject",
    "SelectObjectContent",
    "UploadPart",
    "UploadPartCopy",
    "WriteGetObjectResponse",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_compatibility_page_is_true() {
        let page = include_str!("../../../docs/compatibility.md");
        let s3 = page.split("## S3").nth(1).expect("an S3 section");
        for op in S3_OPERATIONS {
            let row = s3
                .lines()
                .find(|l| l.starts_with(&format!("| {op} |")))
                .unwrap_or_else(|| panic!("docs/compatibility.md has no S3 row for {op}"));
            let supported = row.starts_with(&format!("| {op} | supported |"));
            assert_eq!(
                supported,
                SUPPORTED.contains(op),
                "docs/compatibility.md is wrong about {op}"
            );
        }
    }

    #[test]
    fn every_row_names_one_operation() {
        for (name, input, output) in ROWS {
            assert_eq!(*input, format!("{name}Input"));
            assert_eq!(*output, format!("{name}Output"));
        }
    }

    #[test]
    fn every_supported_operation_is_routed() {
        for op in SUPPORTED {
            assert!(S3_OPERATIONS.contains(op), "{op}");
        }
    }
}
