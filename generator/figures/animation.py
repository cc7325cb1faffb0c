"""Animations of an optimisation: an animated WebP, a poster (last frame) and a strip for print."""
from __future__ import annotations

import io
from pathlib import Path

from PIL import Image

from ..engine.images import atomic_write_bytes, resize_to, save_image
from .plotting import pyplot, save_figure


def frames_from(result, initial: Image.Image | None = None) -> list[tuple[int, Image.Image]]:
    """(evaluation, image) frames of a TransferResult, all at the final size, ending on the result."""
    frames = ([(0, initial)] if initial is not None else []) + list(result.snapshots)
    last = result.history[-1]["evaluation"] if result.history else 0
    if not frames or frames[-1][0] != last:
        frames.append((last, result.image))
    return [(e, resize_to(img, result.image.size)) for e, img in frames]


def save_webp(frames: list[Image.Image], path: Path, frame_ms: int = 140, hold_ms: int = 1600,
              quality: int = 65) -> None:
    """An endlessly looping animated WebP; the last frame is held longer."""
    buf = io.BytesIO()
    durations = [frame_ms] * (len(frames) - 1) + [hold_ms]
    frames[0].save(buf, "WEBP", save_all=True, append_images=frames[1:], duration=durations, loop=0,
                   quality=quality, method=4, minimize_size=False)
    atomic_write_bytes(path, buf.getvalue())


def save_strip(frames: list[tuple[int, Image.Image]], path: Path, count: int = 6,
               label: str = "evaluación") -> list[int]:
    """A row of `count` frames spread over the run, each captioned with its evaluation."""
    picks = spread(len(frames), count)
    plt = pyplot()
    w, h = frames[0][1].size
    fig, axes = plt.subplots(1, len(picks), figsize=(1.9 * len(picks), 1.9 * h / w + 0.35))
    for ax, i in zip(list(getattr(axes, "flat", [axes])), picks):
        evaluation, img = frames[i]
        ax.imshow(img)
        ax.set_axis_off()
        ax.set_title(f"{label} {evaluation}", fontsize=9)
    save_figure(fig, path)
    return [frames[i][0] for i in picks]


def spread(n: int, count: int) -> list[int]:
    """`count` indices evenly spread over range(n), first and last included, no repeats."""
    if n <= count:
        return list(range(n))
    return sorted({round(i * (n - 1) / (count - 1)) for i in range(count)})


def save_animation(frames: list[tuple[int, Image.Image]], out: Path, stem: str, strip_count: int = 6) -> dict:
    """Write <stem>.webp, <stem>-poster.jpg and <stem>-strip.png; returns the files by role."""
    save_webp([img for _, img in frames], out / f"{stem}.webp")
    save_image(frames[-1][1], out / f"{stem}-poster.jpg")
    save_strip(frames, out / f"{stem}-strip.jpg", strip_count)
    return {"animation": f"{stem}.webp", "poster": f"{stem}-poster.jpg", "strip": f"{stem}-strip.jpg"}
