//! With the `japanese` feature, find vaporetto's `bccwj-suw_c1.0` model (the one Qdrant splits
//! Japanese text with) and hand its path to the compiler as `BM25X_VAPORETTO_MODEL_FILE`.
//!
//! Where the model comes from, first found wins:
//! 1. the file named by `BM25X_VAPORETTO_MODEL`;
//! 2. `data/vaporetto/bccwj-suw_c1.0.model` beside this file: the source distribution carries it
//!    there (`make sdist` puts it in, with its licence and provenance in that folder's README),
//!    so a build from the sdist needs no network for it, and none at all once the crates are
//!    vendored (`cargo vendor`);
//! 3. in a git checkout, a registry package that ships it: the crates.io crate qdrant-edge 0.9.0
//!    (Apache-2.0). Building from a checkout downloads every dependency from crates.io anyway;
//!    this one crate is fetched the same way, with `cargo info` (which downloads its archive,
//!    checked by cargo, into cargo's cache without building it), and the model is unpacked into
//!    `OUT_DIR`.
//!
//! The model (800 KB of binary weights) is not committed to git: the registry already holds the
//! exact bytes Qdrant ships, and the sdist is the one artefact that must build without a registry.

use std::env;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const CRATE_FILE: &str = "qdrant-edge-0.9.0.crate";
const MEMBER: &str = "qdrant-edge-0.9.0/tokenizer/bccwj-suw_c1.0.model";
const MODEL_SIZE: usize = 817_859;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=BM25X_VAPORETTO_MODEL");
    if env::var_os("CARGO_FEATURE_JAPANESE").is_none() {
        return;
    }
    let manifest_dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR"));
    let bundled_dir = manifest_dir.join("data").join("vaporetto");
    // The folder, not the file: watching a file that does not exist reruns this script always.
    println!("cargo:rerun-if-changed={}", bundled_dir.display());
    let bundled = bundled_dir.join("bccwj-suw_c1.0.model");
    let model = match env::var("BM25X_VAPORETTO_MODEL") {
        Ok(path) if !path.is_empty() => PathBuf::from(path),
        _ if bundled.is_file() => {
            let len = std::fs::metadata(&bundled).map_or(0, |m| m.len());
            assert!(
                len == MODEL_SIZE as u64,
                "{} has {len} bytes, not the model's {MODEL_SIZE}: remove it (a git checkout \
                 then takes the model from crates.io) or put the right file there",
                bundled.display()
            );
            bundled
        }
        _ => unpack_from_registry(),
    };
    println!("cargo:rerun-if-changed={}", model.display());
    println!(
        "cargo:rustc-env=BM25X_VAPORETTO_MODEL_FILE={}",
        model.display()
    );
}

fn cargo_home() -> PathBuf {
    env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| env::var_os("HOME").map(|h| Path::new(&h).join(".cargo")))
        .expect("neither CARGO_HOME nor HOME is set")
}

fn cached_crate() -> Option<PathBuf> {
    let cache = cargo_home().join("registry").join("cache");
    std::fs::read_dir(cache)
        .ok()?
        .flatten()
        .map(|dir| dir.path().join(CRATE_FILE))
        .find(|path| path.is_file())
}

fn unpack_from_registry() -> PathBuf {
    let out_dir = PathBuf::from(env::var("OUT_DIR").expect("OUT_DIR"));
    let model = out_dir.join("bccwj-suw_c1.0.model");
    if std::fs::metadata(&model).is_ok_and(|m| m.len() == MODEL_SIZE as u64) {
        return model;
    }
    let crate_file = cached_crate().or_else(|| {
        let cargo = env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let _ = Command::new(cargo)
            .args(["info", "--quiet", "qdrant-edge@0.9.0"])
            .current_dir(&out_dir)
            .stdout(Stdio::null())
            .status();
        cached_crate()
    });
    let Some(crate_file) = crate_file else {
        panic!(
            "the `japanese` feature needs vaporetto's bccwj-suw_c1.0 model: could not download \
             the crate qdrant-edge 0.9.0 from crates.io. Set BM25X_VAPORETTO_MODEL to the model \
             file, or build without the feature (remove `japanese` from [tool.maturin] features \
             in pyproject.toml)."
        );
    };
    let unpacked = Command::new("tar")
        .arg("-xzf")
        .arg(&crate_file)
        .args(["-O", MEMBER])
        .output()
        .expect("running tar to unpack the qdrant-edge crate");
    assert!(
        unpacked.status.success() && unpacked.stdout.len() == MODEL_SIZE,
        "unpacking {MEMBER} from {} failed ({} bytes)",
        crate_file.display(),
        unpacked.stdout.len()
    );
    std::fs::write(&model, &unpacked.stdout).expect("writing the model into OUT_DIR");
    model
}
