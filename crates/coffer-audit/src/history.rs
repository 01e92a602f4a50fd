//! Looking events up, newest first, the way CloudTrail's Event history does: one account's
//! events of the last 90 days, filtered by user, access key, event name and time.

use std::io::BufRead;
use std::path::Path;

use serde_json::Value;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::journal::{CURRENT, ROTATED, rotated_at};

/// How far back Event history reaches, and how long rotated files are kept.
pub const RETENTION_DAYS: i64 = 90;

/// Which events to find. Every field set must match.
#[derive(Clone, Debug, Default)]
pub struct Filter {
    /// Only this account's events (the caller's or the resource owner's).
    pub account_id: String,
    /// A user name, or the ARN of the caller.
    pub user: Option<String>,
    pub access_key_id: Option<String>,
    pub event_name: Option<String>,
    pub from: Option<OffsetDateTime>,
    pub to: Option<OffsetDateTime>,
}

impl Filter {
    pub fn matches(&self, record: &Value) -> bool {
        let identity = &record["userIdentity"];
        let text = |value: &Value| value.as_str().map(str::to_owned);
        let in_account = text(&record["recipientAccountId"]).as_deref() == Some(self.account_id.as_str())
            || text(&identity["accountId"]).as_deref() == Some(self.account_id.as_str());
        let user = self.user.as_deref().is_none_or(|user| {
            text(&identity["userName"]).as_deref() == Some(user)
                || text(&identity["arn"]).as_deref() == Some(user)
                || text(&identity["sessionContext"]["sessionIssuer"]["userName"]).as_deref() == Some(user)
        });
        let key = self
            .access_key_id
            .as_deref()
            .is_none_or(|key| text(&identity["accessKeyId"]).as_deref() == Some(key));
        let name = self
            .event_name
            .as_deref()
            .is_none_or(|name| text(&record["eventName"]).as_deref() == Some(name));
        let time = text(&record["eventTime"]).and_then(|t| OffsetDateTime::parse(&t, &Rfc3339).ok());
        let after = self.from.is_none_or(|from| time.is_some_and(|t| t >= from));
        let before = self.to.is_none_or(|to| time.is_some_and(|t| t <= to));
        // Event history shows management events, as CloudTrail's does.
        let management = record["managementEvent"] != Value::Bool(false);
        in_account && management && user && key && name && after && before
    }
}

/// The most bytes of journal one lookup reads: a filter that matches little stops here
/// rather than reading 90 days of a busy trail.
const MAX_SCAN: u64 = 512 * 1024 * 1024;

/// Up to `limit` records matching `filter`, newest first, from the journal in `dir`; records
/// older than [`RETENTION_DAYS`] are not looked at. Reads files line by line, holding at most
/// `limit` records: call it off the async threads.
pub fn lookup(dir: &Path, filter: &Filter, limit: usize, now: OffsetDateTime) -> Vec<Value> {
    if limit == 0 {
        return Vec::new();
    }
    let oldest = now - time::Duration::days(RETENTION_DAYS);
    let from = filter.from.map_or(oldest, |from| from.max(oldest));
    let mut rotated: Vec<String> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .filter_map(|entry| entry.ok())
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(ROTATED) && rotated_at(name).is_some())
        .collect();
    rotated.sort_unstable_by(|a, b| b.cmp(a));
    let mut found = Vec::new();
    let mut scanned = 0u64;
    let files = std::iter::once(CURRENT.to_owned()).chain(rotated);
    for name in files {
        // A file closed before the window began holds nothing newer than that.
        if rotated_at(&name).is_some_and(|closed| closed < from) || scanned > MAX_SCAN {
            break;
        }
        let Ok(file) = std::fs::File::open(dir.join(&name)) else {
            continue;
        };
        // The newest matches of this file (it is read oldest first).
        let wanted = limit - found.len();
        let mut newest = std::collections::VecDeque::with_capacity(wanted.min(1024));
        for line in std::io::BufReader::new(file).lines() {
            let Ok(line) = line else { continue };
            scanned += line.len() as u64 + 1;
            let Ok(record) = serde_json::from_str::<Value>(&line) else {
                continue;
            };
            let time = record["eventTime"]
                .as_str()
                .and_then(|t| OffsetDateTime::parse(t, &Rfc3339).ok());
            if time.is_some_and(|t| t >= oldest) && filter.matches(&record) {
                if newest.len() == wanted {
                    newest.pop_front();
                }
                newest.push_back(record);
            }
        }
        found.extend(newest.into_iter().rev());
        if found.len() >= limit {
            break;
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn record(name: &str, user: &str, key: &str, time: &str) -> String {
        json!({
            "eventTime": time,
            "eventName": name,
            "recipientAccountId": "111111111111",
            "userIdentity": {"type": "IAMUser", "userName": user, "accessKeyId": key, "accountId": "111111111111"},
        })
        .to_string()
    }

    #[test]
    fn lookup_filters_newest_first_within_ninety_days() {
        let dir = tempfile::tempdir().unwrap();
        let now = OffsetDateTime::parse("2026-12-06T12:00:00Z", &Rfc3339).unwrap();
        let old = format!(
            "{}-00000000{ROTATED}",
            crate::journal::stamp(now - time::Duration::days(100))
        );
        std::fs::write(
            dir.path().join(old),
            record("CreateUser", "alice", "AKIA1", "2026-08-01T00:00:00Z") + "\n",
        )
        .unwrap();
        let rotated = format!(
            "{}-00000001{ROTATED}",
            crate::journal::stamp(now - time::Duration::days(1))
        );
        std::fs::write(
            dir.path().join(rotated),
            [
                record("CreateUser", "alice", "AKIA1", "2026-12-05T10:00:00Z"),
                record("ListUsers", "bob", "AKIA2", "2026-12-05T11:00:00Z"),
            ]
            .join("\n")
                + "\n",
        )
        .unwrap();
        std::fs::write(
            dir.path().join(CURRENT),
            record("DeleteAccessKey", "alice", "AKIA1", "2026-12-06T11:00:00Z") + "\n{\"torn",
        )
        .unwrap();
        let names = |filter: Filter| -> Vec<String> {
            lookup(dir.path(), &filter, 10, now)
                .iter()
                .map(|r| r["eventName"].as_str().unwrap().to_owned())
                .collect()
        };
        let account = || Filter {
            account_id: "111111111111".to_owned(),
            ..Filter::default()
        };
        assert_eq!(names(account()), ["DeleteAccessKey", "ListUsers", "CreateUser"]);
        let by_key = Filter {
            access_key_id: Some("AKIA1".to_owned()),
            ..account()
        };
        assert_eq!(names(by_key), ["DeleteAccessKey", "CreateUser"]);
        let by_user = Filter {
            user: Some("bob".to_owned()),
            ..account()
        };
        assert_eq!(names(by_user), ["ListUsers"]);
        let by_time = Filter {
            to: Some(OffsetDateTime::parse("2026-12-05T10:30:00Z", &Rfc3339).unwrap()),
            event_name: Some("CreateUser".to_owned()),
            ..account()
        };
        assert_eq!(names(by_time), ["CreateUser"]);
        let other = Filter {
            account_id: "222222222222".to_owned(),
            ..Filter::default()
        };
        assert!(names(other).is_empty());
    }
}
