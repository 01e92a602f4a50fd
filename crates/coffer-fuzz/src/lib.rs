//! Fuzz targets: one function for each parser Coffer itself runs on bytes from the network.
//! Each takes any bytes and must return, without a panic, a hang or memory growing out of
//! bound, whatever they are. The suite runs every target over its checked-in corpus
//! (`corpus/<target>/`) and thousands of mutations of it; `scripts/fuzz SECONDS` runs them
//! coverage-guided under libFuzzer (the `coffer-fuzz` binary, feature `libfuzzer`).
//!
//! `s3_request` serves whole S3 requests in process (signed, so they get past the signature
//! check), which reaches s3s's parsers (routing, headers, XML bodies, aws-chunked framing
//! and trailers, SigV2 and S3's SigV4) and Coffer's checks and operations behind them.
//! Not yet here: the console's forms.

pub mod s3_request;

pub use s3_request::s3_request;
use time::OffsetDateTime;

/// A fuzz target: any bytes in, nothing out, never a panic.
pub type Target = fn(&[u8]);

/// Every target, by the name of its corpus directory.
pub const TARGETS: &[(&str, Target)] = &[
    ("sigv4", sigv4),
    ("policy", policy),
    ("post_policy", post_policy),
    ("iam_query", iam_query),
    ("web_identity_token", web_identity_token),
    ("s3_request", s3_request),
];

/// The target named `name`.
pub fn target(name: &str) -> Option<Target> {
    TARGETS.iter().find(|(n, _)| *n == name).map(|(_, t)| *t)
}

/// The IAM and STS Query APIs' SigV4 check: an HTTP request head (`METHOD URI`, then
/// `Name: value` lines), a blank line, and the body.
pub fn sigv4(data: &[u8]) {
    let (head, body) = split_once(data, b"\n\n").unwrap_or((data, &[]));
    let Ok(head) = std::str::from_utf8(head) else { return };
    let mut lines = head.lines();
    let Some((method, uri)) = lines.next().and_then(|l| l.split_once(' ')) else {
        return;
    };
    let mut request = http::Request::builder().method(method).uri(uri);
    for line in lines {
        if let Some((name, value)) = line.split_once(':') {
            request = request.header(name.trim(), value.trim());
        }
    }
    let Ok(request) = request.body(()) else { return };
    let (parts, ()) = request.into_parts();
    if let Ok(signature) = coffer_auth::sigv4::Signature::parse(&parts) {
        let now = OffsetDateTime::from_unix_timestamp(1_767_225_600).expect("a valid time");
        let _ = signature.verify(&parts, body, "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", now);
    }
}

/// Policy documents (identity and resource), parsed and, when valid, evaluated for a request
/// with condition keys of every kind the operators compare.
pub fn policy(data: &[u8]) {
    use coffer_policy::{Policies, Policy, PolicyKind, RequestContext, RequestPrincipal, decide};
    let Ok(text) = std::str::from_utf8(data) else { return };
    let principal = RequestPrincipal {
        arn: "arn:aws:iam::123456789012:user/alice".to_owned(),
        account_id: "123456789012".to_owned(),
        is_root: false,
        entity_arn: None,
        federated: false,
        service: false,
    };
    let ctx = RequestContext::new("s3:GetObject", "arn:aws:s3:::bucket/a/b.txt", Some(principal))
        .with("aws:SourceIp", "192.0.2.7")
        .with("aws:CurrentTime", "2026-01-01T00:00:00Z")
        .with("aws:EpochTime", "1767225600")
        .with("aws:SecureTransport", "false")
        .with("s3:prefix", "a/")
        .with("s3:max-keys", "10")
        .with("aws:username", "alice")
        .with_values("aws:TagKeys", vec!["team".to_owned(), "cost".to_owned()]);
    for kind in [PolicyKind::Identity, PolicyKind::Resource] {
        let Ok(policy) = Policy::parse(text, kind) else {
            continue;
        };
        let policies = Policies {
            identity: if kind == PolicyKind::Identity {
                vec![&policy]
            } else {
                Vec::new()
            },
            resource: (kind == PolicyKind::Resource).then_some(&policy),
            resource_account: "123456789012".to_owned(),
            ..Policies::default()
        };
        let _ = decide(&policies, &ctx);
    }
}

/// A browser POST upload's policy: the form's base64 text as sent, and the bytes base64ed
/// (so the JSON inside is fuzzed as well as the encoding).
pub fn post_policy(data: &[u8]) {
    use base64::Engine;
    let _ = coffer_auth::post_form::PostPolicy::parse(&String::from_utf8_lossy(data));
    let encoded = base64::engine::general_purpose::STANDARD.encode(data);
    let _ = coffer_auth::post_form::PostPolicy::parse(&encoded);
}

/// An IAM or STS Query body (`Action=…&Name.member.1=…`).
pub fn iam_query(data: &[u8]) {
    let _ = coffer_iam::parse_query_for_fuzzing(data);
}

/// A web identity token (AssumeRoleWithWebIdentity): the bytes as a token, and as the
/// claims of one (so the JSON and the tag and source-identity claims are fuzzed too).
pub fn web_identity_token(data: &[u8]) {
    use base64::Engine;
    let _ = coffer_iam::read_web_identity_token_for_fuzzing(&String::from_utf8_lossy(data));
    let claims = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(data);
    let _ =
        coffer_iam::read_web_identity_token_for_fuzzing(&format!("eyJhbGciOiJSUzI1NiIsImtpZCI6ImsxIn0.{claims}.c2ln"));
}

fn split_once<'a>(data: &'a [u8], separator: &[u8]) -> Option<(&'a [u8], &'a [u8])> {
    let at = data.windows(separator.len()).position(|w| w == separator)?;
    Some((&data[..at], &data[at + separator.len()..]))
}
