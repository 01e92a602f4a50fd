//! AWS Signature Version 4 for the Query APIs (IAM, STS): parsing the `Authorization` header or
//! the presigned query, rebuilding the canonical request, and checking the signature.
//! Follows "Create a signed AWS API request" in the IAM User Guide; non-S3 services normalise
//! the path and encode it twice, which is what the SDKs do for `iam` and `sts`.

use hmac::{Hmac, Mac};
use http::request::Parts;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc2822;
use time::macros::format_description;

pub const ALGORITHM: &str = "AWS4-HMAC-SHA256";
/// How far a request's time may be from ours (AWS: 15 minutes).
pub const MAX_CLOCK_SKEW: time::Duration = time::Duration::minutes(15);
/// The longest a presigned request may stay valid (AWS: 7 days).
pub const MAX_PRESIGN_EXPIRES_SECS: i64 = 604_800;

/// Everything but the unreserved characters of RFC 3986 is percent-encoded.
const STRICT: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');
const STRICT_KEEP_SLASH: &AsciiSet = &STRICT.remove(b'/');

/// Why a signature was not accepted. The Query front end maps each to AWS's error code.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SigError {
    /// The request carries no signature at all.
    #[error("Request is missing Authentication Token")]
    Missing,
    /// The signature is there but malformed or incomplete.
    #[error("{0}")]
    Incomplete(String),
    /// The signature does not match, or the request time is outside the allowed window.
    #[error("{0}")]
    Mismatch(String),
    /// A presigned request whose validity has passed.
    #[error("Request has expired")]
    Expired,
}

const MISMATCH: &str = "The request signature we calculated does not match the signature you provided. \
     Check your AWS Secret Access Key and signing method. Consult the service documentation for details.";

/// The credential scope: `<date>/<region>/<service>/aws4_request`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Scope {
    pub date: String,
    pub region: String,
    pub service: String,
}

impl Scope {
    fn to_string_to_sign(&self) -> String {
        format!("{}/{}/{}/aws4_request", self.date, self.region, self.service)
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Location {
    Header,
    Query { expires_secs: i64 },
}

/// A parsed, not yet verified, SigV4 signature.
#[derive(Clone, Debug)]
pub struct Signature {
    pub access_key_id: String,
    pub scope: Scope,
    signed_headers: Vec<String>,
    signature: String,
    amz_date: String,
    request_time: OffsetDateTime,
    location: Location,
}

/// The request's credential scope, read without validating anything else: the front door
/// routes on its service (Query APIs or S3), and key use is recorded with its region.
pub fn credential_scope(headers: &http::HeaderMap, uri: &http::Uri) -> Option<Scope> {
    credential(headers, uri).map(|(_, scope)| scope)
}

/// The access key id a SigV4 request names, read without validating anything: the audit
/// trail records who a refused request claimed to be.
pub fn credential_key_id(headers: &http::HeaderMap, uri: &http::Uri) -> Option<String> {
    credential(headers, uri).map(|(key, _)| key)
}

fn credential(headers: &http::HeaderMap, uri: &http::Uri) -> Option<(String, Scope)> {
    // Read on every request (routing, key use, the audit trail): borrowed where it can be.
    let credential: std::borrow::Cow<'_, str> =
        match headers.get(http::header::AUTHORIZATION).and_then(|v| v.to_str().ok()) {
            Some(auth) => auth.split_once("Credential=")?.1.split([',', ' ']).next()?.into(),
            None => query_pairs(uri.query().unwrap_or(""))
                .find(|(k, _)| k == "X-Amz-Credential")
                .map(|(_, v)| v)?
                .into(),
        };
    parse_credential(&credential).ok()
}

fn query_pairs(query: &str) -> impl Iterator<Item = (String, String)> + '_ {
    query.split('&').filter(|p| !p.is_empty()).map(|pair| {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        (decode(k), decode(v))
    })
}

/// Query strings are form-encoded: `+` is a space, as `aws-sigv4` and the Query API's
/// parameter parser both read it. Reading it differently here would let `%2B` be rewritten
/// to `+` on the wire without breaking the signature.
fn decode(text: &str) -> String {
    percent_decode_str(&text.replace('+', " "))
        .decode_utf8_lossy()
        .into_owned()
}

fn parse_amz_date(text: &str) -> Option<OffsetDateTime> {
    let format = format_description!("[year][month][day]T[hour][minute][second]Z");
    time::PrimitiveDateTime::parse(text, format)
        .ok()
        .map(|t| t.assume_utc())
}

fn format_amz_date(t: OffsetDateTime) -> String {
    let format = format_description!("[year][month][day]T[hour][minute][second]Z");
    t.format(format).unwrap_or_default()
}

pub(crate) fn parse_credential(credential: &str) -> Result<(String, Scope), SigError> {
    let mut parts = credential.split('/');
    let mut next = || parts.next();
    match [next(), next(), next(), next(), next(), next()] {
        [
            Some(key),
            Some(date),
            Some(region),
            Some(service),
            Some("aws4_request"),
            None,
        ] if !key.is_empty() && date.len() == 8 => Ok((
            key.to_owned(),
            Scope {
                date: date.to_owned(),
                region: region.to_owned(),
                service: service.to_owned(),
            },
        )),
        _ => Err(SigError::Incomplete(format!(
            "Credential should be scoped to a valid region, service and date: '{credential}'. \
             Expected <access key id>/<YYYYMMDD>/<region>/<service>/aws4_request."
        ))),
    }
}

impl Signature {
    /// Reads the signature from the `Authorization` header or, failing that, the presigned
    /// query. `Err(Missing)` when the request is not signed at all.
    pub fn parse(parts: &Parts) -> Result<Signature, SigError> {
        match parts.headers.get(http::header::AUTHORIZATION) {
            Some(value) => Self::parse_header(parts, value.to_str().unwrap_or("")),
            None => Self::parse_query(parts),
        }
    }

    fn parse_header(parts: &Parts, auth: &str) -> Result<Signature, SigError> {
        let Some(rest) = auth.strip_prefix(ALGORITHM).filter(|r| r.starts_with(' ')) else {
            return Err(SigError::Incomplete(format!(
                "Authorization header requires the {ALGORITHM} algorithm. Authorization={auth}"
            )));
        };
        let (mut credential, mut signed_headers, mut signature) = (None, None, None);
        for item in rest.split(',') {
            match item.trim().split_once('=') {
                Some(("Credential", v)) => credential = Some(v),
                Some(("SignedHeaders", v)) => signed_headers = Some(v),
                Some(("Signature", v)) => signature = Some(v),
                _ => {}
            }
        }
        let date = match parts.headers.get("x-amz-date") {
            // A present but unreadable X-Amz-Date is an error, never a cue to use Date instead.
            Some(value) => Some(value.to_str().ok().and_then(parse_amz_date).ok_or_else(|| {
                SigError::Incomplete(format!("X-Amz-Date must be in the ISO8601 Long Format: {value:?}"))
            })?),
            None => parts
                .headers
                .get(http::header::DATE)
                .and_then(|v| v.to_str().ok())
                .and_then(|date| OffsetDateTime::parse(date, &Rfc2822).ok()),
        };
        let mut missing = String::new();
        for (name, absent) in [
            ("Credential", credential.is_none()),
            ("Signature", signature.is_none()),
            ("SignedHeaders", signed_headers.is_none()),
        ] {
            if absent {
                missing.push_str(&format!("Authorization header requires '{name}' parameter. "));
            }
        }
        if date.is_none() {
            missing.push_str("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. ");
        }
        let (Some(credential), Some(signed_headers), Some(signature), Some(request_time)) =
            (credential, signed_headers, signature, date)
        else {
            return Err(SigError::Incomplete(format!("{missing}Authorization={auth}")));
        };
        let (access_key_id, scope) = parse_credential(credential)?;
        Ok(Signature {
            access_key_id,
            scope,
            signed_headers: signed_headers.split(';').map(str::to_owned).collect(),
            signature: signature.to_owned(),
            amz_date: parts
                .headers
                .get("x-amz-date")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
                .unwrap_or_else(|| format_amz_date(request_time)),
            request_time,
            location: Location::Header,
        })
    }

    fn parse_query(parts: &Parts) -> Result<Signature, SigError> {
        let query = parts.uri.query().unwrap_or("");
        let get = |name: &str| query_pairs(query).find(|(k, _)| k == name).map(|(_, v)| v);
        let Some(algorithm) = get("X-Amz-Algorithm") else {
            return Err(SigError::Missing);
        };
        if algorithm != ALGORITHM {
            return Err(SigError::Incomplete(format!(
                "X-Amz-Algorithm only supports {ALGORITHM}"
            )));
        }
        let mut missing = Vec::new();
        let mut required = |name: &'static str| {
            let value = get(name);
            if value.is_none() {
                missing.push(name);
            }
            value.unwrap_or_default()
        };
        let credential = required("X-Amz-Credential");
        let amz_date = required("X-Amz-Date");
        let expires = required("X-Amz-Expires");
        let signed_headers = required("X-Amz-SignedHeaders");
        let signature = required("X-Amz-Signature");
        if !missing.is_empty() {
            return Err(SigError::Incomplete(format!(
                "AWS query-string parameters must include {}. Re-examine the query-string parameters.",
                missing.iter().map(|m| format!("'{m}'")).collect::<Vec<_>>().join(", ")
            )));
        }
        let request_time = parse_amz_date(&amz_date).ok_or_else(|| {
            SigError::Incomplete(format!("X-Amz-Date must be in the ISO8601 Long Format: {amz_date}"))
        })?;
        let expires_secs = expires
            .parse::<i64>()
            .ok()
            .filter(|e| (1..=MAX_PRESIGN_EXPIRES_SECS).contains(e))
            .ok_or_else(|| {
                SigError::Incomplete(format!(
                    "X-Amz-Expires must be a number of seconds from 1 to {MAX_PRESIGN_EXPIRES_SECS}: {expires}"
                ))
            })?;
        let (access_key_id, scope) = parse_credential(&credential)?;
        Ok(Signature {
            access_key_id,
            scope,
            signed_headers: signed_headers.split(';').map(str::to_owned).collect(),
            signature,
            amz_date,
            request_time,
            location: Location::Query { expires_secs },
        })
    }

    /// Checks the signature of `parts` (with `body`) against `secret`, at time `now`.
    pub fn verify(&self, parts: &Parts, body: &[u8], secret: &str, now: OffsetDateTime) -> Result<(), SigError> {
        self.check_time(now)?;
        if !self.amz_date.starts_with(&self.scope.date) {
            return Err(SigError::Mismatch(format!(
                "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '{}' != '{}', from '{}'.",
                self.scope.date,
                self.amz_date.get(..8).unwrap_or(""),
                self.amz_date
            )));
        }
        if !self.signed_headers.iter().any(|h| h == "host") {
            return Err(SigError::Mismatch(MISMATCH.to_owned()));
        }
        let canonical = self.canonical_request(parts, &payload_hash(parts, body)?)?;
        let string_to_sign = format!(
            "{ALGORITHM}\n{}\n{}\n{}",
            self.amz_date,
            self.scope.to_string_to_sign(),
            hex::encode(Sha256::digest(canonical.as_bytes()))
        );
        let key = signing_key(secret, &self.scope);
        let expected = hex::encode(hmac(&key, string_to_sign.as_bytes()));
        if bool::from(expected.as_bytes().ct_eq(self.signature.as_bytes())) {
            Ok(())
        } else {
            Err(SigError::Mismatch(MISMATCH.to_owned()))
        }
    }

    fn check_time(&self, now: OffsetDateTime) -> Result<(), SigError> {
        let fmt = format_amz_date;
        if let Location::Query { expires_secs } = self.location {
            if (now - self.request_time).whole_seconds() > expires_secs {
                return Err(SigError::Expired);
            }
        } else if now - self.request_time > MAX_CLOCK_SKEW {
            return Err(SigError::Mismatch(format!(
                "Signature expired: {} is now earlier than {} ({} - 15 min.)",
                fmt(self.request_time),
                fmt(now - MAX_CLOCK_SKEW),
                fmt(now)
            )));
        }
        if self.request_time - now > MAX_CLOCK_SKEW {
            return Err(SigError::Mismatch(format!(
                "Signature not yet current: {} is still later than {} ({} + 15 min.)",
                fmt(self.request_time),
                fmt(now + MAX_CLOCK_SKEW),
                fmt(now)
            )));
        }
        Ok(())
    }

    fn canonical_request(&self, parts: &Parts, payload_hash: &str) -> Result<String, SigError> {
        let mut out = String::with_capacity(512);
        out.push_str(parts.method.as_str());
        out.push('\n');
        out.push_str(&canonical_uri(parts.uri.path()));
        out.push('\n');
        out.push_str(&canonical_query(
            parts.uri.query().unwrap_or(""),
            self.location != Location::Header,
        ));
        out.push('\n');
        for name in &self.signed_headers {
            let values: Vec<String> = parts
                .headers
                .get_all(name.as_str())
                .iter()
                .map(|v| collapse_spaces(&String::from_utf8_lossy(v.as_bytes())))
                .collect();
            if values.is_empty() {
                return Err(SigError::Mismatch(MISMATCH.to_owned()));
            }
            out.push_str(name);
            out.push(':');
            out.push_str(&values.join(","));
            out.push('\n');
        }
        out.push('\n');
        out.push_str(&self.signed_headers.join(";"));
        out.push('\n');
        out.push_str(payload_hash);
        Ok(out)
    }
}

/// The body's SHA-256, or the `x-amz-content-sha256` the client signed, which must then agree
/// with the body. `UNSIGNED-PAYLOAD` is refused: a Query API body carries the action and all
/// its parameters, so a signature that leaves it out would authenticate nothing that matters.
fn payload_hash(parts: &Parts, body: &[u8]) -> Result<String, SigError> {
    let actual = hex::encode(Sha256::digest(body));
    match parts.headers.get("x-amz-content-sha256").and_then(|v| v.to_str().ok()) {
        None => Ok(actual),
        Some(claimed) if claimed.eq_ignore_ascii_case(&actual) => Ok(claimed.to_owned()),
        Some(_) => Err(SigError::Mismatch(
            "The provided 'x-amz-content-sha256' header does not match what was computed.".to_owned(),
        )),
    }
}

/// Removes `.` and `..` segments, then encodes the already-encoded path once more.
fn canonical_uri(path: &str) -> String {
    let mut segments: Vec<&str> = Vec::new();
    for segment in path.split('/').skip(1) {
        match segment {
            "." | "" => {}
            ".." => {
                segments.pop();
            }
            s => segments.push(s),
        }
    }
    // RFC 3986 dot-segment removal leaves a trailing slash after a final `/`, `.` or `..`.
    let last = path.rsplit('/').next().unwrap_or("");
    let trailing = if matches!(last, "" | "." | "..") && !segments.is_empty() {
        "/"
    } else {
        ""
    };
    let normalized = format!("/{}{trailing}", segments.join("/"));
    utf8_percent_encode(&normalized, STRICT_KEEP_SLASH).to_string()
}

fn canonical_query(query: &str, presigned: bool) -> String {
    let mut pairs: Vec<(String, String)> = query_pairs(query)
        .filter(|(k, _)| !(presigned && k == "X-Amz-Signature"))
        .map(|(k, v)| {
            (
                utf8_percent_encode(&k, STRICT).to_string(),
                utf8_percent_encode(&v, STRICT).to_string(),
            )
        })
        .collect();
    pairs.sort();
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

fn collapse_spaces(value: &str) -> String {
    value.split_whitespace().collect::<Vec<_>>().join(" ")
}

pub(crate) fn hmac(key: &[u8], data: &[u8]) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC accepts keys of any length");
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

pub(crate) fn signing_key(secret: &str, scope: &Scope) -> Vec<u8> {
    let k_date = hmac(format!("AWS4{secret}").as_bytes(), scope.date.as_bytes());
    let k_region = hmac(&k_date, scope.region.as_bytes());
    let k_service = hmac(&k_region, scope.service.as_bytes());
    hmac(&k_service, b"aws4_request")
}

#[cfg(test)]
mod tests;
