//! `registry::check` finds annotated functions that would share a breaker by accident, names
//! both by file and line, and `registry::apply` refuses to run while they do.
#![deny(warnings, clippy::pedantic)]
// The methods exist to have one name in two impls.
#![allow(clippy::unused_self)]

use fusebox::registry::Conflict;
use fusebox::{BreakerError, Overrides, OverridesError, circuit_breaker, registry};

mod orders {
    use super::{BreakerError, circuit_breaker};

    pub struct Cart;
    pub struct Wishlist;

    pub const CART_GET: u32 = line!() + 2;
    impl Cart {
        #[circuit_breaker]
        pub fn get(&self) -> Result<u32, BreakerError> {
            Ok(1)
        }
    }

    pub const WISHLIST_GET: u32 = line!() + 2;
    impl Wishlist {
        #[circuit_breaker]
        pub fn get(&self) -> Result<u32, BreakerError> {
            Ok(2)
        }
    }
}

const PAYMENTS: u32 = line!() + 1;
#[circuit_breaker(name = "payments", error_threshold = 50)]
fn charge() -> Result<(), BreakerError> {
    Ok(())
}

const REFUNDS: u32 = line!() + 1;
#[circuit_breaker(name = "payments", error_threshold = 90)]
fn refund() -> Result<(), BreakerError> {
    Ok(())
}

// The same name and the same keys: one breaker, shared on purpose.
#[circuit_breaker(name = "ledger", window_ms = 1000)]
fn debit() -> Result<(), BreakerError> {
    Ok(())
}

#[circuit_breaker(name = "ledger", window_ms = 1000)]
fn credit() -> Result<(), BreakerError> {
    Ok(())
}

#[test]
fn both_kinds_of_collision_are_reported_with_file_and_line() {
    let error = registry::check().unwrap_err();
    assert_eq!(error.conflicts.len(), 2, "{error}");
    let Conflict::SameDefaultName {
        name,
        first,
        second,
    } = &error.conflicts[0]
    else {
        panic!("{:?}", error.conflicts[0]);
    };
    assert_eq!(*name, "collisions::orders::get");
    assert_eq!((first.file, first.line), (file!(), orders::CART_GET));
    assert_eq!((second.file, second.line), (file!(), orders::WISHLIST_GET));
    let Conflict::DifferentConfig {
        name,
        first,
        second,
    } = &error.conflicts[1]
    else {
        panic!("{:?}", error.conflicts[1]);
    };
    assert_eq!(*name, "payments");
    assert_eq!((first.0.line, second.0.line), (PAYMENTS, REFUNDS));
    assert_eq!(
        (first.1.error_threshold, second.1.error_threshold),
        (Some(50), Some(90))
    );

    let text = error.to_string();
    assert!(
        text.contains(&format!(
            "`collisions::orders::get` at {}:{}",
            file!(),
            orders::CART_GET
        )),
        "{text}"
    );
    assert!(
        text.contains("give one of them a name of its own with `name = \"…\"`"),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "`collisions::charge` at {}:{PAYMENTS} (error_threshold = 50)",
            file!()
        )),
        "{text}"
    );
    assert!(
        text.contains("configure it differently: give them the same keys, or different names"),
        "{text}"
    );

    // The calls still work; the shared breakers are one each.
    assert_eq!((orders::Cart.get(), orders::Wishlist.get()), (Ok(1), Ok(2)));
    assert_eq!(
        (debit(), credit(), charge(), refund()),
        (Ok(()), Ok(()), Ok(()), Ok(()))
    );
    assert_eq!(registry::get("ledger").unwrap().metrics().calls, 2);
}

#[test]
fn overrides_are_refused_while_functions_collide() {
    let before: Vec<_> = registry::all().iter().map(|b| b.config()).collect();
    let overrides = Overrides::from_toml_str("[defaults]\nerror_threshold = 10\n").unwrap();
    let error = registry::apply(&overrides).unwrap_err();
    assert!(matches!(error, OverridesError::Conflicts(_)), "{error}");
    let after: Vec<_> = registry::all().iter().map(|b| b.config()).collect();
    assert_eq!(before, after);
}
