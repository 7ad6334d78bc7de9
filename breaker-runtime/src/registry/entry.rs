//! What the registry keeps beside each breaker and each family: the configuration its code
//! declared (the layer overrides go over) and where that code is (what a conflict names).

use std::{panic::Location, sync::Arc};

use crate::{
    CircuitBreaker, Config, Name, PartialConfig,
    config::declaration::{Declaration, Origin},
};

/// A registered breaker, and what its code declared.
pub(crate) struct Entry {
    pub(crate) breaker: Arc<CircuitBreaker>,
    pub(crate) declared: Declared,
}

impl Entry {
    /// An annotated function's breaker, as its attribute declares it.
    pub(crate) fn declared(declaration: &'static Declaration) -> Entry {
        Entry {
            breaker: Arc::new(CircuitBreaker::new(declaration.name, declaration.config())),
            declared: Declared::Attribute(declaration),
        }
    }

    /// A breaker registered in code at `site`.
    pub(crate) fn code(breaker: Arc<CircuitBreaker>, site: &'static Location<'static>) -> Entry {
        Entry {
            breaker,
            declared: Declared::Code(site),
        }
    }
}

/// What a registered breaker's code declared, in two words: every breaker of a
/// [`Keyed`](crate::Keyed) family is registered, so this is paid per key.
pub(crate) enum Declared {
    /// An annotated function's: its attribute's literals are in its declaration.
    Attribute(&'static Declaration),
    /// A breaker registered in code at this place. Until overrides change it, its
    /// configuration in force is the one its code gave it (code that sets its own with
    /// `reconfigure` is left alone by overrides), so that one is kept only from then on, by
    /// the registry (`originals`): a breaker costs no word more for it.
    Code(&'static Location<'static>),
    /// A key of a family: the family's.
    Key(Arc<Family>),
}

impl Declared {
    /// The configuration its code declared: for a breaker registered in code, `original`,
    /// what overrides replaced, if they did; else the one in force.
    pub(crate) fn declared_config(
        &self,
        breaker: &CircuitBreaker,
        original: Option<&Config>,
    ) -> Config {
        match self {
            Declared::Attribute(declaration) => declaration.config(),
            Declared::Code(_) => original.copied().unwrap_or_else(|| breaker.config()),
            Declared::Key(family) => family.config(),
        }
    }

    /// The keys its code set: the layer of precedence overrides go over (`original` as for
    /// [`declared_config`](Self::declared_config)).
    pub(crate) fn code_layer(
        &self,
        breaker: &CircuitBreaker,
        original: Option<&Config>,
    ) -> PartialConfig {
        match self {
            Declared::Attribute(declaration) => declaration.literals,
            Declared::Key(family) => family.code_layer(),
            Declared::Code(_) => self.declared_config(breaker, original).set_keys(),
        }
    }

    /// The family it is a key of.
    pub(crate) fn family(&self) -> Option<&Arc<Family>> {
        match self {
            Declared::Key(family) => Some(family),
            _ => None,
        }
    }

    /// Where its code is.
    pub(crate) fn origin(&self) -> Origin {
        match self {
            Declared::Attribute(declaration) => Origin::Function(declaration.site),
            Declared::Code(site) => Origin::code(site),
            Declared::Key(family) => family.origin(),
        }
    }

    /// Whether overrides replacing its configuration must keep the one they replace: only a
    /// breaker registered in code has its declared configuration nowhere else.
    pub(crate) fn keeps_original(&self) -> bool {
        matches!(self, Declared::Code(_))
    }
}

/// A [`Keyed`](crate::Keyed) family, as a configuration target: its name and what its code
/// declared, which every key's breaker starts from. Not public API: `Keyed` holds one.
#[doc(hidden)]
pub struct Family {
    pub(crate) name: Name,
    declared: FamilyDeclared,
}

enum FamilyDeclared {
    /// An annotated function's, with `key = "arg"`.
    Attribute(&'static Declaration),
    /// A `Keyed::new` at `site`.
    Code {
        config: Config,
        site: &'static Location<'static>,
    },
}

impl Family {
    pub(crate) fn declared(declaration: &'static Declaration) -> Family {
        Family {
            name: Name::from(declaration.name),
            declared: FamilyDeclared::Attribute(declaration),
        }
    }

    pub(crate) fn code(name: Name, config: Config, site: &'static Location<'static>) -> Family {
        Family {
            name,
            declared: FamilyDeclared::Code { config, site },
        }
    }

    /// The configuration its code declared.
    pub(crate) fn config(&self) -> Config {
        match &self.declared {
            FamilyDeclared::Attribute(declaration) => declaration.config(),
            FamilyDeclared::Code { config, .. } => *config,
        }
    }

    /// The keys its code set.
    pub(crate) fn code_layer(&self) -> PartialConfig {
        match &self.declared {
            FamilyDeclared::Attribute(declaration) => declaration.literals,
            FamilyDeclared::Code { config, .. } => config.set_keys(),
        }
    }

    /// Where its code is.
    pub(crate) fn origin(&self) -> Origin {
        match &self.declared {
            FamilyDeclared::Attribute(declaration) => Origin::Function(declaration.site),
            FamilyDeclared::Code { site, .. } => Origin::code(site),
        }
    }
}

impl std::fmt::Debug for Family {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Family")
            .field("name", &self.name)
            .field("origin", &self.origin())
            .finish_non_exhaustive()
    }
}
