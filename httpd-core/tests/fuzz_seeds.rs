//! The fuzz targets' seed corpora (`fuzz/seeds/TARGET/*`) through the same checks the
//! cargo-fuzz targets run (`fuzz/checks.rs`), on stable: CI replays every seed, and a crash
//! the fuzzer finds becomes a seed here once fixed.

#[path = "../../fuzz/checks.rs"]
mod checks;

type Check = fn(&[u8]);

#[test]
fn fuzz_seed_corpora_pass_their_checks() {
    let targets: [(&str, Check); 6] = [
        ("request_head", checks::request_head),
        ("chunk_size", checks::chunk_size),
        ("range", checks::range),
        ("config", checks::config),
        ("status_auto", checks::status_auto),
        ("log_format", checks::log_format),
    ];
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/seeds");
    for (name, check) in targets {
        let mut n = 0;
        for e in std::fs::read_dir(root.join(name)).expect(name) {
            let data = std::fs::read(e.expect("entry").path()).expect("seed");
            check(&data);
            n += 1;
        }
        assert!(n > 0, "no seeds for {name}");
    }
}
