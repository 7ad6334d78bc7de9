//! Parsing: the attribute's arguments as written, each value with its span. Checks that need
//! nothing but the value's own token (its literal type) happen here; ranges and everything
//! that involves the function are in `valid.rs`.

use breaker_runtime::{ConfigKey, KeyKind, limits};
use darling::{Error, Result, ast::NestedMeta, error::Accumulator};
use proc_macro2::Span;
use syn::{Expr, ExprLit, ExprUnary, Lit, LitStr, Meta, UnOp};

/// Every key the attribute accepts, in the order its documentation lists them: the
/// configuration's keys (the runtime's table) among the attribute's own.
fn keys() -> impl Iterator<Item = &'static str> {
    ["name"]
        .into_iter()
        .chain(ConfigKey::ALL.map(ConfigKey::name))
        .chain([
            "key",
            "max_keys",
            "max_key_len",
            "fallback",
            "failure_if",
            "retry_if",
            "crate",
        ])
}

/// `#[circuit_breaker(...)]`'s arguments: the keys that parsed. Each value is read with its
/// type's [`Value`] impl, which knows the key it is read for.
#[derive(Debug, Default)]
pub(crate) struct Args {
    pub(crate) name: Option<Text>,
    /// The configuration's keys as written, in the order written.
    pub(crate) config: Vec<(ConfigKey, Setting)>,
    pub(crate) key: Option<PathArg>,
    pub(crate) max_keys: Option<Number>,
    pub(crate) max_key_len: Option<Number>,
    pub(crate) fallback: Option<PathArg>,
    pub(crate) failure_if: Option<PathArg>,
    pub(crate) retry_if: Option<PathArg>,
    pub(crate) krate: Option<PathArg>,
}

/// A configuration key's value, as its kind takes it.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Setting {
    Number(Number),
    Flag(Flag),
}

impl Args {
    /// The value written for `key`, if any.
    pub(crate) fn setting(&self, key: ConfigKey) -> Option<Setting> {
        self.config
            .iter()
            .find_map(|(written, setting)| (*written == key).then_some(*setting))
    }
}

impl Args {
    /// Reads every `key = value`, pushing an error for each unknown key (with a "did you
    /// mean"), repeated key or ill-typed value, and keeping the rest, so that validation can
    /// report its own errors in the same compilation.
    pub(crate) fn parse(items: &[NestedMeta], errors: &mut Accumulator) -> Args {
        let mut args = Args::default();
        for item in items {
            let NestedMeta::Meta(meta) = item else {
                errors.push(
                    Error::custom("expected `key = value`, like `error_threshold = 50`")
                        .with_span(item),
                );
                continue;
            };
            let key = meta.path();
            let Some(name) = key.get_ident().map(ToString::to_string) else {
                errors.push(Error::custom(unknown_key(&path_text(key))).with_span(key));
                continue;
            };
            match name.as_str() {
                "name" => set(&mut args.name, meta, errors),
                "key" => set(&mut args.key, meta, errors),
                "max_keys" => set(&mut args.max_keys, meta, errors),
                "max_key_len" => set(&mut args.max_key_len, meta, errors),
                "fallback" => set(&mut args.fallback, meta, errors),
                "failure_if" => set(&mut args.failure_if, meta, errors),
                "retry_if" => set(&mut args.retry_if, meta, errors),
                "crate" => set(&mut args.krate, meta, errors),
                _ => match ConfigKey::from_name(&name) {
                    Some(config_key) => args.set_config(config_key, meta, errors),
                    None => errors.push(Error::custom(unknown_key(&name)).with_span(key)),
                },
            }
        }
        args
    }
}

impl Args {
    /// Reads a configuration key's value, as its kind takes it, refusing a second one.
    fn set_config(&mut self, key: ConfigKey, meta: &Meta, errors: &mut Accumulator) {
        // A key given before holds a stand-in here, so that `set` refuses the second value.
        let given = self.setting(key).is_some();
        let setting = if matches!(key.kind(), KeyKind::Choice) {
            let mut text = given.then(|| Text(LitStr::new("", Span::call_site())));
            set(&mut text, meta, errors);
            text.filter(|_| !given).and_then(|Text(text)| {
                let value = text.value();
                if let Some(index) = key.choice(&value) {
                    return Some(Setting::Number(Number {
                        value: index,
                        span: text.span(),
                    }));
                }
                let allowed: Vec<String> = key
                    .choices()
                    .iter()
                    .map(|choice| format!("\"{choice}\""))
                    .collect();
                errors.push(
                    Error::custom(format!(
                        "{} is {}, not \"{value}\"",
                        key.name(),
                        allowed.join(" or ")
                    ))
                    .with_span(&text),
                );
                None
            })
        } else if matches!(key.kind(), KeyKind::Flag) {
            let mut flag = given.then_some(Flag {
                value: false,
                span: Span::call_site(),
            });
            set(&mut flag, meta, errors);
            flag.map(Setting::Flag)
        } else {
            let mut number = given.then_some(Number {
                value: 0,
                span: Span::call_site(),
            });
            set(&mut number, meta, errors);
            number.map(Setting::Number)
        };
        if let Some(setting) = setting.filter(|_| !given) {
            self.config.push((key, setting));
        }
    }
}

/// "unknown key", with the closest known key when one is close (as darling's suggestions).
fn unknown_key(name: &str) -> String {
    let closest = keys()
        .map(|key| (strsim::jaro_winkler(name, key), key))
        .filter(|(similarity, _)| *similarity > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0));
    match closest {
        Some((_, key)) => format!("unknown key `{name}`: did you mean `{key}`?"),
        None => format!(
            "unknown key `{name}`: the keys are {}",
            keys().collect::<Vec<_>>().join(", ")
        ),
    }
}

/// A value of one key, read from the expression after `key =`. The key is passed so that
/// every message names it and says what it takes.
pub(crate) trait Value: Sized {
    /// `key = expr` → the value, or the error that says what `key` takes.
    fn parse(key: &str, expr: &Expr) -> Result<Self>;
}

/// Parses one key's value into its slot, refusing a second value for the same key and a key
/// written without `= value`.
fn set<T: Value>(slot: &mut Option<T>, meta: &Meta, errors: &mut Accumulator) {
    let key = path_text(meta.path());
    if slot.is_some() {
        errors.push(
            Error::custom(format!("`{key}` is given twice: keep one")).with_span(meta.path()),
        );
        return;
    }
    let value = match meta {
        Meta::NameValue(pair) => T::parse(&key, &pair.value),
        Meta::Path(path) => {
            Err(Error::custom(format!("`{key}` needs a value: `{key} = …`")).with_span(path))
        }
        Meta::List(list) => Err(Error::custom(format!(
            "`{key}` takes its value after `=`: `{key} = …`, not `{key}(…)`"
        ))
        .with_span(&list.delimiter.span().join())),
    };
    if let Some(value) = errors.handle(value) {
        *slot = Some(value);
    }
}

/// An integer literal. A string such as `"50"` is refused, unlike darling's own integers:
/// the attribute's numbers are numbers.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Number {
    pub(crate) value: u64,
    pub(crate) span: Span,
}

impl Value for Number {
    fn parse(key: &str, expr: &Expr) -> Result<Self> {
        // The limits say what the key allows; a key without one (none today) gets the widest.
        let (min, max) = limits::for_key(key).map_or((0, u64::MAX), |limit| (limit.min, limit.max));
        let out_of_range = |got: &str| format!("{key} must be between {min} and {max}, got {got}");
        match expr {
            Expr::Lit(ExprLit {
                lit: Lit::Int(int), ..
            }) => int
                .base10_parse::<u64>()
                .map(|value| Number {
                    value,
                    span: int.span(),
                })
                // A negative literal (`-1`) or one beyond `u64`.
                .map_err(|_| Error::custom(out_of_range(int.base10_digits())).with_span(int)),
            Expr::Unary(ExprUnary {
                op: UnOp::Neg(_),
                expr: inner,
                ..
            }) => Err(Error::custom(out_of_range(&format!(
                "-{}",
                quote::ToTokens::to_token_stream(inner)
            )))
            .with_span(expr)),
            Expr::Lit(ExprLit {
                lit: Lit::Str(text),
                ..
            }) if text.value().trim().parse::<u64>().is_ok() => Err(Error::custom(format!(
                "{key} takes an integer, not a string: write `{key} = {}`",
                text.value().trim()
            ))
            .with_span(text)),
            Expr::Lit(other) => Err(Error::custom(format!(
                "{key} takes an integer between {min} and {max}"
            ))
            .with_span(other)),
            // A constant, `env!(…)`, an expression: the attribute's values are the function's
            // compiled defaults, checked here; a value that comes from elsewhere is an override.
            other => Err(Error::custom(format!(
                "{key} takes an integer literal between {min} and {max}: the attribute's values \
                 are compiled defaults, checked at compile time; to set {key} from a constant, a \
                 file or the environment, write a literal here and override it at run time with \
                 `fusebox::Overrides` and `fusebox::registry::apply`"
            ))
            .with_span(other)),
        }
    }
}

/// A boolean literal: `fleet = true`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Flag {
    pub(crate) value: bool,
    /// Where the literal is written.
    pub(crate) span: Span,
}

impl Value for Flag {
    fn parse(key: &str, expr: &Expr) -> Result<Self> {
        match expr {
            Expr::Lit(ExprLit {
                lit: Lit::Bool(flag),
                ..
            }) => Ok(Flag {
                value: flag.value,
                span: flag.span(),
            }),
            Expr::Lit(ExprLit {
                lit: Lit::Str(text),
                ..
            }) if matches!(text.value().trim(), "true" | "false") => Err(Error::custom(format!(
                "{key} takes `true` or `false`, not a string: write `{key} = {}`",
                text.value().trim()
            ))
            .with_span(text)),
            other => Err(Error::custom(format!(
                "{key} takes `true` or `false`, like `{key} = true`"
            ))
            .with_span(other)),
        }
    }
}

/// A string literal: the breaker's name.
#[derive(Clone, Debug)]
pub(crate) struct Text(pub(crate) LitStr);

impl Value for Text {
    fn parse(key: &str, expr: &Expr) -> Result<Self> {
        match expr {
            Expr::Lit(ExprLit {
                lit: Lit::Str(text),
                ..
            }) => Ok(Text(text.clone())),
            // The likeliest slip: `name = recommendations`.
            Expr::Path(path) => Err(Error::custom(format!(
                "{key} takes a string: write it in quotes, `{key} = \"{}\"`",
                path_text(&path.path)
            ))
            .with_span(expr)),
            other => Err(Error::custom(format!(
                "{key} takes a string, like `{key} = \"recommendations\"`"
            ))
            .with_span(other)),
        }
    }
}

/// A path, written as it is (`fallback = default_recs`, which is also how rustc suggests a
/// fix for a misspelt one) or as a string (`fallback = "default_recs"`), as Hystrix's
/// `fallbackMethod` names its method.
#[derive(Clone, Debug)]
pub(crate) enum PathArg {
    Bare(syn::Path),
    Quoted(LitStr),
}

impl Value for PathArg {
    fn parse(key: &str, expr: &Expr) -> Result<Self> {
        match expr {
            Expr::Lit(ExprLit {
                lit: Lit::Str(text),
                ..
            }) => Ok(PathArg::Quoted(text.clone())),
            Expr::Path(path) if path.qself.is_none() && path.attrs.is_empty() => {
                Ok(PathArg::Bare(path.path.clone()))
            }
            other => {
                let example = match key {
                    "fallback" => "default_recs",
                    "failure_if" => "is_outage",
                    "retry_if" => "is_transient",
                    "key" => "user",
                    _ => "::fusebox",
                };
                Err(
                    Error::custom(format!("{key} takes a path, like `{key} = {example}`"))
                        .with_span(other),
                )
            }
        }
    }
}

fn path_text(path: &syn::Path) -> String {
    quote::ToTokens::to_token_stream(path)
        .to_string()
        .replace(' ', "")
}
