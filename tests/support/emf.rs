//! CloudWatch Embedded Metric Format documents in a process's stdout, checked against the rules of
//! the EMF specification ("Specification: Embedded metric format", CloudWatch User Guide): a
//! root `_aws` member with `Timestamp` and `CloudWatchMetrics`; in each directive a `Namespace`,
//! dimension sets of at most 30 dimensions that name top-level string members, and at most 100
//! metric definitions, each naming a top-level number (or at most 100 numbers) with a unit
//! CloudWatch knows.

use serde_json::{Map, Value};

/// The units of `MetricDatum.Unit` (CloudWatch API reference).
const UNITS: &[&str] = &[
    "Seconds",
    "Microseconds",
    "Milliseconds",
    "Bytes",
    "Kilobytes",
    "Megabytes",
    "Gigabytes",
    "Terabytes",
    "Bits",
    "Kilobits",
    "Megabits",
    "Gigabits",
    "Terabits",
    "Percent",
    "Count",
    "Bytes/Second",
    "Kilobytes/Second",
    "Megabytes/Second",
    "Gigabytes/Second",
    "Terabytes/Second",
    "Bits/Second",
    "Kilobits/Second",
    "Megabits/Second",
    "Gigabits/Second",
    "Terabits/Second",
    "Count/Second",
    "None",
];

/// One EMF document: its dimension values, its metric values (each a list of numbers) by name,
/// and its other members.
#[derive(Debug, Clone)]
pub struct Document {
    pub root: Map<String, Value>,
    pub namespace: String,
    pub dimensions: Vec<Vec<String>>,
    pub metrics: Vec<(String, Option<String>)>,
}

impl Document {
    /// The document's value of `name`, summed over its values.
    pub fn sum(&self, name: &str) -> f64 {
        match self.root.get(name) {
            Some(Value::Number(n)) => n.as_f64().unwrap(),
            Some(Value::Array(values)) => values.iter().filter_map(Value::as_f64).sum(),
            _ => 0.0,
        }
    }

    pub fn string(&self, member: &str) -> Option<&str> {
        self.root.get(member).and_then(Value::as_str)
    }

    pub fn has_metric(&self, name: &str) -> bool {
        self.metrics.iter().any(|(n, _)| n == name)
    }
}

/// Every EMF document among `lines`, each checked; the other lines (logs) are left out.
pub fn documents(lines: &str) -> Vec<Document> {
    lines
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|value| value.get("_aws").is_some())
        .map(|value| check(&value).unwrap_or_else(|problem| panic!("not a valid EMF document ({problem}): {value}")))
        .collect()
}

/// The document, or the first rule it breaks.
pub fn check(value: &Value) -> Result<Document, String> {
    let root = value.as_object().ok_or("the document is not a JSON object")?;
    let aws = root.get("_aws").and_then(Value::as_object).ok_or("`_aws` is not an object")?;
    if aws.get("Timestamp").and_then(Value::as_u64).is_none() {
        return Err("`_aws.Timestamp` is not a whole number of milliseconds".into());
    }
    let directives = aws.get("CloudWatchMetrics").and_then(Value::as_array).ok_or("`_aws.CloudWatchMetrics` is not a list")?;
    let [directive] = directives.as_slice() else { return Err("one metric directive per document expected".into()) };
    let namespace = directive.get("Namespace").and_then(Value::as_str).ok_or("`Namespace` is not a string")?;
    if namespace.is_empty() || namespace.len() > 1024 {
        return Err("`Namespace` must have 1 to 1024 characters".into());
    }
    let mut dimensions = Vec::new();
    for set in directive.get("Dimensions").and_then(Value::as_array).ok_or("`Dimensions` is not a list")? {
        let set: Vec<String> = set
            .as_array()
            .ok_or("a dimension set is not a list")?
            .iter()
            .map(|d| d.as_str().map(str::to_owned))
            .collect::<Option<_>>()
            .ok_or("a dimension is not a string")?;
        if set.len() > 30 {
            return Err(format!("a dimension set has {} dimensions, more than 30", set.len()));
        }
        if let Some(missing) = set.iter().find(|d| !root.get(*d).is_some_and(Value::is_string)) {
            return Err(format!("dimension `{missing}` is not a top-level string member"));
        }
        dimensions.push(set);
    }
    let definitions = directive.get("Metrics").and_then(Value::as_array).ok_or("`Metrics` is not a list")?;
    if definitions.len() > 100 {
        return Err(format!("{} metrics, more than 100", definitions.len()));
    }
    let mut metrics = Vec::new();
    for definition in definitions {
        let name = definition.get("Name").and_then(Value::as_str).ok_or("a metric's `Name` is not a string")?;
        if name.is_empty() || name.len() > 1024 {
            return Err("a metric name must have 1 to 1024 characters".into());
        }
        let unit = definition.get("Unit").map(|u| u.as_str().map(str::to_owned).ok_or("`Unit` is not a string")).transpose()?;
        if let Some(unit) = &unit
            && !UNITS.contains(&unit.as_str())
        {
            return Err(format!("unit `{unit}` is not a CloudWatch unit"));
        }
        match root.get(name) {
            Some(Value::Number(_)) => {}
            Some(Value::Array(values)) if values.len() <= 100 && values.iter().all(Value::is_number) => {}
            _ => return Err(format!("metric `{name}` is not a top-level number or list of at most 100 numbers")),
        }
        metrics.push((name.to_owned(), unit));
    }
    Ok(Document { root: root.clone(), namespace: namespace.to_owned(), dimensions, metrics })
}
