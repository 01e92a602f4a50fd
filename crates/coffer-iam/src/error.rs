//! Every IAM/STS error, and the one place that turns it into AWS's code, status and message.

use coffer_auth::sigv4::SigError;
use coffer_auth::{AuthError, Denied};
use coffer_store::StoreError;
use http::StatusCode;

use crate::xml::Xml;

#[derive(Debug, thiserror::Error)]
pub enum IamError {
    #[error("{0}")]
    Validation(String),
    #[error("{0}")]
    NoSuchEntity(String),
    #[error("{0}")]
    EntityAlreadyExists(String),
    #[error("{0}")]
    LimitExceeded(String),
    #[error("{0}")]
    DeleteConflict(String),
    #[error("{0}")]
    MalformedPolicyDocument(String),
    #[error("{0}")]
    InvalidInput(String),
    #[error("{0}")]
    AccessDenied(String),
    #[error("{0}")]
    PasswordPolicyViolation(String),
    #[error("{0}")]
    InvalidUserType(String),
    /// GetCredentialReport before any report was made.
    #[error("{0}")]
    ReportNotPresent(String),
    /// GetCredentialReport of a report older than four hours.
    #[error("{0}")]
    ReportExpired(String),
    /// STS: a parameter whose value STS cannot use as given.
    #[error("{0}")]
    InvalidParameterValue(String),
    /// STS: session policies and tags too large for a token.
    #[error("{0}")]
    PackedPolicyTooLarge(String),
    /// STS: a web identity token that is not well formed or not signed by the provider.
    #[error("{0}")]
    InvalidIdentityToken(String),
    /// STS: a web identity token past its `exp`.
    #[error("{0}")]
    ExpiredIdentityToken(String),
    /// STS: a web identity token whose issuer, audience or times the provider rejects.
    #[error("{0}")]
    IdpRejectedClaim(String),
    /// STS: the identity provider's keys could not be fetched.
    #[error("{0}")]
    IdpCommunicationError(String),
    #[error("Could not find operation {0} for version {1}")]
    InvalidAction(String, &'static str),
    #[error("The {0} operation is not yet implemented by Coffer")]
    NotImplemented(String),
    #[error("Missing Action")]
    MissingAction,
    #[error("The query string contains a syntax error: {0}")]
    MalformedQueryString(String),
    #[error("The request body is larger than {0} bytes")]
    RequestTooLarge(usize),
    #[error(transparent)]
    Auth(#[from] AuthError),
    #[error("{0}")]
    ServiceFailure(String),
}

impl From<Denied> for IamError {
    fn from(denied: Denied) -> Self {
        IamError::AccessDenied(denied.to_string())
    }
}

impl From<StoreError> for IamError {
    /// Store errors the handlers did not turn into a specific message are server faults,
    /// but for an entity another request deleted between the handler's lookup and its write.
    fn from(err: StoreError) -> Self {
        let gone = |what: &str| IamError::NoSuchEntity(format!("The {what} cannot be found."));
        match err {
            StoreError::NoSuchUser => gone("user"),
            StoreError::NoSuchGroup => gone("group"),
            StoreError::NoSuchRole => gone("role"),
            StoreError::NoSuchPolicy => gone("policy"),
            StoreError::NoSuchPolicyVersion => gone("policy version"),
            other => IamError::ServiceFailure(other.to_string()),
        }
    }
}

impl IamError {
    /// AWS's error code and HTTP status.
    pub fn code_and_status(&self) -> (&'static str, StatusCode) {
        use IamError::*;
        match self {
            Validation(_) => ("ValidationError", StatusCode::BAD_REQUEST),
            NoSuchEntity(_) => ("NoSuchEntity", StatusCode::NOT_FOUND),
            EntityAlreadyExists(_) => ("EntityAlreadyExists", StatusCode::CONFLICT),
            LimitExceeded(_) => ("LimitExceeded", StatusCode::CONFLICT),
            DeleteConflict(_) => ("DeleteConflict", StatusCode::CONFLICT),
            MalformedPolicyDocument(_) => ("MalformedPolicyDocument", StatusCode::BAD_REQUEST),
            InvalidInput(_) => ("InvalidInput", StatusCode::BAD_REQUEST),
            AccessDenied(_) => ("AccessDenied", StatusCode::FORBIDDEN),
            PasswordPolicyViolation(_) => ("PasswordPolicyViolation", StatusCode::BAD_REQUEST),
            InvalidUserType(_) => ("InvalidUserType", StatusCode::BAD_REQUEST),
            ReportNotPresent(_) => ("ReportNotPresent", StatusCode::GONE),
            ReportExpired(_) => ("ReportExpired", StatusCode::GONE),
            InvalidParameterValue(_) => ("InvalidParameterValue", StatusCode::BAD_REQUEST),
            PackedPolicyTooLarge(_) => ("PackedPolicyTooLarge", StatusCode::BAD_REQUEST),
            InvalidIdentityToken(_) => ("InvalidIdentityToken", StatusCode::BAD_REQUEST),
            ExpiredIdentityToken(_) => ("ExpiredTokenException", StatusCode::BAD_REQUEST),
            IdpRejectedClaim(_) => ("IDPRejectedClaim", StatusCode::FORBIDDEN),
            IdpCommunicationError(_) => ("IDPCommunicationError", StatusCode::BAD_REQUEST),
            InvalidAction(..) => ("InvalidAction", StatusCode::BAD_REQUEST),
            NotImplemented(_) => ("NotImplemented", StatusCode::NOT_IMPLEMENTED),
            MissingAction => ("MissingAction", StatusCode::BAD_REQUEST),
            MalformedQueryString(_) => ("MalformedQueryString", StatusCode::NOT_FOUND),
            RequestTooLarge(_) => ("RequestEntityTooLarge", StatusCode::PAYLOAD_TOO_LARGE),
            Auth(AuthError::InvalidClientTokenId) => ("InvalidClientTokenId", StatusCode::FORBIDDEN),
            Auth(AuthError::ExpiredToken) => ("ExpiredToken", StatusCode::FORBIDDEN),
            Auth(AuthError::Signature(SigError::Missing)) => ("MissingAuthenticationToken", StatusCode::FORBIDDEN),
            Auth(AuthError::Signature(SigError::Incomplete(_))) => ("IncompleteSignature", StatusCode::BAD_REQUEST),
            Auth(AuthError::Signature(SigError::Mismatch(_))) => ("SignatureDoesNotMatch", StatusCode::FORBIDDEN),
            Auth(AuthError::Signature(SigError::Expired)) => ("RequestExpired", StatusCode::BAD_REQUEST),
            Auth(AuthError::Store(_)) | ServiceFailure(_) => ("ServiceFailure", StatusCode::INTERNAL_SERVER_ERROR),
        }
    }

    /// The message a client sees. Server faults are logged in full but not shown.
    pub(crate) fn public_message(&self) -> String {
        match self {
            IamError::Auth(AuthError::Store(_)) | IamError::ServiceFailure(_) => {
                "An internal error occurred; the request was not completed.".to_owned()
            }
            other => other.to_string(),
        }
    }

    /// `<ErrorResponse>` in the service's namespace.
    pub(crate) fn to_xml(&self, namespace: &str, request_id: &str) -> String {
        let (code, status) = self.code_and_status();
        let mut xml = Xml::new();
        xml.with("Error", |x| {
            x.elem("Type", if status.is_server_error() { "Receiver" } else { "Sender" })
                .elem("Code", code)
                .elem("Message", &self.public_message());
        })
        .elem("RequestId", request_id);
        format!(r#"<ErrorResponse xmlns="{namespace}">{}</ErrorResponse>"#, xml.finish())
    }
}

/// `1 validation error detected: Value '…' at 'field' failed to satisfy constraint: …`
pub(crate) fn validation(value: Option<&str>, field: &str, constraint: &str) -> IamError {
    let value = match value {
        Some(v) => format!("'{v}'"),
        None => "null".to_owned(),
    };
    IamError::Validation(format!(
        "1 validation error detected: Value {value} at '{field}' failed to satisfy constraint: {constraint}"
    ))
}
