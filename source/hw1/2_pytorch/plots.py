"""Plots of a training log and pictures of a model's first-layer filters.

    python plots.py --model softmax                  # reads softmax.log and softmax.pt
    python plots.py --model convnet --log runs/c.log --checkpoint runs/c.pt --out-dir figs

writes <model>_lossvstrain.png (training and validation loss against iterations),
<model>_valaccuracy.png (validation accuracy) and <model>_gridfilt.png (the first
layer's weights as 3-channel images). The notebooks import the functions below.
"""
import argparse
import math
import pathlib
import re
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import torch.nn as nn  # noqa: E402
from torchvision.utils import make_grid  # noqa: E402

from cifar10 import CLASSES  # noqa: E402

TRAIN_LINE = re.compile(
    r"Train Epoch: (?P<epoch>\d+) \[(?P<seen>\d+)/(?P<total>\d+) \([\d.]+%\)\]\s+"
    r"Train Loss: (?P<train_loss>\S+)\s+Val Loss: (?P<val_loss>\S+)\s+Val Acc: (?P<val_acc>\S+)")
TEST_LINE = re.compile(r"test set: Average loss: (?P<loss>\S+), Accuracy: (?P<correct>\d+)/"
                       r"(?P<total>\d+) \((?P<acc>[\d.]+)%\)")
HEADER_LINE = re.compile(r"Training (?P<model>\w+) on .*batch size (?P<batch_size>\d+)")


def parse_log(log):
    """Read a train.py log (a path or the text itself).

    Returns:
        dict with lists `epoch`, `seen`, `total`, `train_loss`, `val_loss`, `val_acc`
        (percent), one entry per training line; `iteration` (optimiser steps, when the
        log's header names the batch size, else None); `epochs_done` (fractional
        epochs at each line); `model` and `batch_size` from the header (or None); `test`:
        dict(loss, correct, total, acc) from the last line, or None if missing.
    """
    text = pathlib.Path(log).read_text() if isinstance(log, pathlib.Path) or (
        isinstance(log, str) and "\n" not in log and pathlib.Path(log).is_file()) else log
    out = {k: [] for k in ("epoch", "seen", "total", "train_loss", "val_loss", "val_acc")}
    out.update(model=None, batch_size=None, test=None)
    for line in text.splitlines():
        if m := HEADER_LINE.search(line):
            out["model"], out["batch_size"] = m["model"], int(m["batch_size"])
        elif m := TRAIN_LINE.search(line):
            for key in ("epoch", "seen", "total"):
                out[key].append(int(m[key]))
            for key in ("train_loss", "val_loss", "val_acc"):
                out[key].append(float(m[key]))
        elif m := TEST_LINE.search(line):
            out["test"] = {"loss": float(m["loss"]), "correct": int(m["correct"]),
                           "total": int(m["total"]), "acc": float(m["acc"])}
    out["epochs_done"] = [e - 1 + s / t for e, s, t in zip(out["epoch"], out["seen"], out["total"])]
    bs = out["batch_size"]
    out["iteration"] = [round((e - 1) * math.ceil(t / bs) + math.ceil(s / bs))
                        for e, s, t in zip(out["epoch"], out["seen"], out["total"])] if bs else None
    return out


def _x_axis(parsed):
    if parsed["iteration"] is not None:
        return parsed["iteration"], "iteration (optimiser steps)"
    return parsed["epochs_done"], "epoch"


def _no_lines(parsed, what):
    if not parsed["epoch"]:
        raise ValueError(f"No 'Train Epoch:' lines in the log, so there is no {what} to plot.")


def plot_loss(parsed, out_path, model_name="model"):
    """Training and validation loss against iterations -> PNG at out_path."""
    _no_lines(parsed, "loss")
    x, xlabel = _x_axis(parsed)
    fig, ax = plt.subplots(figsize=(7, 4.5))
    ax.plot(x, parsed["train_loss"], label="training loss (mean since previous line)")
    ax.plot(x, parsed["val_loss"], label="validation loss", marker=".")
    ax.set(xlabel=xlabel, ylabel="cross-entropy loss", title=f"{model_name}: loss during training")
    ax.grid(alpha=0.3)
    ax.legend()
    return _save(fig, out_path)


def plot_val_accuracy(parsed, out_path, model_name="model"):
    """Validation accuracy against iterations (and the test accuracy, if logged) -> PNG."""
    _no_lines(parsed, "accuracy")
    x, xlabel = _x_axis(parsed)
    fig, ax = plt.subplots(figsize=(7, 4.5))
    ax.plot(x, parsed["val_acc"], marker=".", label="validation accuracy (1000 images)")
    if parsed["test"]:
        ax.axhline(parsed["test"]["acc"], color="tab:red", linestyle="--",
                   label=f"final test accuracy {parsed['test']['acc']:.2f}%")
    ax.set(xlabel=xlabel, ylabel="accuracy (%)", title=f"{model_name}: validation accuracy")
    ax.grid(alpha=0.3)
    ax.legend()
    return _save(fig, out_path)


def first_layer_filters(model):
    """The first layer's weights as images: float tensor (K, 3, h, w), channels R, G, B.

    For a first convolution these are its filters; for a first linear layer on the
    flattened image (softmax, two-layer net) each row of the weight matrix, reshaped
    to the image's (C, H, W) order in which the input was flattened.
    """
    im_size = tuple(getattr(model, "constructor_kwargs", {}).get("im_size", (3, 32, 32)))
    for module in model.modules():
        if isinstance(module, nn.Conv2d) and module.in_channels == im_size[0]:
            return module.weight.detach().float().cpu()
        if isinstance(module, nn.Linear) and module.in_features == math.prod(im_size):
            return module.weight.detach().float().cpu().reshape(-1, *im_size)
    raise ValueError("The model has no convolution or linear layer that reads the image.")


def plot_filters(model, out_path, model_name="model", max_filters=64):
    """The first layer's weights as a grid of colour images -> PNG at out_path.

    Each filter is scaled to 0..1 on its own (make_grid's scale_each), so colours
    show the filter's pattern, not its size.
    """
    weights = first_layer_filters(model)[:max_filters]
    nrow = len(weights) if len(weights) <= 10 else math.ceil(math.sqrt(len(weights)))
    grid = make_grid(weights, nrow=nrow, padding=1, normalize=True, scale_each=True, pad_value=1.0)
    fig, ax = plt.subplots(figsize=(min(2 + 1.1 * nrow, 12), 1.2 + 8 * grid.shape[1] / grid.shape[2]))
    ax.imshow(grid.permute(1, 2, 0).numpy(), interpolation="nearest")
    h, w = weights.shape[2:]
    if len(weights) == len(CLASSES) and nrow == len(CLASSES) and h == 32:
        ax.set_xticks([1 + i * (w + 1) + w / 2 for i in range(len(CLASSES))], CLASSES)
        ax.set_yticks([])
    else:
        ax.axis("off")
    ax.set_title(f"{model_name}: first-layer weights ({len(weights)} of "
                 f"{len(first_layer_filters(model))}, {h}x{w}x3)")
    return _save(fig, out_path)


def _save(fig, out_path):
    out_path = pathlib.Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(out_path, dpi=120)
    plt.close(fig)
    return out_path


def make_plots(model_name, log=None, checkpoint=None, out_dir="."):
    """Write every picture whose input exists; returns the list of files written."""
    from train import load_checkpoint  # imported here: plotting a log needs no model code

    out_dir, written = pathlib.Path(out_dir), []
    if log is not None:
        parsed = parse_log(pathlib.Path(log))
        written.append(plot_loss(parsed, out_dir / f"{model_name}_lossvstrain.png", model_name))
        written.append(plot_val_accuracy(parsed, out_dir / f"{model_name}_valaccuracy.png",
                                         model_name))
    if checkpoint is not None:
        model = load_checkpoint(checkpoint, "cpu")
        written.append(plot_filters(model, out_dir / f"{model_name}_gridfilt.png", model_name))
    return written


def main(argv=None):
    p = argparse.ArgumentParser(description="Plot a train.py log and a checkpoint's filters.")
    p.add_argument("--model", required=True, help="model name, used in the file names")
    p.add_argument("--log", type=pathlib.Path, help="log file (default: <model>.log)")
    p.add_argument("--checkpoint", type=pathlib.Path, help="checkpoint (default: <model>.pt)")
    p.add_argument("--out-dir", type=pathlib.Path, default=pathlib.Path("."),
                   help="folder for the PNG files (default: current folder)")
    args = p.parse_args(argv)
    log = args.log or pathlib.Path(f"{args.model}.log")
    ckpt = args.checkpoint or pathlib.Path(f"{args.model}.pt")
    for given, path, what in ((args.log, log, "log"), (args.checkpoint, ckpt, "checkpoint")):
        if given is not None and not path.is_file():
            p.error(f"no {what} file at {path}")
    if args.log is None and not log.is_file():
        # `| tee softmax.log` in a run script saved with Windows (CRLF) line endings writes
        # "softmax.log\r": a name that ends in an invisible carriage return.
        odd = [f for f in pathlib.Path(".").glob(f"{args.model}.log*")
               if f.name != log.name and f.name.rstrip("\r\n\t ") == log.name and f.is_file()]
        if odd:
            log = odd[0]
            print(f"note: reading {log.name!r}, whose name ends in an invisible carriage return: "
                  f"run_{args.model}.sh has Windows (CRLF) line endings. Convert it with "
                  f"`perl -pi -e 's/\\r$//' run_*.sh`, then rename the log with "
                  f"`mv {args.model}.log? {args.model}.log`.", file=sys.stderr)
    log, ckpt = (log if log.is_file() else None), (ckpt if ckpt.is_file() else None)
    if log is None and ckpt is None:
        p.error(f"found neither {args.model}.log nor {args.model}.pt here: train first "
                f"(bash run_{args.model}.sh) or pass --log / --checkpoint.")
    try:
        written = make_plots(args.model, log, ckpt, args.out_dir)
    except (ValueError, FileNotFoundError) as e:
        sys.exit(f"error: {e}")
    for path in written:
        print(f"wrote {path}")
    return written


if __name__ == "__main__":
    main()
