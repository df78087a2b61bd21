"""When a swap counts as the customer: the identity rule, kept apart from the measuring (dlib, OpenCV) so that
the driver can name it without loading either."""

from __future__ import annotations

from dataclasses import dataclass

SAME_PERSON_DISTANCE = 0.6  # dlib's own calibration: below it, two faces are one person
DEFAULT_MIN_MARGIN = 0.15


@dataclass(frozen=True)
class IdentityRule:
    max_distance: float = SAME_PERSON_DISTANCE  # to the avatar, median over a segment's samples
    min_margin: float = DEFAULT_MIN_MARGIN  # to the filmed face minus to the avatar, median over a segment

# A swap segment where the customer showed in fewer of the planned frames than this is a half-done job
# (`low_coverage`); frames where the tracked face turned away or was hidden are fades by design and count.
DEFAULT_MIN_COVERAGE = 0.8
