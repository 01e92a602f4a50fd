//! Browser POST uploads (S3's PostObject): the policy document a form carries, checked
//! against the form's fields, and the form's signature over that policy (SigV4 or SigV2).
//! Pure: the front door reads the form and looks up the secret.
//!
//! Follows "Creating a POST policy" and "Browser-based uploads using POST" in the S3 API
//! reference: every field but the exempt ones must be named by a condition, an `eq` or
//! `starts-with` condition is checked against the field's value (an absent field reads as
//! empty), `content-length-range` bounds the file, and the signature is an HMAC of the
//! base64 policy text itself.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use subtle::ConstantTimeEq;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::sigv4;

/// The most bytes of form fields' names and values before the file (S3: "cannot exceed 20
/// KB"); the reader bounds the bytes around them too.
pub const MAX_FIELDS_BYTES: usize = 20 * 1024;

/// S3's longest key, in bytes.
const MAX_KEY_BYTES: usize = 1024;

/// A form's fields before its file, names lowercased (S3 reads them without regard to case).
#[derive(Clone, Debug, Default)]
pub struct FormFields {
    fields: Vec<(String, String)>,
}

impl FormFields {
    pub fn push(&mut self, name: &str, value: String) {
        self.fields.push((name.to_ascii_lowercase(), value));
    }

    /// A field's value; a field sent more than once reads as its values joined by commas.
    pub fn get(&self, name: &str) -> Option<String> {
        let mut values = self.fields.iter().filter(|(n, _)| n == name).map(|(_, v)| v.as_str());
        let first = values.next()?;
        Some(values.fold(first.to_owned(), |joined, value| joined + "," + value))
    }

    pub fn has(&self, name: &str) -> bool {
        self.fields.iter().any(|(n, _)| n == name)
    }

    /// The distinct field names, in the order first sent.
    pub fn names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = Vec::new();
        for (name, _) in &self.fields {
            if !names.contains(&name.as_str()) {
                names.push(name);
            }
        }
        names
    }

    /// Replaces `${filename}` in the key with the file's name (its last path segment, as a
    /// browser on Windows may send a whole path). S3 expands it before it checks the policy.
    /// A name longer than a key may be is refused before it is copied anywhere.
    pub fn expand_filename(&mut self, filename: &str) -> Result<(), FormRefusal> {
        let name = filename.rsplit(['/', '\\']).next().unwrap_or(filename);
        for (field, value) in &mut self.fields {
            if field == "key" && value.contains("${filename}") {
                if name.len() > MAX_KEY_BYTES {
                    return Err(FormRefusal::InvalidField(
                        "The file's name is longer than a key may be.".to_owned(),
                    ));
                }
                *value = value.replacen("${filename}", name, 1);
            }
        }
        Ok(())
    }
}

/// Why a form was refused, each with S3's code.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FormRefusal {
    /// 400 `InvalidPolicyDocument`: the policy cannot be read.
    InvalidPolicy(String),
    /// 403 `AccessDenied`: the policy does not allow this form (expired, a condition failed,
    /// a field it does not name).
    NotAllowed(String),
    /// 400 `InvalidArgument`: a field the form needs is missing (or came after the file).
    MissingField(&'static str),
    /// 400 `InvalidArgument` for a field whose value cannot be used.
    InvalidField(String),
    /// 403 `SignatureDoesNotMatch`.
    SignatureMismatch,
}

impl FormRefusal {
    pub fn message(&self) -> String {
        match self {
            FormRefusal::InvalidPolicy(m) | FormRefusal::NotAllowed(m) | FormRefusal::InvalidField(m) => m.clone(),
            FormRefusal::MissingField(name) => format!(
                "Bucket POST must contain a field named '{name}'.  If it is specified, please check the order of the fields."
            ),
            FormRefusal::SignatureMismatch => {
                "The request signature we calculated does not match the signature you provided. \
                 Check your key and signing method."
                    .to_owned()
            }
        }
    }
}

/// How a form is signed, read from which fields it has.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FormSignature {
    /// No signature: an anonymous upload, which only a bucket open to everyone takes.
    Anonymous,
    V4 {
        access_key_id: String,
        credential: String,
        signature: String,
    },
    V2 {
        access_key_id: String,
        signature: String,
    },
}

impl FormSignature {
    /// Reads the signature fields; a form with some of a scheme's fields but not all is
    /// refused naming the first one missing, as S3 does.
    pub fn of(fields: &FormFields) -> Result<FormSignature, FormRefusal> {
        let v4 = ["x-amz-algorithm", "x-amz-credential", "x-amz-date", "x-amz-signature"];
        let v2 = ["awsaccesskeyid", "signature"];
        let required =
            |name: &'static str, shown: &'static str| fields.get(name).ok_or(FormRefusal::MissingField(shown));
        if v4.iter().any(|name| fields.has(name)) {
            let algorithm = required("x-amz-algorithm", "X-Amz-Algorithm")?;
            let credential = required("x-amz-credential", "X-Amz-Credential")?;
            let date = required("x-amz-date", "X-Amz-Date")?;
            let signature = required("x-amz-signature", "X-Amz-Signature")?;
            required("policy", "Policy")?;
            if algorithm != sigv4::ALGORITHM {
                return Err(FormRefusal::InvalidField(format!(
                    "Unsupported algorithm '{algorithm}': only {} is supported.",
                    sigv4::ALGORITHM
                )));
            }
            let (access_key_id, scope) =
                sigv4::parse_credential(&credential).map_err(|err| FormRefusal::InvalidField(err.to_string()))?;
            // The credential's date is the day of the form's date.
            if !date.starts_with(&scope.date) || scope.service != "s3" {
                return Err(FormRefusal::InvalidField(format!(
                    "The X-Amz-Credential '{credential}' does not match the X-Amz-Date '{date}' and service s3."
                )));
            }
            return Ok(FormSignature::V4 {
                access_key_id,
                credential,
                signature,
            });
        }
        if v2.iter().any(|name| fields.has(name)) {
            let access_key_id = required("awsaccesskeyid", "AWSAccessKeyId")?;
            let signature = required("signature", "Signature")?;
            required("policy", "Policy")?;
            return Ok(FormSignature::V2 {
                access_key_id,
                signature,
            });
        }
        Ok(FormSignature::Anonymous)
    }

    /// The region a SigV4 form was signed for.
    pub fn region(&self) -> Option<&str> {
        match self {
            FormSignature::V4 { credential, .. } => credential.split('/').nth(2),
            _ => None,
        }
    }

    pub fn access_key_id(&self) -> Option<&str> {
        match self {
            FormSignature::Anonymous => None,
            FormSignature::V4 { access_key_id, .. } | FormSignature::V2 { access_key_id, .. } => Some(access_key_id),
        }
    }

    /// `s3:signatureversion`'s value for this form.
    pub fn version(&self) -> Option<&'static str> {
        match self {
            FormSignature::Anonymous => None,
            FormSignature::V4 { .. } => Some(sigv4::ALGORITHM),
            FormSignature::V2 { .. } => Some("AWS"),
        }
    }

    /// Checks the signature over `policy` (the base64 text as sent) with `secret`, in
    /// constant time. An anonymous form has no signature to pass.
    pub fn verify(&self, policy: &str, secret: &str) -> Result<(), FormRefusal> {
        let matches = match self {
            FormSignature::Anonymous => false,
            FormSignature::V4 {
                credential, signature, ..
            } => {
                let (_, scope) = sigv4::parse_credential(credential).map_err(|_| FormRefusal::SignatureMismatch)?;
                let expected = hex::encode(sigv4::hmac(&sigv4::signing_key(secret, &scope), policy.as_bytes()));
                bool::from(expected.as_bytes().ct_eq(signature.to_ascii_lowercase().as_bytes()))
            }
            FormSignature::V2 { signature, .. } => {
                let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, secret.as_bytes());
                let expected = BASE64.encode(ring::hmac::sign(&key, policy.as_bytes()).as_ref());
                bool::from(expected.as_bytes().ct_eq(signature.trim().as_bytes()))
            }
        };
        if matches {
            Ok(())
        } else {
            Err(FormRefusal::SignatureMismatch)
        }
    }
}

/// A policy condition; `shown` is how S3 echoes it when it fails.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Condition {
    /// `{"field": "value"}` or `["eq", "$field", "value"]`. `field` is `None` when the
    /// condition does not name a field with `$` (it can never hold).
    Equals {
        field: Option<String>,
        value: String,
        shown: String,
    },
    StartsWith {
        field: Option<String>,
        prefix: String,
        shown: String,
    },
    /// Bounds that are not numbers can never hold (S3 says the condition failed).
    LengthRange { bounds: Option<(u64, u64)>, shown: String },
}

/// A form's policy document, read.
#[derive(Clone, Debug)]
pub struct PostPolicy {
    expiration: OffsetDateTime,
    conditions: Vec<Condition>,
}

fn invalid(message: &str) -> FormRefusal {
    FormRefusal::InvalidPolicy(format!("Invalid Policy: {message}"))
}

fn shown(values: &[&serde_json::Value]) -> String {
    let items: Vec<String> = values.iter().map(|v| v.to_string()).collect();
    format!("[{}]", items.join(", "))
}

/// A condition's `$field` reference, lowercased (condition names ignore case, as field
/// names do).
fn field_ref(value: &serde_json::Value) -> Option<String> {
    value.as_str()?.strip_prefix('$').map(str::to_ascii_lowercase)
}

/// A `content-length-range` bound: a number or a numeric string. `Err` for a negative one
/// (the policy is malformed), `Ok(None)` for anything else that is not a whole number.
fn bound(value: &serde_json::Value) -> Result<Option<u64>, FormRefusal> {
    let number = match value {
        serde_json::Value::Number(n) => n.as_i64(),
        serde_json::Value::String(s) => s.trim().parse::<i64>().ok(),
        _ => None,
    };
    match number {
        Some(n) if n < 0 => Err(invalid("Invalid content-length-range: bounds must not be negative.")),
        Some(n) => Ok(Some(n as u64)),
        None => Ok(None),
    }
}

fn condition(value: &serde_json::Value) -> Result<Condition, FormRefusal> {
    match value {
        serde_json::Value::Object(map) => {
            let mut entries = map.iter();
            let (Some((name, value)), None) = (entries.next(), entries.next()) else {
                return Err(invalid(
                    "Invalid Simple-Condition: Simple-Conditions must have exactly one property specified.",
                ));
            };
            let value = value
                .as_str()
                .ok_or_else(|| invalid("Invalid Simple-Condition: value must be a string."))?;
            Ok(Condition::Equals {
                field: Some(name.to_ascii_lowercase()),
                value: value.to_owned(),
                shown: shown(&[&"eq".into(), &format!("${name}").into(), &value.into()]),
            })
        }
        serde_json::Value::Array(items) => {
            let operation = items
                .first()
                .and_then(|o| o.as_str())
                .unwrap_or_default()
                .to_ascii_lowercase();
            let [_, first, second] = items.as_slice() else {
                return Err(invalid(&format!(
                    "wrong number of arguments: {}",
                    shown(&items.iter().collect::<Vec<_>>())
                )));
            };
            let shown = shown(&items.iter().collect::<Vec<_>>());
            match operation.as_str() {
                "eq" | "starts-with" => {
                    let text = second
                        .as_str()
                        .ok_or_else(|| invalid(&format!("Invalid Condition: {shown}")))?
                        .to_owned();
                    let field = field_ref(first);
                    Ok(if operation == "eq" {
                        Condition::Equals {
                            field,
                            value: text,
                            shown,
                        }
                    } else {
                        Condition::StartsWith {
                            field,
                            prefix: text,
                            shown,
                        }
                    })
                }
                "content-length-range" => {
                    let bounds = match (bound(first)?, bound(second)?) {
                        (Some(min), Some(max)) => Some((min, max)),
                        _ => None,
                    };
                    Ok(Condition::LengthRange { bounds, shown })
                }
                _ => Err(invalid(&format!("Invalid Condition: unknown operation in {shown}"))),
            }
        }
        _ => Err(invalid("Invalid Condition: a condition is an object or an array.")),
    }
}

/// Fields no condition needs to name: the signature and what it covers, the file, fields a
/// form marks as ignored, and checksums of the file (computed by the page from the file the
/// user picked, after the policy was signed; a checksum can only make an upload stricter).
fn exempt(name: &str) -> bool {
    matches!(
        name,
        "file"
            | "policy"
            | "x-amz-signature"
            | "signature"
            | "awsaccesskeyid"
            | "x-amz-checksum-crc32"
            | "x-amz-checksum-crc32c"
            | "x-amz-checksum-crc64nvme"
            | "x-amz-checksum-sha1"
            | "x-amz-checksum-sha256"
    ) || name.starts_with("x-ignore-")
}

impl PostPolicy {
    /// Reads the `policy` field: base64 of a JSON document with `expiration` and `conditions`
    /// (both named exactly so: S3 reads the document's own names with case).
    pub fn parse(encoded: &str) -> Result<PostPolicy, FormRefusal> {
        let json = BASE64
            .decode(encoded.trim())
            .map_err(|_| invalid("Invalid 'Policy': the field is not base64."))?;
        let document: serde_json::Value = serde_json::from_slice(&json).map_err(|_| invalid("Invalid JSON."))?;
        let document = document.as_object().ok_or_else(|| invalid("Invalid JSON."))?;
        let expiration = document
            .get("expiration")
            .ok_or_else(|| invalid("Policy missing expiration."))?;
        let expiration = expiration
            .as_str()
            // ISO 8601 as S3 writes it (`2030-01-01T00:00:00.000Z`); RFC 3339's space
            // between date and time is not ISO 8601.
            .filter(|text| text.as_bytes().get(10) == Some(&b'T'))
            .and_then(|text| OffsetDateTime::parse(text, &Rfc3339).ok())
            .ok_or_else(|| invalid(&format!("Invalid 'expiration' value: {expiration}")))?;
        let conditions = document
            .get("conditions")
            .ok_or_else(|| invalid("Policy missing conditions."))?
            .as_array()
            .ok_or_else(|| invalid("Invalid 'conditions' value: must be a list."))?
            .iter()
            .map(condition)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(PostPolicy { expiration, conditions })
    }

    /// Checks the form's fields (with `${filename}` expanded) against the policy at `now`:
    /// `bucket` is the bucket the form was posted to, whatever a field says.
    pub fn check(&self, fields: &FormFields, bucket: &str, now: OffsetDateTime) -> Result<(), FormRefusal> {
        if now >= self.expiration {
            return Err(FormRefusal::NotAllowed(
                "Invalid according to Policy: Policy expired.".to_owned(),
            ));
        }
        let value_of = |field: &str| match field {
            "bucket" => bucket.to_owned(),
            _ => fields.get(field).unwrap_or_default(),
        };
        let failed = |shown: &str| {
            FormRefusal::NotAllowed(format!("Invalid according to Policy: Policy Condition failed: {shown}"))
        };
        for condition in &self.conditions {
            match condition {
                Condition::Equals { field, value, shown } => {
                    if field.as_deref().is_none_or(|field| value_of(field) != *value) {
                        return Err(failed(shown));
                    }
                }
                Condition::StartsWith { field, prefix, shown } => {
                    let Some(field) = field else { return Err(failed(shown)) };
                    let actual = value_of(field);
                    // A Content-Type may list several types: each must start so.
                    let holds = if field == "content-type" {
                        actual.split(',').all(|item| item.trim().starts_with(prefix.as_str()))
                    } else {
                        actual.starts_with(prefix.as_str())
                    };
                    if !holds {
                        return Err(failed(shown));
                    }
                }
                Condition::LengthRange { bounds: None, shown } => return Err(failed(shown)),
                Condition::LengthRange { .. } => {}
            }
        }
        let named = |name: &str| {
            self.conditions.iter().any(|c| match c {
                Condition::Equals { field, .. } | Condition::StartsWith { field, .. } => field.as_deref() == Some(name),
                Condition::LengthRange { .. } => false,
            })
        };
        if let Some(extra) = fields.names().into_iter().find(|name| !exempt(name) && !named(name)) {
            return Err(FormRefusal::NotAllowed(format!(
                "Invalid according to Policy: Extra input fields: {extra}"
            )));
        }
        Ok(())
    }

    /// The file's allowed size, inclusive, when the policy bounds it (the tightest of
    /// several ranges).
    pub fn length_range(&self) -> Option<(u64, u64)> {
        self.conditions
            .iter()
            .filter_map(|c| match c {
                Condition::LengthRange { bounds, .. } => *bounds,
                _ => None,
            })
            .reduce(|(min_a, max_a), (min_b, max_b)| (min_a.max(min_b), max_a.min(max_b)))
    }
}

#[cfg(test)]
mod tests;
