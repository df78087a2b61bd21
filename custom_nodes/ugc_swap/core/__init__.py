"""Pure-Python core of ugc-swap: importable and testable without ComfyUI.

ComfyUI nodes (``ugc_swap.nodes``) and the driver both call into this package; nothing here imports
ComfyUI, so the same functions run in a test, in the CLI and inside a ComfyUI worker.
"""
