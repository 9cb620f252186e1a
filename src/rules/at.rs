//! Where something is in a rule, as the rules file spells it: `actions[0].update.fields.status`.
//!
//! A place is a chain of borrowed segments on the stack, turned into text only when a problem is
//! reported. Formatting the place of every value and pattern key up front, for the rules that are
//! valid, was a fifth of loading the default rules at cold start.

use std::fmt;

#[derive(Debug, Clone, Copy)]
pub enum At<'a> {
    Root(&'a str),
    Key(&'a At<'a>, &'a str),
    Index(&'a At<'a>, usize),
}

impl<'a> At<'a> {
    pub fn key(&'a self, key: &'a str) -> At<'a> {
        At::Key(self, key)
    }

    pub fn index(&'a self, index: usize) -> At<'a> {
        At::Index(self, index)
    }

    /// Whether the place is inside a `fields` mapping (search, create or update fields).
    pub fn in_fields(&self) -> bool {
        match self {
            At::Root(root) => *root == "fields",
            At::Key(parent, key) => *key == "fields" || parent.in_fields(),
            At::Index(parent, _) => parent.in_fields(),
        }
    }
}

impl fmt::Display for At<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            At::Root(root) => f.write_str(root),
            At::Key(parent, key) => write!(f, "{parent}.{key}"),
            At::Index(parent, index) => write!(f, "{parent}[{index}]"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn places_read_as_the_rules_file_spells_them() {
        let actions = At::Root("actions");
        let first = actions.index(0);
        let fields = first.key("update").key("fields").key("status").to_string();
        assert_eq!(fields, "actions[0].update.fields.status");
        assert_eq!(At::Root("match").key("detail").key("state").index(1).to_string(), "match.detail.state[1]");
    }

    #[test]
    fn a_place_knows_whether_it_is_a_field_value() {
        let case = At::Root("case");
        assert!(case.key("create").key("fields").key("customer_id").in_fields());
        assert!(!case.key("find").index(0).key("id").in_fields());
        assert!(!At::Root("actions").index(2).key("sla").key("name").in_fields());
    }
}
