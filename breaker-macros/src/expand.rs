//! Expansion: the function, rewritten to run its body through a breaker that lives in a
//! `static` inside it. Everything generic lives once in the facade's `__private` module; what
//! is emitted here is only what belongs to this function.
//!
//! ```text
//! #[attrs] vis fn name(args) -> Result<T, E> {
//!     #[distributed_slice(DECLARATIONS)]                   // gathered by the linker
//!     static __BREAKER_DECLARED: Declaration =
//!         Settings::new().set("key", value)….declare(file!(), line!(), "path::name");
//!     static __BREAKER: StaticBreaker = StaticBreaker::new(&__BREAKER_DECLARED);
//!     // with `key = "k"`, instead: one breaker per value of `k`, found before the body runs
//!     static __BREAKER: StaticKeyed<<K as ToOwned>::Owned> =
//!         StaticKeyed::new(&…, MAX_KEYS, MAX_KEY_LEN);
//!     let __breaker_lease = __BREAKER.get().lease();        // sync; async: .get().breaker(&k)
//!     let __breaker_keyed = __breaker_lease.breaker(&k);
//!     let __breaker_failure_if: fn(&_) -> bool = failure_if;               // with failure_if
//!     let __breaker_fallback = Fallback { expected: expect(&f, (ty(&arg),…)), fallback: f };
//!     let __breaker_arg_x = copy_input(&__breaker_fallback, &x);  // a clone, or () if it takes none
//!     let __breaker_result = __BREAKER.get().call(|| -> Result<T, E> { body }); // or __breaker_keyed
//!     // async: .call_async(typed::<Result<T, E>, _>(async { body })).await
//!     or_fallback(&breaker, __breaker_result, passed, __breaker_fallback, (args…,))  // or_rejection(…)
//! }
//! ```
//!
//! The body stays inside a closure (sync) or an `async` block (async) so `return` and `?` keep
//! their meaning; every path is absolute and every local is `Span::mixed_site()`, so it can
//! neither see nor hide the user's names.
//!
//! Whatever the user named or wrote is checked where they wrote it: the fallback and
//! `failure_if` at their paths, the `From<BreakerError>` conversion at the error type, each
//! clone for the fallback at its argument's type.

use proc_macro2::{Delimiter, Group, Ident, Span, TokenStream, TokenTree};
use quote::{ToTokens, format_ident, quote};
use syn::{
    FnArg, GenericArgument, Pat, PatIdent, PathArguments, ReturnType, Signature, Type,
    spanned::Spanned,
};

use crate::{
    function::Function,
    valid::{Pass, Plan},
};

pub(crate) fn expand(plan: &Plan, func: &Function) -> TokenStream {
    let Function {
        attrs,
        vis,
        sig,
        body: block,
    } = func;
    let krate = &plan.krate;
    let private = quote!(#krate::__private);
    let ret = match &sig.output {
        ReturnType::Type(_, ty) => ty.to_token_stream(),
        ReturnType::Default => quote!(()),
    };
    let result = local("result");
    let breaker = static_breaker(plan, sig, &private);
    let mut statements = quote! {
        #breaker
    };
    let (lookup, through) = breaker_of_call(plan, sig);
    statements.extend(lookup);
    // With a fallback, `failure_if` also says whether the error goes back without the
    // fallback (`passed`).
    let passed = local("passed");
    let tracks_passed = plan.failure_if.is_some() && plan.fallback.is_some();
    let predicate = plan.failure_if.as_ref().map(|path| {
        // A `fn(&_) -> bool` binding at the path, so that a function of another shape is
        // reported there ("expected fn pointer, found fn item"), then a closure calling it at
        // the path, so that its error type is checked against the function's there ("expected
        // `&E`, found `&Other`").
        let (binding, error) = (local("failure_if"), local("error"));
        let ty = located(quote!(fn(&_) -> bool), path.span());
        statements.extend(quote!(let #binding: #ty = #path;));
        let check = located(quote!(#binding(#error)), path.span());
        if tracks_passed {
            statements.extend(quote!(let mut #passed = false;));
            quote!(|#error| #private::track(#check, &mut #passed))
        } else {
            quote!(|#error| #check)
        }
    });
    let mut fallback = None;
    if let Some(path) = &plan.fallback {
        let (check, copies, forwarded) = fallback_inputs(plan, sig, &ret, path, &private);
        statements.extend(check);
        statements.extend(copies);
        fallback = Some((path, forwarded));
    }

    let block = destructuring_first(plan, block);
    let operation = if sig.asyncness.is_some() {
        // The body's future, its output the function's return type, so that its `?` and
        // `return` convert as the function's own would.
        quote!(#private::typed::<#ret, _>(async #block))
    } else {
        quote!(|| -> #ret #block)
    };
    let call = match (sig.asyncness.is_some(), predicate) {
        (false, None) => quote!(call(#operation)),
        (false, Some(predicate)) => quote!(call_with(#operation, #predicate)),
        (true, None) => quote!(call_async(#operation).await),
        (true, Some(predicate)) => quote!(call_async_with(#operation, #predicate).await),
    };
    match plan.retry {
        None => statements.extend(quote!(let #result = #through.#call;)),
        Some(_) => statements.extend(attempts(plan, sig, &ret, &private, &through, &call)),
    }

    statements.extend(match fallback {
        None => {
            // The conversion at the error type, where "cannot hold a `BreakerError`" belongs.
            located(
                quote!(#private::HoldsBreakerError::or_rejection(#result)),
                error_type_span(sig),
            )
        }
        Some((path, forwarded)) => {
            let passed = if tracks_passed {
                quote!(#passed)
            } else {
                quote!(false)
            };
            let fallback = local("fallback");
            let arguments = quote!((&#through, #result, #passed, #fallback, (#(#forwarded,)*)));
            let answer = if sig.asyncness.is_some() {
                quote!(#private::settle(#private::or_fallback_async #arguments).await)
            } else {
                quote!(#private::or_fallback #arguments)
            };
            located(answer, path.span())
        }
    });

    // The body's braces keep the user's span: the item then reads as the user's own code, so
    // their `dead_code` lint still reports a function nobody calls.
    let mut body = Group::new(Delimiter::Brace, statements);
    body.set_span(func.body.span());
    let sig = with_named_inputs(plan, sig);
    quote! {
        #(#attrs)*
        #vis #sig #body
    }
}

/// With `retry`: the call in a loop, one attempt per turn, each with its own copies of the
/// arguments the body may consume, until the breaker's `Attempts` say there is no next one.
fn attempts(
    plan: &Plan,
    sig: &Signature,
    ret: &TokenStream,
    private: &TokenStream,
    through: &TokenStream,
    call: &TokenStream,
) -> TokenStream {
    let (attempts, attempt, wait, error, result) = (
        local("attempts"),
        local("attempt"),
        local("wait"),
        local("error"),
        local("result"),
    );
    let mut start = quote!(#private::attempts::<#ret>(&#through));
    let mut statements = TokenStream::new();
    if let Some(path) = &plan.retry_if {
        // As `failure_if`: a `fn(&_) -> bool` at the path, its error type checked there.
        let binding = local("retry_if");
        let ty = located(quote!(fn(&_) -> bool), path.span());
        statements.extend(quote!(let #binding: #ty = #path;));
        start = located(quote!(#start.retry_if(#binding)), path.span());
    }
    // The errors the breaker counted as failures: only those are retried.
    let is_failure = if plan.failure_if.is_some() {
        let failure_if = local("failure_if");
        quote!(|#error| #failure_if(#error))
    } else {
        quote!(|_| true)
    };
    let mut copies = TokenStream::new();
    for input in &plan.inputs {
        let ident = &input.ident;
        let binding = if input.binding_mut {
            quote!(mut #ident)
        } else {
            quote!(#ident)
        };
        match input.pass {
            // `self` by value is refused with `retry`.
            Pass::Clone if ident == "self" => {}
            Pass::Clone => {
                // The argument moves into a holder, which each attempt copies: the function
                // consumes what it takes by value, as it did without `retry` (and clippy's
                // `needless_pass_by_value` has nothing to say about the user's signature).
                let held = Ident::new(&format!("__breaker_held_{ident}"), Span::mixed_site());
                statements.extend(quote!(let #held = #ident;));
                let copy = located(quote!(#private::attempt_copy(&#held)), input.span);
                copies.extend(quote!(let #binding = #copy;));
            }
            Pass::Reborrow if input.mutable => copies.extend(quote!(let #ident = &mut *#ident;)),
            Pass::Reborrow => {}
        }
    }
    let pause = if sig.asyncness.is_some() {
        quote!(#private::pause_async(#wait).await)
    } else {
        quote!(#private::pause(#wait))
    };
    statements.extend(quote! {
        let mut #attempts = #start;
        let #result = loop {
            #copies
            let #attempt = #through.#call;
            match #attempts.after(&#attempt, #is_failure) {
                ::core::option::Option::Some(#wait) => #pause,
                ::core::option::Option::None => break #attempt,
            }
        };
    });
    statements
}

/// The body, after statements destructuring the arguments written as patterns (which the
/// signature names, see [`with_named_inputs`]).
fn destructuring_first(plan: &Plan, block: &Group) -> TokenStream {
    let destructure: TokenStream = plan
        .inputs
        .iter()
        .filter_map(|input| {
            let (pattern, ident) = (input.pattern.as_ref()?, &input.ident);
            Some(quote!(let #pattern = #ident;))
        })
        .collect();
    if destructure.is_empty() {
        return block.to_token_stream();
    }
    // The statements join the user's block rather than wrap it: a block around it would leave
    // the user's braces, spans and all, reported as unnecessary (`unused_braces`) around a
    // one-line body.
    let mut statements = destructure;
    statements.extend(block.stream());
    let mut joined = Group::new(Delimiter::Brace, statements);
    joined.set_span(block.span());
    joined.to_token_stream()
}

/// The signature, with each argument written as a pattern given the name the plan bound it to
/// (the body destructures it).
fn with_named_inputs(plan: &Plan, sig: &Signature) -> Signature {
    let mut sig = sig.clone();
    for (input, planned) in sig.inputs.iter_mut().zip(&plan.inputs) {
        // With `retry`, each attempt binds its own copy `mut`; the argument itself is not
        // changed, and `unused_mut` would say so at the user's `mut`.
        if plan.retry.is_some()
            && planned.binding_mut
            && let FnArg::Typed(typed) = &mut *input
            && let Pat::Ident(pat) = &mut *typed.pat
        {
            pat.mutability = None;
        }
        if let (FnArg::Typed(typed), Some(_)) = (input, &planned.pattern) {
            *typed.pat = Pat::Ident(PatIdent {
                attrs: Vec::new(),
                by_ref: None,
                mutability: None,
                ident: planned.ident.clone(),
                subpat: None,
            });
        }
    }
    sig
}

/// A local of the generated code: `Span::mixed_site()`, so that the user's body can neither
/// see it nor hide it.
fn local(name: &str) -> Ident {
    Ident::new(&format!("__breaker_{name}"), Span::mixed_site())
}

/// The `static`s holding the function's breaker and its declaration: its name, its
/// configuration and where the function is, in the runtime's distributed slice.
fn static_breaker(plan: &Plan, sig: &Signature, private: &TokenStream) -> TokenStream {
    let ident = format!("::{}", sig.ident);
    let function = quote!(::core::concat!(::core::module_path!(), #ident));
    let mut settings: TokenStream = plan
        .settings
        .iter()
        .map(|(key, value)| {
            let key = key.name();
            quote!(.set(#key, #value))
        })
        .collect();
    if let Some(name) = &plan.name {
        settings.extend(quote!(.named(#name)));
    }
    if plan.key.is_some() {
        settings.extend(quote!(.keyed()));
    }
    let mut require_tokio = TokenStream::new();
    if let Some(timeout) = plan.timeout_ms {
        // Spanned at the value, so the missing-feature error underlines `timeout_ms = …`.
        require_tokio = located(quote!(#private::require_tokio!();), timeout.span);
    }
    if let (Some(span), Some(_)) = (plan.retry, sig.asyncness) {
        // An async function's attempts wait on Tokio's timer.
        require_tokio.extend(located(quote!(#private::require_tokio_for_retry!();), span));
    }
    if let Some(span) = plan.trace_calls {
        require_tokio.extend(located(quote!(#private::require_tracing!();), span));
    }
    // `file!()` and `line!()` in generated code give where the attribute is written.
    let declared = quote! {
        #[#private::linkme::distributed_slice(#private::DECLARATIONS)]
        #[linkme(crate = #private::linkme)]
        static __BREAKER_DECLARED: #private::Declaration = #private::Settings::new() #settings
            .declare(::core::file!(), ::core::line!(), #function);
    };
    let Some(key) = &plan.key else {
        return quote! {
            #require_tokio
            #declared
            static __BREAKER: #private::StaticBreaker =
                #private::StaticBreaker::new(&__BREAKER_DECLARED);
        };
    };
    // The family's key type, spanned at the argument's type, so that a type that cannot be a
    // key (not `Hash`, `Eq`, `Display`, or not cloneable into an owned key) is reported there.
    let lookup = &key.lookup;
    let family = located(
        quote!(#private::StaticKeyed<<#lookup as ::std::borrow::ToOwned>::Owned>),
        key.span,
    );
    let (max_keys, max_key_len) = (key.max_keys, key.max_key_len);
    quote! {
        #require_tokio
        #declared
        static __BREAKER: #family =
            #private::StaticKeyed::new(&__BREAKER_DECLARED, #max_keys, #max_key_len);
    }
}

/// What the call goes through: the function's breaker, or with `key = "k"` the breaker of this
/// call's key, found by statements of their own before the body's closure or `async` block can
/// move the argument: what they hold borrows the family, not `k`. A sync function holds a lease
/// on the family (its map's read guard) for the call, as `Keyed::call` does; an async one holds
/// the breaker's `Arc`, since the guard belongs to one thread and a future may move.
fn breaker_of_call(plan: &Plan, sig: &Signature) -> (TokenStream, TokenStream) {
    let Some(key) = &plan.key else {
        return (TokenStream::new(), quote!(__BREAKER.get()));
    };
    let (breaker, lease, ident) = (local("keyed"), local("lease"), &key.ident);
    let lookup = if key.reference {
        quote!(&*#ident)
    } else {
        quote!(&#ident)
    };
    // At the argument's type: the first use of the family is where a type that cannot be a
    // key is reported.
    let statements = if sig.asyncness.is_some() {
        let find = located(quote!(__BREAKER.get().breaker(#lookup)), key.span);
        quote!(let #breaker = #find;)
    } else {
        let take = located(quote!(__BREAKER.get().lease()), key.span);
        let find = located(quote!(#lease.breaker(#lookup)), key.span);
        quote! {
            let #lease = #take;
            let #breaker = #find;
        }
    };
    (statements, quote!(#breaker))
}

/// With a fallback: the statement that checks its signature, the statements copying the
/// inputs the body may consume (taken before the call), and the expressions that hand each
/// input to the fallback after it.
fn fallback_inputs(
    plan: &Plan,
    sig: &Signature,
    ret: &TokenStream,
    path: &syn::Path,
    private: &TokenStream,
) -> (TokenStream, TokenStream, Vec<TokenStream>) {
    // One value for every use, so that a generic fallback's parameters are inferred once.
    let fallback = local("fallback");
    let mut copies = TokenStream::new();
    let mut forwarded = Vec::new();
    let mut types = Vec::new();
    for input in &plan.inputs {
        let ident = &input.ident;
        types.push(quote!(&#ident));
        match input.pass {
            Pass::Reborrow => forwarded.push(quote!(#ident)),
            Pass::Clone => {
                let copy = Ident::new(&format!("__breaker_arg_{ident}"), Span::mixed_site());
                // What the fallback's signature asks for (a clone, or nothing for a fallback
                // without parameters), the whole call at the argument, so that a type that is
                // not `Clone` is reported there and nowhere else.
                let clone = located(
                    quote!(#private::copy_input(&#fallback, &#ident)),
                    input.span,
                );
                copies.extend(quote!(let #copy = #clone;));
                forwarded.push(quote!(#copy));
            }
        }
    }
    // The fallback coerces to the one function pointer type it may have, or the compiler
    // shows that type and the fallback's, side by side, at the fallback's path.
    let expect = if sig.asyncness.is_some() {
        format_ident!("expect_async")
    } else {
        format_ident!("expect")
    };
    let expect = located(
        quote!(#private::#expect::<#ret, _, _, _>(&#fallback, (#(#types,)*))),
        path.span(),
    );
    let value = located(quote!(#fallback), path.span());
    let check = quote! {
        let #fallback = #path;
        let #fallback = #private::Fallback { expected: #expect, fallback: #value };
    };
    (check, copies, forwarded)
}

/// Where the function's error type is written: `E` in `Result<T, E>`, otherwise (an alias
/// such as `io::Result<T>`) the whole return type.
fn error_type_span(sig: &Signature) -> Span {
    let ReturnType::Type(_, ty) = &sig.output else {
        return sig.ident.span();
    };
    if let Type::Path(path) = &**ty
        && let Some(segment) = path.path.segments.last()
        && let PathArguments::AngleBracketed(args) = &segment.arguments
        && args.args.len() == 2
        && let Some(GenericArgument::Type(error)) = args.args.last()
    {
        return error.span();
    }
    ty.span()
}

/// `tokens`, every one of them shown at `span` (where the user wrote what they are about) but
/// resolved as it was: rustc reports errors there, yet treats the tokens as the macro's own
/// and offers no fix-its that would edit the user's string as if it were code.
fn located(tokens: TokenStream, span: Span) -> TokenStream {
    tokens
        .into_iter()
        .map(|mut token| {
            if let TokenTree::Group(group) = &token {
                let mut inner = Group::new(group.delimiter(), located(group.stream(), span));
                inner.set_span(group.span().located_at(span));
                token = TokenTree::Group(inner);
            }
            token.set_span(token.span().located_at(span));
            token
        })
        .collect()
}
