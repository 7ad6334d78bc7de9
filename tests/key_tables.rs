//! The documentation's key tables are the key table's: the README's configuration table and
//! the attribute's table in the crate documentation have one row per configuration key, in
//! the table's order, with its default, what it allows and what it means, as `ConfigKey` says.
#![deny(warnings, clippy::pedantic)]

use fusebox::{ConfigKey, KeyKind, limits};

/// A key's row, as both tables write it.
fn row(key: ConfigKey) -> String {
    let limit = key.limit();
    let default = match (key.kind(), limit.default) {
        (KeyKind::Flag, Some(value)) => (value == 1).to_string(),
        (KeyKind::Choice, Some(value)) => {
            format!("\"{}\"", key.choices()[usize::try_from(value).unwrap()])
        }
        (kind, Some(value)) if !kind.is_optional() => value.to_string(),
        _ => "off".to_owned(),
    };
    let range = match key.kind() {
        KeyKind::Flag => "`true` or `false`".to_owned(),
        KeyKind::Choice => key
            .choices()
            .iter()
            .map(|choice| format!("`\"{choice}\"`"))
            .collect::<Vec<_>>()
            .join(" or "),
        KeyKind::Millis | KeyKind::OptionalMillis if limit.max == limits::MAX_MS => {
            format!("{} ms..=1 day", limit.min)
        }
        _ if limit.max == u64::from(u32::MAX) => format!("≥ {}", limit.min),
        _ => format!("{}..={}", limit.min, limit.max),
    };
    format!(
        "| `{}` | {default} | {range}{} | {} |",
        key.name(),
        key.allowed_note(),
        key.meaning()
    )
}

/// The rows of the table that starts at the line `header` in `text`, each line without
/// `prefix`.
fn table<'a>(text: &'a str, header: &str, prefix: &str) -> Vec<&'a str> {
    let mut lines = text
        .lines()
        .map(|line| line.strip_prefix(prefix).unwrap_or(line));
    lines
        .by_ref()
        .find(|line| *line == header)
        .unwrap_or_else(|| panic!("no table headed {header}"));
    lines
        .skip(1) // |---|
        .take_while(|line| line.starts_with('|'))
        .collect()
}

#[test]
fn the_readme_lists_every_key_as_the_table_declares_it() {
    let readme = include_str!("../README.md");
    let rows = table(readme, "| key | default | allowed | meaning |", "");
    let expected: Vec<String> = ConfigKey::ALL.into_iter().map(row).collect();
    assert_eq!(rows, expected);
}

#[test]
fn the_attributes_documentation_lists_every_key_as_the_table_declares_it() {
    let docs = include_str!("../src/lib.rs");
    let rows = table(docs, "| key | default | allowed | meaning |", "/// ");
    // The attribute's own keys (`name` first; `key`, the fallback and the others after) are
    // around the configuration's.
    let configuration: Vec<&str> = rows
        .iter()
        .copied()
        .skip_while(|row| !row.starts_with("| `error_threshold` "))
        .take(ConfigKey::ALL.len())
        .collect();
    let expected: Vec<String> = ConfigKey::ALL.into_iter().map(row).collect();
    assert_eq!(configuration, expected);
    assert!(rows[0].starts_with("| `name` "), "{}", rows[0]);
}
