//! A steady background load: demo batches posted over HTTP at a fixed rate, for the phases
//! that measure something while events arrive.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::task::JoinHandle;
use tokio::time::MissedTickBehavior;

use super::{demo_bodies, post_batch, Posted, BATCH};

/// Posting runs until `stop`.
pub(super) struct Load {
    task: JoinHandle<Result<(), String>>,
    acked: Arc<AtomicU64>,
    started: Instant,
}

impl Load {
    /// Starts posting 500-event batches so that `rate` events a second are sent; a late batch
    /// is sent as soon as it can (bursts catch up), so the rate holds on average.
    pub(super) fn start(addr: SocketAddr, rate: u64) -> Self {
        let acked = Arc::new(AtomicU64::new(0));
        let counted = acked.clone();
        let task = tokio::spawn(async move {
            let bodies = demo_bodies(64);
            let http = reqwest::Client::new();
            let url = format!("http://{addr}/v1/events");
            let mut tick =
                tokio::time::interval(Duration::from_secs_f64(BATCH as f64 / rate as f64));
            tick.set_missed_tick_behavior(MissedTickBehavior::Burst);
            for body in bodies.iter().cycle() {
                tick.tick().await;
                if post_batch(&http, &url, body).await? == Posted::Accepted {
                    counted.fetch_add(BATCH as u64, Ordering::Relaxed);
                }
            }
            Ok(())
        });
        Self {
            task,
            acked,
            started: Instant::now(),
        }
    }

    /// Stops posting; returns the events acknowledged per second meanwhile.
    pub(super) async fn stop(self) -> Result<f64, String> {
        let elapsed = self.started.elapsed();
        self.task.abort();
        match self.task.await {
            Ok(Err(error)) => return Err(format!("background load: {error}")),
            Err(e) if e.is_panic() => return Err("background load panicked".to_owned()),
            _ => {}
        }
        Ok(self.acked.load(Ordering::Relaxed) as f64 / elapsed.as_secs_f64())
    }
}
