#!/bin/bash
# Part 2 on a GPU machine without network (issue 12's GPU check), run from the repository root:
#     OUT=/some/dir bash benchmarks/gpu_part2_check.sh
# 1. builds CIFAR-10 from .devcarry/ (cifar10-jpeg.tar.gz + make_cifar10.py, copied from
#    ../shared/data) or ../shared/data;
# 2. re-measures the reference MyModel with run_mymodel.sh's tuned settings (3 seeds) with
#    benchmarks/gpu_mymodel.py;
# 3. times a full-scale grading of the reference on Q8.5-Q8.8 (`grade --scale full --device cuda`).
# Writes into $OUT: env.txt, gpu_benchmark.json/.md, grade_full.json (result.json), grade_full.txt.
set -u
cd "$(dirname "$0")/.."
OUT=${OUT:?set OUT to a folder for the results}
data_src=.devcarry; [[ -f $data_src/make_cifar10.py ]] || data_src=../shared/data
export PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1
{ nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
  python3 -c "import torch, numpy, sys, platform; print('python', platform.python_version(), 'torch', torch.__version__, 'numpy', numpy.__version__, torch.cuda.get_device_name(0)); import os; print('cpus', os.cpu_count())"
  git log -1 --format='code: %H %s' 2>/dev/null || true; } | tee "$OUT/env.txt"
t0=$(date +%s.%N)
python3 "$data_src/make_cifar10.py" /tmp/c10 >/dev/null || exit 1
echo "data built in $(python3 -c "print(round($(date +%s.%N)-$t0,1))") s" | tee -a "$OUT/env.txt"
export CIFAR10_DIR=/tmp/c10/cifar-10-batches-py
timeout 200 python3 benchmarks/gpu_mymodel.py --cifar10-dir "$CIFAR10_DIR" --out /tmp/bench \
    --models mymodel --repeats 3 2>&1 | grep -v "it/s\|img/s" | tail -25
cp /tmp/bench/gpu_benchmark.json /tmp/bench/gpu_benchmark.md "$OUT/" 2>/dev/null
# The device image has no jsonschema (result.json is validated on writing): a stand-in that
# skips the validation is put in its place for this run only.
t0=$(date +%s.%N)
PYTHONPATH=$PWD timeout 240 python3 -c "
import sys, types
m = types.ModuleType('jsonschema'); m.validate = lambda *a, **k: None; sys.modules['jsonschema'] = m
from instructor_tools.grader.cli import main
sys.exit(main(['source/hw1', '--scale', 'full', '--device', 'cuda', '--questions',
               'Q8.5,Q8.6,Q8.7,Q8.8', '--out', '/tmp/grade', '--student', 'source']))
" 2>&1 | tail -5 | tee "$OUT/grade_full.txt"
echo "full-scale grading wall time: $(python3 -c "print(round($(date +%s.%N)-$t0,1))") s" | tee -a "$OUT/grade_full.txt"
cp /tmp/grade/source/result.json "$OUT/grade_full.json" 2>/dev/null
exit 0
