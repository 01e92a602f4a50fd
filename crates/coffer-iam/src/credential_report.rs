//! GenerateCredentialReport and GetCredentialReport: the account's users and root user with
//! the state of their passwords and access keys, as the CSV AWS documents ("Getting credential
//! reports"). A report is made whole and kept; one younger than four hours is reused.

use base64::Engine;
use coffer_store::{AccessKey, KeyOwnerName, KeyStatus, Store, User};
use time::{Duration, OffsetDateTime};

use crate::xml::Xml;
use crate::{Call, IamError};

/// A report this young is answered again rather than made anew; older, it has expired.
const REPORT_LIFETIME: Duration = Duration::hours(4);

const HEADER: &str = "user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,\
password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,\
access_key_1_last_used_region,access_key_1_last_used_service,access_key_2_active,access_key_2_last_rotated,\
access_key_2_last_used_date,access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,\
cert_1_last_rotated,cert_2_active,cert_2_last_rotated";

/// The report's time format: ISO 8601 with the zone as `+00:00`, as AWS writes it.
fn time(at: OffsetDateTime) -> String {
    let at = at.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}+00:00",
        at.year(),
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute(),
        at.second()
    )
}

pub(crate) async fn generate_credential_report(cx: &Call<'_>) -> Result<Option<String>, IamError> {
    cx.authorize("iam:GenerateCredentialReport", "*").await?;
    let fresh = cx
        .store
        .credential_report(cx.account())
        .await?
        .is_some_and(|(at, _)| OffsetDateTime::now_utc() - at < REPORT_LIFETIME);
    let (state, description) = if fresh {
        ("COMPLETE", None)
    } else {
        let csv = report(cx.store, cx.account()).await?;
        cx.store.put_credential_report(cx.account(), &csv).await?;
        (
            "STARTED",
            Some("No report exists. Starting a new report generation task"),
        )
    };
    let mut xml = Xml::new();
    xml.elem("State", state).elem_opt("Description", description);
    Ok(Some(xml.finish()))
}

pub(crate) async fn get_credential_report(cx: &Call<'_>) -> Result<Option<String>, IamError> {
    cx.authorize("iam:GetCredentialReport", "*").await?;
    let (at, csv) = cx.store.credential_report(cx.account()).await?.ok_or_else(|| {
        IamError::ReportNotPresent(
            "Credential report does not exist. Use GenerateCredentialReport to generate a report.".to_owned(),
        )
    })?;
    if OffsetDateTime::now_utc() - at >= REPORT_LIFETIME {
        return Err(IamError::ReportExpired(
            "The credential report is older than 4 hours. Use GenerateCredentialReport to generate a new one."
                .to_owned(),
        ));
    }
    let mut xml = Xml::new();
    xml.elem("Content", &base64::engine::general_purpose::STANDARD.encode(csv))
        .elem("ReportFormat", "text/csv")
        .date("GeneratedTime", at);
    Ok(Some(xml.finish()))
}

/// The report's CSV: the root user first, then every user by name.
async fn report(store: &Store, account_id: &str) -> Result<String, IamError> {
    let account = store.account(account_id).await?;
    let policy = store.password_policy(account_id).await.ok();
    let mut lines = vec![HEADER.to_owned()];
    let root_keys = keys(store, account_id, KeyOwnerName::Root).await?;
    let mut root = vec![
        "<root_account>".to_owned(),
        format!("arn:aws:iam::{account_id}:root"),
        time(account.created_at),
        "not_supported".to_owned(),
        "no_information".to_owned(),
        "not_supported".to_owned(),
        "not_supported".to_owned(),
        "false".to_owned(),
    ];
    root.extend(root_keys);
    root.extend(no_certificates());
    lines.push(root.join(","));
    let mut marker: Option<String> = None;
    loop {
        let page = store.list_users(account_id, "/", marker.as_deref(), 1000).await?;
        for user in &page.items {
            let max_age = policy.as_ref().and_then(|p| p.max_password_age);
            lines.push(user_line(store, account_id, user, max_age).await?);
        }
        match page.next_marker {
            Some(next) => marker = Some(next),
            None => break,
        }
    }
    Ok(lines.join("\n"))
}

async fn user_line(
    store: &Store,
    account_id: &str,
    user: &User,
    max_password_age: Option<i64>,
) -> Result<String, IamError> {
    let profile = match store.login_profile(&user.user_id).await {
        Ok(profile) => Some(profile),
        Err(coffer_store::StoreError::NoSuchLoginProfile) => None,
        Err(err) => return Err(err.into()),
    };
    let na = || "N/A".to_owned();
    let (enabled, last_used, changed, next_rotation) = match &profile {
        None => ("false".to_owned(), na(), na(), na()),
        Some(profile) => (
            "true".to_owned(),
            user.password_last_used
                .map(time)
                .unwrap_or_else(|| "no_information".to_owned()),
            time(profile.password_changed_at),
            max_password_age
                .map(|days| time(profile.password_changed_at + Duration::days(days)))
                .unwrap_or_else(na),
        ),
    };
    let mut fields = vec![
        user.name.clone(),
        user.arn(),
        time(user.created_at),
        enabled,
        last_used,
        changed,
        next_rotation,
        "false".to_owned(),
    ];
    fields.extend(keys(store, account_id, KeyOwnerName::User(&user.name)).await?);
    fields.extend(no_certificates());
    Ok(fields.join(","))
}

/// The ten access-key columns for an owner's first two keys (oldest first).
async fn keys(store: &Store, account_id: &str, owner: KeyOwnerName<'_>) -> Result<Vec<String>, IamError> {
    let keys: Vec<AccessKey> = store.list_access_keys(account_id, owner).await?;
    let mut columns = Vec::with_capacity(10);
    for slot in 0..2 {
        let na = || "N/A".to_owned();
        let Some(key) = keys.get(slot) else {
            columns.extend(["false".to_owned(), na(), na(), na(), na()]);
            continue;
        };
        let active = key.status == KeyStatus::Active;
        let (_, last_used) = store.access_key_last_used(account_id, &key.access_key_id).await?;
        columns.push(active.to_string());
        columns.push(if active { time(key.created_at) } else { na() });
        match last_used {
            None => columns.extend([na(), na(), na()]),
            Some(used) => {
                columns.push(time(used.at));
                // S3 and IAM are not region-specific services: their region is N/A.
                let global = matches!(used.service.as_str(), "s3" | "iam");
                columns.push(if global { na() } else { used.region.clone() });
                columns.push(used.service.clone());
            }
        }
    }
    Ok(columns)
}

fn no_certificates() -> [String; 4] {
    [
        "false".to_owned(),
        "N/A".to_owned(),
        "false".to_owned(),
        "N/A".to_owned(),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_iso_8601_with_an_explicit_zone() {
        let at = OffsetDateTime::from_unix_timestamp(1_420_070_400).unwrap();
        assert_eq!(time(at), "2015-01-01T00:00:00+00:00");
    }

    #[test]
    fn the_header_has_awss_22_columns() {
        assert_eq!(HEADER.split(',').count(), 22);
        assert!(HEADER.starts_with("user,arn,user_creation_time,password_enabled,"));
    }
}
