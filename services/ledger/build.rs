// The schemas are embedded in the binary; rebuild when any of them changes.
fn main() {
    println!("cargo:rerun-if-changed=../../schemas");
}
