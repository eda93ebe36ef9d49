# A local stand-in for the official PyTorch runtime image (no registry is reachable on the
# course machines): Debian bookworm (debootstrap, imported by scripts/docker_base_image.sh),
# Python 3.11 in a virtual environment on PATH, and the pinned torch/torchvision pair
# (a CUDA build) from the host's package indexes. Like the official image it runs as root,
# ships Python headers with its interpreter, and has no compiler.
ARG ROOTFS_IMAGE=hw1-debian:bookworm-minbase
FROM ${ROOTFS_IMAGE}
SHELL ["/bin/bash", "-euo", "pipefail", "-c"]
ENV DEBIAN_FRONTEND=noninteractive LANG=C.UTF-8 LC_ALL=C.UTF-8
RUN apt-get update -qq \
 && apt-get install -y -qq --no-install-recommends python3 python3-venv python3-dev ca-certificates >/dev/null \
 && rm -rf /var/lib/apt/lists/* \
 && python3 -m venv /opt/python
ENV PATH=/opt/python/bin:$PATH
COPY with_pip_mirror.sh /usr/local/bin/with_pip_mirror
ARG PIP_MIRROR=
ARG TORCH_PINS="torch==2.14.1 torchvision==0.29.1"
RUN with_pip_mirror pip install -q --no-cache-dir ${TORCH_PINS} \
 && python -c "import torch, torchvision; print('torch', torch.__version__, 'torchvision', torchvision.__version__)"
CMD ["python3"]
