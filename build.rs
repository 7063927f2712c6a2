//! Compiles the one piece of C in cachet: number parsing and long-double
//! arithmetic done by libc, as Redis does them (see csrc/numbers.c for why).

fn main() {
    println!("cargo:rerun-if-changed=csrc/numbers.c");
    cc::Build::new()
        .file("csrc/numbers.c")
        .warnings(true)
        .compile("cachet_numbers");
}
