//! Parsing: the attribute's arguments as written, each value with its span. Checks that need
//! nothing but the value's own token (its literal type) happen here; ranges and everything
//! that involves the function are in `valid.rs`.

use darling::{Error, FromMeta, Result, ast::NestedMeta, error::Accumulator};
use proc_macro2::Span;
use syn::{Expr, ExprLit, Lit, LitStr, Meta, spanned::Spanned};

/// Every key the attribute accepts.
const KEYS: [&str; 13] = [
    "name",
    "error_threshold",
    "request_volume_threshold",
    "window_ms",
    "window_buckets",
    "sleep_window_ms",
    "half_open_max_calls",
    "consecutive_failures",
    "timeout_ms",
    "max_concurrent",
    "fallback",
    "failure_if",
    "crate",
];

/// `#[circuit_breaker(...)]`'s arguments: the keys that parsed. Each value is read with its
/// type's darling `FromMeta`.
#[derive(Debug, Default)]
pub(crate) struct Args {
    pub(crate) name: Option<Text>,
    pub(crate) error_threshold: Option<Number>,
    pub(crate) request_volume_threshold: Option<Number>,
    pub(crate) window_ms: Option<Number>,
    pub(crate) window_buckets: Option<Number>,
    pub(crate) sleep_window_ms: Option<Number>,
    pub(crate) half_open_max_calls: Option<Number>,
    pub(crate) consecutive_failures: Option<Number>,
    pub(crate) timeout_ms: Option<Number>,
    pub(crate) max_concurrent: Option<Number>,
    pub(crate) fallback: Option<Text>,
    pub(crate) failure_if: Option<Text>,
    pub(crate) krate: Option<Text>,
}

impl Args {
    /// Reads every `key = value`, pushing an error for each unknown key (with darling's "did
    /// you mean"), repeated key or ill-typed value, and keeping the rest, so that validation
    /// can report its own errors in the same compilation.
    pub(crate) fn parse(items: &[NestedMeta], errors: &mut Accumulator) -> Args {
        let mut args = Args::default();
        for item in items {
            let NestedMeta::Meta(meta) = item else {
                errors.push(Error::custom("expected `key = value`").with_span(item));
                continue;
            };
            let key = meta.path();
            let Some(name) = key.get_ident().map(ToString::to_string) else {
                errors.push(Error::custom(unknown_key(&path_text(key))).with_span(key));
                continue;
            };
            match name.as_str() {
                "name" => set(&mut args.name, meta, errors),
                "error_threshold" => set(&mut args.error_threshold, meta, errors),
                "request_volume_threshold" => set(&mut args.request_volume_threshold, meta, errors),
                "window_ms" => set(&mut args.window_ms, meta, errors),
                "window_buckets" => set(&mut args.window_buckets, meta, errors),
                "sleep_window_ms" => set(&mut args.sleep_window_ms, meta, errors),
                "half_open_max_calls" => set(&mut args.half_open_max_calls, meta, errors),
                "consecutive_failures" => set(&mut args.consecutive_failures, meta, errors),
                "timeout_ms" => set(&mut args.timeout_ms, meta, errors),
                "max_concurrent" => set(&mut args.max_concurrent, meta, errors),
                "fallback" => set(&mut args.fallback, meta, errors),
                "failure_if" => set(&mut args.failure_if, meta, errors),
                "crate" => set(&mut args.krate, meta, errors),
                _ => errors.push(Error::custom(unknown_key(&name)).with_span(key)),
            }
        }
        args
    }
}

/// "unknown key", with the closest known key when one is close (as darling's suggestions).
fn unknown_key(name: &str) -> String {
    let closest = KEYS
        .iter()
        .map(|key| (strsim::jaro_winkler(name, key), key))
        .filter(|(similarity, _)| *similarity > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0));
    match closest {
        Some((_, key)) => format!("unknown key `{name}`: did you mean `{key}`?"),
        None => format!("unknown key `{name}`: the keys are {}", KEYS.join(", ")),
    }
}

/// Parses one key's value into its slot, refusing a second value for the same key.
fn set<T: FromMeta>(slot: &mut Option<T>, meta: &Meta, errors: &mut Accumulator) {
    if slot.is_some() {
        let key = meta.path();
        errors.push(
            Error::custom(format!("`{}` is given twice: keep one", path_text(key))).with_span(key),
        );
        return;
    }
    if let Some(value) = errors.handle(T::from_meta(meta)) {
        *slot = Some(value);
    }
}

/// An integer literal. Unlike darling's own integers, a string such as `"50"` is refused: the
/// attribute's numbers are numbers.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Number {
    pub(crate) value: u64,
    pub(crate) span: Span,
}

impl FromMeta for Number {
    fn from_expr(expr: &Expr) -> Result<Self> {
        match expr {
            Expr::Lit(ExprLit {
                lit: Lit::Int(int), ..
            }) => int
                .base10_parse::<u64>()
                .map(|value| Number {
                    value,
                    span: int.span(),
                })
                .map_err(|_| {
                    Error::custom("expected a whole number between 0 and 2^64 - 1").with_span(int)
                }),
            Expr::Lit(ExprLit {
                lit: Lit::Str(text),
                ..
            }) => Err(Error::custom(format!(
                "expected an integer, found a string: write {} without quotes",
                text.value()
            ))
            .with_span(text)),
            Expr::Unary(_) => Err(Error::custom(
                "expected a positive integer, found a negative number",
            )
            .with_span(expr)),
            other => Err(Error::custom("expected an integer literal").with_span(other)),
        }
    }
}

/// A string literal: a name, or a path written as a string (`fallback = "default_recs"`).
#[derive(Clone, Debug)]
pub(crate) struct Text(pub(crate) LitStr);

impl FromMeta for Text {
    fn from_expr(expr: &Expr) -> Result<Self> {
        match expr {
            Expr::Lit(ExprLit {
                lit: Lit::Str(text),
                ..
            }) => Ok(Text(text.clone())),
            Expr::Path(path) => Err(Error::custom(format!(
                "expected a string: write the path in quotes, \"{}\"",
                quote::ToTokens::to_token_stream(path)
                    .to_string()
                    .replace(' ', "")
            ))
            .with_span(expr)),
            other => Err(Error::custom("expected a string literal").with_span(&other.span())),
        }
    }
}

fn path_text(path: &syn::Path) -> String {
    quote::ToTokens::to_token_stream(path)
        .to_string()
        .replace(' ', "")
}
