# Sourced by the bin/ commands: set up (idempotently) and export the environment they run in.
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
env_dir=$("$repo/bin/setup")
export UGC_SWAP_ENV="$env_dir"
export UGC_SWAP_COMFYUI_DIR="$env_dir/comfyui"
export UGC_SWAP_NODE_MODULES="$env_dir/node/node_modules"
export PATH="$env_dir/venv/bin:$PATH"
export PYTHONPATH="$repo/custom_nodes:$repo${PYTHONPATH:+:$PYTHONPATH}"
# mediapipe's TFLite runtime prints C++ warnings nobody can act on.
export GLOG_minloglevel=2 TF_CPP_MIN_LOG_LEVEL=2
cd "$repo"
