"""Part 1 on real CIFAR-10: the loader, the download script, and the accuracy of the reference
classifiers trained with hyperparams.json (the values the grader retrains with)."""
import json
import os
import shutil
import subprocess
import tarfile
import time

import numpy as np
import pytest

from conftest import PART1
from cs231n import data_utils
from cs231n.classifiers.cnn import ThreeLayerConvNet
from cs231n.classifiers.linear_classifier import Softmax
from cs231n.classifiers.neural_net import TwoLayerNet
from cs231n.data_utils import CIFAR10NotFoundError, get_CIFAR10_data, load_CIFAR10, to_columns_with_bias
from cs231n.solver import Solver

GET_DATASETS = PART1 / "cs231n" / "datasets" / "get_datasets.sh"
HYPERPARAMS = PART1 / "hyperparams.json"
SCHEMA = {
    "softmax": {"learning_rate", "reg", "num_iters", "batch_size"},
    "two_layer_net": {"hidden_size", "learning_rate", "learning_rate_decay", "reg", "num_iters", "batch_size"},
    "convnet": {"num_filters", "filter_size", "hidden_dim", "weight_scale", "reg", "update_rule",
                "learning_rate", "num_epochs", "batch_size", "num_train"},
}


@pytest.fixture(scope="module")
def data(cifar10_dir):
    """get_CIFAR10_data() on the real data: 49000 / 1000 / 1000 images, mean image subtracted."""
    return get_CIFAR10_data(cifar10_dir=cifar10_dir)


@pytest.fixture(scope="module")
def hyperparams():
    return json.loads(HYPERPARAMS.read_text())


# ---- loader ---------------------------------------------------------------------------------

@pytest.mark.slow
def test_load_cifar10_shapes_dtypes_and_labels(cifar10_dir):
    Xtr, ytr, Xte, yte = load_CIFAR10(cifar10_dir)
    assert Xtr.shape == (50000, 32, 32, 3) and Xte.shape == (10000, 32, 32, 3)
    assert Xtr.dtype == Xte.dtype == np.float64
    assert ytr.shape == (50000,) and yte.shape == (10000,)
    assert 0 <= Xtr.min() and Xtr.max() <= 255 and Xtr.std() > 30
    assert np.array_equal(np.bincount(ytr), [5000] * 10)
    assert np.array_equal(np.bincount(yte), [1000] * 10)


@pytest.mark.slow
def test_get_cifar10_data_splits_nchw_and_subtracts_the_training_mean(cifar10_dir, data):
    expected = {"X_train": (49000, 3, 32, 32), "y_train": (49000,), "X_val": (1000, 3, 32, 32),
                "y_val": (1000,), "X_test": (1000, 3, 32, 32), "y_test": (1000,)}
    assert {k: v.shape for k, v in data.items()} == expected
    assert all(data[k].dtype == np.float64 for k in ("X_train", "X_val", "X_test"))
    assert np.abs(data["X_train"].mean(axis=0)).max() < 1e-9
    Xtr, ytr, _, _ = load_CIFAR10(cifar10_dir)
    mean = Xtr[:49000].mean(axis=0)
    assert np.allclose(data["X_val"][7], (Xtr[49007] - mean).transpose(2, 0, 1))
    assert np.array_equal(data["y_val"], ytr[49000:])


def test_default_folder_comes_from_cifar10_dir(monkeypatch, tmp_path):
    monkeypatch.setenv("CIFAR10_DIR", str(tmp_path / "elsewhere"))
    assert data_utils.default_cifar10_dir() == str(tmp_path / "elsewhere")
    with pytest.raises(CIFAR10NotFoundError, match="elsewhere"):
        load_CIFAR10()
    monkeypatch.delenv("CIFAR10_DIR")
    assert data_utils.default_cifar10_dir() == str(PART1 / "cs231n" / "datasets" / "cifar-10-batches-py")


def test_missing_data_names_the_command_to_run(tmp_path):
    with pytest.raises(CIFAR10NotFoundError) as error:
        get_CIFAR10_data(cifar10_dir=tmp_path / "cifar-10-batches-py")
    message = str(error.value)
    assert "folder not found" in message and "bash cs231n/datasets/get_datasets.sh" in message
    assert error.value.__cause__ is None and error.value.__suppress_context__ is False


@pytest.mark.parametrize("damage", ["truncate", "delete"])
def test_damaged_data_names_the_file_and_the_command(cifar10_dir, tmp_path, damage):
    copy = tmp_path / "cifar-10-batches-py"
    shutil.copytree(cifar10_dir, copy)
    batch = copy / "data_batch_3"
    if damage == "truncate":
        batch.write_bytes(batch.read_bytes()[:5000])
    else:
        batch.unlink()
    with pytest.raises(CIFAR10NotFoundError) as error:
        load_CIFAR10(copy)
    message = str(error.value)
    assert str(batch) in message and "bash cs231n/datasets/get_datasets.sh" in message
    assert ("damaged" if damage == "truncate" else "file not found") in message
    assert error.value.__cause__ is None  # one clear message, not a chain of tracebacks


# ---- download script --------------------------------------------------------------------------

def run_get_datasets(target, url=None):
    env = dict(os.environ, CIFAR10_DIR=str(target))
    if url:
        env["CIFAR10_URL"] = url
    return subprocess.run(["bash", str(GET_DATASETS)], env=env, capture_output=True, text=True, timeout=120)


def test_get_datasets_uses_an_existing_folder_as_it_is(cifar10_dir):
    before = {p.name: p.stat().st_mtime_ns for p in cifar10_dir.iterdir()}
    result = run_get_datasets(cifar10_dir)
    assert result.returncode == 0, result.stderr
    assert "using it as it is" in result.stdout
    assert {p.name: p.stat().st_mtime_ns for p in cifar10_dir.iterdir()} == before


def test_get_datasets_refuses_an_archive_with_the_wrong_md5(tmp_path):
    fake = tmp_path / "cifar-10-python.tar.gz"
    (tmp_path / "cifar-10-batches-py").mkdir()
    (tmp_path / "cifar-10-batches-py" / "batches.meta").write_text("not the real thing")
    with tarfile.open(fake, "w:gz") as tar:
        tar.add(tmp_path / "cifar-10-batches-py", arcname="cifar-10-batches-py")
    target = tmp_path / "data" / "cifar-10-batches-py"
    result = run_get_datasets(target, url=fake.as_uri())
    assert result.returncode == 1
    assert "damaged (md5" in result.stderr and "c58f30108f718f92721af3b95e74349a" in result.stderr
    assert not target.exists() and os.listdir(target.parent) == []  # nothing half-unpacked left


def test_get_datasets_reports_a_failed_download(tmp_path):
    result = run_get_datasets(tmp_path / "cifar-10-batches-py", url=(tmp_path / "missing.tar.gz").as_uri())
    assert result.returncode == 1 and "download from" in result.stderr and "failed" in result.stderr


def test_get_datasets_will_not_touch_an_incomplete_folder(tmp_path):
    target = tmp_path / "cifar-10-batches-py"
    target.mkdir()
    (target / "data_batch_1").write_text("my own file")
    result = run_get_datasets(target, url=(tmp_path / "missing.tar.gz").as_uri())
    assert result.returncode == 1 and "not a complete CIFAR-10 folder" in result.stderr
    assert (target / "data_batch_1").read_text() == "my own file"


# ---- hyperparams.json and real accuracy --------------------------------------------------------

def test_hyperparams_json_follows_the_schema(hyperparams):
    assert {k: set(v) for k, v in hyperparams.items()} == SCHEMA
    for section in hyperparams.values():
        for key, value in section.items():
            assert value is not None, key
    assert hasattr(Solver(ThreeLayerConvNet(input_dim=(3, 4, 4), filter_size=3), {
        "X_train": np.zeros((1, 3, 4, 4)), "y_train": np.zeros(1, int),
        "X_val": np.zeros((1, 3, 4, 4)), "y_val": np.zeros(1, int)},
        update_rule=hyperparams["convnet"]["update_rule"]), "train")


class Stopwatch:
    """Wall-clock and CPU seconds of a block (CPU time is the fairer figure on a shared machine)."""

    def __enter__(self):
        self.wall, self.cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc):
        self.wall, self.cpu = time.perf_counter() - self.wall, time.process_time() - self.cpu


def report(name, watch, **accuracies):
    figures = ", ".join(f"{k} {v:.3f}" for k, v in accuracies.items())
    print(f"\n{name}: {figures} (trained in {watch.wall:.1f} s wall, {watch.cpu:.1f} s CPU)")


@pytest.mark.slow
def test_softmax_reaches_037_validation_accuracy(data, hyperparams):
    hp = hyperparams["softmax"]
    X_train, X_val = to_columns_with_bias(data["X_train"]), to_columns_with_bias(data["X_val"])
    np.random.seed(0)
    clf = Softmax()
    with Stopwatch() as watch:
        clf.train(X_train, data["y_train"], learning_rate=hp["learning_rate"], reg=hp["reg"],
                  num_iters=hp["num_iters"], batch_size=hp["batch_size"])
    val = np.mean(clf.predict(X_val) == data["y_val"])
    test = np.mean(clf.predict(to_columns_with_bias(data["X_test"])) == data["y_test"])
    report("softmax", watch, val=val, test=test)
    assert val >= 0.37


@pytest.mark.slow
def test_two_layer_net_reaches_050_validation_accuracy(data, hyperparams):
    hp = hyperparams["two_layer_net"]
    rows = {k: data[k].reshape(len(data[k]), -1) for k in ("X_train", "X_val", "X_test")}
    np.random.seed(0)
    net = TwoLayerNet(3 * 32 * 32, hp["hidden_size"], 10)
    with Stopwatch() as watch:
        stats = net.train(rows["X_train"], data["y_train"], rows["X_val"], data["y_val"],
                          learning_rate=hp["learning_rate"], learning_rate_decay=hp["learning_rate_decay"],
                          reg=hp["reg"], num_iters=hp["num_iters"], batch_size=hp["batch_size"])
    val = np.mean(net.predict(rows["X_val"]) == data["y_val"])
    test = np.mean(net.predict(rows["X_test"]) == data["y_test"])
    report("two-layer net", watch, val=val, test=test)
    assert stats["loss_history"][-1] < stats["loss_history"][0]
    assert val >= 0.50


@pytest.mark.slow
def test_convnet_passes_040_training_accuracy_in_a_bounded_run(data, hyperparams):
    hp = hyperparams["convnet"]
    n = hp["num_train"]
    subset = {"X_train": data["X_train"][:n], "y_train": data["y_train"][:n],
              "X_val": data["X_val"], "y_val": data["y_val"]}
    np.random.seed(0)
    model = ThreeLayerConvNet(num_filters=hp["num_filters"], filter_size=hp["filter_size"],
                              hidden_dim=hp["hidden_dim"], weight_scale=hp["weight_scale"], reg=hp["reg"])
    solver = Solver(model, subset, update_rule=hp["update_rule"],
                    optim_config={"learning_rate": hp["learning_rate"]},
                    num_epochs=hp["num_epochs"], batch_size=hp["batch_size"], verbose=False)
    with Stopwatch() as watch:
        solver.train()
    train = solver.check_accuracy(subset["X_train"], subset["y_train"])
    val = solver.check_accuracy(data["X_val"], data["y_val"])
    report("three-layer convnet", watch, train=train, val=val)
    assert train > 0.40
