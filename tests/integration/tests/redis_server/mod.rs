//! A `redis-server` of its own: on a unix socket in a temporary directory, without
//! persistence, killed with its owner. And the faults the fleet tests inject into it. Shared by
//! the fleet tests, `examples/fleet.rs` and the comparison benchmark.

// Each user takes the helpers it needs.
#![allow(dead_code)]

pub mod cluster;
pub mod tls;

use std::{
    path::PathBuf,
    process::{Child, Command, Stdio},
    sync::atomic::{AtomicU32, Ordering},
    thread,
    time::{Duration, Instant},
};

/// Numbers the servers of one test process.
static NEXT: AtomicU32 = AtomicU32::new(0);

pub struct RedisServer {
    dir: PathBuf,
    socket: PathBuf,
    child: Option<Child>,
    /// Arguments besides the unix socket's: a TCP or TLS port, cluster mode.
    extra: Vec<String>,
    /// The URL clients connect to, when not the unix socket.
    url: Option<String>,
}

impl RedisServer {
    /// A new server, or `None` when `redis-server` is not installed, unless
    /// `BREAKER_REQUIRE_REDIS` is set (as CI sets it), which makes that a failure.
    pub fn start() -> Option<RedisServer> {
        RedisServer::start_with(Vec::new(), None)
    }

    /// A new server with `extra` arguments, reached at `url` (the unix socket's, if `None`).
    pub fn start_with(extra: Vec<String>, url: Option<String>) -> Option<RedisServer> {
        if Command::new("redis-server")
            .arg("--version")
            .stdout(Stdio::null())
            .status()
            .is_err()
        {
            assert!(
                std::env::var_os("BREAKER_REQUIRE_REDIS").is_none(),
                "redis-server is not installed, and BREAKER_REQUIRE_REDIS is set"
            );
            return None;
        }
        let dir = std::env::temp_dir().join(format!(
            "fusebox-redis-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).expect("a temporary directory");
        let socket = dir.join("redis.sock");
        let mut server = RedisServer {
            dir,
            socket,
            child: None,
            extra,
            url,
        };
        server.run();
        Some(server)
    }

    fn run(&mut self) {
        let _ = std::fs::remove_file(&self.socket);
        let child = Command::new("redis-server")
            .args(["--save", "", "--appendonly", "no"])
            .args(if self.extra.iter().any(|arg| arg == "--port") {
                &[][..]
            } else {
                &["--port", "0"][..]
            })
            .arg("--unixsocket")
            .arg(&self.socket)
            .arg("--dir")
            .arg(&self.dir)
            .args(&self.extra)
            .stdout(Stdio::null())
            .spawn()
            .expect("start redis-server");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while !self.ping() {
            assert!(Instant::now() < deadline, "redis-server did not start");
            thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn url(&self) -> String {
        self.url
            .clone()
            .unwrap_or_else(|| format!("redis+unix://{}", self.socket.display()))
    }

    /// The directory the server keeps its files in (and a test its certificates).
    pub fn dir(&self) -> &std::path::Path {
        &self.dir
    }

    fn ping(&self) -> bool {
        self.socket.exists() && self.cli(&["PING"]).is_some_and(|out| out.trim() == "PONG")
    }

    /// A command through `redis-cli`, its output; `None` if it could not run.
    pub fn cli(&self, args: &[&str]) -> Option<String> {
        let output = Command::new("redis-cli")
            .arg("-s")
            .arg(&self.socket)
            .args(args)
            .stderr(Stdio::null())
            .output()
            .ok()?;
        output
            .status
            .success()
            .then(|| String::from_utf8_lossy(&output.stdout).into_owned())
    }

    /// The scripts the server ran (`EVALSHA` and `EVAL`) and the µs it spent in them, from
    /// `INFO commandstats`; zeros if it cannot be asked.
    pub fn scripts(&self) -> (u64, u64) {
        let info = self.cli(&["INFO", "commandstats"]).unwrap_or_default();
        let mut total = (0, 0);
        for line in info.lines() {
            let Some(stats) = line
                .strip_prefix("cmdstat_evalsha:")
                .or_else(|| line.strip_prefix("cmdstat_eval:"))
            else {
                continue;
            };
            for field in stats.trim().split(',') {
                match field.split_once('=') {
                    Some(("calls", value)) => total.0 += value.parse::<u64>().unwrap_or(0),
                    Some(("usec", value)) => total.1 += value.parse::<u64>().unwrap_or(0),
                    _ => {}
                }
            }
        }
        total
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("running").id()
    }

    /// `kill -9`: the server dies with everything it held.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// A new, empty server on the same socket.
    pub fn restart(&mut self) {
        self.kill();
        self.run();
    }

    /// SIGSTOP or SIGCONT.
    pub fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(self.pid().to_string())
            .status()
            .expect("kill");
        assert!(status.success(), "kill -{signal}");
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        if self.child.is_some() {
            // A stopped server would not die of SIGKILL's reaping otherwise.
            let _ = Command::new("kill")
                .arg("-CONT")
                .arg(self.pid().to_string())
                .status();
        }
        self.kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A loopback TCP port free now, with `port + offset` free too (a cluster node's bus port).
pub fn free_port(offset: u16) -> u16 {
    use std::net::TcpListener;
    for _ in 0..200 {
        let Ok(listener) = TcpListener::bind("127.0.0.1:0") else {
            continue;
        };
        let Ok(address) = listener.local_addr() else {
            continue;
        };
        let port = address.port();
        if offset == 0 {
            return port;
        }
        if port
            .checked_add(offset)
            .is_some_and(|bus| TcpListener::bind(("127.0.0.1", bus)).is_ok())
        {
            return port;
        }
    }
    panic!("no free loopback port");
}
