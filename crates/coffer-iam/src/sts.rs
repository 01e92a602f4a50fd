//! STS operations.

use crate::xml::Xml;
use crate::{Call, IamError};

/// `GetCallerIdentity`: allowed to every authenticated caller, as in AWS.
pub(crate) async fn get_caller_identity(cx: &Call<'_>) -> Result<Option<String>, IamError> {
    cx.authorize("sts:GetCallerIdentity", "*")?;
    let mut xml = Xml::new();
    xml.elem("Arn", &cx.caller.arn())
        .elem("UserId", cx.caller.user_id())
        .elem("Account", &cx.caller.account_id);
    Ok(Some(xml.finish()))
}
