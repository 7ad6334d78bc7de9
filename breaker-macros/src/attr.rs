//! Parsing: the attribute's arguments as written, each value with its span. Checks that need
//! nothing but the value's own token (its literal type) happen here; ranges and everything
//! that involves the function are in `valid.rs`.

use darling::{Error, FromMeta, Result};
use proc_macro2::Span;
use syn::{Expr, ExprLit, Lit, LitStr, spanned::Spanned};

/// `#[circuit_breaker(...)]`'s arguments. darling reports unknown keys (with a "did you
/// mean"), repeated keys and wrong literal types, all at once.
#[derive(Debug, Default, FromMeta)]
#[darling(default)]
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
    #[darling(rename = "crate")]
    pub(crate) krate: Option<Text>,
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
