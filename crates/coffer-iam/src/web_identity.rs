//! `AssumeRoleWithWebIdentity`: a role session for whoever holds an ID token (a JWT) from an
//! OpenID Connect provider the role's account registered. The request is not signed; the
//! token is the credential: its signature is checked against the provider's keys, its `iss`
//! names the provider, its `aud` (or `azp`) must be one of the provider's client ids, and it
//! must be within `nbf`..`exp`. The role's trust policy then decides, naming the provider as a
//! `Federated` principal, with `<provider>:sub`, `:aud`, `:amr` and `:oaud` as condition keys.

use base64::Engine;
use coffer_auth::{ResourcePolicy, SessionFacts};
use coffer_policy::{Policy, PolicyKind};
use coffer_store::{OidcProvider, Store, StoreError};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::Value;
use time::OffsetDateTime;

use crate::idp_keys::IdpKeys;
use crate::params::Params;
use crate::sts::{
    DEFAULT_ROLE_SESSION, SessionPolicies, duration_param, find_role, issue_role_session, packed_percent,
    role_arn_parts, role_session_name, write_assumed_role_user, write_credentials,
};
use crate::xml::Xml;
use crate::{IamError, validate};

/// Signature algorithms an ID token may use: public-key ones only (a shared-secret `HS*` or
/// `none` would let anyone who read the provider's keys mint tokens).
const ALGORITHMS: [Algorithm; 9] = [
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
    Algorithm::ES256,
    Algorithm::ES384,
    Algorithm::EdDSA,
];

fn invalid(message: impl Into<String>) -> IamError {
    IamError::InvalidIdentityToken(message.into())
}

pub(crate) async fn assume_role_with_web_identity(
    store: &Store,
    idp: &IdpKeys,
    params: &Params,
    facts: &coffer_auth::RequestFacts,
) -> Result<Option<String>, IamError> {
    let role_arn = params.require("RoleArn")?;
    let session_name = params.require("RoleSessionName")?;
    role_session_name(session_name)?;
    let token = params.require("WebIdentityToken")?;
    validate::length(token, "webIdentityToken", 4, 20_000)?;
    if params.get("ProviderId").is_some() {
        return Err(IamError::NotImplemented(
            "AssumeRoleWithWebIdentity with ProviderId (OAuth 2.0 access tokens)".to_owned(),
        ));
    }
    let duration = duration_param(params, 900..=43_200)?;
    if let Some(text) = params.get("Policy") {
        validate::length(text, "policy", 1, 2048)?;
    }
    let policies = SessionPolicies::from_params(params)?;

    let denied = || IamError::AccessDenied("Not authorized to perform sts:AssumeRoleWithWebIdentity".to_owned());
    // The token is checked before the role is looked up: who holds no valid token learns
    // nothing of which roles exist.
    let (account, _) = role_arn_parts(role_arn)?;
    let (claims, provider) = verify(store, idp, token, account).await?;
    let role = find_role(store, role_arn).await?.ok_or_else(denied)?;

    // The trust policy decides, with the token's claims as the provider's condition keys.
    let trust = Policy::parse(&role.trust_policy, PolicyKind::Resource).map_err(|_| denied())?;
    let trust = ResourcePolicy::new(trust);
    let url = &provider.url;
    let audience = audience(&claims, &provider).unwrap_or_default();
    let subject = claims.get("sub").and_then(Value::as_str).unwrap_or_default().to_owned();
    let mut values = vec![
        (format!("{url}:sub"), vec![subject.clone()]),
        (format!("{url}:aud"), vec![audience.clone()]),
        ("sts:RoleSessionName".to_owned(), vec![session_name.to_owned()]),
    ];
    if let Some(amr) = strings(claims.get("amr")) {
        values.push((format!("{url}:amr"), amr));
    }
    if let Some(all) = strings(claims.get("aud")) {
        values.push((
            format!("{url}:oaud"),
            all.into_iter().filter(|a| *a != audience).collect(),
        ));
    }
    // Session tags and a source identity the provider put in the token, as AWS reads them.
    let (tags, transitive) = token_tags(&claims)?;
    let source_identity = token_source_identity(&claims)?;
    if let Some(source) = &source_identity {
        values.push(("sts:SourceIdentity".to_owned(), vec![source.clone()]));
    }
    if !tags.is_empty() {
        values.extend(
            tags.iter()
                .map(|(k, v)| (format!("aws:RequestTag/{k}"), vec![v.clone()])),
        );
        values.push(("aws:TagKeys".to_owned(), tags.iter().map(|(k, _)| k.clone()).collect()));
    }
    if !transitive.is_empty() {
        values.push(("sts:TransitiveTagKeys".to_owned(), transitive.clone()));
    }
    let may = |action: &str| {
        let request = coffer_auth::Request {
            action,
            resource: role_arn,
            resource_account: &role.account_id,
            resource_policy: Some(&trust),
            facts: Some(facts),
            values: values.clone(),
            ..coffer_auth::Request::default()
        };
        coffer_auth::authorize_federated(&provider.arn(), &role.account_id, &request)
    };
    may("sts:AssumeRoleWithWebIdentity").map_err(|_| denied())?;
    // The token's tags and source identity need the trust policy's word too.
    let refused = |action: &str| IamError::AccessDenied(format!("Not authorized to perform {action}"));
    if !tags.is_empty() {
        may("sts:TagSession").map_err(|_| refused("sts:TagSession"))?;
    }
    if source_identity.is_some() {
        may("sts:SetSourceIdentity").map_err(|_| refused("sts:SetSourceIdentity"))?;
    }

    let duration = duration.unwrap_or(DEFAULT_ROLE_SESSION);
    if duration > role.max_session_duration {
        return Err(IamError::Validation(
            "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.".to_owned(),
        ));
    }
    policies.resolve(store, &role.account_id).await?;
    let packed = policies.packed_len() + tags.iter().map(|(k, v)| k.len() + v.len()).sum::<usize>();
    let packed_percent = packed_percent(packed)?;
    let now = OffsetDateTime::now_utc().unix_timestamp();
    let session_facts = SessionFacts {
        issued_at: now,
        expires_at: now + duration,
        policy: policies.inline,
        policy_arns: policies.arns,
        tags,
        transitive_tag_keys: transitive,
        source_identity: source_identity.clone(),
        ..SessionFacts::default()
    };
    let region = facts.region.clone().unwrap_or_else(|| "us-east-1".to_owned());
    let credentials = issue_role_session(store, &role, session_name, session_facts, &region).await?;
    let mut xml = Xml::new();
    write_credentials(&mut xml, &credentials);
    xml.elem("SubjectFromWebIdentityToken", &subject);
    write_assumed_role_user(&mut xml, &role, session_name);
    if let Some(percent) = packed_percent {
        xml.elem("PackedPolicySize", &percent.to_string());
    }
    let issuer = claims.get("iss").and_then(Value::as_str).unwrap_or_default();
    xml.elem("Provider", issuer).elem("Audience", &audience);
    if let Some(source) = &source_identity {
        xml.elem("SourceIdentity", source);
    }
    Ok(Some(xml.finish()))
}

/// A token's session tags, and the keys of those that are transitive.
type TokenTags = (Vec<(String, String)>, Vec<String>);

/// The claim AWS reads session tags from.
const TAGS_CLAIM: &str = "https://aws.amazon.com/tags";
/// The claim AWS reads a source identity from.
const SOURCE_IDENTITY_CLAIM: &str = "https://aws.amazon.com/source_identity";

/// The session tags of a token (`principal_tags`: each a list of one value) and which of them
/// are transitive, checked as AssumeRole's `Tags` are.
fn token_tags(claims: &serde_json::Map<String, Value>) -> Result<TokenTags, IamError> {
    let Some(claim) = claims.get(TAGS_CLAIM) else {
        return Ok((Vec::new(), Vec::new()));
    };
    let malformed = || invalid(format!("The {TAGS_CLAIM} claim is not valid."));
    let principal_tags = claim
        .get("principal_tags")
        .and_then(Value::as_object)
        .ok_or_else(malformed)?;
    if principal_tags.len() > 50 {
        return Err(malformed());
    }
    let mut tags = Vec::with_capacity(principal_tags.len());
    for (key, value) in principal_tags {
        let value = match value {
            Value::Array(list) if list.len() == 1 => list[0].as_str(),
            Value::String(one) => Some(one.as_str()),
            _ => None,
        }
        .ok_or_else(malformed)?;
        if key.is_empty() || key.chars().count() > 128 || value.chars().count() > 256 {
            return Err(malformed());
        }
        tags.push((key.clone(), value.to_owned()));
    }
    let transitive: Vec<String> = match claim.get("transitive_tag_keys") {
        None => Vec::new(),
        Some(keys) => strings(Some(keys)).ok_or_else(malformed)?,
    };
    if transitive
        .iter()
        .any(|key| !tags.iter().any(|(k, _)| k.eq_ignore_ascii_case(key)))
    {
        return Err(malformed());
    }
    Ok((tags, transitive))
}

/// The token's source identity, if the provider set one.
fn token_source_identity(claims: &serde_json::Map<String, Value>) -> Result<Option<String>, IamError> {
    match claims.get(SOURCE_IDENTITY_CLAIM) {
        None => Ok(None),
        Some(Value::String(source))
            if (2..=64).contains(&source.chars().count())
                && source
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "_+=,.@-".contains(c)) =>
        {
            Ok(Some(source.clone()))
        }
        Some(_) => Err(invalid(format!("The {SOURCE_IDENTITY_CLAIM} claim is not valid."))),
    }
}

/// Checks `token` and returns its claims and the provider (of `account`) that issued it.
async fn verify(
    store: &Store,
    idp: &IdpKeys,
    token: &str,
    account: &str,
) -> Result<(serde_json::Map<String, Value>, OidcProvider), IamError> {
    let header = jsonwebtoken::decode_header(token).map_err(|_| invalid("The ID token is not a well-formed JWT."))?;
    if !ALGORITHMS.contains(&header.alg) {
        return Err(invalid(format!(
            "Unsupported token signature algorithm: {:?}",
            header.alg
        )));
    }
    // The issuer is read before the signature can be checked: it names whose keys to check
    // it with. Nothing else of the payload is trusted until then.
    let unverified = payload(token).ok_or_else(|| invalid("The ID token is not a well-formed JWT."))?;
    let issuer = unverified
        .get("iss")
        .and_then(Value::as_str)
        .ok_or_else(|| invalid("The ID token has no iss claim."))?;
    let url = issuer
        .strip_prefix("https://")
        .map(|rest| rest.trim_end_matches('/'))
        .filter(|rest| !rest.is_empty())
        .ok_or_else(|| invalid(format!("The issuer {issuer} is not an https URL.")))?;
    let provider = match store.oidc_provider(account, url).await {
        Ok(provider) => provider,
        Err(StoreError::NoSuchOidcProvider) => {
            return Err(invalid(format!(
                "No OpenIDConnect provider found in your account for {issuer}"
            )));
        }
        Err(err) => return Err(err.into()),
    };

    // What went wrong is logged, not told: the caller is not authenticated, and the
    // provider's address is the account's business.
    let fetch_failed = |e: crate::idp_keys::FetchError| {
        tracing::warn!(provider = %url, err = %e, "could not fetch an identity provider's keys");
        IamError::IdpCommunicationError(
            "Couldn't retrieve verification key from your identity provider, please reference AssumeRoleWithWebIdentity documentation for requirements".to_owned(),
        )
    };
    let mut keys = idp.keys(url, false).await.map_err(fetch_failed)?;
    let find = |keys: &jsonwebtoken::jwk::JwkSet| match &header.kid {
        Some(kid) => keys.find(kid).cloned(),
        None if keys.keys.len() == 1 => keys.keys.first().cloned(),
        None => None,
    };
    let jwk = match find(&keys) {
        Some(jwk) => jwk,
        None => {
            // The provider may have rotated its keys since they were fetched.
            keys = idp.keys(url, true).await.map_err(fetch_failed)?;
            find(&keys).ok_or_else(|| invalid("The ID token was not signed by a key of its provider."))?
        }
    };
    let key = DecodingKey::from_jwk(&jwk).map_err(|_| invalid("The provider's key cannot be used."))?;
    // Times and audience are checked below, with STS's errors.
    let mut validation = Validation::new(header.alg);
    validation.required_spec_claims.clear();
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.validate_aud = false;
    let claims = jsonwebtoken::decode::<serde_json::Map<String, Value>>(token, &key, &validation)
        .map_err(|_| invalid("The ID token's signature is not valid."))?
        .claims;

    let now = OffsetDateTime::now_utc().unix_timestamp();
    let exp = claims
        .get("exp")
        .and_then(Value::as_i64)
        .ok_or_else(|| invalid("The ID token has no exp claim."))?;
    if now >= exp {
        return Err(IamError::ExpiredIdentityToken(format!(
            "Token expired: current date/time {} must be before the expiration date/time {}",
            crate::xml::iso8601(OffsetDateTime::from_unix_timestamp(now).unwrap_or(OffsetDateTime::UNIX_EPOCH)),
            crate::xml::iso8601(OffsetDateTime::from_unix_timestamp(exp).unwrap_or(OffsetDateTime::UNIX_EPOCH)),
        )));
    }
    if claims.get("nbf").and_then(Value::as_i64).is_some_and(|nbf| now < nbf) {
        return Err(IamError::IdpRejectedClaim(
            "The ID token is not valid yet (nbf).".to_owned(),
        ));
    }
    if audience(&claims, &provider).is_none() {
        return Err(invalid("Incorrect token audience"));
    }
    Ok((claims, provider))
}

/// The token's audience that is one of the provider's client ids: its `azp` when it has one
/// (the party the token was issued to), otherwise one of its `aud`.
fn audience(claims: &serde_json::Map<String, Value>, provider: &OidcProvider) -> Option<String> {
    let known = |id: &str| provider.client_ids.iter().any(|c| c == id);
    if let Some(azp) = claims.get("azp").and_then(Value::as_str) {
        return known(azp).then(|| azp.to_owned());
    }
    strings(claims.get("aud"))?.into_iter().find(|aud| known(aud))
}

/// A claim that is a string or a list of strings.
fn strings(value: Option<&Value>) -> Option<Vec<String>> {
    match value? {
        Value::String(s) => Some(vec![s.clone()]),
        Value::Array(items) => Some(items.iter().filter_map(Value::as_str).map(str::to_owned).collect()),
        _ => None,
    }
}

/// Reads `token` as AssumeRoleWithWebIdentity does before and after its signature check
/// (header, payload, session tags, source identity, audiences), for the fuzz targets;
/// whether its header is well-formed.
pub(crate) fn read_for_fuzzing(token: &str) -> bool {
    let header = jsonwebtoken::decode_header(token).is_ok();
    if let Some(claims) = payload(token) {
        let _ = token_tags(&claims);
        let _ = token_source_identity(&claims);
        let _ = strings(claims.get("aud"));
    }
    header
}

/// The payload of a compact JWS, decoded but not verified.
fn payload(token: &str) -> Option<serde_json::Map<String, Value>> {
    let mut parts = token.split('.');
    let (_, payload, _) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).ok()?;
    serde_json::from_slice(&bytes).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn provider(client_ids: &[&str]) -> OidcProvider {
        OidcProvider {
            provider_id: "OIDC1".into(),
            account_id: "111122223333".into(),
            url: "ci.example.com".into(),
            client_ids: client_ids.iter().map(|s| (*s).to_owned()).collect(),
            thumbprints: Vec::new(),
            created_at: OffsetDateTime::UNIX_EPOCH,
        }
    }

    fn claims(json: &str) -> serde_json::Map<String, Value> {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn the_audience_is_azp_if_present_else_a_known_aud() {
        let p = provider(&["sts.amazonaws.com", "app"]);
        assert_eq!(audience(&claims(r#"{"aud":"app"}"#), &p).as_deref(), Some("app"));
        assert_eq!(audience(&claims(r#"{"aud":["x","app"]}"#), &p).as_deref(), Some("app"));
        assert_eq!(audience(&claims(r#"{"aud":"x"}"#), &p), None);
        assert_eq!(audience(&claims(r#"{"aud":"app","azp":"x"}"#), &p), None);
        assert_eq!(
            audience(&claims(r#"{"aud":"x","azp":"app"}"#), &p).as_deref(),
            Some("app")
        );
        assert_eq!(audience(&claims(r#"{}"#), &p), None);
    }

    #[test]
    fn session_tags_and_source_identity_are_read_from_awss_claims() {
        let (tags, transitive) = token_tags(&claims(
            r#"{"https://aws.amazon.com/tags":{"principal_tags":{"team":["blue"],"cost":["42"]},"transitive_tag_keys":["team"]}}"#,
        ))
        .unwrap();
        assert!(tags.contains(&("team".into(), "blue".into())) && tags.contains(&("cost".into(), "42".into())));
        assert_eq!(transitive, ["team"]);
        assert_eq!(token_tags(&claims("{}")).unwrap(), (Vec::new(), Vec::new()));
        for bad in [
            r#"{"https://aws.amazon.com/tags":{"principal_tags":{"team":["a","b"]}}}"#,
            r#"{"https://aws.amazon.com/tags":{"principal_tags":{"team":["a"]},"transitive_tag_keys":["other"]}}"#,
            r#"{"https://aws.amazon.com/tags":"team=a"}"#,
        ] {
            assert!(token_tags(&claims(bad)).is_err(), "{bad}");
        }
        let source = claims(r#"{"https://aws.amazon.com/source_identity":"alice@example.com"}"#);
        assert_eq!(
            token_source_identity(&source).unwrap().as_deref(),
            Some("alice@example.com")
        );
        assert!(token_source_identity(&claims(r#"{"https://aws.amazon.com/source_identity":"x"}"#)).is_err());
        assert_eq!(token_source_identity(&claims("{}")).unwrap(), None);
    }

    #[test]
    fn only_three_part_tokens_have_a_payload() {
        let body = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(br#"{"iss":"https://a"}"#);
        assert!(payload(&format!("h.{body}.s")).is_some());
        assert!(payload(&format!("h.{body}")).is_none());
        assert!(payload(&format!("h.{body}.s.x")).is_none());
        assert!(payload("h.%%%.s").is_none());
    }
}
