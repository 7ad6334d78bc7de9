//! The fleet's store as the driver uses it: one round trip for every sync due at once, the
//! script loaded again when the server has lost it, and each answer (or the reason there is
//! none) handed back in the order the syncs were sent.

use std::{fmt, time::Duration};

use redis::{Cmd, ErrorKind, RedisResult, Script, ServerErrorKind, Value, aio::ConnectionManager};

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
#[derive(Clone)]
pub(super) struct Store {
    connection: ConnectionManager,
    timeout: Duration,
}

impl Store {
    pub(super) fn new(connection: ConnectionManager, timeout: Duration) -> Store {
        Store {
            connection,
            timeout,
        }
    }

    /// Runs the script calls `commands` in one round trip (a pipeline), within the timeout:
    /// an answer per call, in their order. Every call is a batch the script adds once, so a
    /// pipeline sent again after the server lost the script counts nothing twice.
    pub(super) async fn sync(&mut self, commands: &[Cmd]) -> Vec<Result<Value, Fault>> {
        let timeout = self.timeout;
        let answers = match tokio::time::timeout(timeout, self.pipeline(commands)).await {
            Ok(Ok(answers)) => answers,
            Ok(Err(error)) => return vec![Err(Fault::Store(error.to_string())); commands.len()],
            Err(_) => {
                let message = format!("no answer within {timeout:?}");
                return vec![Err(Fault::Store(message)); commands.len()];
            }
        };
        answers
            .into_iter()
            .map(|answer| answer.map_err(|error| Fault::Store(error.to_string())))
            .collect()
    }

    async fn pipeline(&mut self, commands: &[Cmd]) -> RedisResult<Vec<RedisResult<Value>>> {
        let mut pipeline = redis::pipe();
        pipeline.ignore_errors();
        for command in commands {
            pipeline.add_command(command.clone());
        }
        let answers: Vec<RedisResult<Value>> = pipeline.query_async(&mut self.connection).await?;
        let lost_script = answers.iter().any(|answer| {
            answer
                .as_ref()
                .is_err_and(|error| error.kind() == ErrorKind::Server(ServerErrorKind::NoScript))
        });
        if !lost_script {
            return Ok(answers);
        }
        // A server restarted (or flushed its scripts): load it and send them all again.
        script().load_async(&mut self.connection).await?;
        pipeline.query_async(&mut self.connection).await
    }
}
