"""A client for ComfyUI's HTTP + websocket API: upload inputs, queue a graph, follow it, fetch its outputs.

The websocket is opened before the prompt is queued so no message is missed. If it drops, the client probes
the HTTP port (a crashed server and a network glitch look the same on a socket) and falls back to polling
`/history`. A job that outlives its timeout is interrupted so the server is free for the next one.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests
import websocket

from .errors import (
    ComfyUnavailableError,
    ComfyValidationError,
    JobTimeoutError,
    error_from_node_failure,
)

log = logging.getLogger(__name__)

# (node id, value, max) for each progress message; node id is None for "started".
ProgressHandler = Callable[[str | None, int, int], None]


@dataclass(frozen=True)
class OutputFile:
    filename: str
    subfolder: str
    type: str


@dataclass(frozen=True)
class PromptResult:
    prompt_id: str
    outputs: dict[str, dict[str, Any]]
    execution_s: float

    def files(self) -> list[OutputFile]:
        found = []
        for node_output in self.outputs.values():
            for item in node_output.get("images", []) + node_output.get("videos", []):
                if isinstance(item, dict) and "filename" in item:
                    found.append(OutputFile(item["filename"], item.get("subfolder", ""), item.get("type", "output")))
        return found

    def ui_values(self, key: str) -> list[Any]:
        """Every value a node put under `key` in its UI output (e.g. our stitch node's summary)."""
        return [value for node_output in self.outputs.values() for value in node_output.get(key, [])]


class ComfyClient:
    def __init__(self, base_url: str, request_timeout_s: float = 30.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.ws_url = "ws" + self.base_url[len("http"):] + "/ws"
        self.request_timeout_s = request_timeout_s
        self.session = requests.Session()

    def _get(self, path: str, **params: Any) -> requests.Response:
        try:
            response = self.session.get(self.base_url + path, params=params, timeout=self.request_timeout_s)
        except requests.RequestException as exc:
            raise ComfyUnavailableError(f"ComfyUI at {self.base_url} is not answering: {type(exc).__name__}") from None
        response.raise_for_status()
        return response

    def is_alive(self) -> bool:
        try:
            return self.session.get(self.base_url + "/system_stats", timeout=3).ok
        except requests.RequestException:
            return False

    def object_info(self) -> dict[str, Any]:
        return self._get("/object_info").json()

    def upload_input(self, path: Path, name: str) -> str:
        """Put a file into ComfyUI's input folder under `name`; returns the name LoadVideo/LoadImage take."""
        try:
            with open(path, "rb") as handle:
                response = self.session.post(
                    self.base_url + "/upload/image",
                    files={"image": (name, handle, "application/octet-stream")},
                    data={"overwrite": "true", "type": "input"},
                    timeout=self.request_timeout_s * 4,
                )
            response.raise_for_status()
        except requests.RequestException as exc:
            raise ComfyUnavailableError(f"cannot upload {name} to ComfyUI: {type(exc).__name__}") from None
        stored = response.json()
        return f"{stored['subfolder']}/{stored['name']}" if stored.get("subfolder") else stored["name"]

    def run(self, graph: dict[str, Any], timeout_s: float, on_progress: ProgressHandler | None = None) -> PromptResult:
        """Queue `graph`, follow it to the end and return its outputs; raise a typed error on any failure."""
        client_id = uuid.uuid4().hex
        ws = self._connect_ws(client_id)
        started = time.monotonic()
        try:
            prompt_id = self._queue(graph, client_id)
            self._follow(ws, client_id, prompt_id, started + timeout_s, on_progress)
        finally:
            if ws is not None:
                ws.close()
        return PromptResult(prompt_id, self._history_outputs(prompt_id), time.monotonic() - started)

    def _connect_ws(self, client_id: str) -> websocket.WebSocket | None:
        try:
            return websocket.create_connection(f"{self.ws_url}?clientId={client_id}", timeout=5)
        except (websocket.WebSocketException, OSError) as exc:
            log.warning("websocket unavailable (%s); following the job through /history", type(exc).__name__)
            return None

    def _queue(self, graph: dict[str, Any], client_id: str) -> str:
        try:
            response = self.session.post(
                self.base_url + "/prompt", json={"prompt": graph, "client_id": client_id}, timeout=self.request_timeout_s
            )
        except requests.RequestException as exc:
            raise ComfyUnavailableError(f"cannot queue the workflow: {type(exc).__name__}") from None
        if response.status_code == 400:
            raise ComfyValidationError(_describe_validation_error(response))
        response.raise_for_status()
        return response.json()["prompt_id"]

    def _follow(self, ws, client_id: str, prompt_id: str, deadline: float, on_progress: ProgressHandler | None) -> None:
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self.interrupt(prompt_id)
                raise JobTimeoutError(f"the workflow did not finish in time; prompt {prompt_id} was interrupted")
            if ws is None:
                if self._finished_in_history(prompt_id):
                    return
                if not self.is_alive():
                    raise ComfyUnavailableError("ComfyUI stopped answering while the job ran")
                time.sleep(min(1.0, remaining))
                continue
            try:
                ws.settimeout(min(5.0, remaining))
                message = ws.recv()
            except websocket.WebSocketTimeoutException:
                # A quiet socket may be a deaf one: when ComfyUI notices the old socket closed only after the
                # reconnect, it drops the client id the new socket registered under, and no message ever comes.
                if self._finished_in_history(prompt_id):
                    return
                continue
            except (websocket.WebSocketException, OSError) as exc:
                log.warning("websocket dropped (%s); probing ComfyUI and polling /history", type(exc).__name__)
                ws = self._connect_ws(client_id) if self.is_alive() else None
                if ws is not None and self._finished_in_history(prompt_id):
                    return
                continue
            if isinstance(message, str) and self._handle(json.loads(message), prompt_id, on_progress):
                return

    @staticmethod
    def _handle(message: dict[str, Any], prompt_id: str, on_progress: ProgressHandler | None) -> bool:
        """Act on one websocket message; True when our prompt has finished."""
        kind, data = message.get("type"), message.get("data", {})
        if data.get("prompt_id") not in (None, prompt_id):
            return False
        if kind == "execution_error":
            raise error_from_node_failure(data.get("node_type", "?"), data.get("exception_message", ""))
        if kind == "execution_interrupted":
            raise JobTimeoutError("the workflow was interrupted")
        if kind == "progress" and on_progress is not None:
            on_progress(data.get("node"), int(data.get("value", 0)), int(data.get("max", 0)))
        return kind == "executing" and data.get("node") is None and data.get("prompt_id") == prompt_id

    def _finished_in_history(self, prompt_id: str) -> bool:
        entry = self._get(f"/history/{prompt_id}").json().get(prompt_id)
        if not entry:
            return False
        status = entry.get("status", {})
        if status.get("status_str") == "error":
            for kind, data in status.get("messages", []):
                if kind == "execution_error":
                    raise error_from_node_failure(data.get("node_type", "?"), data.get("exception_message", ""))
            raise error_from_node_failure("?", "the workflow failed")
        return bool(status.get("completed"))

    def _history_outputs(self, prompt_id: str, wait_s: float = 10.0) -> dict[str, dict[str, Any]]:
        # /history can lag execution_success by a moment.
        deadline = time.monotonic() + wait_s
        while True:
            entry = self._get(f"/history/{prompt_id}").json().get(prompt_id)
            if entry and entry.get("outputs") is not None:
                return entry["outputs"]
            if time.monotonic() > deadline:
                raise ComfyUnavailableError(f"ComfyUI has no history for prompt {prompt_id}")
            time.sleep(0.2)

    def download(self, item: OutputFile, destination: Path) -> Path:
        """Stream an output file to `destination` (written under a temp name, then renamed)."""
        temp = destination.with_name(f".{destination.name}.partial")
        params = {"filename": item.filename, "subfolder": item.subfolder, "type": item.type}
        try:
            with self.session.get(self.base_url + "/view", params=params, stream=True,
                                  timeout=self.request_timeout_s) as response:
                response.raise_for_status()
                with open(temp, "wb") as handle:
                    for chunk in response.iter_content(1 << 20):
                        handle.write(chunk)
            temp.replace(destination)
        except requests.RequestException as exc:
            raise ComfyUnavailableError(f"cannot fetch the result from ComfyUI: {type(exc).__name__}") from None
        finally:
            temp.unlink(missing_ok=True)
        return destination

    def interrupt(self, prompt_id: str | None = None) -> None:
        try:
            self.session.post(self.base_url + "/interrupt", json={"prompt_id": prompt_id} if prompt_id else {},
                              timeout=self.request_timeout_s)
        except requests.RequestException:
            log.warning("could not interrupt ComfyUI at %s", self.base_url)


def _describe_validation_error(response: requests.Response) -> str:
    """ComfyUI's 400 body names the node and input at fault; keep that, not just 'Bad Request'."""
    try:
        body = response.json()
    except ValueError:
        return f"ComfyUI rejected the workflow: {response.text[:500]}"
    parts = [body.get("error", {}).get("message", "workflow rejected")]
    for node_id, node_error in (body.get("node_errors") or {}).items():
        for error in node_error.get("errors", []):
            parts.append(f"node {node_id} ({node_error.get('class_type')}): {error.get('message')} - {error.get('details')}")
    return "; ".join(parts)
