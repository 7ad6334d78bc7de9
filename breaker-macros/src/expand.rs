//! Expansion: the function, rewritten to run its body through a breaker that lives in a
//! `static` inside it.
//!
//! ```text
//! #[attrs] vis fn name(args) -> Result<T, E> {
//!     static __BREAKER: StaticBreaker = StaticBreaker::new(NAME, CONFIG);
//!     let __breaker_arg_x = FallbackArg::fallback_copy(&x);      // with a fallback only
//!     let mut __breaker_counted = true;                           // with failure_if and a fallback
//!     let __breaker_result = __BREAKER.get().call_with(|| -> Result<T, E> { body }, predicate);
//!     match __breaker_result { Ok(v) => Ok(v), Err(failure) => fallback(args…, failure) | Err(failure.into()) }
//! }
//! ```
//!
//! The body stays inside a closure (sync) or an `async` block (async) so `return` and `?` keep
//! their meaning; every path is absolute and every local starts with `__breaker_`.

use proc_macro2::{Group, Span, TokenStream, TokenTree};
use quote::{ToTokens, format_ident, quote, quote_spanned};
use syn::{ItemFn, ReturnType, Signature, spanned::Spanned};

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

    // Whether an `Err` counted as a failure, which decides whether the fallback runs.
    let (counted, predicate) = match (&plan.failure_if, &plan.fallback) {
        (None, _) => (TokenStream::new(), quote!(|_| true)),
        (Some(failure_if), None) => (TokenStream::new(), quote!(#failure_if)),
        (Some(failure_if), Some(_)) => (
            quote!(let mut __breaker_counted = true;),
            quote!(|__breaker_error| {
                __breaker_counted = #failure_if(__breaker_error);
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
    let answer = answer(plan, sig, &private, &forwarded);

    quote! {
        #(#attrs)*
        #vis #sig {
            #breaker
            #copies
            #counted
            #call
            #answer
        }
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
                copies.extend(quote_spanned! {input.span=>
                    let #copy = #private::FallbackArg::fallback_copy(&#ident);
                });
                forwarded.push(quote!(#copy));
            }
        }
    }
    (copies, forwarded)
}

/// What the function returns once the breaker has answered.
fn answer(
    plan: &Plan,
    sig: &Signature,
    private: &TokenStream,
    forwarded: &[TokenStream],
) -> TokenStream {
    let Some(fallback) = &plan.fallback else {
        let span = match &sig.output {
            ReturnType::Type(_, ty) => ty.span(),
            ReturnType::Default => sig.ident.span(),
        };
        return quote_spanned! {span=> #private::into_result(__breaker_result) };
    };
    let run = quote_spanned! {fallback.span()=>
        #private::Fallback::call_fallback(#fallback, (#(#forwarded,)*), __breaker_failure)
    };
    let run = if sig.asyncness.is_some() {
        quote!(#run.await)
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
            ::core::result::Result::Err(__breaker_failure) => #run,
        }
    }
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
