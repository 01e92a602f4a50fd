//! `Marker` and `MaxItems` for lists read whole from the store (a group's members, a policy's
//! entities, the policies of an account…): sorted by a key, then cut at the marker, at most
//! `MaxItems` long. The marker is the position the next page starts at: opaque to clients as
//! AWS's, always valid as a `Marker` (a key could be too long or outside its characters).
//! (Users and groups, which can run to many thousands, page in SQL instead.)

use crate::IamError;
use crate::params::Params;
use crate::xml::Xml;

/// The page a request asks for.
pub(crate) struct Pager {
    start: usize,
    max_items: usize,
}

impl Pager {
    /// Reads and validates `Marker` and `MaxItems`.
    pub(crate) fn new(params: &Params) -> Result<Pager, IamError> {
        let start = match params.marker()? {
            None => 0,
            Some(marker) => marker
                .parse()
                .map_err(|_| crate::error::validation(Some(marker), "marker", "Invalid Marker"))?,
        };
        Ok(Pager {
            start,
            max_items: params.max_items()?,
        })
    }

    /// The requested page of `items` in the order of `key`, and the next page's marker.
    pub(crate) fn page<T, K: Ord>(&self, mut items: Vec<T>, key: impl Fn(&T) -> K) -> Page<T> {
        items.sort_by_cached_key(|item| key(item));
        let end = self.start.saturating_add(self.max_items);
        let next_marker = (items.len() > end).then(|| end.to_string());
        items.truncate(end);
        let items = items.split_off(self.start.min(items.len()));
        Page { items, next_marker }
    }
}

pub(crate) struct Page<T> {
    pub items: Vec<T>,
    pub next_marker: Option<String>,
}

impl<T> Page<T> {
    /// `IsTruncated`, and `Marker` when there is more.
    pub(crate) fn write_truncation(&self, xml: &mut Xml) {
        crate::users::write_truncation(xml, self.next_marker.as_deref());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pager(query: &str) -> Params {
        Params::parse(query.as_bytes()).unwrap()
    }

    #[test]
    fn pages_follow_each_other_to_the_end() {
        let items = vec!["d", "b", "a", "c", "e"];
        let params = pager("MaxItems=2");
        let first = Pager::new(&params).unwrap().page(items.clone(), |s| s.to_string());
        assert_eq!(first.items, ["a", "b"]);
        let marker = first.next_marker.unwrap();
        let params = pager(&format!("MaxItems=2&Marker={marker}"));
        let second = Pager::new(&params).unwrap().page(items.clone(), |s| s.to_string());
        assert_eq!(second.items, ["c", "d"]);
        let params = pager(&format!("MaxItems=2&Marker={}", second.next_marker.unwrap()));
        let last = Pager::new(&params).unwrap().page(items.clone(), |s| s.to_string());
        assert_eq!(last.items, ["e"]);
        assert_eq!(last.next_marker, None);
        let params = pager("MaxItems=2&Marker=99");
        assert!(
            Pager::new(&params)
                .unwrap()
                .page(items, |s| s.to_string())
                .items
                .is_empty()
        );
        assert!(Pager::new(&pager("Marker=b")).is_err(), "a marker Coffer did not give");
    }

    #[test]
    fn a_page_that_holds_everything_is_not_truncated() {
        let params = pager("MaxItems=3");
        let page = Pager::new(&params).unwrap().page(vec![1, 2, 3], |n| n.to_string());
        assert_eq!(page.items, [1, 2, 3]);
        assert_eq!(page.next_marker, None);
    }
}
