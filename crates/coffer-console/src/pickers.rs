//! Pickers: the searchable, filterable lists with checkboxes that attach policies (to users
//! and groups) and pick users or groups, instead of typing names and ARNs. One component for
//! every page, as AWS's console has; roles will use the same.

use crate::Console;
use crate::page::Signed;
use crate::results::Results;

/// A managed policy as the picker lists it.
pub struct PolicyChoice {
    pub arn: String,
    pub name: String,
    /// "AWS managed" or "Customer managed".
    pub kind: &'static str,
    pub description: String,
    /// Ticked when the page is shown again after a failure.
    pub chosen: bool,
}

/// A list of managed policies to tick, or why there is none.
pub struct PolicyPicker {
    pub choices: Vec<PolicyChoice>,
    /// Set when the caller may not list policies (`iam:ListPolicies`).
    pub denied: Option<String>,
}

impl PolicyPicker {
    /// Every managed policy the caller may list, except those in `attached`; those in
    /// `chosen` come ticked.
    pub async fn load(console: &Console, signed: &Signed, attached: &[String], chosen: &[String]) -> PolicyPicker {
        let listed = match signed.call(console, "ListPolicies", &[("MaxItems", "1000")]).await {
            Ok(xml) => Results::new(xml).members("Policies"),
            Err(error) => {
                return PolicyPicker {
                    choices: Vec::new(),
                    denied: Some(error.message),
                };
            }
        };
        let mut choices: Vec<PolicyChoice> = listed
            .into_iter()
            .filter_map(|p| {
                let arn = p.get("Arn")?.clone();
                Some(PolicyChoice {
                    kind: if arn.starts_with("arn:aws:iam::aws:") {
                        "AWS managed"
                    } else {
                        "Customer managed"
                    },
                    name: p.get("PolicyName")?.clone(),
                    description: p.get("Description").cloned().unwrap_or_default(),
                    chosen: chosen.contains(&arn),
                    arn,
                })
            })
            .filter(|choice| !attached.contains(&choice.arn))
            .collect();
        choices.sort_by_key(|a| a.name.to_lowercase());
        PolicyPicker { choices, denied: None }
    }
}

/// A name to tick (a user to add to a group, a group to add a user to).
pub struct NameChoice {
    pub name: String,
    pub chosen: bool,
}

/// A list of users or groups to tick, or why there is none.
pub struct NamePicker {
    pub choices: Vec<NameChoice>,
    pub denied: Option<String>,
}

impl NamePicker {
    /// The users (`ListUsers`) or groups (`ListGroups`) the caller may list, except `taken`.
    pub async fn load(
        console: &Console,
        signed: &Signed,
        of: Listing,
        taken: &[String],
        chosen: &[String],
    ) -> NamePicker {
        let (action, list, field) = match of {
            Listing::Users => ("ListUsers", "Users", "UserName"),
            Listing::Groups => ("ListGroups", "Groups", "GroupName"),
        };
        match signed.call(console, action, &[("MaxItems", "1000")]).await {
            Ok(xml) => NamePicker {
                choices: Results::new(xml)
                    .members(list)
                    .into_iter()
                    .filter_map(|m| m.get(field).cloned())
                    .filter(|name| !taken.contains(name))
                    .map(|name| NameChoice {
                        chosen: chosen.contains(&name),
                        name,
                    })
                    .collect(),
                denied: None,
            },
            Err(error) => NamePicker {
                choices: Vec::new(),
                denied: Some(error.message),
            },
        }
    }
}

/// What a [`NamePicker`] lists.
#[derive(Clone, Copy)]
pub enum Listing {
    Users,
    Groups,
}
