//! A breaker's name: what the registry keys on and what every rejection reports.

use std::{
    collections::HashSet,
    fmt,
    ops::Deref,
    sync::{Arc, Mutex, PoisonError},
};

/// A breaker's name: a `&'static str`, so that a rejection carries it without allocating,
/// counting references, or giving the error a destructor to run.
///
/// Names known at compile time (every `#[circuit_breaker]` name) are used as they are. Names
/// built at run time, one breaker per host say, are interned: each distinct name is stored
/// once, for the life of the process, as Hystrix keeps its command keys.
///
/// ```
/// use fusebox::Name;
///
/// let fixed = Name::from("recommendations");
/// let per_host = Name::from(format!("inventory@{}", "10.0.0.7"));
/// assert_eq!(&*fixed, "recommendations");
/// assert_eq!(per_host.to_string(), "inventory@10.0.0.7");
/// // The same name built twice is stored once.
/// assert!(std::ptr::eq(per_host.as_str(), Name::from(format!("inventory@10.0.0.7")).as_str()));
/// ```
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Name(&'static str);

impl Name {
    /// The name as a string slice, which lives as long as the process.
    #[must_use]
    pub const fn as_str(&self) -> &'static str {
        self.0
    }

    /// The stored copy of `name`, storing it if it is new.
    fn intern(name: &str) -> Name {
        static NAMES: Mutex<Option<HashSet<&'static str>>> = Mutex::new(None);
        let mut names = NAMES.lock().unwrap_or_else(PoisonError::into_inner);
        let names = names.get_or_insert_with(HashSet::new);
        if let Some(stored) = names.get(name) {
            return Name(stored);
        }
        let stored: &'static str = Box::leak(name.into());
        names.insert(stored);
        Name(stored)
    }
}

impl Deref for Name {
    type Target = str;
    fn deref(&self) -> &str {
        self.0
    }
}

impl AsRef<str> for Name {
    fn as_ref(&self) -> &str {
        self.0
    }
}

impl From<&'static str> for Name {
    fn from(name: &'static str) -> Self {
        Name(name)
    }
}

impl From<String> for Name {
    fn from(name: String) -> Self {
        Name::intern(&name)
    }
}

impl From<Arc<str>> for Name {
    fn from(name: Arc<str>) -> Self {
        Name::intern(&name)
    }
}

impl fmt::Display for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

impl fmt::Debug for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.0, f)
    }
}
