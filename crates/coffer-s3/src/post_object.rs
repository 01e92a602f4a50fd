//! Browser POST uploads (PostObject): a `multipart/form-data` POST to a bucket, read as a
//! stream. The fields before the file are checked against the form's signature and policy
//! (`coffer_auth::post_form`); the file then streams as the body of a PutObject made
//! in-process as the form's signer (or anonymously), so the same authorization, condition
//! keys and operation decide as for any PUT. The policy's size range is enforced as the
//! bytes arrive: an upload outside it fails before anything is committed.
//!
//! s3s has a PostObject of its own, but it holds the whole file in memory before it checks
//! anything; the front door sends forms here instead.

use std::error::Error as StdError;

use bytes::Bytes;
use futures::{Stream, StreamExt};
use http::request::Parts;
use http::{HeaderName, HeaderValue, Method, StatusCode};
use http_body::Frame;
use time::OffsetDateTime;

use coffer_auth::post_form::{FormFields, FormRefusal, FormSignature, MAX_FIELDS_BYTES, PostPolicy};
use coffer_auth::{InProcessCaller, Principal};
use coffer_store::{KeyStatus, Sealer};

use crate::S3Api;
use crate::api::Body;
use crate::error::{Result, S3Fault, error_response};

/// Put into the PutObject a form becomes: `s3:authType` is then `POST`, and
/// `s3:signatureversion` the form's.
#[derive(Clone, Debug)]
pub struct FormUpload {
    pub signature_version: Option<&'static str>,
}

/// The headers of the original request that say who the client is (for `aws:SourceIp`,
/// `aws:SecureTransport`, `aws:UserAgent`, `aws:Referer`, CORS); nothing else of it reaches
/// the PutObject: every setting comes from the signed form.
const CLIENT_HEADERS: [&str; 6] = [
    "user-agent",
    "referer",
    "origin",
    "x-forwarded-for",
    "x-forwarded-proto",
    "forwarded",
];

/// Form fields that are PutObject's headers of the same name.
const HEADER_FIELDS: [&str; 5] = [
    "cache-control",
    "content-disposition",
    "content-encoding",
    "content-type",
    "expires",
];

/// `x-amz-*` form fields that are PutObject headers (by prefix). A form cannot name the
/// request's own framing (`x-amz-content-sha256`, `x-amz-decoded-content-length`) or turn the
/// upload into another operation (`x-amz-copy-source`).
const AMZ_FIELD_PREFIXES: [&str; 8] = [
    "x-amz-meta-",
    "x-amz-server-side-encryption",
    "x-amz-checksum-",
    "x-amz-grant-",
    "x-amz-object-lock-",
    "x-amz-storage-class",
    "x-amz-website-redirect-location",
    "x-amz-expected-bucket-owner",
];

/// Whether a request is a browser form upload: a `multipart/form-data` POST to a bucket's
/// root (`bucket_root`: its path names the bucket and nothing more) with no sub-resource.
pub fn is_form_upload(parts: &Parts, bucket_root: bool) -> bool {
    parts.method == Method::POST
        && bucket_root
        && parts.uri.query().is_none_or(str::is_empty)
        && parts
            .headers
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.to_ascii_lowercase().starts_with("multipart/form-data"))
}

fn malformed() -> S3Fault {
    S3Fault::MalformedPOSTRequest
}

impl From<FormRefusal> for S3Fault {
    fn from(refusal: FormRefusal) -> S3Fault {
        let message = refusal.message();
        match refusal {
            FormRefusal::InvalidPolicy(_) => S3Fault::InvalidPolicyDocument(message),
            FormRefusal::NotAllowed(_) => S3Fault::AccessDenied(message),
            FormRefusal::MissingField(_) | FormRefusal::InvalidField(_) => S3Fault::InvalidArgument(message),
            FormRefusal::SignatureMismatch => S3Fault::SignatureDoesNotMatch,
        }
    }
}

/// Why a form's file stream stopped: its text is what `body::receive` maps to S3's error.
#[derive(Debug)]
enum FileError {
    TooLarge,
    TooSmall,
    Broken(String),
}

impl std::fmt::Display for FileError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FileError::TooLarge => write!(
                f,
                "{}: the file is larger than the form's policy allows",
                crate::body::FORM_FILE_TOO_LARGE
            ),
            FileError::TooSmall => write!(
                f,
                "{}: the file is smaller than the form's policy allows",
                crate::body::FORM_FILE_TOO_SMALL
            ),
            FileError::Broken(err) => write!(f, "the form's body broke mid-file: {err}"),
        }
    }
}

impl StdError for FileError {}

/// The file part as a body that refuses to go past `max` bytes or end short of `min`.
fn file_body(multipart: multer::Multipart<'static>, file: multer::Field<'static>, range: (u64, u64)) -> Body {
    let (min, max) = range;
    let frames = futures::stream::unfold(Some((multipart, file, 0u64)), move |state| async move {
        let (multipart, mut file, seen) = state?;
        match file.chunk().await {
            Ok(Some(chunk)) => {
                let seen = seen + chunk.len() as u64;
                if seen > max {
                    return Some((Err(FileError::TooLarge), None));
                }
                Some((Ok(Frame::data(chunk)), Some((multipart, file, seen))))
            }
            Ok(None) if seen < min => Some((Err(FileError::TooSmall), None)),
            Ok(None) => None,
            Err(err) => Some((Err(FileError::Broken(err.to_string())), None)),
        }
    });
    Body::http_body_unsync(http_body_util::StreamBody::new(frames))
}

/// A form's fields read up to its file (the file must be the last field: S3 ignores what
/// follows it).
struct ReadForm {
    fields: FormFields,
    multipart: multer::Multipart<'static>,
    file: multer::Field<'static>,
}

async fn read_fields(multipart: multer::Multipart<'static>) -> Result<ReadForm> {
    let mut multipart = multipart;
    let mut fields = FormFields::default();
    let mut used = 0usize;
    loop {
        let Some(mut field) = multipart.next_field().await.map_err(|_| malformed())? else {
            return Err(S3Fault::InvalidArgument(
                "POST requires exactly one file upload per request.".to_owned(),
            ));
        };
        let name = field.name().unwrap_or_default().to_owned();
        if name.eq_ignore_ascii_case("file") {
            return Ok(ReadForm {
                fields,
                multipart,
                file: field,
            });
        }
        used += name.len();
        let mut value = Vec::new();
        while let Some(chunk) = field.chunk().await.map_err(|_| malformed())? {
            used += chunk.len();
            if used > MAX_FIELDS_BYTES {
                return Err(S3Fault::MaxPostPreDataLengthExceeded);
            }
            value.extend_from_slice(&chunk);
        }
        let value = String::from_utf8(value)
            .map_err(|_| S3Fault::InvalidArgument(format!("The form field '{name}' is not UTF-8.")))?;
        fields.push(&name, value);
    }
}

/// The `tagging` field (a `Tagging` XML document) as an `x-amz-tagging` header value. S3
/// answers XML it cannot read with MalformedXML, and ignores a document that is not a
/// `Tagging`.
fn tagging_header(xml: &str) -> Result<Option<String>> {
    use s3s::xml::Deserialize;
    let mut reader = s3s::xml::Deserializer::new(xml.as_bytes());
    match s3s::dto::Tagging::deserialize(&mut reader) {
        Ok(tagging) => {
            let mut header = form_urlencoded::Serializer::new(String::new());
            for tag in &tagging.tag_set {
                header.append_pair(
                    tag.key.as_deref().unwrap_or_default(),
                    tag.value.as_deref().unwrap_or_default(),
                );
            }
            Ok(Some(header.finish()))
        }
        Err(_) => {
            let body = xml.trim_start();
            let body = match body.strip_prefix("<?") {
                Some(rest) => rest.split_once("?>").map_or("", |(_, r)| r).trim_start(),
                None => body,
            };
            let root = body.strip_prefix('<').map(|rest| {
                rest.split(|c: char| c.is_whitespace() || c == '>' || c == '/')
                    .next()
                    .unwrap_or("")
            });
            match root {
                Some(root) if !root.is_empty() && root != "Tagging" => Ok(None),
                _ => Err(S3Fault::MalformedXML),
            }
        }
    }
}

/// The PutObject headers a form's fields ask for.
fn put_headers(fields: &FormFields) -> Result<Vec<(HeaderName, HeaderValue)>> {
    let mut headers = Vec::new();
    let value = |text: &str| {
        HeaderValue::from_str(text)
            .map_err(|_| S3Fault::InvalidArgument("A form field's value cannot be a header.".to_owned()))
    };
    for name in fields.names() {
        let text = fields.get(name).unwrap_or_default();
        let header = if HEADER_FIELDS.contains(&name) || AMZ_FIELD_PREFIXES.iter().any(|p| name.starts_with(p)) {
            name
        } else if name == "acl" {
            "x-amz-acl"
        } else if name == "tagging" {
            if let Some(tags) = tagging_header(&text)? {
                headers.push((HeaderName::from_static("x-amz-tagging"), value(&tags)?));
            }
            continue;
        } else {
            continue;
        };
        let header = HeaderName::from_bytes(header.as_bytes()).map_err(|_| malformed())?;
        headers.push((header, value(&text)?));
    }
    Ok(headers)
}

/// Where a form's upload asked to be sent once done (`success_action_redirect`, or the
/// older `redirect`): an absolute http(s) URL, else none (S3 then answers with a status).
fn redirect_target(fields: &FormFields) -> Option<String> {
    let target = fields
        .get("success_action_redirect")
        .or_else(|| fields.get("redirect"))?;
    let uri: http::Uri = target.parse().ok()?;
    (matches!(uri.scheme_str(), Some("http" | "https")) && uri.authority().is_some()).then_some(target)
}

/// S3's answer to a form whose object was stored, from PutObject's answer `stored`:
/// a 303 to the form's redirect with `bucket`, `key` and `etag` added; else the status the
/// form asks for (200, 201 with a `PostResponse` document, or 204 by default).
fn form_answer(
    fields: &FormFields,
    bucket: &str,
    key: &str,
    location: &str,
    stored: http::Response<Body>,
) -> http::Response<Body> {
    let (mut head, _) = stored.into_parts();
    let etag = head
        .headers
        .get(http::header::ETAG)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    if let Ok(location) = HeaderValue::from_str(location) {
        head.headers.insert(http::header::LOCATION, location);
    }
    head.headers.remove(http::header::CONTENT_LENGTH);
    if let Some(target) = redirect_target(fields) {
        let query = form_urlencoded::Serializer::new(String::new())
            .append_pair("bucket", bucket)
            .append_pair("key", key)
            .append_pair("etag", &etag)
            .finish();
        let separator = if target.contains('?') { '&' } else { '?' };
        if let Ok(to) = HeaderValue::from_str(&format!("{target}{separator}{query}")) {
            head.status = StatusCode::SEE_OTHER;
            head.headers.insert(http::header::LOCATION, to);
            return http::Response::from_parts(head, Body::empty());
        }
    }
    match fields.get("success_action_status").as_deref() {
        Some("200") => {
            head.status = StatusCode::OK;
            http::Response::from_parts(head, Body::empty())
        }
        Some("201") => {
            let escape = crate::error::escape;
            let document = format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<PostResponse><Location>{}</Location><Bucket>{}</Bucket><Key>{}</Key><ETag>{}</ETag></PostResponse>",
                escape(location),
                escape(bucket),
                escape(key),
                escape(&etag)
            );
            head.status = StatusCode::CREATED;
            head.headers
                .insert(http::header::CONTENT_TYPE, HeaderValue::from_static("application/xml"));
            http::Response::from_parts(head, Body::from(document))
        }
        _ => {
            head.status = StatusCode::NO_CONTENT;
            http::Response::from_parts(head, Body::empty())
        }
    }
}

impl S3Api {
    /// Serves a browser form upload to `bucket` (see [`is_form_upload`]). `sealer` opens a
    /// form's `x-amz-security-token`.
    pub async fn post_object<S, E>(&self, bucket: &str, parts: Parts, body: S, sealer: &Sealer) -> http::Response<Body>
    where
        S: Stream<Item = std::result::Result<Bytes, E>> + Send + 'static,
        E: Into<Box<dyn StdError + Send + Sync>> + 'static,
    {
        match self.form_upload(bucket, parts, body, sealer).await {
            Ok(response) => response,
            Err(fault) => error_response(fault).map(Body::from),
        }
    }

    async fn form_upload<S, E>(
        &self,
        bucket: &str,
        parts: Parts,
        body: S,
        sealer: &Sealer,
    ) -> Result<http::Response<Body>>
    where
        S: Stream<Item = std::result::Result<Bytes, E>> + Send + 'static,
        E: Into<Box<dyn StdError + Send + Sync>> + 'static,
    {
        let content_type = parts
            .headers
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        let boundary = multer::parse_boundary(content_type).map_err(|_| malformed())?;
        let ReadForm {
            mut fields,
            multipart,
            file,
        } = read_fields(multer::Multipart::new(
            body.map(|chunk| chunk.map_err(Into::into)),
            boundary,
        ))
        .await?;
        if let Some(filename) = file.file_name() {
            fields.expand_filename(filename);
        }
        let key = fields.get("key").ok_or(FormRefusal::MissingField("key"))?;
        if key.is_empty() {
            return Err(S3Fault::InvalidArgument(
                "User key must have a length greater than 0.".to_owned(),
            ));
        }
        let now = OffsetDateTime::now_utc();
        let signature = FormSignature::of(&fields)?;
        let signer = match signature.access_key_id() {
            None => None,
            Some(key_id) => {
                let (principal, secret) = self
                    .form_signer(key_id, fields.get("x-amz-security-token"), sealer, now)
                    .await?;
                signature.verify(&fields.get("policy").unwrap_or_default(), &secret)?;
                Some(principal)
            }
        };
        let mut range = (0, u64::MAX);
        if let Some(policy) = fields.get("policy") {
            let policy = PostPolicy::parse(&policy)?;
            policy.check(&fields, bucket, now)?;
            if let Some(bounds) = policy.length_range() {
                range = bounds;
            }
        }
        let mut request = http::Request::builder()
            .method(Method::PUT)
            .uri(format!(
                "/{}/{}",
                percent_encoding::utf8_percent_encode(bucket, crate::list::URL_ENCODED),
                percent_encoding::utf8_percent_encode(&key, crate::list::URL_ENCODED)
            ))
            // An address, never a name: it cannot be read as `<bucket>.<--domain>`.
            .header(http::header::HOST, "127.0.0.1");
        for name in CLIENT_HEADERS {
            for value in parts.headers.get_all(name) {
                request = request.header(name, value);
            }
        }
        for (name, value) in put_headers(&fields)? {
            request = request.header(name, value);
        }
        let mut request = request
            .body(file_body(multipart, file, range))
            .map_err(|_| malformed())?;
        let extensions = request.extensions_mut();
        extensions.insert(FormUpload {
            signature_version: signature.version(),
        });
        if let Some(principal) = signer {
            extensions.insert(InProcessCaller(principal));
        }
        if let Some(peer) = parts.extensions.get::<coffer_auth::PeerAddr>() {
            extensions.insert(peer.clone());
        }
        if let Some(log) = parts.extensions.get::<crate::RequestLog>() {
            extensions.insert(log.clone());
        }
        let stored = self
            .service()
            .call(request)
            .await
            .map_err(|err| S3Fault::internal(format!("{err:?}")))?;
        if !stored.status().is_success() {
            return Ok(stored);
        }
        let location = location(&parts, &key);
        Ok(form_answer(&fields, bucket, &key, &location, stored))
    }

    /// Who signed a form with `key_id`, and the secret to check its signature with: the
    /// session its token opens (the key is then the session's), else an active access key.
    async fn form_signer(
        &self,
        key_id: &str,
        token: Option<String>,
        sealer: &Sealer,
        now: OffsetDateTime,
    ) -> Result<(Principal, String)> {
        if let Some(token) = token {
            let opened = coffer_auth::session::open(sealer, &token, key_id, now).map_err(|err| match err {
                coffer_auth::session::TokenError::Invalid => S3Fault::InvalidToken,
                coffer_auth::session::TokenError::Expired => S3Fault::ExpiredToken,
            })?;
            return Ok((opened.principal, opened.secret_access_key));
        }
        match self.store.credential(key_id).await? {
            Some(credential) if credential.status == KeyStatus::Active => {
                self.store.record_key_use(&credential.access_key_id, "s3", "us-east-1");
                Ok((
                    Principal::from_credential(&credential),
                    credential.secret_access_key.clone(),
                ))
            }
            _ => Err(S3Fault::InvalidAccessKeyId),
        }
    }
}

/// The new object's URL, as the form reached it: `<scheme>://<host><bucket path>/<key>`.
fn location(parts: &Parts, key: &str) -> String {
    let host = parts
        .headers
        .get(http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("127.0.0.1");
    let facts = coffer_auth::RequestFacts::new(&parts.headers, parts.extensions.get::<coffer_auth::PeerAddr>(), None);
    let scheme = if facts.secure_transport { "https" } else { "http" };
    format!(
        "{scheme}://{host}{}/{}",
        parts.uri.path().trim_end_matches('/'),
        percent_encoding::utf8_percent_encode(key, crate::list::URL_ENCODED)
    )
}
