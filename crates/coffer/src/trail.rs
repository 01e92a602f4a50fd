//! The audit trail's upkeep: its journal closed into a file every so often, files past the
//! retention removed, and, when a bucket is named, each closed file delivered into it as
//! CloudTrail delivers a trail (gzipped JSON under `AWSLogs/`), written as the bucket's
//! owner: the operator who named the bucket speaks for the trail. Only the owner's account's
//! records go there (each account sees its own); the delivery itself is not recorded.

use coffer_audit::Audit;
use coffer_store::Store;

/// What a delivered object's key escapes in its path.
const KEY_SET: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'/')
    .remove(b'-')
    .remove(b'_')
    .remove(b'.');

/// Without a bucket the journal is still closed into files, hourly at most (fewer files).
const UNDELIVERED_ROTATION: std::time::Duration = std::time::Duration::from_secs(3600);

pub async fn keep(
    audit: Audit,
    s3: coffer_s3::S3Api,
    store: Store,
    bucket: Option<String>,
    every: std::time::Duration,
) {
    if !audit.is_on() {
        return;
    }
    let every = match &bucket {
        Some(_) => every,
        None => every.max(UNDELIVERED_ROTATION),
    };
    let mut tick = tokio::time::interval(every);
    tick.tick().await;
    loop {
        tick.tick().await;
        let result = match &bucket {
            Some(bucket) => audit
                .rotate_and_deliver(|text| deliver(&s3, &store, bucket, text))
                .await
                .map(|_| ()),
            None => audit.rotate().await,
        };
        if let Err(err) = result {
            tracing::warn!(%err, "the audit trail's upkeep failed; it is tried again later");
        }
    }
}

/// Puts one closed journal file's records into `bucket`.
async fn deliver(s3: &coffer_s3::S3Api, store: &Store, bucket: &str, text: String) -> Result<(), String> {
    let owner = store
        .bucket(bucket)
        .await
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("the audit bucket {bucket} does not exist"))?
        .account_id;
    let now = time::OffsetDateTime::now_utc();
    let objects = coffer_audit::delivery::package(&text, &owner, now).map_err(|e| e.to_string())?;
    let principal = coffer_auth::Principal {
        account_id: owner,
        identity: coffer_auth::Identity::Root,
        access_key_id: String::new(),
        session: None,
    };
    for object in objects {
        // The key is made of digits, letters, `_`, `-` and `/` only; encoded all the same.
        let key = percent_encoding::utf8_percent_encode(&object.key, KEY_SET);
        let request = http::Request::put(format!("/{bucket}/{key}"))
            .header(http::header::HOST, "127.0.0.1")
            .header(http::header::CONTENT_TYPE, "application/x-gzip")
            .header(http::header::CONTENT_LENGTH, object.gzipped.len())
            .body(coffer_s3::Body::from(bytes::Bytes::from(object.gzipped)))
            .map_err(|e| e.to_string())?;
        let response = s3.call_unrecorded(&principal, request).await;
        if !response.status().is_success() {
            return Err(format!(
                "putting {} into {bucket} answered {}",
                object.key,
                response.status()
            ));
        }
    }
    Ok(())
}
