"""Seconds per stage of the Wan path (WanAnimateToVideo conditioning, sampling, VAE decode) with the tiny model.

The same command runs on CPU here and on a GPU machine, so the two print comparable per-stage figures:

    source bin/_env.sh && python bench/wan_stages.py --size 128 --frames 21 --steps 2      # CPU, seconds
    python bench/wan_stages.py --size 480 --frames 80 --window 81 --steps 4                # GPU, production shape
    python bench/wan_stages.py --models /path/to/ComfyUI/models                            # GPU, the real 14 B model

Conditioning frames are synthetic (random pose/face/background, a centred mask): this measures the model side.
The tiny model is ~39 M parameters, so its sampling figure says nothing about the 14 B model's speed; the
conditioning and decode figures run the real VAE code at the real shapes (with a narrow VAE). `--models` loads the
files the shipped Wan graph names (workflows/ugc_swap_wan.api.json: the diffusion model, both LoRAs, the VAE)
from a ComfyUI models folder instead, at the graph's own shape unless told otherwise (text conditioning stays
empty: the text encoder's cost is once per job). Either way the output ends with the default job (two 5 s
segments at the graph's settings) priced from the measured seconds per window at the GPU's Runpod flex price.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from fractions import Fraction
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


WAN_GRAPH = REPO / "workflows" / "ugc_swap_wan.api.json"
DEFAULT_JOB_SEGMENTS = 2  # the default plan swaps 0-5 s and 15-20 s


def graph_files_and_settings() -> tuple[dict[str, str], dict]:
    """The model files the shipped Wan graph loads ({role: ComfyUI-relative path}) and its Wan node's inputs."""
    graph = json.loads(WAN_GRAPH.read_text())
    files, loras, settings = {}, [], {}
    for node in graph.values():
        kind, inputs = node["class_type"], node["inputs"]
        if kind == "UNETLoader":
            files["diffusion_model"] = f"diffusion_models/{inputs['unet_name']}"
        elif kind == "VAELoader":
            files["vae"] = f"vae/{inputs['vae_name']}"
        elif kind == "LoraLoaderModelOnly":
            loras.append(f"loras/{inputs['lora_name']}")
        elif kind == "UGCSwapWanReplace":
            settings = inputs
    files.update({f"lora_{i}": path for i, path in enumerate(loras)})
    return files, settings


def default_job(result: dict, settings: dict, price_per_s: float | None) -> dict:
    """The default job's model-side seconds and price, scaled from this run's seconds per window."""
    from ugc_swap.core.wan.windows import generation_frame_count, plan_windows

    frames = generation_frame_count(150, Fraction(30), Fraction(settings["generation_fps"]))
    windows = DEFAULT_JOB_SEGMENTS * len(plan_windows(frames, settings["window_length"], settings["motion_frames"]))
    measured, count = result["seconds"], result["shape"]["windows"]
    per_window = sum(measured[k] for k in ("conditioning", "sampling", "decoding")) / count
    # A run at another step count than the graph's: sampling scales with steps, the rest does not.
    sampling_share = measured["sampling"] / count
    per_window += sampling_share * (settings["steps"] / result["shape"]["steps"] - 1)
    seconds = windows * per_window
    job = {"windows": windows, "steps": settings["steps"], "model_side_s": round(seconds, 1)}
    if price_per_s:
        job.update(price_per_s=price_per_s, dollars=round(seconds * price_per_s, 4))
    return job


def price_for(device: str, override: float | None) -> float | None:
    from driver.job_quality import RUNPOD_FLEX_PRICES

    if override is not None:
        return override
    return next((price for key, price in RUNPOD_FLEX_PRICES.items() if key in device.replace(" ", "")), None)


def load_models(args: argparse.Namespace, folder: Path) -> dict[str, Path]:
    """Paths of the diffusion model, the LoRAs and the VAE: the real ones under --models, else tiny ones."""
    from tools.tiny_wan import write_tiny_models

    if not args.models:
        tiny = write_tiny_models(folder)
        return {"diffusion_model": tiny["diffusion_model"], "vae": tiny["vae"], "lora_0": tiny["lora"]}
    files, _ = graph_files_and_settings()
    paths = {role: Path(args.models) / relative for role, relative in files.items()}
    missing = [str(path) for path in paths.values() if not path.is_file()]
    if missing:
        raise SystemExit(f"missing model files (bin/ugc-swap models download fetches them): {', '.join(missing)}")
    return paths


def run(args: argparse.Namespace) -> dict:
    if not (args.comfyui or os.environ.get("UGC_SWAP_COMFYUI_DIR")):
        raise SystemExit("give --comfyui DIR or set UGC_SWAP_COMFYUI_DIR (bin/_env.sh does)")
    from tools.tiny_wan import import_comfy

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
        paths = load_models(args, Path(folder))
        model = comfy.sd.load_diffusion_model(str(paths["diffusion_model"]))
        for role in sorted(role for role in paths if role.startswith("lora_")):
            lora = comfy.utils.load_torch_file(str(paths[role]))
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
    device_name = torch.cuda.get_device_name(device) if device.type == "cuda" else f"cpu ({os.cpu_count()} cores)"
    result = {
        "model": "real (--models)" if args.models else "tiny random",
        "device": device_name,
        "torch": torch.__version__,
        "shape": {"size": args.size, "frames": args.frames, "window": args.window, "motion": args.motion,
                  "steps": args.steps, "windows": len(windows)},
        "generated": list(generated.shape),
        "seconds": {k: round(v, 3) for k, v in timings.items()},
        "frames_per_s": round(args.frames / timings["windows_total"], 2),
    }
    result["default_job"] = default_job(result, graph_files_and_settings()[1], price_for(device_name, args.price_per_s))
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=128, help="working size (square), multiple of 16")
    parser.add_argument("--frames", type=int, default=21, help="generation frames in the segment")
    parser.add_argument("--window", type=int, default=17, help="window length (4k + 1)")
    parser.add_argument("--motion", type=int, default=5, help="continue_motion frames (4k + 1)")
    parser.add_argument("--steps", type=int, default=2)
    parser.add_argument("--comfyui", help="ComfyUI folder (default $UGC_SWAP_COMFYUI_DIR)")
    parser.add_argument("--models", help="a ComfyUI models folder with the real Wan files (default: tiny models); "
                                         "the shape then defaults to the shipped graph's")
    parser.add_argument("--price-per-s", type=float, help="$/s of this GPU (default: Runpod's flex price for it)")
    args = parser.parse_args()
    if args.models:
        _, settings = graph_files_and_settings()
        given = {a.lstrip("-") for a in sys.argv[1:]}
        defaults = {"size": 480, "frames": 80, "window": settings["window_length"], "motion": settings["motion_frames"],
                    "steps": settings["steps"]}
        for name, value in defaults.items():
            if name not in given and not any(g.startswith(f"{name}=") for g in given):
                setattr(args, name, value)
    print(json.dumps(run(args), indent=1))


if __name__ == "__main__":
    main()
