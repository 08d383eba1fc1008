//! Replays every file of `fuzz/corpus/<target>/` and `fuzz/artifacts/<target>/`
//! through its fuzz body, and every built-in seed: the corpora are
//! regression tests. `LANTERN_WRITE_SEEDS=1` (re)writes the seeds into the
//! corpora first.

// A test panics on a broken expectation by design: it may unwrap.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

use lantern_fuzzing::{TARGETS, seeds};

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz")
}

fn files(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
}

fn replay(target: &str) {
    let body = TARGETS
        .iter()
        .find(|(name, _)| *name == target)
        .map(|(_, body)| *body)
        .unwrap_or_else(|| panic!("no target {target}"));
    let mut inputs: Vec<(String, Vec<u8>)> = seeds::all()
        .into_iter()
        .filter(|(t, _, _)| *t == target)
        .map(|(_, name, bytes)| (format!("seed {name}"), bytes))
        .collect();
    let corpus = fuzz_dir().join("corpus").join(target);
    let on_disk = files(&corpus);
    assert!(
        !on_disk.is_empty() || std::env::var_os("LANTERN_WRITE_SEEDS").is_some(),
        "{} is empty: run LANTERN_WRITE_SEEDS=1 cargo test -p lantern-fuzzing --test corpora",
        corpus.display()
    );
    for path in on_disk
        .into_iter()
        .chain(files(&fuzz_dir().join("artifacts").join(target)))
    {
        let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        inputs.push((path.display().to_string(), bytes));
    }
    let failed: Vec<String> = inputs
        .iter()
        .filter(|(_, bytes)| catch_unwind(AssertUnwindSafe(|| body(bytes))).is_err())
        .map(|(name, _)| name.clone())
        .collect();
    assert!(
        failed.is_empty(),
        "{target}: {} of {} inputs fail (messages above):\n{}",
        failed.len(),
        inputs.len(),
        failed.join("\n")
    );
}

/// Writes the seeds into the corpora when asked to; runs before nothing in
/// particular, so write them, then run the tests again.
#[test]
fn write_seeds_when_asked() {
    if std::env::var_os("LANTERN_WRITE_SEEDS").is_none() {
        return;
    }
    for (target, name, bytes) in seeds::all() {
        let dir = fuzz_dir().join("corpus").join(target);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(format!("seed-{name}")), bytes).unwrap();
    }
}

macro_rules! corpus_tests {
    ($($name:ident),+ $(,)?) => {
        $(
            #[test]
            fn $name() {
                replay(stringify!($name));
            }
        )+

        #[test]
        fn every_target_has_a_test() {
            let tested = [$(stringify!($name)),+];
            for (target, _) in TARGETS {
                assert!(tested.contains(target), "{target} has no corpus test");
            }
        }
    };
}

corpus_tests!(
    scrub,
    decode_report,
    schema_validate,
    project_directory,
    project_reports,
    project_critical,
    project_rates,
    project_rca,
    project_mortality,
);
