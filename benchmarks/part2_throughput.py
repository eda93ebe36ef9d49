#!/usr/bin/env python3
"""Training images per second of the Part 2 models: train.py's device-resident pipeline
side by side with a standard per-image DataLoader using torchvision transforms.

    .venv/bin/python benchmarks/part2_throughput.py [--seconds 8] [--out results.md]

Both pipelines feed the same model (same seed, the settings of run_<model>.sh, the
CPU unless a GPU is present) through train.train_step, so the difference is only in
how batches are made:
- device-resident: all uint8 images on the device once; each batch is one gather
  (with per-image flips and translations for mymodel) and one normalisation;
- DataLoader: a Dataset returning one image at a time through
  torchvision.transforms (ToTensor, Normalize; RandomCrop + RandomHorizontalFlip for
  mymodel), collated into batches, with 0 and 2 worker processes.
"Pipeline only" rows time the batch making alone, without a model.
"""
import argparse
import os
import pathlib
import sys
import time

import torch
import torchvision.transforms as T
from torch.utils.data import DataLoader, Dataset

REPO = pathlib.Path(__file__).resolve().parents[1]
PART2 = REPO / "source" / "hw1" / "2_pytorch"
sys.path.insert(0, str(PART2))

import train  # noqa: E402
from cifar10 import load_cifar10  # noqa: E402

MODELS = ("softmax", "twolayernn", "convnet", "mymodel")


class PerImageCIFAR(Dataset):
    def __init__(self, images, labels, transform):
        self.images, self.labels, self.transform = images, labels, transform

    def __len__(self):
        return len(self.images)

    def __getitem__(self, i):
        return self.transform(self.images[i]), int(self.labels[i])


def torchvision_transform(augment, translate):
    steps = [T.ToTensor(), T.Normalize([m / 255 for m in train.PIXEL_MEAN],
                                       [s / 255 for s in train.PIXEL_STD])]
    if augment:
        steps += [T.RandomCrop(32, padding=translate, padding_mode="reflect"),
                  T.RandomHorizontalFlip()]
    return T.Compose(steps)


def device_batches(args, images, labels, device):
    """The batches fit() makes, without training: yields (inputs, labels)."""
    recipe = train.recipe_from_args(args)
    gen = torch.Generator().manual_seed(args.seed)
    x, y = torch.from_numpy(images).to(device), torch.from_numpy(labels).to(device)
    aug = train.Augmenter(len(x), recipe.translate, gen, device) if recipe.augment else None
    epoch = 0
    while True:
        epoch += 1
        order = torch.randperm(len(x), generator=gen).to(device)
        if aug:
            aug.epoch(epoch)
        for s in range(0, len(x), args.batch_size):
            index = order[s:s + args.batch_size]
            batch = aug.batch(x, index) if aug else x[index]
            yield train.to_model_input(batch), y[index]


def loader_batches(args, images, labels, device, workers):
    recipe = train.recipe_from_args(args)
    dataset = PerImageCIFAR(images, labels, torchvision_transform(recipe.augment, recipe.translate))
    loader = DataLoader(dataset, batch_size=args.batch_size, shuffle=True, num_workers=workers,
                        pin_memory=device.type == "cuda",
                        generator=torch.Generator().manual_seed(args.seed))
    while True:
        for inputs, target in loader:
            yield inputs.to(device, non_blocking=True), target.to(device, non_blocking=True)


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize()


def images_per_second(batches, step, seconds, device, min_steps=3):
    step(*next(batches))  # warm-up (and worker start-up)
    sync(device)
    n, count, start = 0, 0, time.perf_counter()
    while count < min_steps or time.perf_counter() - start < seconds:
        inputs, target = next(batches)
        step(inputs, target)
        n += len(target)
        count += 1
    sync(device)
    return n / (time.perf_counter() - start)


def measure_model(name, images, labels, device, seconds, workers):
    args = train.parse_args(train.read_run_script(PART2 / f"run_{name}.sh"))
    recipe = train.recipe_from_args(args)
    out = {}

    def trainer():
        torch.manual_seed(args.seed)
        model = train.build_model(args).to(device)
        optimizer = train.build_optimizer(model, args)
        model.train()
        return lambda x, y: train.train_step(model, optimizer, x, y, recipe.label_smoothing)

    def pipeline_only(x, y):
        return None

    sources = {"device": lambda: device_batches(args, images, labels, device)}
    for w in workers:
        sources[f"loader{w}"] = lambda w=w: loader_batches(args, images, labels, device, w)
    for key, make in sources.items():
        out[key] = images_per_second(make(), trainer(), seconds, device)
        out[key + "_pipeline"] = images_per_second(make(), pipeline_only, seconds / 2, device)
    return args, out


def table(results, workers, device_name, seconds):
    head = ["model (batch)", "device-resident img/s"]
    for w in workers:
        head += [f"DataLoader {w} workers img/s", f"ratio vs {w} workers"]
    rows = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for kind, suffix in (("training", ""), ("pipeline only", "_pipeline")):
        for name, (args, r) in results.items():
            cells = [f"{name} ({args.batch_size}), {kind}", f"{r['device' + suffix]:.0f}"]
            for w in workers:
                other = r[f"loader{w}{suffix}"]
                cells += [f"{other:.0f}", f"{r['device' + suffix] / other:.2f}x"]
            rows.append("| " + " | ".join(cells) + " |")
    return (f"Device: {device_name}; torch {torch.__version__}; {seconds:g} s per training "
            f"measurement (pipeline-only: half).\n\n" + "\n".join(rows) + "\n")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--cifar10-dir", type=pathlib.Path, default=None,
                   help="cifar-10-batches-py folder (default: $CIFAR10_DIR, then train.py's default)")
    p.add_argument("--models", nargs="+", default=list(MODELS), choices=MODELS)
    p.add_argument("--seconds", type=float, default=8.0, help="time per training measurement")
    p.add_argument("--workers", type=int, nargs="+", default=[0, 2],
                   help="DataLoader worker counts to compare (default: 0 2)")
    p.add_argument("--threads", type=int, default=None,
                   help="torch threads for the training process (default: torch's choice); "
                        "DataLoader workers always use one each")
    p.add_argument("--out", type=pathlib.Path, help="also write the markdown table here")
    args = p.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    device = train.pick_device()
    images, labels, _, _ = load_cifar10(args.cifar10_dir)
    images, labels = images[:train.NUM_TRAIN], labels[:train.NUM_TRAIN]
    results = {}
    for name in args.models:
        results[name] = measure_model(name, images, labels, device, args.seconds, args.workers)
        r = results[name][1]
        print(f"{name}: device-resident {r['device']:.0f} img/s, " + ", ".join(
            f"DataLoader({w}) {r[f'loader{w}']:.0f} img/s" for w in args.workers), flush=True)
    text = table(results, args.workers, train.device_name(device), args.seconds)
    text += (f"\nCommand: {' '.join(['python', *sys.argv])}\n"
             f"Load average at the end (1, 5, 15 min): {', '.join(f'{v:.1f}' for v in os.getloadavg())}"
             f" on {os.cpu_count()} CPUs.\n")
    print(text)
    if args.out:
        args.out.write_text(text)
    return results


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
