//! Event history, as CloudTrail's console has it: the account's audit records of the last 90
//! days, newest first, filtered by user, access key, event name and time; each record can
//! be opened as the JSON the trail holds. Reading it takes `cloudtrail:LookupEvents`.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use serde::Deserialize;
use serde_json::Value;
use time::OffsetDateTime;

use crate::Console;
use crate::page::{Chrome, Signed, failed, render};

/// The most records one page shows.
const PAGE: usize = 200;

#[derive(Deserialize, Default)]
pub struct EventQuery {
    #[serde(default)]
    user: String,
    #[serde(default)]
    access_key: String,
    #[serde(default)]
    event_name: String,
    /// `YYYY-MM-DD` or `YYYY-MM-DDTHH:MM` (a `datetime-local` field), UTC.
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
}

pub struct EventRow {
    pub time: String,
    pub user: String,
    pub name: String,
    pub source: String,
    pub access_key: String,
    pub source_ip: String,
    pub error: String,
    pub record: String,
}

#[derive(Template)]
#[template(path = "events.html")]
struct EventsPage<'a> {
    chrome: Option<Chrome>,
    query: &'a EventQuery,
    rows: Vec<EventRow>,
    error: Option<String>,
    limit: usize,
}

/// A time typed into the filter, read as UTC; a date alone is its first (`end`: last) second.
fn parse_time(text: &str, end: bool) -> Result<Option<OffsetDateTime>, String> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    let minute = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]");
    let day = time::macros::format_description!("[year]-[month]-[day]");
    if let Ok(at) = time::PrimitiveDateTime::parse(text, &minute) {
        let at = at.assume_utc();
        return Ok(Some(if end { at + time::Duration::seconds(59) } else { at }));
    }
    match time::Date::parse(text, &day) {
        Ok(date) => Ok(Some(match end {
            true => date.with_hms(23, 59, 59).map_err(|e| e.to_string())?.assume_utc(),
            false => date.midnight().assume_utc(),
        })),
        Err(_) => Err(format!(
            "“{text}” is not a date (YYYY-MM-DD) or a time (YYYY-MM-DDTHH:MM)."
        )),
    }
}

fn row(record: &Value) -> EventRow {
    let text = |value: &Value| value.as_str().unwrap_or("").to_owned();
    let identity = &record["userIdentity"];
    let user = [
        &identity["userName"],
        &identity["sessionContext"]["sessionIssuer"]["userName"],
    ]
    .into_iter()
    .find_map(|v| v.as_str().map(str::to_owned))
    .unwrap_or_else(|| match text(&identity["type"]).as_str() {
        "Root" => "root".to_owned(),
        other => other.to_owned(),
    });
    EventRow {
        time: text(&record["eventTime"]),
        user,
        name: text(&record["eventName"]),
        source: text(&record["eventSource"]),
        access_key: text(&identity["accessKeyId"]),
        source_ip: text(&record["sourceIPAddress"]),
        error: text(&record["errorCode"]),
        record: serde_json::to_string_pretty(record).unwrap_or_default(),
    }
}

pub async fn events(
    State(console): State<Console>,
    signed: Result<Signed, Response>,
    Query(query): Query<EventQuery>,
) -> Response {
    let signed = match signed {
        Ok(signed) => signed,
        Err(redirect) => return redirect,
    };
    let principal = &signed.session.principal;
    let action = "cloudtrail:LookupEvents";
    if !console.query.allows(principal, &signed.facts, action, "*").await {
        let message = format!("{} is not authorized to perform: {action}", principal.arn());
        return failed(&signed, action, 403, "AccessDenied", &message);
    }
    let times = parse_time(&query.from, false).and_then(|from| Ok((from, parse_time(&query.to, true)?)));
    let (rows, error) = match times {
        Err(error) => (Vec::new(), Some(error)),
        Ok((from, to)) => {
            let nonempty = |text: &str| Some(text.trim().to_owned()).filter(|t| !t.is_empty());
            let filter = coffer_audit::Filter {
                account_id: principal.account_id.clone(),
                user: nonempty(&query.user),
                access_key_id: nonempty(&query.access_key),
                event_name: nonempty(&query.event_name),
                from,
                to,
            };
            let records = console.query.audit().lookup(filter, PAGE).await;
            (records.iter().map(row).collect(), None)
        }
    };
    render(&EventsPage {
        chrome: Some(signed.chrome()),
        query: &query,
        rows,
        error,
        limit: PAGE,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filter_times_are_dates_or_minutes_in_utc() {
        assert_eq!(parse_time("", false), Ok(None));
        let from = parse_time("2026-12-06", false).unwrap().unwrap();
        assert_eq!(from.unix_timestamp(), 1_796_515_200);
        let to = parse_time("2026-12-06", true).unwrap().unwrap();
        assert_eq!(to - from, time::Duration::seconds(86_399));
        let minute = parse_time("2026-12-06T12:00", false).unwrap().unwrap();
        assert_eq!(minute.unix_timestamp(), 1_796_558_400);
        assert!(parse_time("yesterday", false).is_err());
    }
}
