//! JSON paths in values (RFC 9535, `serde_json_path`), with a fast walk for plain member chains,
//! and what a path reads under `$.contact`.

use serde_json::Value;
use serde_json_path::JsonPath;

/// A compiled JSON path. Most paths in rules are plain member chains (`$.detail.orderNumber`);
/// those are walked directly, which is what RFC 9535 gives for them (one node, or none), at a
/// fraction of the cost of compiling and running a general query (a fifth of the cold start).
#[derive(Debug, Clone)]
pub enum Path {
    Members(Vec<String>),
    General(JsonPath),
}

impl Path {
    /// Every node the path selects.
    pub(super) fn query<'v>(&self, root: &'v Value) -> Vec<&'v Value> {
        match self {
            Path::Members(members) => {
                members.iter().try_fold(root, |node, member| node.as_object().and_then(|o| o.get(member))).into_iter().collect()
            }
            Path::General(path) => path.query(root).all(),
        }
    }
}

pub(super) fn parse_path(text: &str) -> Result<Path, String> {
    if let Some(members) = member_chain(text) {
        return Ok(Path::Members(members));
    }
    JsonPath::parse(text).map(Path::General).map_err(|e| format!("invalid JSON path `{text}`: {e}"))
}

/// `$` followed by `.name` segments, where each name is an RFC 9535 member-name-shorthand in ASCII
/// (a letter or `_`, then letters, digits or `_`).
fn member_chain(text: &str) -> Option<Vec<String>> {
    let rest = text.strip_prefix('$')?;
    if rest.is_empty() {
        return Some(Vec::new());
    }
    rest.strip_prefix('.')?
        .split('.')
        .map(|name| {
            let mut chars = name.chars();
            let first = chars.next()?;
            let valid = (first.is_ascii_alphabetic() || first == '_') && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
            valid.then(|| name.to_owned())
        })
        .collect()
}

/// What a general JSON path reads under `$.contact`, when it starts there (`$.contact…`,
/// `$['contact']…`): the next member's name, or "" when there is none or it is not a name.
pub(super) fn general_path_contact_read(text: &str) -> Option<String> {
    fn member(rest: &str) -> Option<(&str, &str)> {
        if let Some(rest) = rest.strip_prefix('.') {
            let end = rest.find(|c: char| !(c.is_alphanumeric() || c == '_')).unwrap_or(rest.len());
            return (end > 0).then(|| rest.split_at(end));
        }
        for quote in ['\'', '"'] {
            if let Some(rest) = rest.strip_prefix('[').and_then(|r| r.strip_prefix(quote)) {
                let end = rest.find(quote)?;
                let after = rest[end + 1..].strip_prefix(']')?;
                return Some((&rest[..end], after));
            }
        }
        None
    }
    let rest = text.trim().strip_prefix('$')?.trim_start();
    let (first, rest) = member(rest)?;
    if first != super::CONTACT_KEY {
        return None;
    }
    Some(member(rest.trim_start()).map(|(name, _)| name.to_owned()).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn member_chains_select_what_the_general_engine_selects() {
        let event = json!({"a": {"b_1": {"c": [1, 2]}, "n": null}, "x": [{"a": 1}], "_": 5});
        for text in ["$", "$.a", "$.a.b_1", "$.a.b_1.c", "$.a.n", "$.a.missing", "$.x.a", "$._", "$.a.b_1.c.d"] {
            let fast = parse_path(text).unwrap();
            assert!(matches!(fast, Path::Members(_)), "{text} is a member chain");
            let general = JsonPath::parse(text).unwrap();
            assert_eq!(fast.query(&event), general.query(&event).all(), "{text}");
        }
        for text in ["$..a", "$.x[0].a", "$['a']", "$.1a", "$.a.", "$.a-b", "$.é", "$[*]"] {
            assert!(!matches!(parse_path(text), Ok(Path::Members(_))), "{text} goes to the general engine");
        }
    }
}
