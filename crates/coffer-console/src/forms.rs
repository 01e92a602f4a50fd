//! The forms of a resource's page: one POST per page carries a `change` (what to do), the
//! CSRF token, zero or more `value`s (a picker's ticked rows) and named fields. A failure is
//! shown on the form it came from, with what was typed kept.

use std::collections::HashMap;

/// One change sent from a resource's page.
#[derive(Debug, Default)]
pub struct ChangeForm {
    pub csrf: String,
    /// `attach-policies`, `remove-group`, …: which form was sent.
    pub change: String,
    /// Every `value` field, in order (a picker sends one per ticked row).
    pub values: Vec<String>,
    fields: HashMap<String, String>,
}

impl ChangeForm {
    pub fn parse(body: &[u8]) -> ChangeForm {
        let mut form = ChangeForm::default();
        for (key, value) in form_urlencoded::parse(body) {
            match key.as_ref() {
                "csrf" => form.csrf = value.into_owned(),
                "change" => form.change = value.into_owned(),
                "value" => form.values.push(value.trim().to_owned()),
                _ => {
                    form.fields.insert(key.into_owned(), value.into_owned());
                }
            }
        }
        form
    }

    /// The first `value`, or "".
    pub fn value(&self) -> &str {
        self.values.first().map_or("", String::as_str)
    }

    /// A named field as sent, or "".
    pub fn field(&self, name: &str) -> &str {
        self.fields.get(name).map_or("", String::as_str)
    }

    /// Whether a checkbox field was ticked.
    pub fn ticked(&self, name: &str) -> bool {
        self.fields.contains_key(name)
    }
}

/// What is wrong with an IAM user or group name, in words (IAM's own message quotes its
/// regular expression and echoes the whole value): `None` when IAM will take it.
pub fn iam_name_problem(noun: &str, name: &str, longest: usize) -> Option<String> {
    let allowed = |c: char| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c);
    if name.is_empty() {
        Some(format!("Enter a {noun} name."))
    } else if name.chars().count() > longest {
        Some(format!(
            "A {noun} name has at most {longest} characters; this one has {}.",
            name.chars().count()
        ))
    } else if !name.chars().all(allowed) {
        Some(format!(
            "A {noun} name may use only letters, digits and + = , . @ _ - (no spaces)."
        ))
    } else {
        None
    }
}

/// A failed change, shown on the form it came from: which form (the `change` it sent), the
/// message in words, and AWS's code as a detail.
#[derive(Clone, Debug)]
pub struct Problem {
    pub form: String,
    /// The status of the page that shows it: the API's, or 400 for the console's own checks.
    pub status: u16,
    pub message: String,
    pub code: Option<String>,
}

impl Problem {
    pub fn new(form: &str, message: impl Into<String>) -> Problem {
        Problem {
            form: form.to_owned(),
            status: 400,
            message: message.into(),
            code: None,
        }
    }

    pub fn from_call(form: &str, error: &coffer_iam::CallError) -> Problem {
        Problem {
            form: form.to_owned(),
            status: error.status,
            message: error.message.clone(),
            code: Some(error.code.to_owned()),
        }
    }

    /// Whether this problem belongs to the form that sends `change`.
    pub fn on(&self, change: &str) -> bool {
        self.form == change
    }
}

/// What a run of API calls did, for a page that must say exactly what was and was not done:
/// the names that went through, and the first failure (the calls stop there).
pub struct Outcome {
    pub done: Vec<String>,
    pub failed: Option<(String, coffer_iam::CallError)>,
}

impl Outcome {
    /// Runs `action` on `owner` once per value in `values` (`param` naming the value), in
    /// order, stopping at the first failure.
    pub async fn of_calls(
        console: &crate::Console,
        signed: &crate::page::Signed,
        action: &str,
        owner: (&str, &str),
        param: &str,
        values: &[String],
    ) -> Outcome {
        let mut outcome = Outcome {
            done: Vec::new(),
            failed: None,
        };
        for value in values {
            // A policy is named by the last part of its ARN.
            let label = value.rsplit('/').next().unwrap_or(value).to_owned();
            match signed.call(console, action, &[owner, (param, value)]).await {
                Ok(_) => outcome.done.push(label),
                Err(error) => {
                    outcome.failed = Some((label, error));
                    break;
                }
            }
        }
        outcome
    }

    /// "Attached A. B was not: <message>": what happened, in words.
    pub fn describe(&self, verb: &str) -> String {
        let mut said = Vec::new();
        if !self.done.is_empty() {
            said.push(format!("{verb} {}.", self.done.join(", ")));
        }
        if let Some((name, error)) = &self.failed {
            said.push(format!("{name} was not: {}", error.message));
        }
        said.join(" ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_picker_sends_a_value_per_ticked_row_and_fields_stay_apart() {
        let form = ChangeForm::parse(b"csrf=t&change=attach-policies&value=arn%3Aa&value=arn%3Ab&key=k&reset=on");
        assert_eq!(form.csrf, "t");
        assert_eq!(form.change, "attach-policies");
        assert_eq!(form.values, ["arn:a", "arn:b"]);
        assert_eq!(form.field("key"), "k");
        assert!(form.ticked("reset"));
        assert!(!form.ticked("console"));
        assert_eq!(form.field("absent"), "");
    }

    #[test]
    fn names_iam_refuses_are_explained_without_regexes_or_echoes() {
        assert_eq!(iam_name_problem("group", "ops-team_1", 128), None);
        let long = "a".repeat(300);
        let said = iam_name_problem("group", &long, 128).unwrap();
        assert!(said.contains("at most 128") && said.contains("300") && !said.contains(&long));
        assert!(iam_name_problem("user", "has space", 64).unwrap().contains("no spaces"));
        assert!(iam_name_problem("user", "", 64).is_some());
        assert!(!iam_name_problem("user", "ä", 64).unwrap().contains('\\'));
    }

    #[test]
    fn an_outcome_says_what_was_done_and_what_was_not() {
        let error = coffer_iam::CallError {
            code: "LimitExceeded",
            status: 409,
            message: "Cannot exceed quota".to_owned(),
        };
        let outcome = Outcome {
            done: vec!["A".to_owned()],
            failed: Some(("B".to_owned(), error)),
        };
        assert_eq!(
            outcome.describe("Attached"),
            "Attached A. B was not: Cannot exceed quota"
        );
    }
}
