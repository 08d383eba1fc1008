//! Embeds `schemas/` in the ledger: rebuild when any schema changes.

fn main() {
    println!("cargo:rerun-if-changed=../../schemas");
}
