"""Crops of the response matrices P^l and X^l and their difference, side by side."""
from __future__ import annotations

import numpy as np


def symmetric_limit(*arrays, q: float = 99.0) -> float:
    """A colour limit covering q % of the absolute values (so a few outliers don't wash it out)."""
    return float(np.percentile(np.abs(np.concatenate([a.ravel() for a in arrays])), q)) or 1.0


def draw_matrices(path, p: np.ndarray, x: np.ndarray, layer: str, evaluation: int, first_position: int) -> bool:
    """Draw the three panels; returns whether P^l and X^l were drawn on a signed (diverging) scale."""
    from .plotting import pyplot, save_figure

    plt = pyplot()
    rows, cols = p.shape
    fig, axes = plt.subplots(1, 3, figsize=(13.5, 3.3), gridspec_kw={"wspace": 0.28})
    lim = symmetric_limit(p, x)
    diff_lim = symmetric_limit(x - p)
    # Post-ReLU responses are never negative: a one-sided scale from 0; signed ones (pre-ReLU
    # taps, and always the difference) on a diverging scale centred at 0.
    signed = bool(min(p.min(), x.min()) < 0)
    response_scale = ("RdBu_r", -lim, lim) if signed else ("viridis", 0.0, lim)
    panels = [(p, response_scale, f"$P^l$: la fotografía ({layer})"),
              (x, response_scale, f"$X^l$: el lienzo tras {evaluation} evaluaciones"),
              (x - p, ("RdBu_r", -diff_lim, diff_lim), "$X^l - P^l$: la diferencia")]
    for ax, (m, (cmap, low, high), title) in zip(axes, panels):
        shown = ax.imshow(m, cmap=cmap, vmin=low, vmax=high, interpolation="nearest", aspect="auto")
        ax.set_title(title, fontsize=11)
        ax.set_xlabel(f"posiciones {first_position + 1}–{first_position + cols} (columnas)", fontsize=9.5)
        ax.set_ylabel(f"{rows} filtros (filas)", fontsize=9.5)
        ax.set_xticks([])
        ax.set_yticks([])
        bar = fig.colorbar(shown, ax=ax, fraction=0.05, pad=0.02)
        bar.ax.tick_params(labelsize=8)
        bar.formatter.set_useMathText(True)
    save_figure(fig, path)
    return signed
