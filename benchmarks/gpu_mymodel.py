#!/usr/bin/env python3
"""Time the Part 2 models on a GPU: MyModel's time to 94% test accuracy, and the others.

    python benchmarks/gpu_mymodel.py --cifar10-dir DIR/cifar-10-batches-py --out results/

Trains each model with the settings of its run_<model>.sh (read from that file), on
the device-resident pipeline of train.py, and evaluates the 10000 test images after
every epoch (untimed). Before each timed run, a throwaway copy of the model trains
a few batches of every shape the run will use, so CUDA start-up and cuDNN's
algorithm search are not counted. Writes, after each model (so a failure keeps the
figures already measured):
    OUT/gpu_benchmark.json   all figures, the device name and versions
    OUT/gpu_benchmark.md     a summary table
    OUT/logs/<run>.log       the train.py log lines of each timed run (--logs-dir)
    OUT/checkpoints/<run>.pt the trained models (--checkpoint-dir)

Needs only torch, torchvision, numpy and tqdm (no project install); runs on the CPU
too, slowly (use --override "--epochs 1 --num-train 1000" to try it there).
--variant NAME:ARGS (repeatable) adds MyModel runs with ARGS added to its settings.
"""
import argparse
import json
import pathlib
import platform
import shlex
import sys
import time
import traceback

REPO = pathlib.Path(__file__).resolve().parents[1]
DEFAULT_SOURCE = REPO / "source" / "hw1" / "2_pytorch"
MODELS_IN_ORDER = ("mymodel", "softmax", "twolayernn", "convnet")


def parse_cli(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--cifar10-dir", required=True, type=pathlib.Path,
                   help="the cifar-10-batches-py folder")
    p.add_argument("--out", required=True, type=pathlib.Path, help="folder for the results")
    p.add_argument("--logs-dir", type=pathlib.Path, default=None,
                   help="folder for the runs' train.py logs (default: OUT/logs)")
    p.add_argument("--checkpoint-dir", type=pathlib.Path, default=None,
                   help="folder for the trained checkpoints (default: OUT/checkpoints)")
    p.add_argument("--source", type=pathlib.Path, default=DEFAULT_SOURCE,
                   help="the 2_pytorch folder (default: %(default)s)")
    p.add_argument("--models", nargs="+", default=list(MODELS_IN_ORDER),
                   choices=MODELS_IN_ORDER, help="models to run (default: all)")
    p.add_argument("--target", type=float, default=0.94,
                   help="MyModel's test accuracy target (default: %(default)s)")
    p.add_argument("--repeats", type=int, default=1,
                   help="timed MyModel runs, seeds seed, seed+1, ... (default: %(default)s)")
    p.add_argument("--override", default="",
                   help="extra train.py arguments added to every model's settings")
    p.add_argument("--variant", action="append", default=[], metavar="NAME:ARGS",
                   help="an extra MyModel run with ARGS added to its settings")
    args = p.parse_args(argv)
    args.logs_dir = args.logs_dir or args.out / "logs"
    args.checkpoint_dir = args.checkpoint_dir or args.out / "checkpoints"
    return args


class Bench:
    def __init__(self, cli):
        sys.path.insert(0, str(cli.source.resolve()))
        import torch
        import train
        from cifar10 import load_cifar10

        self.cli, self.torch, self.train = cli, torch, train
        self.device = train.pick_device()
        for folder in (cli.out, cli.logs_dir, cli.checkpoint_dir):
            folder.mkdir(parents=True, exist_ok=True)
        t0 = time.perf_counter()
        train_x, train_y, self.test_x, self.test_y = load_cifar10(cli.cifar10_dir)
        self.all_train = (train_x, train_y)
        self.report = {
            "device": train.device_name(self.device), "torch": torch.__version__,
            "cuda": torch.version.cuda, "python": platform.python_version(),
            "host_cpu": platform.processor() or platform.machine(),
            "target": cli.target, "data_load_seconds": time.perf_counter() - t0,
            "runs": [], "failures": []}

    def settings(self, model_name, extra=""):
        argv = self.train.read_run_script(self.cli.source / f"run_{model_name}.sh")
        argv += shlex.split(self.cli.override) + shlex.split(extra)
        argv += ["--cifar10-dir", str(self.cli.cifar10_dir)]
        return argv

    def warm_up(self, args, train_x, train_y, val_x, val_y):
        """Train a throwaway model on one full batch and one remainder-sized batch."""
        torch, train = self.torch, self.train
        n_warm = args.batch_size + len(train_x) % args.batch_size
        warm_args = type(args)(**{**vars(args), "epochs": 1, "log_interval": 10**9})
        model = train.build_model(warm_args).to(self.device)
        train.fit(model, train.build_optimizer(model, warm_args), warm_args,
                  train_x[:n_warm], train_y[:n_warm], val_x, val_y, self.device, log=lambda s: None)
        train.evaluate(model, self.test_x, self.test_y, self.device, args.test_batch_size)
        if self.device.type == "cuda":
            torch.cuda.synchronize()

    def run(self, name, model_name, argv, seed=None):
        torch, train = self.torch, self.train
        if seed is not None:
            argv = argv + ["--seed", str(seed)]
        args = train.parse_args(argv + ["--save", str(self.cli.checkpoint_dir / f"{name}.pt")])
        train_x, train_y, val_x, val_y = train.split_train_val(*self.all_train, args.num_train)
        if self.device.type == "cuda":
            torch.backends.cudnn.benchmark = True
        self.warm_up(args, train_x, train_y, val_x, val_y)
        torch.manual_seed(args.seed)
        model = train.build_model(args).to(self.device)
        optimizer = train.build_optimizer(model, args)
        test_acc = []

        def after_epoch(epoch, model):
            acc = train.evaluate(model, self.test_x, self.test_y, self.device,
                                 args.test_batch_size)[1]
            test_acc.append(acc)
            print(f"  {name} epoch {epoch}: test accuracy {acc:.4f}", flush=True)

        lines = []
        history = train.fit(model, optimizer, args, train_x, train_y, val_x, val_y,
                            self.device, log=lines.append, epoch_end_callback=after_epoch)
        train.save_checkpoint(args.save, model, args)
        (self.cli.logs_dir / f"{name}.log").write_text("\n".join(lines) + "\n")
        elapsed = list(itertools_accumulate(history["epoch_seconds"]))
        hit = next((i for i, a in enumerate(test_acc) if a >= self.cli.target), None)
        return {
            "name": name, "model": model_name, "argv": argv, "seed": args.seed,
            "epochs": len(history["epoch_seconds"]), "epoch_seconds": history["epoch_seconds"],
            "train_seconds": history["train_seconds"],
            "images_per_second": history["images"] / history["train_seconds"],
            "test_acc_per_epoch": test_acc, "final_test_acc": test_acc[-1] if test_acc else None,
            "final_val_acc": history["val_acc"][-1] if history["val_acc"] else None,
            "epoch_reaching_target": None if hit is None else hit + 1,
            "seconds_to_target": None if hit is None else elapsed[hit],
            "parameters": sum(p.numel() for p in model.parameters()),
            "log": lines,
        }

    def attempt(self, name, model_name, extra="", seed_offset=None):
        try:
            argv = self.settings(model_name, extra)
            seed = None
            if seed_offset is not None:
                seed = self.train.parse_args(argv).seed + seed_offset
                name = f"{name}_seed{seed}"
            print(f"== {name}: train.py {' '.join(argv)}", flush=True)
            result = self.run(name, model_name, argv, seed)
            self.report["runs"].append(result)
            print(f"   {name}: final test accuracy {result['final_test_acc']:.4f}, "
                  f"{result['train_seconds']:.1f} s of training", flush=True)
        except (Exception, SystemExit) as e:  # one failing run must not lose the others' figures
            traceback.print_exc()
            self.report["failures"].append({"name": name, "error": f"{type(e).__name__}: {e}"})
        finally:
            if self.device.type == "cuda":
                self.torch.cuda.empty_cache()
            self.write()

    def write(self):
        out = self.cli.out
        (out / "gpu_benchmark.json").write_text(json.dumps(self.report, indent=2) + "\n")
        (out / "gpu_benchmark.md").write_text(markdown(self.report))


def itertools_accumulate(values):
    total = 0.0
    for v in values:
        total += v
        yield total


def markdown(report):
    target = report["target"]
    rows = [f"# Part 2 on {report['device']}", "",
            f"torch {report['torch']} (CUDA {report['cuda']}), Python {report['python']}. "
            "Training time excludes data loading, warm-up and the per-epoch test evaluation; "
            "it includes the validation evaluations of the log lines.", "",
            f"| run | epochs | final test acc | time to {target:.0%} | train s | "
            "s/epoch (median) | images/s |",
            "|---|---|---|---|---|---|---|"]
    for r in report["runs"]:
        per_epoch = sorted(r["epoch_seconds"])[len(r["epoch_seconds"]) // 2]
        to_target = (f"{r['seconds_to_target']:.1f} s (epoch {r['epoch_reaching_target']})"
                     if r["seconds_to_target"] is not None else "not reached")
        if r["model"] != "mymodel":
            to_target = "-"
        rows.append(f"| {r['name']} | {r['epochs']} | {r['final_test_acc']:.4f} | {to_target} | "
                    f"{r['train_seconds']:.1f} | {per_epoch:.2f} | {r['images_per_second']:.0f} |")
    rows += ["", "Per-epoch test accuracy and wall time:", ""]
    for r in report["runs"]:
        accs = " ".join(f"{a:.4f}" for a in r["test_acc_per_epoch"])
        secs = " ".join(f"{s:.2f}" for s in r["epoch_seconds"])
        rows += [f"- {r['name']} (`{' '.join(r['argv'][:-2])}`):", f"  acc {accs}", f"  s {secs}"]
    for f in report["failures"]:
        rows.append(f"- FAILED {f['name']}: {f['error']}")
    return "\n".join(rows) + "\n"


def main(argv=None):
    cli = parse_cli(argv)
    bench = Bench(cli)
    print(f"device: {bench.report['device']}, torch {bench.report['torch']}", flush=True)
    for model_name in cli.models:
        if model_name == "mymodel":
            for i in range(cli.repeats):
                bench.attempt("mymodel", "mymodel", seed_offset=i)
        else:
            bench.attempt(model_name, model_name)
    for variant in cli.variant:
        name, _, extra = variant.partition(":")
        bench.attempt(name, "mymodel", extra)
    print((cli.out / "gpu_benchmark.md").read_text())
    return 1 if bench.report["failures"] else 0


if __name__ == "__main__":
    sys.exit(main())
