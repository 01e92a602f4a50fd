//! `requestParameters` and `responseElements` as CloudTrail writes them for the Query APIs:
//! the request's parameters and the result's XML, as JSON with lower-camel-case names, and
//! every secret replaced by [`HIDDEN`].

use quick_xml::events::Event as Xml;
use serde_json::{Map, Value};

use crate::event::HIDDEN;

/// Names (lower-cased) whose values are secrets, wherever they appear.
const SECRET_NAMES: [&str; 10] = [
    "securitytoken",
    "password",
    "oldpassword",
    "newpassword",
    "secretaccesskey",
    "sessiontoken",
    "webidentitytoken",
    "samlassertion",
    "privatekey",
    "plaintext",
];

fn is_secret(name: &str) -> bool {
    SECRET_NAMES.contains(&name.to_ascii_lowercase().as_str())
}

/// `UserName` → `userName`: CloudTrail's spelling of a Query API name.
fn camel(name: &str) -> String {
    let mut chars = name.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// The parameters of a Query API call (`Action`, `Version` and the signature's own left
/// out): `Tags.member.1.Key=a` becomes `{"tags":[{"key":"a"}]}`.
pub fn request_parameters<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Value {
    let mut pairs: Vec<(&str, &str)> = pairs.into_iter().filter(|(name, _)| !is_protocol(name)).collect();
    if pairs.is_empty() {
        return Value::Null;
    }
    pairs.sort_by_key(|(name, _)| *name);
    let mut root = Value::Object(Map::new());
    for (name, value) in pairs {
        let path: Vec<&str> = name.split('.').filter(|s| *s != "member" && *s != "entry").collect();
        let secret = path.iter().any(|segment| is_secret(segment));
        let value = if secret { HIDDEN } else { value };
        insert(&mut root, &path, value);
    }
    root
}

fn is_protocol(name: &str) -> bool {
    matches!(
        name,
        "Action"
            | "Version"
            | "AWSAccessKeyId"
            | "Signature"
            | "SignatureMethod"
            | "SignatureVersion"
            | "Timestamp"
            | "Expires"
    ) || name.to_ascii_lowercase().starts_with("x-amz-")
}

/// Puts `value` at `path` under `node`; a number in the path (1-based) indexes an array.
fn insert(node: &mut Value, path: &[&str], value: &str) {
    let Some((first, rest)) = path.split_first() else {
        *node = Value::String(value.to_owned());
        return;
    };
    let child = match first.parse::<usize>() {
        Ok(index) if (1..=1000).contains(&index) => {
            if !node.is_array() {
                *node = Value::Array(Vec::new());
            }
            let Value::Array(items) = node else { return };
            if items.len() < index {
                items.resize(index, Value::Null);
            }
            &mut items[index - 1]
        }
        _ => {
            if !node.is_object() {
                *node = Value::Object(Map::new());
            }
            let Value::Object(fields) = node else { return };
            fields.entry(camel(first)).or_insert(Value::Null)
        }
    };
    insert(child, rest, value);
}

/// A Query API result (the content of `<…Result>`) as JSON: `<member>` lists become arrays,
/// text stays text, secrets are hidden. Text that is not XML gives `null`.
pub fn response_elements(xml: &str) -> Value {
    struct Node {
        name: String,
        children: Vec<Node>,
        text: String,
    }
    fn to_json(node: &Node) -> Value {
        if is_secret(&node.name) {
            return HIDDEN.into();
        }
        if node.children.is_empty() {
            return node.text.clone().into();
        }
        if node.children.iter().all(|c| c.name == "member") {
            return Value::Array(node.children.iter().map(to_json).collect());
        }
        Value::Object(children_to_map(&node.children))
    }
    fn children_to_map(children: &[Node]) -> Map<String, Value> {
        children.iter().map(|c| (camel(&c.name), to_json(c))).collect()
    }
    let mut reader = quick_xml::Reader::from_str(xml);
    let mut stack = vec![Node {
        name: String::new(),
        children: Vec::new(),
        text: String::new(),
    }];
    loop {
        match reader.read_event() {
            Ok(Xml::Start(start)) => {
                let name = String::from_utf8_lossy(start.local_name().as_ref()).into_owned();
                stack.push(Node {
                    name,
                    children: Vec::new(),
                    text: String::new(),
                });
            }
            Ok(Xml::Empty(empty)) => {
                let name = String::from_utf8_lossy(empty.local_name().as_ref()).into_owned();
                if let Some(parent) = stack.last_mut() {
                    parent.children.push(Node {
                        name,
                        children: Vec::new(),
                        text: String::new(),
                    });
                }
            }
            Ok(Xml::Text(text)) => {
                if let (Some(top), Ok(text)) = (stack.last_mut(), text.unescape()) {
                    top.text.push_str(&text);
                }
            }
            Ok(Xml::End(_)) => {
                if stack.len() < 2 {
                    return Value::Null;
                }
                let done = stack.pop().expect("two nodes");
                stack.last_mut().expect("a parent").children.push(done);
            }
            Ok(Xml::Eof) => break,
            Ok(_) => {}
            Err(_) => return Value::Null,
        }
    }
    match stack.as_slice() {
        [root] if !root.children.is_empty() => Value::Object(children_to_map(&root.children)),
        _ => Value::Null,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parameters_nest_and_hide_secrets() {
        let params = request_parameters([
            ("Action", "CreateLoginProfile"),
            ("Version", "2010-05-08"),
            ("UserName", "alice"),
            ("Password", "hunter2-Secret"),
            ("Tags.member.1.Key", "team"),
            ("Tags.member.1.Value", "blue"),
            ("Tags.member.2.Key", "env"),
            ("Tags.member.2.Value", "prod"),
        ]);
        assert_eq!(
            params,
            serde_json::json!({
                "password": HIDDEN,
                "tags": [{"key": "team", "value": "blue"}, {"key": "env", "value": "prod"}],
                "userName": "alice",
            })
        );
        assert_eq!(request_parameters([("Action", "ListUsers")]), Value::Null);
    }

    #[test]
    fn results_become_json_without_their_secrets() {
        let xml = "<AccessKey><UserName>alice</UserName><AccessKeyId>AKIAEXAMPLE</AccessKeyId>\
                   <Status>Active</Status><SecretAccessKey>wJalrXUtnFEMI/K7MDENG</SecretAccessKey>\
                   <CreateDate>2026-12-06T10:00:00Z</CreateDate></AccessKey>";
        let elements = response_elements(xml);
        assert_eq!(elements["accessKey"]["accessKeyId"], "AKIAEXAMPLE");
        assert_eq!(elements["accessKey"]["secretAccessKey"], HIDDEN);
        assert!(!elements.to_string().contains("wJalr"));
        let list = response_elements(
            "<Users><member><UserName>a</UserName></member><member><UserName>b</UserName></member></Users><IsTruncated>false</IsTruncated>",
        );
        assert_eq!(list["users"][1]["userName"], "b");
        assert_eq!(list["isTruncated"], "false");
        assert_eq!(response_elements("<a><b></a>"), Value::Null);
        assert_eq!(response_elements(""), Value::Null);
    }

    proptest! {
        /// Whatever a secret parameter is called inside a list or struct, its value never
        /// reaches the record.
        #[test]
        fn a_secret_never_survives(
            prefix in "[A-Z][a-z]{0,6}(\\.member\\.[1-9])?\\.",
            name in prop::sample::select(vec!["Password", "NewPassword", "SecretAccessKey", "SessionToken"]),
            secret in "[A-Za-z0-9]{12,20}",
        ) {
            let key = format!("{prefix}{name}");
            let params = request_parameters([(key.as_str(), secret.as_str()), ("UserName", "alice")]);
            prop_assert!(!params.to_string().contains(&secret));
            let xml = format!("<R><{name}>{secret}</{name}></R>");
            prop_assert!(!response_elements(&xml).to_string().contains(&secret));
        }
    }
}
