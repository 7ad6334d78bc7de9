//! The fleet's store as the driver uses it: one round trip for every sync due at once, the
//! script loaded again when the server has lost it, and each answer (or the reason there is
//! none) handed back in the order the syncs were sent. A single server (or a proxy in front of
//! many) is reached through one multiplexed connection that makes itself again when lost; a
//! Redis Cluster (the `redis-cluster` feature) through redis-rs's cluster client, which follows
//! the slots as they move; either over TLS with the `redis-tls` feature.

use std::{fmt, time::Duration};

use redis::{
    Client, Cmd, ErrorKind, RedisError, RedisResult, Script, ServerErrorKind, Value,
    aio::{ConnectionManager, ConnectionManagerConfig},
};

use super::{FleetError, FleetOptions};

/// The sync script; the driver sends it by its hash (`EVALSHA`) and loads it again after a
/// server restart.
pub(super) fn script() -> &'static Script {
    static SCRIPT: std::sync::OnceLock<Script> = std::sync::OnceLock::new();
    SCRIPT.get_or_init(|| Script::new(include_str!("sync.lua")))
}

/// The number of keys the script takes.
pub(super) const SCRIPT_KEYS: usize = 7;

/// Why a sync did not bring the fleet's view.
#[derive(Clone, Debug)]
pub(super) enum Fault {
    /// No answer in time, no connection, or an error from the server.
    Store(String),
    /// An answer that is not the script's.
    BadReply(String),
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Fault::Store(message) => write!(f, "the store: {message}"),
            Fault::BadReply(message) => write!(f, "a reply of the wrong shape, ignored: {message}"),
        }
    }
}

/// A connection to the fleet's store.
pub(super) struct Store {
    connection: Connection,
    timeout: Duration,
}

enum Connection {
    Single(ConnectionManager),
    #[cfg(feature = "redis-cluster")]
    Cluster {
        client: Box<redis::cluster::ClusterClient>,
        /// Made at the first sync (the store may be down at startup), and kept: it follows
        /// the cluster's slots and reconnects to its nodes by itself.
        connection: Option<redis::cluster_async::ClusterConnection>,
    },
}

/// What the options add to TLS: the roots the store's certificate must chain to, instead of
/// the system's, and this instance's identity, for a store that asks for one. Never printed.
#[cfg(feature = "redis-tls")]
#[derive(Clone, Default, PartialEq, Eq)]
pub(super) struct Tls {
    pub(super) root_certificates: Option<Vec<u8>>,
    /// The certificate chain and the private key, in PEM.
    pub(super) client_identity: Option<(Vec<u8>, Vec<u8>)>,
}

#[cfg(feature = "redis-tls")]
impl Tls {
    fn certificates(&self) -> Option<redis::TlsCertificates> {
        if self.root_certificates.is_none() && self.client_identity.is_none() {
            return None;
        }
        Some(redis::TlsCertificates {
            client_tls: self.client_identity.clone().map(|(certificate, key)| {
                redis::ClientTlsConfig {
                    client_cert: certificate,
                    client_key: key,
                }
            }),
            root_cert: self.root_certificates.clone(),
        })
    }

    /// Each PEM given holds what it should: certificates, and a private key.
    pub(super) fn check(&self) -> Result<(), FleetError> {
        use rustls::pki_types::{CertificateDer, PrivateKeyDer, pem::PemObject};
        let certificates = |option, pem: &[u8]| {
            let read: Result<Vec<_>, _> = CertificateDer::pem_slice_iter(pem).collect();
            match read {
                Ok(certificates) if !certificates.is_empty() => Ok(()),
                Ok(_) => Err(FleetError::Option {
                    option,
                    message: "must hold PEM certificates (-----BEGIN CERTIFICATE-----), got none"
                        .to_owned(),
                }),
                Err(error) => Err(FleetError::Option {
                    option,
                    message: format!("must hold PEM certificates: {error}"),
                }),
            }
        };
        if let Some(roots) = &self.root_certificates {
            certificates("tls_root_certificates", roots)?;
        }
        if let Some((chain, key)) = &self.client_identity {
            certificates("tls_client_identity", chain)?;
            PrivateKeyDer::from_pem_slice(key).map_err(|error| FleetError::Option {
                option: "tls_client_identity",
                message: format!("must have a PEM private key (PKCS#8, PKCS#1 or SEC1): {error}"),
            })?;
        }
        Ok(())
    }
}

#[cfg(feature = "redis-tls")]
impl fmt::Debug for Tls {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tls")
            .field(
                "root_certificates",
                &self.root_certificates.as_ref().map(|_| "given"),
            )
            .field(
                "client_identity",
                &self.client_identity.as_ref().map(|_| "given, not shown"),
            )
            .finish()
    }
}

/// What [`Store::open`] makes: the store, and the client of the server the trips'
/// subscription connects to (on a cluster, the first node: a publication reaches every node).
pub(super) struct Opened {
    pub(super) store: Store,
    pub(super) subscriptions: Client,
    pub(super) config: ConnectionManagerConfig,
}

impl Store {
    /// Checks `url` against the features built in and makes the connections, without
    /// connecting: must run within the Tokio runtime.
    pub(super) fn open(url: &str, options: &FleetOptions) -> Result<Opened, FleetError> {
        let url_error = |message: String| FleetError::Url {
            url: url.to_owned(),
            message,
        };
        if let Some(feature) = missing_feature(url, cfg!(feature = "redis-tls")) {
            return Err(url_error(format!(
                "a `{}` URL needs fusebox's `{feature}` feature",
                url.split_once("://").map_or(url, |(scheme, _)| scheme)
            )));
        }
        let client = client(url, options).map_err(|error| url_error(error.to_string()))?;
        // Reconnects in the background; each sync is bounded by its own timeout too.
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(options.timeout))
            .set_response_timeout(Some(options.timeout))
            .set_number_of_retries(1)
            .set_max_delay(options.max_backoff);
        #[cfg(feature = "redis-cluster")]
        if options.cluster {
            let mut builder = redis::cluster::ClusterClient::builder([url])
                .connection_timeout(options.timeout)
                .response_timeout(options.timeout)
                .retries(2);
            #[cfg(feature = "redis-tls")]
            if let Some(certificates) = options.tls.certificates() {
                builder = builder.certs(certificates);
            }
            let cluster = builder
                .build()
                .map_err(|error| url_error(error.to_string()))?;
            return Ok(Opened {
                store: Store {
                    connection: Connection::Cluster {
                        client: Box::new(cluster),
                        connection: None,
                    },
                    timeout: options.timeout,
                },
                subscriptions: client,
                config,
            });
        }
        let connection = ConnectionManager::new_lazy_with_config(client.clone(), config.clone())
            .map_err(|error| url_error(error.to_string()))?;
        Ok(Opened {
            store: Store {
                connection: Connection::Single(connection),
                timeout: options.timeout,
            },
            subscriptions: client,
            config,
        })
    }

    /// Runs the script calls `commands` within the timeout, all at once: in one round trip (a
    /// pipeline) on a single server, each to its node at the same time on a cluster. An
    /// answer per call, in their order. Every call is a batch the script adds once, so a call
    /// sent again after the server lost the script counts nothing twice.
    pub(super) async fn sync(&mut self, commands: &[Cmd]) -> Vec<Result<Value, Fault>> {
        let timeout = self.timeout;
        let answers = match tokio::time::timeout(timeout, self.send(commands)).await {
            Ok(Ok(answers)) => answers,
            Ok(Err(error)) => return vec![Err(Fault::Store(describe(&error))); commands.len()],
            Err(_) => {
                let message = format!("no answer within {timeout:?}");
                return vec![Err(Fault::Store(message)); commands.len()];
            }
        };
        answers
            .into_iter()
            .map(|answer| answer.map_err(|error| Fault::Store(describe(&error))))
            .collect()
    }

    async fn send(&mut self, commands: &[Cmd]) -> RedisResult<Vec<RedisResult<Value>>> {
        let answers = self.send_once(commands).await?;
        if !answers.iter().any(lost_script) {
            return Ok(answers);
        }
        // A server restarted (or flushed its scripts): load it (on every node of a cluster)
        // and send them all again.
        match &mut self.connection {
            Connection::Single(connection) => script().load_async(connection).await?,
            #[cfg(feature = "redis-cluster")]
            Connection::Cluster { connection, .. } => match connection {
                Some(connection) => script().load_async(connection).await?,
                None => return Ok(answers),
            },
        };
        self.send_once(commands).await
    }

    async fn send_once(&mut self, commands: &[Cmd]) -> RedisResult<Vec<RedisResult<Value>>> {
        match &mut self.connection {
            Connection::Single(connection) => {
                let mut pipeline = redis::pipe();
                pipeline.ignore_errors();
                for command in commands {
                    pipeline.add_command(command.clone());
                }
                pipeline.query_async(connection).await
            }
            #[cfg(feature = "redis-cluster")]
            Connection::Cluster { client, connection } => {
                let connection = match connection {
                    Some(connection) => connection,
                    None => connection.insert(client.get_async_connection().await?),
                };
                // A pipeline on a cluster must stay within one slot: each breaker's call goes
                // to its own node, all at once.
                let sends = commands.iter().map(|command| {
                    let mut connection = connection.clone();
                    async move { command.query_async::<Value>(&mut connection).await }
                });
                Ok(futures_util::future::join_all(sends).await)
            }
        }
    }
}

fn lost_script(answer: &RedisResult<Value>) -> bool {
    answer
        .as_ref()
        .is_err_and(|error| error.kind() == ErrorKind::Server(ServerErrorKind::NoScript))
}

/// The error as an operator reads it: with what the TLS library said, when it was that.
fn describe(error: &RedisError) -> String {
    let mut message = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !message.contains(&cause_text) {
            message = format!("{message}: {cause_text}");
        }
        source = cause.source();
    }
    message
}

/// The feature a URL's scheme needs that this build lacks (built with TLS or not), if any.
fn missing_feature(url: &str, tls_built: bool) -> Option<&'static str> {
    let tls = url.starts_with("rediss://") || url.starts_with("valkeys://");
    (tls && !tls_built).then_some("redis-tls")
}

/// The client for `url`, with the certificates the options give.
fn client(url: &str, options: &FleetOptions) -> RedisResult<Client> {
    #[cfg(feature = "redis-tls")]
    {
        // redis-rs builds its TLS settings with the process's default provider: ring, unless
        // the application installed another already. Ring offers no post-quantum key exchange
        // (hence rustls's deprecation) but builds with a C compiler alone; an application that
        // wants one installs aws-lc-rs's provider before connecting, and it is kept.
        #[allow(deprecated)]
        let _ = rustls::crypto::ring::default_provider().install_default();
        if let Some(certificates) = options.tls.certificates() {
            return Client::build_with_tls(url, certificates);
        }
    }
    let _ = options;
    Client::open(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tls_url_without_the_feature_names_the_feature() {
        for built in [false, true] {
            assert_eq!(missing_feature("redis://127.0.0.1:6379", built), None);
            assert_eq!(missing_feature("redis+unix:///run/redis.sock", built), None);
        }
        for url in [
            "rediss://cache.internal:6380",
            "valkeys://cache.internal:6380",
        ] {
            assert_eq!(missing_feature(url, false), Some("redis-tls"));
            assert_eq!(missing_feature(url, true), None);
        }
    }
}
