//! The IAM and STS Query APIs: a form-encoded request in, AWS's XML out.
//!
//! [`QueryApi::handle`] parses the parameters, authenticates the caller (SigV4, through
//! `coffer-auth`), dispatches on `Action` to one handler per operation (named after it:
//! `users::create_user` is `CreateUser`), and renders the result or the error. Every handler
//! authorizes its own action on its own resource ARN before it acts. Errors meet the wire
//! in one place, [`error::IamError::code_and_status`].
//!
//! This crate never touches SQL or files directly: everything goes through `coffer_store::Store`.

mod access_keys;
mod account;
mod authorization_details;
mod credential_report;
mod error;
mod groups;
mod idp_keys;
mod inline_policies;
mod login_profiles;
mod managed_policies;
mod oidc;
mod operations;
mod paging;
mod params;
mod password_policy;
mod roles;
mod signin;
mod simulate;
mod sts;
mod users;
mod validate;
mod web_identity;
mod xml;

use std::time::Instant;

use coffer_auth::sigv4::SigError;
use coffer_auth::{AuthError, Principal, authenticate};
use coffer_store::{Store, ids};
use http::request::Parts;
use http::{HeaderValue, Response, StatusCode};

pub use error::IamError;

/// Parses an IAM/STS Query body as a request's is parsed, for the fuzz targets
/// (`coffer-fuzz`): the number of parameters, or `None` when it is refused.
#[doc(hidden)]
pub fn parse_query_for_fuzzing(encoded: &[u8]) -> Option<usize> {
    params::Params::parse(encoded).ok().map(|params| params.pairs().count())
}

/// Reads a web identity token as AssumeRoleWithWebIdentity does around its signature check,
/// for the fuzz targets (`coffer-fuzz`): whether its header is well-formed.
#[doc(hidden)]
pub fn read_web_identity_token_for_fuzzing(token: &str) -> bool {
    web_identity::read_for_fuzzing(token)
}
pub use managed_policies::check_managed_policy;

/// Why `value` cannot be an IAM tag value (0–256 letters, digits, spaces and `_.:/=+-@`), if
/// it cannot: what TagUser would answer, to check before a step that depends on it.
pub fn tag_value_problem(value: &str) -> Option<String> {
    validate::tag_value(value, "tags.member.1.member.value")
        .err()
        .map(|e| e.to_string())
}
pub use coffer_store::{SigninAttemptId, SigninHistory, SigninKey};
pub use idp_keys::{IdpKeys, IdpSettings};
use params::Params;
pub use signin::Next as SignInNext;

/// Which Query API a request is for: the credential scope's service decides.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Service {
    Iam,
    Sts,
}

impl Service {
    pub fn from_scope(service: &str) -> Option<Service> {
        match service {
            "iam" => Some(Service::Iam),
            "sts" => Some(Service::Sts),
            _ => None,
        }
    }

    fn namespace(self) -> &'static str {
        match self {
            Service::Iam => "https://iam.amazonaws.com/doc/2010-05-08/",
            Service::Sts => "https://sts.amazonaws.com/doc/2011-06-15/",
        }
    }

    fn version(self) -> &'static str {
        match self {
            Service::Iam => "2010-05-08",
            Service::Sts => "2011-06-15",
        }
    }

    fn prefix(self) -> &'static str {
        match self {
            Service::Iam => "iam",
            Service::Sts => "sts",
        }
    }
}

/// Whether `action` is an IAM or STS operation AWS defines (served or not): a name safe to
/// use as a metric's label value, where a client's made-up name is not.
pub fn is_aws_operation(action: &str) -> bool {
    operations::IAM_OPERATIONS.contains(&action) || operations::STS_OPERATIONS.contains(&action)
}

/// The largest form body the Query APIs read. IAM's largest documents (policies) are far
/// smaller; the bound keeps a client from making the server buffer without limit.
pub const MAX_QUERY_BODY: usize = 1024 * 1024;

/// One request being served: the store, the authenticated caller and the parameters.
pub(crate) struct Call<'a> {
    store: &'a Store,
    /// Who asks (the principal of `authz`).
    caller: &'a Principal,
    /// The caller with its policies and the request's facts: what every operation asks
    /// "may I", as S3's operations do.
    authz: &'a coffer_auth::Caller,
    /// Loads other principals' policies (for the simulator).
    authorizer: &'a coffer_auth::Authorizer,
    params: &'a Params,
}

impl Call<'_> {
    fn account(&self) -> &str {
        &self.caller.account_id
    }

    /// Authorizes `action` on `resource`, a resource of the caller's own account.
    async fn authorize(&self, action: &str, resource: &str) -> Result<(), IamError> {
        self.authorize_request(action, resource, Vec::new(), Vec::new()).await
    }

    /// As [`Call::authorize`] for a request that sets `tags` or removes the tags `removed`:
    /// with `aws:RequestTag/<key>` for each tag set and `aws:TagKeys` for every key named.
    async fn authorize_tagging(
        &self,
        action: &str,
        resource: &str,
        tags: &[coffer_store::Tag],
        removed: &[&str],
    ) -> Result<(), IamError> {
        self.authorize_request(action, resource, Vec::new(), tagging_values(tags, removed))
            .await
    }

    /// As [`Call::authorize_tagging`], with the operation's own condition keys too.
    async fn authorize_tagging_with(
        &self,
        action: &str,
        resource: &str,
        keys: Vec<(&str, String)>,
        tags: &[coffer_store::Tag],
    ) -> Result<(), IamError> {
        self.authorize_request(action, resource, keys, tagging_values(tags, &[]))
            .await
    }

    /// As [`Call::authorize`], with the operation's own condition keys (`iam:PolicyARN`…).
    async fn authorize_with(&self, action: &str, resource: &str, keys: Vec<(&str, String)>) -> Result<(), IamError> {
        self.authorize_request(action, resource, keys, Vec::new()).await
    }

    /// As [`Call::authorize`], keeping whether a denial was explicit.
    fn authorize_detailed(&self, action: &str, resource: &str) -> Result<(), coffer_auth::Denied> {
        self.authz.may(&coffer_auth::Request {
            action,
            resource,
            resource_account: &self.caller.account_id,
            ..coffer_auth::Request::default()
        })
    }

    async fn authorize_request(
        &self,
        action: &str,
        resource: &str,
        keys: Vec<(&str, String)>,
        mut values: Vec<(String, Vec<String>)>,
    ) -> Result<(), IamError> {
        // `aws:ResourceTag/*` of the user or role the request is about, read only when the
        // caller's policies read such a key (most never do: then no store read).
        if self.authz.reads_key_prefix("aws:resourcetag/") {
            values.extend(self.resource_tags(resource).await?);
        }
        self.authz.may(&coffer_auth::Request {
            action,
            resource,
            resource_account: &self.caller.account_id,
            keys,
            values,
            ..coffer_auth::Request::default()
        })?;
        Ok(())
    }
}

impl Call<'_> {
    /// `aws:ResourceTag/<key>` for each tag of the user or role of this account that
    /// `resource` names (none for other resources, or one that does not exist).
    async fn resource_tags(&self, resource: &str) -> Result<Vec<(String, Vec<String>)>, IamError> {
        let prefix = format!("arn:aws:iam::{}:", self.account());
        let Some(rest) = resource.strip_prefix(&prefix) else {
            return Ok(Vec::new());
        };
        let name = rest.rsplit('/').next().unwrap_or_default();
        let tags = if rest.starts_with("user/") {
            match self.store.list_user_tags(self.account(), name, None, 50).await {
                Ok(page) => page.items,
                Err(coffer_store::StoreError::NoSuchUser) => Vec::new(),
                Err(err) => return Err(err.into()),
            }
        } else if rest.starts_with("role/") {
            match self.store.list_role_tags(self.account(), name, None, 50).await {
                Ok(page) => page.items,
                Err(coffer_store::StoreError::NoSuchRole) => Vec::new(),
                Err(err) => return Err(err.into()),
            }
        } else {
            Vec::new()
        };
        Ok(tags
            .into_iter()
            .map(|tag| (format!("aws:ResourceTag/{}", tag.key), vec![tag.value]))
            .collect())
    }
}

/// The condition values of a request that sets `tags` or removes the tags `removed`:
/// `aws:RequestTag/<key>` for each tag set and `aws:TagKeys` for every key named.
fn tagging_values(tags: &[coffer_store::Tag], removed: &[&str]) -> Vec<(String, Vec<String>)> {
    let mut values: Vec<(String, Vec<String>)> = tags
        .iter()
        .map(|tag| (format!("aws:RequestTag/{}", tag.key), vec![tag.value.clone()]))
        .collect();
    let keys = tags.iter().map(|tag| tag.key.as_str()).chain(removed.iter().copied());
    values.push(("aws:TagKeys".to_owned(), keys.map(str::to_owned).collect()));
    values
}

/// Why `password` may not be a root user's password (IAM's default rules: at least 8
/// characters of three kinds, not the account's name), if it may not.
pub fn root_password_violation(account_name: &str, password: &str) -> Option<String> {
    password_policy::check(None, account_name, password)
        .err()
        .map(|e| e.to_string())
}

/// An IAM error as a client sees it: AWS's code, the HTTP status, the message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CallError {
    pub code: &'static str,
    pub status: u16,
    pub message: String,
}

/// The IAM and STS front end. Cheap to clone.
#[derive(Clone, Debug)]
pub struct QueryApi {
    store: Store,
    authorizer: coffer_auth::Authorizer,
    idp_keys: IdpKeys,
    audit: coffer_audit::Audit,
}

impl QueryApi {
    pub fn new(store: Store, authorizer: coffer_auth::Authorizer) -> Self {
        QueryApi {
            store,
            authorizer,
            idp_keys: IdpKeys::default(),
            audit: coffer_audit::Audit::off(),
        }
    }

    /// Where every call is recorded.
    pub fn with_audit(mut self, audit: coffer_audit::Audit) -> Self {
        self.audit = audit;
        self
    }

    /// Where identity providers' keys come from (AssumeRoleWithWebIdentity).
    pub fn with_idp_keys(mut self, idp_keys: IdpKeys) -> Self {
        self.idp_keys = idp_keys;
        self
    }

    /// Serves one Query API request. `service` is the credential scope's service, when the
    /// request is signed. Logs one line with the caller, the operation and the status.
    pub async fn handle(&self, service: Option<Service>, parts: &Parts, body: &[u8]) -> Response<String> {
        let started = Instant::now();
        let request_id = ids::request_id();
        let mut params = Params::default();
        let parsed = Params::parse(parts.uri.query().unwrap_or("").as_bytes())
            .and_then(|query| Params::parse(body).map(|form| (query, form)));
        let parsed = parsed.map(|(query, form)| {
            params.extend(query);
            params.extend(form);
        });
        let action = params.get("Action").unwrap_or("").to_owned();
        let service = service.unwrap_or_else(|| guess_service(&action));
        let mut caller_arn = String::from("-");
        let mut audited = coffer_audit::Caller::Unknown {
            access_key_id: coffer_auth::sigv4::credential_key_id(&parts.headers, &parts.uri),
        };
        let mut region = None;
        let result = match parsed {
            Err(err) => Err(err),
            // The token is the credential, not a signature (any signature is not looked at).
            Ok(()) if service == Service::Sts && UNSIGNED_STS.contains(&action.as_str()) => {
                let facts = coffer_auth::RequestFacts::from_request(&parts.headers, &parts.extensions, None);
                match action.as_str() {
                    "AssumeRoleWithWebIdentity" => {
                        caller_arn = "web-identity".to_owned();
                        audited = coffer_audit::Caller::WebIdentity;
                        web_identity::assume_role_with_web_identity(&self.store, &self.idp_keys, &params, &facts).await
                    }
                    other => not_implemented(other),
                }
            }
            Ok(()) => match authenticate(&self.store, parts, body).await {
                Err(err) => Err(err.into()),
                Ok((_, scope)) if scope.service != service.prefix() => {
                    Err(IamError::Auth(AuthError::Signature(SigError::Mismatch(format!(
                        "Credential should be scoped to correct service: '{}'. ",
                        service.prefix()
                    )))))
                }
                // GetSessionToken's and GetFederationToken's credentials are for other
                // services: AWS's IAM takes them only with MFA, which Coffer does not have.
                Ok((caller, _))
                    if service == Service::Iam && caller.session.as_ref().is_some_and(|s| s.refused_by_iam) =>
                {
                    audited = principal_caller(caller);
                    Err(IamError::Auth(AuthError::InvalidClientTokenId))
                }
                // Of STS, federated users may only ask who they are, and GetSessionToken's
                // credentials may also assume a role (AWS's GetSessionToken and
                // GetFederationToken references).
                Ok((caller, _)) if service == Service::Sts && !sts_allows(&caller, &action) => {
                    audited = principal_caller(caller);
                    Err(IamError::AccessDenied(format!(
                        "Cannot call {action} with these session credentials"
                    )))
                }
                Ok((caller, scope)) => {
                    caller_arn = caller.arn();
                    audited = principal_caller(caller.clone());
                    region = Some(scope.region.clone());
                    let facts =
                        coffer_auth::RequestFacts::from_request(&parts.headers, &parts.extensions, Some(scope.region));
                    match self.authorizer.grants(&self.store, &caller).await {
                        Err(err) => Err(err.into()),
                        Ok(grants) => {
                            let authz =
                                coffer_auth::Caller::new(caller.clone(), grants, facts, self.authorizer.clone());
                            let cx = Call {
                                store: &self.store,
                                caller: authz.principal(),
                                authz: &authz,
                                authorizer: &self.authorizer,
                                params: &params,
                            };
                            dispatch(service, &action, &cx).await
                        }
                    }
                }
            },
        };
        let facts = coffer_auth::RequestFacts::from_request(&parts.headers, &parts.extensions, None);
        let mut event = audit_event(service, &action, audited, &params, &result).from_client(&facts);
        event.request_id = Some(request_id.clone());
        if service == Service::Sts {
            event.region = coffer_audit::event::region_or_default(region);
        }
        // A call the trail could not record is not acknowledged.
        let result = match self.audit.record(event).await {
            Ok(()) => result,
            Err(coffer_audit::NotRecorded) => Err(IamError::ServiceFailure("audit record not written".into())),
        };
        let response = match result {
            Ok(result) => ok_response(service, &action, result.as_deref(), &request_id),
            Err(err) => {
                if err.code_and_status().1 == StatusCode::INTERNAL_SERVER_ERROR {
                    tracing::error!(%err, %request_id, "request failed");
                }
                error_response(service, &err, &request_id)
            }
        };
        tracing::info!(
            principal = %caller_arn,
            operation = %format_args!("{}:{}", service.prefix(), if action.is_empty() { "-" } else { &action }),
            status = response.status().as_u16(),
            micros = started.elapsed().as_micros() as u64,
            %request_id,
            "query request"
        );
        response
    }

    /// Which of `actions` the caller's policies allow on `resource` (an IAM ARN in the
    /// caller's account): for a page that shows the controls it may not use as disabled,
    /// with the reason. Advisory only: condition keys an operation adds itself
    /// (`iam:PolicyARN`, request tags) are absent here, and the operation still decides
    /// when it runs.
    pub async fn permits(
        &self,
        caller: &Principal,
        facts: &coffer_auth::RequestFacts,
        resource: &str,
        actions: &[&'static str],
    ) -> Vec<(&'static str, bool)> {
        let Ok(grants) = self.authorizer.grants(&self.store, caller).await else {
            return actions.iter().map(|action| (*action, true)).collect();
        };
        let authz = coffer_auth::Caller::new(caller.clone(), grants, facts.clone(), self.authorizer.clone());
        actions
            .iter()
            .map(|action| {
                let request = coffer_auth::Request {
                    action,
                    resource,
                    resource_account: &caller.account_id,
                    ..coffer_auth::Request::default()
                };
                (*action, authz.may(&request).is_ok())
            })
            .collect()
    }

    /// Whether the caller's policies allow `action` on `resource` (in the caller's account),
    /// for a console page that is not an IAM operation (Event history's
    /// `cloudtrail:LookupEvents`). Unlike [`QueryApi::permits`], it fails closed.
    pub async fn allows(
        &self,
        caller: &Principal,
        facts: &coffer_auth::RequestFacts,
        action: &str,
        resource: &str,
    ) -> bool {
        let Ok(grants) = self.authorizer.grants(&self.store, caller).await else {
            return false;
        };
        let authz = coffer_auth::Caller::new(caller.clone(), grants, facts.clone(), self.authorizer.clone());
        authz
            .may(&coffer_auth::Request {
                action,
                resource,
                resource_account: &caller.account_id,
                ..coffer_auth::Request::default()
            })
            .is_ok()
    }

    /// Runs one IAM operation as `caller`, exactly as a signed request would run it (the
    /// same validation, authorization and store calls): the console's way in. Returns the
    /// operation's result element (`<ListUsersResult>…`'s content) or AWS's error.
    pub async fn call_as(
        &self,
        caller: &Principal,
        facts: &coffer_auth::RequestFacts,
        action: &str,
        params: &[(&str, &str)],
    ) -> Result<Option<String>, CallError> {
        self.call_service_as(Service::Iam, caller, facts, action, params).await
    }

    /// The console's "Switch role": AssumeRole as `caller` (the same checks as a signed
    /// request), and the session it made, opened from its token, to act as.
    pub async fn switch_role(
        &self,
        caller: &Principal,
        facts: &coffer_auth::RequestFacts,
        role_arn: &str,
        session_name: &str,
    ) -> Result<Principal, CallError> {
        let params = [("RoleArn", role_arn), ("RoleSessionName", session_name)];
        let xml = self
            .call_service_as(Service::Sts, caller, facts, "AssumeRole", &params)
            .await?
            .unwrap_or_default();
        let field = |tag: &str| {
            xml.split(&format!("<{tag}>"))
                .nth(1)
                .and_then(|rest| rest.split(&format!("</{tag}>")).next())
                .map(str::to_owned)
        };
        let failed = || CallError {
            code: "ServiceFailure",
            status: 500,
            message: "An internal error occurred; the request was not completed.".to_owned(),
        };
        let (key, token) = (
            field("AccessKeyId").ok_or_else(failed)?,
            field("SessionToken").ok_or_else(failed)?,
        );
        coffer_auth::session::open(self.store.sealer(), &token, &key, time::OffsetDateTime::now_utc())
            .map(|opened| opened.principal)
            .map_err(|_| failed())
    }

    async fn call_service_as(
        &self,
        service: Service,
        caller: &Principal,
        facts: &coffer_auth::RequestFacts,
        action: &str,
        params: &[(&str, &str)],
    ) -> Result<Option<String>, CallError> {
        let params = Params::from_pairs(params);
        let result = match self.authorizer.grants(&self.store, caller).await {
            Err(err) => Err(IamError::from(err)),
            Ok(grants) => {
                let authz = coffer_auth::Caller::new(caller.clone(), grants, facts.clone(), self.authorizer.clone());
                let cx = Call {
                    store: &self.store,
                    caller: authz.principal(),
                    authz: &authz,
                    authorizer: &self.authorizer,
                    params: &params,
                };
                dispatch(service, action, &cx).await
            }
        };
        let console = coffer_audit::Caller::Principal {
            principal: caller.clone(),
            console: true,
        };
        let mut event = audit_event(service, action, console, &params, &result).from_client(facts);
        event.request_id = Some(ids::request_id());
        let result = match self.audit.record(event).await {
            Ok(()) => result,
            Err(coffer_audit::NotRecorded) => Err(IamError::ServiceFailure("audit record not written".into())),
        };
        tracing::info!(principal = %caller.arn(), operation = %format_args!("{}:{action}", service.prefix()), ok = result.is_ok(), "console call");
        result.map_err(|err| {
            let (code, status) = err.code_and_status();
            if status == StatusCode::INTERNAL_SERVER_ERROR {
                tracing::error!(%err, "console call failed");
            }
            CallError {
                code,
                status: status.as_u16(),
                message: err.public_message(),
            }
        })
    }

    /// The error for a body over [`MAX_QUERY_BODY`], in the service's error shape.
    pub fn body_too_large(&self, service: Option<Service>) -> Response<String> {
        let request_id = ids::request_id();
        error_response(
            service.unwrap_or(Service::Iam),
            &IamError::RequestTooLarge(MAX_QUERY_BODY),
            &request_id,
        )
    }
}

fn principal_caller(principal: Principal) -> coffer_audit::Caller {
    coffer_audit::Caller::Principal {
        principal,
        console: false,
    }
}

/// The audit record of a Query API call: its parameters, and for a call that changed
/// something, its result (secrets hidden in both); or its error.
fn audit_event(
    service: Service,
    action: &str,
    caller: coffer_audit::Caller,
    params: &Params,
    result: &Result<Option<String>, IamError>,
) -> coffer_audit::Event {
    let source = match service {
        Service::Iam => coffer_audit::Source::Iam,
        Service::Sts => coffer_audit::Source::Sts,
    };
    // A name the client made up is not a record's event name.
    let name = match is_aws_operation(action) {
        true => action,
        false => "-",
    };
    // An unauthenticated request's parameters are whatever anyone sent: not kept.
    let authenticated = !matches!(caller, coffer_audit::Caller::Unknown { .. });
    let mut event = coffer_audit::Event::new(source, name, caller);
    if authenticated {
        event.request_parameters = coffer_audit::elements::request_parameters(params.pairs());
    }
    // A role's account is told of the sessions made of its roles (a cross-account
    // AssumeRole shows in both accounts' Event history).
    if let Some(arn) = params.get("RoleArn").filter(|_| action.starts_with("AssumeRole")) {
        let account = arn
            .split(':')
            .nth(4)
            .filter(|a| a.len() == 12 && a.bytes().all(|b| b.is_ascii_digit()));
        event.recipient_account = account.map(str::to_owned);
    }
    match result {
        Ok(Some(xml)) if !event.read_only => {
            event.response_elements = coffer_audit::elements::response_elements(xml);
        }
        Ok(_) => {}
        Err(err) => event.error = Some((err.code_and_status().0.to_owned(), err.public_message())),
    }
    event
}

/// Whether STS serves `action` to `caller`: everything to long-term keys and role sessions;
/// to GetSessionToken's and GetFederationToken's credentials, only what AWS allows them.
fn sts_allows(caller: &Principal, action: &str) -> bool {
    match &caller.session {
        Some(facts) if facts.refused_by_iam => match caller.identity {
            coffer_auth::Identity::FederatedUser { .. } => action == "GetCallerIdentity",
            _ => matches!(action, "GetCallerIdentity" | "AssumeRole"),
        },
        _ => true,
    }
}

/// STS operations a client calls without signing: the request carries its own proof.
const UNSIGNED_STS: [&str; 2] = ["AssumeRoleWithWebIdentity", "AssumeRoleWithSAML"];

/// Unsigned requests name no service; answer in the namespace the action belongs to.
fn guess_service(action: &str) -> Service {
    if operations::STS_OPERATIONS.contains(&action) {
        Service::Sts
    } else {
        Service::Iam
    }
}

async fn dispatch(service: Service, action: &str, cx: &Call<'_>) -> Result<Option<String>, IamError> {
    match (service, action) {
        (_, "") => Err(IamError::MissingAction),
        (Service::Iam, "CreateUser") => users::create_user(cx).await,
        (Service::Iam, "GetUser") => users::get_user(cx).await,
        (Service::Iam, "ListUsers") => users::list_users(cx).await,
        (Service::Iam, "UpdateUser") => users::update_user(cx).await,
        (Service::Iam, "DeleteUser") => users::delete_user(cx).await,
        (Service::Iam, "TagUser") => users::tag_user(cx).await,
        (Service::Iam, "UntagUser") => users::untag_user(cx).await,
        (Service::Iam, "ListUserTags") => users::list_user_tags(cx).await,
        (Service::Iam, "CreateAccessKey") => access_keys::create_access_key(cx).await,
        (Service::Iam, "ListAccessKeys") => access_keys::list_access_keys(cx).await,
        (Service::Iam, "UpdateAccessKey") => access_keys::update_access_key(cx).await,
        (Service::Iam, "DeleteAccessKey") => access_keys::delete_access_key(cx).await,
        (Service::Iam, "GetAccessKeyLastUsed") => access_keys::get_access_key_last_used(cx).await,
        (Service::Iam, "CreateGroup") => groups::create_group(cx).await,
        (Service::Iam, "GetGroup") => groups::get_group(cx).await,
        (Service::Iam, "ListGroups") => groups::list_groups(cx).await,
        (Service::Iam, "UpdateGroup") => groups::update_group(cx).await,
        (Service::Iam, "DeleteGroup") => groups::delete_group(cx).await,
        (Service::Iam, "AddUserToGroup") => groups::add_user_to_group(cx).await,
        (Service::Iam, "RemoveUserFromGroup") => groups::remove_user_from_group(cx).await,
        (Service::Iam, "ListGroupsForUser") => groups::list_groups_for_user(cx).await,
        (Service::Iam, "PutUserPolicy") => inline_policies::put_user_policy(cx).await,
        (Service::Iam, "GetUserPolicy") => inline_policies::get_user_policy(cx).await,
        (Service::Iam, "ListUserPolicies") => inline_policies::list_user_policies(cx).await,
        (Service::Iam, "DeleteUserPolicy") => inline_policies::delete_user_policy(cx).await,
        (Service::Iam, "PutGroupPolicy") => inline_policies::put_group_policy(cx).await,
        (Service::Iam, "GetGroupPolicy") => inline_policies::get_group_policy(cx).await,
        (Service::Iam, "ListGroupPolicies") => inline_policies::list_group_policies(cx).await,
        (Service::Iam, "DeleteGroupPolicy") => inline_policies::delete_group_policy(cx).await,
        (Service::Iam, "CreatePolicy") => managed_policies::create_policy(cx).await,
        (Service::Iam, "GetPolicy") => managed_policies::get_policy(cx).await,
        (Service::Iam, "GetPolicyVersion") => managed_policies::get_policy_version(cx).await,
        (Service::Iam, "ListPolicies") => managed_policies::list_policies(cx).await,
        (Service::Iam, "DeletePolicy") => managed_policies::delete_policy(cx).await,
        (Service::Iam, "PutUserPermissionsBoundary") => managed_policies::put_user_permissions_boundary(cx).await,
        (Service::Iam, "DeleteUserPermissionsBoundary") => managed_policies::delete_user_permissions_boundary(cx).await,
        (Service::Iam, "TagPolicy") => managed_policies::tag_policy(cx).await,
        (Service::Iam, "UntagPolicy") => managed_policies::untag_policy(cx).await,
        (Service::Iam, "ListPolicyTags") => managed_policies::list_policy_tags(cx).await,
        (Service::Iam, "ListEntitiesForPolicy") => managed_policies::list_entities_for_policy(cx).await,
        (Service::Iam, "CreatePolicyVersion") => managed_policies::create_policy_version(cx).await,
        (Service::Iam, "ListPolicyVersions") => managed_policies::list_policy_versions(cx).await,
        (Service::Iam, "DeletePolicyVersion") => managed_policies::delete_policy_version(cx).await,
        (Service::Iam, "SetDefaultPolicyVersion") => managed_policies::set_default_policy_version(cx).await,
        (Service::Iam, "AttachUserPolicy") => managed_policies::attach_user_policy(cx).await,
        (Service::Iam, "DetachUserPolicy") => managed_policies::detach_user_policy(cx).await,
        (Service::Iam, "AttachGroupPolicy") => managed_policies::attach_group_policy(cx).await,
        (Service::Iam, "DetachGroupPolicy") => managed_policies::detach_group_policy(cx).await,
        (Service::Iam, "ListAttachedUserPolicies") => managed_policies::list_attached_user_policies(cx).await,
        (Service::Iam, "ListAttachedGroupPolicies") => managed_policies::list_attached_group_policies(cx).await,
        (Service::Iam, "SimulateCustomPolicy") => simulate::simulate_custom_policy(cx).await,
        (Service::Iam, "SimulatePrincipalPolicy") => simulate::simulate_principal_policy(cx).await,
        (Service::Iam, "CreateLoginProfile") => login_profiles::create_login_profile(cx).await,
        (Service::Iam, "GetLoginProfile") => login_profiles::get_login_profile(cx).await,
        (Service::Iam, "UpdateLoginProfile") => login_profiles::update_login_profile(cx).await,
        (Service::Iam, "DeleteLoginProfile") => login_profiles::delete_login_profile(cx).await,
        (Service::Iam, "ChangePassword") => login_profiles::change_password(cx).await,
        (Service::Iam, "GetAccountPasswordPolicy") => password_policy::get_account_password_policy(cx).await,
        (Service::Iam, "UpdateAccountPasswordPolicy") => password_policy::update_account_password_policy(cx).await,
        (Service::Iam, "DeleteAccountPasswordPolicy") => password_policy::delete_account_password_policy(cx).await,
        (Service::Iam, "CreateRole") => roles::create_role(cx).await,
        (Service::Iam, "GetRole") => roles::get_role(cx).await,
        (Service::Iam, "ListRoles") => roles::list_roles(cx).await,
        (Service::Iam, "UpdateRole") => roles::update_role(cx).await,
        (Service::Iam, "UpdateRoleDescription") => roles::update_role_description(cx).await,
        (Service::Iam, "UpdateAssumeRolePolicy") => roles::update_assume_role_policy(cx).await,
        (Service::Iam, "DeleteRole") => roles::delete_role(cx).await,
        (Service::Iam, "TagRole") => roles::tag_role(cx).await,
        (Service::Iam, "UntagRole") => roles::untag_role(cx).await,
        (Service::Iam, "ListRoleTags") => roles::list_role_tags(cx).await,
        (Service::Iam, "PutRolePolicy") => inline_policies::put_role_policy(cx).await,
        (Service::Iam, "GetRolePolicy") => inline_policies::get_role_policy(cx).await,
        (Service::Iam, "ListRolePolicies") => inline_policies::list_role_policies(cx).await,
        (Service::Iam, "DeleteRolePolicy") => inline_policies::delete_role_policy(cx).await,
        (Service::Iam, "AttachRolePolicy") => managed_policies::attach_role_policy(cx).await,
        (Service::Iam, "DetachRolePolicy") => managed_policies::detach_role_policy(cx).await,
        (Service::Iam, "ListAttachedRolePolicies") => managed_policies::list_attached_role_policies(cx).await,
        (Service::Iam, "PutRolePermissionsBoundary") => managed_policies::put_role_permissions_boundary(cx).await,
        (Service::Iam, "DeleteRolePermissionsBoundary") => managed_policies::delete_role_permissions_boundary(cx).await,
        (Service::Iam, "CreateOpenIDConnectProvider") => oidc::create_open_id_connect_provider(cx).await,
        (Service::Iam, "GetOpenIDConnectProvider") => oidc::get_open_id_connect_provider(cx).await,
        (Service::Iam, "ListOpenIDConnectProviders") => oidc::list_open_id_connect_providers(cx).await,
        (Service::Iam, "DeleteOpenIDConnectProvider") => oidc::delete_open_id_connect_provider(cx).await,
        (Service::Iam, "AddClientIDToOpenIDConnectProvider") => {
            oidc::add_client_id_to_open_id_connect_provider(cx).await
        }
        (Service::Iam, "RemoveClientIDFromOpenIDConnectProvider") => {
            oidc::remove_client_id_from_open_id_connect_provider(cx).await
        }
        (Service::Iam, "UpdateOpenIDConnectProviderThumbprint") => {
            oidc::update_open_id_connect_provider_thumbprint(cx).await
        }
        (Service::Iam, "TagOpenIDConnectProvider") => oidc::tag_open_id_connect_provider(cx).await,
        (Service::Iam, "UntagOpenIDConnectProvider") => oidc::untag_open_id_connect_provider(cx).await,
        (Service::Iam, "ListOpenIDConnectProviderTags") => oidc::list_open_id_connect_provider_tags(cx).await,
        (Service::Iam, "GetAccountAuthorizationDetails") => {
            authorization_details::get_account_authorization_details(cx).await
        }
        (Service::Iam, "GenerateCredentialReport") => credential_report::generate_credential_report(cx).await,
        (Service::Iam, "GetCredentialReport") => credential_report::get_credential_report(cx).await,
        (Service::Iam, "GetAccountSummary") => account::get_account_summary(cx).await,
        (Service::Iam, "CreateAccountAlias") => account::create_account_alias(cx).await,
        (Service::Iam, "ListAccountAliases") => account::list_account_aliases(cx).await,
        (Service::Iam, "DeleteAccountAlias") => account::delete_account_alias(cx).await,
        (Service::Sts, "GetCallerIdentity") => sts::get_caller_identity(cx).await,
        (Service::Sts, "AssumeRole") => sts::assume_role(cx).await,
        (Service::Sts, "GetSessionToken") => sts::get_session_token(cx).await,
        (Service::Sts, "GetFederationToken") => sts::get_federation_token(cx).await,
        (Service::Sts, "GetAccessKeyInfo") => sts::get_access_key_info(cx).await,
        // Supported operations are all matched above; operations::SUPPORTED lists them for the docs.
        (Service::Iam, other) if operations::IAM_OPERATIONS.contains(&other) => not_implemented(other),
        (Service::Sts, other) if operations::STS_OPERATIONS.contains(&other) => not_implemented(other),
        (service, other) => Err(IamError::InvalidAction(other.to_owned(), service.version())),
    }
}

fn not_implemented(action: &str) -> Result<Option<String>, IamError> {
    debug_assert!(
        !operations::SUPPORTED.contains(&action),
        "{action} is supported but not dispatched"
    );
    Err(IamError::NotImplemented(action.to_owned()))
}

fn xml_response(status: StatusCode, body: String, request_id: &str) -> Response<String> {
    let mut response = Response::new(body);
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(http::header::CONTENT_TYPE, HeaderValue::from_static("text/xml"));
    if let Ok(id) = HeaderValue::from_str(request_id) {
        headers.insert("x-amzn-requestid", id);
    }
    response
}

fn ok_response(service: Service, action: &str, result: Option<&str>, request_id: &str) -> Response<String> {
    let result = result
        .map(|inner| format!("<{action}Result>{inner}</{action}Result>"))
        .unwrap_or_default();
    let body = format!(
        r#"<{action}Response xmlns="{}">{result}<ResponseMetadata><RequestId>{request_id}</RequestId></ResponseMetadata></{action}Response>"#,
        service.namespace()
    );
    xml_response(StatusCode::OK, body, request_id)
}

fn error_response(service: Service, err: &IamError, request_id: &str) -> Response<String> {
    xml_response(
        err.code_and_status().1,
        err.to_xml(service.namespace(), request_id),
        request_id,
    )
}
