//! A three-node Redis Cluster on loopback ports (`redis-cli --cluster create`, no replicas),
//! and a slot moved from one node to another while clients use it.

use std::{
    process::Command,
    thread,
    time::{Duration, Instant},
};

use super::{RedisServer, free_port};

pub struct RedisCluster {
    pub nodes: Vec<RedisServer>,
    ports: Vec<u16>,
}

impl RedisCluster {
    /// Three nodes serving every slot; `None` as `RedisServer::start`.
    pub fn start() -> Option<RedisCluster> {
        let mut nodes = Vec::new();
        let mut ports = Vec::new();
        for _ in 0..3 {
            let port = free_port(10_000);
            let node = RedisServer::start_with(
                vec![
                    "--port".into(),
                    port.to_string(),
                    "--bind".into(),
                    "127.0.0.1".into(),
                    "--cluster-enabled".into(),
                    "yes".into(),
                    "--cluster-config-file".into(),
                    "nodes.conf".into(),
                    "--cluster-node-timeout".into(),
                    "2000".into(),
                ],
                Some(format!("redis://127.0.0.1:{port}")),
            )?;
            nodes.push(node);
            ports.push(port);
        }
        let mut create = Command::new("redis-cli");
        create.arg("--cluster").arg("create");
        for port in &ports {
            create.arg(format!("127.0.0.1:{port}"));
        }
        let output = create
            .args(["--cluster-replicas", "0", "--cluster-yes"])
            .output()
            .expect("redis-cli");
        assert!(
            output.status.success(),
            "redis-cli --cluster create: {}",
            String::from_utf8_lossy(&output.stdout)
        );
        let cluster = RedisCluster { nodes, ports };
        let deadline = Instant::now() + Duration::from_secs(20);
        while !cluster.nodes.iter().all(|node| {
            node.cli(&["CLUSTER", "INFO"])
                .is_some_and(|info| info.contains("cluster_state:ok"))
        }) {
            assert!(Instant::now() < deadline, "the cluster did not come up");
            thread::sleep(Duration::from_millis(50));
        }
        Some(cluster)
    }

    /// The URL of the first node: the seed clients learn the cluster from.
    pub fn url(&self) -> String {
        self.nodes[0].url()
    }

    /// The slot of `key`, and the index of the node that serves it.
    pub fn owner(&self, key: &str) -> (u16, usize) {
        let slot: u16 = self.nodes[0]
            .cli(&["CLUSTER", "KEYSLOT", key])
            .expect("CLUSTER KEYSLOT")
            .trim()
            .parse()
            .expect("a slot");
        let owner = (0..self.nodes.len())
            .find(|&node| self.serves(node, slot))
            .expect("a node serves the slot");
        (slot, owner)
    }

    /// Whether node `node` serves `slot`, as it says itself.
    fn serves(&self, node: usize, slot: u16) -> bool {
        let nodes = self.nodes[node]
            .cli(&["CLUSTER", "NODES"])
            .unwrap_or_default();
        nodes
            .lines()
            .find(|line| line.contains("myself"))
            .is_some_and(|line| {
                line.split_whitespace().skip(8).any(|range| {
                    let (low, high) = range.split_once('-').unwrap_or((range, range));
                    match (low.parse::<u16>(), high.parse::<u16>()) {
                        (Ok(low), Ok(high)) => (low..=high).contains(&slot),
                        _ => false,
                    }
                })
            })
    }

    /// Moves `slot` from node `from` to node `to` as `redis-cli --cluster reshard` does: the
    /// target imports, the source migrates, its keys go over (`MIGRATE`), and every node is
    /// told the new owner. Clients in between get `ASK` and `MOVED` redirections.
    pub fn move_slot(&self, slot: u16, from: usize, to: usize) {
        let id = |node: usize| {
            self.nodes[node]
                .cli(&["CLUSTER", "MYID"])
                .expect("CLUSTER MYID")
                .trim()
                .to_owned()
        };
        let (source, target) = (id(from), id(to));
        let slot = slot.to_string();
        let ok = |node: usize, args: &[&str]| {
            let out = self.nodes[node].cli(args).expect("redis-cli");
            assert!(out.trim() == "OK", "{args:?}: {out}");
        };
        ok(to, &["CLUSTER", "SETSLOT", &slot, "IMPORTING", &source]);
        ok(from, &["CLUSTER", "SETSLOT", &slot, "MIGRATING", &target]);
        let port = self.ports[to].to_string();
        loop {
            let keys = self.nodes[from]
                .cli(&["CLUSTER", "GETKEYSINSLOT", &slot, "100"])
                .expect("GETKEYSINSLOT");
            let keys: Vec<&str> = keys.lines().filter(|key| !key.is_empty()).collect();
            if keys.is_empty() {
                break;
            }
            let mut args = vec!["MIGRATE", "127.0.0.1", &port, "", "0", "5000", "KEYS"];
            args.extend(&keys);
            let out = self.nodes[from].cli(&args).expect("MIGRATE");
            assert!(
                matches!(out.trim(), "OK" | "NOKEY"),
                "MIGRATE {keys:?}: {out}"
            );
        }
        for node in [to, from]
            .into_iter()
            .chain((0..self.nodes.len()).filter(|&n| n != to && n != from))
        {
            ok(node, &["CLUSTER", "SETSLOT", &slot, "NODE", &target]);
        }
    }
}
