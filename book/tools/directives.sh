#!/usr/bin/env bash
# Regenerates book/src/reference/directives.md from httpd-core's one directive table
# (httpd_core::config::directives::directive_reference_markdown), so the book cannot drift from
# the parser. It builds a throw-away binary outside the workspace that depends on httpd-core by
# path and reuses the workspace's target directory (nothing is recompiled that is up to date).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/src"
cat > "$tmp/Cargo.toml" <<TOML
[package]
name = "book-directives"
version = "0.0.0"
edition = "2024"
publish = false

[dependencies]
httpd-core = { path = "$root/httpd-core" }

[workspace]
TOML
echo 'fn main() { print!("{}", httpd_core::config::directives::directive_reference_markdown()); }' > "$tmp/src/main.rs"
cp "$root/Cargo.lock" "$tmp/"
CARGO_TARGET_DIR="$root/target" cargo run --quiet --manifest-path "$tmp/Cargo.toml" > "$root/book/src/reference/directives.md"
echo "wrote book/src/reference/directives.md ($(grep -c '^| `' "$root/book/src/reference/directives.md") directives)"
