#!/usr/bin/env python3
"""The filter as an OCI image in the "compat" wasm format Istio and Envoy Gateway pull: one
gzipped tar layer holding plugin.wasm. No Docker: the image layout is written directly, and
reproducibly (fixed timestamps, owners and order), so the same wasm always gives the same
digest.

    python3 scripts/oci.py build build/model_router.wasm build/oci   # layout + tarball
    python3 scripts/oci.py verify build/oci build/model_router.wasm  # layer == the wasm
"""
import gzip
import hashlib
import io
import json
import os
import sys
import tarfile

MANIFEST = "application/vnd.oci.image.manifest.v1+json"
INDEX = "application/vnd.oci.image.index.v1+json"
CONFIG = "application/vnd.oci.image.config.v1+json"
LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"


def tar_bytes(entries):
    """A deterministic tar of (name, bytes) pairs, in the given order."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for name, data in entries:
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.mode = len(data), 0, 0o644
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def gz(data):
    buf = io.BytesIO()
    with gzip.GzipFile(filename="", fileobj=buf, mode="wb", compresslevel=9, mtime=0) as f:
        f.write(data)
    return buf.getvalue()


def digest(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


def build(wasm_path, out):
    wasm = open(wasm_path, "rb").read()
    layer_tar = tar_bytes([("plugin.wasm", wasm)])
    layer = gz(layer_tar)
    config = json.dumps({
        "architecture": "amd64", "os": "linux",
        "rootfs": {"type": "layers", "diff_ids": [digest(layer_tar)]},
    }, sort_keys=True, separators=(",", ":")).encode()
    manifest = json.dumps({
        "schemaVersion": 2, "mediaType": MANIFEST,
        "config": {"mediaType": CONFIG, "digest": digest(config), "size": len(config)},
        "layers": [{"mediaType": LAYER, "digest": digest(layer), "size": len(layer),
                    "annotations": {"org.opencontainers.image.title": "plugin.wasm"}}],
        "annotations": {"org.opencontainers.image.title": "model-router"},
    }, sort_keys=True, separators=(",", ":")).encode()
    index = json.dumps({
        "schemaVersion": 2, "mediaType": INDEX,
        "manifests": [{"mediaType": MANIFEST, "digest": digest(manifest), "size": len(manifest),
                       "annotations": {"org.opencontainers.image.ref.name": "latest"}}],
    }, sort_keys=True, separators=(",", ":")).encode()
    files = [("oci-layout", b'{"imageLayoutVersion":"1.0.0"}'), ("index.json", index)]
    files += sorted(("blobs/sha256/" + digest(b)[7:], b) for b in (layer, config, manifest))
    layout = os.path.join(out, "layout")
    for name, data in files:
        path = os.path.join(layout, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)
    with open(os.path.join(out, "model-router-oci.tar"), "wb") as f:
        f.write(tar_bytes(files))
    print(f"image {digest(manifest)} (layer {digest(layer)}) in {layout} and {out}/model-router-oci.tar")


def verify(out, wasm_path):
    layout = os.path.join(out, "layout")
    blob = lambda d: open(os.path.join(layout, "blobs", "sha256", d.split(":", 1)[1]), "rb").read()
    index = json.load(open(os.path.join(layout, "index.json")))
    (entry,) = index["manifests"]
    manifest_bytes = blob(entry["digest"])
    assert digest(manifest_bytes) == entry["digest"] and len(manifest_bytes) == entry["size"]
    manifest = json.loads(manifest_bytes)
    (layer_desc,) = manifest["layers"]
    layer = blob(layer_desc["digest"])
    assert digest(layer) == layer_desc["digest"] and len(layer) == layer_desc["size"]
    config = blob(manifest["config"]["digest"])
    assert digest(config) == manifest["config"]["digest"]
    layer_tar = gzip.decompress(layer)
    assert json.loads(config)["rootfs"]["diff_ids"] == [digest(layer_tar)]
    with tarfile.open(fileobj=io.BytesIO(layer_tar)) as tar:
        names = tar.getnames()
        assert names == ["plugin.wasm"], names
        data = tar.extractfile("plugin.wasm").read()
    assert data == open(wasm_path, "rb").read(), "the layer's plugin.wasm differs from the built wasm"
    print(f"verified {entry['digest']}: the layer holds exactly {wasm_path}")


if __name__ == "__main__":
    if len(sys.argv) != 4 or sys.argv[1] not in ("build", "verify"):
        sys.exit(__doc__)
    (build if sys.argv[1] == "build" else verify)(sys.argv[2], sys.argv[3])
