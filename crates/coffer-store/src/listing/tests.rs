//! The listing walk against a model: S3's listing defined the slow, obvious way.

use std::collections::BTreeSet;

use proptest::prelude::*;

use super::*;

struct MemoryKeys {
    keys: BTreeSet<String>,
    batches: usize,
}

fn summary(key: &str) -> ObjectSummary {
    ObjectSummary {
        key: key.to_owned(),
        size: key.len() as u64,
        etag: String::new(),
        last_modified: OffsetDateTime::UNIX_EPOCH,
        checksum_algorithm: None,
        checksum_type: None,
        storage_class: None,
        owner: None,
    }
}

impl KeySource for MemoryKeys {
    type Item = ObjectSummary;

    async fn batch(&mut self, seek: &Seek, limit: usize) -> Result<Vec<ObjectSummary>> {
        self.batches += 1;
        Ok(self
            .keys
            .iter()
            .filter(|key| match seek {
                Seek::After(bound) | Seek::AfterVersion(bound, _) => key.as_bytes() > bound.as_slice(),
                Seek::AtOrAfter(bound) => key.as_bytes() >= bound.as_slice(),
            })
            .take(limit)
            .map(|key| summary(key))
            .collect())
    }
}

/// Every entry of a complete listing, computed over all keys at once.
fn model(keys: &BTreeSet<String>, prefix: &str, delimiter: Option<&str>) -> Vec<String> {
    let mut entries: Vec<String> = Vec::new();
    for key in keys.iter().filter(|key| key.starts_with(prefix)) {
        let entry = match delimiter.filter(|d| !d.is_empty()) {
            Some(d) => match key[prefix.len()..].find(d) {
                Some(at) => key[..prefix.len() + at + d.len()].to_owned(),
                None => key.clone(),
            },
            None => key.clone(),
        };
        if entries.last() != Some(&entry) {
            entries.push(entry);
        }
    }
    entries
}

fn run<T>(future: impl Future<Output = T>) -> T {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
        .block_on(future)
}

/// Pages through a whole listing, resuming after each page's last entry.
fn all_pages(keys: &BTreeSet<String>, prefix: &str, delimiter: Option<&str>, max_keys: usize) -> Vec<String> {
    let mut source = MemoryKeys {
        keys: keys.clone(),
        batches: 0,
    };
    let mut names = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let query = ListQuery {
            after_version: None,
            prefix,
            delimiter,
            after: after.as_deref(),
            max_keys,
        };
        let page = run(list(&mut source, &query)).unwrap();
        assert!(page.entries.len() <= max_keys);
        names.extend(page.entries.iter().map(|entry| entry.name().to_owned()));
        if !page.is_truncated {
            return names;
        }
        assert!(!page.entries.is_empty(), "a truncated page must make progress");
        after = page.entries.last().map(|entry| entry.name().to_owned());
    }
}

fn key_strategy() -> impl Strategy<Value = String> {
    // A small alphabet makes shared prefixes and delimiters common; the multi-byte characters
    // check byte order (é sorts after z, and 🙂 after é).
    proptest::collection::vec(
        prop::sample::select(vec!["a", "b", "/", "-", "é", "🙂", "%", " "]),
        0..7,
    )
    .prop_map(|parts| parts.concat())
}

proptest! {
    #[test]
    fn paging_through_a_listing_yields_the_model(
        keys in proptest::collection::btree_set(key_strategy(), 0..40),
        prefix in prop::sample::select(vec!["", "a", "a/", "b/", "é", "a/b"]),
        delimiter in prop::sample::select(vec![None, Some("/"), Some("-"), Some("é"), Some("a/"), Some("")]),
        max_keys in 1usize..6,
    ) {
        let expected = model(&keys, prefix, delimiter);
        prop_assert_eq!(all_pages(&keys, prefix, delimiter, max_keys), expected);
    }
}

#[test]
fn entries_come_in_byte_order() {
    let keys: BTreeSet<String> = ["z", "é", "a", "A", "🙂", "a b", "a%"].map(String::from).into();
    assert_eq!(
        all_pages(&keys, "", None, 1000),
        ["A", "a", "a b", "a%", "z", "é", "🙂"]
    );
}

#[test]
fn a_common_prefix_costs_one_seek_not_a_scan() {
    let mut keys: BTreeSet<String> = (0..10_000).map(|i| format!("photos/{i:05}")).collect();
    keys.insert("readme".to_owned());
    let mut source = MemoryKeys { keys, batches: 0 };
    let query = ListQuery {
        after_version: None,
        prefix: "",
        delimiter: Some("/"),
        after: None,
        max_keys: 1000,
    };
    let page = run(list(&mut source, &query)).unwrap();
    assert_eq!(page.entries.len(), 2);
    assert!(!page.is_truncated);
    assert_eq!(source.batches, 2);
}

#[test]
fn a_page_ending_on_a_common_prefix_resumes_past_it() {
    let keys: BTreeSet<String> = ["a/1", "a/2", "b/1", "c"].map(String::from).into();
    let mut source = MemoryKeys { keys, batches: 0 };
    let query = ListQuery {
        after_version: None,
        prefix: "",
        delimiter: Some("/"),
        after: Some("a/"),
        max_keys: 10,
    };
    let page = run(list(&mut source, &query)).unwrap();
    let names: Vec<&str> = page.entries.iter().map(ListEntry::name).collect();
    assert_eq!(names, ["b/", "c"]);
}

#[test]
fn start_after_inside_a_common_prefix_still_reports_the_prefix() {
    let keys: BTreeSet<String> = ["a/1", "a/2", "b"].map(String::from).into();
    let mut source = MemoryKeys { keys, batches: 0 };
    let query = ListQuery {
        after_version: None,
        prefix: "",
        delimiter: Some("/"),
        after: Some("a/1"),
        max_keys: 10,
    };
    let page = run(list(&mut source, &query)).unwrap();
    let names: Vec<&str> = page.entries.iter().map(ListEntry::name).collect();
    assert_eq!(names, ["a/", "b"]);
}

#[test]
fn zero_max_keys_returns_an_empty_untruncated_page() {
    let keys: BTreeSet<String> = ["a"].map(String::from).into();
    let mut source = MemoryKeys { keys, batches: 0 };
    let query = ListQuery {
        after_version: None,
        prefix: "",
        delimiter: None,
        after: None,
        max_keys: 0,
    };
    let page = run(list(&mut source, &query)).unwrap();
    assert!(page.entries.is_empty());
    assert!(!page.is_truncated);
}

#[test]
fn past_skips_trailing_ff_bytes() {
    assert_eq!(past(b"a/"), Some(b"a0".to_vec()));
    assert_eq!(past(&[b'a', 0xff]), Some(b"b".to_vec()));
    assert_eq!(past(&[0xff]), None);
}
