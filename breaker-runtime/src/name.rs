//! A breaker's name: what the registry keys on and what every rejection reports.

use std::{fmt, ops::Deref, sync::Arc};

/// A breaker's name, cheap to clone so that a rejection can carry it without allocating.
///
/// Names known at compile time (every `#[circuit_breaker]` name) are a `&'static str` and cost
/// nothing to copy. Names built at run time, one breaker per host say, are shared behind an
/// `Arc<str>`: copying one into an error bumps a reference count and allocates nothing.
///
/// ```
/// use breaker_runtime::Name;
///
/// let fixed = Name::from("recommendations");
/// let per_host = Name::from(format!("inventory@{}", "10.0.0.7"));
/// assert_eq!(&*fixed, "recommendations");
/// assert_eq!(per_host.to_string(), "inventory@10.0.0.7");
/// ```
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Name(Repr);

#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum Repr {
    Static(&'static str),
    Shared(Arc<str>),
}

impl Name {
    /// The name as a string slice.
    #[must_use]
    pub fn as_str(&self) -> &str {
        match &self.0 {
            Repr::Static(name) => name,
            Repr::Shared(name) => name,
        }
    }
}

impl Deref for Name {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for Name {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl From<&'static str> for Name {
    fn from(name: &'static str) -> Self {
        Name(Repr::Static(name))
    }
}

impl From<String> for Name {
    fn from(name: String) -> Self {
        Name(Repr::Shared(name.into()))
    }
}

impl From<Arc<str>> for Name {
    fn from(name: Arc<str>) -> Self {
        Name(Repr::Shared(name))
    }
}

impl fmt::Display for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}
