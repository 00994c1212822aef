//! `fault-proxy`: a test-support HTTP/1.1 reverse proxy that sits between a
//! Vault client and a real Vault server and answers chosen requests with
//! faults. It is driven by tests over a control API under `/__proxy/` and is
//! never shipped. See README.md for the CLI, the control API and every action.

mod io;
mod log;
mod proxy;
mod rules;

use std::io::{Read, Write};
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use clap::Parser;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpStream};
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::oneshot;

use crate::io::SharedStream;
use crate::proxy::State;

/// Test-support HTTP/1.1 fault-injecting reverse proxy (never shipped).
#[derive(Parser, Debug)]
#[command(name = "fault-proxy", version)]
struct Args {
    /// Upstream origin requests are forwarded to, e.g. http://127.0.0.1:8200.
    /// Without it, every request that matches no rule is answered with 502.
    #[arg(long)]
    upstream: Option<String>,

    /// Address to listen on; port 0 picks a free port.
    #[arg(long, default_value = "127.0.0.1:0")]
    listen: SocketAddr,

    /// Keep running when stdin reaches EOF. By default EOF on stdin exits the
    /// proxy so a test that spawned it and died does not leave it behind; use
    /// this when starting it from a shell script in the background, where
    /// stdin is /dev/null.
    #[arg(long)]
    ignore_stdin: bool,
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();

    let upstream = match args.upstream.as_deref().map(proxy::parse_upstream) {
        None => None,
        Some(Ok(uri)) => Some(uri),
        Some(Err(e)) => {
            eprintln!("fault-proxy: --upstream: {e}");
            return ExitCode::from(2);
        }
    };

    // Install the signal handlers before announcing the address: a test may
    // send SIGTERM as soon as it has read the line, and an uninstalled handler
    // would let the default action kill us with a non-zero status.
    let (Ok(mut sigterm), Ok(mut sigint)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) else {
        eprintln!("fault-proxy: cannot install signal handlers");
        return ExitCode::FAILURE;
    };
    let stdin_eof = watch_stdin(!args.ignore_stdin);

    let listener = match TcpListener::bind(args.listen).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("fault-proxy: cannot listen on {}: {e}", args.listen);
            return ExitCode::FAILURE;
        }
    };
    let addr = match listener.local_addr() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("fault-proxy: local_addr: {e}");
            return ExitCode::FAILURE;
        }
    };

    // The one and only line on stdout; whoever spawned us waits for it.
    let line = serde_json::json!({ "addr": format!("http://{addr}") });
    let mut out = std::io::stdout().lock();
    if writeln!(out, "{line}").and_then(|()| out.flush()).is_err() {
        eprintln!("fault-proxy: cannot write the address to stdout");
        return ExitCode::FAILURE;
    }
    drop(out);

    let state = Arc::new(State::new(upstream));
    let mut stdin_eof = std::pin::pin!(stdin_eof);
    loop {
        tokio::select! {
            _ = sigterm.recv() => break,
            _ = sigint.recv() => break,
            _ = &mut stdin_eof => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    tokio::spawn(serve_connection(state.clone(), stream));
                }
                Err(e) => {
                    // E.g. EMFILE: back off briefly instead of spinning.
                    eprintln!("fault-proxy: accept: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
        }
    }
    // Returning drops the runtime, which cancels every connection task.
    ExitCode::SUCCESS
}

/// Resolves when stdin reaches EOF (or fails); never resolves if `enabled` is
/// false.
///
/// The read runs on a plain OS thread rather than `tokio::io::stdin`: tokio
/// reads stdin on its blocking pool, and a blocked read there would make the
/// runtime's shutdown wait for stdin, so SIGTERM would not exit promptly.
async fn watch_stdin(enabled: bool) {
    if !enabled {
        return std::future::pending().await;
    }
    let (tx, rx) = oneshot::channel::<()>();
    std::thread::spawn(move || {
        let mut stdin = std::io::stdin().lock();
        let mut buf = [0u8; 1024];
        loop {
            match stdin.read(&mut buf) {
                Ok(0) => break,
                Ok(_) => {} // input is ignored; only EOF matters
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(_) => break,
            }
        }
        let _ = tx.send(());
    });
    let _ = rx.await;
}

/// Serves one client connection with hyper, and carries out the faults that
/// hyper cannot express (closing the socket with no response, or after a
/// truncated one).
///
/// hyper owns the socket while it serves the connection, so it gets a
/// [`SharedStream`] (an `Arc` of the socket) and we keep another handle. A
/// request handler that wants such a fault sends the raw bytes to write (maybe
/// none) over `hijack`, then never completes. We then drop hyper's connection
/// (it has written nothing for that request), write the bytes ourselves, and
/// drop our handle, which closes the socket.
async fn serve_connection(state: Arc<State>, stream: TcpStream) {
    // Small request/response exchanges; don't let Nagle add latency.
    let _ = stream.set_nodelay(true);
    let stream = Arc::new(stream);
    let (hijack_tx, hijack_rx) = oneshot::channel::<Vec<u8>>();
    let hijack = Arc::new(Mutex::new(Some(hijack_tx)));

    let service = service_fn(move |req| proxy::handle(state.clone(), hijack.clone(), req));
    let mut conn = Box::pin(
        http1::Builder::new()
            // Pass header-name case through to the upstream and back.
            .preserve_header_case(true)
            // Don't add a Date header to forwarded responses that lack one.
            .auto_date_header(false)
            .serve_connection(TokioIo::new(SharedStream(stream.clone())), service),
    );

    let hijacked = tokio::select! {
        // Connection errors (client went away, bad request line) only concern
        // that client; nothing to report.
        _ = &mut conn => None,
        Ok(raw) = hijack_rx => Some(raw),
    };
    drop(conn);
    if let Some(raw) = hijacked {
        let _ = io::write_all(&stream, &raw).await;
    }
    // The last handle to the socket goes here: the kernel sends what is left
    // in its buffer, then FIN.
}
