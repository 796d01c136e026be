//! dindbox mounts its own binary into every sandbox as the init: warn when the
//! build is not static, since such a binary only runs in images with glibc.

fn main() {
    let features = std::env::var("CARGO_CFG_TARGET_FEATURE").unwrap_or_default();
    let env = std::env::var("CARGO_CFG_TARGET_ENV").unwrap_or_default();
    if env == "gnu" && !features.split(',').any(|f| f == "crt-static") {
        println!(
            "cargo:warning=dindbox is linked dynamically: as a sandbox's init it will only run in images with glibc (see .cargo/config.toml)"
        );
    }
    println!("cargo:rerun-if-changed=build.rs");
}
