# Two commands do everything on a fresh machine:
#   make demo   build the release, grade sample submissions, show the result
#   make test   run the project's tests (real nbgrader, real kernels, real CIFAR-10)
# Both set up what they need (venv, Cython extension, data) themselves.

VENV ?= .venv
PY := $(VENV)/bin/python
export CIFAR10_DIR ?= $(CURDIR)/data/cifar-10-batches-py
export PYTHONDONTWRITEBYTECODE := 1
# Two-thread OpenBLAS on a busy 2-core machine is up to 25x slower than one thread (measured:
# 300 softmax iterations 49.8 s vs 1.9 s); callers may override.
export OPENBLAS_NUM_THREADS ?= 1

.PHONY: setup data test test-fast demo release bench clean leaderboard

setup:
	@bash scripts/setup_venv.sh

data: setup
	@PY=$(PY) bash scripts/make_data.sh

# Tests run in TEST_WORKERS processes (pytest-xdist; one per core, at most 4), each test module
# in one process, the longest first (tests/conftest.py). TEST_WORKERS=0 runs them in this one.
TEST_WORKERS ?= $(shell n=$$(nproc 2>/dev/null || echo 1); [ $$n -gt 4 ] && n=4; echo $$n)
XDIST := $(if $(filter 0,$(TEST_WORKERS)),-p no:xdist,-n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder)

test: setup data
	$(PY) -m pytest $(XDIST) $(PYTEST_ARGS)

test-fast: setup data
	$(PY) -m pytest -m "not slow" $(XDIST) $(PYTEST_ARGS)

demo: setup data
	$(PY) -m instructor_tools.demo

release: setup
	$(PY) -m instructor_tools.release build

# The Q8.8 challenge's leaderboard on http://127.0.0.1:8000/ (embedded SQLite in
# out/leaderboard/; a demo challenge is created on first start). Staff commands: `leaderboard -h`.
leaderboard: setup data
	$(VENV)/bin/leaderboard up $(LEADERBOARD_ARGS)

bench: setup data
	$(PY) benchmarks/part1_speed.py
	$(PY) benchmarks/part2_throughput.py

clean:
	rm -rf build out .pytest_cache
