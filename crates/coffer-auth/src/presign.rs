//! Presigned S3 URLs, made with a principal's own access key as AWS's console makes share
//! links with its session's credentials: the link can do exactly what that principal may,
//! and stops working when the key is deactivated or deleted. Signed by `aws-sigv4`, the AWS
//! SDK for Rust's signer, so what it makes is what every S3 verifier accepts.

use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{
    PercentEncodingMode, SignableBody, SignableRequest, SignatureLocation, SigningSettings, UriPathNormalizationMode,
    sign,
};
use aws_sigv4::sign::v4;

/// The longest a presigned URL may live (AWS: 7 days).
pub const MAX_EXPIRES: Duration = Duration::from_secs(604_800);

/// A presigned GET of `url` (`http://host/bucket/key`, path already encoded once) by the key
/// `key_id`/`secret`, valid for `expires` from `now`.
pub fn presigned_get(
    key_id: &str,
    secret: &str,
    url: &str,
    expires: Duration,
    now: SystemTime,
) -> Result<String, String> {
    if expires > MAX_EXPIRES {
        return Err("A presigned URL lives at most 7 days.".to_owned());
    }
    let identity = Credentials::new(key_id, secret, None, None, "coffer").into();
    let mut settings = SigningSettings::default();
    settings.signature_location = SignatureLocation::QueryParams;
    settings.expires_in = Some(expires);
    // S3 signs the path as sent: encoded once, never normalized.
    settings.percent_encoding_mode = PercentEncodingMode::Single;
    settings.uri_path_normalization_mode = UriPathNormalizationMode::Disabled;
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region("us-east-1")
        .name("s3")
        .time(now)
        .settings(settings)
        .build()
        .map_err(|e| e.to_string())?
        .into();
    let uri: http::Uri = url.parse().map_err(|_| format!("not a URL: {url}"))?;
    let host = uri.authority().map(|a| a.as_str().to_owned()).unwrap_or_default();
    let signable = SignableRequest::new(
        "GET",
        url,
        std::iter::once(("host", host.as_str())),
        SignableBody::UnsignedPayload,
    )
    .map_err(|e| e.to_string())?;
    let (instructions, _) = sign(signable, &params).map_err(|e| e.to_string())?.into_parts();
    let mut request = http::Request::get(url).body(()).map_err(|e| e.to_string())?;
    instructions.apply_to_request_http1x(&mut request);
    Ok(request.uri().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_link_carries_its_key_scope_and_lifetime() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_790_000_000);
        let url = presigned_get(
            "AKIAIOSFODNN7EXAMPLE",
            "secret",
            "http://127.0.0.1:9000/photos/a%20b.jpg",
            Duration::from_secs(3600),
            now,
        )
        .unwrap();
        assert!(url.starts_with("http://127.0.0.1:9000/photos/a%20b.jpg?"), "{url}");
        for part in [
            "X-Amz-Algorithm=AWS4-HMAC-SHA256",
            "X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F",
            "X-Amz-Expires=3600",
            "X-Amz-SignedHeaders=host",
            "X-Amz-Signature=",
        ] {
            assert!(url.contains(part), "{part} in {url}");
        }
        assert!(presigned_get("AKIA", "s", "http://h/b/k", MAX_EXPIRES + Duration::from_secs(1), now).is_err());
    }
}
