"""Part 2 command lines: train.py's options and errors, the run_*.sh scripts, test.py's errors."""
import importlib
import pathlib
import subprocess
import sys

import numpy as np
import pytest
import torch

import train
from conftest import PART2, REPO
from models import MODELS
from _part2_support import load_predict_cli, one_torch_thread  # noqa: F401 (autouse fixture)


predict_cli = load_predict_cli()


def run_script(*argv, cwd=PART2):
    return subprocess.run([sys.executable, *argv], cwd=cwd, capture_output=True, text=True,
                          timeout=300)


def parse_error(capsys, argv):
    with pytest.raises(SystemExit) as exc:
        train.parse_args(argv)
    assert exc.value.code == 2
    return capsys.readouterr().err


@pytest.mark.parametrize("argv,message", [
    (["--model", "resnet"], "invalid choice: 'resnet'"),
    ([], "the following arguments are required: --model"),
    (["--model", "softmax", "--lr", "-0.1"], "expected a positive number, got '-0.1'"),
    (["--model", "softmax", "--lr", "fast"], "expected a positive number, got 'fast'"),
    (["--model", "softmax", "--batch-size", "0"], "expected a positive integer, got '0'"),
    (["--model", "softmax", "--epochs", "1.5"], "expected a positive integer, got '1.5'"),
    (["--model", "softmax", "--momentum", "nan"], "expected a number >= 0, got 'nan'"),
    (["--model", "convnet", "--kernel-size", "4"], "--kernel-size must be odd for convnet"),
    (["--model", "softmax", "--num-train", "50000"], "--num-train can be at most 49000"),
    (["--model", "softmax", "--bogus"], "unrecognized arguments: --bogus"),
    (["--model", "softmax", "--label-smoothing", "1"], "expected a number in [0, 1), got '1'"),
    (["--model", "softmax", "--lr-schedule", "cosine"], "invalid choice: 'cosine'"),
    (["--model", "softmax", "--init-images", "-1"], "expected an integer >= 0, got '-1'"),
])
def test_bad_arguments_give_a_clear_message(capsys, argv, message):
    err = parse_error(capsys, argv)
    assert message in err
    assert "usage:" in err and "Traceback" not in err


def test_defaults_and_every_option_parse():
    args = train.parse_args(["--model", "mymodel"])
    assert args.save.name == "mymodel.pt" and args.max_train_seconds == 0
    assert args.num_train is None and args.results_json is None
    args = train.parse_args(
        "--model convnet --lr 0.1 --momentum 0.9 --weight-decay 1e-4 --batch-size 32 --epochs 3 "
        "--hidden-dim 12 --kernel-size 5 --no-cuda --seed 7 --log-interval 5 "
        "--test-batch-size 100 --cifar10-dir /x --save out/c.pt --max-train-seconds 30 "
        "--num-train 100 --results-json r.json --augment --translate 4 --label-smoothing 0.1 "
        "--lr-schedule warmup-linear --warmup-fraction 0.3 --init-images 0".split())
    assert (args.lr, args.momentum, args.weight_decay, args.batch_size, args.epochs) == \
        (0.1, 0.9, 1e-4, 32, 3)
    assert (args.hidden_dim, args.kernel_size, args.no_cuda, args.seed) == (12, 5, True, 7)
    assert (args.log_interval, args.test_batch_size, args.max_train_seconds, args.num_train) == \
        (5, 100, 30.0, 100)
    assert str(args.cifar10_dir) == "/x" and str(args.save) == "out/c.pt"
    assert train.recipe_from_args(args) == train.Recipe(
        augment=True, translate=4, label_smoothing=0.1, warmup_fraction=0.3, init_images=0)
    assert train.recipe_from_args(train.parse_args(["--model", "mymodel"])) == train.Recipe()


def test_help_explains_every_option_and_gpu_nondeterminism():
    text = train.build_parser().format_help()
    for option in ("--model", "--lr", "--momentum", "--weight-decay", "--batch-size", "--epochs",
                   "--hidden-dim", "--kernel-size", "--no-cuda", "--seed", "--log-interval",
                   "--test-batch-size", "--cifar10-dir", "--save", "--max-train-seconds",
                   "--num-train", "--results-json", "--augment", "--translate",
                   "--label-smoothing", "--lr-schedule", "--warmup-fraction", "--init-images"):
        assert option in text
    assert "init_from_data(images)" in text
    assert "cuDNN" in text and "same --seed" in text


@pytest.mark.slow
def test_train_py_as_a_program_reports_bad_model_without_traceback():
    result = run_script("train.py", "--model", "resnet")
    assert result.returncode == 2
    assert "invalid choice: 'resnet'" in result.stderr and "Traceback" not in result.stderr


def test_missing_dataset_names_how_to_get_it(tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        train.main(["--model", "softmax", "--cifar10-dir", str(tmp_path / "nowhere")])
    message = str(exc.value.code)
    assert "CIFAR-10 not found" in message and "get_datasets.sh" in message
    assert "--cifar10-dir" in message and "CIFAR10_DIR" in message


def test_train_py_imports_without_side_effects(capsys):
    importlib.reload(train)
    out = capsys.readouterr()
    assert out.out == "" and out.err == ""
    assert set(train.MODELS) == set(MODELS)


@pytest.mark.parametrize("name", sorted(MODELS))
def test_run_script_is_one_train_command_with_valid_settings(name):
    path = PART2 / f"run_{name}.sh"
    commands = [line for line in path.read_text().splitlines()
                if line.strip() and not line.lstrip().startswith("#")]
    assert len(commands) == 1, commands
    assert commands[0].startswith("python -u train.py ")
    assert commands[0].endswith(f"| tee {name}.log")
    args = train.parse_args(train.read_run_script(path))
    assert args.model == name
    assert args.epochs <= 10 if name == "mymodel" else True


@pytest.mark.parametrize("name", sorted(MODELS))
def test_release_run_script_ships_neutral_starter_settings(name):
    """The release's scripts train, with settings unlike the source's tuned ones."""
    released = REPO / "release" / "hw1" / "2_pytorch" / f"run_{name}.sh"
    starter = train.parse_args(train.read_run_script(released))
    tuned = train.parse_args(train.read_run_script(PART2 / f"run_{name}.sh"))
    assert starter.model == name and (starter.epochs, starter.momentum) == (1, 0.0)
    assert train.recipe_from_args(starter) == train.Recipe()
    assert (starter.lr, starter.batch_size) != (tuned.lr, tuned.batch_size)
    if name == "mymodel":  # the reference's recipe lives in its source run script
        assert train.recipe_from_args(tuned) == train.Recipe(
            augment=True, label_smoothing=0.2, warmup_fraction=0.2)


def test_read_run_script_rejects_two_commands(tmp_path):
    path = tmp_path / "run_x.sh"
    path.write_text("python train.py --model softmax\npython train.py --model convnet\n")
    with pytest.raises(ValueError, match="exactly one train.py command, found 2"):
        train.read_run_script(path)


# ---- test.py errors (the happy path is in test_part2_train.py)

def test_predict_cli_errors_are_clear(tmp_path):
    good = tmp_path / "good.npy"
    np.save(good, np.zeros((2, 32, 32, 3), np.uint8))
    cases = [
        (["--checkpoint", str(tmp_path / "none.pt"), "--images", str(good)], "No checkpoint at"),
        (["--checkpoint", str(good), "--images", str(tmp_path / "none.npy")], "No image file at"),
    ]
    bad_shape = tmp_path / "shape.npy"
    np.save(bad_shape, np.zeros((2, 3, 32, 32), np.uint8))
    cases.append((["--checkpoint", "x.pt", "--images", str(bad_shape)],
                  "shape (2, 3, 32, 32); expected (N, 32, 32, 3)"))
    bad_dtype = tmp_path / "dtype.npy"
    np.save(bad_dtype, np.zeros((2, 32, 32, 3), np.float32))
    cases.append((["--checkpoint", "x.pt", "--images", str(bad_dtype)], "expected uint8"))
    not_npy = tmp_path / "text.npy"
    not_npy.write_text("hello")
    cases.append((["--checkpoint", "x.pt", "--images", str(not_npy)], "is not a .npy array file"))
    not_ckpt = tmp_path / "fake.pt"
    not_ckpt.write_text("not a checkpoint")
    cases.append((["--checkpoint", str(not_ckpt), "--images", str(good)],
                  "is not a readable checkpoint"))
    for argv, message in cases:
        with pytest.raises(SystemExit) as exc:
            predict_cli.main(argv + ["--out", str(tmp_path / "p.csv")])
        assert message in str(exc.value.code), (argv, exc.value.code)
    assert not (tmp_path / "p.csv").exists()


def test_crlf_arguments_parse_like_lf_ones():
    """A run script saved with CRLF passes '0.01\\r' as its last argument (issue 13)."""
    crlf = train.parse_args(["--model", "softmax", "--lr", "0.01\r"])
    lf = train.parse_args(["--model", "softmax", "--lr", "0.01"])
    assert crlf.lr == lf.lr == 0.01


def test_crlf_continued_run_script_names_the_line_endings(tmp_path):
    """`\\` + CRLF ends the command early in the shell: train.py says why, not a parse error."""
    script = tmp_path / "run_softmax.sh"
    script.write_bytes(b"#!/bin/sh\r\npython -u " + str(PART2 / "train.py").encode()
                       + b" --model softmax \\\r\n  --lr 0.01\r\n")
    proc = subprocess.run(["bash", str(script)], cwd=tmp_path, capture_output=True, text=True,
                          timeout=300, env={"PATH": f"{pathlib.Path(sys.executable).parent}:/usr/bin:/bin"})
    assert proc.returncode != 0
    assert "Windows (CRLF) line endings" in proc.stderr
    assert "Traceback" not in proc.stderr
    # the command it suggests converts the script (GNU `sed -i` would fail on macOS)
    fix = proc.stderr.split("line endings with `", 1)[1].split("`", 1)[0]
    subprocess.run(["bash", "-c", fix], cwd=tmp_path, check=True, timeout=60)
    assert b"\r" not in script.read_bytes() and script.read_bytes().count(b"\n") == 3


def test_read_run_script_reads_what_the_grader_reads(tmp_path):
    """The notebook trains with train.read_run_script: every form the README allows (and the
    grader reads) gives the grader's arguments; what the grader refuses is refused too
    (a `\\`-continued command used to crash the notebook with "No escaped character")."""
    from instructor_tools.grader import runscripts
    from test_everyday_inputs import ACCEPTED, REFUSED
    path = tmp_path / "run_softmax.sh"
    for name, text in ACCEPTED.items():
        path.write_bytes(text.encode())
        assert train.read_run_script(path) == runscripts.parse(text).args, name
    # a block keyword that is only an argument (`echo for ...`) opens no block
    path.write_bytes(b"echo for the record; echo if you like\npython train.py --model softmax\n")
    assert train.read_run_script(path) == ["--model", "softmax"]
    for name, (text, _) in REFUSED.items():
        if name == "python -m":   # the notebook runs `python -u train.py ARGS` anyway
            continue
        path.write_bytes(text.encode())
        with pytest.raises(ValueError, match=r"run_softmax\.sh"):
            train.read_run_script(path)


@pytest.mark.slow
def test_a_part_still_to_write_is_named_without_a_traceback(cifar10_dir):
    """The release's starter code: train.py names the file, line and function still raising
    NotImplementedError instead of printing a traceback."""
    part2 = REPO / "release" / "hw1" / "2_pytorch"
    env = {"PATH": f"{pathlib.Path(sys.executable).parent}:/usr/bin:/bin",
           "CIFAR10_DIR": str(cifar10_dir), "PYTHONDONTWRITEBYTECODE": "1"}
    proc = subprocess.run([sys.executable, "train.py", "--model", "softmax", "--num-train", "100"],
                          cwd=part2, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr, proc.stderr
    assert proc.stderr.startswith("error: models/softmax.py, line "), proc.stderr
    assert "in __init__: still raises NotImplementedError" in proc.stderr, proc.stderr
