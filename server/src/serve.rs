//! Serving connections: HTTP/1.1 with hyper's own bounds on what a client may hold (header read
//! time, which also ends idle keep-alive connections; header size, answered with 431), a cap on
//! open connections, and a lingering close. axum's `serve` exposes none of hyper's knobs, so the
//! accept loop is here (as axum's serve-with-hyper example does it).

use std::{
    future::Future,
    io,
    pin::Pin,
    sync::Arc,
    task::{Context, Poll},
    time::Duration,
};

use axum::{extract::ConnectInfo, Router};
use hyper_util::{
    rt::{TokioIo, TokioTimer},
    server::graceful::GracefulShutdown,
    service::TowerToHyperService,
};
use tokio::{
    io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf},
    net::{TcpListener, TcpStream},
    sync::{OwnedSemaphorePermit, Semaphore},
};
use tower::ServiceExt;

use crate::config::Config;

/// Request line and headers together may take this much; more gets 431 and a close.
pub const MAX_HEADER_BYTES: usize = 16 * 1024;

/// After the server is done with a connection it keeps reading (and discarding) what the client
/// still sends, for this long and this much at most. A client that is still uploading a body the
/// server refused (413, 408) would otherwise get a TCP reset in place of the answer, since a
/// socket closed with unread data resets; nginx's `lingering_close` does the same.
pub const LINGER_TIME: Duration = Duration::from_secs(5);
pub const LINGER_BYTES: u64 = 16 * 1024 * 1024;

/// Accepts connections until `shutdown` resolves, then waits for the open ones to finish, for
/// `--shutdown-timeout` at most.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    config: &Config,
    shutdown: impl Future<Output = ()>,
) -> io::Result<()> {
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new()).header_read_timeout(config.header_read_timeout).max_header_size(MAX_HEADER_BYTES);
    let connections = Arc::new(Semaphore::new(config.max_connections.max(1)));
    let graceful = GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            permit = Arc::clone(&connections).acquire_owned() => permit.map_err(io::Error::other)?,
            () = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                // Out of file descriptors and the like: wait rather than spin.
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let service = router.clone().map_request(move |mut request: hyper::Request<hyper::body::Incoming>| {
            request.extensions_mut().insert(ConnectInfo(peer));
            request
        });
        let connection =
            http.serve_connection(TokioIo::new(LingeringClose::new(stream, permit)), TowerToHyperService::new(service));
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!(error = %e, %peer, "connection ended with an error");
            }
        });
    }
    drop(listener);
    // Idle keep-alive connections close now; those with a request in flight close after it.
    if tokio::time::timeout(config.shutdown_timeout, graceful.shutdown()).await.is_err() {
        tracing::warn!(
            timeout = ?config.shutdown_timeout,
            "--shutdown-timeout passed with requests still in flight; their connections are dropped"
        );
    }
    Ok(())
}

/// A connection's socket that, when dropped, lingers: it sends its FIN at once and drains what
/// the client still sends ([`LINGER_TIME`], [`LINGER_BYTES`]) before closing. It holds the
/// connection's slot until then.
struct LingeringClose {
    stream: Option<TcpStream>,
    permit: Option<OwnedSemaphorePermit>,
}

impl LingeringClose {
    fn new(stream: TcpStream, permit: OwnedSemaphorePermit) -> Self {
        LingeringClose { stream: Some(stream), permit: Some(permit) }
    }

    fn stream(&mut self) -> io::Result<Pin<&mut TcpStream>> {
        self.stream.as_mut().map(Pin::new).ok_or_else(|| io::Error::from(io::ErrorKind::NotConnected))
    }
}

impl AsyncRead for LingeringClose {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        self.stream()?.poll_read(cx, buf)
    }
}

impl AsyncWrite for LingeringClose {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        self.stream()?.poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.stream()?.poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.as_ref().is_some_and(|s| s.is_write_vectored())
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.stream()?.poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.stream()?.poll_shutdown(cx)
    }
}

impl Drop for LingeringClose {
    fn drop(&mut self) {
        let (Some(mut stream), permit) = (self.stream.take(), self.permit.take()) else { return };
        let Ok(runtime) = tokio::runtime::Handle::try_current() else { return };
        runtime.spawn(async move {
            let _permit = permit;
            let _ = stream.shutdown().await;
            let mut rest = (&mut stream).take(LINGER_BYTES);
            let _ = tokio::time::timeout(LINGER_TIME, tokio::io::copy(&mut rest, &mut tokio::io::sink())).await;
        });
    }
}
