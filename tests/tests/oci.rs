//! `make oci`: the compat wasm image, reproducible, whose layer is exactly the built filter.

use std::process::Command;

use model_router_tests::envoy::{repo_root, wasm_path};

fn oci(args: &[&str]) -> String {
    let out =
        Command::new("python3").arg(repo_root().join("scripts/oci.py")).args(args).output().expect("python3");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "oci.py {args:?}: {text}");
    text
}

#[test]
fn the_image_layer_is_the_built_wasm_and_the_digest_is_reproducible() {
    let wasm = wasm_path();
    let wasm = wasm.to_str().expect("path");
    let base = std::env::temp_dir().join(format!("model-router-oci-{}", std::process::id()));
    let (a, b) = (base.join("a"), base.join("b"));
    let (a, b) = (a.to_str().expect("path"), b.to_str().expect("path"));
    oci(&["build", wasm, a]);
    oci(&["build", wasm, b]);
    assert!(oci(&["verify", a, wasm]).contains("the layer holds exactly"));
    let index = |dir: &str| std::fs::read(format!("{dir}/layout/index.json")).expect("index");
    assert_eq!(index(a), index(b), "same wasm, different image");
    let tar = |dir: &str| std::fs::read(format!("{dir}/model-router-oci.tar")).expect("tar");
    assert_eq!(tar(a), tar(b));
    // A different wasm is caught by verify.
    let other = base.join("other.wasm");
    std::fs::write(&other, b"\0asm\x01\0\0\0").expect("write");
    let out = Command::new("python3")
        .arg(repo_root().join("scripts/oci.py"))
        .args(["verify", a, other.to_str().expect("path")])
        .output()
        .expect("python3");
    assert!(!out.status.success());
    let _ = std::fs::remove_dir_all(base);
}
