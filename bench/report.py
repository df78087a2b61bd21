"""docs/benchmarks.md and docs/benchmarks.png from one bench run's figures."""

from __future__ import annotations

from pathlib import Path

_START, _END = "<!-- bench:start -->", "<!-- bench:end -->"
MEMORY_LIMIT_MB = 1229  # 1.2 GB: a 2 GB worker keeps headroom (issue 22)
SIZE_LIMIT = 1.3  # output size over the source's, same duration


def _table(report: dict) -> str:
    lines = ["| measure | figure | target | ratio |", "| --- | --- | --- | --- |"]
    for name, row in report["engine"].items():
        lines.append(f"| fast engine, {name} | {row['fps']} fps | ≥ {row['target_fps']:g} fps | "
                     f"{row['ratio_to_target']}× target |")
    for name, job in report["jobs"].items():
        copied = f", {job['frames_copied']} frames copied" if job.get("frames_copied") is not None else ""
        lines.append(f"| {name} 1080p job vs ffmpeg re-encode{copied} | {job['job_s']} s vs {job['reencode_s']} s | "
                     f"≤ 1.5× | {job['ratio_to_reencode']}×{_pairs(job)} |")
    for name, job in report["jobs"].items():
        if "size_ratio" in job:
            lines.append(f"| {name} job: output size / source size | {job['size_ratio']}× | ≤ {SIZE_LIMIT}× | "
                         f"{job['size_ratio'] / SIZE_LIMIT:.2f}× limit |")
    for name, job in report["jobs"].items():
        lines.append(f"| {name} job: peak memory, PSS (ComfyUI tree + driver) | {job['peak_pss_mb']} MB "
                     f"(ComfyUI {job['peak_pss_comfyui_mb']}, driver {job['peak_pss_driver_mb']}) | "
                     f"≤ {MEMORY_LIMIT_MB} MB | {job['peak_pss_mb'] / MEMORY_LIMIT_MB:.2f}× limit |")
    jobs = [job for name, job in report["jobs"].items() if "," not in name]  # the plain 30 s and 60 s jobs
    if len(jobs) == 2:
        growth = jobs[1]["peak_pss_mb"] / jobs[0]["peak_pss_mb"]
        lines.append(f"| peak memory, longer job / shorter job | {growth:.2f} | ≤ 1.10 | — |")
    for name, job in report["jobs"].items():
        lines.append(f"| {name} job: driver overhead (wall − ComfyUI) | {job['driver_overhead_s']} s | ≤ 2 s | — |")
    for name, job in report["jobs"].items():
        quality = job.get("stage_seconds", {}).get("quality")
        if quality is not None:
            lines.append(f"| {name} job: quality stage (identity both ways, sheet; inside ComfyUI) | {quality} s | "
                         f"≤ 2 s | — |")
    for name, job in report["jobs"].items():
        signing = job.get("stage_seconds", {}).get("c2pa_signing")
        watermark = job.get("stage_seconds", {}).get("watermark", 0.0)
        if signing is not None:
            lines.append(f"| {name} job: marking (the invisible watermark in the swapped frames {watermark} s + "
                         f"signing the C2PA manifest {signing} s) | {round(watermark + signing, 3)} s | ≤ 2 s | — |")
    lines.append(f"| ComfyUI cold start to first job ready | {report['comfyui_cold_start_s']} s | — | — |")
    if "first_job_2s_s" in report:
        lines.append(f"| first job after start (2 s 1080p video; loads the engine's models) | "
                     f"{report['first_job_2s_s']} s | — | — |")
    wan = report.get("wan_tiny", {}).get("seconds")
    if wan:
        lines.append(f"| Wan tiny model (64², 9 frames, 2 windows, 1 step): conditioning / sampling / decode | "
                     f"{wan['conditioning']} / {wan['sampling']} / {wan['decoding']} s | — | — |")
    return "\n".join(lines)


def _chart(report: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels, values, limits = [], [], []
    for name, row in report["engine"].items():
        labels.append(f"fast {name}\n(fps / target)")
        values.append(row["ratio_to_target"])
        limits.append(1.0)
    for name, job in report["jobs"].items():
        labels.append(f"{name} job\n÷ re-encode")
        values.append(job["ratio_to_reencode"])
        limits.append(1.5)
        if "size_ratio" in job:
            labels.append(f"{name} size\n÷ source")
            values.append(job["size_ratio"])
            limits.append(SIZE_LIMIT)
        labels.append(f"{name} peak memory\n÷ 1.2 GB")
        values.append(round(job["peak_pss_mb"] / MEMORY_LIMIT_MB, 2))
        limits.append(1.0)
    figure, axis = plt.subplots(figsize=(max(11, 0.75 * len(values)), 4.5))
    bars = axis.bar(range(len(values)), values, color=["#4c72b0" if i < 4 else "#dd8452" for i in range(len(values))])
    axis.scatter(range(len(limits)), limits, marker="_", s=900, color="black", label="target")
    axis.set_xticks(range(len(labels)), labels, fontsize=6, rotation=60, ha="right")
    axis.bar_label(bars, fmt="%.2f", fontsize=7)
    axis.set_title(f"ugc-swap CPU benchmarks, {report['date']} ({report['machine']})", fontsize=9)
    axis.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=110)


def write_report(report: dict, folder: Path) -> None:
    _chart(report, folder / "benchmarks.png")
    page = folder / "benchmarks.md"
    generated = (f"{_START}\nMeasured {report['date']} on {report['machine']} by `bin/bench`; every ratio compares "
                 f"figures from the same run.\n\n{_table(report)}\n\n![benchmark chart](benchmarks.png)\n{_END}")
    text = page.read_text() if page.exists() else "# Benchmarks\n\n" + _START + _END + "\n"
    before, _, rest = text.partition(_START)
    _, _, after = rest.partition(_END)
    page.write_text(before + generated + after)


def _pairs(job: dict) -> str:
    """The ratios of every re-encode + job pair, when there was more than one (the median is the figure)."""
    ratios = job.get("ratios_of_all_pairs", [])
    return f" (pairs: {', '.join(f'{r}×' for r in ratios)})" if len(ratios) > 1 else ""
