//! `docs/reference/` against what the function is built with: the Cases contract names the SDK
//! version in Cargo.lock, its Smithy model has exactly the operations of that crate, and the
//! README's operations table lists every Cases operation the function calls, saying which take
//! `performedBy` as the model says.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde_json::Value;

const CRATE: &str = "aws-sdk-connectcases";

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn read(relative: &str) -> String {
    std::fs::read_to_string(root().join(relative)).unwrap_or_else(|e| panic!("{relative}: {e}"))
}

/// The version of the Cases SDK crate the function is built with.
fn locked_version() -> String {
    let lock = read("Cargo.lock");
    let versions: Vec<&str> = lock
        .split("[[package]]")
        .filter(|package| package.lines().any(|line| line.trim() == format!("name = \"{CRATE}\"")))
        .filter_map(|package| package.lines().find_map(|line| line.trim().strip_prefix("version = \"")?.strip_suffix('"')))
        .collect();
    assert_eq!(versions.len(), 1, "one {CRATE} in Cargo.lock: {versions:?}");
    versions[0].to_owned()
}

fn model() -> Value {
    serde_json::from_str(&read("docs/reference/connectcases-2022-10-03.json")).expect("the model is JSON")
}

/// The model's operations, as the SDK names its modules (`CreateCase` → `create_case`), with
/// whether their input has a `performedBy` member.
fn model_operations() -> Vec<(String, String, bool)> {
    let model = model();
    let shapes = model["shapes"].as_object().expect("shapes");
    let mut operations: Vec<(String, String, bool)> = shapes
        .iter()
        .filter(|(_, shape)| shape["type"] == "operation")
        .map(|(id, shape)| {
            let name = id.rsplit('#').next().unwrap().to_owned();
            let input = shape["input"]["target"].as_str().and_then(|target| shapes.get(target));
            let performed_by = input.is_some_and(|input| input["members"].get("performedBy").is_some());
            (snake(&name), name, performed_by)
        })
        .collect();
    operations.sort();
    operations
}

fn snake(pascal: &str) -> String {
    let mut out = String::new();
    for (i, c) in pascal.chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            out.push('_');
        }
        out.push(c.to_ascii_lowercase());
    }
    out
}

/// The crate's source, as cargo unpacked it to build the function.
fn crate_source(version: &str) -> PathBuf {
    let cargo_home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(std::env::var_os("HOME").expect("HOME")).join(".cargo"));
    let registry = cargo_home.join("registry/src");
    std::fs::read_dir(&registry)
        .unwrap_or_else(|e| panic!("{}: {e}", registry.display()))
        .map(|index| index.unwrap().path().join(format!("{CRATE}-{version}")))
        .find(|path| path.is_dir())
        .unwrap_or_else(|| panic!("{CRATE}-{version} is not unpacked under {}", registry.display()))
}

#[test]
fn the_cases_contract_names_the_sdk_version_in_cargo_lock() {
    let version = locked_version();
    let header: String = read("docs/reference/cases-api.md").lines().take(5).collect::<Vec<_>>().join("\n");
    assert!(
        header.contains(&format!("`{CRATE}` {version}")),
        "docs/reference/cases-api.md must say at its top which {CRATE} it describes: Cargo.lock has {version}\n{header}"
    );
}

#[test]
fn the_model_has_exactly_the_operations_of_the_locked_sdk() {
    let version = locked_version();
    let directory = crate_source(&version).join("src/operation");
    let in_crate: BTreeSet<String> = std::fs::read_dir(&directory)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.is_dir())
        .map(|path| path.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    let in_model: BTreeSet<String> = model_operations().into_iter().map(|(snake, _, _)| snake).collect();
    assert_eq!(in_model, in_crate, "docs/reference's model and {CRATE} {version} differ: regenerate the reference");
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn the_readme_lists_every_cases_operation_the_function_calls_and_which_take_performed_by() {
    let mut files = Vec::new();
    rust_files(&root().join("src/cases"), &mut files);
    let source: String = files.iter().map(|f| std::fs::read_to_string(f).unwrap()).collect();
    let readme = read("README.md");
    let table: Vec<&str> = readme
        .split("### The Cases operations the function calls")
        .nth(1)
        .expect("the README's operations section")
        .lines()
        .skip_while(|line| !line.starts_with("| operation"))
        .take_while(|line| line.starts_with('|'))
        .skip(2)
        .collect();
    let mut called = 0;
    for (snake, name, performed_by) in model_operations() {
        if !source.contains(&format!(".{snake}()")) {
            continue;
        }
        called += 1;
        let row = table
            .iter()
            .find(|row| row.split('|').nth(1).is_some_and(|cell| cell.contains(&format!("`{name}`"))))
            .unwrap_or_else(|| panic!("the function calls {name}, which the README's operations table does not list"));
        let takes = row.trim_end_matches('|').rsplit('|').next().unwrap().trim();
        assert_eq!(takes.starts_with("yes"), performed_by, "{name}: the table says `{takes}`, the model says performedBy: {performed_by}");
    }
    assert!(called >= 10, "the scan should find the SDK calls in src/cases/: {called}");
}
