"""The identity acceptance rule shared by the engine and end-to-end tests.

dlib's embedding of a single frame occasionally misfits (its 68-point alignment slips on one frame and the
distance jumps far from both faces), so the rule is judged on the median over several frames, and most frames
must pass on their own too.
"""

from __future__ import annotations

import numpy as np

from ugc_swap.core.quality.identity import SAME_PERSON_DISTANCE, face_embedding, identity_distance
from ugc_swap.core.sample_media import sample_face

MIN_MARGIN = 0.15


def assert_identity_swapped(frames: list[np.ndarray], avatar_name: str, original_name: str) -> None:
    avatar_id, original_id = face_embedding(sample_face(avatar_name)), face_embedding(sample_face(original_name))
    distances = []
    for frame in frames:
        found = face_embedding(frame)
        assert found is not None, "dlib finds no face in a swapped frame"
        distances.append((identity_distance(found, avatar_id), identity_distance(found, original_id)))
    to_avatar = float(np.median([a for a, _ in distances]))
    to_original = float(np.median([o for _, o in distances]))
    report = ", ".join(f"{a:.2f}/{o:.2f}" for a, o in distances)
    assert to_avatar < SAME_PERSON_DISTANCE, f"median {to_avatar:.3f} from the avatar (avatar/original: {report})"
    assert to_original - to_avatar >= MIN_MARGIN, f"median margin {to_original - to_avatar:.3f} ({report})"
    passing = sum(a < SAME_PERSON_DISTANCE and o - a >= MIN_MARGIN for a, o in distances)
    assert passing >= 0.75 * len(distances), f"only {passing} of {len(distances)} frames pass ({report})"
