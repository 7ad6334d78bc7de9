//! The `#[circuit_breaker]` attribute of the `breaker` crate. Use it through `breaker`, whose
//! documentation describes every key; this crate is parse (`attr`), validate (`valid`) and
//! expand (`expand`).

mod attr;
mod expand;
mod valid;

use darling::ast::NestedMeta;
use proc_macro::TokenStream;
use quote::ToTokens;
use syn::ItemFn;

/// Runs a function through a circuit breaker; see the `breaker` crate for the keys.
#[proc_macro_attribute]
pub fn circuit_breaker(args: TokenStream, item: TokenStream) -> TokenStream {
    let item = proc_macro2::TokenStream::from(item);
    let Ok(func) = syn::parse2::<ItemFn>(item.clone()) else {
        let error = syn::Error::new(
            proc_macro2::Span::call_site(),
            "#[circuit_breaker] goes on a `fn` or `async fn` with a body",
        );
        return with_error(item, &error.to_compile_error());
    };
    let plan = NestedMeta::parse_meta_list(args.into())
        .map_err(darling::Error::from)
        .and_then(|items| {
            let mut errors = darling::Error::accumulator();
            let args = attr::Args::parse(&items, &mut errors);
            valid::validate(&args, &func, errors)
        });
    match plan {
        Ok(plan) => expand::expand(&plan, &func).into(),
        Err(errors) => with_error(func.into_token_stream(), &errors.write_errors()),
    }
}

/// The item as the user wrote it, next to the errors: one error, not a cascade of
/// "cannot find function" errors at every call site.
fn with_error(item: proc_macro2::TokenStream, errors: &proc_macro2::TokenStream) -> TokenStream {
    let mut out = item;
    out.extend(errors.clone());
    out.into()
}
