//! The EMF recorder (`metrics_cloudwatch_embedded`): installed at cold start (no thread, no
//! network), flushed to stdout once per invocation, where Lambda's log stream takes it and
//! CloudWatch turns each document into metrics (no PutMetricData).

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};

use metrics_cloudwatch_embedded::{Builder, Collector};

use super::{FUNCTION_DIMENSION, NAMESPACE, describe_all};

/// The process's EMF recorder.
pub struct Emf {
    collector: &'static Collector,
    first: AtomicBool,
}

/// What every document of an invocation carries besides its metrics (EMF properties: searchable
/// in CloudWatch Logs Insights, not metrics).
#[derive(Debug, Clone, Copy)]
pub struct InvocationFacts<'a> {
    pub request_id: &'a str,
    pub trace_id: Option<&'a str>,
    pub rules_version: &'a str,
}

impl Emf {
    /// Installs the recorder for the whole process, every metric dimensioned by `function_name`.
    pub fn install(function_name: &str) -> Result<Emf, String> {
        let collector = Builder::new()
            .cloudwatch_namespace(NAMESPACE)
            .with_dimension(FUNCTION_DIMENSION, function_name.to_owned())
            .init()
            .map_err(|e| format!("the metrics recorder could not be installed: {e}"))?;
        describe_all();
        Ok(Emf { collector, first: AtomicBool::new(true) })
    }

    /// Called as an invocation starts: counts the instance's first one.
    pub fn invocation_started(&self) {
        if self.first.swap(false, Ordering::Relaxed) {
            super::cold_start();
        }
    }

    /// Writes the invocation's documents to stdout, one line each, and resets the counters.
    pub fn flush(&self, facts: InvocationFacts<'_>) {
        let documents = self.documents(facts);
        // One write of whole lines: log lines written at the same time cannot cut into a document.
        let mut stdout = std::io::stdout().lock();
        if let Err(error) = stdout.write_all(&documents).and_then(|()| stdout.flush()) {
            tracing::warn!(%error, "the metrics of this invocation could not be written");
        }
    }

    /// The invocation's documents, newline-separated.
    pub fn documents(&self, facts: InvocationFacts<'_>) -> Vec<u8> {
        self.collector
            .set_property("requestId", facts.request_id.to_owned())
            .set_property("xrayTraceId", facts.trace_id.unwrap_or_default().to_owned())
            .set_property("rulesVersion", facts.rules_version.to_owned());
        let mut documents = Vec::with_capacity(4096);
        if let Err(error) = self.collector.flush(&mut documents) {
            tracing::warn!(%error, "the metrics of this invocation could not be formatted");
        }
        documents
    }
}
