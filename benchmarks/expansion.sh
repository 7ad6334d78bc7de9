#!/usr/bin/env bash
# What #[circuit_breaker] costs a crate that uses it: a crate of 100 functions with fallbacks
# (50 sync, 50 async) against the same crate without the attribute. Prints the pretty-printed
# expansion's lines per function and the debug rebuild time per function.
#
#   benchmarks/expansion.sh [rebuilds]      (default 15 rebuilds of each crate; medians)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
package="$(sed -n 's/^name = "\(.*\)"/\1/p' "$root/Cargo.toml" | head -1)"
rebuilds="${1:-15}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

generate() { # $1: crate dir, $2: 1 to annotate, $3: which functions are async (mixed, none, all)
    mkdir -p "$1/src"
    cat > "$1/Cargo.toml" <<TOML
[package]
name = "$(basename "$1")"
version = "0.0.0"
edition = "2024"
publish = false

[dependencies]
breaker = { package = "$package", path = "$root" }

[workspace]
TOML
    {
        echo '#![allow(clippy::unused_async, clippy::unnecessary_wraps)]'
        echo 'pub struct Error;'
        echo 'impl From<breaker::BreakerError> for Error { fn from(_: breaker::BreakerError) -> Self { Error } }'
        for i in $(seq 0 99); do
            async=""
            if [[ $3 == all ]] || { [[ $3 == mixed ]] && (( i % 2 )); }; then async="async "; fi
            if [[ $2 == 1 ]]; then echo "#[breaker::circuit_breaker(fallback = \"fallback_$i\")]"; fi
            echo "pub ${async}fn call_$i(user: u64) -> Result<u64, Error> { if user == 0 { Err(Error) } else { Ok(user + $i) } }"
            echo "pub ${async}fn fallback_$i(user: u64) -> Result<u64, Error> { Ok(user) }"
        done
    } > "$1/src/lib.rs"
}

lines() { # the pretty-printed expansion's line count
    (cd "$1" && RUSTC_BOOTSTRAP=1 cargo rustc -q --lib -- -Zunpretty=expanded 2>/dev/null | wc -l)
}

rebuild() { # one debug rebuild of crate $1 after touching its source, in ms
    touch "$1/src/lib.rs"
    local start end
    start=$(date +%s%N)
    (cd "$1" && cargo build -q)
    end=$(date +%s%N)
    echo $(( (end - start) / 1000000 ))
}

median() { sort -n | sed -n "$(( (rebuilds + 1) / 2 ))p"; }

export CARGO_TARGET_DIR="$work/target"
for kind in none all; do
    generate "$work/plain_$kind" 0 $kind
    generate "$work/annotated_$kind" 1 $kind
    extra=$(( $(lines "$work/annotated_$kind") - $(lines "$work/plain_$kind") ))
    [[ $kind == none ]] && what=sync || what=async
    echo "expansion, $what functions only: $(( extra / 100 )) lines more per function"
done
generate "$work/plain" 0 mixed
generate "$work/annotated" 1 mixed
plain_lines=$(lines "$work/plain"); annotated_lines=$(lines "$work/annotated")
(cd "$work/plain" && cargo build -q) && (cd "$work/annotated" && cargo build -q)
# Interleaved, so that a slow moment of the machine falls on both crates alike.
plain=() annotated=()
for _ in $(seq "$rebuilds"); do
    plain+=("$(rebuild "$work/plain")")
    annotated+=("$(rebuild "$work/annotated")")
done
plain_ms=$(printf '%s\n' "${plain[@]}" | median)
annotated_ms=$(printf '%s\n' "${annotated[@]}" | median)
echo "expansion, 50 sync and 50 async: $(( (annotated_lines - plain_lines) / 100 )) lines more per function"
echo "debug rebuild (median of $rebuilds, touched and rebuilt): $plain_ms ms plain, $annotated_ms ms annotated, $(( (annotated_ms - plain_ms) * 10 )) µs more per function"
