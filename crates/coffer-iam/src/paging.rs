//! `Marker` and `MaxItems` for lists read whole from the store (a group's members, a policy's
//! entities, the policies of an account…): sorted by a key, cut after the marker, at most
//! `MaxItems` long. The marker handed back is the page's last key, opaque to clients as AWS's.
//! (Users and groups, which can run to many thousands, page in SQL instead.)

use crate::IamError;
use crate::params::Params;
use crate::xml::Xml;

/// The page a request asks for.
pub(crate) struct Pager<'a> {
    marker: Option<&'a str>,
    max_items: usize,
}

impl<'a> Pager<'a> {
    /// Reads and validates `Marker` and `MaxItems`.
    pub(crate) fn new(params: &'a Params) -> Result<Pager<'a>, IamError> {
        Ok(Pager {
            marker: params.marker()?,
            max_items: params.max_items()?,
        })
    }

    /// The requested page of `items` by `key`, and the marker of the next page if any.
    pub(crate) fn page<T>(&self, mut items: Vec<T>, key: impl Fn(&T) -> String) -> Page<T> {
        items.sort_by_cached_key(|item| key(item));
        if let Some(marker) = self.marker {
            items.retain(|item| key(item).as_str() > marker);
        }
        let next_marker = (items.len() > self.max_items).then(|| {
            items.truncate(self.max_items);
            items.last().map(&key).unwrap_or_default()
        });
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
        assert_eq!(first.next_marker.as_deref(), Some("b"));
        let params = pager("MaxItems=2&Marker=b");
        let second = Pager::new(&params).unwrap().page(items.clone(), |s| s.to_string());
        assert_eq!(second.items, ["c", "d"]);
        let params = pager("MaxItems=2&Marker=d");
        let last = Pager::new(&params).unwrap().page(items, |s| s.to_string());
        assert_eq!(last.items, ["e"]);
        assert_eq!(last.next_marker, None);
    }

    #[test]
    fn a_page_that_holds_everything_is_not_truncated() {
        let params = pager("MaxItems=3");
        let page = Pager::new(&params).unwrap().page(vec![1, 2, 3], |n| n.to_string());
        assert_eq!(page.items, [1, 2, 3]);
        assert_eq!(page.next_marker, None);
    }
}
