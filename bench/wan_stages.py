"""Seconds per stage of the Wan path (WanAnimateToVideo conditioning, sampling, VAE decode) with the tiny model.

The same command runs on CPU here and on a GPU machine, so the two print comparable per-stage figures:

    source bin/_env.sh && python bench/wan_stages.py --size 128 --frames 21 --steps 2      # CPU, seconds
    python bench/wan_stages.py --size 480 --frames 81 --window 77 --steps 6                # GPU, production shape

Conditioning frames are synthetic (random pose/face/background, a centred mask): this measures the model side.
The tiny model is ~39 M parameters, so the sampling figure says nothing about the 14 B model's speed; the
conditioning and decode figures run the real VAE code at the real shapes (with a narrow VAE).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "custom_nodes")]


def synthetic_conditioning(size: int, frames: int, seed: int = 0):
    import numpy as np

    from ugc_swap.core.wan.conditioning import FACE_VIDEO_SIZE, SegmentConditioning
    from ugc_swap.core.wan.work_region import WorkRegion

    rng = np.random.default_rng(seed)
    mask = np.zeros((frames, size, size), np.float32)
    mask[:, size // 4: 3 * size // 4, size // 4: 3 * size // 4] = 1.0
    return SegmentConditioning(
        region=WorkRegion((0, 0, size, size), size, size),
        reference=rng.integers(0, 256, (size, size, 3), np.uint8),
        pose=rng.integers(0, 256, (frames, size, size, 3), np.uint8),
        face=rng.integers(0, 256, (frames, FACE_VIDEO_SIZE, FACE_VIDEO_SIZE, 3), np.uint8),
        background=rng.integers(0, 256, (frames, size, size, 3), np.uint8),
        mask=mask,
    )


def run(args: argparse.Namespace) -> dict:
    if not (args.comfyui or os.environ.get("UGC_SWAP_COMFYUI_DIR")):
        raise SystemExit("give --comfyui DIR or set UGC_SWAP_COMFYUI_DIR (bin/_env.sh does)")
    from tools.tiny_wan import import_comfy, write_tiny_models

    import_comfy(args.comfyui)
    import comfy.model_management
    import comfy.sd
    import comfy.utils
    import torch
    from comfy_extras.nodes_model_advanced import ModelSamplingSD3

    from ugc_swap.core.wan.generation import generate_segment
    from ugc_swap.core.wan.windows import plan_windows
    from ugc_swap.nodes.wan_sampler import ComfyWanSampler

    timings: dict[str, float] = {}
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as folder:
        paths = write_tiny_models(Path(folder))
        model = comfy.sd.load_diffusion_model(str(paths["diffusion_model"]))
        lora = comfy.utils.load_torch_file(str(paths["lora"]))
        model = comfy.sd.load_lora_for_models(model, None, lora, 1.0, 0.0)[0]
        model = ModelSamplingSD3().patch(model, 8.0)[0]
        vae = comfy.sd.VAE(sd=comfy.utils.load_torch_file(str(paths["vae"])))
    timings["load_models"] = time.perf_counter() - started
    conditioning = synthetic_conditioning(args.size, args.frames)
    empty = [[torch.zeros(1, 512, 4096), {}]]
    sampler = ComfyWanSampler(model, empty, empty, vae, None, args.steps, 1.0, "euler", "simple", args.motion)
    windows = plan_windows(args.frames, args.window, args.motion)
    started = time.perf_counter()
    generated = generate_segment(sampler, conditioning, windows, seed=0)
    timings["windows_total"] = time.perf_counter() - started
    timings.update({f"{k}": v for k, v in sampler.timings_s.items()})
    device = comfy.model_management.get_torch_device()
    return {
        "device": torch.cuda.get_device_name(device) if device.type == "cuda" else f"cpu ({os.cpu_count()} cores)",
        "torch": torch.__version__,
        "shape": {"size": args.size, "frames": args.frames, "window": args.window, "motion": args.motion,
                  "steps": args.steps, "windows": len(windows)},
        "generated": list(generated.shape),
        "seconds": {k: round(v, 3) for k, v in timings.items()},
        "frames_per_s": round(args.frames / timings["windows_total"], 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=128, help="working size (square), multiple of 16")
    parser.add_argument("--frames", type=int, default=21, help="generation frames in the segment")
    parser.add_argument("--window", type=int, default=17, help="window length (4k + 1)")
    parser.add_argument("--motion", type=int, default=5, help="continue_motion frames (4k + 1)")
    parser.add_argument("--steps", type=int, default=2)
    parser.add_argument("--comfyui", help="ComfyUI folder (default $UGC_SWAP_COMFYUI_DIR)")
    print(json.dumps(run(parser.parse_args()), indent=1))


if __name__ == "__main__":
    main()
