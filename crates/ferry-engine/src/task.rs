//! Per-item tasks: work that runs on any of the runtime's threads and ends with its owner.

use std::future::Future;

/// A spawned task that is aborted when its handle is dropped unfinished, so a run that is
/// itself dropped (its caller gave up on it) leaves nothing working on behind its back.
///
/// Items are spawned rather than polled inside one stream because a stream's futures all run
/// on the one thread that polls it: a download of many files received, hashed and wrote every
/// file on one core, whatever the machine had.
pub struct ItemTask<T>(tokio::task::JoinHandle<T>);

impl<T: Send + 'static> ItemTask<T> {
    /// Starts `work` on the runtime. Must be called from inside a Tokio runtime.
    pub fn spawn(work: impl Future<Output = T> + Send + 'static) -> Self {
        Self(tokio::spawn(work))
    }

    /// The task's result. A panic in the task goes on in the caller, as if it had run there.
    pub async fn join(mut self) -> T {
        match (&mut self.0).await {
            Ok(value) => value,
            Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
            // Only `Drop` aborts it, and then nobody is left to join it.
            Err(e) => unreachable!("an item task was aborted while joined: {e}"),
        }
    }
}

impl<T> Drop for ItemTask<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_task_returns_its_value_and_a_dropped_one_stops() {
        assert_eq!(ItemTask::spawn(async { 7 }).join().await, 7);
        let finished = Arc::new(AtomicBool::new(false));
        let flag = finished.clone();
        let task = ItemTask::spawn(async move {
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
            flag.store(true, Ordering::SeqCst);
        });
        drop(task);
        tokio::time::sleep(std::time::Duration::from_millis(400)).await;
        assert!(!finished.load(Ordering::SeqCst), "a dropped task ran on to its end");
    }

    #[tokio::test]
    #[should_panic(expected = "boom")]
    async fn a_panic_in_the_task_goes_on_in_the_caller() {
        ItemTask::spawn(async { panic!("boom") }).join().await;
    }
}
