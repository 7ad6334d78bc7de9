//! What would other thresholds have done? Replays a breaker's recorded calls against its own
//! configuration and each candidate in a TOML file, on the real state machine and a virtual
//! clock, prints what each would have done, and draws it.
//!
//! ```text
//! cargo run --example recommendations -- --record trace.jsonl
//! cargo run --example what_if -- trace.jsonl examples/candidates.toml [what_if.svg]
//! ```
//!
//! The trace is a breaker's JSON lines (`record = true`, then `GET /breakers/{name}/trace` on
//! the admin router, or `CircuitBreaker::trace().to_json_lines()`). The candidates file has a
//! `[candidates."<name>"]` table of keys per candidate, each over the recorded configuration;
//! or it is an overrides file (`fusebox::Overrides`), whose `[breakers."<name>"]` and
//! `[shadow."<name>"]` entries for the traced breaker are the candidates: the file about to be
//! deployed, replayed first.
//! The chart (calls, failures, and each configuration's refusals over time) is written to the
//! third argument, `what_if.svg` by default. The same input gives the same report.

use std::{collections::BTreeMap, error::Error, fs, time::Duration};

use fusebox::{Config, Overrides, PartialConfig, Trace, simulate};

/// The candidates file: a table of keys per candidate.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Candidates {
    candidates: BTreeMap<String, PartialConfig>,
}

/// The candidates in `text` for the breaker named `breaker`: its `candidates` tables, or an
/// overrides file's entries for the breaker.
fn candidates(text: &str, breaker: &str) -> Result<Vec<(String, PartialConfig)>, String> {
    let table: toml::Table = toml::from_str(text).map_err(|error| error.to_string())?;
    if table.contains_key("candidates") {
        let file: Candidates = toml::from_str(text).map_err(|error| error.to_string())?;
        return Ok(file.candidates.into_iter().collect());
    }
    let overrides = Overrides::from_toml_str(text).map_err(|error| error.to_string())?;
    let found: Vec<(String, PartialConfig)> = [
        ("breakers", overrides.breakers.get(breaker)),
        ("shadow", overrides.shadow.get(breaker)),
    ]
    .into_iter()
    .filter_map(|(table, keys)| Some((format!("{table}.\"{breaker}\""), *keys?)))
    .collect();
    if found.is_empty() {
        return Err(format!(
            "no candidates: neither `[candidates.\"<name>\"]` tables nor an entry for `{breaker}` under `breakers` or `shadow`"
        ));
    }
    Ok(found)
}

fn main() -> Result<(), Box<dyn Error>> {
    let arguments: Vec<String> = std::env::args().skip(1).collect();
    let [trace_path, candidates_path, rest @ ..] = &arguments[..] else {
        return Err("usage: what_if <trace.jsonl> <candidates.toml> [chart.svg]".into());
    };
    let chart_path = rest.first().map_or("what_if.svg", String::as_str);
    let trace = Trace::from_json_lines(&fs::read_to_string(trace_path)?)
        .map_err(|error| format!("{trace_path}: {error}"))?;
    let candidates = candidates(&fs::read_to_string(candidates_path)?, &trace.breaker)
        .map_err(|error| format!("{candidates_path}: {error}"))?;

    let mut configs: Vec<(String, Config)> = vec![("in force".to_owned(), trace.config)];
    for (name, keys) in &candidates {
        let config = keys
            .over(&trace.config)
            .map_err(|error| format!("{candidates_path}: candidate `{name}`: {error}"))?;
        configs.push((name.clone(), config));
    }
    let replay = simulate::replay(&trace, &configs);

    let span = replay.period * u32::try_from(replay.periods.len()).unwrap_or(u32::MAX);
    let degraded = replay
        .periods
        .iter()
        .filter(|period| period.is_degraded())
        .count();
    println!(
        "`{}`: {} calls over {:.1} s, {} of its {} ms periods degraded (more than half the calls failed)\n",
        trace.breaker,
        trace.calls.len(),
        span.as_secs_f64(),
        degraded,
        replay.period.as_millis(),
    );
    println!("{replay}");
    let unknown = replay.reports.first().map_or(0, |report| report.unknown);
    let calls = u64::try_from(trace.calls.len()).unwrap_or(u64::MAX);
    if unknown * 10 > calls {
        println!(
            "{unknown} of the {calls} calls ({} %) were refused when recorded: their outcome is \
             unknown, and a candidate that would have run them is judged on the others only.\n",
            unknown * 100 / calls
        );
    }
    for report in &replay.reports {
        let moves: Vec<String> = report
            .transitions
            .iter()
            .take(8)
            .map(|moved| format!("{:.2}s {}", seconds(moved.at), moved.to))
            .collect();
        let more = report.transitions.len().saturating_sub(moves.len());
        println!(
            "{}: {}{}",
            report.name,
            moves.join(", "),
            if more > 0 {
                format!(", and {more} more")
            } else {
                String::new()
            }
        );
    }
    fs::write(
        chart_path,
        replay.chart(&format!("{}: what if", trace.breaker)).svg(),
    )?;
    println!("\nchart: {chart_path}");
    Ok(())
}

fn seconds(at: Duration) -> f64 {
    at.as_secs_f64()
}
