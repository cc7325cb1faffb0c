"""Matplotlib set-up for the site's plots: Agg backend, readable fonts, deterministic bytes."""
from __future__ import annotations

import io
from pathlib import Path

from ..engine.images import atomic_write_bytes

STYLE = {
    "font.size": 11, "axes.titlesize": 12, "axes.labelsize": 11, "legend.fontsize": 10,
    "xtick.labelsize": 10, "ytick.labelsize": 10, "axes.spines.top": False, "axes.spines.right": False,
    "figure.dpi": 100, "savefig.dpi": 100, "svg.hashsalt": "style-transfer",
    "axes.formatter.use_locale": False,
}


def pyplot():
    """pyplot on the Agg backend with the site's style (imported lazily: matplotlib is slow)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams.update(STYLE)
    return plt


def save_figure(fig, path: str | Path, dpi: int = 100, quality: int = 88) -> None:
    """Save a figure without timestamps or software tags, atomically, and close it: PNG, or JPEG
    (smaller, for figures made of photographs) when `path` ends in .jpg. Linear axes left with
    matplotlib's default tick labels (colour bars included) get the pages' numbers first."""
    plt = pyplot()
    _spanish_linear_axes(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight", pad_inches=0.08,
                metadata={"Software": None}, facecolor="white")
    plt.close(fig)
    data = buf.getvalue()
    if Path(path).suffix.lower() in (".jpg", ".jpeg"):
        from PIL import Image

        from ..engine.images import encode_image

        data = encode_image(Image.open(io.BytesIO(data)).convert("RGB"), "JPEG", quality=quality)
    atomic_write_bytes(path, data)


def es_number(x: float, digits: int = 2) -> str:
    """A number for a plot label, the way the pages print it (decimal point, 1.2 × 10⁹)."""
    from ..common.spanish_numbers import format_es

    return format_es(x, f".{digits}g", "text")


def loss_plot(curves: dict, path: str | Path, xlabel: str, ylabel: str, title: str = "",
              logy: bool = True, size=(6.0, 3.4), marks: dict | None = None, dashed=()) -> None:
    """Curves {label: (xs, ys)} on one axis, log scale by default; `marks` {x: text} draws
    labelled vertical lines (e.g. where coarse-to-fine doubles the resolution); curves named in
    `dashed` are drawn dashed on top (a total that overlaps one of its terms)."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=size)
    colours = ["#7e57c2", "#ff8f00", "#00897b", "#e53935"]
    for (label, (xs, ys)), colour in zip(curves.items(), colours):
        if label in dashed:
            ax.plot(xs, ys, label=label, color="black", linewidth=1.4, linestyle="--", zorder=3)
        else:
            ax.plot(xs, ys, label=label, color=colour, linewidth=1.8)
    if logy:
        ax.set_yscale("log")
    for x, text in (marks or {}).items():
        ax.axvline(x, color="0.5", linestyle="--", linewidth=1)
        ax.annotate(text, (x, 1), xycoords=("data", "axes fraction"), xytext=(4, -4),
                    textcoords="offset points", va="top", fontsize=9, color="0.35")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    if len(curves) > 1:
        ax.legend(frameon=False)
    ax.grid(True, which="major", alpha=0.3)
    save_figure(fig, path)


def spanish_ticks(axis) -> None:
    """Tick labels of a linear axis the pages' way (`ax.yaxis`, `ax.xaxis`): format_es's ",g"
    (0.5, 2500, 400 000, 1 × 10⁶, −3)."""
    from matplotlib.ticker import FuncFormatter

    from ..common.spanish_numbers import format_es

    axis.set_major_formatter(FuncFormatter(lambda v, _: format_es(float(v) + 0.0, ",g", "text")))


def _spanish_linear_axes(fig) -> None:
    """spanish_ticks on every linear axis of `fig` that still has matplotlib's ScalarFormatter."""
    from matplotlib.ticker import ScalarFormatter

    for ax in fig.get_axes():
        for axis in (ax.xaxis, ax.yaxis):
            if axis.get_scale() == "linear" and isinstance(axis.get_major_formatter(), ScalarFormatter):
                spanish_ticks(axis)


def image_row(images: list, titles: list[str], path: str | Path, cell: float = 2.6,
              subtitles: list[str] | None = None) -> None:
    """Images side by side with a title above each (and an optional line below), as one figure."""
    plt = pyplot()
    w, h = images[0].size
    fig, axes = plt.subplots(1, len(images), figsize=(cell * len(images), cell * h / w + 0.7),
                             squeeze=False, gridspec_kw={"wspace": 0.05})
    for i, (ax, img, title) in enumerate(zip(axes[0], images, titles)):
        ax.imshow(img)
        ax.set_xticks([])
        ax.set_yticks([])
        for spine in ax.spines.values():
            spine.set_visible(False)
        ax.set_title(title, fontsize=10)
        if subtitles and subtitles[i]:
            ax.set_xlabel(subtitles[i], fontsize=9, color="0.3")
    save_figure(fig, path)
