//! The Query protocol's parameters: `Action`, `Version` and the operation's members, from a
//! form body or a query string; lists as `Name.member.N`.

use std::collections::HashMap;

use percent_encoding::percent_decode;

use crate::error::{IamError, validation};

/// Looked up by name in constant time: list members are read one name at a time, and a
/// request may carry tens of thousands of them. The first occurrence of a name wins.
#[derive(Debug, Default)]
pub(crate) struct Params {
    values: HashMap<String, String>,
}

impl Params {
    /// Every parameter, in no particular order (for the audit record).
    pub(crate) fn pairs(&self) -> impl Iterator<Item = (&str, &str)> {
        self.values.iter().map(|(name, value)| (name.as_str(), value.as_str()))
    }

    /// Parses `application/x-www-form-urlencoded` text. Non-UTF-8 after decoding is refused
    /// rather than replaced, so no name is silently changed.
    /// Parameters given as name-value pairs (an in-process call).
    pub(crate) fn from_pairs(pairs: &[(&str, &str)]) -> Self {
        Params {
            values: pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect(),
        }
    }

    pub(crate) fn parse(encoded: &[u8]) -> Result<Self, IamError> {
        let mut values = HashMap::new();
        for pair in encoded.split(|b| *b == b'&').filter(|p| !p.is_empty()) {
            let (key, value) = match pair.iter().position(|b| *b == b'=') {
                Some(at) => (&pair[..at], &pair[at + 1..]),
                None => (pair, &b""[..]),
            };
            values.entry(decode(key)?).or_insert(decode(value)?);
        }
        Ok(Params { values })
    }

    /// Adds `other`'s parameters; names already present keep their value.
    pub(crate) fn extend(&mut self, other: Params) {
        for (key, value) in other.values {
            self.values.entry(key).or_insert(value);
        }
    }

    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.values.get(name).map(String::as_str)
    }

    /// A required member; AWS names it in camelCase in its validation message.
    pub(crate) fn require(&self, name: &str) -> Result<&str, IamError> {
        self.get(name)
            .ok_or_else(|| validation(None, &camel(name), "Member must not be null"))
    }

    /// `UserName` naming a user that should exist.
    pub(crate) fn existing_user_name(&self) -> Result<&str, IamError> {
        let name = self.require("UserName")?;
        crate::validate::existing_user_name(name, "userName")?;
        Ok(name)
    }

    /// `Marker`, validated, if given.
    pub(crate) fn marker(&self) -> Result<Option<&str>, IamError> {
        let marker = self.get("Marker");
        if let Some(marker) = marker {
            crate::validate::marker(marker)?;
        }
        Ok(marker)
    }

    /// `MaxItems`: 1 to 1000, default 100.
    pub(crate) fn max_items(&self) -> Result<usize, IamError> {
        match self.get("MaxItems") {
            None => Ok(100),
            Some(text) => match text.parse::<usize>() {
                Ok(n) if (1..=1000).contains(&n) => Ok(n),
                Ok(n) if n < 1 => Err(validation(
                    Some(text),
                    "maxItems",
                    "Member must have value greater than or equal to 1",
                )),
                Ok(_) => Err(validation(
                    Some(text),
                    "maxItems",
                    "Member must have value less than or equal to 1000",
                )),
                Err(_) => Err(IamError::Validation(format!(
                    "Invalid value for parameter MaxItems: {text}"
                ))),
            },
        }
    }

    /// `Name.member.1`, `Name.member.2`, … in order, stopping at the first gap.
    pub(crate) fn members(&self, name: &str) -> Vec<&str> {
        (1..).map_while(|i| self.get(&format!("{name}.member.{i}"))).collect()
    }

    /// Pairs of `Name.member.N.Key` / `Name.member.N.Value`.
    pub(crate) fn key_values(&self, name: &str) -> Vec<(&str, Option<&str>)> {
        (1..)
            .map_while(|i| {
                let key = self.get(&format!("{name}.member.{i}.Key"))?;
                Some((key, self.get(&format!("{name}.member.{i}.Value"))))
            })
            .collect()
    }
}

fn decode(raw: &[u8]) -> Result<String, IamError> {
    let plus_as_space: Vec<u8> = raw.iter().map(|b| if *b == b'+' { b' ' } else { *b }).collect();
    let bytes: Vec<u8> = percent_decode(&plus_as_space).collect();
    String::from_utf8(bytes).map_err(|_| IamError::MalformedQueryString("a parameter is not valid UTF-8".to_owned()))
}

fn camel(name: &str) -> String {
    let mut chars = name.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_encoding_is_decoded() {
        let params = Params::parse(b"Action=CreateUser&UserName=a%2Bb&Path=%2Fx+y%2F&Empty=").unwrap();
        assert_eq!(params.get("UserName"), Some("a+b"));
        assert_eq!(params.get("Path"), Some("/x y/"));
        assert_eq!(params.get("Empty"), Some(""));
        assert_eq!(params.get("Missing"), None);
    }

    #[test]
    fn invalid_utf8_is_malformed_not_replaced() {
        assert!(matches!(
            Params::parse(b"UserName=%FF%FE"),
            Err(IamError::MalformedQueryString(_))
        ));
    }

    #[test]
    fn members_and_key_values_follow_the_query_list_shape() {
        let params = Params::parse(
            b"TagKeys.member.1=a&TagKeys.member.2=b&TagKeys.member.4=d&Tags.member.1.Key=k&Tags.member.1.Value=v",
        )
        .unwrap();
        assert_eq!(params.members("TagKeys"), ["a", "b"]);
        assert_eq!(params.key_values("Tags"), [("k", Some("v"))]);
    }

    #[test]
    fn a_missing_member_is_named_in_camel_case() {
        let err = Params::default().require("UserName").unwrap_err();
        assert_eq!(
            err.to_string(),
            "1 validation error detected: Value null at 'userName' failed to satisfy constraint: Member must not be null"
        );
    }

    #[test]
    fn max_items_is_bounded() {
        for (text, ok) in [("1", true), ("1000", true), ("0", false), ("1001", false), ("x", false)] {
            let params = Params::parse(format!("MaxItems={text}").as_bytes()).unwrap();
            assert_eq!(params.max_items().is_ok(), ok, "{text}");
        }
    }
}
