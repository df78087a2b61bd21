# The ugc-swap worker image: ComfyUI 0.3.75 + the node pack + the driver, serving jobs as a Runpod serverless
# worker or a Pods-mode server (UGC_SWAP_MODE). Built, run and scanned by tests/test_docker_image.py; how to deploy
# it: docs/deploy.md.
#
# BASE: torch 2.14.1 from requirements/lock.txt brings its own CUDA 13 libraries (the nvidia-* wheels), so the
# base only supplies Ubuntu 22.04 (the last Ubuntu LTS with python3.11 packages, which the lock is made for) and
# the NVIDIA container runtime's settings. The host driver must support CUDA 13. Tests build on a local Debian
# bookworm base instead (--build-arg BASE=localhost/...), because no registry is reachable there.
ARG BASE=nvidia/cuda:13.0.2-base-ubuntu22.04
FROM ${BASE}

SHELL ["/bin/bash", "-o", "pipefail", "-c"]
ENV DEBIAN_FRONTEND=noninteractive \
    UGC_SWAP_CACHE=/opt/ugc-swap/cache \
    PYTHONUNBUFFERED=1

# Versions come from the base's release (Debian bookworm or Ubuntu 22.04), which differ: pinning one would break
# the other. libgl1/libglib2.0-0: mediapipe's opencv-contrib-python links libGL and glib.
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3.11 python3.11-venv ca-certificates libgl1 libglib2.0-0 \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /opt/ugc-swap/app
# The ~7 GB environment layer depends only on the pins and the set-up script: code changes and fresh clones with
# the same pins reuse it from the layer cache. Same bin/setup as the README's, same venv, same ComfyUI.
COPY requirements/lock.txt requirements/comfyui.txt requirements/
COPY bin/setup bin/
RUN --mount=type=cache,target=/root/.cache/pip bin/setup

COPY bin/ bin/
COPY workflows/ workflows/
COPY custom_nodes/ custom_nodes/
COPY driver/ driver/
COPY runpod_handler.py test_input.json ./

# Models are read from this folder through ComfyUI's extra model paths: a Runpod network volume is mounted at
# /runpod-volume on serverless workers (set /workspace/models for a Pod's volume).
ENV UGC_SWAP_MODELS_DIR=/runpod-volume/models \
    UGC_SWAP_WORK_DIR=/tmp/ugc-swap
ENTRYPOINT ["/opt/ugc-swap/app/bin/worker"]
