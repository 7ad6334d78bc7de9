//! What each `#[circuit_breaker]` function declares: its breaker's name, the configuration its
//! attribute wrote, and where the function is. The linker gathers every declaration of the
//! program into one slice ([`DECLARATIONS`], `linkme`'s distributed slice), so that the
//! registry has every annotated breaker from the start of `main`, before any call, and can
//! tell when two functions would share a breaker by accident ([`check`]).
//!
//! `linkme` rather than `inventory`: a declaration is a `static` in the function's body that the
//! linker places in a section, so startup runs no code for it (inventory runs a constructor per
//! function before `main`) and a function costs two `static`s of about 220 bytes together. As
//! with every link-time collection, a function in a crate whose code the binary never links in is not listed.
//!
//! [`check`]: crate::registry::check

use std::{collections::BTreeMap, fmt, panic::Location};

use crate::{Config, ConfigError, PartialConfig};

/// Where an annotated function is: its path (`module_path!()::name`), file and the line of its
/// attribute.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Site {
    /// The file, as `file!()` gives it.
    pub file: &'static str,
    /// The line of the function's `#[circuit_breaker]` attribute.
    pub line: u32,
    /// The function, as `module_path!()::name` (a method's type is not part of it).
    pub function: &'static str,
}

impl fmt::Display for Site {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "`{}` at {}:{}", self.function, self.file, self.line)
    }
}

/// Where a breaker or a family comes from: an annotated function, or the line of code that
/// made it (a [`get_or_register`](crate::registry::get_or_register), a tower layer, a
/// [`Keyed::new`](crate::Keyed::new)).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum Origin {
    /// A `#[circuit_breaker]` function.
    Function(Site),
    /// Code, at this file and line.
    Code {
        /// The file, as `file!()` gives it.
        file: &'static str,
        /// The line.
        line: u32,
    },
}

impl Origin {
    /// The place `location` names.
    pub(crate) fn code(location: &'static Location<'static>) -> Origin {
        Origin::Code {
            file: location.file(),
            line: location.line(),
        }
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Function(site) => write!(f, "{site}"),
            Origin::Code { file, line } => write!(f, "the code at {file}:{line}"),
        }
    }
}

/// One annotated function's breaker, as its attribute declares it. Not public API: made by
/// the code `#[circuit_breaker]` generates.
#[doc(hidden)]
#[derive(Debug)]
pub struct Declaration {
    pub(crate) name: &'static str,
    /// Whether the attribute gave the name (`name = "…"`), rather than the default.
    pub(crate) named: bool,
    /// The keys the attribute wrote: the layer of the attribute's literals.
    pub(crate) literals: PartialConfig,
    /// A family of breakers, one per key (`key = "arg"`), rather than one breaker.
    pub(crate) keyed: bool,
    pub(crate) site: Site,
}

impl Declaration {
    /// A declaration. `literals` were checked by the attribute at compile time.
    #[must_use]
    pub const fn new(
        name: &'static str,
        named: bool,
        literals: PartialConfig,
        keyed: bool,
        site: Site,
    ) -> Declaration {
        Declaration {
            name,
            named,
            literals,
            keyed,
            site,
        }
    }

    /// The breaker's name.
    #[must_use]
    pub const fn name(&self) -> &'static str {
        self.name
    }

    /// The configuration the attribute declares: its literals over the built-in defaults.
    /// The attribute checked them against the same limits at compile time, so the error arm
    /// cannot be reached; were it reached, it would fail the build (this runs in a `static`
    /// initializer), not a call.
    ///
    /// # Panics
    /// Only on a configuration the attribute would have refused, at compile time.
    #[must_use]
    pub const fn config(&self) -> Config {
        match self.literals.build() {
            Ok(config) => config,
            Err(_) => panic!("#[circuit_breaker] accepted a configuration the runtime refuses"),
        }
    }
}

/// Every annotated function's declaration in the program, in no particular order.
#[doc(hidden)]
#[linkme::distributed_slice]
pub static DECLARATIONS: [Declaration];

/// Two annotated functions, or two pieces of code, that would share a breaker or a family by
/// accident; or overrides that could not reach a breaker made after them.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
#[allow(clippy::large_enum_variant)] // made once, at a check, to be read by a person
pub enum Conflict {
    /// Neither function gave a `name`, and both default names are the same (two methods of
    /// the same name in different impls of one module, say).
    SameDefaultName {
        /// The name both would get.
        name: &'static str,
        /// One function.
        first: Site,
        /// The other.
        second: Site,
    },
    /// Both functions use one name, and configure its breaker differently.
    DifferentConfig {
        /// The shared name.
        name: &'static str,
        /// One function, with the keys its attribute wrote.
        first: (Site, PartialConfig),
        /// The other.
        second: (Site, PartialConfig),
    },
    /// Code asked for a breaker under a name already held, with another configuration: it got
    /// the breaker that holds the name, which runs with the holder's configuration.
    Taken {
        /// The name.
        name: String,
        /// Where the holder comes from, and the keys its code set.
        holder: (Origin, PartialConfig),
        /// Where the code that asked is, and the keys it set.
        asked: (Origin, PartialConfig),
    },
    /// A [`Keyed`](crate::Keyed) family made under a name another family holds: overrides
    /// for the name reach the holder's keys only.
    FamilyTaken {
        /// The name.
        name: String,
        /// The family that holds the name.
        holder: Origin,
        /// The family made under it since.
        asked: Origin,
    },
    /// A breaker made after overrides were applied, whose configuration they make invalid: it
    /// runs with the configuration its code gave it.
    OverridesRefused {
        /// The breaker.
        name: String,
        /// What is wrong with the configuration the overrides make.
        error: ConfigError,
    },
}

impl fmt::Display for Conflict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Conflict::SameDefaultName {
                name,
                first,
                second,
            } => write!(
                f,
                "{first} and {second} would share the circuit breaker `{name}`, its default name: \
                 give one of them a name of its own with `name = \"…\"` (or both the same name, \
                 to share one breaker on purpose)"
            ),
            Conflict::DifferentConfig {
                name,
                first,
                second,
            } => write!(
                f,
                "{} ({}) and {} ({}) share the circuit breaker `{name}` but configure it \
                 differently: give them the same keys, or different names",
                first.0,
                Keys(&first.1),
                second.0,
                Keys(&second.1),
            ),
            Conflict::Taken {
                name,
                holder,
                asked,
            } => write!(
                f,
                "{} asks for the circuit breaker `{name}` with {}, but {} holds that name with {}: \
                 it got that breaker and its configuration; give it a name of its own, or the \
                 same keys",
                asked.0,
                Keys(&asked.1),
                holder.0,
                Keys(&holder.1),
            ),
            Conflict::FamilyTaken {
                name,
                holder,
                asked,
            } => write!(
                f,
                "{asked} makes a family of circuit breakers named `{name}`, but {holder} holds \
                 that name: overrides for `{name}` reach only the first family's keys; give \
                 one of them another name"
            ),
            Conflict::OverridesRefused { name, error } => write!(
                f,
                "the overrides in force make an invalid configuration for the circuit breaker \
                 `{name}`, made after they were applied ({error}): it runs with its own; fix the \
                 overrides and apply them again"
            ),
        }
    }
}

/// An attribute's keys as it wrote them: `error_threshold = 50, window_ms = 1000`.
struct Keys<'a>(&'a PartialConfig);

impl fmt::Display for Keys<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str("the defaults");
        }
        for (i, (key, value)) in self.0.iter().enumerate() {
            let separator = if i == 0 { "" } else { ", " };
            write!(f, "{separator}{key} = {value}")?;
        }
        Ok(())
    }
}

/// The conflicts among `declarations`, ordered by name and then by file and line, so that a
/// report reads the same from one build to the next.
pub(crate) fn conflicts<'a>(
    declarations: impl IntoIterator<Item = &'a Declaration>,
) -> Vec<Conflict> {
    // A family's breakers are named after it (`name/key`), so families and single breakers
    // only collide among their own kind.
    let mut by_name: BTreeMap<(bool, &str), Vec<&Declaration>> = BTreeMap::new();
    for declaration in declarations {
        by_name
            .entry((declaration.keyed, declaration.name))
            .or_default()
            .push(declaration);
    }
    let mut conflicts = Vec::new();
    for mut sharing in by_name.into_values() {
        sharing.sort_by_key(|declaration| declaration.site);
        let first = sharing[0];
        for other in &sharing[1..] {
            if !first.named && !other.named {
                conflicts.push(Conflict::SameDefaultName {
                    name: first.name,
                    first: first.site,
                    second: other.site,
                });
            } else if first.config() != other.config() {
                conflicts.push(Conflict::DifferentConfig {
                    name: first.name,
                    first: (first.site, first.literals),
                    second: (other.site, other.literals),
                });
            }
        }
    }
    conflicts
}

/// Two or more breakers or families would share a name by accident, or the overrides in force
/// could not be put in force on a breaker made after them; see [`check`](crate::registry::check).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RegistryError {
    /// Every conflict found: the annotated functions' ordered by name, then those found in
    /// code in the order they were made.
    pub conflicts: Vec<Conflict>,
}

impl fmt::Display for RegistryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, conflict) in self.conflicts.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{conflict}")?;
        }
        Ok(())
    }
}

impl std::error::Error for RegistryError {}

#[cfg(test)]
mod tests {
    use super::*;

    const fn declared(name: &'static str, named: bool, line: u32, threshold: u64) -> Declaration {
        let mut literals = PartialConfig::new();
        literals.error_threshold = Some(threshold);
        Declaration::new(
            name,
            named,
            literals,
            false,
            Site {
                file: "src/lib.rs",
                line,
                function: name,
            },
        )
    }

    #[test]
    fn two_default_names_alike_conflict_whatever_their_configs() {
        let found = conflicts(&[
            declared("app::get", false, 20, 50),
            declared("app::get", false, 10, 50),
        ]);
        assert_eq!(found.len(), 1);
        assert_eq!(
            found[0].to_string(),
            "`app::get` at src/lib.rs:10 and `app::get` at src/lib.rs:20 would share the circuit \
             breaker `app::get`, its default name: give one of them a name of its own with \
             `name = \"…\"` (or both the same name, to share one breaker on purpose)"
        );
    }

    #[test]
    fn a_shared_name_must_come_with_one_config() {
        let same = [declared("db", true, 1, 50), declared("db", true, 2, 50)];
        assert!(conflicts(&same).is_empty());
        let different = [declared("db", true, 1, 50), declared("db", false, 2, 90)];
        let found = conflicts(&different);
        assert_eq!(
            found[0].to_string(),
            "`db` at src/lib.rs:1 (error_threshold = 50) and `db` at src/lib.rs:2 \
             (error_threshold = 90) share the circuit breaker `db` but configure it \
             differently: give them the same keys, or different names"
        );
    }

    #[test]
    fn a_family_and_a_breaker_of_one_name_do_not_conflict() {
        let mut family = declared("app::get", false, 2, 50);
        family.keyed = true;
        assert!(conflicts(&[declared("app::get", false, 1, 50), family]).is_empty());
    }
}
