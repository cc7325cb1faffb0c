"""The Gram matrix of a painting as a heat map, and a measurement of its blindness to position:
shuffle the painting's tiles and compare how much the responses and the Gram matrices change.
Every layer is one of the objective's style layers, read as the objective reads it (vgg.tap): the
site's default settings, recorded in the params (and so in the manifest)."""
from __future__ import annotations

import numpy as np

from ..engine.images import fit_long_side, read_image, save_image
from . import Figure, FigureSpec
from .context import RenderContext
from .picks import objective, objective_settings, painting

HEATMAPS = ((0, 64), (2, 64))  # which style layers (index in the objective's list), channels shown (a crop)
SEED = 0
FIGURE = Figure(
    order=70, outputs=("gram", "shuffle", "painting", "shuffled"),
    # numbers per layer are keyed by the network layer read (response_change_relu1_1 with post-ReLU
    # taps), in the order of the manifest's objective.style_reads
    numbers=("width", "height", "patch", "tiles", "response_change_*", "gram_change_*", "response_change_mean",
             "gram_change_mean", "gram_size_*", "channels_*", "heatmap_layers", "negative_entries"),
    # long side of the painting and tile size (a multiple of 16, VGG's stride at conv5_1)
    sizes={"tiny": {"long_side": 64, "patch": 16},
           "preview": {"long_side": 384, "patch": 96},
           "full": {"long_side": 512, "patch": 128}})


def specs(catalog, profile, site_src):
    style = painting(catalog)
    params = dict(FIGURE.size(profile), painting=style.name, objective=objective(profile.transfer()),
                  heatmaps=[list(h) for h in HEATMAPS], seed=SEED)
    return [FigureSpec(name="style/gram", params=params,
                       inputs=(style.path(site_src),), heavy=True)]


def crop_to_multiple(arr: np.ndarray, patch: int) -> np.ndarray:
    """Centre crop of an (H, W, C) array to whole tiles of `patch` pixels."""
    h, w = (arr.shape[0] // patch) * patch, (arr.shape[1] // patch) * patch
    if h == 0 or w == 0:
        raise ValueError(f"image {arr.shape[1]}x{arr.shape[0]} smaller than one {patch}px tile")
    top, left = (arr.shape[0] - h) // 2, (arr.shape[1] - w) // 2
    return arr[top:top + h, left:left + w]


def shuffle_patches(arr: np.ndarray, patch: int, seed: int) -> np.ndarray:
    """Cut an (H, W, ...) array into patch x patch tiles and put them back in a seeded random order
    (never the identity when there are two or more tiles). H and W must be multiples of `patch`."""
    h, w = arr.shape[:2]
    if h % patch or w % patch:
        raise ValueError(f"{w}x{h} is not a whole number of {patch}px tiles")
    rows, cols = h // patch, w // patch
    tiles = arr.reshape(rows, patch, cols, patch, *arr.shape[2:]).swapaxes(1, 2)
    tiles = tiles.reshape(rows * cols, patch, patch, *arr.shape[2:])
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(tiles))
    while len(tiles) > 1 and np.array_equal(order, np.arange(len(tiles))):
        order = rng.permutation(len(tiles))
    out = tiles[order].reshape(rows, cols, patch, patch, *arr.shape[2:]).swapaxes(1, 2)
    return out.reshape(arr.shape)


def sorted_by_diagonal(g: np.ndarray) -> np.ndarray:
    """Rows and columns reordered by decreasing diagonal (the most active filters first)."""
    order = np.argsort(-np.diag(g), kind="stable")
    return g[np.ix_(order, order)]


def relative_change(a, b) -> float:
    """||a - b|| / ||a|| (Frobenius)."""
    return float((a - b).norm() / a.norm())


def position_blindness(model, x, shuffled, layers) -> dict:
    """Per network layer: relative change of the responses F and of the Gram matrix G when the
    tiles move (`x` and `shuffled`: the model's inputs, the painting and its shuffled tiles)."""
    import torch

    from ..engine.losses import gram_matrix

    with torch.no_grad():
        f = model(x, layers)
        g = model(shuffled, layers)
    return {n: {"response": relative_change(f[n], g[n]),
                "gram": relative_change(gram_matrix(f[n]), gram_matrix(g[n]))} for n in layers}


def read_layers(settings) -> list[str]:
    """The network layers the objective's style losses read (vgg.tap), in its order."""
    from ..engine.vgg import tap

    return [tap(name, settings.taps) for name in settings.style_layers]


def render(spec, ctx: RenderContext):
    import torch
    from PIL import Image

    from ..engine.losses import gram_matrix

    p = spec.params
    settings = objective_settings(p)
    layers = read_layers(settings)
    img = np.asarray(fit_long_side(read_image(spec.inputs[0]), p["long_side"]))
    img = np.ascontiguousarray(crop_to_multiple(img, p["patch"]))
    shuffled = shuffle_patches(img, p["patch"], p["seed"])
    model = ctx.objective_model(settings)
    x = ctx.tensor(Image.fromarray(img))
    change = position_blindness(model, x, ctx.tensor(Image.fromarray(shuffled)), layers)
    shown = {layers[i]: k for i, k in p["heatmaps"]}
    with torch.no_grad():
        feats = model(x, list(shown))
    grams = {}
    for name, k in shown.items():
        f = feats[name]
        grams[name] = sorted_by_diagonal((gram_matrix(f)[0, :k, :k] / (f.shape[-2] * f.shape[-1])).cpu().numpy())
    save_image(Image.fromarray(img), ctx.out / "painting.jpg")
    save_image(Image.fromarray(shuffled), ctx.out / "shuffled.jpg")
    _plot_heatmaps(grams, {n: int(f.shape[1]) for n, f in feats.items()}, ctx.out / "gram.png")
    _plot_shuffle(img, shuffled, change, ctx.out / "shuffle.jpg")
    numbers = {"width": img.shape[1], "height": img.shape[0], "patch": p["patch"],
               "tiles": (img.shape[0] // p["patch"]) * (img.shape[1] // p["patch"])}
    for name, c in change.items():
        numbers[f"response_change_{name}"] = round(c["response"], 4)
        numbers[f"gram_change_{name}"] = round(c["gram"], 4)
    numbers["response_change_mean"] = round(float(np.mean([c["response"] for c in change.values()])), 4)
    numbers["gram_change_mean"] = round(float(np.mean([c["gram"] for c in change.values()])), 4)
    for name, g in grams.items():
        numbers[f"gram_size_{name}"] = g.shape[0]
        numbers[f"channels_{name}"] = int(feats[name].shape[1])
    numbers["heatmap_layers"] = len(grams)
    # entries below zero in the shown matrices (none when the objective reads post-ReLU responses)
    numbers["negative_entries"] = int(sum((g < 0).sum() for g in grams.values()))
    return ({"gram": "gram.png", "shuffle": "shuffle.jpg", "painting": "painting.jpg",
             "shuffled": "shuffled.jpg"}, numbers)


def _plot_heatmaps(grams: dict, channels: dict, path) -> None:
    from .plotting import pyplot, save_figure

    plt = pyplot()
    fig, axes = plt.subplots(1, len(grams), figsize=(4.6 * len(grams), 4.2))
    for ax, (name, g) in zip(np.atleast_1d(axes), grams.items()):
        # The diagonal dominates: scale to the 99th percentile of the other entries.
        top = float(np.percentile(np.abs(g[~np.eye(len(g), dtype=bool)]), 99)) or 1.0
        if g.min() < 0:   # signed responses (pre-ReLU taps): diverging, zero in the middle
            im = ax.imshow(g, cmap="RdBu_r", vmin=-top, vmax=top, interpolation="nearest")
        else:             # post-ReLU responses: no entry is negative
            im = ax.imshow(g, cmap="magma", vmin=0, vmax=top, interpolation="nearest")
        shown = f"{len(g)} × {len(g)}" + ("" if len(g) == channels[name] else f" de {channels[name]} × {channels[name]}")
        ax.set_title(f"{name}: {shown}")
        ax.set_xlabel("filtro j (ordenados por $G_{jj}$)")
        ax.set_ylabel("filtro i (ordenados por $G_{ii}$)")
        cb = fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04)
        cb.set_label("$G_{ij}$ / M  (producto medio por posición)")
        cb.ax.tick_params(labelsize=8)
    fig.tight_layout()
    save_figure(fig, path)


def _plot_shuffle(img, shuffled, change: dict, path) -> None:
    from .plotting import pyplot, save_figure, spanish_ticks

    plt = pyplot()
    fig = plt.figure(figsize=(12, 3.6))
    grid = fig.add_gridspec(1, 3, width_ratios=[1, 1, 1.1], wspace=0.28)
    for i, (picture, title) in enumerate(((img, "Pintura"), (shuffled, "Teselas barajadas"))):
        ax = fig.add_subplot(grid[0, i])
        ax.imshow(picture)
        ax.set_title(title)
        ax.set_axis_off()
    ax = fig.add_subplot(grid[0, 2])
    names = list(change)
    x = np.arange(len(names))
    ax.bar(x - 0.2, [change[n]["response"] for n in names], 0.4, label="respuestas $F^l$", color="#7e57c2")
    ax.bar(x + 0.2, [change[n]["gram"] for n in names], 0.4, label="matriz de Gram $G^l$", color="#ffb300")
    ax.set_xticks(x, names, rotation=30)
    ax.set_ylabel("cambio relativo")
    spanish_ticks(ax.yaxis)
    ax.set_title("Cambio al barajar las teselas")
    ax.set_ylim(0, max(max(c["response"], c["gram"]) for c in change.values()) * 1.3)
    ax.legend(frameon=False, loc="upper center", ncols=2, fontsize=9)
    save_figure(fig, path)
