"""What "features" look like: the photo's responses at the objective's style layers, read as the
objective reads them (vgg.tap: relu1_1 ... relu5_1 with post-ReLU taps), a few of the most active
channels of each layer, one row per layer. Numbers are keyed by the network layer read
(relu1_1_zero_percent ...), in the order of the manifest's objective.style_reads."""
from __future__ import annotations

import numpy as np

from ..engine.images import fit_long_side, read_image
from . import Figure, FigureSpec
from .context import RenderContext
from .picks import objective, objective_settings, photo

FIGURE = Figure(
    order=40, outputs=("image",),
    numbers=("photo_width", "photo_height", "shown_per_layer", "*_channels", "*_width", "*_height",
             "*_zero_percent"),
    sizes={"tiny": {"long_side": 64, "channels": 4}, "preview": {"long_side": 384, "channels": 5},
           "full": {"long_side": 512, "channels": 6}})


def specs(catalog, profile, site_src):
    content = photo(catalog)
    params = dict(FIGURE.size(profile), photo=content.name, objective=objective(profile.transfer()))
    return [FigureSpec(name="vgg/feature_maps", params=params,
                       inputs=(content.path(site_src),), heavy=True)]


def most_active(maps: np.ndarray, k: int) -> list[int]:
    """Indices of the k channels of a (C, H, W) array with the largest mean response, largest
    first (ties by index)."""
    means = maps.reshape(maps.shape[0], -1).mean(axis=1)
    return [int(i) for i in np.argsort(-means, kind="stable")[:k]]


def zero_fraction(maps: np.ndarray) -> float:
    """Share of responses that the ReLU set to zero."""
    return float((maps <= 0).mean())


def render(spec, ctx: RenderContext):
    import torch

    from ..engine.vgg import tap

    p = spec.params
    settings = objective_settings(p)
    layers = {name: tap(name, settings.taps) for name in settings.style_layers}
    img = fit_long_side(read_image(spec.inputs[0]), p["long_side"])
    with torch.no_grad():
        out = ctx.objective_model(settings)(ctx.tensor(img), list(layers.values()))
    rows, numbers = [], {"photo_width": img.width, "photo_height": img.height, "shown_per_layer": p["channels"]}
    for layer, read in layers.items():
        maps = out[read][0].float().cpu().numpy()
        picked = most_active(maps, p["channels"])
        rows.append((read, maps.shape, [(c, maps[c]) for c in picked]))
        numbers.update({f"{read}_channels": maps.shape[0], f"{read}_width": maps.shape[2],
                        f"{read}_height": maps.shape[1],
                        f"{read}_zero_percent": round(100 * zero_fraction(maps), 2)})
    draw(ctx.out / "feature_maps.png", img, rows)
    return {"image": "feature_maps.png"}, numbers


def draw(path, img, rows) -> None:
    from .plotting import pyplot, save_figure

    plt = pyplot()
    k = len(rows[0][2])
    cell_w, cell_h = 2.1, 2.1 * img.height / img.width
    fig, axes = plt.subplots(len(rows), k + 1, figsize=(cell_w * (k + 0.75), (cell_h + 0.32) * len(rows)),
                             gridspec_kw={"wspace": 0.05, "hspace": 0.3, "width_ratios": [0.75] + [1] * k},
                             squeeze=False)
    for r, (layer, shape, picked) in enumerate(rows):
        head = axes[r][0]
        head.set_axis_off()
        head.text(0.95, 0.5, f"{layer}\n{shape[0]} filtros\n{shape[2]} × {shape[1]}", transform=head.transAxes,
                  ha="right", va="center", fontsize=10)
        for c, (channel, m) in enumerate(picked, start=1):
            ax = axes[r][c]
            ax.imshow(m, cmap="magma", vmin=0, vmax=float(m.max()) or 1.0, interpolation="nearest", aspect="auto")
            ax.set_xticks([])
            ax.set_yticks([])
            ax.set_title(f"filtro {channel}", fontsize=8.5, pad=2)
    save_figure(fig, path)
