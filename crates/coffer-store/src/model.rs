//! Plain data returned by the store.

use time::OffsetDateTime;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Account {
    pub account_id: String,
    pub name: String,
    pub alias: Option<String>,
    pub created_at: OffsetDateTime,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct User {
    pub user_id: String,
    pub account_id: String,
    pub name: String,
    pub path: String,
    pub created_at: OffsetDateTime,
    /// When the user last signed in to the console with its password.
    pub password_last_used: Option<OffsetDateTime>,
}

impl User {
    pub fn arn(&self) -> String {
        format!("arn:aws:iam::{}:user{}{}", self.account_id, self.path, self.name)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyStatus {
    Active,
    Inactive,
}

impl KeyStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            KeyStatus::Active => "Active",
            KeyStatus::Inactive => "Inactive",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "Active" => Some(KeyStatus::Active),
            "Inactive" => Some(KeyStatus::Inactive),
            _ => None,
        }
    }
}

/// An access key without its secret.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccessKey {
    pub access_key_id: String,
    pub account_id: String,
    /// `None` for the root user's keys.
    pub user_name: Option<String>,
    pub status: KeyStatus,
    pub created_at: OffsetDateTime,
}

/// A key just created: the only time its secret is handed out.
#[derive(Clone)]
pub struct NewAccessKey {
    pub key: AccessKey,
    pub secret_access_key: String,
}

impl std::fmt::Debug for NewAccessKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewAccessKey")
            .field("key", &self.key)
            .finish_non_exhaustive()
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyLastUsed {
    pub at: OffsetDateTime,
    pub service: String,
    pub region: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tag {
    pub key: String,
    pub value: String,
}

/// One page of a listing: the items, and the marker to resume after them if there are more.
#[derive(Clone, Debug)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_marker: Option<String>,
}

impl<T> Page<T> {
    /// A page of at most `max_items` from `items`, read with one more than that: when the
    /// extra one came, the page is cut and its last item's `key` is the next marker.
    pub(crate) fn cut(mut items: Vec<T>, max_items: usize, key: impl Fn(&T) -> String) -> Page<T> {
        let next_marker = if items.len() > max_items {
            items.truncate(max_items);
            items.last().map(key)
        } else {
            None
        };
        Page { items, next_marker }
    }
}

pub(crate) fn now_millis() -> i64 {
    (OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64
}

pub(crate) fn to_millis(time: OffsetDateTime) -> i64 {
    (time.unix_timestamp_nanos() / 1_000_000) as i64
}

pub(crate) fn from_millis(ms: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp_nanos(ms as i128 * 1_000_000).unwrap_or(OffsetDateTime::UNIX_EPOCH)
}
