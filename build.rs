//! Converts the shipped default rules from YAML to JSON at build time: the binary then parses
//! JSON at cold start, several times faster than YAML (see the `cold start: rules` benchmark).
//! `RULES_FILE` rules are still YAML, read at cold start. The rules' version (the start of the
//! SHA-256 of the YAML text, as `rules::content_version` computes it for any file) is computed here
//! too, so that the cold start does not hash the file.

fn main() {
    let source = "rules/default.yaml";
    println!("cargo::rerun-if-changed={source}");
    let yaml = std::fs::read_to_string(source).expect("rules/default.yaml is readable");
    let document: serde_json::Value = serde_norway::from_str(&yaml).unwrap_or_else(|e| panic!("{source} is not valid YAML: {e}"));
    let out = std::path::Path::new(&std::env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("default_rules.json");
    std::fs::write(out, document.to_string()).expect("OUT_DIR is writable");
    use sha2::{Digest, Sha256};
    let version: String = Sha256::digest(yaml.as_bytes()).iter().take(6).map(|b| format!("{b:02x}")).collect();
    let out = std::path::Path::new(&std::env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("default_rules_version.txt");
    std::fs::write(out, version).expect("OUT_DIR is writable");
}
