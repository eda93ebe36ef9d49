"""Part 1 speed: naive vs fast layers, each next to the floor it cannot beat.

    .venv/bin/python benchmarks/part1_speed.py [--record]

Shapes are the cs231n benchmark's: conv x (100, 3, 31, 31), w (25, 3, 3, 3), stride 2, pad 1;
max pool 2x2 stride 2 on (100, 3, 32, 32); softmax W (10, 3073), X (3073, 500).
Floors, measured in the same run:
- the bare matrix product the fast conv performs (np.matmul of the filters, with the biases
  as an extra column, and the im2col columns, with a ones row, computed beforehand), and
- the bare maximum of the four strided views of x (pooling without any bookkeeping).
Each figure is the best of several repeats (the least disturbed by other processes).
BLAS runs single-threaded unless OPENBLAS_NUM_THREADS is set: on the shared 2-core course
machines multi-threaded OpenBLAS made these small products up to ~25x slower (measured).
--record writes the table to benchmarks/results/part1_speed.md.
"""
import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # before numpy loads OpenBLAS

import argparse  # noqa: E402
import pathlib  # noqa: E402
import platform  # noqa: E402
import sys  # noqa: E402
import timeit  # noqa: E402

import numpy as np  # noqa: E402

REPO = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "source" / "hw1" / "1_cs231n"))

from cs231n import im2col_cython  # noqa: E402
from cs231n.classifiers.softmax import softmax_loss_naive, softmax_loss_vectorized  # noqa: E402
from cs231n.fast_layers import (  # noqa: E402
    conv_backward_fast, conv_forward_fast, max_pool_backward_fast, max_pool_forward_fast)
from cs231n.layers import (  # noqa: E402
    conv_backward_naive, conv_forward_naive, max_pool_backward_naive, max_pool_forward_naive)


def best_ms(fn, min_seconds=0.2, repeats=7):
    """Best time of one call, in ms, over `repeats` rounds of enough calls to last min_seconds."""
    number = 1
    while timeit.timeit(fn, number=number) < min_seconds / 10 and number < 10 ** 6:
        number *= 10
    return min(timeit.repeat(fn, number=number, repeat=repeats)) / number * 1e3


def strided_view_max(x):
    out = np.maximum(x[:, :, 0::2, 0::2], x[:, :, 0::2, 1::2])
    np.maximum(out, x[:, :, 1::2, 0::2], out=out)
    np.maximum(out, x[:, :, 1::2, 1::2], out=out)
    return out


def reshape_max(x):
    N, C, H, W = x.shape
    return x.reshape(N, C, H // 2, 2, W // 2, 2).max(axis=(3, 5))


NOTES = """Notes (measured while choosing the implementation, same machine):
- Pooling: the compiled one-pass maximum beats both the strided-view maximum and the reshape
  trick, and unlike the reshape trick it handles any window and stride (overlapping windows
  and gaps included). Variants that also stored each window's argmax in the forward pass ran
  2x (branch-free) to 9x (branchy) slower than the plain maximum, so the backward pass finds each window's first
  maximum again by comparison: ties go to the first maximum in row-major order, as np.argmax.
- Convolution: the biases ride in the product (a ones row in the im2col columns), which
  removed a separate pass over the output (fast / bare went from about 2.7x to about 2x).
- BLAS threads: 300 softmax training iterations took 49.8 s wall (17.1 s CPU) with
  OpenBLAS's default 2 threads on the busy shared machine, 1.9 s (0.6 s CPU) with
  OPENBLAS_NUM_THREADS=1.
"""


def measure():
    rng = np.random.default_rng(0)
    rows = []  # (group, name, ms)

    x = rng.standard_normal((100, 3, 31, 31))
    w = rng.standard_normal((25, 3, 3, 3))
    b = rng.standard_normal(25)
    conv_param = {"stride": 2, "pad": 1}
    out, fast_cache = conv_forward_fast(x, w, b, conv_param)
    _, naive_cache = conv_forward_naive(x, w, b, conv_param)
    filters, cols = fast_cache[2], fast_cache[4]  # (F, K+1) filters|biases, (N, K+1, P) columns
    dout = rng.standard_normal(out.shape)
    dout3 = dout.reshape(100, 25, -1)
    rows += [
        ("conv forward", "naive (loops over output positions)", best_ms(lambda: conv_forward_naive(x, w, b, conv_param), repeats=3)),
        ("conv forward", "fast (im2col + matmul)", best_ms(lambda: conv_forward_fast(x, w, b, conv_param))),
        ("conv forward", "  of which im2col", best_ms(lambda: im2col_cython.im2col(x, 3, 3, 1, 2, 16, 16, True))),
        ("conv forward", "bare matmul (floor)", best_ms(lambda: np.matmul(filters, cols))),
        ("conv backward", "naive", best_ms(lambda: conv_backward_naive(dout, naive_cache), repeats=3)),
        ("conv backward", "fast", best_ms(lambda: conv_backward_fast(dout, fast_cache))),
        ("conv backward", "bare matmuls for dw and dcols (floor)",
         best_ms(lambda: (np.matmul(dout3, cols.transpose(0, 2, 1)), np.matmul(filters[:, :-1].T, dout3)))),
    ]

    xp = rng.standard_normal((100, 3, 32, 32))
    pool_param = {"pool_height": 2, "pool_width": 2, "stride": 2}
    pooled, fast_pool_cache = max_pool_forward_fast(xp, pool_param)
    _, naive_pool_cache = max_pool_forward_naive(xp, pool_param)
    dpool = rng.standard_normal(pooled.shape)
    rows += [
        ("max pool forward", "naive", best_ms(lambda: max_pool_forward_naive(xp, pool_param), repeats=3)),
        ("max pool forward", "fast (compiled, one pass)", best_ms(lambda: max_pool_forward_fast(xp, pool_param))),
        ("max pool forward", "bare strided-view maximum (floor)", best_ms(lambda: strided_view_max(xp))),
        ("max pool forward", "reshape trick (cs231n's fast path)", best_ms(lambda: reshape_max(xp))),
        ("max pool backward", "naive", best_ms(lambda: max_pool_backward_naive(dpool, naive_pool_cache), repeats=3)),
        ("max pool backward", "fast", best_ms(lambda: max_pool_backward_fast(dpool, fast_pool_cache))),
    ]

    W = 1e-4 * rng.standard_normal((10, 3073))
    X = rng.standard_normal((3073, 500))
    y = rng.integers(10, size=500)
    rows += [
        ("softmax loss", "naive (loop over examples)", best_ms(lambda: softmax_loss_naive(W, X, y, 1e3), repeats=3)),
        ("softmax loss", "vectorized", best_ms(lambda: softmax_loss_vectorized(W, X, y, 1e3))),
        ("softmax loss", "bare W @ X (floor)", best_ms(lambda: W @ X)),
    ]
    return rows


def render(rows):
    t = {(g, n): ms for g, n, ms in rows}
    lines = ["| operation | implementation | time (ms) |", "|---|---|---:|"]
    lines += [f"| {g} | {n} | {ms:.3f} |" for g, n, ms in rows]
    conv_fwd = t["conv forward", "fast (im2col + matmul)"]
    conv_floor = t["conv forward", "bare matmul (floor)"]
    pool_fast = t["max pool forward", "fast (compiled, one pass)"]
    pool_floor = t["max pool forward", "bare strided-view maximum (floor)"]
    ratios = [
        ("conv forward: naive / fast", t["conv forward", "naive (loops over output positions)"] / conv_fwd, None),
        ("conv backward: naive / fast", t["conv backward", "naive"] / t["conv backward", "fast"], None),
        ("max pool forward: naive / fast", t["max pool forward", "naive"] / pool_fast, None),
        ("max pool backward: naive / fast", t["max pool backward", "naive"] / t["max pool backward", "fast"], None),
        ("softmax: naive / vectorized", t["softmax loss", "naive (loop over examples)"] / t["softmax loss", "vectorized"], None),
        ("conv forward: fast / bare matmul", conv_fwd / conv_floor, ("<= 3", conv_fwd <= 3 * conv_floor)),
        ("conv backward: fast / bare matmuls", t["conv backward", "fast"] / t["conv backward", "bare matmuls for dw and dcols (floor)"], None),
        ("max pool forward: fast / bare strided-view max", pool_fast / pool_floor, ("<= 1", pool_fast <= pool_floor)),
        ("max pool forward: reshape trick / fast", t["max pool forward", "reshape trick (cs231n's fast path)"] / pool_fast, None),
        ("softmax: vectorized / bare W @ X", t["softmax loss", "vectorized"] / t["softmax loss", "bare W @ X (floor)"], None),
    ]
    lines += ["", "| ratio | value | target |", "|---|---:|---|"]
    for name, value, target in ratios:
        goal = "" if target is None else f"{target[0]}: {'met' if target[1] else 'NOT met'}"
        lines.append(f"| {name} | {value:.2f}x | {goal} |")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--record", action="store_true", help="write benchmarks/results/part1_speed.md")
    args = parser.parse_args()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    context = (f"numpy {np.__version__}, Python {platform.python_version()}, {os.cpu_count()} CPUs, "
               f"BLAS threads {os.environ['OPENBLAS_NUM_THREADS']}, load average {load:.1f} at start")
    table = render(measure())
    print(context)
    print(table)
    if args.record:
        path = REPO / "benchmarks" / "results" / "part1_speed.md"
        path.write_text(
            "# Part 1 speed (numpy + Cython reference)\n\n"
            "Command: `.venv/bin/python benchmarks/part1_speed.py --record` (also `make bench`).\n\n"
            f"Machine: {platform.machine()}, {context}. Best of several repeats per figure.\n\n"
            f"{table}\n\n{NOTES}")
        print(f"written to {path.relative_to(REPO)}")


if __name__ == "__main__":
    main()
