//! Validation: the parsed arguments and the function they sit on become a `Plan`, or every
//! reason they cannot, each spanned at the key, value or token at fault.

use breaker_runtime::{
    ConfigKey, PartialConfig,
    limits::{self, Limit},
};
use darling::{Error, Result, error::Accumulator};
use proc_macro2::Span;
use syn::{
    FnArg, Ident, LitStr, Pat, Path, ReceiverKind, ReturnType, Safety, Type, spanned::Spanned,
};

use crate::{
    attr::{Args, Number, PathArg, Setting, Text},
    function::Function,
};

/// Everything expansion needs, checked.
pub(crate) struct Plan {
    /// Where the facade is: as the package's `Cargo.toml` names it, unless `crate = …`.
    pub(crate) krate: Path,
    /// `name = "…"`, or `None` for `module_path!()::fn_name`.
    pub(crate) name: Option<LitStr>,
    /// The configured keys, as calls of `__private::Settings`: (key, value).
    pub(crate) settings: Vec<(ConfigKey, u64)>,
    /// `timeout_ms` (also in `settings`), which needs the `tokio` feature.
    pub(crate) timeout_ms: Option<Number>,
    /// `trace_calls = true` (also in `settings`), where written: it needs the `tracing`
    /// feature.
    pub(crate) trace_calls: Option<proc_macro2::Span>,
    /// The fallback, resolved against `Self` for methods, spanned at the string.
    pub(crate) fallback: Option<Path>,
    /// `failure_if`, spanned at the string.
    pub(crate) failure_if: Option<Path>,
    /// `retry = n` (also in `settings`), where its value is written: the body is attempted
    /// again after a failure, as the breaker's retry keys in force say.
    pub(crate) retry: Option<Span>,
    /// `retry_if`, spanned at the string.
    pub(crate) retry_if: Option<Path>,
    /// The function's inputs in order, with how each reaches the fallback and each attempt.
    pub(crate) inputs: Vec<Input>,
    /// `key = "arg"`: one breaker per distinct value of that argument.
    pub(crate) key: Option<Key>,
}

/// The argument `key = "…"` names, and how to look its value up.
pub(crate) struct Key {
    pub(crate) ident: Ident,
    /// The type the key is looked up as: the argument's type, or what it refers to (`str` for
    /// `&str`). The family's keys are its `ToOwned::Owned` (`String`).
    pub(crate) lookup: Type,
    /// Whether the argument is a reference, passed on as it is rather than borrowed.
    pub(crate) reference: bool,
    /// `max_keys`, checked.
    pub(crate) max_keys: u64,
    /// `max_key_len`, checked.
    pub(crate) max_key_len: u64,
    /// Where errors about the key's type point (the argument's type).
    pub(crate) span: Span,
}

/// One input of the function, as the fallback receives it.
pub(crate) struct Input {
    /// `self` or the argument's name; for an argument written as a pattern (`Path(user):
    /// Path<u64>`), a name of the generated code's, which the body's first statement
    /// destructures with the pattern.
    pub(crate) ident: Ident,
    /// The pattern the argument was written as, when it is not a plain name.
    pub(crate) pattern: Option<Pat>,
    /// How the fallback gets it.
    pub(crate) pass: Pass,
    /// A `&mut` argument (not `&mut self`): each attempt reborrows it.
    pub(crate) mutable: bool,
    /// Bound with `mut` (`mut buf: Vec<u8>`): each attempt's copy is, and the signature's
    /// argument no longer needs to be.
    pub(crate) binding_mut: bool,
    /// Where errors about it point (its type).
    pub(crate) span: Span,
}

/// How an input reaches the fallback.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Pass {
    /// A reference (`&T`, `&mut T`, `&self`, `&mut self`): handed on after the call has
    /// returned it, at no cost.
    Reborrow,
    /// Anything else: cloned before the call (a copy for `Copy` types), since the body may
    /// consume it.
    Clone,
}

/// The configuration's keys that are in range, as settings (`timeout_ms` aside, which
/// `validate` checks against the function); an error for each that is not, and for each rule
/// between keys that the values in range break, at the value to blame.
fn settings(args: &Args, errors: &mut Accumulator) -> Vec<(ConfigKey, u64)> {
    let mut settings = Vec::new();
    let mut out_of_range = Vec::new();
    for &(key, setting) in &args.config {
        let value = match setting {
            Setting::Flag(flag) => u64::from(flag.value),
            Setting::Number(number) => match key.limit().check(number.value) {
                Ok(value) => value,
                Err(error) => {
                    errors.push(Error::custom(error).with_span(&number.span));
                    out_of_range.push(key);
                    continue;
                }
            },
        };
        if key != ConfigKey::TimeoutMs {
            settings.push((key, value));
        }
    }
    let partial = settings
        .iter()
        .fold(PartialConfig::new(), |partial, &(key, value)| {
            partial.with(key, value)
        });
    for (blamed, involved, error) in limits::broken_rules(&partial) {
        // A value out of range has its error already: one error per mistake.
        if involved.iter().any(|key| out_of_range.contains(key)) {
            continue;
        }
        let span = match args.setting(blamed) {
            Some(Setting::Number(number)) => number.span,
            _ => Span::call_site(),
        };
        errors.push(Error::custom(error).with_span(&span));
    }
    settings
}

/// Checks `args` against the limits the runtime enforces and `func` against the shapes the
/// attribute supports, adding every problem to the errors parsing found.
pub(crate) fn validate(args: &Args, func: &Function, mut errors: Accumulator) -> Result<Plan> {
    let mut settings = settings(args, &mut errors);
    let timeout_ms = match args.setting(ConfigKey::TimeoutMs) {
        Some(Setting::Number(number)) => Some(number),
        _ => None,
    };
    let timeout_ms = timeout_ms.and_then(|number| {
        // Out of range: reported with the other keys.
        limits::TIMEOUT_MS.check(number.value).ok()?;
        if func.sig.asyncness.is_none() {
            errors.push(
                Error::custom("timeout_ms needs an `async fn`: a sync call cannot be abandoned")
                    .with_span(&number.span),
            );
            return None;
        }
        settings.push((ConfigKey::TimeoutMs, number.value));
        Some(number)
    });

    let name = args.name.as_ref().and_then(|Text(name)| {
        let value = name.value();
        let problem = if value.is_empty() {
            Some("name must not be empty")
        } else if value.chars().any(|c| c.is_whitespace() || c.is_control()) {
            Some("name must not contain whitespace or control characters")
        } else {
            None
        };
        match problem {
            Some(problem) => {
                errors.push(Error::custom(problem).with_span(name));
                None
            }
            None => Some(name.clone()),
        }
    });

    let krate = match &args.krate {
        Some(krate) => errors.handle(parse_path(
            krate,
            "crate must be a path to the `fusebox` crate, like \"::fusebox\"",
        )),
        None => errors.handle(crate::facade::path().map_err(Error::custom)),
    };

    let has_receiver = func.sig.receiver().is_some();
    let fallback = args.fallback.as_ref().and_then(|fallback| {
        let path = errors.handle(parse_path(
            fallback,
            "fallback must name a function, like \"default_recs\" or \"Self::cached\"",
        ))?;
        // As Hystrix's `fallbackMethod`: on a method, a bare name is a method of the same type.
        Some(
            if has_receiver && path.leading_colon.is_none() && path.segments.len() == 1 {
                let ident = &path.segments[0].ident;
                syn::parse_quote_spanned!(ident.span()=> Self::#ident)
            } else {
                path
            },
        )
    });
    let failure_if = args.failure_if.as_ref().and_then(|failure_if| {
        errors.handle(parse_path(
            failure_if,
            "failure_if must name a function `fn(&E) -> bool`, like \"is_outage\"",
        ))
    });
    let (retry, retry_if) = retry(args, func, &mut errors);

    check_shape(func, &mut errors);
    // Only a fallback and retries need the inputs by name; without them, any pattern is fine.
    let inputs = if args.fallback.is_some() || retry.is_some() {
        inputs(func)
    } else {
        Vec::new()
    };

    let key = key(args, func, &mut errors);

    let trace_calls = match args.setting(ConfigKey::TraceCalls) {
        Some(Setting::Flag(flag)) if flag.value => Some(flag.span),
        _ => None,
    };

    errors.finish_with(())?;
    Ok(Plan {
        // `Some` when no error was pushed.
        krate: krate.unwrap_or_else(|| syn::parse_quote!(::fusebox)),
        name,
        settings,
        timeout_ms,
        trace_calls,
        fallback,
        failure_if,
        retry,
        retry_if,
        inputs,
        key,
    })
}

/// `retry = n` and `retry_if`: where `retry` is written, if it is in range, and `retry_if`'s
/// path; an error for `retry_if` without `retry`, and for `retry` on a method that takes
/// `self` by value (each attempt needs it again).
fn retry(args: &Args, func: &Function, errors: &mut Accumulator) -> (Option<Span>, Option<Path>) {
    let retry = match args.setting(ConfigKey::Retry) {
        // Out of range: reported with the other keys.
        Some(Setting::Number(number)) if limits::RETRY.check(number.value).is_ok() => {
            Some(number.span)
        }
        _ => None,
    };
    if retry.is_some()
        && let Some(FnArg::Receiver(receiver)) = func.sig.inputs.first()
        && !matches!(receiver.kind, ReceiverKind::Reference(..))
    {
        errors.push(
            Error::custom(
                "retry makes each attempt with the method's receiver again, so it cannot take \
                 `self` by value: take `&self`",
            )
            .with_span(&receiver.self_token),
        );
    }
    let retry_if = args.retry_if.as_ref().and_then(|retry_if| {
        let path = errors.handle(parse_path(
            retry_if,
            "retry_if must name a function `fn(&E) -> bool`, like \"is_transient\"",
        ))?;
        if args.setting(ConfigKey::Retry).is_none() {
            errors.push(
                Error::custom(
                    "retry_if picks the errors `retry` makes another attempt after: give `retry` \
                     too, like `retry = 3`",
                )
                .with_span(&path),
            );
        }
        Some(path)
    });
    (retry, retry_if)
}

/// `key = "arg"`, `max_keys` and `max_key_len`: the argument, found in the signature.
fn key(args: &Args, func: &Function, errors: &mut Accumulator) -> Option<Key> {
    let max_keys = family_bound(
        args,
        args.max_keys,
        limits::MAX_KEYS,
        "max_keys bounds the breakers of `key = …`: give the key too, like `key = \"user\"`",
        errors,
    );
    let max_key_len = family_bound(
        args,
        args.max_key_len,
        limits::MAX_KEY_LEN,
        "max_key_len bounds the length of the values of `key = …`: give the key too, like \
         `key = \"user\"`",
        errors,
    );
    let arg = args.key.as_ref()?;
    let named = errors.handle(parse_path(arg, "key must name an argument, like \"user\""))?;
    let span = match arg {
        PathArg::Bare(path) => path.span(),
        PathArg::Quoted(text) => text.span(),
    };
    let Some(wanted) = named.get_ident() else {
        errors.push(Error::custom("key must name an argument, like \"user\"").with_span(&span));
        return None;
    };
    let mut arguments = Vec::new();
    for input in &func.sig.inputs {
        match input {
            FnArg::Receiver(_) if wanted == "self" => {
                errors.push(
                    Error::custom(
                        "key cannot be `self`: name an argument whose value picks the breaker",
                    )
                    .with_span(&span),
                );
                return None;
            }
            FnArg::Receiver(_) => {}
            FnArg::Typed(typed) => {
                let Pat::Ident(pat) = &*typed.pat else {
                    continue;
                };
                if pat.ident != *wanted {
                    arguments.push(format!("`{}`", pat.ident));
                    continue;
                }
                let (lookup, reference) = match &*typed.ty {
                    Type::Reference(reference) => ((*reference.elem).clone(), true),
                    other => (other.clone(), false),
                };
                return Some(Key {
                    ident: pat.ident.clone(),
                    reference,
                    max_keys: max_keys.unwrap_or(default_of(limits::MAX_KEYS)),
                    max_key_len: max_key_len.unwrap_or(default_of(limits::MAX_KEY_LEN)),
                    span: lookup.span(),
                    lookup,
                });
            }
        }
    }
    let known = if arguments.is_empty() {
        "it has no argument bound to a name".to_owned()
    } else {
        format!("its arguments are {}", arguments.join(", "))
    };
    errors.push(
        Error::custom(format!(
            "key must name an argument of `{}`: there is no `{wanted}` ({known})",
            func.sig.ident
        ))
        .with_span(&span),
    );
    None
}

/// A bound of the family `key = …` makes (`max_keys`, `max_key_len`), checked against its
/// limit; an error if it is out of range, or given without the key, which it would not bound.
fn family_bound(
    args: &Args,
    number: Option<Number>,
    limit: Limit,
    without_key: &str,
    errors: &mut Accumulator,
) -> Option<u64> {
    let number = number?;
    if args.key.is_none() {
        errors.push(Error::custom(without_key).with_span(&number.span));
    }
    match limit.check(number.value) {
        Ok(value) => Some(value),
        Err(error) => {
            errors.push(Error::custom(error).with_span(&number.span));
            None
        }
    }
}

/// The value a key has when the attribute does not give it.
fn default_of(limit: Limit) -> u64 {
    limit.default.unwrap_or(limit.min)
}

/// A path as written, or parsed from its string with the string's span.
fn parse_path(arg: &PathArg, problem: &str) -> Result<Path> {
    match arg {
        PathArg::Bare(path) => Ok(path.clone()),
        PathArg::Quoted(text) => text
            .parse::<Path>()
            .map_err(|_| Error::custom(problem).with_span(text)),
    }
}

/// The function shapes a breaker cannot wrap.
fn check_shape(func: &Function, errors: &mut Accumulator) {
    let sig = &func.sig;
    if let Some(constness) = &sig.constness {
        errors.push(
            Error::custom(
                "#[circuit_breaker] cannot go on a `const fn`: a breaker keeps state at run time",
            )
            .with_span(constness),
        );
    }
    if let Some(abi) = &sig.abi {
        errors.push(
            Error::custom(
                "#[circuit_breaker] cannot go on an `extern` fn: annotate a Rust fn and call it from the `extern` one",
            )
            .with_span(abi),
        );
    }
    if let Safety::Unsafe(token) = &sig.safety {
        errors.push(
            Error::custom(
                "#[circuit_breaker] cannot go on an `unsafe fn`: put the unsafe call in a safe fn and annotate that",
            )
            .with_span(token),
        );
    }
    if let Some(variadic) = &sig.variadic {
        errors.push(
            Error::custom("#[circuit_breaker] cannot go on a variadic fn").with_span(variadic),
        );
    }
    match &sig.output {
        ReturnType::Default => errors.push(
            Error::custom("#[circuit_breaker] needs a function that returns `Result<T, E>`")
                .with_span(&sig.ident),
        ),
        ReturnType::Type(_, ty) if !names_a_result(ty) => errors.push(
            Error::custom(
                "#[circuit_breaker] needs a function that returns `Result<T, E>` (or an alias whose name ends in `Result`)",
            )
            .with_span(ty),
        ),
        ReturnType::Type(..) => {}
    }
}

/// Whether the return type is written as `Result<…>` or an alias named like one
/// (`io::Result<T>`, `anyhow::Result<T>`): the attribute sees tokens, not types.
fn names_a_result(ty: &Type) -> bool {
    match ty {
        Type::Path(path) => path
            .path
            .segments
            .last()
            .is_some_and(|segment| segment.ident.to_string().ends_with("Result")),
        Type::Group(group) => names_a_result(&group.elem),
        Type::Paren(paren) => names_a_result(&paren.elem),
        _ => false,
    }
}

/// The inputs, each bound to a name the fallback can be given.
fn inputs(func: &Function) -> Vec<Input> {
    let mut inputs = Vec::new();
    for input in &func.sig.inputs {
        match input {
            FnArg::Receiver(receiver) => inputs.push(Input {
                ident: Ident::new("self", receiver.self_token.span),
                pattern: None,
                mutable: false,
                binding_mut: false,
                pass: if matches!(receiver.kind, ReceiverKind::Reference(..)) {
                    Pass::Reborrow
                } else {
                    Pass::Clone
                },
                span: receiver.span(),
            }),
            FnArg::Typed(typed) => {
                let pass = if matches!(&*typed.ty, Type::Reference(_)) {
                    Pass::Reborrow
                } else {
                    Pass::Clone
                };
                let span = typed.ty.span();
                let mutable = matches!(
                    &*typed.ty,
                    Type::Reference(reference) if reference.mutability.is_some()
                );
                match &*typed.pat {
                    Pat::Ident(pat) if pat.by_ref.is_none() && pat.subpat.is_none() => {
                        inputs.push(Input {
                            ident: pat.ident.clone(),
                            pattern: None,
                            pass,
                            mutable,
                            binding_mut: pat.mutability.is_some(),
                            span,
                        });
                    }
                    // `Path(user): Path<u64>`, `(a, b): (u64, u64)`: the fallback gets the
                    // whole argument, under a name of the generated code's.
                    pattern => inputs.push(Input {
                        ident: Ident::new(
                            &format!("__breaker_input_{}", inputs.len()),
                            Span::mixed_site(),
                        ),
                        pattern: Some(pattern.clone()),
                        pass,
                        mutable,
                        binding_mut: false,
                        span,
                    }),
                }
            }
        }
    }
    inputs
}
