//! Share links: a presigned GetObject URL for one object, valid for the time chosen (at most
//! the seven days S3 allows). It is signed with the signed-in IAM user's own active access
//! key (AWS's console signs with the session's credentials; Coffer has none yet): the link can
//! do exactly what that user may, and stops working when the key is deactivated or deleted.
//! Never with the root user's key: its id would travel in the link, and the link would carry
//! all of the root user's power.

use std::time::Duration;

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use coffer_s3::PresignError;
use serde::Deserialize;

use crate::Console;
use crate::objects::{KeyQuery, object_page};
use crate::page::Signed;
use crate::s3::encode;

/// A presigned URL and how long it lives.
pub struct Link {
    pub url: String,
    pub lifetime: String,
}

/// The lifetimes offered, in seconds, with their labels.
pub const LIFETIMES: [(u64, &str); 4] = [
    (3600, "1 hour"),
    (43_200, "12 hours"),
    (86_400, "1 day"),
    (604_800, "7 days"),
];

#[derive(Deserialize)]
pub struct ShareForm {
    csrf: String,
    seconds: u64,
}

pub async fn share(
    State(console): State<Console>,
    signed: Signed,
    Path(bucket): Path<String>,
    Query(query): Query<KeyQuery>,
    Form(form): Form<ShareForm>,
) -> Response {
    if let Some(refused) = signed.refuse_forged(&form.csrf) {
        return refused;
    }
    let link = presign(&console, &signed, &bucket, query.key(), form.seconds).await;
    object_page(&console, &signed, &bucket, query.key(), Some(link)).await
}

/// The API's URL as this person reaches it: when Coffer listens on every address, the host
/// the person typed for the console (`host`, its `Host` header), with the API's port.
fn api_url(api: &str, host: &str) -> String {
    let Some(port) = ["http://0.0.0.0:", "http://[::]:"]
        .iter()
        .find_map(|any| api.strip_prefix(any))
    else {
        return api.to_owned();
    };
    let host = host.rsplit_once(':').map_or(host, |(host, _)| host);
    format!("http://{host}:{port}")
}

async fn presign(console: &Console, signed: &Signed, bucket: &str, key: &str, seconds: u64) -> Result<Link, String> {
    let lifetime = LIFETIMES
        .iter()
        .find(|(s, _)| *s == seconds)
        .map(|(_, label)| (*label).to_owned())
        .ok_or("Choose how long the link lives.")?;
    if signed.own_user_name().is_none() {
        return Err("Share links are never signed with the root user's access key: its ID would travel in the link, \
                    and the link would carry the root user's power. Sign in as an IAM user who may read this object to share it."
            .to_owned());
    }
    let url = format!(
        "{}/{}/{}",
        api_url(&console.api_url, &signed.host),
        encode(bucket, false),
        encode(key, true)
    );
    let url = console
        .s3
        .presigned_get(&signed.session.principal, &url, Duration::from_secs(seconds))
        .await
        .map_err(|err| match err {
            PresignError::NoActiveKey => {
                "Share links are signed with your own access key, and you have no active one. \
                                          Create one under My security credentials."
                    .to_owned()
            }
            PresignError::Failed(why) => why,
        })?;
    Ok(Link { url, lifetime })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_name_the_host_people_reach_when_coffer_listens_everywhere() {
        assert_eq!(
            api_url("http://127.0.0.1:9000", "127.0.0.1:9001"),
            "http://127.0.0.1:9000"
        );
        assert_eq!(
            api_url("http://0.0.0.0:9000", "coffer.lan:9001"),
            "http://coffer.lan:9000"
        );
        assert_eq!(api_url("http://[::]:9000", "10.0.0.5:9001"), "http://10.0.0.5:9000");
    }
}
