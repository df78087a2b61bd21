"""The pose video WanAnimateToVideo expects: OpenPose/DWPose-style skeletons drawn on black, from mediapipe.

Wan2.2-Animate was trained on DWPose renderings (body limbs in the OpenPose colour order, hands as coloured
finger chains); ComfyUI's template feeds body + hands with the face left off, since the face comes in through
the face video. mediapipe's pose and hand models (Apache-2.0, inside the wheel) stand in for DWPose, whose
detector weights are not redistributable here; the rendering follows the same convention.
"""

from __future__ import annotations

import colorsys

import cv2
import numpy as np

# OpenPose body-18 order built from mediapipe's 33 pose landmarks; -1 = the neck, the shoulders' midpoint.
_BODY18_FROM_MEDIAPIPE = (0, -1, 12, 14, 16, 11, 13, 15, 24, 26, 28, 23, 25, 27, 5, 2, 8, 7)
_LIMBS = ((1, 2), (1, 5), (2, 3), (3, 4), (5, 6), (6, 7), (1, 8), (8, 9), (9, 10), (1, 11), (11, 12), (12, 13),
          (1, 0), (0, 14), (14, 16), (0, 15), (15, 17))
_LIMB_COLOURS = ((255, 0, 0), (255, 85, 0), (255, 170, 0), (255, 255, 0), (170, 255, 0), (85, 255, 0), (0, 255, 0),
                 (0, 255, 85), (0, 255, 170), (0, 255, 255), (0, 170, 255), (0, 85, 255), (0, 0, 255), (85, 0, 255),
                 (170, 0, 255), (255, 0, 255), (255, 0, 170), (255, 0, 85))
_HAND_EDGES = ((0, 1), (1, 2), (2, 3), (3, 4), (0, 5), (5, 6), (6, 7), (7, 8), (0, 9), (9, 10), (10, 11), (11, 12),
               (0, 13), (13, 14), (14, 15), (15, 16), (0, 17), (17, 18), (18, 19), (19, 20))
_MIN_VISIBILITY = 0.5


class PoseRenderer:
    """Finds body and hands in an RGB frame and draws them; holds the two mediapipe models (not thread-safe)."""

    def __init__(self) -> None:
        from mediapipe.python.solutions import hands, pose

        # model_complexity=1 is the pose model inside the wheel (0 and 2 would try to download).
        self._pose = pose.Pose(static_image_mode=False, model_complexity=1, min_detection_confidence=0.5)
        self._hands = hands.Hands(static_image_mode=False, max_num_hands=2, min_detection_confidence=0.5)

    def close(self) -> None:
        self._pose.close()
        self._hands.close()

    def __enter__(self) -> PoseRenderer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def render(self, rgb: np.ndarray) -> np.ndarray:
        """A black RGB image of `rgb`'s size with the skeleton drawn on it (black when nobody is visible)."""
        height, width = rgb.shape[:2]
        canvas = np.zeros((height, width, 3), np.uint8)
        frame = np.ascontiguousarray(rgb)
        body = self._pose.process(frame).pose_landmarks
        if body is not None:
            points = np.array([(p.x * width, p.y * height, p.visibility) for p in body.landmark], np.float32)
            draw_body(canvas, body18(points))
        hands = self._hands.process(frame).multi_hand_landmarks or []
        for hand in hands:
            draw_hand(canvas, np.array([(p.x * width, p.y * height) for p in hand.landmark], np.float32))
        return canvas


def body18(mediapipe_points: np.ndarray) -> np.ndarray:
    """(18, 3) x, y, visibility in OpenPose order from mediapipe's (33, 3)."""
    out = np.zeros((18, 3), np.float32)
    for index, source in enumerate(_BODY18_FROM_MEDIAPIPE):
        if source == -1:
            left, right = mediapipe_points[11], mediapipe_points[12]
            out[index] = ((left[0] + right[0]) / 2, (left[1] + right[1]) / 2, min(left[2], right[2]))
        else:
            out[index] = mediapipe_points[source]
    return out


def draw_body(canvas: np.ndarray, points: np.ndarray) -> None:
    stick = max(2, round(min(canvas.shape[:2]) / 128))
    for (a, b), colour in zip(_LIMBS, _LIMB_COLOURS):
        if points[a, 2] >= _MIN_VISIBILITY and points[b, 2] >= _MIN_VISIBILITY:
            # DWPose draws limbs in 60 % colour, joints on top at full colour.
            dim = tuple(int(c * 0.6) for c in colour)
            cv2.line(canvas, _xy(points[a]), _xy(points[b]), dim, stick, cv2.LINE_AA)
    for point, colour in zip(points, _LIMB_COLOURS):
        if point[2] >= _MIN_VISIBILITY:
            cv2.circle(canvas, _xy(point), stick + 1, colour, -1, cv2.LINE_AA)


def draw_hand(canvas: np.ndarray, points: np.ndarray) -> None:
    stick = max(1, round(min(canvas.shape[:2]) / 256))
    for index, (a, b) in enumerate(_HAND_EDGES):
        red, green, blue = colorsys.hsv_to_rgb(index / len(_HAND_EDGES), 1.0, 1.0)
        cv2.line(canvas, _xy(points[a]), _xy(points[b]), (int(red * 255), int(green * 255), int(blue * 255)), stick,
                 cv2.LINE_AA)
    for point in points:
        cv2.circle(canvas, _xy(point), stick + 1, (0, 0, 255), -1, cv2.LINE_AA)


def _xy(point: np.ndarray) -> tuple[int, int]:
    return int(round(float(point[0]))), int(round(float(point[1])))
