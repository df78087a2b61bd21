"""`ugc-swap [run|watch|serve]`: one job from paths or URLs, the Airtable watcher, or the Pods-mode HTTP server.

With no sub-command it is `run` on the embedded defaults: a local ComfyUI on CPU, the generated sample video, a
shipped sample face, the result in ./output.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import threading
import time
from pathlib import Path

from ugc_swap.core.errors import UgcSwapError

from .comfy_client import ComfyClient
from .comfy_server import LocalComfyUI
from .contract import FIELDS, FIELDS_BY_NAME, FieldProblem, check_target, graph_fields, read_field
from .local_inputs import resolve_input, sample_inputs
from .job_provenance import sign_result
from .swap_job import SwapJob, SwapOutcome, run_swap_job

REPO = Path(__file__).resolve().parent.parent


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="ugc-swap", description=__doc__)
    commands = parser.add_subparsers(dest="command")
    run = commands.add_parser("run", help="one job from local paths or URLs (the default)")
    run.add_argument("--video", help="product-demo video: path or http(s)/s3 URL (default: a generated 30 s sample)")
    run.add_argument("--avatar", help="face photo: path or http(s)/s3 URL (default: a shipped sample portrait)")
    for option in _graph_options():
        run.add_argument(option.cli_flag, dest=option.name, default=option.default,
                         help=f"{option.doc} (default: %(default)r)")
    run.add_argument(FIELDS_BY_NAME["consent"].cli_flag, dest="consent",
                     help="the customer's consent reference, written into the result's C2PA manifest")
    run.add_argument(FIELDS_BY_NAME["target_face_url"].cli_flag, dest="target_face",
                     help="a photo of the person to replace: path or http(s)/s3 URL (makes the target 'reference')")
    run.add_argument("--out-dir", type=Path, default=REPO / "output", help="where the result goes")
    run.add_argument("--comfy-url", help="use a running ComfyUI instead of starting one")
    run.add_argument("--work-dir", type=Path, default=REPO / ".work" / "comfyui",
                     help="ComfyUI base directory for the local server (models, input, output)")
    run.add_argument("--timeout", type=float, default=1800.0, help="job timeout in seconds")
    watch = commands.add_parser("watch", help="run Airtable rows in Pending/Retry (config from the environment)")
    watch.add_argument("--interval", type=float, default=30.0, help="seconds between polls")
    watch.add_argument("--once", action="store_true", help="one pass over the waiting rows, then exit")
    serve = commands.add_parser("serve", help="Pods mode: Runpod-compatible /run, /runsync, /status on uvicorn")
    serve.add_argument("--host", default=os.environ.get("UGC_SWAP_HOST", "0.0.0.0"))
    serve.add_argument("--port", type=int, default=int(os.environ.get("UGC_SWAP_PORT", "8000")))
    models = commands.add_parser("models", help="check or fetch the model files of workflows/models.json")
    models.add_argument("action", choices=("verify", "download"))
    models.add_argument("--models-dir", type=Path,
                        default=Path(os.environ.get("UGC_SWAP_MODELS_DIR", REPO / ".work" / "comfyui" / "models")),
                        help="ComfyUI models folder (default: $UGC_SWAP_MODELS_DIR, else the CLI's local one)")
    models.add_argument("--quick", action="store_true", help="verify sizes only, skip the sha256 pass")
    verify = commands.add_parser("verify", help="check a video's C2PA manifest (AI-generated mark, consent)")
    verify.add_argument("video", help="the video: a path or an http(s) URL")
    verify.add_argument("--trust-anchor", type=Path, help="PEM file of the CA(s) whose signatures count as trusted")
    if not argv or (argv[0].startswith("-") and argv[0] not in ("-h", "--help")):
        argv = ["run", *argv]  # `ugc-swap --video …` keeps working: run is the default command
    return parser.parse_args(argv)


def _graph_options():
    """The contract fields the CLI passes to the graph: each has its flag there (contract.py)."""
    return [f for f in graph_fields() if f.cli_flag]


def _contract_values(args: argparse.Namespace) -> dict:
    """The graph fields as given on the command line, checked by the contract's own parsers."""
    values, problems = {}, []
    for option in _graph_options():
        try:
            values[option.name] = read_field({option.name: getattr(args, option.name)}, option)
        except FieldProblem as problem:
            problems.append(str(problem).replace(f"'{option.name}'", option.cli_flag, 1))
    if not problems:
        checked = {**values, "target_face_url": args.target_face}
        problems = check_target(checked, args.target != FIELDS_BY_NAME["target"].default)
        values["target"] = checked["target"]
        for option in FIELDS:  # the rule speaks of fields; the command line of flags
            problems = [p.replace(f"'{option.name}'", option.cli_flag or option.name) for p in problems]
    if problems:
        raise SystemExit("; ".join(problems))
    return values


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    args = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        commands = {"run": run_command, "watch": watch_command, "serve": serve_command, "models": models_command,
                    "verify": verify_command}
        return commands[args.command](args)
    except UgcSwapError as error:
        print(f"ugc-swap failed: {error}", file=sys.stderr)
        return 1


def run_command(args: argparse.Namespace) -> int:
    started = time.monotonic()
    if args.video or args.avatar:
        if not (args.video and args.avatar):
            raise SystemExit("give both --video and --avatar, or neither for the sample inputs")
        video = resolve_input(args.video, args.out_dir / "inputs" / "video.mp4", "video")
        avatar = resolve_input(args.avatar, args.out_dir / "inputs" / "avatar.png", "image")
    else:
        print("No --video/--avatar given: using the generated sample video and a sample avatar photo.")
        video, avatar = sample_inputs(args.out_dir / "inputs")
    values = _contract_values(args)
    target_face = resolve_input(args.target_face, args.out_dir / "inputs" / "target_face.png", "image") \
        if args.target_face else None
    job = SwapJob(video, avatar, values.pop("segments"), values.pop("engine"), options=values,
                  target_face_path=target_face)
    with _progress_bar() as on_progress:
        if args.comfy_url:
            outcome = run_swap_job(ComfyClient(args.comfy_url), job, args.out_dir, args.timeout, on_progress)
        else:
            with LocalComfyUI(args.work_dir) as server:
                outcome = run_swap_job(ComfyClient(server.url), job, args.out_dir, args.timeout, on_progress)
    signer = _cli_signer()
    if signer is not None:
        sign_result(outcome.output_path, video, outcome.summary, job.job_id, None, args.consent, signer)
        print(f"Signed with a C2PA manifest by {signer.signer_name!r}"
              + (" (a throwaway local certificate: set UGC_SWAP_C2PA_CERT_CHAIN/_KEY to sign as yourself)"
                 if signer.local else ""))
    _print_outcome(outcome, time.monotonic() - started)
    return 0


def _cli_signer():
    """The environment's C2PA signer, else this machine's local one; None with UGC_SWAP_C2PA=off."""
    from .c2pa_credentials import credentials_from_env, local_credentials

    if os.environ.get("UGC_SWAP_C2PA", "on").strip() == "off":
        return None
    problems: list[str] = []
    configured = credentials_from_env(os.environ, problems)
    if problems:
        raise SystemExit("; ".join(problems))
    cache = Path(os.environ.get("UGC_SWAP_CACHE") or Path.home() / ".cache" / "ugc-swap")
    return configured or local_credentials(cache / "c2pa-local")


def _print_outcome(outcome: SwapOutcome, elapsed_s: float) -> None:
    summary = outcome.summary
    print(f"\nResult: {outcome.output_path}")
    print(f"Engine {summary['engine']}, {summary['duration_s']} s at {summary['fps']:.3f} fps")
    coverage = outcome.quality.get("coverage") or {}
    for segment in coverage.get("segments", []):
        skipped = ", ".join(f"{n} {reason.replace('_', ' ')}" for reason, n in segment["skipped"].items())
        print(f"  swapped {segment['start_s']}-{segment['end_s']} s: the customer in {segment['covered']} of "
              f"{segment['frames']} frames ({segment['share']:.0%}) over {segment['shots']} shot(s)"
              + (f"; skipped: {skipped}" if skipped else ""))
    identity = outcome.quality.get("identity") or {}
    for segment in identity.get("segments", []):
        if segment["to_avatar"] is not None:
            print(f"  identity {segment['start_s']}-{segment['end_s']} s: distance {segment['to_avatar']} to the "
                  f"avatar, {segment['to_filmed']} to the filmed person (margin {segment['margin']})")
    judged = [report["warning"] for report in (identity, coverage) if report.get("warning")]
    for warning in [*summary["warnings"], *judged]:
        print(f"  warning: {warning}")
    print(f"Before/after sheet: {outcome.sheet_path}")
    print(f"Time taken: {elapsed_s:.1f} s (ComfyUI {outcome.timings_s['comfyui']:.1f} s)")
    print(json.dumps({"prompt_id": outcome.prompt_id, "timings_s": outcome.timings_s}))
    print("To open the same graph in the web UI: bin/comfyui, then load workflows/ugc_swap_fast.json.")


class _progress_bar:
    """A tqdm bar over the swap's frames on stderr; ComfyUI reports (node, value, max) per frame."""

    def __enter__(self):
        from tqdm import tqdm

        self._bar = None

        def update(_node: str | None, value: int, maximum: int) -> None:
            if self._bar is None or self._bar.total != maximum:
                if self._bar is not None:
                    self._bar.close()
                self._bar = tqdm(total=maximum, unit="frame", desc="swapping", file=sys.stderr)
            self._bar.n = value
            self._bar.refresh()

        return update

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.close()


def verify_command(args: argparse.Namespace) -> int:
    from .verify import verify_video

    anchors = args.trust_anchor.read_bytes() if args.trust_anchor else None
    report = verify_video(args.video, anchors)
    print(json.dumps(report, indent=2))
    check = report["c2pa"]
    return 0 if check["valid"] and (check["trusted"] or anchors is None) else 1


def _worker_from_environment():
    from .config import load_config
    from .swap_worker import SwapWorker

    return SwapWorker.from_config(load_config(os.environ))


def watch_command(args: argparse.Namespace) -> int:
    from .airtable_watch import watch

    worker = _worker_from_environment()
    if worker.airtable is None:
        raise SystemExit("watch needs Airtable: set UGC_SWAP_AIRTABLE_API_KEY, _BASE_ID and _TABLE (see README)")
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    with worker.start().comfy:  # start() checks the engines' models first, as in the other worker modes
        ran = watch(worker, worker.airtable, args.interval, stop, once=args.once)
    print(f"watch: ran {ran} row(s)")
    return 0


def serve_command(args: argparse.Namespace) -> int:
    from .job_result import for_runpod_api
    from .pods_server import serve

    worker = _worker_from_environment().start()
    try:
        serve(lambda job_input, progress: for_runpod_api(worker.handle(job_input, progress)), args.host, args.port,
              api_key=worker.config.api_key)
    finally:
        worker.comfy.stop()
    return 0


def models_command(args: argparse.Namespace) -> int:
    from .model_manifest import download, load_manifest, verify

    manifest = load_manifest()
    if args.action == "download":
        for path in download(args.models_dir, manifest):
            print(f"downloaded {path}")
    verify(args.models_dir, manifest, check_hash=not args.quick)
    print(f"all {len(manifest)} model files under {args.models_dir} match workflows/models.json")
    return 0
