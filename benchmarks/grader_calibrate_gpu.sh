#!/bin/bash
# Calibrate the grader's GPU thresholds (full-scale Part 2, and the challenge at ci scale on a
# GPU) on a machine with a GPU and no network. Run from the repository root, with
# ../shared/data (or a copy of cifar10-jpeg.tar.gz + make_cifar10.py in .devcarry/) present:
#     OUT=/some/dir bash benchmarks/grader_calibrate_gpu.sh
# then, on the development machine:
#     python -m instructor_tools.grader.calibrate --from-measurements full_cuda.json ci_cuda.json
set -u
cd "$(dirname "$0")/.."
data_src=.devcarry; [[ -f $data_src/make_cifar10.py ]] || data_src=../shared/data
python3 -c "import torch, numpy, sys; print(sys.executable, torch.__version__, numpy.__version__, torch.cuda.get_device_name(0))"
python3 "$data_src/make_cifar10.py" /tmp/c10 >/dev/null
export CIFAR10_DIR=/tmp/c10/cifar-10-batches-py PYTHONPATH=$PWD
python3 -m instructor_tools.grader.calibrate --scale full --device cuda --runs 3 \
   --questions Q8.5,Q8.6,Q8.7,Q8.8 --measurements "$OUT/full_cuda.json" 2>&1 | tail -15
python3 -m instructor_tools.grader.calibrate --scale ci --device cuda --runs 3 \
   --questions Q8.8 --measurements "$OUT/ci_cuda.json" 2>&1 | tail -8
