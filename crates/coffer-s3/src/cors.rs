//! CORS: Put/Get/DeleteBucketCors, the preflight (`OPTIONS`) answered from a bucket's rules,
//! and the `Access-Control-*` headers on every answer to a cross-origin request (errors and
//! presigned requests too). S3's user guide, "How does Amazon S3 evaluate the CORS
//! configuration on a bucket?": the first rule whose origin, method (a preflight's
//! `Access-Control-Request-Method`) and, for a preflight, every requested header match.
//!
//! A preflight carries no credentials and is answered before authentication, as S3 does; the
//! actual request is authorized as any other.

use s3s::dto::*;
use s3s::{S3Request, S3Response};

use crate::CofferS3;
use crate::error::{Result, S3Fault};
use coffer_store::CorsRule;

/// A bucket holds at most 100 rules.
const MAX_RULES: usize = 100;
const METHODS: [&str; 5] = ["GET", "PUT", "POST", "DELETE", "HEAD"];

/// `pattern` with at most one `*` matching any run of characters.
fn wildcard_matches(pattern: &str, value: &str, ignore_case: bool) -> bool {
    let (pattern, value) = if ignore_case {
        (pattern.to_ascii_lowercase(), value.to_ascii_lowercase())
    } else {
        (pattern.to_owned(), value.to_owned())
    };
    match pattern.split_once('*') {
        None => pattern == value,
        Some((start, end)) => {
            value.len() >= start.len() + end.len() && value.starts_with(start) && value.ends_with(end)
        }
    }
}

/// The first rule that lets `origin` use `method`, asking (in a preflight) for `headers`.
pub fn matching_rule<'r>(rules: &'r [CorsRule], origin: &str, method: &str, headers: &[&str]) -> Option<&'r CorsRule> {
    rules.iter().find(|rule| {
        rule.allowed_origins.iter().any(|o| wildcard_matches(o, origin, false))
            && rule.allowed_methods.iter().any(|m| m == method)
            && headers
                .iter()
                .all(|h| rule.allowed_headers.iter().any(|a| wildcard_matches(a, h, true)))
    })
}

/// The `Access-Control-*` headers a matching rule gives an answer to `origin`; a preflight
/// also echoes the headers it asked for and the rule's max age.
pub fn allow_headers(rule: &CorsRule, origin: &str, preflight_headers: Option<&[&str]>) -> Vec<(&'static str, String)> {
    let any_origin = rule.allowed_origins.iter().any(|o| o == "*");
    let mut headers = vec![
        (
            "access-control-allow-origin",
            if any_origin { "*".to_owned() } else { origin.to_owned() },
        ),
        ("access-control-allow-methods", rule.allowed_methods.join(", ")),
    ];
    if !any_origin {
        headers.push(("access-control-allow-credentials", "true".to_owned()));
    }
    if !rule.expose_headers.is_empty() {
        headers.push(("access-control-expose-headers", rule.expose_headers.join(", ")));
    }
    if let Some(max_age) = rule.max_age_seconds {
        headers.push(("access-control-max-age", max_age.to_string()));
    }
    if let Some(asked) = preflight_headers.filter(|h| !h.is_empty()) {
        headers.push(("access-control-allow-headers", asked.join(", ")));
    }
    headers.push((
        "vary",
        "Origin, Access-Control-Request-Headers, Access-Control-Request-Method".to_owned(),
    ));
    headers
}

/// The bucket a request names: `<bucket>.<domain>` virtual-hosted style, else the first
/// path segment.
pub fn bucket_of(uri: &http::Uri, host: Option<&str>, domain: Option<&crate::CofferHost>) -> Option<String> {
    if let Some(bucket) = domain.zip(host).and_then(|(domain, host)| domain.bucket_of(host)) {
        return Some(bucket.to_owned());
    }
    let segment = uri.path().trim_start_matches('/').split('/').next()?;
    let decoded = percent_encoding::percent_decode_str(segment).decode_utf8().ok()?;
    (!decoded.is_empty()).then(|| decoded.into_owned())
}

impl crate::S3Api {
    /// The answer to a CORS preflight (`OPTIONS`) on `bucket`: the matching rule's
    /// `Access-Control-*` headers, or S3's errors (400 without an origin or a method to ask
    /// about, 403 `CORSResponse` when the bucket has no rules or none matches).
    pub async fn preflight(&self, bucket: Option<&str>, headers: &http::HeaderMap) -> http::Response<s3s::Body> {
        match self.preflight_headers(bucket, headers).await {
            Ok(allowed) => {
                let mut response = http::Response::new(s3s::Body::empty());
                for (name, value) in allowed {
                    if let Ok(value) = http::HeaderValue::from_str(&value) {
                        response.headers_mut().insert(name, value);
                    }
                }
                response
            }
            Err(fault) => crate::error::error_response(fault).map(s3s::Body::from),
        }
    }

    async fn preflight_headers(
        &self,
        bucket: Option<&str>,
        headers: &http::HeaderMap,
    ) -> Result<Vec<(&'static str, String)>> {
        let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
        let (Some(origin), Some(bucket)) = (header("origin"), bucket) else {
            return Err(S3Fault::BadRequest(
                "Insufficient information. Origin request header needed.".to_owned(),
            ));
        };
        let method = header("access-control-request-method").unwrap_or("null");
        if !METHODS.contains(&method) {
            return Err(S3Fault::BadRequest(format!(
                "Invalid Access-Control-Request-Method: {method}"
            )));
        }
        let asked: Vec<String> = header("access-control-request-headers")
            .unwrap_or("")
            .split(',')
            .map(|h| h.trim().to_ascii_lowercase())
            .filter(|h| !h.is_empty())
            .collect();
        let asked: Vec<&str> = asked.iter().map(String::as_str).collect();
        let bucket = self
            .store
            .bucket(bucket)
            .await
            .map_err(S3Fault::from)?
            .ok_or(S3Fault::NoSuchBucket)?;
        let rules = bucket
            .cors
            .ok_or_else(|| S3Fault::CORSResponse("CORS is not enabled for this bucket.".to_owned()))?;
        let rule = matching_rule(&rules, origin, method, &asked).ok_or_else(|| {
            S3Fault::CORSResponse("This CORS request is not allowed. This is usually because the evalution of Origin, request method / Access-Control-Request-Method or Access-Control-Request-Headers are not whitelisted by the resource's CORS spec.".to_owned())
        })?;
        Ok(allow_headers(rule, origin, Some(&asked)))
    }

    /// The `Access-Control-*` headers for the answer to a cross-origin `method` request from
    /// `origin` on `bucket` (none when no rule matches or the bucket cannot be read).
    pub async fn cors_headers(&self, bucket: &str, method: &http::Method, origin: &str) -> Vec<(&'static str, String)> {
        let Ok(Some(bucket)) = self.store.bucket(bucket).await else {
            return Vec::new();
        };
        let Some(rules) = &bucket.cors else { return Vec::new() };
        match matching_rule(rules, origin, method.as_str(), &[]) {
            Some(rule) => allow_headers(rule, origin, None),
            None => Vec::new(),
        }
    }
}

/// Checks rules as S3 does before keeping them.
fn check(rules: &[CorsRule]) -> Result<()> {
    if rules.is_empty() || rules.len() > MAX_RULES {
        return Err(S3Fault::MalformedXML);
    }
    for rule in rules {
        if rule.allowed_methods.is_empty() || rule.allowed_origins.is_empty() {
            return Err(S3Fault::MalformedXML);
        }
        if let Some(method) = rule.allowed_methods.iter().find(|m| !METHODS.contains(&m.as_str())) {
            return Err(S3Fault::InvalidRequest(format!(
                "Found unsupported HTTP method in CORS config. Unsupported method is {method}"
            )));
        }
        for origin in &rule.allowed_origins {
            if origin.matches('*').count() > 1 {
                return Err(S3Fault::InvalidRequest(format!(
                    "AllowedOrigin \"{origin}\" can not have more than one wildcard."
                )));
            }
        }
        for header in &rule.allowed_headers {
            if header.matches('*').count() > 1 {
                return Err(S3Fault::InvalidRequest(format!(
                    "AllowedHeader \"{header}\" can not have more than one wildcard."
                )));
            }
        }
        if rule.id.as_ref().is_some_and(|id| id.chars().count() > 255) {
            return Err(S3Fault::InvalidArgument(
                "The ID must be no longer than 255 characters".to_owned(),
            ));
        }
    }
    Ok(())
}

pub(crate) async fn put_bucket_cors(
    s3: &CofferS3,
    req: S3Request<PutBucketCorsInput>,
) -> Result<S3Response<PutBucketCorsOutput>> {
    let input = req.input;
    let bucket = s3.bucket(&input.bucket).await?;
    let rules: Vec<CorsRule> = input
        .cors_configuration
        .cors_rules
        .into_iter()
        .map(|rule| CorsRule {
            id: rule.id,
            allowed_methods: rule.allowed_methods,
            allowed_origins: rule.allowed_origins,
            allowed_headers: rule.allowed_headers.unwrap_or_default(),
            expose_headers: rule.expose_headers.unwrap_or_default(),
            max_age_seconds: rule.max_age_seconds,
        })
        .collect();
    check(&rules)?;
    s3.store
        .set_bucket_cors(&bucket.name, Some(&rules))
        .await
        .map_err(S3Fault::from)?;
    Ok(S3Response::new(PutBucketCorsOutput {}))
}

pub(crate) async fn get_bucket_cors(
    s3: &CofferS3,
    req: S3Request<GetBucketCorsInput>,
) -> Result<S3Response<GetBucketCorsOutput>> {
    let bucket = s3.bucket(&req.input.bucket).await?;
    let rules = bucket.cors.ok_or(S3Fault::NoSuchCORSConfiguration)?;
    let rules = rules
        .into_iter()
        .map(|rule| CORSRule {
            id: rule.id,
            allowed_methods: rule.allowed_methods,
            allowed_origins: rule.allowed_origins,
            allowed_headers: (!rule.allowed_headers.is_empty()).then_some(rule.allowed_headers),
            expose_headers: (!rule.expose_headers.is_empty()).then_some(rule.expose_headers),
            max_age_seconds: rule.max_age_seconds,
        })
        .collect();
    Ok(S3Response::new(GetBucketCorsOutput {
        cors_rules: Some(rules),
    }))
}

pub(crate) async fn delete_bucket_cors(
    s3: &CofferS3,
    req: S3Request<DeleteBucketCorsInput>,
) -> Result<S3Response<DeleteBucketCorsOutput>> {
    let bucket = s3.bucket(&req.input.bucket).await?;
    s3.store
        .set_bucket_cors(&bucket.name, None)
        .await
        .map_err(S3Fault::from)?;
    let mut response = S3Response::new(DeleteBucketCorsOutput {});
    response.status = Some(http::StatusCode::NO_CONTENT);
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(methods: &[&str], origins: &[&str], headers: &[&str]) -> CorsRule {
        let owned = |list: &[&str]| list.iter().map(|s| s.to_string()).collect();
        CorsRule {
            allowed_methods: owned(methods),
            allowed_origins: owned(origins),
            allowed_headers: owned(headers),
            ..CorsRule::default()
        }
    }

    #[test]
    fn origins_match_with_one_wildcard_anywhere() {
        assert!(wildcard_matches("*suffix", "foo.suffix", false));
        assert!(!wildcard_matches("*suffix", "foo.suffix.get", false));
        assert!(wildcard_matches("start*end", "startend", false));
        assert!(wildcard_matches("start*end", "start12end", false));
        assert!(!wildcard_matches("start*end", "0start12end", false));
        assert!(!wildcard_matches("ab*ba", "aba", false), "the ends may not overlap");
        assert!(wildcard_matches("prefix*", "prefix", false));
        assert!(wildcard_matches("*", "anything", false));
        assert!(!wildcard_matches("https://A.example", "https://a.example", false));
        assert!(wildcard_matches("X-Amz-*", "x-amz-date", true));
    }

    #[test]
    fn the_first_rule_that_allows_origin_method_and_every_header_answers() {
        let rules = [
            rule(&["GET"], &["https://a.example"], &[]),
            rule(&["PUT", "GET"], &["https://*.example"], &["content-type", "x-amz-*"]),
        ];
        let picked = |origin, method, headers: &[&str]| {
            matching_rule(&rules, origin, method, headers).map(|r| r.allowed_methods.len())
        };
        assert_eq!(picked("https://a.example", "GET", &[]), Some(1));
        assert_eq!(picked("https://a.example", "GET", &["content-type"]), Some(2));
        assert_eq!(
            picked("https://b.example", "PUT", &["x-amz-date", "Content-Type"]),
            Some(2)
        );
        assert_eq!(picked("https://b.example", "PUT", &["authorization"]), None);
        assert_eq!(picked("https://b.example", "DELETE", &[]), None);
        assert_eq!(picked("http://evil.test", "GET", &[]), None);
    }

    #[test]
    fn a_wildcard_origin_is_answered_with_a_wildcard_and_no_credentials() {
        let open = rule(&["GET"], &["*"], &[]);
        let headers = allow_headers(&open, "https://a.example", None);
        assert!(headers.contains(&("access-control-allow-origin", "*".to_owned())));
        assert!(
            !headers
                .iter()
                .any(|(name, _)| *name == "access-control-allow-credentials")
        );
        let named = rule(&["GET", "PUT"], &["https://a.example"], &["*"]);
        let headers = allow_headers(&named, "https://a.example", Some(&["content-type"]));
        assert!(headers.contains(&("access-control-allow-origin", "https://a.example".to_owned())));
        assert!(headers.contains(&("access-control-allow-methods", "GET, PUT".to_owned())));
        assert!(headers.contains(&("access-control-allow-headers", "content-type".to_owned())));
    }

    #[test]
    fn rules_are_checked_as_s3_checks_them() {
        assert!(check(&[]).is_err());
        assert!(check(&[rule(&["GET"], &["*"], &[])]).is_ok());
        assert!(check(&[rule(&["PATCH"], &["*"], &[])]).is_err());
        assert!(check(&[rule(&["GET"], &["*.*.example"], &[])]).is_err());
        assert!(check(&[rule(&["GET"], &["*"], &["x-*-*"])]).is_err());
        assert!(check(&vec![rule(&["GET"], &["*"], &[]); 101]).is_err());
    }
}
