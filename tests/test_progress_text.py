"""Progress text: one share of the whole job that never goes back, and the step it is in."""

from driver.progress_text import ProgressReporter


def test_the_stitch_after_the_swap_does_not_send_progress_back_and_each_step_is_named():
    seen: list[str] = []
    reporter = ProgressReporter(seen.append, min_interval_s=0.0, min_step_percent=0.0)
    reporter.stage("downloading inputs")
    reporter.stage("swapping faces")
    for frame in (1, 125, 250):
        reporter.comfy_progress("Face replace", frame, 250)
    for frame in (1, 425, 850):  # the stitch goes over every frame of the video
        reporter.comfy_progress("Stitch & save", frame, 850)
    reporter.stage("uploading the result")
    reporter.stage("done")
    shares = [int(text.split("%")[0]) for text in seen]
    assert shares == sorted(shares) and shares[-1] == 100
    assert seen[4] == "80% swapping faces: 250/250 frames" and seen[5] == "80% joining the video: 1/850 frames"
    assert seen[-1] == "100% done"


def test_a_retried_swap_counts_its_frames_again_without_taking_the_whole_back():
    seen: list[str] = []
    reporter = ProgressReporter(seen.append, min_interval_s=0.0, min_step_percent=0.0)
    reporter.comfy_progress("Face replace", 200, 300)
    reporter.comfy_progress("Face replace", 5, 300)  # ComfyUI restarted: the swap runs again
    assert seen == ["55% swapping faces: 200/300 frames", "55% swapping faces: 5/300 frames"]
