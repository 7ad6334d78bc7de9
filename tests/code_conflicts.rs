//! A breaker asked for in code under a name already held with another configuration, or a
//! `Keyed` family made under a name another family holds, is a conflict that
//! `registry::check` and `registry::apply` report, naming both places by file and line; the
//! code that asked still gets the breaker that holds the name. A binary of its own: once a
//! conflict is recorded, every `apply` of the process refuses to run.
#![deny(warnings, clippy::pedantic)]

use fusebox::{
    BreakerError, Config, Keyed, Overrides, OverridesError, circuit_breaker,
    registry::{self, Conflict, Origin},
    tower::CircuitBreakerLayer,
};

const CATALOG: u32 = line!() + 1;
#[circuit_breaker(name = "conflicts::catalog", error_threshold = 50)]
fn catalog() -> Result<(), BreakerError> {
    Ok(())
}

/// The lines of the code that asked, as `conflicting_code` made it.
struct Lines {
    layer: u32,
    first: u32,
    second: u32,
    holder: u32,
    taken: u32,
}

/// Asks for taken names in three ways; the conflicts stay recorded for the process.
fn conflicting_code() -> Lines {
    // A tower layer named like an annotated function, with another threshold.
    let line = line!() + 1;
    let layer = CircuitBreakerLayer::new(
        "conflicts::catalog",
        Config::builder().error_threshold(10).build().unwrap(),
    );
    assert_eq!(
        layer.breaker().config().error_threshold(),
        50,
        "the breaker that holds the name, with its configuration"
    );
    assert_eq!(catalog(), Ok(()));
    assert_eq!(layer.breaker().metrics().calls, 1, "one breaker");

    // Two layers of one name, configured differently.
    let first = line!() + 1;
    let _a = CircuitBreakerLayer::new("conflicts::search", Config::default());
    let second = line!() + 1;
    let _b = CircuitBreakerLayer::new(
        "conflicts::search",
        Config::builder()
            .request_volume_threshold(5)
            .build()
            .unwrap(),
    );
    // The same configuration asked for again is sharing, not a conflict.
    let _c = CircuitBreakerLayer::new("conflicts::search", Config::default());

    // Two families of one name.
    let holder = line!() + 1;
    let _hosts: Keyed<String> = Keyed::new("conflicts::hosts", Config::default());
    let taken = line!() + 1;
    let _again: Keyed<String> = Keyed::new("conflicts::hosts", Config::default());
    Lines {
        layer: line,
        first,
        second,
        holder,
        taken,
    }
}

#[test]
fn code_asking_for_a_taken_name_is_reported_with_both_places() {
    let Lines {
        layer: line,
        first,
        second,
        holder,
        taken,
    } = conflicting_code();
    let error = registry::check().unwrap_err();
    let conflicts = &error.conflicts;
    let asked = |name: &str| {
        conflicts.iter().find_map(|conflict| match conflict {
            Conflict::Taken {
                name: taken,
                holder,
                asked,
            } if taken == name => Some((*holder, *asked)),
            _ => None,
        })
    };
    let (holder_of_catalog, asked_for_catalog) = asked("conflicts::catalog").expect("reported");
    assert_eq!(
        holder_of_catalog.0,
        Origin::Function(registry::Site {
            file: file!(),
            line: CATALOG,
            function: "code_conflicts::catalog",
        })
    );
    assert_eq!(
        asked_for_catalog.0,
        Origin::Code {
            file: file!(),
            line
        }
    );
    assert_eq!(
        (
            holder_of_catalog.1.error_threshold,
            asked_for_catalog.1.error_threshold
        ),
        (Some(50), Some(10))
    );
    let (holder_of_search, asked_for_search) = asked("conflicts::search").expect("reported");
    assert_eq!(
        holder_of_search.0,
        Origin::Code {
            file: file!(),
            line: first
        }
    );
    assert_eq!(
        asked_for_search.0,
        Origin::Code {
            file: file!(),
            line: second
        }
    );
    assert!(
        conflicts.iter().any(|conflict| *conflict
            == Conflict::FamilyTaken {
                name: "conflicts::hosts".to_owned(),
                holder: Origin::Code {
                    file: file!(),
                    line: holder
                },
                asked: Origin::Code {
                    file: file!(),
                    line: taken
                },
            }),
        "{error}"
    );
    assert_eq!(conflicts.len(), 3, "{error}");

    let text = error.to_string();
    for place in [
        format!("`code_conflicts::catalog` at {}:{CATALOG}", file!()),
        format!("the code at {}:{line}", file!()),
        format!("the code at {}:{first}", file!()),
        format!("the code at {}:{second}", file!()),
        format!("the code at {}:{holder}", file!()),
        format!("the code at {}:{taken}", file!()),
    ] {
        assert!(text.contains(&place), "{place} in: {text}");
    }
    assert!(text.contains("error_threshold = 10"), "{text}");
    let family = conflicts
        .iter()
        .find(|conflict| matches!(conflict, Conflict::FamilyTaken { .. }))
        .expect("reported");
    assert_eq!(
        family.to_string(),
        format!(
            "the code at {file}:{taken} makes a family of circuit breakers named \
             `conflicts::hosts`, but the code at {file}:{holder} holds that name: overrides for \
             `conflicts::hosts` reach only the first family's keys; give one of them another name",
            file = file!()
        )
    );

    // Overrides refuse to run while code conflicts.
    let error = registry::apply(&Overrides::new()).unwrap_err();
    assert!(matches!(error, OverridesError::Conflicts(_)), "{error}");
}
