"""ugc-swap: ComfyUI nodes that put a customer's face into chosen segments of a product-demo video.

Importing this package does nothing heavy and imports no ComfyUI module: the driver and the tests import
`ugc_swap.core` directly, and ComfyUI calls `comfy_entrypoint()` to get the nodes.
"""


async def comfy_entrypoint():
    from .nodes.extension import UgcSwapExtension

    return UgcSwapExtension()
