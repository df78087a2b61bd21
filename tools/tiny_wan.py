"""Tiny, randomly initialised Wan2.2-Animate and Wan2.1-VAE weights with the real key names, for CPU runs.

The real models (17 GB + 0.25 GB) cannot be downloaded here. These are built from ComfyUI's own model classes
with small widths, so ComfyUI's loaders recognise them exactly as they recognise the real files (Animate from
`face_adapter.fuser_blocks.0.k_norm.weight`, the VAE's width from `decoder.head.0.gamma`) and the whole graph runs
the real code path, in seconds. `python tools/tiny_wan.py MODELS_DIR` writes them for manual runs.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

TINY_DIFFUSION_MODEL = "tiny_wan22_animate.safetensors"
TINY_VAE = "tiny_wan21_vae.safetensors"
TINY_LORA = "tiny_wan_lora.safetensors"


def import_comfy(comfyui_dir: str | None = None) -> None:
    """Put ComfyUI (`comfyui_dir`, else $UGC_SWAP_COMFYUI_DIR) on the path, set to CPU when torch sees no GPU."""
    comfy_dir = comfyui_dir or os.environ.get("UGC_SWAP_COMFYUI_DIR")
    if comfy_dir and comfy_dir not in sys.path:
        sys.path.insert(0, comfy_dir)
    import torch
    import comfy.cli_args

    if not torch.cuda.is_available():
        comfy.cli_args.args.cpu = True  # model_management would otherwise look for a GPU at import


def _randomise(module, seed: int) -> dict:
    """ComfyUI's ops skip weight init; give every tensor small random values (norm gains 1) so nothing is NaN."""
    import torch

    generator = torch.Generator().manual_seed(seed)
    state = {}
    for name, tensor in module.state_dict().items():
        if tensor.ndim <= 1 and ("norm" in name or "gamma" in name or name.endswith(".weight")):
            value = torch.ones(tensor.shape)
        elif tensor.ndim <= 1:
            value = torch.zeros(tensor.shape)
        else:
            value = torch.randn(tensor.shape, generator=generator) * 0.02
        state[name] = value.to(torch.float16 if tensor.is_floating_point() else tensor.dtype).contiguous()
    return state


def write_tiny_models(models_dir: Path) -> dict[str, Path]:
    """Write the three files into ComfyUI's folder layout under `models_dir`; reuses files already there."""
    import_comfy()
    import comfy.ops
    from comfy.ldm.wan.model_animate import AnimateWanModel
    from comfy.ldm.wan.vae import WanVAE
    from safetensors.torch import save_file

    paths = {
        "diffusion_model": models_dir / "diffusion_models" / TINY_DIFFUSION_MODEL,
        "vae": models_dir / "vae" / TINY_VAE,
        "lora": models_dir / "loras" / TINY_LORA,
    }
    if all(p.is_file() for p in paths.values()):
        return paths
    for path in paths.values():
        path.parent.mkdir(parents=True, exist_ok=True)
    # dim must be a multiple of 128 (heads = dim // 128) and 5 layers is the least the face adapter allows.
    model = AnimateWanModel(dim=128, ffn_dim=256, num_heads=1, num_layers=5, in_dim=36, text_dim=4096,
                            operations=comfy.ops.disable_weight_init)
    save_file(_randomise(model, 1), str(paths["diffusion_model"]))
    vae = WanVAE(dim=16, z_dim=16, dim_mult=[1, 2, 4, 4], num_res_blocks=2, attn_scales=[],
                 temperal_downsample=[False, True, True])
    save_file(_randomise(vae, 2), str(paths["vae"]))
    # A LoRA in ComfyUI's diffusers naming for one real layer: enough for LoraLoaderModelOnly to load and apply.
    import torch

    lora = {
        "diffusion_model.blocks.0.ffn.0.lora_down.weight": torch.randn(4, 128) * 0.01,
        "diffusion_model.blocks.0.ffn.0.lora_up.weight": torch.randn(256, 4) * 0.01,
    }
    save_file({k: v.to(torch.float16).contiguous() for k, v in lora.items()}, str(paths["lora"]))
    return paths


if __name__ == "__main__":
    for kind, path in write_tiny_models(Path(sys.argv[1])).items():
        print(f"{kind}: {path} ({path.stat().st_size / 1e6:.1f} MB)")


def tiny_wan_workflow(graph: dict, pixel_budget: int = 64 * 64, generation_fps: float = 4.0, window_length: int = 5,
                      motion_frames: int = 1, steps: int = 1) -> dict:
    """The saved Wan graph pointed at the tiny files, with empty text conditioning instead of umt5-xxl and no
    CLIP-vision (both fixed-size, too big for a test); every other node is the saved one."""
    import copy

    from driver import workflow as wf

    tiny = copy.deepcopy(graph)

    def node(title: str) -> dict:
        return tiny[wf.node_id_by_title(tiny, title)]

    node("Wan model")["inputs"]["unet_name"] = TINY_DIFFUSION_MODEL
    node("Distill LoRA (lightx2v)")["inputs"]["lora_name"] = TINY_LORA
    node("Relight LoRA")["inputs"]["lora_name"] = TINY_LORA
    node("Wan VAE")["inputs"]["vae_name"] = TINY_VAE
    for title in ("Positive prompt", "Negative prompt"):
        node(title).update({"class_type": "UGCSwapZeroConditioning", "inputs": {}})
    for title in ("Text encoder", "CLIP vision", "Avatar CLIP vision"):
        del tiny[wf.node_id_by_title(tiny, title)]
    replace = node("Face replace")["inputs"]
    del replace["clip_vision_output"]
    replace.update(pixel_budget=pixel_budget, generation_fps=generation_fps, window_length=window_length,
                   motion_frames=motion_frames, steps=steps)
    return tiny
