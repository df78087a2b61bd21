"""Where each node of a saved web-UI graph sits: titled groups by stage, previews with room to load, a note.

Stages run left to right (inputs, models, the swap, the output), each a titled group whose nodes stack in columns
no taller than the swap column. Nodes whose preview takes the node's width at the media's aspect ratio (a video,
which may be a tall phone video) go last in their column, so they grow into empty canvas, never over a neighbour.
A note node on the left says what the main knobs do, in the words of the nodes' own tooltips.
The saved viewport frames the whole graph, readable, in a 1920×960 window clear of the frontend's panels (left to
itself, the frontend fits a graph at 75 % of the window, which for these graphs is a zoom too small to draw text).
"""

from __future__ import annotations

from typing import Any

NODE_WIDTH = 360
# The frontend widens Load Video to 464 px once its preview loads (measured in chromium): room for that up front.
WIDTH = {"LoadVideo": 480, "LoadImage": 480, "model": 300}
NOTE_WIDTH = 340
TITLE_HEIGHT = 30  # LiteGraph draws the title bar above pos, outside size
COLUMN_GAP = 50
NODE_GAP = 40
GROUP_GAP = 70
GROUP_PAD = 16
GROUP_HEAD = 50  # the group's title band
TOP = 40
STAGES = ("input", "model", "swap", "output")
GROUP_TITLES = {"input": "1 · Inputs", "model": "Wan2.2-Animate models", "swap": "2 · Swap", "output": "3 · Output"}
GROUP_COLOURS = {"input": "#3f5f8a", "model": "#8a5f3f", "swap": "#6a3f8a", "output": "#3f8a5f"}
# Video previews follow the video's aspect ratio at the node's width: these go last in their column.
GROWS_WITH_PREVIEW = {"LoadVideo", "UGCSwapStitch"}
# Heights that already hold what the node shows (image previews are drawn to fit inside the node).
PREVIEW_HEIGHT = {"LoadVideo": 340, "UGCSwapStitch": 340, "LoadImage": 380, "UGCSwapQuality": 380}
# The knobs the note explains, per node type, by input name; the text is each input's own tooltip.
MAIN_KNOBS = {
    "UGCSwapSegmentPlan": ("plan",),
    "UGCSwapFaceReplace": ("strength", "face_shape", "colour_match", "detail_match", "keep_mouth", "occlusion",
                           "target", "label"),
    "UGCSwapWanReplace": ("mask_scope", "pixel_budget", "steps", "strength", "colour_match", "target", "label"),
    "UGCSwapQuality": ("min_margin", "min_coverage"),
}
UI_ONLY_TYPES = ("Note", "MarkdownNote")  # frontend-only nodes: no API twin, never submitted


# The window the saved view is framed for: a browser on a 1920×1080 screen. Larger ones show the same with room to
# spare; on a smaller one the frontend's "fit view" (the . key) shows it all, at a zoom that may drop text.
VIEW_WIDTH, VIEW_HEIGHT = 1920, 960
# Screen space the frontend's own panels take (side bar; banner, tabs, run button and the job panel under it; the
# minimap), measured in chromium on frontend 1.32.
VIEW_LEFT, VIEW_TOP, VIEW_RIGHT, VIEW_BOTTOM = 80, 180, 270, 20
MAX_SCALE = 0.8


def node_width(class_type: str, stage: str) -> int:
    return WIDTH.get(class_type, WIDTH.get(stage, NODE_WIDTH))


def node_height(class_type: str, rows: int) -> int:
    """Room for `rows` widgets and inputs (24 px each in the frontend, kept with slack), or the preview's."""
    return max(60 + 26 * rows, PREVIEW_HEIGHT.get(class_type, 0))


def _columns(members: list[dict], capacity: int) -> list[list[dict]]:
    columns: list[list[dict]] = [[]]
    used = 0
    for node in members:
        height = node["size"][1] + TITLE_HEIGHT
        if columns[-1] and used + NODE_GAP + height > capacity:
            columns.append([])
            used = 0
        used += height + (NODE_GAP if columns[-1] else 0)
        columns[-1].append(node)
    return columns


def _stack_height(members: list[dict]) -> int:
    return sum(n["size"][1] + TITLE_HEIGHT for n in members) + NODE_GAP * (len(members) - 1)


def arrange(nodes: list[dict], stage_of: dict[int, str], depth_of: dict[int, int], note: dict | None) -> list[dict]:
    """Set every node's pos (and the note's) in place; return the groups, one per stage present. The model stage
    (many small loaders) folds into as many columns as it needs to stay no taller than the others."""
    by_stage = {s: sorted((n for n in nodes if stage_of[n["id"]] == s),
                          key=lambda n: (n["type"] in GROWS_WITH_PREVIEW, depth_of[n["id"]], n["id"]))
                for s in STAGES}
    capacity = max(_stack_height(by_stage[s]) for s in STAGES if s != "model")
    first_pos_y = TOP + GROUP_HEAD + TITLE_HEIGHT
    x = 40
    if note is not None:
        note["pos"] = [x, first_pos_y]
        x += NOTE_WIDTH + GROUP_GAP
    groups, bottom = [], 0
    for stage in STAGES:
        if not by_stage[stage]:
            continue
        left = x
        for column in _columns(by_stage[stage], capacity):
            y = first_pos_y
            for node in column:
                node["pos"] = [x + GROUP_PAD, y]
                y += node["size"][1] + NODE_GAP + TITLE_HEIGHT
                bottom = max(bottom, y - NODE_GAP - TITLE_HEIGHT)
            x += max(n["size"][0] for n in column) + COLUMN_GAP
        x -= COLUMN_GAP
        groups.append({"id": len(groups) + 1, "title": GROUP_TITLES[stage], "color": GROUP_COLOURS[stage],
                       "bounding": [left, TOP, x - left + 2 * GROUP_PAD, 0], "font_size": 24, "flags": {}})
        x += 2 * GROUP_PAD + GROUP_GAP
    for group in groups:  # one height for all, so the row of groups reads as one band
        group["bounding"][3] = bottom - TOP + GROUP_PAD
    if note is not None:
        note["size"] = [NOTE_WIDTH, bottom - note["pos"][1]]
    return groups


def framed_view(nodes: list[dict], groups: list[dict]) -> dict[str, Any]:
    """The saved viewport: everything readable (scale above the frontend's 8 px text threshold at 14 px, 0.57)
    inside a VIEW_WIDTH × VIEW_HEIGHT window, clear of the frontend's panels."""
    left = min([g["bounding"][0] for g in groups] + [n["pos"][0] for n in nodes])
    top = min([g["bounding"][1] for g in groups] + [n["pos"][1] - TITLE_HEIGHT for n in nodes])
    right = max([g["bounding"][0] + g["bounding"][2] for g in groups] + [n["pos"][0] + n["size"][0] for n in nodes])
    bottom = max([g["bounding"][1] + g["bounding"][3] for g in groups] + [n["pos"][1] + n["size"][1] for n in nodes])
    scale = min(MAX_SCALE, (VIEW_WIDTH - VIEW_LEFT - VIEW_RIGHT) / (right - left),
                (VIEW_HEIGHT - VIEW_TOP - VIEW_BOTTOM) / (bottom - top))
    return {"scale": round(scale, 4), "offset": [round(VIEW_LEFT / scale - left, 1), round(VIEW_TOP / scale - top, 1)]}


def note_text(api: dict[str, Any], object_info: dict[str, Any]) -> str:
    """What the main knobs of this graph do, from the nodes' own tooltips (one home for each explanation)."""
    lines = ["What to change (hover any widget for more):", ""]
    for node in sorted(api.values(), key=lambda n: list(MAIN_KNOBS).index(n["class_type"])
                       if n["class_type"] in MAIN_KNOBS else len(MAIN_KNOBS)):
        knobs = MAIN_KNOBS.get(node["class_type"])
        if not knobs:
            continue
        schema = object_info[node["class_type"]]["input"]
        specs = {**schema.get("required", {}), **schema.get("optional", {})}
        lines.append(f"{node['_meta']['title']}:")
        for name in knobs:
            tooltip = specs[name][1].get("tooltip", "") if len(specs[name]) > 1 else ""
            lines.append(f"• {name}: {tooltip}")  # the name the widget shows
        lines.append("")
    lines.append("Run queues the whole graph; the video appears in Stitch & save, the check in Swap quality.")
    return "\n".join(lines)


def note_node(node_id: int, text: str, order: int) -> dict[str, Any]:
    return {"id": node_id, "type": "Note", "pos": [0, 0], "size": [NOTE_WIDTH, 400], "flags": {}, "order": order,
            "mode": 0, "inputs": [], "outputs": [], "title": "Read me: the main knobs", "properties": {},
            "widgets_values": [text], "color": "#432", "bgcolor": "#653"}
