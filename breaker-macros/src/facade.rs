//! Where the facade is: the path generated code names it by, found from the package's own
//! `Cargo.toml`, so that a user who renames the dependency (`breaker = { package = "fusebox",
//! … }`) needs no `crate = …`.

use std::{
    path::PathBuf,
    sync::{Mutex, PoisonError},
    time::SystemTime,
};

use proc_macro2::{Ident, Span};
use syn::Path;

const FACADE: &str = "fusebox";

/// `::fusebox`, or `::<name>` under the name the package's manifest gives the facade.
///
/// The package's own manifest answers most cases without help. Only when it cannot (the
/// dependency is inherited from the workspace, or not listed at all) does `proc-macro-crate`
/// decide: it also reads the workspace's manifest, which it finds by running
/// `cargo locate-project`, about 25 ms per compiled crate.
pub(crate) fn path() -> Result<Path, &'static str> {
    let name = match std::env::var("CARGO_PKG_NAME") {
        // The facade's own examples and doctests: the facade names itself `fusebox` for them.
        Ok(package) if package == FACADE => FACADE.to_owned(),
        _ => match listed_name() {
            Some(name) => name,
            None => match proc_macro_crate::crate_name(FACADE) {
                Ok(proc_macro_crate::FoundCrate::Name(name)) => name,
                Err(proc_macro_crate::Error::CrateNotFound { .. }) => return Err(NOT_FOUND),
                // No manifest to read (a build without cargo).
                Ok(proc_macro_crate::FoundCrate::Itself) | Err(_) => FACADE.to_owned(),
            },
        },
    };
    let name = Ident::new(&name, Span::call_site());
    Ok(syn::parse_quote!(::#name))
}

const NOT_FOUND: &str = "#[circuit_breaker] cannot find `fusebox` among this package's dependencies: add it to Cargo.toml, or say where it is re-exported with `crate = path::to::fusebox`";

/// The facade's name in the package's own dependency tables (`[dependencies]`,
/// `[dev-dependencies]`, `[build-dependencies]`, and their `[target.….]` forms), unless it is
/// inherited from the workspace.
fn listed_name() -> Option<String> {
    // Read once per compiled crate, not once per function: the compiler keeps this library
    // loaded while it expands a crate (and rust-analyzer across crates, hence the key).
    static READ: Mutex<Option<(PathBuf, SystemTime, Option<String>)>> = Mutex::new(None);
    let manifest =
        std::path::Path::new(&std::env::var_os("CARGO_MANIFEST_DIR")?).join("Cargo.toml");
    let modified = std::fs::metadata(&manifest)
        .and_then(|m| m.modified())
        .ok()?;
    let mut read = READ.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some((path, time, name)) = &*read
        && *path == manifest
        && *time == modified
    {
        return name.clone();
    }
    let name = std::fs::read_to_string(&manifest)
        .ok()
        .and_then(|text| name_in(&text));
    *read = Some((manifest, modified, name.clone()));
    name
}

/// The facade's name in the dependency tables of the manifest `text`.
fn name_in(text: &str) -> Option<String> {
    let manifest = text.parse::<toml_edit::DocumentMut>().ok()?;
    let targets = manifest
        .get("target")
        .and_then(toml_edit::Item::as_table_like)
        .into_iter()
        .flat_map(|targets| targets.iter().map(|(_, target)| target));
    let mut tables = std::iter::once(manifest.as_item()).chain(targets);
    tables.find_map(|table| {
        ["dependencies", "dev-dependencies", "build-dependencies"]
            .into_iter()
            .filter_map(|kind| table.get(kind)?.as_table_like())
            .flat_map(toml_edit::TableLike::iter)
            .find_map(|(key, dependency)| {
                let package = dependency.get("package").and_then(toml_edit::Item::as_str);
                let inherited = dependency
                    .get("workspace")
                    .and_then(toml_edit::Item::as_bool)
                    .unwrap_or(false);
                (package.unwrap_or(key) == FACADE && !inherited).then(|| key.replace('-', "_"))
            })
    })
}

#[cfg(test)]
mod tests {
    use super::name_in;

    #[test]
    fn finds_the_facade_under_its_own_or_another_name() {
        let plain = "[package]\nname = \"app\"\n\n[dependencies]\nfusebox = \"0.1\"\n";
        assert_eq!(name_in(plain).as_deref(), Some("fusebox"));
        let renamed = "[dependencies]\nserde = \"1\"\nbreaker = { package = \"fusebox\", version = \"0.1\" }\n";
        assert_eq!(name_in(renamed).as_deref(), Some("breaker"));
        let table = "[target.'cfg(unix)'.dev-dependencies.my-breaker]\npackage = \"fusebox\"\n";
        assert_eq!(name_in(table).as_deref(), Some("my_breaker"));
    }

    #[test]
    fn leaves_inherited_and_missing_dependencies_to_proc_macro_crate() {
        let inherited = "[dependencies]\nfusebox = { workspace = true }\n";
        assert_eq!(name_in(inherited), None);
        let other = "[dependencies]\nbreaker = \"2\"\n";
        assert_eq!(
            name_in(other),
            None,
            "the package `breaker` is another crate"
        );
        assert_eq!(name_in("not toml ["), None);
    }
}
