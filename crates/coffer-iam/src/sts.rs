//! STS operations: GetCallerIdentity, AssumeRole, GetSessionToken, GetFederationToken,
//! GetAccessKeyInfo. Temporary credentials are
//! sealed tokens ([`coffer_auth::session`]): issuing them writes nothing but a role's
//! last-used time, and any node verifies them.

use coffer_auth::session::{self, SessionCredentials};
use coffer_auth::{Identity, ResourcePolicy, SessionFacts};
use coffer_policy::{Policy, PolicyKind};
use coffer_store::{Role, Store, StoreError, Tag};
use time::OffsetDateTime;

use crate::error::validation;
use crate::params::Params;
use crate::xml::Xml;
use crate::{Call, IamError, validate};

/// How long role sessions last unless asked otherwise.
pub(crate) const DEFAULT_ROLE_SESSION: i64 = 3600;
/// A session made with a role session's credentials (role chaining) lasts at most an hour.
const CHAINED_SESSION: i64 = 3600;
/// GetSessionToken: its default and longest for IAM users, and longest for the root user.
const DEFAULT_USER_SESSION: i64 = 43_200;
const MAX_USER_SESSION: i64 = 129_600;
const MAX_ROOT_SESSION: i64 = 3600;
/// What a token may carry of session policies and tags (AWS's plaintext quota); the answer's
/// `PackedPolicySize` is the share used, in percent.
const PACKED_ALLOTMENT: usize = 2048;
const MAX_POLICY_ARNS: usize = 10;

/// `GetCallerIdentity`: allowed to every authenticated caller, as in AWS.
pub(crate) async fn get_caller_identity(cx: &Call<'_>) -> Result<Option<String>, IamError> {
    cx.authorize("sts:GetCallerIdentity", "*").await?;
    let mut xml = Xml::new();
    xml.elem("Arn", &cx.caller.arn())
        .elem("UserId", &cx.caller.user_id())
        .elem("Account", &cx.caller.account_id);
    Ok(Some(xml.finish()))
}

/// `AssumeRole`: credentials for a session of a role whose trust policy lets the caller in.
pub(crate) async fn assume_role(cx: &Call<'_>) -> Result<Option<String>, IamError> {
    let role_arn = cx.params.require("RoleArn")?;
    let session_name = cx.params.require("RoleSessionName")?;
    role_session_name(session_name)?;
    let duration = duration_param(cx.params, 900..=43_200)?;
    let external_id = cx.params.get("ExternalId");
    if let Some(id) = external_id {
        validate::length(id, "externalId", 2, 1224)?;
        validate::word_pattern(id, "externalId", r"[\w+=,.@:\/-]*", "+=,.@:/-")?;
    }
    let source_identity = cx.params.get("SourceIdentity");
    if let Some(source) = source_identity {
        validate::length(source, "sourceIdentity", 2, 64)?;
        validate::word_pattern(source, "sourceIdentity", r"[\w+=,.@-]*", "+=,.@-")?;
        if source.to_ascii_lowercase().starts_with("aws:") {
            return Err(IamError::Validation(
                "The source identity cannot begin with the reserved prefix aws:".to_owned(),
            ));
        }
    }
    refuse_mfa(cx)?;
    if cx.params.get("ProvidedContexts.member.1.ProviderArn").is_some() {
        return Err(IamError::NotImplemented("AssumeRole with ProvidedContexts".to_owned()));
    }
    let policies = SessionPolicies::from_params(cx.params)?;
    let tags = session_tags(cx)?;
    let transitive = transitive_tag_keys(cx, &tags)?;

    if cx.caller.is_root() {
        return Err(IamError::AccessDenied(
            "Roles may not be assumed by root accounts.".to_owned(),
        ));
    }
    if matches!(cx.caller.identity, Identity::FederatedUser { .. }) {
        return Err(IamError::AccessDenied(
            "Federated users may not call AssumeRole; their credentials serve other services.".to_owned(),
        ));
    }
    let denied = || {
        IamError::AccessDenied(format!(
            "User: {} is not authorized to perform: sts:AssumeRole on resource: {role_arn}",
            cx.caller.arn()
        ))
    };
    let role = find_role(cx.store, role_arn).await?.ok_or_else(denied)?;

    // What a chained session inherits from the caller's session: its transitive tags (which
    // the new request may not set again) and its source identity (which it may not change).
    let caller_session = cx.caller.session.as_deref();
    let chained = matches!(cx.caller.identity, Identity::AssumedRole { .. });
    let mut all_tags: Vec<(String, String)> = Vec::new();
    let mut all_transitive: Vec<String> = Vec::new();
    if let Some(parent) = caller_session.filter(|_| chained) {
        for key in &parent.transitive_tag_keys {
            if let Some((k, v)) = parent.tags.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)) {
                if tags.iter().any(|t| t.key.eq_ignore_ascii_case(k)) {
                    return Err(IamError::InvalidParameterValue(format!(
                        "The transitive tag key {k} cannot be set again in a role chain."
                    )));
                }
                all_tags.push((k.clone(), v.clone()));
                all_transitive.push(k.clone());
            }
        }
    }
    let inherited_source = caller_session
        .filter(|_| chained)
        .and_then(|s| s.source_identity.clone());
    if let (Some(inherited), Some(asked)) = (&inherited_source, source_identity)
        && inherited != asked
    {
        return Err(IamError::AccessDenied(
            "The source identity of a role chain cannot be changed.".to_owned(),
        ));
    }
    let source_identity = inherited_source.or(source_identity.map(str::to_owned));

    // The trust policy (a resource policy on the role) and, across accounts or when it names
    // only the account, the caller's own policies decide, with the request's STS keys.
    let trust = Policy::parse(&role.trust_policy, PolicyKind::Resource).map_err(|_| denied())?;
    let trust = ResourcePolicy::new(trust);
    let mut keys: Vec<(&str, String)> = vec![("sts:RoleSessionName", session_name.to_owned())];
    if let Some(id) = external_id {
        keys.push(("sts:ExternalId", id.to_owned()));
    }
    if let Some(source) = &source_identity {
        keys.push(("sts:SourceIdentity", source.clone()));
    }
    let mut values = tag_values(&tags);
    if !transitive.is_empty() {
        values.push(("sts:TransitiveTagKeys".to_owned(), transitive.clone()));
    }
    let may = |action: &str| {
        cx.authz.may(&coffer_auth::Request {
            action,
            resource: role_arn,
            resource_account: &role.account_id,
            resource_policy: Some(&trust),
            keys: keys.clone(),
            values: values.clone(),
            trust: true,
            ..coffer_auth::Request::default()
        })
    };
    may("sts:AssumeRole").map_err(|_| denied())?;
    let refused = |action: &str| {
        IamError::AccessDenied(format!(
            "User: {} is not authorized to perform: {action} on resource: {role_arn}",
            cx.caller.arn()
        ))
    };
    // Tags passed now, or carried on from the chain (transitive), set the session's
    // principal tags: the trust policy must allow that.
    if !tags.is_empty() || !all_tags.is_empty() {
        may("sts:TagSession").map_err(|_| refused("sts:TagSession"))?;
    }
    if source_identity.is_some() && cx.params.get("SourceIdentity").is_some() {
        may("sts:SetSourceIdentity").map_err(|_| refused("sts:SetSourceIdentity"))?;
    }

    let duration = duration.unwrap_or(DEFAULT_ROLE_SESSION);
    if chained && duration > CHAINED_SESSION {
        return Err(IamError::Validation(
            "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining."
                .to_owned(),
        ));
    }
    if duration > role.max_session_duration {
        return Err(IamError::Validation(
            "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.".to_owned(),
        ));
    }
    policies.resolve(cx.store, &role.account_id).await?;

    // Session tags (the chain's transitive ones, then this request's, which win). The role's
    // own tags are read with its policies at each request, under these.
    for tag in &tags {
        all_tags.retain(|(k, _)| !k.eq_ignore_ascii_case(&tag.key));
        all_tags.push((tag.key.clone(), tag.value.clone()));
    }
    all_transitive.extend(transitive);
    let packed = policies.packed_len() + all_tags.iter().map(|(k, v)| k.len() + v.len()).sum::<usize>();
    let packed_percent = packed_percent(packed)?;

    let now = OffsetDateTime::now_utc().unix_timestamp();
    let facts = SessionFacts {
        issued_at: now,
        expires_at: now + duration,
        policy: policies.inline,
        policy_arns: policies.arns,
        tags: all_tags,
        transitive_tag_keys: all_transitive,
        source_identity: source_identity.clone(),
        refused_by_iam: false,
    };
    let region = cx
        .authz
        .facts()
        .region
        .clone()
        .unwrap_or_else(|| "us-east-1".to_owned());
    let credentials = issue_role_session(cx.store, &role, session_name, facts, &region).await?;
    let mut xml = Xml::new();
    write_credentials(&mut xml, &credentials);
    write_assumed_role_user(&mut xml, &role, session_name);
    if let Some(percent) = packed_percent {
        xml.elem("PackedPolicySize", &percent.to_string());
    }
    if let Some(source) = &source_identity {
        xml.elem("SourceIdentity", source);
    }
    Ok(Some(xml.finish()))
}

/// `GetSessionToken`: temporary credentials for the caller itself (an IAM user or the root
/// user), with its own permissions. No policy governs it (it authenticates, as AWS says);
/// IAM refuses its credentials, as AWS does without MFA.
pub(crate) async fn get_session_token(cx: &Call<'_>) -> Result<Option<String>, IamError> {
    let duration = duration_param(cx.params, 900..=MAX_USER_SESSION)?;
    refuse_mfa(cx)?;
    if cx.caller.is_session() {
        return Err(IamError::AccessDenied(
            "Cannot call GetSessionToken with session credentials".to_owned(),
        ));
    }
    let duration = own_session_duration(cx, duration);
    let now = OffsetDateTime::now_utc().unix_timestamp();
    let facts = SessionFacts {
        issued_at: now,
        expires_at: now + duration,
        refused_by_iam: true,
        ..SessionFacts::default()
    };
    let credentials = session::issue(cx.store.sealer(), cx.account(), cx.caller.identity.clone(), facts);
    let mut xml = Xml::new();
    write_credentials(&mut xml, &credentials);
    Ok(Some(xml.finish()))
}

/// `GetFederationToken`: credentials for a federated user named by the caller (an IAM user
/// or the root user), with the caller's permissions narrowed by the session policies given
/// (none given: no permissions at all).
pub(crate) async fn get_federation_token(cx: &Call<'_>) -> Result<Option<String>, IamError> {
    let name = cx.params.require("Name")?;
    validate::length(name, "name", 2, 32)?;
    validate::word_pattern(name, "name", r"[\w+=,.@-]*", "+=,.@-")?;
    let duration = duration_param(cx.params, 900..=MAX_USER_SESSION)?;
    if let Some(text) = cx.params.get("Policy") {
        validate::length(text, "policy", 1, 2048)?;
    }
    let policies = SessionPolicies::from_params(cx.params)?;
    let tags = session_tags(cx)?;
    if cx.caller.is_session() {
        return Err(IamError::AccessDenied(
            "Cannot call GetFederationToken with session credentials".to_owned(),
        ));
    }
    let arn = format!("arn:aws:sts::{}:federated-user/{name}", cx.account());
    cx.authorize_tagging_with("sts:GetFederationToken", &arn, Vec::new(), &tags)
        .await?;
    // Session tags become the federated user's aws:PrincipalTag/*: choosing them is its own
    // permission, as in AWS.
    if !tags.is_empty() {
        cx.authorize_tagging_with("sts:TagSession", &arn, Vec::new(), &tags)
            .await?;
    }
    policies.resolve(cx.store, cx.account()).await?;
    let packed = policies.packed_len() + tags.iter().map(|t| t.key.len() + t.value.len()).sum::<usize>();
    let packed_percent = packed_percent(packed)?;
    let user = match &cx.caller.identity {
        Identity::User { user_id, name, path } => Some((user_id.clone(), name.clone(), path.clone())),
        _ => None,
    };
    let duration = own_session_duration(cx, duration);
    let now = OffsetDateTime::now_utc().unix_timestamp();
    let facts = SessionFacts {
        issued_at: now,
        expires_at: now + duration,
        policy: policies.inline,
        policy_arns: policies.arns,
        tags: tags.into_iter().map(|t| (t.key, t.value)).collect(),
        refused_by_iam: true,
        ..SessionFacts::default()
    };
    let identity = Identity::FederatedUser {
        user,
        name: name.to_owned(),
    };
    let credentials = session::issue(cx.store.sealer(), cx.account(), identity, facts);
    let mut xml = Xml::new();
    write_credentials(&mut xml, &credentials);
    xml.with("FederatedUser", |x| {
        x.elem("FederatedUserId", &format!("{}:{name}", cx.account()))
            .elem("Arn", &arn);
    });
    if let Some(percent) = packed_percent {
        xml.elem("PackedPolicySize", &percent.to_string());
    }
    Ok(Some(xml.finish()))
}

/// `GetAccessKeyInfo`: the account an access key belongs to. Coffer knows every long-term
/// key; of temporary keys it knows only the caller's own (their tokens hold the rest).
pub(crate) async fn get_access_key_info(cx: &Call<'_>) -> Result<Option<String>, IamError> {
    let key = cx.params.require("AccessKeyId")?;
    validate::length(key, "accessKeyId", 16, 128)?;
    validate::word_pattern(key, "accessKeyId", r"[\w]*", "")?;
    cx.authorize("sts:GetAccessKeyInfo", "*").await?;
    let account = if key == cx.caller.access_key_id {
        Some(cx.account().to_owned())
    } else {
        cx.store
            .credential(key)
            .await?
            .map(|credential| credential.account_id.clone())
    };
    let account = account.ok_or_else(|| {
        IamError::InvalidParameterValue(format!("The access key ID {key} does not belong to a known account."))
    })?;
    let mut xml = Xml::new();
    xml.elem("Account", &account);
    Ok(Some(xml.finish()))
}

/// How long GetSessionToken's and GetFederationToken's credentials last: as asked, else 12
/// hours; the root user's at most an hour whatever was asked, as in AWS.
fn own_session_duration(cx: &Call<'_>, asked: Option<i64>) -> i64 {
    if cx.caller.is_root() {
        asked.unwrap_or(MAX_ROOT_SESSION).min(MAX_ROOT_SESSION)
    } else {
        asked.unwrap_or(DEFAULT_USER_SESSION).min(MAX_USER_SESSION)
    }
}

/// Issues a session of `role` named `session_name` with `facts`, and notes the role's use
/// (RoleLastUsed) in `region`.
pub(crate) async fn issue_role_session(
    store: &Store,
    role: &Role,
    session_name: &str,
    facts: SessionFacts,
    region: &str,
) -> Result<SessionCredentials, IamError> {
    let identity = Identity::AssumedRole {
        role_id: role.role_id.clone(),
        role_name: role.name.clone(),
        role_path: role.path.clone(),
        session_name: session_name.to_owned(),
    };
    let credentials = session::issue(store.sealer(), &role.account_id, identity, facts);
    store.record_role_use(&role.role_id, region).await?;
    Ok(credentials)
}

/// `<AssumedRoleUser>`: the session's id and ARN (the role's name, never its path).
pub(crate) fn write_assumed_role_user(xml: &mut Xml, role: &Role, session_name: &str) {
    xml.with("AssumedRoleUser", |x| {
        x.elem("AssumedRoleId", &format!("{}:{session_name}", role.role_id))
            .elem(
                "Arn",
                &format!(
                    "arn:aws:sts::{}:assumed-role/{}/{session_name}",
                    role.account_id, role.name
                ),
            );
    });
}

pub(crate) fn write_credentials(xml: &mut Xml, credentials: &SessionCredentials) {
    xml.with("Credentials", |x| {
        x.elem("AccessKeyId", &credentials.access_key_id)
            .elem("SecretAccessKey", &credentials.secret_access_key)
            .elem("SessionToken", &credentials.session_token)
            .elem("Expiration", &crate::xml::iso8601(credentials.expiration));
    });
}

/// The role `arn` names, if it exists with that very ARN (path included).
pub(crate) async fn find_role(store: &Store, arn: &str) -> Result<Option<Role>, IamError> {
    let (account, name) = role_arn_parts(arn)?;
    match store.role(account, name).await {
        Ok(role) if role.arn() == arn => Ok(Some(role)),
        Ok(_) | Err(StoreError::NoSuchRole) => Ok(None),
        Err(err) => Err(err.into()),
    }
}

/// The account and name a role ARN names (`ValidationError` when it is not a role ARN).
pub(crate) fn role_arn_parts(arn: &str) -> Result<(&str, &str), IamError> {
    validate::length(arn, "roleArn", 20, 2048)?;
    let malformed = || IamError::Validation(format!("{arn} is invalid"));
    let rest = arn.strip_prefix("arn:aws:iam::").ok_or_else(malformed)?;
    let (account, resource) = rest.split_once(':').ok_or_else(malformed)?;
    let path_and_name = resource.strip_prefix("role/").ok_or_else(malformed)?;
    if account.len() != 12 || !account.bytes().all(|b| b.is_ascii_digit()) || path_and_name.is_empty() {
        return Err(malformed());
    }
    Ok((account, path_and_name.rsplit('/').next().unwrap_or_default()))
}

/// The session policies a request passes: an inline document and managed policy ARNs.
pub(crate) struct SessionPolicies {
    pub(crate) inline: Option<String>,
    pub(crate) arns: Vec<String>,
}

impl SessionPolicies {
    pub(crate) fn from_params(params: &Params) -> Result<SessionPolicies, IamError> {
        let inline = match params.get("Policy") {
            None => None,
            Some(text) => {
                validate::length(text, "policy", 1, usize::MAX)?;
                // AWS's plaintext limit for an inline session policy, whitespace included
                // (AssumeRole's model sets no length: past it, the packed policy is too large).
                if text.chars().count() > PACKED_ALLOTMENT {
                    packed_percent(text.chars().count())?;
                }
                Policy::parse(text, PolicyKind::Identity)
                    .map_err(|e| IamError::MalformedPolicyDocument(e.to_string()))?;
                Some(text.to_owned())
            }
        };
        let mut arns: Vec<String> = (1..)
            .map_while(|i| params.get(&format!("PolicyArns.member.{i}.arn")))
            .map(str::to_owned)
            .collect();
        if arns.len() > MAX_POLICY_ARNS {
            return Err(IamError::Validation(format!(
                "1 validation error detected: Value at 'policyArns' failed to satisfy constraint: Member must have length less than or equal to {MAX_POLICY_ARNS}"
            )));
        }
        for (i, arn) in arns.iter().enumerate() {
            validate::length(arn, &format!("policyArns.{}.member.arn", i + 1), 20, 2048)?;
        }
        // Order and repeats change nothing: one canonical list per set.
        arns.sort();
        arns.dedup();
        Ok(SessionPolicies { inline, arns })
    }

    /// Checks that every managed policy exists (AWS managed, or customer managed in the
    /// role's account).
    pub(crate) async fn resolve(&self, store: &Store, account: &str) -> Result<(), IamError> {
        for arn in &self.arns {
            let exists = if arn.starts_with("arn:aws:iam::aws:policy/") {
                coffer_policy::aws_managed::find(arn).is_some()
            } else {
                match store.managed_policy(account, arn).await {
                    Ok(_) => true,
                    Err(StoreError::NoSuchPolicy) => false,
                    Err(err) => return Err(err.into()),
                }
            };
            if !exists {
                return Err(IamError::Validation(format!(
                    "The policy {arn} does not exist or is not attachable."
                )));
            }
        }
        Ok(())
    }

    /// The plaintext the session policies take in a token (the document without whitespace,
    /// as IAM counts its quotas, and each ARN).
    pub(crate) fn packed_len(&self) -> usize {
        let inline = self
            .inline
            .as_deref()
            .map_or(0, |text| text.chars().filter(|c| !c.is_whitespace()).count());
        inline + self.arns.iter().map(String::len).sum::<usize>()
    }
}

/// The share of [`PACKED_ALLOTMENT`] used, when anything was packed; `PackedPolicyTooLarge`
/// past it.
pub(crate) fn packed_percent(packed: usize) -> Result<Option<usize>, IamError> {
    if packed == 0 {
        return Ok(None);
    }
    let percent = (packed * 100).div_ceil(PACKED_ALLOTMENT);
    if packed > PACKED_ALLOTMENT {
        return Err(IamError::PackedPolicyTooLarge(format!(
            "Packed policy consumes {percent}% of allotted space, please use smaller policy for the session."
        )));
    }
    Ok(Some(percent))
}

/// `Tags.member.N`: session tags (keys unique without case).
fn session_tags(cx: &Call<'_>) -> Result<Vec<Tag>, IamError> {
    crate::users::tags_param(cx)
}

/// `TransitiveTagKeys.member.N`: each must be one of the session's tags.
fn transitive_tag_keys(cx: &Call<'_>, tags: &[Tag]) -> Result<Vec<String>, IamError> {
    let keys = cx.params.members("TransitiveTagKeys");
    if keys.len() > 50 {
        return Err(validation(
            None,
            "transitiveTagKeys",
            "Member must have length less than or equal to 50",
        ));
    }
    for key in &keys {
        if !tags.iter().any(|tag| tag.key.eq_ignore_ascii_case(key)) {
            return Err(IamError::InvalidParameterValue(
                "The specified transitive tag key must be included in the requested tags.".to_owned(),
            ));
        }
    }
    Ok(keys.into_iter().map(str::to_owned).collect())
}

/// `aws:RequestTag/<key>` for each session tag and `aws:TagKeys` for all of them.
fn tag_values(tags: &[Tag]) -> Vec<(String, Vec<String>)> {
    if tags.is_empty() {
        return Vec::new();
    }
    let mut values: Vec<(String, Vec<String>)> = tags
        .iter()
        .map(|tag| (format!("aws:RequestTag/{}", tag.key), vec![tag.value.clone()]))
        .collect();
    values.push((
        "aws:TagKeys".to_owned(),
        tags.iter().map(|tag| tag.key.clone()).collect(),
    ));
    values
}

/// Coffer has no MFA devices: a request naming one cannot be verified.
fn refuse_mfa(cx: &Call<'_>) -> Result<(), IamError> {
    if let Some(serial) = cx.params.get("SerialNumber") {
        validate::length(serial, "serialNumber", 9, 256)?;
    }
    if let Some(code) = cx.params.get("TokenCode") {
        validate::length(code, "tokenCode", 6, 6)?;
        validate::word_pattern(code, "tokenCode", r"[\d]*", "")?;
    }
    if cx.params.get("SerialNumber").is_some() || cx.params.get("TokenCode").is_some() {
        return Err(IamError::AccessDenied(
            "MultiFactorAuthentication failed with invalid MFA one time pass code. ".to_owned(),
        ));
    }
    Ok(())
}

/// `DurationSeconds`, if given, within `range`.
pub(crate) fn duration_param(params: &Params, range: std::ops::RangeInclusive<i64>) -> Result<Option<i64>, IamError> {
    let Some(text) = params.get("DurationSeconds") else {
        return Ok(None);
    };
    let seconds: i64 = text
        .parse()
        .map_err(|_| validation(Some(text), "durationSeconds", "Member must be an integer"))?;
    if seconds < *range.start() {
        return Err(validation(
            Some(text),
            "durationSeconds",
            &format!("Member must have value greater than or equal to {}", range.start()),
        ));
    }
    if seconds > *range.end() {
        return Err(validation(
            Some(text),
            "durationSeconds",
            &format!("Member must have value less than or equal to {}", range.end()),
        ));
    }
    Ok(Some(seconds))
}

pub(crate) fn role_session_name(name: &str) -> Result<(), IamError> {
    validate::length(name, "roleSessionName", 2, 64)?;
    validate::word_pattern(name, "roleSessionName", r"[\w+=,.@-]*", "+=,.@-")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_packed_share_is_rounded_up_and_refused_past_the_allotment() {
        assert_eq!(packed_percent(0).unwrap(), None);
        assert_eq!(packed_percent(1).unwrap(), Some(1));
        assert_eq!(packed_percent(1024).unwrap(), Some(50));
        assert_eq!(packed_percent(2048).unwrap(), Some(100));
        let err = packed_percent(2049).unwrap_err();
        assert_eq!(err.code_and_status().0, "PackedPolicyTooLarge");
        assert!(err.to_string().contains("101%"));
    }

    #[test]
    fn session_names_follow_sts_rules() {
        assert!(role_session_name("ci-42").is_ok());
        assert!(role_session_name("a@b.c=d,e+f_g").is_ok());
        assert!(role_session_name("x").is_err());
        assert!(role_session_name(&"x".repeat(65)).is_err());
        assert!(role_session_name("has space").is_err());
        assert!(role_session_name("slash/no").is_err());
    }
}
