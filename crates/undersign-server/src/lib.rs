//! The Undersign collector: an HTTP service that signers submit signatures to and anyone
//! downloads the bundle and tally from (`SPEC.md` §16).
//!
//! - Every signature is fully verified with the tally crate's
//!   [`Checker`](undersign_tally::check::Checker) (proof, checkpoint root, petition binding,
//!   allowed disclosure) before it is stored: submissions queue up and are verified together
//!   as one random-linear-combination batch on rayon's pool, bisected on failure so that each
//!   invalid proof is named and no other submission is affected.
//! - SQLite in WAL mode with `synchronous = FULL` holds the petitions, registries and
//!   signatures; the `(petition, nullifier)` primary key decides duplicates; a signature is
//!   acknowledged (201) only after its transaction committed.
//! - Nothing about who submitted is stored or logged: no addresses, user agents or times, and
//!   the bundle is sorted by nullifier.
//! - Publication epochs: a stored signature is acknowledged at once but becomes public (in
//!   `/tally` and `/bundle`) only at a publication, together with the others pending then
//!   ([`Publication`]). Each publication writes the petition's bundle file
//!   (`DATA/bundles/<id>.jsonl`) atomically and `VACUUM`s the database; the WAL is truncated
//!   after every commit.
//! - A submission whose nullifier is already stored is answered 409 from an in-memory set of
//!   stored nullifiers before any proof verification.
//! - Connections are bounded: header timeout, connection cap (the open-file limit is raised to
//!   allow it), write timeout for answers nobody reads, a cap on concurrent bundle downloads.
//! - Organizer endpoints need the bearer token the server creates at first start in
//!   `DATA/token` (mode 0600).
//!
//! [`run`] is what `undersign serve` calls; [`Server`] lets tests and embedders serve on their
//! own listener.

#![warn(missing_docs)]

pub mod api;
pub mod error;
pub mod pages;
mod stall;
mod state;
pub mod store;
pub mod token;
mod verify;

pub use api::{Limits, Receipt};
pub use error::{ApiError, ErrorBody, ServerError, StoreError};
pub use state::{parse_duration, Publication};

use state::Catalog;
use std::future::Future;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use token::Token;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, Semaphore};
use undersign_proof::encoding::verifying_key_to_bytes;

/// Queued changes for the writer thread before submitters wait for room.
const WRITER_QUEUE: usize = 4096;

/// How to run the collector.
#[derive(Debug, Clone)]
pub struct Config {
    /// The data directory: database and token (created 0700 if missing).
    pub data_dir: PathBuf,
    /// Key directories whose verifying keys petitions may name (stored in the database, so
    /// they are needed only once).
    pub keys: Vec<PathBuf>,
    /// Request limits.
    pub limits: Limits,
    /// When pending signatures are published.
    pub publication: Publication,
    /// The JavaScript auditor built for the browser (`undersign-audit-worker.js`): when set,
    /// the collector serves it, the "verify in your browser" script and each petition's
    /// `/petitions/{id}/verify` page, and petition pages link to it (`SPEC.md` §16).
    pub web_auditor: Option<Vec<u8>>,
}

impl Config {
    /// A configuration with default limits and publication schedule.
    pub fn new(data_dir: impl Into<PathBuf>, keys: Vec<PathBuf>) -> Self {
        Self {
            data_dir: data_dir.into(),
            keys,
            limits: Limits::default(),
            publication: Publication::default(),
            web_auditor: None,
        }
    }
}

/// What was loaded at start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    /// Known verifying keys.
    pub verifying_keys: usize,
    /// Stored registries.
    pub registries: usize,
    /// Stored petitions.
    pub petitions: usize,
}

/// The directory of bundle files inside the data directory.
pub const BUNDLES_DIR: &str = "bundles";

/// An opened collector: database loaded, writer thread running, ready to serve.
pub struct Server {
    state: api::AppState,
    writer: std::thread::JoinHandle<()>,
    token_path: PathBuf,
    token_created: bool,
    summary: Summary,
}

fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir)
}

impl Server {
    /// Opens the data directory: creates it, the token and the database if needed, stores the
    /// verifying keys of `config.keys`, loads everything stored, rewrites the bundle file of
    /// every published petition and starts the writer thread.
    pub fn open(config: Config) -> Result<Self, ServerError> {
        let dir = &config.data_dir;
        create_private_dir(dir)
            .map_err(|e| ServerError::io(format!("creating {}", dir.display()), e))?;
        let (token, token_path, token_created) = Token::load_or_create(dir)?;
        let db_path = dir.join(store::DB_FILE);
        let mut store = store::Store::open(&db_path)?;
        for keys in &config.keys {
            let (_, verifier) =
                undersign_proof::keys::load_verifier(keys).map_err(|source| ServerError::Keys {
                    path: keys.clone(),
                    source,
                })?;
            store.add_verifying_key(
                verifier.key_hash(),
                &verifying_key_to_bytes(verifier.verifying_key()),
            )?;
        }
        let catalog = Arc::new(Catalog::load(&store)?);
        let bundles = dir.join(BUNDLES_DIR);
        create_private_dir(&bundles)
            .map_err(|e| ServerError::io(format!("creating {}", bundles.display()), e))?;
        state::write_all_bundles(&store, &catalog, &bundles)?;
        let summary = Summary {
            verifying_keys: catalog.verifiers.len(),
            registries: catalog.registries.read().map(|r| r.len()).unwrap_or(0),
            petitions: catalog.petitions.read().map(|p| p.len()).unwrap_or(0),
        };
        let (tx, rx) = mpsc::channel(WRITER_QUEUE);
        let writer_state = state::Writer {
            store,
            catalog: catalog.clone(),
            bundles: bundles.clone(),
            publication: config.publication,
        };
        let writer = std::thread::Builder::new()
            .name("undersign-writer".into())
            .spawn(move || state::writer_loop(writer_state, rx))
            .map_err(|e| ServerError::io("starting the writer thread", e))?;
        let state = api::AppState {
            catalog,
            writer: tx,
            token,
            bundles,
            publication: config.publication,
            web_auditor: config.web_auditor.map(bytes::Bytes::from),
            verifier: verify::start()
                .map_err(|e| ServerError::io("starting the verifier thread", e))?,
            verify_slots: Arc::new(Semaphore::new(config.limits.pending_verifications.max(1))),
            download_slots: Arc::new(Semaphore::new(config.limits.max_downloads.max(1))),
            limits: config.limits,
        };
        Ok(Self {
            state,
            writer,
            token_path,
            token_created,
            summary,
        })
    }

    /// Where the organizer token is (its content is never printed).
    pub fn token_path(&self) -> &Path {
        &self.token_path
    }

    /// Whether the token was created by this start.
    pub fn token_created(&self) -> bool {
        self.token_created
    }

    /// The HTTP routes over this server's state, without the accept loop, its limits on
    /// connections and timeouts, or the publication ticker: for driving requests in-process
    /// (the `http` fuzz target of `crates/undersign-fuzz`), never for serving. Writes go
    /// through the writer thread, which stops once this `Server` and every router it gave are
    /// dropped. Only with the `fuzzing` feature.
    #[cfg(feature = "fuzzing")]
    pub fn router(&self) -> axum::Router {
        api::router(self.state.clone())
    }

    /// What was loaded.
    pub fn summary(&self) -> &Summary {
        &self.summary
    }

    /// Serves HTTP/1.1 on `listener` until `shutdown` completes, then finishes the requests in
    /// flight (for at most [`SHUTDOWN_GRACE`]) and waits for the writer thread to finish its
    /// last commit. Every [`Publication::every`] from the start, petitions with enough pending
    /// signatures are published.
    ///
    /// Each connection must send its request headers within [`Limits::header_timeout`]; at most
    /// [`Limits::max_connections`] are served at once (further ones wait to be accepted); a
    /// write that makes no progress for [`Limits::write_timeout`] ends the connection, which
    /// buffers at most [`CONNECTION_BUFFER`] bytes in hyper and [`SEND_BUFFER`] (asked) in the
    /// kernel. The peer's address is never read.
    pub async fn serve(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), ServerError> {
        let Server { state, writer, .. } = self;
        let header_timeout = state.limits.header_timeout;
        let state_max_connections = state.limits.max_connections;
        let write_timeout = state.limits.write_timeout;
        let ticker = {
            let writer = state.writer.clone();
            let every = state.publication.every.max(Duration::from_millis(100));
            tokio::spawn(async move {
                let mut interval =
                    tokio::time::interval_at(tokio::time::Instant::now() + every, every);
                interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                loop {
                    interval.tick().await;
                    if writer.send(state::Command::Tick).await.is_err() {
                        break;
                    }
                }
            })
        };
        let router = api::router(state);
        let graceful = hyper_util::server::graceful::GracefulShutdown::new();
        let slots = Arc::new(Semaphore::new(state_max_connections.max(1)));
        let mut shutdown = std::pin::pin!(shutdown);
        loop {
            let permit = tokio::select! {
                () = &mut shutdown => break,
                permit = slots.clone().acquire_owned() => match permit {
                    Ok(permit) => permit,
                    Err(_) => break,
                },
            };
            let accepted = tokio::select! {
                () = &mut shutdown => break,
                accepted = listener.accept() => accepted,
            };
            let stream = match accepted {
                Ok((stream, _)) => stream,
                // Out of file descriptors, a connection reset before accept...: go on.
                Err(_) => {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            };
            limit_send_buffer(&stream);
            let service = hyper_util::service::TowerToHyperService::new(router.clone());
            let mut builder = hyper::server::conn::http1::Builder::new();
            builder
                .timer(hyper_util::rt::TokioTimer::new())
                .header_read_timeout(header_timeout)
                .max_buf_size(CONNECTION_BUFFER)
                .max_header_size(CONNECTION_BUFFER);
            let connection = graceful.watch(builder.serve_connection(
                hyper_util::rt::TokioIo::new(stall::StallGuard::new(stream, write_timeout)),
                service,
            ));
            tokio::spawn(async move {
                let _ = connection.await;
                drop(permit);
            });
        }
        drop(listener);
        drop(router);
        ticker.abort();
        let _ = ticker.await;
        let _ = tokio::time::timeout(SHUTDOWN_GRACE, graceful.shutdown()).await;
        // With the router and every connection gone, so are the writer's senders: it drains its
        // queue and stops. (Connections still open after the grace period keep a sender; the
        // process exits without waiting for them, and their signatures were not acknowledged.)
        let _ = tokio::time::timeout(
            SHUTDOWN_GRACE,
            tokio::task::spawn_blocking(move || writer.join()),
        )
        .await;
        Ok(())
    }
}

/// Connections served at once, by default ([`Limits::max_connections`]).
pub const MAX_CONNECTIONS: usize = 16384;

/// Raises this process's soft limit on open files (`RLIMIT_NOFILE`) to its hard limit, so that
/// [`Limits::max_connections`] connections can be open at once; returns the soft limit now in
/// force (`None` if it could not be read). Where the hard limit is unlimited, asks for 2^20
/// (Linux's default ceiling, `fs.nr_open`), then 10,240 (macOS's `OPEN_MAX`).
///
/// Uses the `libc` crate: it is already in the dependency tree (tokio's I/O layer links it), and
/// the two calls need nothing more.
#[cfg(unix)]
pub fn raise_open_file_limit() -> Option<u64> {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes one `rlimit` into the valid, exclusively borrowed `limit`.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
        return None;
    }
    let targets: &[libc::rlim_t] = if limit.rlim_max == libc::RLIM_INFINITY {
        &[1 << 20, 10_240]
    } else {
        &[limit.rlim_max]
    };
    for &target in targets {
        if target <= limit.rlim_cur {
            break;
        }
        let wanted = libc::rlimit {
            rlim_cur: target,
            rlim_max: limit.rlim_max,
        };
        // SAFETY: setrlimit only reads the valid `wanted`.
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &wanted) } == 0 {
            limit.rlim_cur = target;
            break;
        }
    }
    #[allow(clippy::useless_conversion)]
    Some(u64::from(limit.rlim_cur))
}

/// Without `RLIMIT_NOFILE` there is nothing to raise.
#[cfg(not(unix))]
pub fn raise_open_file_limit() -> Option<u64> {
    None
}
/// hyper's per-connection buffer (request head, queued answer bytes), in bytes; also the
/// largest request head (request line and headers). Above hyper's 65,534-byte limit on the
/// request target, so that an over-long target gets 414 and a large head 431.
pub const CONNECTION_BUFFER: usize = 80 << 10;
/// The kernel send buffer asked for each connection (`SO_SNDBUF`; Linux doubles it).
pub const SEND_BUFFER: usize = 64 << 10;

/// Fixes the connection's kernel send buffer at [`SEND_BUFFER`] instead of letting it grow (to
/// megabytes on Linux) while a peer does not read. Serving on loopback to Tor, this costs no
/// throughput. A failure leaves the system default.
fn limit_send_buffer(stream: &tokio::net::TcpStream) {
    #[cfg(unix)]
    {
        use std::os::fd::AsRawFd;
        let size = libc::c_int::try_from(SEND_BUFFER).unwrap_or(libc::c_int::MAX);
        // SAFETY: setsockopt reads `size_of::<c_int>()` bytes from the valid `size`; the
        // descriptor is the stream's open socket, borrowed for the call.
        unsafe {
            libc::setsockopt(
                stream.as_raw_fd(),
                libc::SOL_SOCKET,
                libc::SO_SNDBUF,
                (&size as *const libc::c_int).cast(),
                std::mem::size_of::<libc::c_int>() as libc::socklen_t,
            );
        }
    }
    #[cfg(not(unix))]
    let _ = stream;
}

/// How long shutdown waits for requests in flight.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(30);

/// Resolves on Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = Box::pin(async {
        let _ = tokio::signal::ctrl_c().await;
    });
    #[cfg(unix)]
    let terminate = Box::pin(async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    });
    #[cfg(not(unix))]
    let terminate = Box::pin(std::future::pending::<()>());
    futures_util::future::select(ctrl_c, terminate).await;
}

/// Runs the collector on `listen` until Ctrl-C or SIGTERM (what `undersign serve` does).
/// Prints where it listens and where the organizer token is, never the token itself.
pub fn run(config: Config, listen: SocketAddr) -> Result<(), ServerError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("undersign-http")
        .build()
        .map_err(|e| ServerError::io("starting the runtime", e))?;
    let data_dir = config.data_dir.clone();
    let publication = config.publication;
    let limits = config.limits.clone();
    let open_files = raise_open_file_limit();
    let result = runtime.block_on(async move {
        let server = Server::open(config)?;
        let listener = TcpListener::bind(listen)
            .await
            .map_err(|e| ServerError::io(format!("listening on {listen}"), e))?;
        let address = listener
            .local_addr()
            .map_err(|e| ServerError::io("reading the bound address", e))?;
        let summary = server.summary();
        println!(
            "data directory: {} ({} verifying key(s), {} registr{}, {} petition(s))",
            data_dir.display(),
            summary.verifying_keys,
            summary.registries,
            if summary.registries == 1 { "y" } else { "ies" },
            summary.petitions
        );
        println!(
            "organizer token: {} ({}; send it as \"Authorization: Bearer <token>\")",
            server.token_path().display(),
            if server.token_created() {
                "created now, mode 0600"
            } else {
                "existing"
            }
        );
        println!(
            "publication: every {} s when at least {} signature(s) are pending (closing or \
             POST /v1/petitions/{{id}}/publish publishes whatever is pending); until then new \
             signatures are in neither the tally nor the bundle",
            publication.every.as_secs(),
            publication.min
        );
        println!(
            "connections: at most {} at once, each closed if its request headers take over {} \
             ms{}",
            limits.max_connections,
            limits.header_timeout.as_millis(),
            match open_files {
                Some(n) => format!("; open-file limit {n}"),
                None => String::new(),
            }
        );
        if let Some(n) = open_files {
            if n < limits.max_connections as u64 + 64 {
                println!(
                    "note: the open-file limit ({n}) is below --max-connections plus the \
                     server's own files; raise the hard limit (ulimit -Hn, LimitNOFILE=) or lower \
                     --max-connections"
                );
            }
        }
        if summary.verifying_keys == 0 {
            println!(
                "note: no verifying key yet; restart with --keys DIR before creating petitions"
            );
        }
        if !address.ip().is_loopback() {
            println!(
                "note: listening on a non-loopback address; signers' IP addresses reach this \
                 machine (the collector stores none). For anonymity, serve it as a Tor onion \
                 service on 127.0.0.1."
            );
        }
        println!("undersign collector listening on http://{address}");
        use std::io::Write;
        let _ = std::io::stdout().flush();
        server.serve(listener, shutdown_signal()).await
    });
    // Do not wait for a stuck connection or blocking task: every acknowledged write is on disk.
    runtime.shutdown_timeout(Duration::from_secs(1));
    result
}
