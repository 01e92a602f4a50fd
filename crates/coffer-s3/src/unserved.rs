//! The bucket settings Coffer does not serve, read as S3 answers for a bucket that has none:
//! no website, no replication, logging and notifications off, the owner paying, no transfer
//! acceleration, and no analytics, inventory, metrics or Intelligent-Tiering configurations.
//! Tools that read every setting of a bucket (s3cmd's `info`, inventory scripts, consoles)
//! get the truth instead of 501; writing any of them stays `NotImplemented`.

use s3s::dto::*;
use s3s::{S3Request, S3Response};

use crate::CofferS3;
use crate::error::{Result, S3Fault};

/// The bucket must exist; a setting of a missing bucket is `NoSuchBucket`.
macro_rules! unset {
    ($name:ident, $input:ident, $output:ident, $answer:expr) => {
        pub(crate) async fn $name(s3: &CofferS3, req: S3Request<$input>) -> Result<S3Response<$output>> {
            s3.bucket(&req.input.bucket).await?;
            $answer.map(S3Response::new)
        }
    };
}

unset!(
    get_bucket_website,
    GetBucketWebsiteInput,
    GetBucketWebsiteOutput,
    Err(S3Fault::NoSuchWebsiteConfiguration)
);
unset!(
    get_bucket_replication,
    GetBucketReplicationInput,
    GetBucketReplicationOutput,
    Err(S3Fault::ReplicationConfigurationNotFoundError)
);
unset!(
    get_bucket_notification_configuration,
    GetBucketNotificationConfigurationInput,
    GetBucketNotificationConfigurationOutput,
    Ok(GetBucketNotificationConfigurationOutput::default())
);
unset!(
    get_bucket_request_payment,
    GetBucketRequestPaymentInput,
    GetBucketRequestPaymentOutput,
    Ok(GetBucketRequestPaymentOutput {
        payer: Some(Payer::from_static(Payer::BUCKET_OWNER)),
    })
);
unset!(
    get_bucket_accelerate_configuration,
    GetBucketAccelerateConfigurationInput,
    GetBucketAccelerateConfigurationOutput,
    Ok(GetBucketAccelerateConfigurationOutput::default())
);
unset!(
    get_bucket_analytics_configuration,
    GetBucketAnalyticsConfigurationInput,
    GetBucketAnalyticsConfigurationOutput,
    Err(S3Fault::NoSuchConfiguration)
);
unset!(
    get_bucket_inventory_configuration,
    GetBucketInventoryConfigurationInput,
    GetBucketInventoryConfigurationOutput,
    Err(S3Fault::NoSuchConfiguration)
);
unset!(
    get_bucket_metrics_configuration,
    GetBucketMetricsConfigurationInput,
    GetBucketMetricsConfigurationOutput,
    Err(S3Fault::NoSuchConfiguration)
);
unset!(
    get_bucket_intelligent_tiering_configuration,
    GetBucketIntelligentTieringConfigurationInput,
    GetBucketIntelligentTieringConfigurationOutput,
    Err(S3Fault::NoSuchConfiguration)
);
unset!(
    list_bucket_analytics_configurations,
    ListBucketAnalyticsConfigurationsInput,
    ListBucketAnalyticsConfigurationsOutput,
    Ok(ListBucketAnalyticsConfigurationsOutput {
        is_truncated: Some(false),
        ..Default::default()
    })
);
unset!(
    list_bucket_inventory_configurations,
    ListBucketInventoryConfigurationsInput,
    ListBucketInventoryConfigurationsOutput,
    Ok(ListBucketInventoryConfigurationsOutput {
        is_truncated: Some(false),
        ..Default::default()
    })
);
unset!(
    list_bucket_metrics_configurations,
    ListBucketMetricsConfigurationsInput,
    ListBucketMetricsConfigurationsOutput,
    Ok(ListBucketMetricsConfigurationsOutput {
        is_truncated: Some(false),
        ..Default::default()
    })
);
unset!(
    list_bucket_intelligent_tiering_configurations,
    ListBucketIntelligentTieringConfigurationsInput,
    ListBucketIntelligentTieringConfigurationsOutput,
    Ok(ListBucketIntelligentTieringConfigurationsOutput {
        is_truncated: Some(false),
        ..Default::default()
    })
);
