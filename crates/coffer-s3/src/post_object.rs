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
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

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
    /// The region a SigV4 form was signed for (`aws:RequestedRegion`).
    pub region: Option<String>,
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

/// Form fields that are PutObject's headers of the same name. A form cannot name the
/// request's own framing (`x-amz-content-sha256`, `x-amz-decoded-content-length`) or turn the
/// upload into another operation (`x-amz-copy-source`).
const HEADER_FIELDS: [&str; 13] = [
    "cache-control",
    "content-disposition",
    "content-encoding",
    "content-type",
    "expires",
    "x-amz-checksum-crc32",
    "x-amz-checksum-crc32c",
    "x-amz-checksum-crc64nvme",
    "x-amz-checksum-sha1",
    "x-amz-checksum-sha256",
    "x-amz-storage-class",
    "x-amz-website-redirect-location",
    "x-amz-expected-bucket-owner",
];

/// `x-amz-*` form fields that are PutObject headers, by prefix.
const AMZ_FIELD_PREFIXES: [&str; 4] = [
    "x-amz-meta-",
    "x-amz-server-side-encryption",
    "x-amz-grant-",
    "x-amz-object-lock-",
];

/// Whether a request is a form POST (`multipart/form-data`). s3s reads any such POST as a
/// browser upload and buffers its file: the front door serves those to a bucket's root here
/// and refuses the rest, so none reaches s3s.
pub fn is_form_post(parts: &Parts) -> bool {
    parts.method == Method::POST
        && parts
            .headers
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.to_ascii_lowercase().starts_with("multipart/form-data"))
}

/// s3s's PostObject, should a form ever reach it: refused. Forms are served before s3s
/// ([`S3Api::serve_form_upload`]); s3s's own would hold the file in memory, and be authorized
/// as the bucket's `s3:PostObject` rather than the key's `s3:PutObject`.
pub(crate) async fn post_object(
    _s3: &crate::CofferS3,
    _req: s3s::S3Request<s3s::dto::PostObjectInput>,
) -> Result<s3s::S3Response<s3s::dto::PostObjectOutput>> {
    Err(S3Fault::MethodNotAllowed)
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

/// The most bytes of the body read outside the file: the fields (S3's 20 KB) with their part
/// headers and boundaries before it, the delimiter after it. multer buffers a part's headers
/// whole, so without this bound one endless header line (before any signature is checked)
/// could fill memory. Inside the file, the policy's range and PutObject's limit bound it.
const OUTSIDE_FILE_BUDGET: u64 = MAX_FIELDS_BYTES as u64 + 16 * 1024;

/// Counts the body's bytes read outside the file (see [`OUTSIDE_FILE_BUDGET`]).
#[derive(Clone, Default)]
struct Budget(Arc<BudgetState>);

#[derive(Default)]
struct BudgetState {
    used: AtomicU64,
    in_file: AtomicBool,
    exceeded: AtomicBool,
}

impl Budget {
    /// Wraps the body: once the bytes read outside the file pass the budget, the next read
    /// fails (memory holds at most the budget and one chunk).
    fn bound<S, E>(
        &self,
        body: S,
    ) -> impl Stream<Item = std::result::Result<Bytes, Box<dyn StdError + Send + Sync>>> + Send + 'static
    where
        S: Stream<Item = std::result::Result<Bytes, E>> + Send + 'static,
        E: Into<Box<dyn StdError + Send + Sync>> + 'static,
    {
        let budget = self.clone();
        body.map(move |chunk| {
            let chunk = chunk.map_err(Into::into)?;
            let state = &budget.0;
            if !state.in_file.load(Ordering::Acquire) {
                let before = state.used.fetch_add(chunk.len() as u64, Ordering::AcqRel);
                if before > OUTSIDE_FILE_BUDGET {
                    state.exceeded.store(true, Ordering::Release);
                    return Err("the form's fields are too large".into());
                }
            }
            Ok(chunk)
        })
    }

    fn enter_file(&self) {
        self.0.in_file.store(true, Ordering::Release);
    }

    fn leave_file(&self) {
        self.0.used.store(0, Ordering::Release);
        self.0.in_file.store(false, Ordering::Release);
    }

    fn exceeded(&self) -> bool {
        self.0.exceeded.load(Ordering::Acquire)
    }
}

/// The file part as a body that refuses to go past `max` bytes or end short of `min`, and
/// ends only at a well-formed delimiter after the file (a body cut off or garbled there is a
/// broken upload, not a shorter file).
fn file_body(form: ReadForm, range: (u64, u64)) -> Body {
    let (min, max) = range;
    let ReadForm {
        multipart,
        file,
        budget,
        ..
    } = form;
    let frames = futures::stream::unfold(Some((multipart, file, budget, 0u64)), move |state| async move {
        let (mut multipart, mut file, budget, seen) = state?;
        match file.chunk().await {
            Ok(Some(chunk)) => {
                let seen = seen + chunk.len() as u64;
                if seen > max {
                    return Some((Err(FileError::TooLarge), None));
                }
                Some((Ok(Frame::data(chunk)), Some((multipart, file, budget, seen))))
            }
            Ok(None) if seen < min => Some((Err(FileError::TooSmall), None)),
            Ok(None) => {
                drop(file);
                budget.leave_file();
                // What follows the file is ignored, as S3 does, but it must be a form.
                match multipart.next_field().await {
                    Ok(_) => None,
                    Err(err) => Some((Err(FileError::Broken(err.to_string())), None)),
                }
            }
            Err(err) => Some((Err(FileError::Broken(err.to_string())), None)),
        }
    });
    Body::http_body_unsync(http_body_util::StreamBody::new(frames))
}

/// Fields a form may send once: a second `key` or signature is refused rather than read as
/// two values joined.
const SINGLE_FIELDS: [&str; 13] = [
    "key",
    "policy",
    "acl",
    "awsaccesskeyid",
    "signature",
    "x-amz-algorithm",
    "x-amz-credential",
    "x-amz-date",
    "x-amz-signature",
    "x-amz-security-token",
    "success_action_status",
    "success_action_redirect",
    "redirect",
];

/// A form's fields read up to its file (the file must be the last field: S3 ignores what
/// follows it).
struct ReadForm {
    fields: FormFields,
    multipart: multer::Multipart<'static>,
    file: multer::Field<'static>,
    budget: Budget,
}

async fn read_fields<S, E>(body: S, boundary: String) -> Result<ReadForm>
where
    S: Stream<Item = std::result::Result<Bytes, E>> + Send + 'static,
    E: Into<Box<dyn StdError + Send + Sync>> + 'static,
{
    let budget = Budget::default();
    let mut multipart = multer::Multipart::new(budget.bound(body), boundary);
    let mut fields = FormFields::default();
    let mut used = 0usize;
    // A body that fails while the fields are read failed the budget, or is not a form.
    let refused = |budget: &Budget| match budget.exceeded() {
        true => S3Fault::MaxPostPreDataLengthExceeded,
        false => S3Fault::MalformedPOSTRequest,
    };
    loop {
        let Some(mut field) = multipart.next_field().await.map_err(|_| refused(&budget))? else {
            return Err(S3Fault::InvalidArgument(
                "POST requires exactly one file upload per request.".to_owned(),
            ));
        };
        let name = match field.name() {
            Some(name) if !name.is_empty() => name.to_ascii_lowercase(),
            _ => return Err(S3Fault::MalformedPOSTRequest),
        };
        if name == "file" {
            budget.enter_file();
            return Ok(ReadForm {
                fields,
                multipart,
                file: field,
                budget,
            });
        }
        used += name.len();
        let mut value = Vec::new();
        while let Some(chunk) = field.chunk().await.map_err(|_| refused(&budget))? {
            used += chunk.len();
            if used > MAX_FIELDS_BYTES {
                return Err(S3Fault::MaxPostPreDataLengthExceeded);
            }
            value.extend_from_slice(&chunk);
        }
        if SINGLE_FIELDS.contains(&name.as_str()) && fields.has(&name) {
            return Err(S3Fault::InvalidArgument(format!(
                "The form field '{name}' may be sent only once."
            )));
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
        let header = HeaderName::from_bytes(header.as_bytes()).map_err(|_| S3Fault::MalformedPOSTRequest)?;
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
    pub async fn serve_form_upload<S, E>(
        &self,
        bucket: &str,
        parts: Parts,
        body: S,
        sealer: &Sealer,
    ) -> http::Response<Body>
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
        let boundary = multer::parse_boundary(content_type).map_err(|_| S3Fault::MalformedPOSTRequest)?;
        let mut form = read_fields(body, boundary).await?;
        let fields = &mut form.fields;
        if let Some(filename) = form.file.file_name() {
            fields.expand_filename(filename)?;
        }
        let key = fields.get("key").ok_or(FormRefusal::MissingField("key"))?;
        if key.is_empty() {
            return Err(S3Fault::InvalidArgument(
                "User key must have a length greater than 0.".to_owned(),
            ));
        }
        let now = OffsetDateTime::now_utc();
        let signature = FormSignature::of(fields)?;
        let token = fields.get("x-amz-security-token");
        let signer = match signature.access_key_id() {
            // A token is a credential only beside a signature made with its key.
            None if token.is_some() => return Err(S3Fault::InvalidToken),
            None => None,
            Some(key_id) => {
                let (principal, secret) = self.form_signer(key_id, token.as_deref(), sealer, now).await?;
                signature.verify(&fields.get("policy").unwrap_or_default(), &secret)?;
                if token.is_none() {
                    self.store
                        .record_key_use(key_id, "s3", signature.region().unwrap_or("us-east-1"));
                }
                Some(principal)
            }
        };
        let mut range = (0, u64::MAX);
        if let Some(policy) = fields.get("policy") {
            let policy = PostPolicy::parse(&policy)?;
            policy.check(fields, bucket, now)?;
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
        for (name, value) in put_headers(fields)? {
            request = request.header(name, value);
        }
        let fields = form.fields.clone();
        let mut request = request
            .body(file_body(form, range))
            .map_err(|_| S3Fault::MalformedPOSTRequest)?;
        let extensions = request.extensions_mut();
        extensions.insert(FormUpload {
            signature_version: signature.version(),
            region: signature.region().map(str::to_owned),
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
        token: Option<&str>,
        sealer: &Sealer,
        now: OffsetDateTime,
    ) -> Result<(Principal, String)> {
        if let Some(token) = token {
            let opened = coffer_auth::session::open(sealer, token, key_id, now).map_err(|err| match err {
                coffer_auth::session::TokenError::Invalid => S3Fault::InvalidToken,
                coffer_auth::session::TokenError::Expired => S3Fault::ExpiredToken,
            })?;
            return Ok((opened.principal, opened.secret_access_key));
        }
        match self.store.credential(key_id).await? {
            Some(credential) if credential.status == KeyStatus::Active => Ok((
                Principal::from_credential(&credential),
                credential.secret_access_key.clone(),
            )),
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
