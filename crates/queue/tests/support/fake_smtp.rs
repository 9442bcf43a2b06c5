//! Fake SMTP hosts: each listens on its own loopback address, all on one
//! port (the queue dials one port on every MX host), and answers from a
//! script. RCPT is answered by the recipient's local part: `temp...` gets
//! 451, `perm...` gets 550, anyone else 250. What each host saw is kept.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

/// How a host answers.
#[derive(Debug, Clone)]
pub struct Script {
    pub greeting: &'static str,
    /// The EHLO keywords it announces.
    pub extensions: Vec<&'static str>,
    /// The reply to the end of the data.
    pub data_reply: &'static str,
}

impl Script {
    /// A host that takes everything and offers DSN, 8BITMIME, SMTPUTF8.
    pub fn accepting() -> Script {
        Script {
            greeting: "220 fake ESMTP",
            extensions: vec!["8BITMIME", "DSN", "SMTPUTF8", "ENHANCEDSTATUSCODES"],
            data_reply: "250 2.0.0 queued",
        }
    }

    pub fn without(mut self, extension: &str) -> Script {
        self.extensions.retain(|e| *e != extension);
        self
    }
}

/// One mail transaction a host saw.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Seen {
    pub mail: String,
    pub rcpts: Vec<String>,
    pub data: Option<Vec<u8>>,
}

/// A running fake host.
#[derive(Clone)]
pub struct FakeHost {
    pub ip: IpAddr,
    seen: Arc<Mutex<Vec<Seen>>>,
    sessions: Arc<AtomicUsize>,
    most_sessions: Arc<AtomicUsize>,
}

impl FakeHost {
    /// The transactions that reached the end of the data.
    pub fn delivered(&self) -> Vec<Seen> {
        self.seen().into_iter().filter(|s| s.data.is_some()).collect()
    }

    /// Every transaction begun.
    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    /// The most sessions it had open at once.
    pub fn most_sessions(&self) -> usize {
        self.most_sessions.load(Ordering::SeqCst)
    }
}

/// Fake hosts sharing one port.
pub struct Hosts {
    pub port: u16,
    pub hosts: Vec<FakeHost>,
}

impl Hosts {
    /// Hosts on 127.0.0.10, .11, ... in the order of their scripts.
    pub async fn start(scripts: Vec<Script>) -> Hosts {
        let ips = (0..scripts.len()).map(|i| IpAddr::V4(Ipv4Addr::new(127, 0, 0, 10 + i as u8)));
        Hosts::start_at(ips.zip(scripts).collect()).await
    }

    /// Hosts on the given loopback addresses.
    pub async fn start_at(hosts: Vec<(IpAddr, Script)>) -> Hosts {
        // The first binds a free port; the others take the same port on
        // their own addresses (free there too, or all start again).
        'again: loop {
            let mut listeners = Vec::new();
            let mut port = 0;
            for (ip, _) in &hosts {
                match TcpListener::bind(SocketAddr::new(*ip, port)).await {
                    Ok(listener) => {
                        port = listener.local_addr().unwrap().port();
                        listeners.push((*ip, listener));
                    }
                    Err(_) => continue 'again,
                }
            }
            let hosts = listeners
                .into_iter()
                .zip(hosts.iter().map(|(_, script)| script.clone()))
                .map(|((ip, listener), script)| serve(ip, listener, script))
                .collect();
            return Hosts { port, hosts };
        }
    }

    /// An address on the hosts' port where nobody listens.
    pub const UNREACHABLE: &'static str = "127.0.0.250";
}

fn serve(ip: IpAddr, listener: TcpListener, script: Script) -> FakeHost {
    let host = FakeHost {
        ip,
        seen: Arc::default(),
        sessions: Arc::default(),
        most_sessions: Arc::default(),
    };
    let served = host.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let (host, script) = (served.clone(), script.clone());
            tokio::spawn(async move {
                let open = host.sessions.fetch_add(1, Ordering::SeqCst) + 1;
                host.most_sessions.fetch_max(open, Ordering::SeqCst);
                let _ = session(stream, &script, &host).await;
                host.sessions.fetch_sub(1, Ordering::SeqCst);
            });
        }
    });
    host
}

async fn session(stream: TcpStream, script: &Script, host: &FakeHost) -> std::io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read);
    write.write_all(format!("{}\r\n", script.greeting).as_bytes()).await?;
    if !script.greeting.starts_with('2') {
        return Ok(());
    }
    let mut accepted = 0;
    loop {
        let mut line = String::new();
        if lines.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let line = line.trim_end().to_string();
        let verb = line.split([' ', ':']).next().unwrap_or("").to_ascii_uppercase();
        let reply = match verb.as_str() {
            "EHLO" => {
                let mut reply = String::from("250-fake");
                for extension in &script.extensions {
                    reply.push_str(&format!("\r\n250-{extension}"));
                }
                reply + "\r\n250 HELP"
            }
            "MAIL" => {
                accepted = 0;
                host.seen.lock().unwrap().push(Seen {
                    mail: line.clone(),
                    ..Seen::default()
                });
                "250 2.1.0 ok".into()
            }
            "RCPT" => {
                let local = line.split('<').nth(1).unwrap_or("");
                let reply = if local.starts_with("temp") {
                    "451 4.2.1 try again later"
                } else if local.starts_with("perm") {
                    "550 5.1.1 no such user"
                } else {
                    accepted += 1;
                    "250 2.1.5 ok"
                };
                if let Some(last) = host.seen.lock().unwrap().last_mut() {
                    last.rcpts.push(line.clone());
                }
                reply.into()
            }
            "DATA" if accepted == 0 => "554 5.5.1 no valid recipients".into(),
            "DATA" => {
                write.write_all(b"354 go ahead\r\n").await?;
                let mut data = Vec::new();
                loop {
                    let mut chunk = Vec::new();
                    if lines.read_until(b'\n', &mut chunk).await? == 0 {
                        return Ok(());
                    }
                    if chunk == b".\r\n" {
                        break;
                    }
                    data.extend_from_slice(&chunk);
                }
                if let Some(last) = host.seen.lock().unwrap().last_mut() {
                    last.data = Some(data);
                }
                script.data_reply.into()
            }
            "RSET" | "NOOP" => "250 2.0.0 ok".into(),
            "QUIT" => {
                write.write_all(b"221 2.0.0 bye\r\n").await?;
                return Ok(());
            }
            _ => "502 5.5.2 unknown command".into(),
        };
        write.write_all(format!("{reply}\r\n").as_bytes()).await?;
    }
}
