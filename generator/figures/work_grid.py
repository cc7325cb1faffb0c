"""After Gatys et al. Fig. 3: rows use the style layers up to conv1_1 ... conv5_1, columns the
ratio alpha/beta between content and style weights.

The cells share one canvas size and one schedule, so they are optimised together
(ctx.run_batch: generator/engine/batched.py), in groups of the same depth (the deepest layer a cell's
losses read): on a CPU a bfloat16 batch of same-depth canvases is where batching pays. Besides the
whole grid (grid.jpg, the page's figure without JavaScript) each cell is its own image, role
cell_<row>_<column>, with its final losses as cell_content_loss_<row>_<column> and
cell_style_loss_<row>_<column>; a cell's alpha/beta is ratio_<column> and its style layers the
first row_layers_<row> of STYLE_LAYERS (the pages' explorer reads them)."""
from __future__ import annotations

from ..engine.images import fit_long_side, read_image
from ..engine.settings import STYLE_LAYERS
from . import Figure, FigureSpec
from .context import RenderContext
from .picks import painting, photo

INIT = "noise"
STYLE_WEIGHT = 1e4  # beta; alpha = ratio * beta
FIGURE = Figure(
    order=90, outputs=("image", "cell_*"),     # one cell_<row>_<column> per cell
    numbers=("width", "height", "rows", "columns", "evaluations", "style_weight", "init_noise", "paper_losses",
             "transfer_seconds",
             "ratio_*", "style_loss_*", "content_loss_*", "noise_start_content_loss",
             "first_row_colour_to_painting", "first_row_colour_to_photo",
             "row_layers_*", "cell_content_loss_*", "cell_style_loss_*"),
    # ratio_i, style_loss_i, content_loss_i per column (the last row's losses); row_layers_r per row;
    # cell_*_loss_r_c per cell.
    # alpha/beta columns per profile: the content loss sums over positions (it grows with the canvas)
    # while the style loss is normalised, so smaller cells need larger ratios to show the same trend.
    sizes={"tiny": {"long_side": 32, "steps": 3, "scales": [1.0], "ratios": [1e-2, 1.0], "rows": 2},
           "preview": {"long_side": 192, "steps": 40, "scales": [0.5, 1.0], "ratios": [1e-3, 1e-2, 1e-1, 1.0],
                       "rows": 5},
           "full": {"long_side": 256, "steps": 300, "scales": [0.5, 1.0], "ratios": [1e-4, 1e-3, 1e-2, 1e-1],
                    "rows": 5}})


def layer_subsets(rows: int) -> list[list[str]]:
    """conv1_1; conv1_1+conv2_1; ... ending with all the style layers (the last `rows` of them)."""
    subsets = [list(STYLE_LAYERS[:i]) for i in range(1, len(STYLE_LAYERS) + 1)]
    return subsets[len(subsets) - rows:] if rows < len(subsets) else subsets


def specs(catalog, profile, site_src):
    c, s = photo(catalog), painting(catalog)
    size = FIGURE.size(profile)
    cells = []
    for layers in layer_subsets(size["rows"]):
        for ratio in size["ratios"]:
            cells.append(profile.compared_transfer(steps=size["steps"], scales=tuple(size["scales"]), init=INIT,
                                          style_layers=tuple(layers), style_weight=STYLE_WEIGHT,
                                          content_weight=ratio * STYLE_WEIGHT,
                                          # the paper's alpha/beta: summed content, unbalanced layers
                                          style_balance="none", content_normalise="sum").to_dict())
    return [FigureSpec(name="work/grid",
                       params={"cells": cells, "long_side": size["long_side"], "ratios": size["ratios"],
                               "rows": size["rows"], "init": INIT, "photo": c.name, "painting": s.name},
                       inputs=(c.path(site_src), s.path(site_src)), heavy=True)]


def depth_groups(cells: list[dict]) -> list[list[int]]:
    """Indices of the cells grouped by the deepest layer their losses read, in first-seen order.
    VGG19's conv names sort in network order (conv1_1 < conv1_2 < ... < conv5_4)."""
    groups: dict[str, list[int]] = {}
    for i, cell in enumerate(cells):
        layers = list(cell["style_layers"] if cell["style_weight"] else []) + \
                 list(cell["content_layers"] if cell["content_weight"] else [])
        groups.setdefault(max(layers, default=""), []).append(i)
    return list(groups.values())


def render(spec, ctx: RenderContext):
    from ..engine.images import save_image
    from .measures import mean_colour_distance, noise_content_loss
    from .picks import settings as make_settings

    p = spec.params
    content, style = (read_image(x) for x in spec.inputs)
    content = fit_long_side(content, p["long_side"])
    settings = [make_settings(cell) for cell in p["cells"]]
    results = [None] * len(settings)
    batch_seconds = 0.0
    for group in depth_groups(p["cells"]):
        for i, result in zip(group, ctx.run_batch([(content, [style], settings[i]) for i in group], content.size)):
            results[i] = result
        batch_seconds += results[group[0]].seconds   # a batch's results all carry its wall time
    ratios, rows = p["ratios"], layer_subsets(p["rows"])
    _plot_grid([r.image for r in results], rows, ratios, ctx.out / "grid.jpg")
    files = {"image": "grid.jpg"}
    numbers = {"width": content.width, "height": content.height, "rows": len(rows),
               "columns": len(ratios), "evaluations": len(results[0].history),
               "style_weight": STYLE_WEIGHT, "init_noise": int(p["init"] == "noise"),
               # 1 when every cell uses the paper's loss definitions (its alpha/beta compare with his)
               "paper_losses": int(all(s.content_normalise == "sum" and s.style_balance == "none"
                                       for s in settings)),
               "transfer_seconds": round(batch_seconds, 3)}
    for i, ratio in enumerate(ratios):
        numbers[f"ratio_{i}"] = ratio
    for r, layers in enumerate(rows):
        numbers[f"row_layers_{r}"] = len(layers)
        for c in range(len(ratios)):
            result = results[r * len(ratios) + c]
            files[f"cell_{r}_{c}"] = f"cell_r{r}_c{c}.jpg"
            save_image(result.image, ctx.out / files[f"cell_{r}_{c}"], quality=85)
            numbers[f"cell_content_loss_{r}_{c}"] = result.history[-1]["content"]
            numbers[f"cell_style_loss_{r}_{c}"] = result.history[-1]["style"]
    # The seeded noise every cell starts from, at full size: its content loss is the scale.
    numbers["noise_start_content_loss"] = noise_content_loss(ctx, content, style, settings[0])
    # The first row (conv1_1 alone), most style: whose mean colour did it take?
    first = results[0].image
    numbers["first_row_colour_to_painting"] = mean_colour_distance(first, style)
    numbers["first_row_colour_to_photo"] = mean_colour_distance(first, content)
    # Style loss of the last row (all layers) per column: how far each result is from the painting.
    for i, r in enumerate(results[-len(ratios):]):
        numbers[f"style_loss_{i}"] = r.history[-1]["style"]
        numbers[f"content_loss_{i}"] = r.history[-1]["content"]
    return files, numbers


def _plot_grid(images, rows, ratios, path) -> None:
    from .plotting import es_number, pyplot, save_figure

    plt = pyplot()
    w, h = images[0].size
    cell = 2.2
    fig, axes = plt.subplots(len(rows), len(ratios), figsize=(cell * len(ratios) + 1.2, cell * h / w * len(rows) + 0.8),
                             squeeze=False, gridspec_kw={"wspace": 0.04, "hspace": 0.06})
    for r, layers in enumerate(rows):
        for c, ratio in enumerate(ratios):
            ax = axes[r][c]
            ax.imshow(images[r * len(ratios) + c])
            ax.set_xticks([])
            ax.set_yticks([])
            for spine in ax.spines.values():
                spine.set_visible(False)
            if r == 0:
                ax.set_title(f"α/β = {es_number(ratio)}", fontsize=11)
            if c == 0:
                ax.set_ylabel(f"hasta\n{layers[-1]}", fontsize=10, rotation=0, ha="right", va="center",
                              labelpad=6)
    fig.supxlabel("más estilo  ←  cociente α/β entre contenido y estilo  →  más contenido", fontsize=11)
    fig.supylabel("capas de estilo usadas", fontsize=11)
    save_figure(fig, path, quality=75)  # noisy textures: keep the file small
