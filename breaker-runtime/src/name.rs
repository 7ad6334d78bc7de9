//! A breaker's name: what the registry keys on and what every rejection reports.

use std::{borrow::Borrow, cmp::Ordering, fmt, hash, ops::Deref, sync::Arc};

/// A breaker's name: a `&'static str` when it is known at compile time (every
/// `#[circuit_breaker]` name), or a shared, reference-counted string when it is built at run
/// time (one breaker per host, per tenant).
///
/// Cloning one never allocates: a static name is copied, a shared one counts a reference. So a
/// rejection carries its breaker's name without allocating, and a name built at run time is
/// freed with the last breaker, error and transition that hold it. A `Name` is two words, as a
/// `&str` is (a shared name is an `Arc<Box<str>>`, one word, so that the two kinds fit in the
/// space of one): every [`BreakerError`](crate::BreakerError) carries one.
///
/// ```
/// use std::sync::Arc;
/// use fusebox::Name;
///
/// let fixed = Name::from("recommendations");
/// let per_host = Name::from(format!("inventory@{}", "10.0.0.7"));
/// assert_eq!(&*fixed, "recommendations");
/// assert_eq!(per_host.to_string(), "inventory@10.0.0.7");
/// // Names compare by their text, whatever holds it.
/// assert_eq!(per_host, Name::from(Arc::<str>::from("inventory@10.0.0.7")));
/// ```
#[derive(Clone)]
pub struct Name(Text);

#[derive(Clone)]
enum Text {
    Static(&'static str),
    Shared(Arc<Box<str>>),
}

impl Name {
    /// The name as a string slice.
    #[must_use]
    pub fn as_str(&self) -> &str {
        match &self.0 {
            Text::Static(name) => name,
            Text::Shared(name) => name,
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

impl Borrow<str> for Name {
    fn borrow(&self) -> &str {
        self.as_str()
    }
}

impl From<&'static str> for Name {
    fn from(name: &'static str) -> Self {
        Name(Text::Static(name))
    }
}

impl From<String> for Name {
    fn from(name: String) -> Self {
        Name(Text::Shared(Arc::new(name.into_boxed_str())))
    }
}

impl From<Arc<str>> for Name {
    /// Copies the text: a `Name` keeps its own.
    fn from(name: Arc<str>) -> Self {
        Name(Text::Shared(Arc::new(Box::from(&*name))))
    }
}

impl From<&Name> for Name {
    fn from(name: &Name) -> Self {
        name.clone()
    }
}

impl PartialEq for Name {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for Name {}

impl PartialEq<str> for Name {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for Name {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialOrd for Name {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Name {
    fn cmp(&self, other: &Self) -> Ordering {
        self.as_str().cmp(other.as_str())
    }
}

impl hash::Hash for Name {
    fn hash<H: hash::Hasher>(&self, state: &mut H) {
        // As `str` hashes, so that maps keyed by `Name` can be searched with a `&str`.
        self.as_str().hash(state);
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

/// A name as environment variables write it: letters in upper case, digits as they are, and
/// every run of other characters as one `_` (`shop::catalog::search` is `SHOP_CATALOG_SEARCH`,
/// `upstreams/127.0.0.1:8080` is `UPSTREAMS_127_0_0_1_8080`). Variables are matched on this
/// form, so `SHOP__CATALOG__SEARCH`, which writes each character as `_`, names the same
/// breaker.
pub(crate) fn variable_form(name: &str) -> String {
    let mut form = String::with_capacity(name.len());
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            form.push(c.to_ascii_uppercase());
        } else if !form.ends_with('_') {
            form.push('_');
        }
    }
    form
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, HashSet};

    use super::*;

    #[test]
    fn a_variable_form_is_upper_case_with_runs_of_other_characters_as_one_underscore() {
        assert_eq!(
            variable_form("shop::catalog::search"),
            "SHOP_CATALOG_SEARCH"
        );
        assert_eq!(
            variable_form("SHOP__CATALOG__SEARCH"),
            "SHOP_CATALOG_SEARCH"
        );
        assert_eq!(
            variable_form("upstreams/127.0.0.1:38725"),
            "UPSTREAMS_127_0_0_1_38725"
        );
        assert_eq!(variable_form("é-x"), "_X");
    }

    #[test]
    fn a_shared_name_is_counted_not_copied_and_two_words_wide() {
        let name = Name::from(String::from("catalog/10.0.0.1"));
        let copy = name.clone();
        let (Text::Shared(a), Text::Shared(b)) = (&name.0, &copy.0) else {
            panic!("a name built at run time is shared");
        };
        assert!(Arc::ptr_eq(a, b));
        assert_eq!(Arc::strong_count(a), 2);
        assert_eq!(std::mem::size_of::<Name>(), std::mem::size_of::<&str>());
    }

    #[test]
    fn maps_keyed_by_name_are_searched_by_str() {
        let set: HashSet<Name> = [Name::from("a"), Name::from(String::from("b"))].into();
        assert!(set.contains("a") && set.contains("b") && !set.contains("c"));
        let map: BTreeMap<Name, u8> = [(Name::from(String::from("x")), 1)].into();
        assert_eq!(map.get("x"), Some(&1));
    }

    #[test]
    fn static_and_shared_names_compare_by_text() {
        let fixed = Name::from("orders");
        let built = Name::from(String::from("orders"));
        assert_eq!(fixed, built);
        assert_eq!(fixed, "orders");
        assert_ne!(fixed, Name::from(String::from("payments")));
        assert!(fixed == *"orders" && fixed != *"payments" && fixed != "payments");
        let (a, b) = (Name::from("a"), Name::from(String::from("b")));
        assert!(a < b);
        assert_eq!(format!("{built:?}"), "\"orders\"");
    }
}
