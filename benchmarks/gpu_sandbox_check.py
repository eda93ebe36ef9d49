"""GPU check (run on a GPU machine as root): a worker in the grader's bubblewrap sandbox, as
a pool uid, sees the GPU through the sandbox's device binds (/dev/nvidia*, read-only /sys)
and runs a CUDA matrix product; the same code unsandboxed for comparison.

    python3 benchmarks/gpu_sandbox_check.py [--bwrap PATH]

Needs no worker users (setuid to a bare uid works without a passwd entry). Prints what it
saw; results in benchmarks/results/sandbox_overhead.md (notes).
"""
import argparse
import os
import pathlib
import subprocess
import sys
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
from instructor_tools.grader import sandbox  # noqa: E402

CODE = ("import os, time\nt = time.time()\nimport torch\n"
        "print('uid', os.getuid(), 'torch', torch.__version__, 'cuda', torch.cuda.is_available())\n"
        "x = torch.randn(4096, 4096, device='cuda'); (x @ x).sum().item(); torch.cuda.synchronize()\n"
        "print('device', torch.cuda.get_device_name(0), 'matmul ok after', round(time.time() - t, 2), 's')\n"
        "print('root folder', sorted(os.listdir('/')))")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--bwrap", default="bwrap")
    args = ap.parse_args()
    print("uid", os.getuid(), "python", sys.executable, "GPU devices",
          sorted(str(p) for p in pathlib.Path("/dev").glob("nvidia*")))
    pool = (("hw1-worker0", 65600, 65600),) if os.getuid() == 0 else ()
    policy = sandbox.Policy(mode="bubblewrap", bwrap=args.bwrap, pool=pool,
                            readonly=tuple(sandbox.python_prefixes()),
                            shared_dir=str(sandbox.shared_root()),
                            etc_dir=str(sandbox._sandbox_etc(pool)), lock_dir="/tmp/hw1-gpu-locks")
    for how in ("sandbox", "plain"):
        t = time.time()
        proc = (sandbox.run_confined(policy, CODE, timeout=200) if how == "sandbox" else
                subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True,
                               timeout=200))
        print(f"{how}: exit {proc.returncode} after {time.time() - t:.1f} s\n{proc.stdout}"
              f"{proc.stderr[-1500:]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
