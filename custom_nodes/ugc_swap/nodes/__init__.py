"""Thin ComfyUI node classes: each declares its widgets and calls one core function."""
