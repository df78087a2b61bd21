"""The thin driver: submits the saved workflow to ComfyUI's HTTP + websocket API and handles what surrounds it."""

from . import log_privacy

log_privacy.install()
