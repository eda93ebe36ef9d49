"""Train one of the Part 2 models on CIFAR-10 and report its test accuracy.

    python -u train.py --model softmax --lr 0.01 --epochs 2 | tee softmax.log

The 50000 training images are split into 49000 for training and the last 1000 for
validation; the final line reports the 10000 test images. Log lines (one per
--log-interval batches, and at the end of each epoch):

    Train Epoch: E [seen/total (pct%)]<TAB>Train Loss: x<TAB>Val Loss: y<TAB>Val Acc: z
    test set: Average loss: a, Accuracy: c/10000 (p%)

`seen` counts the training images used so far in epoch E, `Train Loss` is the mean
loss of the batches since the previous line, `Val Acc` is a percentage.

Data pipeline: the whole data set (uint8, 150 MB) is moved to the device once;
batches are cut, augmented and normalised there, so no per-image CPU loader is
needed. This module does no work when imported.
"""
import argparse
import dataclasses
import inspect
import json
import math
import os
import pathlib
import re
import shlex
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F
from tqdm import tqdm

from cifar10 import CIFAR10NotFoundError, load_cifar10
from models import MODELS

NUM_TRAIN = 49000
NUM_VAL = 1000
IM_SIZE = (3, 32, 32)
N_CLASSES = 10
# Per-channel mean and standard deviation of the CIFAR-10 training images (RGB, 0..255).
PIXEL_MEAN = (125.3, 123.0, 113.9)
PIXEL_STD = (63.0, 62.1, 66.7)
CHECKPOINT_FORMAT = 1


@dataclasses.dataclass(frozen=True)
class Recipe:
    """How fit() trains a model beyond the optimizer's settings (from the command line:
    see recipe_from_args). The defaults train on the plain images with a constant rate.

    augment: random horizontal flips and translations by up to `translate` pixels
        (reflection padding), drawn per image on the device.
    label_smoothing: passed to F.cross_entropy.
    warmup_fraction: None keeps the learning rate constant; otherwise it rises
        linearly to --lr over this fraction of all steps, then falls linearly to 0.
    init_images: how many training images are passed to the model's optional
        init_from_data hook before training (0: the hook is not called).
    """
    augment: bool = False
    translate: int = 2
    label_smoothing: float = 0.0
    warmup_fraction: float | None = None
    init_images: int = 2000


def recipe_from_args(args):
    """The Recipe that args (from parse_args) ask for; options absent from args keep the
    defaults, so a hand-made namespace with only the optimizer's settings still works."""
    defaults = Recipe()
    schedule = getattr(args, "lr_schedule", "constant")
    return Recipe(
        augment=bool(getattr(args, "augment", False)),
        translate=getattr(args, "translate", defaults.translate),
        label_smoothing=getattr(args, "label_smoothing", defaults.label_smoothing),
        warmup_fraction=(getattr(args, "warmup_fraction", 0.2)
                         if schedule == "warmup-linear" else None),
        init_images=getattr(args, "init_images", defaults.init_images))


# ---------------------------------------------------------------- command line

def _typed(kind, low, inclusive, what):
    def convert(text):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
        if not math.isfinite(value) or value < low or (value == low and not inclusive):
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}")
        return value
    return convert


positive_int = _typed(int, 0, False, "a positive integer")
positive_float = _typed(float, 0.0, False, "a positive number")
nonnegative_float = _typed(float, 0.0, True, "a number >= 0")
nonnegative_int = _typed(int, 0, True, "an integer >= 0")


def unit_interval(text):
    """A number in [0, 1) for argparse."""
    value = nonnegative_float(text)
    if value >= 1:
        raise argparse.ArgumentTypeError(f"expected a number in [0, 1), got {text!r}")
    return value

EPILOG = """\
Training options that help most models (all off by default):
  --augment               random flips and translations (--translate pixels) of each
                          training image, drawn anew every epoch
  --label-smoothing S     cross-entropy against targets smoothed by S
  --lr-schedule warmup-linear
                          the learning rate rises linearly from 0 to --lr over the first
                          --warmup-fraction of the steps, then falls linearly to 0
Data-dependent initialisation: if your model has a method init_from_data(images),
fit() calls it once before training with the first --init-images training images,
normalised, as a float tensor (N, C, H, W) on the training device (0 turns it off).

Reproducibility: on the CPU, the same --seed gives the same numbers on the same
machine. On a GPU, runs with the same --seed differ slightly: cuDNN picks its
fastest convolution algorithms per run and some GPU kernels add up in a
varying order.
"""


def build_parser():
    p = argparse.ArgumentParser(
        description="Train a CIFAR-10 classifier (CS7643 HW1 Part 2) and report its "
                    "accuracy on the 10000 test images.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", required=True, choices=sorted(MODELS),
                   help="which model to train")
    p.add_argument("--lr", type=positive_float, default=0.01,
                   help="learning rate of SGD (the peak rate with --lr-schedule warmup-linear) "
                        "(default: %(default)s)")
    p.add_argument("--momentum", type=nonnegative_float, default=0.0,
                   help="SGD momentum; > 0 uses Nesterov momentum (default: %(default)s)")
    p.add_argument("--weight-decay", type=nonnegative_float, default=0.0,
                   help="L2 weight decay added by SGD (default: %(default)s)")
    p.add_argument("--batch-size", type=positive_int, default=64,
                   help="training images per step (default: %(default)s)")
    p.add_argument("--epochs", type=positive_int, default=1,
                   help="passes over the training images (default: %(default)s)")
    p.add_argument("--hidden-dim", type=positive_int, default=100,
                   help="hidden units (twolayernn), filters per conv (convnet), "
                        "width of the first block (mymodel) (default: %(default)s)")
    p.add_argument("--kernel-size", type=positive_int, default=3,
                   help="odd size of the square conv filters (convnet, mymodel) "
                        "(default: %(default)s)")
    p.add_argument("--augment", action="store_true",
                   help="train on randomly flipped and translated images")
    p.add_argument("--translate", type=nonnegative_int, default=2,
                   help="largest translation in pixels with --augment (default: %(default)s)")
    p.add_argument("--label-smoothing", type=unit_interval, default=0.0,
                   help="label smoothing of the training loss, in [0, 1) (default: %(default)s)")
    p.add_argument("--lr-schedule", choices=("constant", "warmup-linear"), default="constant",
                   help="learning-rate schedule (default: %(default)s)")
    p.add_argument("--warmup-fraction", type=unit_interval, default=0.2,
                   help="fraction of the steps spent warming up with --lr-schedule "
                        "warmup-linear (default: %(default)s)")
    p.add_argument("--init-images", type=nonnegative_int, default=2000,
                   help="training images given to the model's init_from_data method, if it "
                        "has one (0: do not call it) (default: %(default)s)")
    p.add_argument("--no-cuda", action="store_true",
                   help="train on the CPU even if a GPU is available")
    p.add_argument("--seed", type=int, default=1,
                   help="random seed for weights, shuffling and augmentation (default: %(default)s)")
    p.add_argument("--log-interval", type=positive_int, default=10,
                   help="batches between log lines; each line also evaluates the "
                        "validation images (default: %(default)s)")
    p.add_argument("--test-batch-size", type=positive_int, default=1000,
                   help="images per batch when evaluating (default: %(default)s)")
    p.add_argument("--cifar10-dir", type=pathlib.Path, default=None,
                   help="the cifar-10-batches-py folder (default: $CIFAR10_DIR, else "
                        "../1_cs231n/cs231n/datasets/cifar-10-batches-py)")
    p.add_argument("--save", type=pathlib.Path, default=None,
                   help="where to write the trained model's checkpoint (default: <model>.pt)")
    p.add_argument("--max-train-seconds", type=nonnegative_float, default=0.0,
                   help="stop training after this many seconds, then evaluate and save "
                        "as usual; 0 means no limit (default: %(default)s)")
    p.add_argument("--num-train", type=positive_int, default=None,
                   help=f"train on the first N of the {NUM_TRAIN} training images only "
                        "(quick experiments) (default: all)")
    p.add_argument("--results-json", type=pathlib.Path, default=None,
                   help="also write the final metrics to this JSON file")
    return p


def parse_args(argv=None):
    """Parse and check the command line (argparse exits with a clear message on errors)."""
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    if any(a.strip("\r") == "" and a for a in argv):
        # `\` + CRLF: the shell ended the command early and ran the next lines on their own.
        parser.error("this run script has Windows (CRLF) line endings, so its continued lines "
                     "(ending in \\) were cut off. Convert it to Unix line endings with "
                     "`perl -pi -e 's/\\r$//' run_*.sh` (Linux, macOS, Git Bash) or your "
                     "editor's line-ending setting (LF), or join the command onto one line.")
    args = parser.parse_args([a.rstrip("\r") for a in argv])
    if args.model in ("convnet", "mymodel") and args.kernel_size % 2 == 0:
        parser.error(f"--kernel-size must be odd for {args.model} (got {args.kernel_size}).")
    if args.num_train is not None and args.num_train > NUM_TRAIN:
        parser.error(f"--num-train can be at most {NUM_TRAIN} (got {args.num_train}).")
    if args.save is None:
        args.save = pathlib.Path(f"{args.model}.pt")
    return args


def read_run_script(path):
    """The train.py arguments of a run_<model>.sh script, as a list of strings.

    Reads the forms the README allows (the grader reads the script by the same rules):
    one `python ... train.py ARGS` command, possibly continued over lines ending in `\\`,
    its output sent on with `| tee LOG` or `> LOG 2>&1`; comments, blank lines and other
    commands (`set -e`, `echo ...`); `NAME=value` lines and `$NAME`, `${NAME}` in the
    arguments; Windows line endings and a byte-order mark. Raises ValueError, saying what
    it cannot read, for anything else (loops, `if`, functions, `$(...)`, `$1`, variables
    the script does not set, no or several train.py commands).
    """
    text = pathlib.Path(path).read_bytes().decode("utf-8-sig", errors="replace")
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    variables, commands, depth, number = {}, [], 0, 0
    while number < len(lines):
        first, line = number + 1, lines[number]
        while re.search(r"\\[ \t]*$", line) and number + 1 < len(lines):  # continued
            number += 1
            line = re.sub(r"\\[ \t]*$", " ", line) + lines[number]
        number += 1
        try:
            words = shlex.split(line, comments=True)
        except ValueError as err:  # an unclosed quote
            raise ValueError(f"{path}, line {first}: {err}") from None
        if not words:
            continue
        if any(w.endswith("train.py") for w in words):
            if depth > 0 or words[0] in _BLOCK_START:
                raise ValueError(f"{path}, line {first}: the train.py command is inside a loop, "
                                 "an `if` block or a function: write one plain command.")
            commands.append((first, words))
            continue
        heads = [w for k, w in enumerate(words)  # words in command position
                 if k == 0 or words[k - 1].endswith(";") or words[k - 1] in _AFTER]
        depth += sum(w in _BLOCK_START for w in heads) - sum(w in _BLOCK_END for w in heads)
        depth += line.rstrip().endswith("{") - words.count("}")
        assignments = words[1:] if words[0] == "export" else words
        if all(_ASSIGNMENT.fullmatch(w) for w in assignments):
            for w in assignments:
                name, value = w.split("=", 1)
                try:
                    variables[name] = " ".join(_expand(value, variables, path, first))
                except ValueError as err:  # an error only if the train.py command uses it
                    variables[name] = err
    if len(commands) != 1:
        raise ValueError(f"{path}: expected exactly one train.py command, found {len(commands)}.")
    number, words = commands[0]
    start = next(i for i, w in enumerate(words) if w.endswith("train.py")) + 1
    args = []
    for k, word in enumerate(words[start:], start):
        if word == "|" and words[k + 1:k + 2] != ["tee"]:
            raise ValueError(f"{path}, line {number}: the output goes through `| "
                             f"{' '.join(words[k + 1:k + 2])}`; only `| tee FILE` is supported.")
        if word in ("|", "||", "&&", ";", "&") or re.match(r"(\d|&)?>", word):
            break  # `| tee LOG`, `> LOG 2>&1`: where the output goes
        args += _expand(word, variables, path, number)
    return args


_ASSIGNMENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*=.*", re.S)
_REFERENCE = re.compile(r"\$(?:\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}|([A-Za-z_][A-Za-z0-9_]*))")
_BLOCK_START = ("if", "for", "while", "until", "case")
_BLOCK_END = ("fi", "done", "esac")
_AFTER = ("&&", "||", "|", "then", "do", "else", "elif")


def _expand(word, variables, path, number):
    """word with $NAME / ${NAME} replaced (a word that is only a variable is split into
    words, as the shell does); ValueError for what a run script cannot use."""
    if "$(" in word or "`" in word:
        raise ValueError(f"{path}, line {number}: command substitution $(...) is not "
                         "supported in a run script: write the value itself.")
    if word in ("$@", "$*"):
        return []
    if re.search(r"\$(\d|\{\d)", word):
        raise ValueError(f"{path}, line {number}: the script's own arguments ($1, ...) are not "
                         "supported: write the value itself.")

    def value(match):
        name, default = match.group(1) or match.group(3), match.group(2)
        if isinstance(variables.get(name), ValueError):
            raise variables[name]
        if name in variables:
            return variables[name]
        if default is not None:
            return default
        raise ValueError(f"{path}, line {number}: uses ${name}, which the script never sets.")

    expanded = _REFERENCE.sub(value, word)
    return expanded.split() if _REFERENCE.fullmatch(word) else [expanded]


# ---------------------------------------------------------------- models

def constructor_kwargs(model_name, hidden_dim=None, kernel_size=None,
                       im_size=IM_SIZE, n_classes=N_CLASSES):
    """The keyword arguments the model's class takes, from the ones given."""
    given = {"im_size": list(im_size), "hidden_dim": hidden_dim,
             "kernel_size": kernel_size, "n_classes": n_classes}
    names = inspect.signature(MODELS[model_name]).parameters
    return {name: given[name] for name in names}


def build_model(args, im_size=IM_SIZE, n_classes=N_CLASSES):
    """The model named by args.model, built from args.hidden_dim / args.kernel_size."""
    kwargs = constructor_kwargs(args.model, args.hidden_dim, args.kernel_size, im_size, n_classes)
    model = MODELS[args.model](**{k: tuple(v) if k == "im_size" else v for k, v in kwargs.items()})
    model.constructor_kwargs = kwargs
    model.model_name = args.model
    return model


def build_optimizer(model, args):
    """SGD over all of the model's parameters with args.lr, args.momentum and
    args.weight_decay (Nesterov momentum when args.momentum > 0).

    Returns:
        a torch.optim.Optimizer.
    """
    optimizer = None
    ### BEGIN SOLUTION
    optimizer = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=args.momentum,
                                weight_decay=args.weight_decay, nesterov=args.momentum > 0)
    ### END SOLUTION
    return optimizer


def train_step(model, optimizer, images, labels, label_smoothing=0.0):
    """One step of gradient descent on one batch.

    Args:
        model: the network, in training mode.
        optimizer: from build_optimizer.
        images: float tensor (N, C, H, W), normalised (see to_model_input).
        labels: int64 tensor (N,) of classes in 0..n_classes-1.
        label_smoothing: passed to F.cross_entropy (0 means plain cross-entropy).

    Returns:
        the batch's mean cross-entropy loss, as a Python float.
    """
    loss = None
    ### BEGIN SOLUTION
    optimizer.zero_grad(set_to_none=True)
    scores = model(images)
    loss = F.cross_entropy(scores, labels, label_smoothing=label_smoothing)
    loss.backward()
    optimizer.step()
    ### END SOLUTION
    return loss.item()


# ---------------------------------------------------------------- data on the device

def to_model_input(images):
    """uint8 images (N, H, W, C) -> normalised float tensor (N, C, H, W), same device.

    The one place where pixels are scaled: fit, evaluate and predict all use it, so
    a trained model can be given raw uint8 images through predict().
    """
    scale = 1.0 / torch.tensor(PIXEL_STD, device=images.device).view(1, -1, 1, 1)
    shift = -torch.tensor(PIXEL_MEAN, device=images.device).view(1, -1, 1, 1) * scale
    x = images.permute(0, 3, 1, 2).float().mul_(scale).add_(shift)
    # The permuted NHWC data already has the channels-last layout that GPU convolutions prefer.
    return x.contiguous(memory_format=torch.channels_last) if x.is_cuda else x.contiguous()


def _reflect(index, size):
    """Reflect out-of-range pixel indices back into 0..size-1 (no edge repeat)."""
    index = index.abs()
    return torch.where(index > size - 1, 2 * (size - 1) - index, index)


def flip_translate(images, index, shift_y, shift_x, flip):
    """Cut images[index], each moved by its own shift and mirrored where flip is set.

    Args:
        images: uint8 (N, H, W, C) on the device.
        index: int64 (B,) which images.
        shift_y, shift_x: int64 (B,) shifts in pixels; borders are filled by reflection.
        flip: bool (B,) mirror left-right.

    Returns:
        uint8 (B, H, W, C), made by a single gather.
    """
    _, height, width, _ = images.shape
    ys = torch.arange(height, device=images.device)
    xs = torch.arange(width, device=images.device)
    xs = torch.where(flip[:, None], width - 1 - xs, xs)  # (B, W)
    rows = _reflect(ys[None, :] + shift_y[:, None], height)  # (B, H)
    cols = _reflect(xs + shift_x[:, None], width)  # (B, W)
    return images[index[:, None, None], rows[:, :, None], cols[:, None, :]]


class Augmenter:
    """Per-image random flips and translations, drawn from a seeded CPU generator.

    Flips alternate between epochs: an image mirrored in one epoch is not in the next,
    so each sees both versions equally often.
    """

    def __init__(self, n, max_shift, generator, device):
        self.n, self.max_shift, self.gen, self.device = n, max_shift, generator, device
        self.base_flip = torch.rand(n, generator=generator) < 0.5

    def epoch(self, epoch):
        s = self.max_shift
        shifts = torch.randint(-s, s + 1, (2, self.n), generator=self.gen)
        flip = self.base_flip ^ bool(epoch % 2)
        self.shift_y, self.shift_x, self.flip = (t.to(self.device) for t in (*shifts, flip))

    def batch(self, images, index):
        return flip_translate(images, index, self.shift_y[index], self.shift_x[index],
                              self.flip[index])


def _as_device_tensor(array, device):
    t = array if isinstance(array, torch.Tensor) else torch.from_numpy(np.ascontiguousarray(array))
    return t.to(device)


@torch.no_grad()
def evaluate(model, images, labels, device, batch_size=1000):
    """Mean cross-entropy and accuracy (fraction) of the model on uint8 NHWC images."""
    was_training = model.training
    model.eval()
    images, labels = _as_device_tensor(images, device), _as_device_tensor(labels, device)
    total_loss = torch.zeros((), device=device)
    correct = torch.zeros((), dtype=torch.int64, device=device)
    for start in range(0, len(images), batch_size):
        scores = model(to_model_input(images[start:start + batch_size]))
        target = labels[start:start + batch_size]
        total_loss += F.cross_entropy(scores, target, reduction="sum")
        correct += (scores.argmax(1) == target).sum()
    model.train(was_training)
    n = max(len(images), 1)
    return total_loss.item() / n, correct.item() / n


@torch.no_grad()
def predict(model, images, device, batch_size=1000):
    """Predicted classes for uint8 images (N, 32, 32, 3) -> int64 numpy array (N,)."""
    model.eval()
    images = _as_device_tensor(images, device)
    out = [model(to_model_input(images[s:s + batch_size])).argmax(1).cpu()
           for s in range(0, len(images), batch_size)]
    return torch.cat(out).numpy() if out else np.zeros(0, dtype=np.int64)


def _lr_factor(warmup_fraction, total_steps):
    warm = max(1, round(warmup_fraction * total_steps))

    def factor(step):
        if step < warm:
            return (step + 1) / warm
        return max(0.0, (total_steps - step) / max(1, total_steps - warm))
    return factor


def _write_line(line):
    tqdm.write(line, file=sys.stdout)
    sys.stdout.flush()


def log_line(epoch, seen, total, train_loss, val_loss, val_acc):
    """One training log line (see the module docstring); val_acc is a fraction."""
    return (f"Train Epoch: {epoch} [{seen}/{total} ({100.0 * seen / total:.0f}%)]\t"
            f"Train Loss: {train_loss:.6f}\tVal Loss: {val_loss:.6f}\tVal Acc: {100.0 * val_acc:.2f}")


def _sync(device):
    if torch.device(device).type == "cuda":
        torch.cuda.synchronize(device)


def fit(model, optimizer, args, train_x, train_y, val_x, val_y, device, log=_write_line,
        max_train_seconds=None, epoch_end_callback=None):
    """Train `model` for args.epochs epochs with the training options of args
    (augmentation, label smoothing, schedule, data-dependent init: see Recipe).

    Args:
        model: on `device`, built by build_model.
        optimizer: from build_optimizer.
        args: parsed command line (batch_size, epochs, log_interval, seed and the
            training options; see recipe_from_args).
        train_x, val_x: uint8 (N, 32, 32, 3) numpy arrays or tensors.
        train_y, val_y: int64 (N,).
        device: torch.device to train on; the data is copied there once.
        log: called with each log line.
        max_train_seconds: stop after this much training time (None or 0: no limit).
        epoch_end_callback: called as f(epoch, model) after each epoch, untimed.

    Returns:
        history dict: per log line `epoch`, `seen`, `step`, `train_loss`, `val_loss`,
        `val_acc` (fraction); per epoch `epoch_seconds`; `train_seconds` (total),
        `steps`, `images` (training images used), `stopped_early`.
    """
    recipe = recipe_from_args(args)
    gen = torch.Generator().manual_seed(args.seed)
    train_x, train_y = _as_device_tensor(train_x, device), _as_device_tensor(train_y, device)
    val_x, val_y = _as_device_tensor(val_x, device), _as_device_tensor(val_y, device)
    n, bs = len(train_x), args.batch_size
    steps_per_epoch = math.ceil(n / bs)
    scheduler = None
    if recipe.warmup_fraction is not None:
        factor = _lr_factor(recipe.warmup_fraction, args.epochs * steps_per_epoch)
        scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, factor)
    augmenter = Augmenter(n, recipe.translate, gen, device) if recipe.augment else None
    _sync(device)
    setup_started = time.perf_counter()  # timed as part of the first epoch
    if recipe.init_images and callable(getattr(model, "init_from_data", None)):
        model.init_from_data(to_model_input(train_x[:recipe.init_images]))
    history = {k: [] for k in ("epoch", "seen", "step", "train_loss", "val_loss", "val_acc",
                               "epoch_seconds")}
    history.update(train_seconds=0.0, steps=0, images=0, stopped_early=False)
    step, stop = 0, False
    for epoch in range(1, args.epochs + 1):
        model.train()
        _sync(device)
        started = setup_started if epoch == 1 else time.perf_counter()
        order = torch.randperm(n, generator=gen).to(device)
        if augmenter:
            augmenter.epoch(epoch)
        loss_sum, loss_count = 0.0, 0
        bar = tqdm(total=n, desc=f"epoch {epoch}/{args.epochs}", unit="img",
                   disable=None, leave=False, file=sys.stderr)
        for b in range(steps_per_epoch):
            index = order[b * bs:(b + 1) * bs]
            images = augmenter.batch(train_x, index) if augmenter else train_x[index]
            loss_sum += train_step(model, optimizer, to_model_input(images), train_y[index],
                                   label_smoothing=recipe.label_smoothing)
            loss_count += 1
            step += 1
            history["images"] += len(index)
            if scheduler:
                scheduler.step()
            seen = min((b + 1) * bs, n)
            bar.update(len(index))
            if max_train_seconds and history["train_seconds"] + time.perf_counter() - started \
                    >= max_train_seconds:
                stop = True
            if (b + 1) % args.log_interval == 0 or b + 1 == steps_per_epoch or stop:
                val_loss, val_acc = evaluate(model, val_x, val_y, device, args.test_batch_size)
                row = dict(epoch=epoch, seen=seen, step=step, train_loss=loss_sum / loss_count,
                           val_loss=val_loss, val_acc=val_acc)
                for key, value in row.items():
                    history[key].append(value)
                log(log_line(epoch, seen, n, loss_sum / loss_count, val_loss, val_acc))
                loss_sum, loss_count = 0.0, 0
            if stop:
                break
        bar.close()
        _sync(device)
        seconds = time.perf_counter() - started
        history["epoch_seconds"].append(seconds)
        history["train_seconds"] += seconds
        history["steps"] = step
        if stop:
            history["stopped_early"] = True
            log(f"Stopped training after {history['train_seconds']:.1f} s "
                f"(--max-train-seconds {max_train_seconds:g}).")
            break
        if epoch_end_callback:
            epoch_end_callback(epoch, model)
    return history


# ---------------------------------------------------------------- checkpoints

def save_checkpoint(path, model, args):
    """Write the model's weights (state_dict) and constructor arguments to `path`.

    No pickled module is stored, so loading needs only this code and
    torch.load(weights_only=True). Written to a temporary file first, so an
    interrupted save never destroys an older checkpoint. A model wrapped by
    torch.compile is saved as the model itself (no "_orig_mod." in the names).
    """
    model = getattr(model, "_orig_mod", model)
    kwargs = getattr(model, "constructor_kwargs", None) or constructor_kwargs(
        args.model, args.hidden_dim, args.kernel_size)
    state = {"format": CHECKPOINT_FORMAT, "model": args.model, "kwargs": kwargs,
             "state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()}}
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    torch.save(state, tmp)
    os.replace(tmp, path)


def load_checkpoint(path, device="cpu"):
    """Rebuild the model saved by save_checkpoint, on `device`, in eval mode.

    Raises:
        FileNotFoundError: no file at `path`.
        ValueError: the file is not a checkpoint written by save_checkpoint.
    """
    path = pathlib.Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"No checkpoint at {path}: train a model first "
                                "(e.g. `bash run_softmax.sh`) or give the right path.")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # torch raises several kinds for foreign or damaged files
        raise ValueError(f"{path} is not a readable checkpoint ({type(e).__name__}: {e}).") from None
    if not isinstance(state, dict) or state.get("model") not in MODELS or "state_dict" not in state:
        raise ValueError(f"{path} is not a checkpoint written by train.py "
                         "(expected keys 'model', 'kwargs', 'state_dict').")
    kwargs = dict(state["kwargs"])
    model = MODELS[state["model"]](**{k: tuple(v) if k == "im_size" else v
                                      for k, v in kwargs.items()})
    # weights saved from a torch.compile'd model carry the wrapper's "_orig_mod." prefix
    weights = {(k[len("_orig_mod."):] if isinstance(k, str) and k.startswith("_orig_mod.")
                else k): v for k, v in state["state_dict"].items()}
    try:
        model.load_state_dict(weights)
    except RuntimeError as e:
        raise ValueError(f"{path}: the weights do not fit the {state['model']} model "
                         f"as defined now ({e}).") from None
    model.constructor_kwargs = kwargs
    model.model_name = state["model"]
    return model.to(device).eval()


# ---------------------------------------------------------------- main

def pick_device(no_cuda=False):
    return torch.device("cuda" if torch.cuda.is_available() and not no_cuda else "cpu")


def device_name(device):
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return f"cpu ({torch.get_num_threads()} threads)"


def split_train_val(train_x, train_y, num_train=None):
    """First 49000 training images (or the first num_train) for training, last 1000 for validation."""
    n = NUM_TRAIN if num_train is None else num_train
    return train_x[:n], train_y[:n], train_x[NUM_TRAIN:NUM_TRAIN + NUM_VAL], \
        train_y[NUM_TRAIN:NUM_TRAIN + NUM_VAL]


def main(argv=None):
    """Train, test and save as the command line says; returns the final metrics."""
    args = parse_args(argv)
    device = pick_device(args.no_cuda)
    torch.manual_seed(args.seed)
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True
    try:
        all_train_x, all_train_y, test_x, test_y = load_cifar10(args.cifar10_dir)
    except CIFAR10NotFoundError as e:
        sys.exit(f"error: {e}")
    train_x, train_y, val_x, val_y = split_train_val(all_train_x, all_train_y, args.num_train)
    model = build_model(args).to(device)
    optimizer = build_optimizer(model, args)
    _write_line(f"Training {args.model} on {device_name(device)}: {len(train_x)} training / "
                f"{len(val_x)} validation images, batch size {args.batch_size}, "
                f"{args.epochs} epochs")
    history = fit(model, optimizer, args, train_x, train_y, val_x, val_y, device,
                  max_train_seconds=args.max_train_seconds or None)
    test_loss, test_acc = evaluate(model, test_x, test_y, device, args.test_batch_size)
    correct = round(test_acc * len(test_y))
    _write_line(f"Training took {history['train_seconds']:.1f} s "
                f"({history['images'] / max(history['train_seconds'], 1e-9):.0f} "
                f"images/s, validation included)")
    _write_line(f"test set: Average loss: {test_loss:.4f}, Accuracy: {correct}/{len(test_y)} "
                f"({100.0 * test_acc:.2f}%)")
    save_checkpoint(args.save, model, args)
    results = {"model": args.model, "test_loss": test_loss, "test_acc": test_acc,
               "test_correct": correct, "n_test": len(test_y),
               "val_acc": history["val_acc"][-1] if history["val_acc"] else None,
               "epochs_completed": len(history["epoch_seconds"]) - history["stopped_early"],
               "stopped_early": history["stopped_early"],
               "train_seconds": history["train_seconds"], "epoch_seconds": history["epoch_seconds"],
               "device": device_name(device), "checkpoint": str(args.save),
               "args": {k: str(v) if isinstance(v, pathlib.Path) else v
                        for k, v in vars(args).items()}}
    if args.results_json:
        args.results_json.parent.mkdir(parents=True, exist_ok=True)
        args.results_json.write_text(json.dumps(results, indent=2) + "\n")
    return results


if __name__ == "__main__":
    try:
        main()
    except NotImplementedError:  # a part still to write: say which, without a traceback
        import traceback
        last = traceback.extract_tb(sys.exc_info()[2])[-1]
        sys.exit(f"error: {os.path.relpath(last.filename)}, line {last.lineno}, in {last.name}: "
                 "still raises NotImplementedError. Replace `# YOUR CODE HERE` and `raise "
                 "NotImplementedError()` with your code (softmax-classifier.ipynb walks you "
                 "through it).")
