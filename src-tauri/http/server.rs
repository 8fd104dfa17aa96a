//! The server loop: accepts connections up to a cap and gives each the time limits a local
//! server owes the laptop it runs on — headers within 10 s, the body within 30 s (`body.rs`),
//! an idle keep-alive connection closed after 60 s. Past the cap, new connections wait in the
//! kernel's backlog while the server keeps answering those it holds.

use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::Router;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinSet;
use tower::ServiceExt;

use super::AccessError;

/// Errors serving the API.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServeError {
    #[error(transparent)]
    Access(#[from] AccessError),
    #[error(
        "cannot listen on {addr}: {source}. Is another Pulseboard running? Pick another --port"
    )]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
}

/// How much the server takes from its clients.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Connections served at once (`--max-connections`).
    pub max_connections: usize,
    /// A request's headers must arrive within this long.
    pub header_timeout: Duration,
    /// A connection with no request in flight for this long is closed.
    pub idle_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_connections: 1024,
            header_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
        }
    }
}

/// A failed accept (out of file descriptors) is retried after this pause instead of spinning.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);
/// How long a stop waits for requests in flight.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(30);

pub(super) async fn run(
    app: Router,
    addr: SocketAddr,
    limits: Limits,
    ready: impl FnOnce(SocketAddr),
    stop: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    let bind_error = |source| ServeError::Bind { addr, source };
    let listener = TcpListener::bind(addr).await.map_err(bind_error)?;
    ready(listener.local_addr().map_err(bind_error)?);
    let slots = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let (closing_tx, closing) = watch::channel(false);
    let mut connections = JoinSet::new();
    tokio::pin!(stop);
    loop {
        let slot = tokio::select! {
            _ = &mut stop => break,
            slot = slots.clone().acquire_owned() => slot.expect("the semaphore is never closed"),
        };
        let stream = tokio::select! {
            _ = &mut stop => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(error) => {
                    tracing::warn!(%error, "cannot accept a connection");
                    tokio::time::sleep(ACCEPT_BACKOFF).await;
                    continue;
                }
            },
        };
        let (app, limits, closing) = (app.clone(), limits.clone(), closing.clone());
        connections.spawn(connection(stream, app, limits, closing, slot));
        while connections.try_join_next().is_some() {}
    }
    drop(listener);
    let _ = closing_tx.send(true);
    let drained = async { while connections.join_next().await.is_some() {} };
    let _ = tokio::time::timeout(DRAIN_TIMEOUT, drained).await;
    Ok(())
}

/// What one connection is doing: requests in flight, when the last one ended, and since when
/// a request's head has been arriving without being complete. (hyper's own header timeout also
/// runs while a kept-alive connection waits for its next request, which would cut idle
/// connections after 10 s instead of 60.)
struct Activity {
    started: Instant,
    in_flight: AtomicUsize,
    last_ms: AtomicU64,
    /// 0: no head pending; else 1 + the milliseconds at its first byte.
    head_since: AtomicU64,
}

impl Activity {
    fn new() -> Self {
        Self {
            started: Instant::now(),
            in_flight: AtomicUsize::new(0),
            last_ms: AtomicU64::new(0),
            head_since: AtomicU64::new(0),
        }
    }

    fn now_ms(&self) -> u64 {
        self.started.elapsed().as_millis() as u64
    }

    /// Bytes arrived: between requests they start a head.
    fn received(&self) {
        if self.in_flight.load(Ordering::SeqCst) == 0 {
            let since = self.now_ms() + 1;
            let _ = self
                .head_since
                .compare_exchange(0, since, Ordering::SeqCst, Ordering::SeqCst);
        }
    }

    fn request_started(&self) {
        self.in_flight.fetch_add(1, Ordering::SeqCst);
        self.head_since.store(0, Ordering::SeqCst);
    }

    fn request_ended(&self) {
        self.in_flight.fetch_sub(1, Ordering::SeqCst);
        self.last_ms.store(self.now_ms(), Ordering::SeqCst);
    }

    /// How long a request's head has been arriving, if one is.
    fn head_for(&self) -> Option<Duration> {
        match self.head_since.load(Ordering::SeqCst) {
            0 => None,
            since => Some(Duration::from_millis(
                self.now_ms().saturating_sub(since - 1),
            )),
        }
    }

    /// How long the connection has been idle: no request in flight, no head arriving.
    fn idle_for(&self) -> Option<Duration> {
        if self.in_flight.load(Ordering::SeqCst) > 0 || self.head_for().is_some() {
            return None;
        }
        let last = self.last_ms.load(Ordering::SeqCst);
        Some(Duration::from_millis(self.now_ms().saturating_sub(last)))
    }
}

/// The client's stream, telling [`Activity`] when bytes arrive.
struct Watched {
    stream: TcpStream,
    activity: Arc<Activity>,
}

impl AsyncRead for Watched {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.stream).poll_read(cx, buf);
        if buf.filled().len() > before {
            self.activity.received();
        }
        polled
    }
}

impl AsyncWrite for Watched {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}

async fn connection(
    stream: TcpStream,
    app: Router,
    limits: Limits,
    mut closing: watch::Receiver<bool>,
    _slot: OwnedSemaphorePermit,
) {
    let _ = stream.set_nodelay(true);
    let activity = Arc::new(Activity::new());
    let service = {
        let activity = activity.clone();
        hyper::service::service_fn(move |request: hyper::Request<Incoming>| {
            let (app, activity) = (app.clone(), activity.clone());
            activity.request_started();
            async move {
                let response = app.oneshot(request.map(Body::new)).await;
                activity.request_ended();
                response
            }
        })
    };
    let io = Watched {
        stream,
        activity: activity.clone(),
    };
    let conn = http1::Builder::new().serve_connection(TokioIo::new(io), service);
    tokio::pin!(conn);
    let mut check = tokio::time::interval(limits.header_timeout.min(limits.idle_timeout) / 4);
    let mut shutting_down = false;
    loop {
        tokio::select! {
            _ = conn.as_mut() => return,
            _ = closing.changed(), if !shutting_down => {
                shutting_down = true;
                conn.as_mut().graceful_shutdown();
            }
            _ = check.tick() => {
                // A head that does not finish in time: drop the connection outright.
                if activity.head_for().is_some_and(|t| t >= limits.header_timeout) {
                    return;
                }
                if !shutting_down && activity.idle_for().is_some_and(|t| t >= limits.idle_timeout) {
                    shutting_down = true;
                    conn.as_mut().graceful_shutdown();
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The clock of a connection: a head pending since its first byte, in-flight requests
    /// keeping it busy, idle time counted from the last answer.
    #[test]
    fn activity_tells_a_slow_head_from_an_idle_connection() {
        let activity = Activity::new();
        assert_eq!(activity.head_for(), None);
        assert!(activity.idle_for().is_some(), "a new connection is idle");
        activity.received();
        std::thread::sleep(Duration::from_millis(30));
        let pending = activity.head_for().expect("a head is arriving");
        assert!(pending >= Duration::from_millis(30), "{pending:?}");
        assert_eq!(activity.idle_for(), None, "a pending head is not idle");
        activity.request_started();
        assert_eq!(activity.head_for(), None, "the head is complete");
        activity.received();
        assert_eq!(
            activity.head_for(),
            None,
            "body bytes of a request in flight"
        );
        assert_eq!(activity.idle_for(), None, "busy");
        activity.request_ended();
        let idle = activity.idle_for().expect("idle after the answer");
        assert!(
            idle < Duration::from_millis(30),
            "counted from the answer: {idle:?}"
        );
    }
}
