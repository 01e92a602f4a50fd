//! How pages show things: ages and dates of IAM's ISO 8601 times, path segments, and table
//! cells for what the caller may not read.

use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};

use crate::results::Results;

/// "3 days", "Today": how old an ISO 8601 date is.
pub fn age(iso: &str) -> String {
    let Ok(then) = time::OffsetDateTime::parse(iso, &time::format_description::well_known::Rfc3339) else {
        return iso.to_owned();
    };
    match (time::OffsetDateTime::now_utc() - then).whole_days() {
        0 => "Today".to_owned(),
        1 => "1 day".to_owned(),
        days => format!("{days} days"),
    }
}

/// An ISO 8601 time to the second, for tables: `2026-11-28 06:25:35`.
pub fn when(iso: &str) -> String {
    let seconds = iso.split('.').next().unwrap_or(iso).trim_end_matches('Z');
    seconds.replacen('T', " ", 1)
}

/// The date part of an ISO 8601 time, for tables.
pub fn day(iso: &str) -> String {
    iso.split('T').next().unwrap_or(iso).to_owned()
}

/// A cell for something the caller may not read: AWS's console says so in the cell.
pub fn cell(result: Result<Option<String>, coffer_iam::CallError>, read: impl FnOnce(Results) -> String) -> String {
    match result {
        Ok(xml) => read(Results::new(xml)),
        Err(error) if error.code == "AccessDenied" => "Access denied".to_owned(),
        Err(error) => error.code.to_owned(),
    }
}

/// A user name as a path segment.
pub fn segment(name: &str) -> String {
    utf8_percent_encode(name, NON_ALPHANUMERIC).to_string()
}

/// The `field` of each member of the list `list`, joined, or "None".
pub fn names_or_none(results: &Results, list: &str, field: &str) -> String {
    let names: Vec<String> = results
        .members(list)
        .into_iter()
        .filter_map(|member| member.get(field).cloned())
        .collect();
    if names.is_empty() {
        "None".to_owned()
    } else {
        names.join(", ")
    }
}

/// What a page lists of a resource's parts, or why the caller may not see them.
pub struct Listed<T> {
    pub items: Vec<T>,
    pub denied: Option<String>,
}

impl<T> Listed<T> {
    /// The members of `list` in an operation's answer, each read by `read`.
    pub fn from_call(
        result: Result<Option<String>, coffer_iam::CallError>,
        list: &str,
        read: impl Fn(&crate::results::Member) -> Option<T>,
    ) -> Listed<T> {
        match result {
            Ok(xml) => Listed {
                items: Results::new(xml).members(list).iter().filter_map(read).collect(),
                denied: None,
            },
            Err(error) => Listed::denied(error),
        }
    }

    fn denied(error: coffer_iam::CallError) -> Listed<T> {
        Listed {
            items: Vec::new(),
            denied: Some(error.message),
        }
    }
}

impl Listed<String> {
    /// The texts of `list` (names, as ListUserPolicies answers).
    pub fn names(result: Result<Option<String>, coffer_iam::CallError>, list: &str) -> Listed<String> {
        match result {
            Ok(xml) => Listed {
                items: Results::new(xml).texts(list),
                denied: None,
            },
            Err(error) => Listed::denied(error),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_read_to_the_second() {
        assert_eq!(when("2026-11-28T06:25:35.276Z"), "2026-11-28 06:25:35");
        assert_eq!(when("2026-11-28T06:25:35Z"), "2026-11-28 06:25:35");
        assert_eq!(day("2026-11-28T06:25:35Z"), "2026-11-28");
    }
}
