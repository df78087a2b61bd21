"""The ComfyUI a worker submits jobs to: started once per worker and restarted if it died, or an external one.

Workers (Runpod handler, Pods server, Airtable watcher) own their ComfyUI, so they also own its folders: after
each job the job's uploaded inputs, its output video and its intermediate clips are removed, and a worker that
runs for weeks does not fill its disk.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from .comfy_client import ComfyClient
from .comfy_server import LocalComfyUI
from .engine_models import write_extra_model_paths
from .errors import ComfyUnavailableError

log = logging.getLogger(__name__)

# Where the node pack writes intermediate swap clips, relative to ComfyUI's base directory.
_CLIP_FOLDER = Path("temp") / "ugc_swap"


def gpu_available() -> bool:
    try:
        import torch

        return bool(torch.cuda.is_available())
    except ImportError:
        return False


@dataclass
class ComfyService:
    """Either `external_url` (someone else's server) or a LocalComfyUI under `base_dir` that this object owns."""

    base_dir: Path | None = None
    external_url: str | None = None
    cpu: bool | None = None
    models_dir: Path | None = None  # added to ComfyUI's model folders through an extra_model_paths file
    ready_timeout_s: float = 300.0
    _server: LocalComfyUI | None = field(default=None, init=False, repr=False)
    restarts: int = field(default=0, init=False)
    # A restart failed: this machine cannot run ComfyUI any more (the Runpod handler then asks for a new worker).
    broken: bool = field(default=False, init=False)

    def start(self) -> ComfyService:
        if self.external_url is None and self._server is None:
            if self.base_dir is None:
                raise ComfyUnavailableError("no ComfyUI URL and no base directory to start one in")
            cpu = (not gpu_available()) if self.cpu is None else self.cpu
            log.info("starting ComfyUI under %s (%s)", self.base_dir, "CPU" if cpu else "GPU")
            extra = ()
            if self.models_dir is not None:
                paths = write_extra_model_paths(self.models_dir, self.base_dir / "extra_model_paths.yaml")
                extra = ("--extra-model-paths-config", str(paths))
            self._server = LocalComfyUI(self.base_dir, cpu=cpu, extra_args=extra).start(self.ready_timeout_s)
        return self

    def client(self) -> ComfyClient:
        """A client for a server that is up now; a dead local server is started again first."""
        if self.external_url is not None:
            return ComfyClient(self.external_url)
        if self._server is None:
            self.start()
        elif not self._server.running:
            log.warning("ComfyUI exited (log tail: %s); starting it again", self._server.log_tail(500))
            self.restart()
        return ComfyClient(self._server.url)

    def restart(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None
        self.restarts += 1
        try:
            self.start()
        except ComfyUnavailableError:
            self.broken = True
            raise
        self.broken = False

    @property
    def owned_base_dir(self) -> Path | None:
        return self._server.base_dir if self._server is not None else None

    def remove_job_files(self, job_id: str, job_started_at: float) -> list[Path]:
        """Delete what one job left in ComfyUI's folders; only possible on a server this worker owns."""
        base = self.owned_base_dir
        if base is None:
            return []
        doomed = [*base.glob(f"input/ugc_{job_id}_*"), *base.glob(f"output/ugc_swap/{job_id}*")]
        # Clip names are random per run; this worker runs one job at a time, so clips written since this
        # job started are this job's.
        doomed += [p for p in (base / _CLIP_FOLDER).glob("*") if p.is_file() and p.stat().st_mtime >= job_started_at - 1]
        for path in doomed:
            path.unlink(missing_ok=True)
        return doomed

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None

    def __enter__(self) -> ComfyService:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
