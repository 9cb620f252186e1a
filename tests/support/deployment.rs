//! The settings `template.yaml` deploys with its parameter defaults (or chosen values): what the
//! load harness takes from it rather than restating it. A small evaluator of the intrinsic
//! functions the template uses (`!Ref` of parameters, `!If`, `!Equals`, `!Not`, `!And`, `!Or`,
//! `!Join`, `Condition`); anything else (`!Sub`, `!GetAtt`, resource names) evaluates to text.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_norway::Value as Yaml;

/// The template's function, queue and event source mapping as deployed.
#[derive(Debug, Clone)]
pub struct Deployment {
    /// The function's `Timeout`.
    pub function_timeout: Duration,
    /// `ReservedConcurrentExecutions`; None: nothing reserved.
    pub reserved_concurrency: Option<usize>,
    /// `EventInvokeConfig.MaximumRetryAttempts` of asynchronous invocations.
    pub maximum_retry_attempts: u32,
    /// `EventInvokeConfig.MaximumEventAgeInSeconds`.
    pub maximum_event_age: Duration,
    /// Whether EventBridge sends events to the queue (`BufferThroughSqs`).
    pub buffered: bool,
    /// The event queue's `VisibilityTimeout`.
    pub visibility_timeout: Duration,
    /// The event queue's `RedrivePolicy.maxReceiveCount`.
    pub max_receive_count: u32,
    /// The event source mapping's `BatchSize`.
    pub batch_size: usize,
    /// `MaximumBatchingWindowInSeconds` (0 when absent).
    pub batch_window: Duration,
    /// `ScalingConfig.MaximumConcurrency`: the most batches in flight at once.
    pub queue_concurrency: usize,
    /// The function's environment variables that are set.
    pub environment: BTreeMap<String, String>,
}

impl Deployment {
    /// The template deployed with its defaults, except `parameters` (name, value).
    pub fn with(parameters: &[(&str, &str)]) -> Deployment {
        let text = std::fs::read_to_string(format!("{}/template.yaml", env!("CARGO_MANIFEST_DIR"))).expect("template.yaml is readable");
        let template: Yaml = serde_norway::from_str(&text).expect("template.yaml is valid YAML");
        let eval = Evaluator::new(&template, parameters);
        let function = &template["Resources"]["CasesAutomationFunction"]["Properties"];
        let queue = &template["Resources"]["EventQueue"]["Properties"];
        let mapping = &template["Resources"]["EventQueueMapping"]["Properties"];
        let number = |value: &Yaml, what: &str| -> u64 {
            let value = eval.value(value).unwrap_or_else(|| panic!("template.yaml sets no {what}"));
            value.parse().unwrap_or_else(|_| panic!("{what} is not a number: {value}"))
        };
        let seconds = |value: &Yaml, what: &str| Duration::from_secs(number(value, what));
        let environment = function["Environment"]["Variables"]
            .as_mapping()
            .expect("the function's environment")
            .iter()
            .filter_map(|(name, value)| Some((name.as_str()?.to_owned(), eval.value(value)?)))
            .collect();
        let batch_window = match mapping.get("MaximumBatchingWindowInSeconds") {
            Some(value) => seconds(value, "MaximumBatchingWindowInSeconds"),
            None => Duration::ZERO,
        };
        Deployment {
            function_timeout: seconds(&function["Timeout"], "Timeout"),
            reserved_concurrency: eval.value(&function["ReservedConcurrentExecutions"]).map(|v| v.parse().expect("a number")),
            maximum_retry_attempts: number(&function["EventInvokeConfig"]["MaximumRetryAttempts"], "MaximumRetryAttempts") as u32,
            maximum_event_age: seconds(&function["EventInvokeConfig"]["MaximumEventAgeInSeconds"], "MaximumEventAgeInSeconds"),
            buffered: eval.condition("Buffered"),
            visibility_timeout: seconds(&queue["VisibilityTimeout"], "VisibilityTimeout"),
            max_receive_count: number(&queue["RedrivePolicy"]["maxReceiveCount"], "maxReceiveCount") as u32,
            batch_size: number(&mapping["BatchSize"], "BatchSize") as usize,
            batch_window,
            queue_concurrency: number(&mapping["ScalingConfig"]["MaximumConcurrency"], "ScalingConfig.MaximumConcurrency") as usize,
            environment,
        }
    }

    /// The function's environment as the harness runs it: the template's, with the stack's
    /// resources and required parameters given local values.
    pub fn function_environment(&self, local: &[(&str, &str)]) -> Vec<(String, String)> {
        let mut environment = self.environment.clone();
        for (name, value) in local {
            environment.insert(name.to_string(), value.to_string());
        }
        environment.into_iter().collect()
    }
}

struct Evaluator<'t> {
    template: &'t Yaml,
    parameters: BTreeMap<String, String>,
}

impl<'t> Evaluator<'t> {
    fn new(template: &'t Yaml, chosen: &[(&str, &str)]) -> Evaluator<'t> {
        let mut parameters = BTreeMap::new();
        for (name, definition) in template["Parameters"].as_mapping().expect("Parameters") {
            let name = name.as_str().expect("a parameter name").to_owned();
            let default = match definition.get("Default") {
                Some(Yaml::String(s)) => s.clone(),
                Some(Yaml::Number(n)) => n.to_string(),
                Some(Yaml::Bool(b)) => b.to_string(),
                _ => String::new(),
            };
            parameters.insert(name, default);
        }
        for (name, value) in chosen {
            assert!(parameters.contains_key(*name), "template.yaml has no parameter {name}");
            parameters.insert(name.to_string(), value.to_string());
        }
        Evaluator { template, parameters }
    }

    fn condition(&self, name: &str) -> bool {
        let definition = self.template["Conditions"].get(name).unwrap_or_else(|| panic!("no condition {name}"));
        self.truth(definition)
    }

    fn truth(&self, value: &Yaml) -> bool {
        let Yaml::Tagged(tagged) = value else { panic!("not a condition: {value:?}") };
        let args = tagged.value.as_sequence();
        match tagged.tag.to_string().trim_start_matches('!') {
            "Equals" => {
                let args = args.expect("!Equals [a, b]");
                self.value(&args[0]) == self.value(&args[1])
            }
            "Not" => !self.truth(&args.expect("!Not [c]")[0]),
            "And" => args.expect("!And [...]").iter().all(|c| self.truth(c)),
            "Or" => args.expect("!Or [...]").iter().any(|c| self.truth(c)),
            "Condition" => self.condition(tagged.value.as_str().expect("!Condition Name")),
            other => panic!("unknown condition function {other}"),
        }
    }

    /// The value as text; None for `AWS::NoValue`.
    fn value(&self, value: &Yaml) -> Option<String> {
        match value {
            Yaml::String(s) => Some(s.clone()),
            Yaml::Number(n) => Some(n.to_string()),
            Yaml::Bool(b) => Some(b.to_string()),
            Yaml::Tagged(tagged) => {
                let args = tagged.value.as_sequence();
                match tagged.tag.to_string().trim_start_matches('!') {
                    "Ref" => {
                        let name = tagged.value.as_str().expect("!Ref Name");
                        match name {
                            "AWS::NoValue" => None,
                            _ => Some(self.parameters.get(name).cloned().unwrap_or_else(|| name.to_owned())),
                        }
                    }
                    "If" => {
                        let args = args.expect("!If [condition, then, else]");
                        let name = args[0].as_str().expect("a condition name");
                        self.value(if self.condition(name) { &args[1] } else { &args[2] })
                    }
                    "Join" => {
                        let args = args.expect("!Join [separator, list]");
                        let separator = args[0].as_str().unwrap_or("");
                        let items: Vec<String> = match &args[1] {
                            Yaml::Sequence(items) => items.iter().filter_map(|i| self.value(i)).collect(),
                            other => self.value(other).into_iter().collect(),
                        };
                        Some(items.join(separator))
                    }
                    _ => Some(format!("{value:?}")),
                }
            }
            other => Some(format!("{other:?}")),
        }
    }
}
