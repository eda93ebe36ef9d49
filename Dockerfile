# The HW1 grading image: the grader, the hidden checks, the reference solution and CIFAR-10,
# all readable by root only, plus unprivileged users (student0..student15) that the grader's
# worker switches to before it runs any student code.
#
# Build:  python -m instructor_tools.container.image build      (wraps the command below)
#   docker build --network host --build-arg PIP_MIRROR=... [--build-arg BASE_IMAGE=...] -t hw1-grader .
# Run:    grade --docker SUBMISSION...   (instructor_tools/container: one hardened container per
#         submission: --network none, read-only root, small tmpfs, --cap-drop ALL + SETUID,
#         SETGID, CHOWN, DAC_OVERRIDE, KILL, no-new-privileges, pids/memory/CPU limits, one GPU each)
#
# BASE_IMAGE: the official CUDA PyTorch runtime image, pinned. Where no registry can be reached
# (the course machines, CI) scripts/docker_base_image.sh builds a local stand-in with the same
# shape (Python + pip + a CUDA torch/torchvision pair, root user, no compiler); pass it here.
ARG BASE_IMAGE=pytorch/pytorch:2.9.0-cuda12.8-cudnn9-runtime

# ---------------------------------------------------------------- Python dependencies
FROM ${BASE_IMAGE} AS deps
SHELL ["/bin/bash", "-euo", "pipefail", "-c"]
ENV DEBIAN_FRONTEND=noninteractive LANG=C.UTF-8 LC_ALL=C.UTF-8 PIP_DISABLE_PIP_VERSION_CHECK=1
COPY scripts/docker/with_pip_mirror.sh /usr/local/bin/with_pip_mirror
COPY requirements.txt scripts/docker/install_requirements.sh /tmp/build/
# Optional: http://127.0.0.1:PORT serving the host's pip setup (scripts/pip_mirror.py).
ARG PIP_MIRROR=
RUN with_pip_mirror bash /tmp/build/install_requirements.sh /tmp/build/requirements.txt \
 && rm -rf /tmp/build /root/.cache

# ---------------------------------------------------------------- the Cython extension
# Compiled in its own stage so the grading image carries no compiler.
FROM deps AS extension
RUN apt-get update -qq \
 && apt-get install -y -qq --no-install-recommends gcc libc6-dev >/dev/null \
 && rm -rf /var/lib/apt/lists/*
COPY source/hw1/1_cs231n/cs231n/setup.py source/hw1/1_cs231n/cs231n/im2col_cython.pyx /build/
RUN cd /build && python setup.py build_ext --inplace -q \
 && python -c "import sys; sys.path.insert(0, '/build'); import im2col_cython" \
 && mkdir /out && cp /build/im2col_cython*.so /out/

# ---------------------------------------------------------------- CIFAR-10
# Copied from the build context (data/cifar-10-batches-py, `make data`) when present, else
# downloaded and md5-checked. `data*` matches nothing when the context has no data folder.
FROM deps AS cifar10
COPY scripts/docker/cifar10.py data* /tmp/context/
RUN python /tmp/context/cifar10.py /tmp/context /out/cifar-10-batches-py && rm -rf /tmp/context

# ---------------------------------------------------------------- the grading image
FROM deps
# Unprivileged users for student code: one per parallel container slot, so that per-user
# limits (RLIMIT_NPROC) of one container never count the processes of another.
RUN for i in $(seq 0 15); do \
      useradd --no-create-home --user-group --uid $((2000 + i)) --shell /usr/sbin/nologin "student$i"; \
    done
# bubblewrap: the grader's sandbox (instructor_tools/grader/sandbox.py). `grade --docker`
# containers run with isolation "container" (the hardened container is the sandbox: under
# --cap-drop ALL bwrap cannot create namespaces); the image can still sandbox each worker with
# bwrap where it runs with the capabilities for it (isolation "sandbox").
RUN apt-get update -qq \
 && apt-get install -y -qq --no-install-recommends bubblewrap >/dev/null \
 && rm -rf /var/lib/apt/lists/*
COPY --from=cifar10 /out/cifar-10-batches-py /opt/hw1/data/cifar-10-batches-py
COPY pyproject.toml /opt/hw1/
COPY instructor_tools /opt/hw1/instructor_tools
COPY autograder_tests /opt/hw1/autograder_tests
COPY source/hw1 /opt/hw1/source/hw1
COPY --from=extension /out/ /opt/hw1/source/hw1/1_cs231n/cs231n/
# Root only: the grader, hidden checks, reference solution and test labels.
RUN find /opt/hw1 -name __pycache__ -prune -exec rm -rf {} + \
 && chown -R root:root /opt/hw1 && chmod -R go-rwx /opt/hw1 \
 && su -s /bin/sh student0 -c 'test ! -r /opt/hw1' \
 && PYTHONPATH=/opt/hw1 python -c "import instructor_tools.container.entrypoint"
ARG TESTS_SHA256=unknown
LABEL org.opencontainers.image.title="hw1-grader" hw1.tests_sha256="${TESTS_SHA256}"
ENV PYTHONPATH=/opt/hw1 \
    PYTHONDONTWRITEBYTECODE=1 \
    HW1_REPO=/opt/hw1 \
    CIFAR10_DIR=/opt/hw1/data/cifar-10-batches-py \
    GRADER_WORKER_USER=student0 \
    HOME=/tmp/grader-home \
    MPLBACKEND=Agg \
    TQDM_DISABLE=1 \
    NVIDIA_DRIVER_CAPABILITIES=compute,utility
WORKDIR /tmp
ENTRYPOINT ["python", "-m", "instructor_tools.container.entrypoint"]
