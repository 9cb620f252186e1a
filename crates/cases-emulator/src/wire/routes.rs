//! Request routing: (method, path) → [`Operation`].
//!
//! The path is split on `/` first and every segment is percent-decoded afterwards, so labels
//! that contain an encoded `/` (`/tags/arn%3Aaws%3Acases%3A…%2Fcase%2F…`) stay one segment.
//! A trailing slash is ignored (the model has `…/related-items/` and `…/rules-list/`; the Rust
//! SDK sends them without it).

use axum::http::Method;
use percent_encoding::percent_decode_str;

use crate::operation::Operation;

/// Splits a raw path into percent-decoded segments, ignoring the leading and a trailing `/`.
pub fn split_path(path: &str) -> Vec<String> {
    let trimmed = path.strip_prefix('/').unwrap_or(path);
    let trimmed = trimmed.strip_suffix('/').unwrap_or(trimmed);
    if trimmed.is_empty() {
        return Vec::new();
    }
    trimmed.split('/').map(|s| percent_decode_str(s).decode_utf8_lossy().into_owned()).collect()
}

/// The Cases operation for a request, or None. Labels are read by position by the handlers:
/// `segs[1]` domain id (or the ARN for `/tags/{arn}`), `segs[3]` case/field/template id,
/// `segs[5]` related item id.
pub fn route(method: &Method, segs: &[String]) -> Option<Operation> {
    use Operation::*;
    let s: Vec<&str> = segs.iter().map(String::as_str).collect();
    let m = method.as_str();
    Some(match (m, s.as_slice()) {
        ("POST", ["domains"]) => CreateDomain,
        ("POST", ["domains-list"]) => ListDomains,
        ("POST", ["domains", _]) => GetDomain,
        ("DELETE", ["domains", _]) => DeleteDomain,
        ("POST", ["domains", _, "fields"]) => CreateField,
        ("POST", ["domains", _, "fields-list"]) => ListFields,
        ("POST", ["domains", _, "fields-batch"]) => BatchGetField,
        ("PUT", ["domains", _, "fields", _]) => UpdateField,
        ("DELETE", ["domains", _, "fields", _]) => DeleteField,
        ("PUT", ["domains", _, "fields", _, "options"]) => BatchPutFieldOptions,
        ("POST", ["domains", _, "fields", _, "options-list"]) => ListFieldOptions,
        ("POST", ["domains", _, "templates"]) => CreateTemplate,
        ("POST", ["domains", _, "templates-list"]) => ListTemplates,
        ("POST", ["domains", _, "templates", _]) => GetTemplate,
        ("PUT", ["domains", _, "templates", _]) => UpdateTemplate,
        ("DELETE", ["domains", _, "templates", _]) => DeleteTemplate,
        ("POST", ["domains", _, "layouts-list"]) => ListLayouts,
        ("POST", ["domains", _, "rules-list"]) => ListCaseRules,
        ("POST", ["domains", _, "cases"]) => CreateCase,
        ("POST", ["domains", _, "cases-search"]) => SearchCases,
        ("POST", ["domains", _, "cases", _]) => GetCase,
        ("PUT", ["domains", _, "cases", _]) => UpdateCase,
        ("DELETE", ["domains", _, "cases", _]) => DeleteCase,
        ("POST", ["domains", _, "cases", _, "related-items"]) => CreateRelatedItem,
        ("POST", ["domains", _, "cases", _, "related-items-search"]) => SearchRelatedItems,
        ("PUT", ["domains", _, "cases", _, "related-items", _]) => UpdateRelatedItem,
        ("DELETE", ["domains", _, "cases", _, "related-items", _]) => DeleteRelatedItem,
        ("POST", ["domains", _, "cases", _, "audit-history"]) => GetCaseAuditEvents,
        ("POST", ["domains", _, "list-cases-for-contact"]) => ListCasesForContact,
        ("POST", ["domains", _, "related-items-search"]) => SearchAllRelatedItems,
        ("POST", ["domains", _, "case-event-configuration"]) => GetCaseEventConfiguration,
        ("PUT", ["domains", _, "case-event-configuration"]) => PutCaseEventConfiguration,
        ("GET", ["tags", _, ..]) => ListTagsForResource,
        ("POST", ["tags", _, ..]) => TagResource,
        ("DELETE", ["tags", _, ..]) => UntagResource,
        _ => return None,
    })
}

/// A parsed query string (`a=1&b=2&b=3`), percent-decoded (`+` is a space).
#[derive(Debug, Clone, Default)]
pub struct Query(pub Vec<(String, String)>);

impl Query {
    pub fn parse(q: Option<&str>) -> Query {
        let dec = |s: &str| percent_decode_str(&s.replace('+', " ")).decode_utf8_lossy().into_owned();
        Query(
            q.unwrap_or_default()
                .split('&')
                .filter(|p| !p.is_empty())
                .map(|p| match p.split_once('=') {
                    Some((k, v)) => (dec(k), dec(v)),
                    None => (dec(p), String::new()),
                })
                .collect(),
        )
    }

    /// The first value of `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    /// Every value of a repeated `name`.
    pub fn get_all(&self, name: &str) -> Vec<String> {
        self.0.iter().filter(|(k, _)| k == name).map(|(_, v)| v.clone()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_are_decoded_after_splitting() {
        let s = split_path("/tags/arn%3Aaws%3Acases%3Aus-east-1%3A1%3Adomain%2Fd%2Fcase%2Fc");
        assert_eq!(s, ["tags", "arn:aws:cases:us-east-1:1:domain/d/case/c"]);
        assert_eq!(route(&Method::GET, &s), Some(Operation::ListTagsForResource));
        let s = split_path("/domains/d/cases/c/related-items/");
        assert_eq!(route(&Method::POST, &s), Some(Operation::CreateRelatedItem));
        let s = split_path("/domains/d/cases/c/related-items");
        assert_eq!(route(&Method::POST, &s), Some(Operation::CreateRelatedItem));
        assert_eq!(route(&Method::POST, &split_path("/domains/d/rules-list/")), Some(Operation::ListCaseRules));
        assert_eq!(route(&Method::POST, &split_path("/domains/d%20x/cases/c")), Some(Operation::GetCase));
        assert_eq!(split_path("/domains/d%20x")[1], "d x");
        assert_eq!(route(&Method::PUT, &split_path("/domains/d/cases/c")), Some(Operation::UpdateCase));
        assert_eq!(route(&Method::GET, &split_path("/domains/d/cases/c")), None);
    }

    #[test]
    fn query_strings() {
        let q = Query::parse(Some("status=Active&status=Inactive&maxResults=5&nextToken=a%2Bb"));
        assert_eq!(q.get_all("status"), ["Active", "Inactive"]);
        assert_eq!(q.get("maxResults"), Some("5"));
        assert_eq!(q.get("nextToken"), Some("a+b"));
    }
}
