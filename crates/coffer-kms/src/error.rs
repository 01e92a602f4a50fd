//! KMS's errors, each with its `__type` and HTTP status, in the one place they meet the wire.

use coffer_auth::AuthError;
use coffer_auth::sigv4::SigError;
use coffer_store::StoreError;
use http::StatusCode;

#[derive(Debug, thiserror::Error)]
pub enum KmsError {
    #[error("{0}")]
    AccessDenied(String),
    #[error("{0}")]
    AlreadyExists(String),
    #[error("{0}")]
    Disabled(String),
    #[error("{0}")]
    IncompleteSignature(String),
    #[error("{0}")]
    InvalidAliasName(String),
    #[error("{0}")]
    InvalidMarker(String),
    #[error("{0}")]
    InvalidSignature(String),
    #[error("{0}")]
    InvalidState(String),
    #[error("{0}")]
    NotFound(String),
    #[error("Missing Authentication Token")]
    MissingAuthenticationToken,
    #[error("The security token included in the request is expired")]
    ExpiredToken,
    #[error("The security token included in the request is invalid.")]
    UnrecognizedClient,
    #[error("Start of structure or map found where not expected.")]
    Serialization,
    #[error("{0}")]
    UnknownOperation(String),
    #[error("{0}")]
    Unsupported(String),
    #[error("{0}")]
    Validation(String),
    /// A server fault: logged, answered without detail.
    #[error("{0}")]
    Internal(String),
}

impl KmsError {
    fn code(&self) -> &'static str {
        match self {
            KmsError::AccessDenied(_) => "AccessDeniedException",
            KmsError::AlreadyExists(_) => "AlreadyExistsException",
            KmsError::Disabled(_) => "DisabledException",
            KmsError::IncompleteSignature(_) => "IncompleteSignatureException",
            KmsError::InvalidAliasName(_) => "InvalidAliasNameException",
            KmsError::InvalidMarker(_) => "InvalidMarkerException",
            KmsError::InvalidSignature(_) => "InvalidSignatureException",
            KmsError::InvalidState(_) => "KMSInvalidStateException",
            KmsError::NotFound(_) => "NotFoundException",
            KmsError::MissingAuthenticationToken => "MissingAuthenticationTokenException",
            KmsError::ExpiredToken => "ExpiredTokenException",
            KmsError::UnrecognizedClient => "UnrecognizedClientException",
            KmsError::Serialization => "SerializationException",
            KmsError::UnknownOperation(_) => "UnknownOperationException",
            KmsError::Unsupported(_) => "UnsupportedOperationException",
            KmsError::Validation(_) => "ValidationException",
            KmsError::Internal(_) => "KMSInternalException",
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            KmsError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            KmsError::MissingAuthenticationToken => StatusCode::FORBIDDEN,
            _ => StatusCode::BAD_REQUEST,
        }
    }

    /// The error document: `{"__type": …, "message": …}`.
    pub fn document(&self) -> serde_json::Value {
        let message = match self {
            KmsError::Internal(_) => "We encountered an internal error. Please try again.".to_owned(),
            other => other.to_string(),
        };
        serde_json::json!({ "__type": self.code(), "message": message })
    }
}

impl From<AuthError> for KmsError {
    fn from(err: AuthError) -> KmsError {
        match err {
            AuthError::Signature(SigError::Missing) => KmsError::MissingAuthenticationToken,
            AuthError::Signature(SigError::Incomplete(m)) => KmsError::IncompleteSignature(m),
            AuthError::Signature(SigError::Mismatch(m)) => KmsError::InvalidSignature(m),
            AuthError::Signature(SigError::Expired) => KmsError::InvalidSignature("Signature expired".to_owned()),
            AuthError::InvalidClientTokenId => KmsError::UnrecognizedClient,
            AuthError::ExpiredToken => KmsError::ExpiredToken,
            AuthError::Store(err) => err.into(),
        }
    }
}

impl From<StoreError> for KmsError {
    fn from(err: StoreError) -> KmsError {
        match err {
            StoreError::NoSuchKmsKey => KmsError::NotFound("Key does not exist".to_owned()),
            StoreError::NoSuchKmsAlias => KmsError::NotFound("Alias does not exist".to_owned()),
            StoreError::KmsAliasExists => KmsError::AlreadyExists("An alias with the name already exists".to_owned()),
            // The key's state changed under the request (another request won).
            StoreError::PreconditionFailed => KmsError::InvalidState("The key's state changed; try again".to_owned()),
            other => KmsError::Internal(other.to_string()),
        }
    }
}
