"""Put CIFAR-10 (official python layout) into the grading image, checked.

Usage (inside the image build): python cifar10.py CONTEXT_DIR DEST_DIR
  CONTEXT_DIR/cifar-10-batches-py present (the build context carried it): copy it.
  Otherwise download the official archive, check its md5, and extract it.
Either way every batch is opened and checked (10000 images of 3x32x32 uint8, labels 0..9,
10 class names) before the build goes on; anything wrong stops the build with a message.
"""
import hashlib
import pathlib
import pickle
import shutil
import sys
import tarfile
import tempfile
import urllib.request

URL = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
MD5 = "c58f30108f718f92721af3b95e74349a"
BATCHES = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]


def fail(message: str) -> None:
    sys.exit(f"CIFAR-10: {message}")


def download(dest_parent: pathlib.Path) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        archive = pathlib.Path(tmp) / "cifar-10-python.tar.gz"
        print(f"CIFAR-10: downloading {URL}", flush=True)
        try:
            with urllib.request.urlopen(URL, timeout=120) as r, open(archive, "wb") as f:
                shutil.copyfileobj(r, f)
        except OSError as exc:
            fail(f"download failed ({exc}); put the data set at data/cifar-10-batches-py in the "
                 "build context (`make data`) and build again")
        md5 = hashlib.md5(archive.read_bytes()).hexdigest()
        if md5 != MD5:
            fail(f"downloaded archive has md5 {md5}, expected {MD5}")
        with tarfile.open(archive) as tar:
            tar.extractall(dest_parent, filter="data")


def check(folder: pathlib.Path) -> None:
    meta_path = folder / "batches.meta"
    if not meta_path.is_file():
        fail(f"{meta_path} missing")
    with open(meta_path, "rb") as f:
        meta = pickle.load(f, encoding="latin1")
    if len(meta.get("label_names", [])) != 10:
        fail("batches.meta does not list 10 class names")
    for name in BATCHES:
        path = folder / name
        if not path.is_file():
            fail(f"{path} missing")
        with open(path, "rb") as f:
            batch = pickle.load(f, encoding="bytes")
        # the official files (pickled by Python 2) have bytes keys; re-made copies may have str keys
        data = batch.get(b"data", batch.get("data"))
        labels = batch.get(b"labels", batch.get("labels"))
        if data is None or labels is None:
            fail(f"{name} lacks data or labels")
        if getattr(data, "shape", None) != (10000, 3072) or str(data.dtype) != "uint8":
            fail(f"{name}: data has shape {getattr(data, 'shape', '?')}, expected (10000, 3072) uint8")
        if len(labels) != 10000 or min(labels) < 0 or max(labels) > 9:
            fail(f"{name}: expected 10000 labels in 0..9")
    digest = hashlib.md5(b"".join(hashlib.md5((folder / n).read_bytes()).digest() for n in BATCHES))
    print(f"CIFAR-10: checked {folder} (6 batches, md5 of batch md5s {digest.hexdigest()})")


def main() -> None:
    context, dest = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
    dest.parent.mkdir(parents=True, exist_ok=True)
    carried = context / "cifar-10-batches-py"
    if (carried / "batches.meta").is_file():
        print(f"CIFAR-10: copying the data set carried in the build context", flush=True)
        shutil.copytree(carried, dest)
    else:
        download(dest.parent)
        if dest.name != "cifar-10-batches-py":
            (dest.parent / "cifar-10-batches-py").rename(dest)
    check(dest)


if __name__ == "__main__":
    main()
