//! Expansion: the function, rewritten to run its body through a breaker that lives in a
//! `static` inside it.
//!
//! ```text
//! #[attrs] vis fn name(args) -> Result<T, E> {
//!     static __BREAKER: StaticBreaker = StaticBreaker::new(NAME, CONFIG);
//!     fn __breaker_fallback(inputs, failure, fallback) { … }      // with a fallback only
//!     let __breaker_failure_if: fn(&_) -> bool = failure_if;     // with failure_if only
//!     let __breaker_arg_x = FallbackArg::fallback_copy(&x);      // with a fallback only
//!     let mut __breaker_counted = true;                           // with failure_if and a fallback
//!     let __breaker_result = __BREAKER.get().call_with(|| -> Result<T, E> { body }, predicate);
//!     match __breaker_result {
//!         Ok(v) => Ok(v),
//!         Err(failure) => __breaker_fallback((args…,), failure, fallback),  // with a fallback
//!         Err(Failure::Error(e)) => Err(e),                                 // without one
//!         Err(Failure::Breaker(b)) => Err(HoldsBreakerError::from_breaker_error(b)),
//!     }
//! }
//! ```
//!
//! The body stays inside a closure (sync) or an `async` block (async) so `return` and `?` keep
//! their meaning; every path is absolute and every local starts with `__breaker_`.
//!
//! Whatever the user named or wrote is checked where they wrote it: the fallback and
//! `failure_if` calls are spanned at their strings, the `From<BreakerError>` conversion at the
//! error type, each clone for the fallback at its argument's type. Each check is shaped so that
//! it fails once, with the message of the `__private` trait it names.

use proc_macro2::{Delimiter, Group, Span, TokenStream, TokenTree};
use quote::{ToTokens, format_ident, quote, quote_spanned};
use syn::{GenericArgument, ItemFn, PathArguments, ReturnType, Signature, Type, spanned::Spanned};

use crate::valid::{Pass, Plan};

pub(crate) fn expand(plan: &Plan, func: &ItemFn) -> TokenStream {
    let ItemFn {
        attrs,
        vis,
        sig,
        block,
        ..
    } = func;
    let private = {
        let krate = &plan.krate;
        quote!(#krate::__private)
    };
    let ret = match &sig.output {
        ReturnType::Type(_, ty) => ty.to_token_stream(),
        ReturnType::Default => quote!(()),
    };
    let breaker = static_breaker(plan, sig, &private);
    let (copies, forwarded) = fallback_inputs(plan, &private);
    let helpers = fallback_helper(plan, sig, &private);

    // `failure_if`, bound first as a `fn(&_) -> bool` at the string the user wrote, so that a
    // function of another shape is reported there ("expected fn pointer, found fn item").
    let failure_if = plan.failure_if.as_ref().map(|failure_if| {
        let span = at_user_token(failure_if.span());
        // The path keeps the string's own span, as the fallback's does.
        let binding = respan(quote!(let __breaker_failure_if: fn(&_) -> bool =), span);
        let binding = quote!(#binding #failure_if;);
        let call = respan(quote!(__breaker_failure_if(__breaker_error)), span);
        (binding, call)
    });
    // Whether an `Err` counted as a failure, which decides whether the fallback runs.
    let (binding, counted, predicate) = match (failure_if, &plan.fallback) {
        (None, _) => (TokenStream::new(), TokenStream::new(), quote!(|_| true)),
        (Some((binding, call)), None) => {
            (binding, TokenStream::new(), quote!(|__breaker_error| #call))
        }
        (Some((binding, call)), Some(_)) => (
            binding,
            quote!(let mut __breaker_counted = true;),
            quote!(|__breaker_error| {
                __breaker_counted = #call;
                __breaker_counted
            }),
        ),
    };

    let call = if sig.asyncness.is_some() {
        quote! {
            #[allow(unreachable_code, clippy::let_and_return)]
            let __breaker_operation = async {
                let __breaker_return: #ret = #block;
                __breaker_return
            };
            let __breaker_result = __BREAKER.get().call_async_with(__breaker_operation, #predicate).await;
        }
    } else {
        quote! {
            let __breaker_result = __BREAKER.get().call_with(|| -> #ret #block, #predicate);
        }
    };
    let answer = answer(plan, sig, &ret, &private, &forwarded);

    // The body's braces keep the user's span: the item then reads as the user's own code, so
    // their `dead_code` lint still reports a function nobody calls.
    let mut body = Group::new(
        Delimiter::Brace,
        quote! {
            #breaker
            #helpers
            #binding
            #copies
            #counted
            #call
            #answer
        },
    );
    body.set_span(block.brace_token.span.join());
    quote! {
        #(#attrs)*
        #vis #sig #body
    }
}

/// The `static` holding the function's breaker, with its name and configuration.
fn static_breaker(plan: &Plan, sig: &Signature, private: &TokenStream) -> TokenStream {
    let name = if let Some(name) = &plan.name {
        name.to_token_stream()
    } else {
        let ident = sig.ident.to_string();
        quote!(::core::concat!(::core::module_path!(), "::", #ident))
    };
    let mut config = quote!(#private::Config::builder());
    for (method, value) in &plan.settings {
        config = quote!(#config.#method(#value));
    }
    let mut require_tokio = TokenStream::new();
    if let Some(timeout) = plan.timeout_ms {
        let millis = timeout.value;
        config = quote!(#private::with_timeout(#config, #millis));
        // Spanned at the value, so the missing-feature error underlines `timeout_ms = …`.
        let private = respan(private.clone(), timeout.span);
        require_tokio = quote_spanned!(timeout.span=> #private::require_tokio!(););
    }
    quote! {
        #require_tokio
        static __BREAKER: #private::StaticBreaker =
            #private::StaticBreaker::new(#name, #private::validated(#config.build()));
    }
}

/// The statements copying the inputs the body may consume, taken before the call, and the
/// expressions that hand each input to the fallback.
fn fallback_inputs(plan: &Plan, private: &TokenStream) -> (TokenStream, Vec<TokenStream>) {
    let mut copies = TokenStream::new();
    let mut forwarded = Vec::new();
    if plan.fallback.is_none() {
        return (copies, forwarded);
    }
    for input in &plan.inputs {
        let ident = &input.ident;
        match input.pass {
            Pass::Reborrow => forwarded.push(quote!(#ident)),
            Pass::Clone => {
                let copy = format_ident!("__breaker_arg_{}", ident);
                // The whole call at the argument, so a type that is not `Clone` is reported
                // there and nowhere else.
                let clone = respan(
                    quote!(#private::FallbackArg::fallback_copy(&#ident)),
                    at_user_token(input.span),
                );
                copies.extend(quote!(let #copy = #clone;));
                forwarded.push(quote!(#copy));
            }
        }
    }
    (copies, forwarded)
}

/// With a fallback, a local function that calls it through `Fallback`, taking the inputs
/// before the fallback: by the time the fallback's type is checked against the bound, the
/// inputs' types are known, so a fallback of the wrong shape fails the bound (and gets its
/// message) instead of having its parameter types inferred onto the inputs.
fn fallback_helper(plan: &Plan, sig: &Signature, private: &TokenStream) -> TokenStream {
    if plan.fallback.is_none() {
        return TokenStream::new();
    }
    let mut helper = quote! {
        fn __breaker_fallback<__BreakerInputs, __BreakerError, __BreakerForm, __BreakerFallback>(
            inputs: __BreakerInputs,
            failure: #private::Failure<__BreakerError>,
            fallback: __BreakerFallback,
        ) -> <__BreakerFallback as #private::Fallback<__BreakerInputs, __BreakerError, __BreakerForm>>::Output
        where
            __BreakerFallback: #private::Fallback<__BreakerInputs, __BreakerError, __BreakerForm>,
        {
            #private::Fallback::call_fallback(fallback, inputs, failure)
        }
    };
    if sig.asyncness.is_some() {
        // For an `async fn`, the fallback's output must be a future: a local trait checks it,
        // so that a sync fallback is told so in those words.
        helper.extend(quote! {
            #[diagnostic::on_unimplemented(
                message = "the fallback of an `async fn` must be an `async fn` with the same return type",
                label = "this fallback returns `{Self}`"
            )]
            trait __BreakerAsyncFallback<__BreakerOutput> {
                type Future: ::core::future::Future<Output = __BreakerOutput>;
                fn __breaker_into_future(self) -> Self::Future;
            }
            impl<__BreakerFuture: ::core::future::IntoFuture>
                __BreakerAsyncFallback<__BreakerFuture::Output> for __BreakerFuture
            {
                type Future = __BreakerFuture::IntoFuture;
                fn __breaker_into_future(self) -> Self::Future {
                    ::core::future::IntoFuture::into_future(self)
                }
            }
            // An opaque future, so that awaiting it cannot fail a second time when the check
            // above has failed.
            fn __breaker_fallback_future<__BreakerFuture, __BreakerOutput>(
                future: __BreakerFuture,
            ) -> impl ::core::future::Future<Output = __BreakerOutput>
            where
                __BreakerFuture: __BreakerAsyncFallback<__BreakerOutput>,
            {
                __BreakerAsyncFallback::__breaker_into_future(future)
            }
        });
    }
    helper
}

/// What the function returns once the breaker has answered.
fn answer(
    plan: &Plan,
    sig: &Signature,
    ret: &TokenStream,
    private: &TokenStream,
    forwarded: &[TokenStream],
) -> TokenStream {
    let Some(fallback) = &plan.fallback else {
        // The conversion at the error type, where "cannot hold a `BreakerError`" belongs.
        let convert = respan(
            quote!(#private::HoldsBreakerError::from_breaker_error(__breaker_error)),
            error_type_span(sig),
        );
        return quote! {
            match __breaker_result {
                ::core::result::Result::Ok(__breaker_value) => ::core::result::Result::Ok(__breaker_value),
                ::core::result::Result::Err(#private::Failure::Error(__breaker_error)) => {
                    ::core::result::Result::Err(__breaker_error)
                }
                ::core::result::Result::Err(#private::Failure::Breaker(__breaker_error)) => {
                    ::core::result::Result::Err(#convert)
                }
            }
        };
    };
    // The call, at the string the user wrote; the annotation at the function's own return
    // type, so a fallback that returns something else is "expected due to" it.
    let span = at_user_token(fallback.span());
    // The path keeps the string's own span: it is the user's reference to their function
    // (clippy's `unused_async` then knows an `async fn` fallback is used as a value).
    let inputs = respan(quote!((#(#forwarded,)*), __breaker_failure,), span);
    let mut arguments = Group::new(Delimiter::Parenthesis, quote!(#inputs #fallback));
    arguments.set_span(span);
    let run = respan(quote!(__breaker_fallback), span);
    let run = quote!(#run #arguments);
    let run = if sig.asyncness.is_some() {
        let future = respan(quote!(__breaker_fallback_future::<_, #ret>), span);
        let mut call = Group::new(Delimiter::Parenthesis, run);
        call.set_span(span);
        let await_ = respan(quote!(.await), span);
        quote!(#future #call #await_)
    } else {
        run
    };
    let uncounted = if plan.failure_if.is_some() {
        quote! {
            ::core::result::Result::Err(#private::Failure::Error(__breaker_error)) if !__breaker_counted => {
                ::core::result::Result::Err(__breaker_error)
            }
        }
    } else {
        TokenStream::new()
    };
    quote! {
        match __breaker_result {
            ::core::result::Result::Ok(__breaker_value) => ::core::result::Result::Ok(__breaker_value),
            #uncounted
            ::core::result::Result::Err(__breaker_failure) => {
                let __breaker_fallback_value: #ret = #run;
                __breaker_fallback_value
            }
        }
    }
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

/// A span shown at `token` (a string the user wrote) that resolves and lints as the macro's
/// own code: rustc then reports errors there but offers no fix-its that would edit the string
/// as if it were code (`Ok("default_recs")`).
fn at_user_token(token: Span) -> Span {
    Span::call_site().located_at(token)
}

/// `tokens`, every one of them placed at `span`.
fn respan(tokens: TokenStream, span: Span) -> TokenStream {
    tokens
        .into_iter()
        .map(|mut token| {
            if let TokenTree::Group(group) = &token {
                let mut inner = Group::new(group.delimiter(), respan(group.stream(), span));
                inner.set_span(span);
                token = TokenTree::Group(inner);
            }
            token.set_span(span);
            token
        })
        .collect()
}
