//! How the key table becomes code: [`config_keys!`] takes the rows of `keys.rs` and makes
//! everything that has one entry per key, so that a key is declared once.
//!
//! A row:
//!
//! ```text
//! /// What the key does (rustdoc: the getter, the builder's setter, the partial field).
//! Variant key_name LIMIT_CONST: kind {
//!     range: min, max;                  // the limit, checked by the builder and the attribute
//!     default: Some(value);             // or None: off unless set
//!     store: u8;                        // optional: kept in 8 (or 16) bits rather than 32
//!     get: getter;                      // `Config::getter`
//!     set: #[attrs] setter(param);      // `ConfigBuilder::setter`
//!     needs: Other, "what it says";     // optional: only with `Other` set
//!     at_least: Other;                  // optional: never below `Other`'s value
//!     table: "meaning", "allowed note"; // the docs' key tables (README, the attribute)
//! }
//! ```
//!
//! `kind` is `count` (a number), `optional_count` (a number, off unless set), `millis` (a
//! duration: the getter and setter take a `Duration`, the key is in whole milliseconds),
//! `optional_millis`, `flag` (`true`/`false`; 1/0 as a number), or `choice` (one of the row's
//! `choices: NAMES;`, a `&'static [&'static str]`, by name; its index as a number: the one
//! such key is `policy`, whose names are [`Policy`](crate::Policy)'s).
//!
//! From the rows it makes: [`ConfigKey`](super::ConfigKey) and its metadata, the limits'
//! constants, [`Config`](super::Config)'s fields and getters,
//! [`ConfigBuilder`](super::ConfigBuilder)'s setters, the live configuration's atomics, and
//! [`PartialConfig`](super::PartialConfig)'s fields, merge and conversions. What a key means to
//! a call (the trip rules, the backoff, the bulkhead) is written where it is used, not here.

/// A key's value as a `Config` stores it: 32 bits, the row's `store` (`u8`, `u16`) for a key
/// whose values fit, or a flag.
macro_rules! stored_type {
    (flag) => {
        bool
    };
    ($kind:ident $store:ident) => {
        $store
    };
    ($kind:ident) => {
        u32
    };
}

/// The largest value a key's store holds: its limit's maximum must fit.
macro_rules! store_max {
    (flag) => {
        1
    };
    ($kind:ident $store:ident) => {
        $store::MAX as u64
    };
    ($kind:ident) => {
        u32::MAX as u64
    };
}

/// A key's value in the live configuration: an atomic per key, as wide as its store.
macro_rules! live_type {
    (flag) => {
        std::sync::atomic::AtomicBool
    };
    ($kind:ident u8) => {
        std::sync::atomic::AtomicU8
    };
    ($kind:ident u16) => {
        std::sync::atomic::AtomicU16
    };
    ($kind:ident) => {
        std::sync::atomic::AtomicU32
    };
}

/// A key's value in a partial layer: set or not.
macro_rules! partial_type {
    (flag) => { Option<bool> };
    // The one key of this kind, `policy`.
    (choice) => { Option<$crate::Policy> };
    ($kind:ident) => { Option<u64> };
}

/// A row's kind as its `KeyKind`.
macro_rules! key_kind {
    (count) => {
        $crate::config::KeyKind::Count
    };
    (optional_count) => {
        $crate::config::KeyKind::OptionalCount
    };
    (millis) => {
        $crate::config::KeyKind::Millis
    };
    (optional_millis) => {
        $crate::config::KeyKind::OptionalMillis
    };
    (flag) => {
        $crate::config::KeyKind::Flag
    };
    (choice) => {
        $crate::config::KeyKind::Choice
    };
}

/// `Config`'s public getter of a key, by kind; a duration also has a crate-private getter in
/// milliseconds, named after the key.
macro_rules! config_getter {
    (count $getter:ident $key:ident [$($doc:literal)*]) => {
        $(#[doc = $doc])*
        #[must_use]
        pub const fn $getter(&self) -> u64 {
            self.$key as u64
        }
    };
    (optional_count $getter:ident $key:ident [$($doc:literal)*]) => {
        $(#[doc = $doc])*
        #[must_use]
        pub const fn $getter(&self) -> Option<u64> {
            $crate::config::optional(self.$key as u64)
        }
    };
    (millis $getter:ident $key:ident [$($doc:literal)*]) => {
        $(#[doc = $doc])*
        #[must_use]
        pub const fn $getter(&self) -> std::time::Duration {
            std::time::Duration::from_millis(self.$key as u64)
        }

        #[allow(dead_code)]
        pub(crate) const fn $key(&self) -> u64 {
            self.$key as u64
        }
    };
    (optional_millis $getter:ident $key:ident [$($doc:literal)*]) => {
        $(#[doc = $doc])*
        #[must_use]
        pub const fn $getter(&self) -> Option<std::time::Duration> {
            match $crate::config::optional(self.$key as u64) {
                Some(millis) => Some(std::time::Duration::from_millis(millis)),
                None => None,
            }
        }

        #[allow(dead_code)]
        pub(crate) const fn $key(&self) -> Option<u64> {
            $crate::config::optional(self.$key as u64)
        }
    };
    (flag $getter:ident $key:ident [$($doc:literal)*]) => {
        $(#[doc = $doc])*
        #[must_use]
        pub const fn $getter(&self) -> bool {
            self.$key
        }
    };
    (choice $getter:ident $key:ident [$($doc:literal)*]) => {
        $(#[doc = $doc])*
        #[must_use]
        pub const fn $getter(&self) -> $crate::Policy {
            $crate::Policy::from_number(self.$key as u64)
        }
    };
}

/// `ConfigBuilder`'s setter of a key, by kind: numbers as `u64`, durations as `Duration` (whole
/// milliseconds), flags as `bool`.
macro_rules! builder_setter {
    (flag $setter:ident $param:ident $key:ident [$(#[$attr:meta])*] [$($doc:literal)*]) => {
        $(#[doc = $doc])*
        $(#[$attr])*
        pub const fn $setter(mut self, $param: bool) -> Self {
            self.config.$key = Some($param);
            self
        }
    };
    (choice $setter:ident $param:ident $key:ident [$(#[$attr:meta])*] [$($doc:literal)*]) => {
        $(#[doc = $doc])*
        $(#[$attr])*
        pub const fn $setter(mut self, $param: $crate::Policy) -> Self {
            self.config.$key = Some($param);
            self
        }
    };
    (millis $($rest:tt)*) => { builder_setter!(@duration $($rest)*); };
    (optional_millis $($rest:tt)*) => { builder_setter!(@duration $($rest)*); };
    (@duration $setter:ident $param:ident $key:ident [$(#[$attr:meta])*] [$($doc:literal)*]) => {
        $(#[doc = $doc])*
        $(#[$attr])*
        pub const fn $setter(mut self, $param: std::time::Duration) -> Self {
            self.config.$key = Some($crate::config::millis($param));
            self
        }
    };
    ($kind:ident $setter:ident $param:ident $key:ident [$(#[$attr:meta])*] [$($doc:literal)*]) => {
        $(#[doc = $doc])*
        $(#[$attr])*
        pub const fn $setter(mut self, $param: u64) -> Self {
            self.config.$key = Some($param);
            self
        }
    };
}

/// The live configuration's reader of a key, by kind, in the key's unit (durations in
/// milliseconds): one relaxed load.
macro_rules! live_getter {
    (flag $key:ident) => {
        #[inline]
        #[allow(dead_code)]
        pub(crate) fn $key(&self) -> bool {
            self.$key.load(std::sync::atomic::Ordering::Relaxed)
        }
    };
    (count $key:ident) => { live_getter!(@always $key); };
    (choice $key:ident) => { live_getter!(@always $key); };
    (millis $key:ident) => { live_getter!(@always $key); };
    (optional_count $key:ident) => { live_getter!(@optional $key); };
    (optional_millis $key:ident) => { live_getter!(@optional $key); };
    (@always $key:ident) => {
        #[inline]
        #[allow(dead_code)]
        pub(crate) fn $key(&self) -> u64 {
            u64::from(self.$key.load(std::sync::atomic::Ordering::Relaxed))
        }
    };
    (@optional $key:ident) => {
        #[inline]
        #[allow(dead_code)]
        pub(crate) fn $key(&self) -> Option<u64> {
            $crate::config::optional(u64::from(
                self.$key.load(std::sync::atomic::Ordering::Relaxed),
            ))
        }
    };
}

/// A key's stored value as a number: a flag is 1 or 0, an optional key's 0 is off.
macro_rules! stored_number {
    (flag $value:expr) => {
        if $value { 1 } else { 0 }
    };
    ($kind:ident $value:expr) => {
        $value as u64
    };
}

/// A checked number as a key's stored value.
macro_rules! from_number {
    (flag; $value:expr) => {
        $value == 1
    };
    // Every limit's maximum fits its store (`store_max!`), and the value was checked against it.
    ($kind:ident $($store:ident)?; $value:expr) => {
        $value as stored_type!($kind $($store)?)
    };
}

/// A partial layer's value of a key as a number, a flag as 1 or 0, a choice as its index.
macro_rules! partial_number {
    (flag $value:expr) => {
        match $value {
            Some(on) => Some(if on { 1 } else { 0 }),
            None => None,
        }
    };
    (choice $value:expr) => {
        match $value {
            Some(choice) => Some(choice as u64),
            None => None,
        }
    };
    ($kind:ident $value:expr) => {
        $value
    };
}

/// A number as a partial layer's value of a key: a flag is on for anything but 0, a choice is
/// the one of that index (the first for an index beyond them).
macro_rules! partial_value {
    (flag $value:expr) => {
        Some($value != 0)
    };
    (choice $value:expr) => {
        Some($crate::Policy::from_number($value))
    };
    ($kind:ident $value:expr) => {
        Some($value)
    };
}

/// An optional part of a row, as metadata.
macro_rules! needs_of {
    () => {
        None
    };
    ($needs:ident, $because:literal) => {
        Some(($crate::config::ConfigKey::$needs, $because))
    };
}

macro_rules! choices_of {
    () => {
        &[]
    };
    ($choices:expr) => {
        $choices
    };
}

macro_rules! at_least_of {
    () => {
        None
    };
    ($at_least:ident) => {
        Some($crate::config::ConfigKey::$at_least)
    };
}

/// How many rows.
macro_rules! count_rows {
    () => { 0 };
    ($head:ident $($tail:ident)*) => { 1 + count_rows!($($tail)*) };
}

/// The table's expansion; see the [module](self).
macro_rules! config_keys {
    ($(
        $(#[doc = $doc:literal])*
        $variant:ident $key:ident $limit:ident: $kind:ident {
            range: $min:expr, $max:expr;
            default: $default:expr;
            $(store: $store:ident;)?
            get: $getter:ident;
            set: $(#[$set_attr:meta])* $setter:ident($param:ident);
            $(needs: $needs:ident, $because:literal;)?
            $(at_least: $at_least:ident;)?
            $(choices: $choices:expr;)?
            table: $meaning:literal, $note:literal;
        }
    )*) => {
        /// A key of the configuration, as the attribute, the builder, override files and the
        /// environment name it. [`ConfigKey::ALL`] lists them in the order the documentation
        /// does; each knows its [`Limit`](crate::limits::Limit) and what it means.
        ///
        /// ```
        /// use fusebox::ConfigKey;
        ///
        /// let key = ConfigKey::from_name("error_threshold").unwrap();
        /// assert_eq!(key, ConfigKey::ErrorThreshold);
        /// assert_eq!((key.limit().min, key.limit().max), (1, 100));
        /// assert!(ConfigKey::ALL.iter().any(|key| key.name() == "window_ms"));
        /// ```
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        #[non_exhaustive]
        pub enum ConfigKey {
            $(
                #[doc = concat!("`", stringify!($key), "`: ", $meaning, ".")]
                $variant,
            )*
        }

        impl ConfigKey {
            /// Every key, in the order the documentation lists them.
            pub const ALL: [ConfigKey; count_rows!($($variant)*)] = [$(ConfigKey::$variant),*];

            /// The key's name: `error_threshold`.
            #[must_use]
            pub const fn name(self) -> &'static str {
                match self {
                    $(ConfigKey::$variant => stringify!($key),)*
                }
            }

            /// The values the key allows, and its default.
            #[must_use]
            pub const fn limit(self) -> $crate::limits::Limit {
                match self {
                    $(ConfigKey::$variant => $crate::limits::$limit,)*
                }
            }

            /// What kind of value it takes.
            #[must_use]
            pub const fn kind(self) -> $crate::config::KeyKind {
                match self {
                    $(ConfigKey::$variant => key_kind!($kind),)*
                }
            }

            /// What it does, in a few words: the meaning column of the documentation's tables.
            #[must_use]
            pub const fn meaning(self) -> &'static str {
                match self {
                    $(ConfigKey::$variant => $meaning,)*
                }
            }

            /// What it allows beyond its range, for the documentation's tables (for
            /// `slow_call_threshold`: “, with `slow_call_ms`”); empty for most keys.
            #[must_use]
            pub const fn allowed_note(self) -> &'static str {
                match self {
                    $(ConfigKey::$variant => $note,)*
                }
            }

            /// The key it means nothing without, and what that key says.
            #[must_use]
            pub const fn needs(self) -> Option<(ConfigKey, &'static str)> {
                match self {
                    $(ConfigKey::$variant => needs_of!($($needs, $because)?),)*
                }
            }

            /// The names of a choice's values, by their number (`policy`: `threshold`,
            /// `adaptive`); empty for a key of another kind.
            #[must_use]
            pub const fn choices(self) -> &'static [&'static str] {
                match self {
                    $(ConfigKey::$variant => choices_of!($($choices)?),)*
                }
            }

            /// The key whose value it must not be below.
            #[must_use]
            pub const fn at_least(self) -> Option<ConfigKey> {
                match self {
                    $(ConfigKey::$variant => at_least_of!($($at_least)?),)*
                }
            }
        }

        /// The limits of the configuration's keys, one constant each.
        pub(crate) mod key_limits {
            $(
                #[doc = concat!("`", stringify!($key), "`: ", $meaning, ".")]
                pub const $limit: $crate::limits::Limit = $crate::limits::Limit {
                    key: stringify!($key),
                    min: $min,
                    max: $max,
                    default: $default,
                };
            )*
        }

        $(const _: () = assert!(
            $max <= store_max!($kind $($store)?),
            concat!("the largest ", stringify!($key), " does not fit its store"),
        );)*

        /// How a [`CircuitBreaker`](crate::CircuitBreaker) decides; see the crate
        /// documentation for the state machine these values drive. Build one with
        /// [`Config::builder`]; every value is checked against [`limits`](crate::limits)
        /// there, so a `Config` is always valid.
        ///
        /// The defaults are Hystrix's where Hystrix has one (50 % errors over at least 20
        /// calls in a 10 s window of 10 buckets, 5 s sleep window) and one trial call while
        /// half-open.
        ///
        /// A configuration remembers which keys its code set (a builder's methods, an
        /// attribute's literals, a table's entries): overrides' `defaults` apply to the keys
        /// it left unset (see [`Overrides`](crate::Overrides)). Two configurations are equal
        /// when their values are, whichever keys were set.
        ///
        /// ```
        /// use std::time::Duration;
        /// use fusebox::Config;
        ///
        /// let config = Config::builder()
        ///     .error_threshold(25)
        ///     .sleep_window(Duration::from_secs(10))
        ///     .consecutive_failures(5)
        ///     .build()?;
        /// assert_eq!(config.error_threshold(), 25);
        /// assert_eq!(config.request_volume_threshold(), 20);
        /// assert_eq!(config.sleep_window(), Duration::from_secs(10));
        /// assert_eq!(config.consecutive_failures(), Some(5));
        /// # Ok::<(), fusebox::ConfigError>(())
        /// ```
        // Every limit's maximum fits in 32 bits, so a `Config` takes 64 bytes rather than
        // 144 (it is in every breaker); an unset optional value is 0, below each optional
        // key's minimum of 1.
        #[derive(Clone, Copy)]
        #[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
        #[cfg_attr(
            feature = "serde",
            serde(into = "PartialConfig", try_from = "PartialConfig")
        )]
        pub struct Config {
            $(pub(crate) $key: stored_type!($kind $($store)?),)*
            /// The keys its code set, one bit per [`ConfigKey`].
            pub(crate) set: u32,
        }

        impl Config {
            $(config_getter!($kind $getter $key [$($doc)*]);)*

            /// The value of `key`, as a number (a flag is 1 or 0); `None` for an optional key
            /// that is off.
            #[must_use]
            pub const fn value(&self, key: ConfigKey) -> Option<u64> {
                let value: u64 = match key {
                    $(ConfigKey::$variant => stored_number!($kind self.$key),)*
                };
                match (key.kind(), value) {
                    ($crate::config::KeyKind::OptionalCount
                    | $crate::config::KeyKind::OptionalMillis, 0) => None,
                    (_, value) => Some(value),
                }
            }

            /// A configuration of checked values, one per key in [`ConfigKey::ALL`]'s order
            /// (0 for an optional key that is off), with the keys `set` set by code.
            // Every limit's maximum fits in 32 bits, and the values were checked against them.
            #[allow(clippy::cast_possible_truncation)]
            pub(crate) const fn from_checked(
                values: &[u64; count_rows!($($variant)*)],
                set: u32,
            ) -> Config {
                Config {
                    $($key: from_number!($kind $($store)?; values[ConfigKey::$variant as usize]),)*
                    set,
                }
            }
        }

        impl PartialEq for Config {
            fn eq(&self, other: &Config) -> bool {
                true $(&& self.$key == other.$key)*
            }
        }

        impl Eq for Config {}

        impl std::fmt::Debug for Config {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_struct("Config")
                    $(.field(stringify!($key), &self.$key))*
                    .finish()
            }
        }

        impl $crate::config::ConfigBuilder {
            $(builder_setter!(
                $kind $setter $param $key [$(#[$set_attr])*] [$($doc)*]
            );)*
        }

        /// The configuration a breaker runs with: a [`Config`] that can be replaced while
        /// calls read it. Each key is an atomic of its own, read with a relaxed load (the same
        /// instruction as a plain load on x86-64 and `AArch64`), so a call pays nothing for the
        /// configuration being replaceable. A call that reads keys while they are being
        /// replaced may see some old and some new ones; each decision reads the keys it needs
        /// once, and every mix of two valid configurations' thresholds is itself a valid one.
        /// The window's shape is the exception: it lives in the window, which changes it under
        /// its own lock ([`Window::reshape`](crate::window::Window::reshape)).
        pub(crate) struct LiveConfig {
            $($key: live_type!($kind $($store)?),)*
            /// What admission must do besides admitting, in the low six bits
            /// (`OBSERVE_TIMED`: time the call, for `slow_call_ms` or `record_latency`;
            /// `OBSERVE_LISTENED`: report it to call listeners; `OBSERVE_TRACED`: run it in a
            /// span; `OBSERVE_RECORDED`: keep it in the trace; `OBSERVE_SHADOWED`: tell the
            /// breaker's shadow) and `RECONFIGURED`
            /// (`CircuitBreaker::reconfigure` was called: overrides leave this breaker alone);
            /// above them, the keys the breaker's code set (kept through overrides, which change
            /// values). One word, read once by every call (as it was when only `slow_call_ms`
            /// timed calls), and the live configuration stays within 64 bytes.
            set: std::sync::atomic::AtomicU32,
        }

        impl LiveConfig {
            pub(crate) fn new(config: Config) -> LiveConfig {
                let observed = u32::from($crate::config::observed_from_start(&config));
                LiveConfig {
                    $($key: <live_type!($kind $($store)?)>::new(config.$key),)*
                    set: std::sync::atomic::AtomicU32::new(
                        config.set << $crate::config::OBSERVED_BITS | observed,
                    ),
                }
            }

            /// The configuration in force, with the keys its code set.
            pub(crate) fn load(&self) -> Config {
                let relaxed = std::sync::atomic::Ordering::Relaxed;
                Config {
                    $($key: self.$key.load(relaxed),)*
                    set: self.set.load(relaxed) >> $crate::config::OBSERVED_BITS,
                }
            }

            /// Puts `config`'s values in force, key by key; which keys the code set stays.
            pub(crate) fn store(&self, config: Config) {
                let relaxed = std::sync::atomic::Ordering::Relaxed;
                $(self.$key.store(config.$key, relaxed);)*
                // The configuration's observations: timing, spans and recording; listening is
                // kept.
                let from_config = u32::from(
                    $crate::config::OBSERVE_TIMED
                        | $crate::config::OBSERVE_TRACED
                        | $crate::config::OBSERVE_RECORDED,
                );
                let wanted = u32::from($crate::config::config_observed(&config));
                self.set.fetch_or(wanted, relaxed);
                self.set.fetch_and(!(from_config & !wanted), relaxed);
            }

            /// What admission must do besides admitting: `OBSERVE_TIMED`, `OBSERVE_LISTENED`,
            /// `OBSERVE_TRACED`.
            #[inline]
            pub(crate) fn observed(&self) -> u8 {
                let word = self.set.load(std::sync::atomic::Ordering::Relaxed);
                // The low bits, `RECONFIGURED` aside: the word's first byte, without the keys'
                // bits above them.
                #[allow(clippy::cast_possible_truncation)]
                let observed = word as u8;
                observed & $crate::config::OBSERVATIONS
            }

            fn mark(&self, bit: u8) {
                self.set.fetch_or(
                    u32::from(bit),
                    std::sync::atomic::Ordering::Relaxed,
                );
            }

            /// From now on, overrides leave this breaker alone.
            pub(crate) fn mark_reconfigured(&self) {
                self.mark($crate::config::RECONFIGURED);
            }

            /// Whether [`mark_reconfigured`](Self::mark_reconfigured) was called.
            pub(crate) fn is_reconfigured(&self) -> bool {
                let word = self.set.load(std::sync::atomic::Ordering::Relaxed);
                word & u32::from($crate::config::RECONFIGURED) != 0
            }

            /// From now on, calls are reported to call listeners.
            pub(crate) fn listen(&self) {
                self.mark($crate::config::OBSERVE_LISTENED);
            }

            /// From now on, calls are reported to the breaker's shadow (`true`), or not.
            pub(crate) fn shadow(&self, shadowed: bool) {
                let bit = u32::from($crate::config::OBSERVE_SHADOWED);
                let relaxed = std::sync::atomic::Ordering::Relaxed;
                if shadowed {
                    self.set.fetch_or(bit, relaxed);
                } else {
                    self.set.fetch_and(!bit, relaxed);
                }
            }

            $(live_getter!($kind $key);)*
        }

        /// Some of a [`Config`]'s keys, each named and valued as the `#[circuit_breaker]`
        /// attribute writes it (durations as `…_ms` integers, `fleet` as a flag). A key left
        /// `None` is not set here and falls to the layer below (see
        /// [`Overrides`](crate::Overrides) for the layers).
        ///
        /// With the `serde` feature it (de)serializes as a table of those keys; an unknown key
        /// is an error that lists the known ones.
        ///
        /// ```
        /// use fusebox::{ConfigKey, PartialConfig};
        ///
        /// let mut stricter = PartialConfig::new();
        /// stricter.error_threshold = Some(25);
        /// let config = stricter.build()?;
        /// assert_eq!(config.error_threshold(), 25);
        /// assert_eq!(config.request_volume_threshold(), 20); // the built-in default
        ///
        /// let mut out_of_range = PartialConfig::new();
        /// out_of_range.set("error_threshold", 150)?;
        /// assert_eq!(out_of_range.value(ConfigKey::ErrorThreshold), Some(150));
        /// assert_eq!(
        ///     out_of_range.build().unwrap_err().to_string(),
        ///     "error_threshold must be between 1 and 100, got 150"
        /// );
        /// # Ok::<(), fusebox::ConfigError>(())
        /// ```
        #[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
        #[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
        #[cfg_attr(feature = "serde", serde(default, deny_unknown_fields))]
        #[non_exhaustive]
        pub struct PartialConfig {
            $(
                $(#[doc = $doc])*
                #[cfg_attr(feature = "serde", serde(skip_serializing_if = "Option::is_none"))]
                pub $key: partial_type!($kind),
            )*
        }

        impl PartialConfig {
            /// No key set.
            #[must_use]
            pub const fn new() -> Self {
                PartialConfig {
                    $($key: None,)*
                }
            }

            /// `key` set to `value` (a flag: on for anything but 0), unchecked until
            /// [`build`](Self::build).
            #[must_use]
            pub const fn with(mut self, key: ConfigKey, value: u64) -> Self {
                match key {
                    $(ConfigKey::$variant => self.$key = partial_value!($kind value),)*
                }
                self
            }

            /// The value of `key` set here, as a number (a flag as 1 or 0).
            #[must_use]
            pub const fn value(&self, key: ConfigKey) -> Option<u64> {
                match key {
                    $(ConfigKey::$variant => partial_number!($kind self.$key),)*
                }
            }

            /// These keys where set, `lower`'s elsewhere: `self` is the layer of higher
            /// precedence.
            ///
            /// ```
            /// use fusebox::PartialConfig;
            ///
            /// let (mut file, mut attribute) = (PartialConfig::new(), PartialConfig::new());
            /// file.error_threshold = Some(30);
            /// attribute.error_threshold = Some(50);
            /// attribute.sleep_window_ms = Some(10_000);
            /// let merged = file.or(attribute);
            /// assert_eq!((merged.error_threshold, merged.sleep_window_ms), (Some(30), Some(10_000)));
            /// ```
            #[must_use]
            pub const fn or(self, lower: PartialConfig) -> PartialConfig {
                PartialConfig {
                    $($key: match self.$key {
                        Some(value) => Some(value),
                        None => lower.$key,
                    },)*
                }
            }
        }
    };
}

pub(super) use {
    at_least_of, builder_setter, choices_of, config_getter, config_keys, count_rows, from_number,
    key_kind, live_getter, live_type, needs_of, partial_number, partial_type, partial_value,
    store_max, stored_number, stored_type,
};
