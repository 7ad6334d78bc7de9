//! Overrides put in force again from a file, whenever it changes or when the process is told
//! to (`SIGHUP`), on Tokio.

use std::{
    path::{Path, PathBuf},
    sync::{Arc, Mutex, PoisonError},
    time::Duration,
};

use crate::{Overrides, OverridesError};

use super::{Applied, apply};

/// A running reload of a file's overrides ([`watch_file`](super::watch_file),
/// [`reload_on_sighup`](super::reload_on_sighup)). It runs until [`stop`](Self::stop), whether
/// or not the handle is kept.
#[derive(Debug)]
pub struct Reload {
    path: PathBuf,
    task: tokio::task::JoinHandle<()>,
    last: Arc<Mutex<Outcome>>,
}

type Outcome = Option<Result<Applied, OverridesError>>;

impl Reload {
    /// The file it reads.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// What the last reading of the file did: the changes applied, or why the file was
    /// refused (and everything left as it was).
    #[must_use]
    pub fn last(&self) -> Outcome {
        self.last
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Stops reading the file; the overrides in force stay.
    pub fn stop(&self) {
        self.task.abort();
    }
}

/// Puts the overrides in `document`, as read from `path` (or why it could not be), in force,
/// reporting the outcome (through `tracing`, and in `last`).
fn reload(
    path: &Path,
    document: Result<String, OverridesError>,
    last: &Mutex<Outcome>,
) -> Result<Applied, OverridesError> {
    let outcome = document
        .and_then(|document| Overrides::from_file_document(path, &document))
        .and_then(|overrides| apply(&overrides));
    report(path, &outcome);
    *last.lock().unwrap_or_else(PoisonError::into_inner) = Some(outcome.clone());
    outcome
}

#[cfg_attr(not(feature = "tracing"), allow(unused_variables))]
fn report(path: &Path, outcome: &Result<Applied, OverridesError>) {
    #[cfg(feature = "tracing")]
    match outcome {
        Ok(applied) => tracing::info!(
            path = %path.display(),
            changed = applied.changed.len(),
            shadows_started = applied.shadows.len(),
            shadows_ended = applied.shadows_ended.len(),
            "overrides applied"
        ),
        Err(error) => tracing::warn!(
            path = %path.display(),
            "overrides refused, everything stays as it was: {error}"
        ),
    }
}

fn runtime() -> Result<tokio::runtime::Handle, OverridesError> {
    tokio::runtime::Handle::try_current().map_err(|_| OverridesError::NoRuntime)
}

/// See [`watch_file`](super::watch_file).
pub(super) fn watch_file(path: PathBuf, period: Duration) -> Result<Reload, OverridesError> {
    let runtime = runtime()?;
    let last = Arc::new(Mutex::new(None));
    let document = Overrides::read_document(&path);
    let mut seen = document.as_ref().ok().cloned();
    reload(&path, document, &last)?;
    let task = {
        let (path, last) = (path.clone(), Arc::clone(&last));
        runtime.spawn(async move {
            let mut ticks = tokio::time::interval(period.max(Duration::from_millis(10)));
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            ticks.tick().await; // the first tick is now: the file was just applied
            loop {
                ticks.tick().await;
                // A small file, read whole once: compared by its text, whatever its timestamps,
                // and applied as read.
                let document = Overrides::read_document(&path);
                let now = document.as_ref().ok();
                if now != seen.as_ref() {
                    seen = now.cloned();
                    let _ = reload(&path, document, &last);
                }
            }
        })
    };
    Ok(Reload { path, task, last })
}

/// See [`reload_on_sighup`](super::reload_on_sighup). (Tokio has no signals under loom.)
#[cfg(all(unix, not(loom)))]
pub(super) fn reload_on_sighup(path: PathBuf) -> Result<Reload, OverridesError> {
    use tokio::signal::unix::{SignalKind, signal};
    let runtime = runtime()?;
    let last = Arc::new(Mutex::new(None));
    reload(&path, Overrides::read_document(&path), &last)?;
    let mut hangups = {
        let _entered = runtime.enter();
        signal(SignalKind::hangup()).map_err(|error| OverridesError::Read {
            path: path.clone(),
            message: format!("cannot listen for SIGHUP: {error}"),
        })?
    };
    let task = {
        let (path, last) = (path.clone(), Arc::clone(&last));
        runtime.spawn(async move {
            while hangups.recv().await.is_some() {
                let _ = reload(&path, Overrides::read_document(&path), &last);
            }
        })
    };
    Ok(Reload { path, task, last })
}
