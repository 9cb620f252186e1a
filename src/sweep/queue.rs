//! Where a sweep sends its work items: the function's own SQS queue (`WORK_QUEUE_URL`), whose
//! event source mapping applies them at the Cases quotas.

use aws_sdk_sqs as sqs;
use aws_sdk_sqs::error::{DisplayErrorContext, ProvideErrorMetadata};
use aws_sdk_sqs::types::SendMessageBatchRequestEntry;

use crate::aws::LazyClient;

/// SendMessageBatch takes at most ten messages.
const BATCH: usize = 10;

/// Sending failed: retryable (the sweep stops where it stands and is tried again).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueError(pub String);

impl std::fmt::Display for QueueError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "sending work items to the queue failed: {}", self.0)
    }
}

/// The work queue, through the SQS client (built on first use).
#[derive(Debug)]
pub struct WorkQueue {
    client: LazyClient<sqs::Client>,
    url: String,
}

impl WorkQueue {
    pub fn lazy(config: aws_config::SdkConfig, url: impl Into<String>) -> WorkQueue {
        WorkQueue { client: LazyClient::lazy(config, |config| sqs::Client::new(config)), url: url.into() }
    }

    /// Sends every body, ten to a request, the requests of a page at once; entries the service
    /// refuses are sent once more.
    pub async fn send(&self, bodies: &[String]) -> Result<(), QueueError> {
        futures_util::future::try_join_all(bodies.chunks(BATCH).map(|chunk| self.send_batch(chunk))).await?;
        Ok(())
    }

    async fn send_batch(&self, chunk: &[String]) -> Result<(), QueueError> {
        let mut pending: Vec<(usize, &String)> = chunk.iter().enumerate().collect();
        for attempt in 0..2 {
            let entries = pending
                .iter()
                .map(|(i, body)| SendMessageBatchRequestEntry::builder().id(i.to_string()).message_body(body.as_str()).build())
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| QueueError(e.to_string()))?;
            let output = self
                .client
                .get()
                .send_message_batch()
                .queue_url(&self.url)
                .set_entries(Some(entries))
                .send()
                .await
                .map_err(|e| QueueError(e.message().map(str::to_owned).unwrap_or_else(|| DisplayErrorContext(&e).to_string())))?;
            let failed: Vec<&str> = output.failed().iter().map(|f| f.id()).collect();
            pending.retain(|(i, _)| failed.contains(&i.to_string().as_str()));
            if pending.is_empty() {
                break;
            }
            if attempt == 1 {
                return Err(QueueError(format!("{} of {} messages refused", pending.len(), chunk.len())));
            }
        }
        Ok(())
    }
}
