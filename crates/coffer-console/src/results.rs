//! Reading the XML an IAM or S3 operation answers with (the console runs the same operations
//! as the API, so it reads the same answers).

use std::collections::HashMap;

/// One `<member>`: its child elements' text by name.
pub type Member = HashMap<String, String>;

/// An operation's result content, parsed.
pub struct Results {
    text: String,
}

impl Results {
    /// An IAM result: a sequence of elements, given one root here.
    pub fn new(xml: Option<String>) -> Results {
        Results {
            text: format!("<r>{}</r>", xml.unwrap_or_default()),
        }
    }

    /// A whole XML document (an S3 answer).
    pub fn document(xml: String) -> Results {
        Results { text: xml }
    }

    /// Whether the answer is a readable XML document (an unreadable one must never look
    /// like an empty result).
    pub fn is_readable(&self) -> bool {
        roxmltree::Document::parse(&self.text).is_ok()
    }

    fn with<T>(&self, read: impl FnOnce(roxmltree::Node<'_, '_>) -> T, otherwise: T) -> T {
        match roxmltree::Document::parse(&self.text) {
            Ok(doc) => read(doc.root_element()),
            Err(err) => {
                tracing::error!(%err, "an IAM result did not parse");
                otherwise
            }
        }
    }

    /// The members of the list element `list` (anywhere in the result).
    pub fn members(&self, list: &str) -> Vec<Member> {
        self.with(
            |root| {
                root.descendants()
                    .find(|n| n.has_tag_name(list))
                    .map(|list| {
                        list.children()
                            .filter(|n| n.has_tag_name("member"))
                            .map(|member| {
                                member
                                    .children()
                                    .filter(|n| n.is_element())
                                    .map(|n| (n.tag_name().name().to_owned(), n.text().unwrap_or("").to_owned()))
                                    .collect()
                            })
                            .collect()
                    })
                    .unwrap_or_default()
            },
            Vec::new(),
        )
    }

    /// The text of each member of the list element `list` (a list of names, as
    /// ListUserPolicies answers).
    pub fn texts(&self, list: &str) -> Vec<String> {
        self.with(
            |root| {
                root.descendants()
                    .find(|n| n.has_tag_name(list))
                    .map(|list| {
                        list.children()
                            .filter(|n| n.has_tag_name("member"))
                            .map(|member| member.text().unwrap_or("").to_owned())
                            .collect()
                    })
                    .unwrap_or_default()
            },
            Vec::new(),
        )
    }

    /// Every element named `name` (anywhere), each as its child elements' text by name.
    pub fn elements(&self, name: &str) -> Vec<Member> {
        self.with(
            |root| {
                root.descendants()
                    .filter(|n| n.has_tag_name(name))
                    .map(|element| {
                        element
                            .children()
                            .filter(|n| n.is_element())
                            .map(|n| (n.tag_name().name().to_owned(), n.text().unwrap_or("").to_owned()))
                            .collect()
                    })
                    .collect()
            },
            Vec::new(),
        )
    }

    /// The text of the first element named `name`.
    pub fn text(&self, name: &str) -> Option<String> {
        self.with(
            |root| {
                root.descendants()
                    .find(|n| n.has_tag_name(name))
                    .map(|n| n.text().unwrap_or("").to_owned())
            },
            None,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn members_and_texts_are_read() {
        let results = Results::new(Some(
            "<Users><member><UserName>alice</UserName><Path>/</Path></member><member><UserName>bob</UserName></member></Users><IsTruncated>true</IsTruncated><Marker>m1</Marker>".to_owned(),
        ));
        let users = results.members("Users");
        assert_eq!(users.len(), 2);
        assert_eq!(users[0]["UserName"], "alice");
        assert_eq!(results.text("Marker").as_deref(), Some("m1"));
        assert!(results.members("Groups").is_empty());
        assert!(Results::new(None).text("Marker").is_none());
        let listing = Results::document(
            r#"<?xml version="1.0" encoding="UTF-8"?><ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Contents><Key>a&amp;b</Key><Size>1</Size></Contents><Contents><Key>c</Key><Size>2</Size></Contents></ListBucketResult>"#.to_owned(),
        );
        let contents = listing.elements("Contents");
        assert_eq!(contents.len(), 2);
        assert_eq!(contents[0]["Key"], "a&b", "entities decoded");
        assert_eq!(listing.text("Key").as_deref(), Some("a&b"));
    }
}
