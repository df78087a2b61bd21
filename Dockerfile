# The ugc-swap worker image: ComfyUI 0.3.75 + the node pack + the driver, serving jobs as a Runpod serverless
# worker or a Pods-mode server (UGC_SWAP_MODE). Built, run and scanned by tests/test_docker_image.py; how to deploy
# it: docs/deploy.md.
#
# BASE: torch 2.14.1 from requirements/lock.txt brings its own CUDA 13 libraries (the nvidia-* wheels), so the
# base only supplies Ubuntu 22.04 (which packages python3.11, the lock's Python; 24.04 defaults to 3.12) and
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

# Models: UGC_SWAP_MODELS_DIR is /runpod-volume/models, where Runpod mounts a network volume on serverless workers.
# MODELS=volume (default) leaves that folder to the volume. MODELS=baked downloads the files of MODELS_MANIFEST
# into it at build time, each checked against its size and sha256 (a missing, truncated or corrupt download fails
# the build), for endpoints without a volume; a volume mounted there would hide them. Only what the download
# imports is copied first, so code changes do not invalidate the (≈ 28 GB) models layer.
ARG MODELS=volume
ARG MODELS_MANIFEST=workflows/models.json
ENV UGC_SWAP_MODELS_DIR=/runpod-volume/models
COPY bin/_env.sh bin/
COPY driver/__init__.py driver/log_privacy.py driver/model_manifest.py driver/
COPY custom_nodes/ugc_swap/__init__.py custom_nodes/ugc_swap/
COPY custom_nodes/ugc_swap/core/__init__.py custom_nodes/ugc_swap/core/errors.py custom_nodes/ugc_swap/core/
COPY ${MODELS_MANIFEST} /opt/ugc-swap/models.json
RUN case "$MODELS" in \
      volume) ;; \
      baked) . bin/_env.sh && python -m driver.model_manifest /opt/ugc-swap/models.json "$UGC_SWAP_MODELS_DIR" ;; \
      *) echo "MODELS must be volume or baked, got '$MODELS'" >&2; exit 1 ;; \
    esac

COPY bin/ bin/
COPY workflows/ workflows/
COPY custom_nodes/ custom_nodes/
COPY driver/ driver/
COPY runpod_handler.py test_input.json ./

ENV UGC_SWAP_WORK_DIR=/tmp/ugc-swap
ENTRYPOINT ["/opt/ugc-swap/app/bin/worker"]
