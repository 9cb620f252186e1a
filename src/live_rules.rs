//! The rules an instance runs, replaceable while it runs (AWS AppConfig, see `appconfig`): each
//! event takes the rules current when it starts and keeps them to its end, so a change never
//! splits an event between two versions.

use std::sync::{Arc, RwLock};

use crate::rules::RuleSet;

/// The rules an instance starts with: a YAML rules file (`RULES_FILE`, `--rules`), or the shipped
/// default rules.
pub fn load(rules_file: Option<&std::path::Path>) -> Result<RuleSet, String> {
    match rules_file {
        None => Ok(RuleSet::default_rules()),
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|e| format!("rules file {}: cannot read it: {e}", path.display()))?;
            RuleSet::from_yaml(&text, &path.display().to_string()).map_err(|e| e.to_string())
        }
    }
}

/// A version of the rules with what is derived from it.
#[derive(Debug)]
pub struct Rules {
    pub set: RuleSet,
    /// Every identity this automation writes under; their Cases change events are skipped.
    pub own_identities: Vec<String>,
}

/// The current rules of the process.
#[derive(Debug)]
pub struct LiveRules {
    identity: String,
    current: RwLock<Arc<Rules>>,
}

impl LiveRules {
    /// `identity` is the global automation identity (rules may add their own).
    pub fn new(set: RuleSet, identity: &str) -> LiveRules {
        let rules = Rules { own_identities: set.identities(identity), set };
        LiveRules { identity: identity.to_owned(), current: RwLock::new(Arc::new(rules)) }
    }

    /// The rules an event starts with.
    pub fn current(&self) -> Arc<Rules> {
        self.current.read().expect("the rules lock is never poisoned").clone()
    }

    /// The version of the current rules.
    pub fn version(&self) -> String {
        self.current().set.version.clone()
    }

    /// Switches to `set` (already validated); events under way keep the rules they started with.
    pub fn replace(&self, set: RuleSet) {
        let rules = Arc::new(Rules { own_identities: set.identities(&self.identity), set });
        *self.current.write().expect("the rules lock is never poisoned") = rules;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_event_keeps_the_rules_it_started_with() {
        let live = LiveRules::new(RuleSet::default_rules(), "bot");
        let started = live.current();
        let yaml = "rules:\n  - name: only\n    performedBy: relay\n    match: { source: [x] }\n    case: { find: [ { id: $.id } ] }\n";
        live.replace(RuleSet::from_yaml(yaml, "new").unwrap().with_version("2"));
        assert_eq!(live.version(), "2");
        assert_eq!(live.current().own_identities, ["bot", "relay"], "the new rules' identities are skipped too");
        assert_eq!(started.set.version, RuleSet::default_rules().version, "the event under way keeps its version");
    }
}
