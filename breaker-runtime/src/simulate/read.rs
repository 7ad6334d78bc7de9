//! Reading a trace back from its JSON lines.

use std::time::Duration;

use crate::{CallKind, Config, Trace, TraceEntry};

/// A trace's JSON lines that could not be read: which line, and what is allowed there.
#[derive(Debug, thiserror::Error)]
#[error("line {line}: {problem}")]
pub struct ReadError {
    /// The line, counted from 1.
    pub line: usize,
    problem: String,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Header {
    breaker: String,
    began_at_ms: u64,
    clock_ms: u64,
    config: Config,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Line {
    at_ms: u64,
    kind: String,
    duration_us: Option<u64>,
}

impl Trace {
    /// Reads a trace from its JSON lines ([`to_json_lines`](Self::to_json_lines), or `GET
    /// /breakers/{name}/trace`): the header first, then a line per call; blank lines are
    /// skipped. Without a header (calls from elsewhere), the breaker is `trace`, with the
    /// default configuration, its clock the wall clock.
    ///
    /// # Errors
    /// [`ReadError`] for the first line that is not a header (first) or a call, with what is
    /// allowed.
    ///
    /// ```
    /// use fusebox::{CallKind, Trace};
    ///
    /// let trace = Trace::from_json_lines(concat!(
    ///     r#"{"at_ms":1000,"kind":"success","duration_us":2000}"#, "\n",
    ///     r#"{"at_ms":1010,"kind":"timeout"}"#, "\n",
    /// ))?;
    /// assert_eq!(trace.calls[1].kind, CallKind::Timeout);
    ///
    /// let wrong = Trace::from_json_lines(r#"{"at_ms":1,"kind":"boom"}"#).unwrap_err();
    /// assert!(wrong.to_string().starts_with("line 1: `boom` is not a kind of call"));
    /// # Ok::<(), fusebox::simulate::ReadError>(())
    /// ```
    pub fn from_json_lines(text: &str) -> Result<Trace, ReadError> {
        let mut calls = Vec::new();
        let mut header = None;
        for (index, text) in text.lines().enumerate() {
            let line = index + 1;
            if text.trim().is_empty() {
                continue;
            }
            let error = |problem: String| ReadError { line, problem };
            if calls.is_empty() && header.is_none() && text.contains("\"breaker\"") {
                let read: Header = serde_json::from_str(text).map_err(|wrong| {
                    error(format!(
                        "a trace's header is {{\"breaker\", \"began_at_ms\", \"clock_ms\", \"config\"}}: {wrong}"
                    ))
                })?;
                header = Some(read);
                continue;
            }
            let read: Line = serde_json::from_str(text).map_err(|wrong| {
                error(format!(
                    "a call is {{\"at_ms\", \"kind\", \"duration_us\" (if timed)}}: {wrong}"
                ))
            })?;
            let kind = CallKind::ALL
                .into_iter()
                .find(|kind| kind.as_str() == read.kind)
                .ok_or_else(|| {
                    let names: Vec<&str> = CallKind::ALL.iter().map(|kind| kind.as_str()).collect();
                    error(format!(
                        "`{}` is not a kind of call; the kinds are {}",
                        read.kind,
                        names.join(", ")
                    ))
                })?;
            calls.push(TraceEntry {
                at_ms: read.at_ms,
                kind,
                duration: read.duration_us.map(Duration::from_micros),
            });
        }
        Ok(match header {
            Some(header) => Trace {
                breaker: header.breaker,
                began_at_ms: header.began_at_ms,
                clock_ms: header.clock_ms,
                config: header.config,
                calls,
            },
            None => Trace::new("trace", Config::default(), calls),
        })
    }
}
