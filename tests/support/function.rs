//! The function as Lambda runs it, for the load harness: instances created on demand and reused
//! (each with its own clients, pacing and caches, as separate processes have), at most the reserved
//! concurrency of invocations at once (one more is throttled: Lambda's 429), and each invocation
//! given the function's timeout as its deadline and cut when it passes.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use cases_automation::error::Error;
use cases_automation::handler::Invocation;
use futures_util::future::BoxFuture;
use serde_json::Value;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::load_app::LoadApp;

const FUNCTION_ARN: &str = "arn:aws:lambda:us-east-1:123456789012:function:cases-automation";

/// How an invocation ended, as Lambda sees it.
#[derive(Debug)]
pub enum Invoked {
    /// The function answered (for SQS, a batch response).
    Response(Value),
    /// The function returned an error.
    FunctionError(Error),
    /// The function did not answer within its timeout; Lambda stopped it.
    TimedOut,
}

/// One deployed function.
pub struct Function {
    make_instance: Box<dyn Fn() -> LoadApp + Send + Sync>,
    idle: Mutex<Vec<Arc<LoadApp>>>,
    concurrency: Arc<Semaphore>,
    timeout: Duration,
    instances: AtomicUsize,
    throttles: AtomicU64,
}

impl Function {
    /// A function whose instances `make_instance` builds (a cold start each), with `reserved`
    /// concurrency (None: unbounded) and `timeout`.
    pub fn new(make_instance: impl Fn() -> LoadApp + Send + Sync + 'static, reserved: Option<usize>, timeout: Duration) -> Function {
        Function {
            make_instance: Box::new(make_instance),
            idle: Mutex::new(Vec::new()),
            concurrency: Arc::new(Semaphore::new(reserved.unwrap_or(Semaphore::MAX_PERMITS))),
            timeout,
            instances: AtomicUsize::new(0),
            throttles: AtomicU64::new(0),
        }
    }

    /// Starts an invocation if a concurrency slot is free; None: throttled (Lambda's 429).
    pub fn try_invoke(&self, payload: Value) -> Option<BoxFuture<'_, Invoked>> {
        let Ok(slot) = self.concurrency.clone().try_acquire_owned() else {
            self.throttles.fetch_add(1, Ordering::Relaxed);
            return None;
        };
        // Boxed: the handler's future is deep, and every test binary compiles this module.
        Some(Box::pin(self.run(slot, payload)))
    }

    async fn run(&self, slot: OwnedSemaphorePermit, payload: Value) -> Invoked {
        let instance = self.idle.lock().unwrap().pop().unwrap_or_else(|| {
            self.instances.fetch_add(1, Ordering::Relaxed);
            Arc::new((self.make_instance)())
        });
        let invocation = Invocation { deadline: Instant::now() + self.timeout, function_arn: Some(FUNCTION_ARN.into()) };
        let handled: BoxFuture<'_, _> = Box::pin(instance.handle(payload, &invocation));
        let outcome = match tokio::time::timeout(self.timeout, handled).await {
            Ok(Ok(response)) => Invoked::Response(response),
            Ok(Err(error)) => Invoked::FunctionError(error),
            Err(_) => Invoked::TimedOut,
        };
        // A timed-out instance is replaced, as Lambda restarts the runtime after a timeout.
        if !matches!(outcome, Invoked::TimedOut) {
            self.idle.lock().unwrap().push(instance);
        }
        drop(slot);
        outcome
    }

    /// Instances started so far (cold starts).
    pub fn instances(&self) -> usize {
        self.instances.load(Ordering::Relaxed)
    }

    /// Invocations refused for want of concurrency so far.
    pub fn throttles(&self) -> u64 {
        self.throttles.load(Ordering::Relaxed)
    }

    /// Calls that waited for their pacing slot, over every instance still alive.
    pub fn paced_waits(&self) -> u64 {
        self.idle.lock().unwrap().iter().map(|app| app.executor.api.waits()).sum()
    }

    /// Times a throttled call moved an instance's pacing turns, over every instance still alive.
    pub fn paced_shifts(&self) -> u64 {
        self.idle.lock().unwrap().iter().map(|app| app.executor.api.shifts()).sum()
    }
}
