"""`bin/comfyui`: the ComfyUI web UI with the ugc_swap pack linked and the saved workflow's sample inputs in place."""

from __future__ import annotations

import argparse
import shutil
import signal
from pathlib import Path

from .comfy_server import LocalComfyUI
from ugc_swap.core.sample_media import SampleVideoSpec

from .local_inputs import DEMO_FILMED, sample_inputs

REPO = Path(__file__).resolve().parent.parent
# The names the saved workflows reference, so the graph runs as soon as an artist opens it.
SAMPLE_VIDEO_NAME = "sample_video.mp4"
SAMPLE_AVATAR_NAME = "sample_avatar.png"


def _stop_on_sigterm(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bin/comfyui")
    parser.add_argument("--port", type=int, default=8188)
    parser.add_argument("--listen", default="127.0.0.1")
    parser.add_argument("--work-dir", type=Path, default=REPO / ".work" / "comfyui")
    parser.add_argument("--gpu", action="store_true", help="let ComfyUI use the GPU (default: CPU only)")
    parser.add_argument("--sample-height", type=int, default=720, help="height of the generated sample video")
    args = parser.parse_args(argv)
    spec = SampleVideoSpec(width=args.sample_height * 16 // 9 // 2 * 2, height=args.sample_height, face=DEMO_FILMED)
    video, avatar = sample_inputs(REPO / ".work" / "samples", spec)
    inputs = args.work_dir / "input"
    inputs.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(video, inputs / SAMPLE_VIDEO_NAME)
    shutil.copyfile(avatar, inputs / SAMPLE_AVATAR_NAME)
    server = LocalComfyUI(args.work_dir, port=args.port, host=args.listen, cpu=not args.gpu)
    # Installed before ComfyUI starts: a SIGTERM that arrives while it boots must still stop it, since the
    # child runs in its own session and would otherwise outlive this launcher.
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    try:
        server.start()
        print(f"ComfyUI is running at {server.url} (log: {server.log_path})")
        print(f"Open it, then Workflow > Open > {REPO / 'workflows' / 'ugc_swap_fast.json'}. Ctrl-C stops it.")
        signal.pause()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
