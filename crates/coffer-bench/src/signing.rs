//! SigV4 signing of the benchmark's requests, afresh for every request as SDKs do.

use std::time::SystemTime;

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{PayloadChecksumKind, SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;

pub struct Signer {
    pub key_id: String,
    pub secret: String,
    pub host: String,
    /// The session token of temporary credentials.
    pub token: Option<String>,
}

impl Signer {
    /// The headers that sign a request (`body`: the form to hash, or `None` for an S3
    /// request sent with `UNSIGNED-PAYLOAD`, as SDKs do over TLS).
    pub fn headers(
        &self,
        service: &str,
        method: &str,
        url: &str,
        extra: &[(&str, &str)],
        body: Option<&[u8]>,
    ) -> Result<Vec<(String, String)>, String> {
        let body = match body {
            Some(bytes) => SignableBody::Bytes(bytes),
            None => SignableBody::UnsignedPayload,
        };
        self.sign(service, method, url, extra, body)
    }

    /// The headers that sign a request whose body's hex SHA-256 is `sha256` (sent as
    /// `x-amz-content-sha256`, as boto3 and the AWS CLI sign uploads over plain HTTP).
    pub fn headers_with_payload_hash(
        &self,
        service: &str,
        method: &str,
        url: &str,
        extra: &[(&str, &str)],
        sha256: &str,
    ) -> Result<Vec<(String, String)>, String> {
        self.sign(
            service,
            method,
            url,
            extra,
            SignableBody::Precomputed(sha256.to_owned()),
        )
    }

    fn sign(
        &self,
        service: &str,
        method: &str,
        url: &str,
        extra: &[(&str, &str)],
        signable_body: SignableBody<'_>,
    ) -> Result<Vec<(String, String)>, String> {
        let identity = Credentials::new(&self.key_id, &self.secret, self.token.clone(), None, "bench").into();
        let mut settings = SigningSettings::default();
        if !matches!(signable_body, SignableBody::Bytes(_)) {
            settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
        }
        let params = v4::SigningParams::builder()
            .identity(&identity)
            .region("us-east-1")
            .name(service)
            .time(SystemTime::now())
            .settings(settings)
            .build()
            .map_err(|e| e.to_string())?
            .into();
        let mut headers: Vec<(&str, &str)> = vec![("host", self.host.as_str())];
        headers.extend_from_slice(extra);
        let signable =
            SignableRequest::new(method, url, headers.iter().copied(), signable_body).map_err(|e| e.to_string())?;
        let (instructions, _) = sign(signable, &params).map_err(|e| e.to_string())?.into_parts();
        let mut out: Vec<(String, String)> = extra.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        out.extend(instructions.headers().map(|(k, v)| (k.to_owned(), v.to_owned())));
        Ok(out)
    }
}
