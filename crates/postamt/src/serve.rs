//! `postamt serve`: open the store, bind every listener (failing early and
//! clearly), then run the servers and the queue until told to stop.

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

pub async fn serve(config: Config) -> anyhow::Result<()> {
    init_logging();
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
    let tls = server_tls.acceptor();

    // Bind everything before serving anything, so a taken port stops the
    // start-up with a clear message instead of a half-running server.
    let mut unbound = Vec::new();
    let listen = &config.listen;
    let smtp = bind("smtp", &listen.smtp, &mut unbound).await;
    let submission = bind("submission", &listen.submission, &mut unbound).await;
    let submissions = bind("submissions", &listen.submissions, &mut unbound).await;
    let pop3 = bind("pop3", &listen.pop3, &mut unbound).await;
    let pop3s = bind("pop3s", &listen.pop3s, &mut unbound).await;
    let imap = bind("imap", &listen.imap, &mut unbound).await;
    let imaps = bind("imaps", &listen.imaps, &mut unbound).await;
    let http = bind("http", &listen.http, &mut unbound).await;
    let https = bind("https", &listen.https, &mut unbound).await;
    if !unbound.is_empty() {
        // Every address that failed, not only the first: one start shows
        // all there is to fix.
        for error in &unbound {
            tracing::error!("{error}");
        }
        let lines: Vec<String> = unbound.iter().map(ToString::to_string).collect();
        anyhow::bail!("{}", lines.join("\n"));
    }

    let limit = ConnectionLimit::new(config.limits.max_connections, config.limits.max_connections_per_address);
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
    let smtp_server = smtpd::Server::new(smtp_config, backend, Some(tls.clone()), throttle.clone());
    smtp_server.recall_clients(
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
    let pop3_server = pop3d::Server::new(config.pop3(), store.clone(), Some(tls.clone()), throttle.clone());
    let imap_server = imapd::Server::new(config.imap(), store.clone(), Some(tls), throttle);

    let mut tasks = tokio::task::JoinSet::new();
    tasks.spawn(node.clone().keep_alive(store.clone()));
    tasks.spawn(queue.run());
    tasks.spawn(collect_garbage(store.clone()));
    if let Some(learner) = crate::spam_learning::Learner::new(&config.rspamd)? {
        tasks.spawn(learner.run(store.clone()));
    }
    tasks.spawn(forget_old_verdicts(
        store.clone(),
        client_memory,
        config.greylist.rules(),
    ));
    for (listeners, role) in [
        (smtp, Role::Mx),
        (submission, Role::Submission),
        (submissions, Role::Submissions),
    ] {
        for listener in listeners {
            tasks.spawn(smtp_server.clone().serve(listener, limit.clone(), role));
        }
    }
    for listener in pop3 {
        tasks.spawn(pop3_server.clone().serve(listener, limit.clone(), false));
    }
    for listener in pop3s {
        tasks.spawn(pop3_server.clone().serve(listener, limit.clone(), true));
    }
    for listener in imap {
        tasks.spawn(imap_server.clone().serve(listener, limit.clone(), false));
    }
    for listener in imaps {
        tasks.spawn(imap_server.clone().serve(listener, limit.clone(), true));
    }
    let acme_http01 = crate::acme::Http01Answers::default();
    if let Some(acme) = &config.tls.acme {
        let answers = (server_tls.clone(), acme_http01.clone());
        tasks.spawn(crate::acme::Renewal::new(acme, &config, store.clone(), answers, node.instance())?.run());
    }
    let web = Arc::new(crate::web::Web::new(&config, server_tls, store.clone(), acme_http01));
    for (listeners, secure) in [(http, false), (https, true)] {
        for listener in listeners {
            tasks.spawn(crate::web::serve(web.clone(), listener, limit.clone(), secure));
        }
    }
    tracing::info!(hostname = %config.hostname, data_dir = %config.data_dir.display(), "postamt is running");

    shutdown_signal().await?;
    let (commits, writes) = store.commit_stats();
    tracing::info!(writes, commits, "shutting down");
    tasks.shutdown().await;
    node.release(&store).await;
    Ok(())
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

async fn shutdown_signal() -> anyhow::Result<()> {
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    tokio::select! {
        result = tokio::signal::ctrl_c() => result?,
        _ = terminate.recv() => {}
    }
    Ok(())
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
