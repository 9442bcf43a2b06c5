//! `postamt serve`: bind every listener (failing early and clearly), become
//! the configured user, open the store, then run the servers and the queue,
//! reloading on SIGHUP, until told to stop (SIGTERM, Ctrl-C).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use net::ConnectionLimit;
use queue::Queue;
use smtpd::Role;
use store::Store;
use tokio::net::TcpListener;

use crate::backend::Backend;
use crate::config::Config;

/// How old an unreferenced blob must be before it is removed, and how often
/// to look for them.
const GARBAGE_MIN_AGE: Duration = Duration::from_secs(3600);
const GARBAGE_INTERVAL: Duration = Duration::from_secs(3600);

/// Reads the config file again, as at start (same file, same overrides),
/// for a reload.
pub type LoadConfig = Box<dyn Fn() -> anyhow::Result<Config> + Send + Sync>;

/// The order matters: listeners first, while still root (ports below
/// 1024); then the switch to the `[server] user`; only then the store, the
/// certificate and anything else in the data directory, so every file
/// made there is that user's.
pub async fn serve(config: Config, load_config: LoadConfig) -> anyhow::Result<()> {
    init_logging();
    // Before anything a test or a service manager could signal after.
    let mut signals = crate::signals::Signals::new()?;
    let mut listeners = bind_listeners(&config.listen).await?;
    crate::privileges::drop_root(&config.server, &config.data_dir)?;
    let store = crate::admin::open_or_create(&config).await?;
    let node = Arc::new(crate::node::Node::claim(&store, config.node_id()).await?);
    crate::dkim::create_missing_keys(&store).await?;
    let server_tls = net::ServerTls::load_or_create(
        config.tls.cert.as_deref(),
        config.tls.key.as_deref(),
        &config.data_dir,
        &config.hostname,
    )?;
    if let Some(acme) = &config.tls.acme {
        // Until ACME gives one, the self-signed certificate is served.
        crate::acme::serve_stored(acme, &config.hostname, &store, &server_tls).await?;
    }
    let (servers, queue) = start_servers(&config, &store, &server_tls).await?;

    let (stopper, shutdown) = net::Stopper::new();
    let limit = ConnectionLimit::new(config.limits.max_connections, config.limits.max_connections_per_address);
    let mut tasks = tokio::task::JoinSet::new();
    let web_listeners = (
        std::mem::take(&mut listeners.http),
        std::mem::take(&mut listeners.https),
    );
    servers.serve(listeners, &limit, &shutdown, &mut tasks);
    let acme_http01 = crate::acme::Http01Answers::default();
    if let Some(acme) = &config.tls.acme {
        let answers = (server_tls.clone(), acme_http01.clone());
        tasks.spawn(crate::acme::Renewal::new(acme, &config, store.clone(), answers, node.instance())?.run());
    }
    let web = Arc::new(crate::web::Web::new(
        &config,
        server_tls.clone(),
        store.clone(),
        acme_http01,
    ));
    crate::web::serve_all(web.clone(), web_listeners, &limit, &shutdown, &mut tasks);
    drop(shutdown);
    // The claim is renewed until the very end of a stop, which may wait.
    let keep_alive = tokio::spawn(node.clone().keep_alive(store.clone()));
    tasks.spawn(queue.run());
    tasks.spawn(collect_garbage(store.clone()));
    tasks.spawn(crate::tls_reports::daily(config.clone(), store.clone()));
    if let Some(learner) = crate::spam_learning::Learner::new(&config.rspamd)? {
        tasks.spawn(learner.run(store.clone()));
    }
    tasks.spawn(forget_old_verdicts(
        store.clone(),
        config.smtp.pregreet_memory,
        config.greylist.rules(),
    ));
    tracing::info!(hostname = %config.hostname, data_dir = %config.data_dir.display(), "postamt is running");

    // The queue's leases carry the id it started with, whatever a reload
    // read since (a new id needs a restart).
    let node_id = config.node_id().to_string();
    let mut reloader = crate::reload::Reloader::new(config, load_config, servers, server_tls, web);
    while signals.next().await == crate::signals::Asked::Reload {
        reloader.reload();
    }
    let (commits, writes) = store.commit_stats();
    tracing::info!(writes, commits, "shutting down");
    let stop_timeout = reloader.config().server.stop_timeout();
    stop(stopper, tasks, &mut signals, stop_timeout).await;
    if let Err(e) = store.release_leases(&node_id).await {
        tracing::error!(error = %e, "could not release this node's queue leases");
    }
    keep_alive.abort();
    node.release(&store).await;
    tracing::info!("stopped");
    Ok(())
}

/// A stop (SIGTERM, Ctrl-C): listeners close at once and idle sessions
/// are told goodbye (`net::Stopper`); the queue stops starting
/// deliveries; sessions in the middle of a command, an SMTP message's
/// data above all, finish it, for at most `timeout`. A second signal
/// ends the process at once, with status 1.
async fn stop(
    stopper: net::Stopper,
    mut tasks: tokio::task::JoinSet<()>,
    signals: &mut crate::signals::Signals,
    timeout: Duration,
) {
    stopper.stop();
    tasks.shutdown().await;
    tokio::select! {
        drained = tokio::time::timeout(timeout, stopper.drained()) => {
            if drained.is_err() {
                tracing::warn!(sessions = stopper.running(), ?timeout, "sessions still running after [server] stop_timeout; stopping anyway");
            }
        }
        _ = second_stop(signals) => {
            tracing::error!(sessions = stopper.running(), "asked again to stop: exiting at once");
            std::process::exit(1);
        }
    }
}

/// The next SIGTERM or Ctrl-C; a SIGHUP while stopping does nothing.
async fn second_stop(signals: &mut crate::signals::Signals) {
    while signals.next().await != crate::signals::Asked::Stop {}
}

/// Every listener of every service, bound before anything else happens.
struct Listeners {
    smtp: Vec<TcpListener>,
    submission: Vec<TcpListener>,
    submissions: Vec<TcpListener>,
    pop3: Vec<TcpListener>,
    pop3s: Vec<TcpListener>,
    imap: Vec<TcpListener>,
    imaps: Vec<TcpListener>,
    managesieve: Vec<TcpListener>,
    http: Vec<TcpListener>,
    https: Vec<TcpListener>,
}

/// Binds everything before serving anything, so a taken port stops the
/// start-up with a clear message instead of a half-running server.
async fn bind_listeners(listen: &crate::config::Listen) -> anyhow::Result<Listeners> {
    let mut unbound = Vec::new();
    let listeners = Listeners {
        smtp: bind("smtp", &listen.smtp, &mut unbound).await,
        submission: bind("submission", &listen.submission, &mut unbound).await,
        submissions: bind("submissions", &listen.submissions, &mut unbound).await,
        pop3: bind("pop3", &listen.pop3, &mut unbound).await,
        pop3s: bind("pop3s", &listen.pop3s, &mut unbound).await,
        imap: bind("imap", &listen.imap, &mut unbound).await,
        imaps: bind("imaps", &listen.imaps, &mut unbound).await,
        managesieve: bind("managesieve", &listen.managesieve, &mut unbound).await,
        http: bind("http", &listen.http, &mut unbound).await,
        https: bind("https", &listen.https, &mut unbound).await,
    };
    if !unbound.is_empty() {
        // Every address that failed, not only the first: one start shows
        // all there is to fix.
        for error in &unbound {
            tracing::error!("{error}");
        }
        let lines: Vec<String> = unbound.iter().map(ToString::to_string).collect();
        anyhow::bail!("{}", lines.join("\n"));
    }
    Ok(listeners)
}

/// The protocol servers, whose settings a reload replaces.
pub(crate) struct Servers {
    pub smtp: Arc<smtpd::Server<Backend>>,
    pub pop3: Arc<pop3d::Server>,
    pub imap: Arc<imapd::Server>,
    pub managesieve: Arc<managesieve::Server>,
}

impl Servers {
    /// A task per listener, each stopping with `shutdown`.
    fn serve(
        &self,
        listeners: Listeners,
        limit: &ConnectionLimit,
        shutdown: &net::Shutdown,
        tasks: &mut tokio::task::JoinSet<()>,
    ) {
        let smtp = [
            (listeners.smtp, Role::Mx),
            (listeners.submission, Role::Submission),
            (listeners.submissions, Role::Submissions),
        ];
        for (bound, role) in smtp {
            for listener in bound {
                tasks.spawn(self.smtp.clone().serve(listener, limit.clone(), role, shutdown.clone()));
            }
        }
        for (bound, implicit_tls) in [(listeners.pop3, false), (listeners.pop3s, true)] {
            for listener in bound {
                tasks.spawn(
                    self.pop3
                        .clone()
                        .serve(listener, limit.clone(), implicit_tls, shutdown.clone()),
                );
            }
        }
        for (bound, implicit_tls) in [(listeners.imap, false), (listeners.imaps, true)] {
            for listener in bound {
                tasks.spawn(
                    self.imap
                        .clone()
                        .serve(listener, limit.clone(), implicit_tls, shutdown.clone()),
                );
            }
        }
        for listener in listeners.managesieve {
            tasks.spawn(
                self.managesieve
                    .clone()
                    .serve(listener, limit.clone(), shutdown.clone()),
            );
        }
    }
}

/// The backend, the queue and the protocol servers, from the config.
async fn start_servers(
    config: &Config,
    store: &Store,
    server_tls: &net::ServerTls,
) -> anyhow::Result<(Servers, Arc<Queue>)> {
    let tls = server_tls.acceptor();
    // One throttle for every protocol: a password guesser is slowed down
    // the same whichever port it tries.
    let throttle = Arc::new(auth::Throttle::new(config.throttle()));
    let signer = Arc::new(crate::dkim::Signer::new(store.clone(), &config.hostname));
    let queue = Queue::new(store.clone(), config.queue()?, Some(signer.clone()))?;
    let backend = Arc::new(Backend {
        store: store.clone(),
        queue: queue.clone(),
        hostname: config.hostname.clone(),
        send_as: config.submission.send_as.clone(),
        verifier: match config.auth_checks.settings(&config.hostname)? {
            Some(settings) => {
                Some(msgauth::Verifier::new(&config.dns.nameservers, settings).map_err(anyhow::Error::msg)?)
            }
            None => None,
        },
        signer,
        dnsbl: crate::dnsbl::Dnsbl::new(&config.dnsbl, &config.dns.nameservers)?,
        greylist: config.greylist.rules(),
        rspamd: crate::rspamd::Rspamd::new(&config.rspamd)?,
    });
    let smtp_config = config.smtp()?;
    let client_memory = smtp_config.pregreet_memory;
    let smtp = smtpd::Server::new(smtp_config, backend, Some(tls.clone()), throttle.clone());
    queue.set_outgoing_limit(Arc::new(SendingLimits(smtp.clone())));
    smtp.recall_clients(
        store
            .remembered_clients(store::now(), client_memory)
            .await?
            .into_iter()
            .map(|verdict| smtpd::Remembered {
                client: verdict.client,
                standing: if verdict.passed {
                    smtpd::Standing::Passed
                } else {
                    smtpd::Standing::Failed
                },
                until: verdict.until,
            }),
    );
    let pop3 = pop3d::Server::new(config.pop3(), store.clone(), Some(tls.clone()), throttle.clone());
    let imap = imapd::Server::new(config.imap(), store.clone(), Some(tls.clone()), throttle.clone());
    let managesieve = managesieve::Server::new(config.managesieve()?, store.clone(), Some(tls), throttle);
    Ok((
        Servers {
            smtp,
            pop3,
            imap,
            managesieve,
        },
        queue,
    ))
}

/// Listens on each of a service's addresses; an address that cannot be
/// had is added to `unbound` and left out.
async fn bind(service: &str, addresses: &[SocketAddr], unbound: &mut Vec<net::BindError>) -> Vec<TcpListener> {
    let mut listeners = Vec::new();
    for address in addresses {
        match net::bind(service, std::slice::from_ref(address)).await {
            Ok(bound) => listeners.extend(bound),
            Err(error) => unbound.push(error),
        }
    }
    for listener in &listeners {
        // Tests and scripts read this line to learn ports chosen by the system.
        if let Ok(address) = listener.local_addr() {
            tracing::info!("{service} listening on {address}");
        }
    }
    listeners
}

/// Keeps the stored client verdicts within what the memory holds (plus
/// what a minute of new clients adds), and forgets those, greylisting
/// triplets and rate counts that no longer count.
async fn forget_old_verdicts(store: Store, client_memory: usize, greylist: Option<store::Greylisting>) {
    loop {
        tokio::time::sleep(Duration::from_secs(60)).await;
        if let Err(e) = store.forget_clients(store::now(), client_memory).await {
            tracing::error!(error = %e, "forgetting old client verdicts failed");
        }
        if let Some(rules) = greylist
            && let Err(e) = store.forget_greylist(rules, store::now()).await
        {
            tracing::error!(error = %e, "forgetting old greylisting triplets failed");
        }
        // Rates counted for the cluster (the longest window is an hour;
        // its previous window still counts for one more).
        if store.is_shared()
            && let Err(e) = store.forget_rate_counts(store::now() - 2 * 3600).await
        {
            tracing::error!(error = %e, "forgetting old rate counts failed");
        }
    }
}

async fn collect_garbage(store: Store) {
    loop {
        match store.collect_garbage(GARBAGE_MIN_AGE).await {
            Ok(0) => {}
            Ok(removed) => tracing::info!(removed, "removed unreferenced message content"),
            Err(e) => tracing::error!(error = %e, "garbage collection failed"),
        }
        tokio::time::sleep(GARBAGE_INTERVAL).await;
    }
}

fn init_logging() {
    use std::io::IsTerminal;
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
}

/// Users' hourly sending limits as the SMTP server counts them, for the
/// queue's Sieve redirects.
struct SendingLimits(Arc<smtpd::Server<Backend>>);

impl queue::OutgoingLimit for SendingLimits {
    fn allows<'a>(
        &'a self,
        user: &'a str,
        recipients: u64,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = bool> + Send + 'a>> {
        Box::pin(self.0.count_user_message(user, recipients))
    }
}
