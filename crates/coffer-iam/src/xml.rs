//! A small writer for the Query protocol's XML: elements, escaped text, nothing else.

use time::OffsetDateTime;
use time::format_description::well_known::Iso8601;
use time::format_description::well_known::iso8601::{Config, TimePrecision};

/// URL encoding as IAM returns policy documents: everything but unreserved characters.
const DOCUMENT_ENCODING: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// A policy document as IAM returns it, URL-encoded.
pub(crate) fn encoded_document(document: &str) -> String {
    percent_encoding::utf8_percent_encode(document, DOCUMENT_ENCODING).to_string()
}

#[derive(Default)]
pub(crate) struct Xml {
    out: String,
}

impl Xml {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    pub(crate) fn open(&mut self, tag: &str) -> &mut Self {
        self.out.push('<');
        self.out.push_str(tag);
        self.out.push('>');
        self
    }

    pub(crate) fn close(&mut self, tag: &str) -> &mut Self {
        self.out.push_str("</");
        self.out.push_str(tag);
        self.out.push('>');
        self
    }

    /// XML another `Xml` made (already escaped), as it is.
    pub(crate) fn raw(&mut self, xml: &str) -> &mut Self {
        self.out.push_str(xml);
        self
    }

    /// `<tag>text</tag>` with the text escaped.
    pub(crate) fn elem(&mut self, tag: &str, text: &str) -> &mut Self {
        self.open(tag);
        self.out.push_str(&quick_xml::escape::escape(text));
        self.close(tag)
    }

    pub(crate) fn elem_opt(&mut self, tag: &str, text: Option<&str>) -> &mut Self {
        if let Some(text) = text {
            self.elem(tag, text);
        }
        self
    }

    pub(crate) fn date(&mut self, tag: &str, at: OffsetDateTime) -> &mut Self {
        self.elem(tag, &iso8601(at))
    }

    /// Wraps what `f` writes in `<tag>…</tag>`.
    pub(crate) fn with(&mut self, tag: &str, f: impl FnOnce(&mut Self)) -> &mut Self {
        self.open(tag);
        f(self);
        self.close(tag)
    }

    pub(crate) fn finish(self) -> String {
        self.out
    }
}

/// AWS's timestamps in IAM responses: `2026-11-28T01:44:29Z`.
pub(crate) fn iso8601(at: OffsetDateTime) -> String {
    const FORMAT: u128 = Config::DEFAULT
        .set_time_precision(TimePrecision::Second { decimal_digits: None })
        .encode();
    at.replace_nanosecond(0)
        .unwrap_or(at)
        .format(&Iso8601::<FORMAT>)
        .unwrap_or_default()
        .replace("+00:00", "Z")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped() {
        let mut xml = Xml::new();
        xml.elem("Key", "a<b&c>\"d'");
        assert_eq!(xml.finish(), "<Key>a&lt;b&amp;c&gt;&quot;d&apos;</Key>");
    }

    #[test]
    fn dates_are_iso8601_seconds_in_utc() {
        let at = OffsetDateTime::from_unix_timestamp(1_790_000_000).unwrap() + time::Duration::milliseconds(123);
        assert_eq!(iso8601(at), "2026-09-21T14:13:20Z");
    }
}
