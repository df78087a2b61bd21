"""Face geometry on CPU: detection, landmarks, tracking, warping and compositing."""
