//! One call as CloudTrail records it (`eventVersion` 1.08): who, from where, what, with which
//! parameters, and how it ended. Built by the front ends, written by the journal.

use coffer_auth::{Identity, Principal};
use serde_json::{Map, Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// What CloudTrail writes in place of a secret.
pub const HIDDEN: &str = "HIDDEN_DUE_TO_SECURITY_REASONS";

/// The service a call was made to, as CloudTrail's `eventSource` names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    Iam,
    Sts,
    S3,
    Kms,
    /// The console's sign-in page.
    Signin,
}

impl Source {
    pub fn name(self) -> &'static str {
        match self {
            Source::Iam => "iam.amazonaws.com",
            Source::Sts => "sts.amazonaws.com",
            Source::S3 => "s3.amazonaws.com",
            Source::Kms => "kms.amazonaws.com",
            Source::Signin => "signin.amazonaws.com",
        }
    }
}

/// Who made a call.
#[derive(Clone, Debug)]
pub enum Caller {
    /// An authenticated principal; `console` when it acted through the console.
    Principal { principal: Principal, console: bool },
    /// Nobody Coffer could authenticate: a bad signature, an unknown or inactive key. The
    /// key id the request named, if any, so the record still answers "who used this key".
    Unknown { access_key_id: Option<String> },
    /// An anonymous S3 request.
    Anonymous,
    /// An identity provider's user (AssumeRoleWithWebIdentity).
    WebIdentity,
    /// A console sign-in attempt for this account's root or one of its IAM users; `user`
    /// `None` for the root. An unknown name is hidden (people type passwords into it).
    SigningIn {
        account_id: String,
        user: Option<SigningInUser>,
    },
}

#[derive(Clone, Debug)]
pub struct SigningInUser {
    /// The user's id and ARN when the name is one of the account's users.
    pub known: Option<(String, String)>,
    pub name: String,
}

/// One call, ready to record.
#[derive(Clone, Debug)]
pub struct Event {
    pub time: OffsetDateTime,
    pub source: Source,
    pub name: String,
    pub region: String,
    pub source_ip: Option<String>,
    pub user_agent: Option<String>,
    pub caller: Caller,
    pub request_parameters: Value,
    pub response_elements: Value,
    /// AWS's error code and message, when the call failed.
    pub error: Option<(String, String)>,
    pub request_id: Option<String>,
    pub read_only: bool,
    /// A management event (every IAM, STS, console and bucket-level S3 call) must be on disk
    /// before the call is answered; a data event (an object-level S3 call) need not be.
    pub management: bool,
    /// The account whose resources the call touched (a bucket's owner): CloudTrail's
    /// `recipientAccountId`. `None`: the caller's own.
    pub recipient_account: Option<String>,
    pub additional: Option<Value>,
    pub resources: Option<Value>,
}

impl Event {
    /// A call to `source`'s `name` made now, with everything else still to fill in.
    pub fn new(source: Source, name: &str, caller: Caller) -> Event {
        Event {
            time: OffsetDateTime::now_utc(),
            source,
            name: name.to_owned(),
            region: "us-east-1".to_owned(),
            source_ip: None,
            user_agent: None,
            caller,
            request_parameters: Value::Null,
            response_elements: Value::Null,
            error: None,
            request_id: None,
            read_only: is_read_only(name),
            management: true,
            recipient_account: None,
            additional: None,
            resources: None,
        }
    }

    /// The client's address and user agent.
    pub fn from_client(mut self, facts: &coffer_auth::RequestFacts) -> Event {
        self.source_ip = facts.source_ip.map(|ip| ip.to_string());
        self.user_agent = facts.user_agent.clone();
        self
    }

    /// The account the record belongs to: the resource owner's, else the caller's.
    pub fn account(&self) -> Option<&str> {
        self.recipient_account.as_deref().or(match &self.caller {
            Caller::Principal { principal, .. } => Some(principal.account_id.as_str()),
            Caller::SigningIn { account_id, .. } => Some(account_id.as_str()),
            Caller::Unknown { .. } | Caller::Anonymous | Caller::WebIdentity => None,
        })
    }

    /// The record, in CloudTrail's JSON.
    pub fn to_json(&self) -> Value {
        let mut record = Map::new();
        record.insert("eventVersion".into(), "1.08".into());
        record.insert("userIdentity".into(), user_identity(&self.caller, self.time));
        let time = self.time.replace_nanosecond(0).unwrap_or(self.time);
        let time = time.format(&Rfc3339).unwrap_or_default();
        record.insert("eventTime".into(), time.into());
        record.insert("eventSource".into(), self.source.name().into());
        record.insert("eventName".into(), self.name.clone().into());
        record.insert("awsRegion".into(), self.region.clone().into());
        record.insert(
            "sourceIPAddress".into(),
            self.source_ip.clone().unwrap_or_else(|| "-".to_owned()).into(),
        );
        record.insert("userAgent".into(), self.user_agent.clone().unwrap_or_default().into());
        if let Some((code, message)) = &self.error {
            if !code.is_empty() {
                record.insert("errorCode".into(), code.clone().into());
            }
            record.insert("errorMessage".into(), message.clone().into());
        }
        record.insert("requestParameters".into(), self.request_parameters.clone());
        record.insert("responseElements".into(), self.response_elements.clone());
        if let Some(additional) = &self.additional {
            record.insert("additionalEventData".into(), additional.clone());
        }
        if let Some(id) = &self.request_id {
            record.insert("requestID".into(), id.clone().into());
        }
        record.insert("eventID".into(), coffer_store::ids::event_id().into());
        record.insert("readOnly".into(), self.read_only.into());
        if let Some(resources) = &self.resources {
            record.insert("resources".into(), resources.clone());
        }
        let event_type = match self.source {
            Source::Signin => "AwsConsoleSignIn",
            _ => "AwsApiCall",
        };
        record.insert("eventType".into(), event_type.into());
        record.insert("managementEvent".into(), self.management.into());
        if let Some(account) = self.account() {
            record.insert("recipientAccountId".into(), account.into());
        }
        let category = if self.management { "Management" } else { "Data" };
        record.insert("eventCategory".into(), category.into());
        if let Caller::Principal { console: true, .. } = &self.caller {
            record.insert("sessionCredentialFromConsole".into(), "true".into());
        }
        Value::Object(record)
    }
}

/// `region` when it looks like a region (a client names it in its signature), else
/// `us-east-1`: what reaches a record, and a delivered object's key, is never arbitrary text.
pub fn region_or_default(region: Option<String>) -> String {
    region
        .filter(|r| {
            (1..=32).contains(&r.len())
                && r.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        })
        .unwrap_or_else(|| "us-east-1".to_owned())
}

/// CloudTrail's `readOnly`: whether the call only reads.
pub fn is_read_only(name: &str) -> bool {
    ["Get", "List", "Describe", "Head", "Simulate", "Lookup"]
        .iter()
        .any(|prefix| name.starts_with(prefix))
        || name == "SelectObjectContent"
}

fn user_identity(caller: &Caller, now: OffsetDateTime) -> Value {
    match caller {
        Caller::Principal { principal, console } => principal_identity(principal, *console, now),
        Caller::Unknown { access_key_id } => {
            let mut identity = json!({ "type": "Unknown" });
            if let Some(key) = access_key_id {
                identity["accessKeyId"] = key.chars().take(128).collect::<String>().into();
            }
            identity
        }
        Caller::Anonymous => json!({ "type": "AWSAccount", "principalId": "", "accountId": "anonymous" }),
        Caller::WebIdentity => json!({ "type": "WebIdentityUser" }),
        Caller::SigningIn { account_id, user: None } => json!({
            "type": "Root",
            "principalId": account_id,
            "arn": format!("arn:aws:iam::{account_id}:root"),
            "accountId": account_id,
        }),
        Caller::SigningIn {
            account_id,
            user: Some(user),
        } => match &user.known {
            Some((user_id, arn)) => json!({
                "type": "IAMUser",
                "principalId": user_id,
                "arn": arn,
                "accountId": account_id,
                "userName": user.name,
            }),
            None => json!({ "type": "IAMUser", "accountId": account_id, "userName": HIDDEN }),
        },
    }
}

fn principal_identity(principal: &Principal, console: bool, now: OffsetDateTime) -> Value {
    let account = &principal.account_id;
    let mut identity = Map::new();
    let kind = match &principal.identity {
        Identity::Root => "Root",
        Identity::User { .. } => "IAMUser",
        Identity::AssumedRole { .. } => "AssumedRole",
        Identity::FederatedUser { .. } => "FederatedUser",
    };
    identity.insert("type".into(), kind.into());
    identity.insert("principalId".into(), principal.user_id().into());
    identity.insert("arn".into(), principal.arn().into());
    identity.insert("accountId".into(), account.clone().into());
    if !principal.access_key_id.is_empty() {
        identity.insert("accessKeyId".into(), principal.access_key_id.clone().into());
    }
    if let Identity::User { name, .. } = &principal.identity {
        identity.insert("userName".into(), name.clone().into());
    }
    if principal.session.is_some() || console {
        let created = principal
            .session
            .as_ref()
            .and_then(|s| OffsetDateTime::from_unix_timestamp(s.issued_at).ok())
            .unwrap_or(now);
        let mut context = Map::new();
        if let Some(issuer) = session_issuer(principal) {
            context.insert("sessionIssuer".into(), issuer);
        }
        context.insert(
            "attributes".into(),
            json!({
                "creationDate": created.format(&Rfc3339).unwrap_or_default(),
                "mfaAuthenticated": "false",
            }),
        );
        if let Some(source) = principal.session.as_ref().and_then(|s| s.source_identity.clone()) {
            context.insert("sourceIdentity".into(), source.into());
        }
        identity.insert("sessionContext".into(), Value::Object(context));
    }
    Value::Object(identity)
}

/// The role or user a session was made from, as `sessionContext.sessionIssuer`.
fn session_issuer(principal: &Principal) -> Option<Value> {
    let account = &principal.account_id;
    match &principal.identity {
        Identity::AssumedRole { role_id, role_name, .. } => Some(json!({
            "type": "Role",
            "principalId": role_id,
            "arn": principal.entity_arn(),
            "accountId": account,
            "userName": role_name,
        })),
        Identity::FederatedUser {
            user: Some((user_id, name, path)),
            ..
        } => Some(json!({
            "type": "IAMUser",
            "principalId": user_id,
            "arn": format!("arn:aws:iam::{account}:user{path}{name}"),
            "accountId": account,
            "userName": name,
        })),
        Identity::FederatedUser { user: None, .. } => Some(json!({
            "type": "Root",
            "principalId": account,
            "arn": format!("arn:aws:iam::{account}:root"),
            "accountId": account,
        })),
        Identity::Root | Identity::User { .. } => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alice() -> Principal {
        Principal {
            account_id: "123456789012".to_owned(),
            identity: Identity::User {
                user_id: "AIDAEXAMPLE".to_owned(),
                name: "alice".to_owned(),
                path: "/".to_owned(),
            },
            access_key_id: "AKIAEXAMPLE".to_owned(),
            session: None,
        }
    }

    #[test]
    fn a_users_call_names_the_user_and_key() {
        let mut event = Event::new(
            Source::Iam,
            "CreateUser",
            Caller::Principal {
                principal: alice(),
                console: false,
            },
        );
        event.error = Some(("AccessDenied".to_owned(), "no".to_owned()));
        let record = event.to_json();
        assert_eq!(record["userIdentity"]["type"], "IAMUser");
        assert_eq!(record["userIdentity"]["arn"], "arn:aws:iam::123456789012:user/alice");
        assert_eq!(record["userIdentity"]["accessKeyId"], "AKIAEXAMPLE");
        assert_eq!(record["userIdentity"]["userName"], "alice");
        assert_eq!(record["eventSource"], "iam.amazonaws.com");
        assert_eq!(record["errorCode"], "AccessDenied");
        assert_eq!(record["readOnly"], false);
        assert_eq!(record["recipientAccountId"], "123456789012");
        assert!(record["eventTime"].as_str().unwrap().ends_with('Z'));
        assert_eq!(record["eventID"].as_str().unwrap().len(), 36);
        assert!(record.get("sessionContext").is_none());
    }

    #[test]
    fn a_role_session_names_its_issuer() {
        let principal = Principal {
            account_id: "123456789012".to_owned(),
            identity: Identity::AssumedRole {
                role_id: "AROAEXAMPLE".to_owned(),
                role_name: "reader".to_owned(),
                role_path: "/".to_owned(),
                session_name: "s1".to_owned(),
            },
            access_key_id: "ASIAEXAMPLE".to_owned(),
            session: Some(std::sync::Arc::new(coffer_auth::SessionFacts {
                issued_at: 1_700_000_000,
                ..Default::default()
            })),
        };
        let record = Event::new(
            Source::S3,
            "ListBuckets",
            Caller::Principal {
                principal,
                console: false,
            },
        )
        .to_json();
        let identity = &record["userIdentity"];
        assert_eq!(identity["type"], "AssumedRole");
        assert_eq!(identity["principalId"], "AROAEXAMPLE:s1");
        assert_eq!(
            identity["sessionContext"]["sessionIssuer"]["arn"],
            "arn:aws:iam::123456789012:role/reader"
        );
        assert_eq!(
            identity["sessionContext"]["attributes"]["creationDate"],
            "2023-11-14T22:13:20Z"
        );
        assert_eq!(record["readOnly"], true);
    }

    #[test]
    fn an_unknown_sign_in_name_is_hidden() {
        let record = Event::new(
            Source::Signin,
            "ConsoleLogin",
            Caller::SigningIn {
                account_id: "123456789012".to_owned(),
                user: Some(SigningInUser {
                    known: None,
                    name: "hunter2".to_owned(),
                }),
            },
        )
        .to_json();
        assert_eq!(record["userIdentity"]["userName"], HIDDEN);
        assert_eq!(record["eventType"], "AwsConsoleSignIn");
        assert!(!record.to_string().contains("hunter2"));
    }
}
