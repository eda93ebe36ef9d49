"""What following a training run costs (worker.TrainingTrace / worker.NumpyTrace, issue 16):
the reference's training at the grader's ci caps, on this machine's CPU, with and without the
trace, side by side in one run (alternating, same seed, best of --repeats).

    .venv/bin/python benchmarks/training_trace_overhead.py [--repeats 3]

Prints seconds with/without and their ratio per model. No sandbox: the same code the worker
runs, timed alone.
"""
from __future__ import annotations

import argparse
import importlib.util
import os
import pathlib
import sys
import time

import numpy as np

REPO = pathlib.Path(__file__).resolve().parents[1]
HW1 = REPO / "source" / "hw1"


def _load(name):
    spec = importlib.util.spec_from_file_location(f"hw1_{name}", REPO / "instructor_tools" / "grader" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def part2(worker, raw, model_name, num_train, batch_size, traced):
    import torch
    import train
    torch.manual_seed(0)
    args = train.parse_args(["--model", model_name, "--epochs", "1", "--batch-size", str(batch_size)])
    model = train.build_model(args)
    optimizer = train.build_optimizer(model, args)
    x, y = raw[0][:num_train], raw[1][:num_train]
    val_x, val_y = raw[0][-1000:-500], raw[1][-1000:-500]
    trace = worker.TrainingTrace(model, val_x, "cpu", seed=1) if traced else None
    started = time.perf_counter()
    train.fit(model, optimizer, args, x, y, val_x, val_y, "cpu", log=lambda line: None)
    if trace:
        report = trace.report()
        assert report["n_jumps"] == 0 and not report["after_last"], report
    return time.perf_counter() - started


def part1(worker, raw, traced):
    from cs231n.classifiers.neural_net import TwoLayerNet
    np.random.seed(0)
    x = raw[0][:10000].reshape(10000, -1).astype(np.float64)
    mean = x.mean(0)
    x -= mean
    val = raw[0][-500:].reshape(500, -1).astype(np.float64) - mean
    net = TwoLayerNet(3072, 100, 10)
    trace = worker.NumpyTrace(net, val) if traced else None
    started = time.perf_counter()
    net.train(x, raw[1][:10000], val, raw[1][-500:], learning_rate=1e-3, learning_rate_decay=0.95,
              reg=0.25, num_iters=1000, batch_size=200)
    if trace:
        trace.report()
    return time.perf_counter() - started


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    for part in ("1_cs231n", "2_pytorch"):
        sys.path.insert(0, str(HW1 / part))
    from instructor_tools.grader import data as D
    cifar = pathlib.Path(os.environ.get("CIFAR10_DIR", REPO / "data" / "cifar-10-batches-py"))
    raw = D.load_raw(cifar)
    worker = _load("worker_trace")
    runs = {
        "Q8.5 softmax (10000 images, batch 128)": lambda t: part2(worker, raw, "softmax", 10000, 128, t),
        "Q8.7 convnet (4000 images, batch 128)": lambda t: part2(worker, raw, "convnet", 4000, 128, t),
        "Q8.8 mymodel (1024 images, batch 32)": lambda t: part2(worker, raw, "mymodel", 1024, 32, t),
        "Q8.2 two-layer net (1000 iterations)": lambda t: part1(worker, raw, t),
    }
    print(f"{'training run':42s} {'plain s':>8s} {'traced s':>9s} {'ratio':>6s}")
    for name, run in runs.items():
        plain, traced = [], []
        for _ in range(args.repeats):
            plain.append(run(False))
            traced.append(run(True))
        print(f"{name:42s} {min(plain):8.2f} {min(traced):9.2f} {min(traced) / min(plain):6.3f}")


if __name__ == "__main__":
    main()
