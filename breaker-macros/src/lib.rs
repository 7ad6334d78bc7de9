//! The `#[circuit_breaker]` attribute of the `fusebox` crate. Use it through `fusebox`, whose
//! documentation describes every key; this crate is parse (`attr`), validate (`valid`) and
//! expand (`expand`).

mod attr;
mod expand;
mod facade;
mod function;
mod valid;

use darling::ast::NestedMeta;
use proc_macro::TokenStream;
use proc_macro2::Span;
use quote::ToTokens;
use syn::{Item, TraitItemFn, spanned::Spanned};

/// Runs a function through a circuit breaker; see the `fusebox` crate for the keys.
#[proc_macro_attribute]
pub fn circuit_breaker(args: TokenStream, item: TokenStream) -> TokenStream {
    let item = proc_macro2::TokenStream::from(item);
    let Ok(func) = syn::parse2::<function::Function>(item.clone()) else {
        return with_error(item.clone(), &not_a_function(item).to_compile_error());
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

/// The error for an item the attribute cannot wrap, spanned at what makes it so: the item's
/// keyword, or the `;` where a function's body should be.
fn not_a_function(item: proc_macro2::TokenStream) -> syn::Error {
    if let Ok(method) = syn::parse2::<TraitItemFn>(item.clone()) {
        // A trait method without a default body (or a foreign `fn`): nothing to run.
        let span = method
            .semi_token
            .map_or_else(|| method.sig.span(), |semi| semi.span);
        return syn::Error::new(
            span,
            "#[circuit_breaker] needs a function body to wrap: put it on the method in each impl",
        );
    }
    let (what, span) = match syn::parse2::<Item>(item) {
        Ok(Item::Struct(item)) => ("a struct", item.struct_token.span),
        Ok(Item::Enum(item)) => ("an enum", item.enum_token.span),
        Ok(Item::Union(item)) => ("a union", item.union_token.span),
        Ok(Item::Trait(item)) => ("a trait", item.trait_token.span),
        Ok(Item::Impl(item)) => ("an impl block: put it on its methods", item.impl_token.span),
        Ok(Item::Mod(item)) => ("a module", item.mod_token.span),
        Ok(Item::Static(item)) => ("a static", item.static_token.span),
        Ok(Item::Const(item)) => ("a const", item.const_token.span),
        Ok(Item::Type(item)) => ("a type alias", item.type_token.span),
        Ok(Item::Use(item)) => ("a `use`", item.use_token.span),
        Ok(other) => ("this item", other.span()),
        Err(_) => ("this item", Span::call_site()),
    };
    syn::Error::new(
        span,
        format!("#[circuit_breaker] goes on a `fn` or `async fn`, not on {what}"),
    )
}
