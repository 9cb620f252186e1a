//! The modules stand in layers: no two import each other, directly or around a circle, so that
//! each can be read knowing only those below it. The one exception is a recursive grammar: a
//! rule's value can be a `customer`, whose identifiers are values (`rules::value` and
//! `rules::customer`). The same holds for the local Cases service.
//!
//! Imports are read from the source: `crate::a::b` and `super::b` paths (outside comments and
//! unit tests), and a module's `pub use child::…` re-exports, each counted as an edge to the
//! longest module the path names. A child using its parent (`super::X`) is not a circle: the
//! parent's file is where the child is declared.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Module path (`rules::value::compiled`; the crate root is "") → its source without comments
/// and unit tests.
fn modules(root: &Path) -> BTreeMap<String, String> {
    fn walk(dir: &Path, root: &Path, out: &mut BTreeMap<String, String>) {
        for entry in std::fs::read_dir(dir).expect("a source directory") {
            let path = entry.expect("a directory entry").path();
            if path.is_dir() {
                walk(&path, root, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let relative = path.strip_prefix(root).unwrap().with_extension("");
                let mut parts: Vec<String> = relative.iter().map(|p| p.to_string_lossy().into_owned()).collect();
                if matches!(parts.last().map(String::as_str), Some("mod" | "lib" | "main")) {
                    parts.pop();
                }
                let text = std::fs::read_to_string(&path).expect("a source file");
                let code = text.split("#[cfg(test)]").next().unwrap_or_default();
                let code = code.lines().filter(|line| !line.trim_start().starts_with("//")).collect::<Vec<_>>().join("\n");
                out.insert(parts.join("::"), code);
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(root, root, &mut out);
    out
}

/// The paths that follow each occurrence of `prefix` (`crate::` → `rules::value::Limit`).
fn paths_after<'a>(code: &'a str, prefix: &'a str) -> impl Iterator<Item = &'a str> + 'a {
    code.match_indices(prefix).filter_map(move |(at, _)| {
        let before = code[..at].chars().next_back();
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':') {
            return None;
        }
        let rest = &code[at + prefix.len()..];
        let end = rest.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':')).unwrap_or(rest.len());
        Some(rest[..end].trim_end_matches(':'))
    })
}

/// Who imports whom.
fn imports(modules: &BTreeMap<String, String>) -> BTreeMap<&str, BTreeSet<&str>> {
    let longest_module = |path: &str| -> Option<&str> {
        let parts: Vec<&str> = path.split("::").collect();
        (1..=parts.len()).rev().find_map(|n| modules.get_key_value(&parts[..n].join("::")).map(|(k, _)| k.as_str()))
    };
    let mut edges: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for (module, code) in modules {
        let parent: Vec<&str> = module.split("::").filter(|p| !p.is_empty()).collect();
        let parent = parent[..parent.len().saturating_sub(1)].join("::");
        let join = |base: &str, path: &str| if base.is_empty() { path.to_owned() } else { format!("{base}::{path}") };
        let mut named: Vec<String> = paths_after(code, "crate::").map(str::to_owned).collect();
        named.extend(paths_after(code, "super::").map(|path| join(&parent, path)));
        for line in code.lines() {
            if let Some(child) = line.trim_start().strip_prefix("pub use ").and_then(|rest| rest.split("::").next())
                && !["crate", "super", "self", "std"].contains(&child)
            {
                named.push(join(module, child));
            }
        }
        for path in named {
            if let Some(target) = longest_module(&path)
                && target != module
                && !target.is_empty()
                && !module.starts_with(&format!("{target}::"))
            {
                edges.entry(module.as_str()).or_default().insert(target);
            }
        }
    }
    edges
}

/// The groups of modules that import each other around a circle (Tarjan's strongly connected
/// components of more than one module).
fn circles<'a>(edges: &BTreeMap<&'a str, BTreeSet<&'a str>>) -> Vec<BTreeSet<&'a str>> {
    struct Search<'e, 'a> {
        edges: &'e BTreeMap<&'a str, BTreeSet<&'a str>>,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        found: Vec<BTreeSet<&'a str>>,
    }
    impl<'a> Search<'_, 'a> {
        fn visit(&mut self, node: &'a str) {
            let n = self.index.len();
            self.index.insert(node, n);
            self.low.insert(node, n);
            self.stack.push(node);
            for &next in self.edges.get(node).into_iter().flatten() {
                if !self.index.contains_key(next) {
                    self.visit(next);
                    let low = self.low[node].min(self.low[next]);
                    self.low.insert(node, low);
                } else if self.stack.contains(&next) {
                    let low = self.low[node].min(self.index[next]);
                    self.low.insert(node, low);
                }
            }
            if self.low[node] == self.index[node] {
                let mut group = BTreeSet::new();
                while let Some(member) = self.stack.pop() {
                    group.insert(member);
                    if member == node {
                        break;
                    }
                }
                if group.len() > 1 {
                    self.found.push(group);
                }
            }
        }
    }
    let mut search = Search { edges, index: BTreeMap::new(), low: BTreeMap::new(), stack: vec![], found: vec![] };
    for &node in edges.keys() {
        if !search.index.contains_key(node) {
            search.visit(node);
        }
    }
    search.found
}

fn circles_in(crate_source: &Path) -> Vec<Vec<String>> {
    let modules = modules(crate_source);
    assert!(modules.len() > 10, "read the modules of {}", crate_source.display());
    let edges = imports(&modules);
    circles(&edges).into_iter().map(|group| group.into_iter().map(str::to_owned).collect()).collect()
}

#[test]
fn the_function_has_no_import_circle_but_the_value_grammar() {
    let grammar = |module: &str| module == "rules::customer" || module == "rules::value" || module.starts_with("rules::value::");
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    for group in circles_in(&source) {
        assert!(group.iter().all(|m| grammar(m)), "modules that import each other: {group:?}");
    }
}

#[test]
fn the_local_service_has_no_import_circle() {
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("crates/cases-emulator/src");
    assert_eq!(circles_in(&source), Vec::<Vec<String>>::new());
}

#[test]
fn a_circle_is_found() {
    let modules: BTreeMap<String, String> = [
        ("a".to_owned(), "use crate::b::Thing;".to_owned()),
        ("b".to_owned(), "use crate::c;".to_owned()),
        ("c".to_owned(), "pub use inner::X;\nfn f() { super::a::go() }".to_owned()),
        ("c::inner".to_owned(), "use super::Y; use crate::a;".to_owned()),
        ("d".to_owned(), "use crate::a;".to_owned()),
    ]
    .into();
    let edges = imports(&modules);
    assert_eq!(edges["c"], ["a", "c::inner"].into(), "`super::a` from a top module is the root's `a`; a re-export is an import");
    assert_eq!(edges["c::inner"], ["a"].into(), "a child using its parent is no import");
    let found = circles(&edges);
    assert_eq!(found, vec![BTreeSet::from(["a", "b", "c", "c::inner"])]);
}
