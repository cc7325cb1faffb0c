"""VGG19 drawn from the model itself: the photo goes through generator.engine.vgg and every layer's
output shape is read off, so the diagram shows the channels and the spatial size of each block for
the photo's actual size. The three fully connected layers of the original classifier are drawn
from their published shapes and marked as not shipped and not used."""
from __future__ import annotations

import math
import re

from ..engine.images import fit_long_side, read_image
from . import Figure, FigureSpec
from .context import RenderContext
from .palette import AMBER, INK, PURPLE
from .picks import photo

FIGURE = Figure(
    order=30, outputs=("image",),
    numbers=("input_width", "input_height", "conv_count", "block_count", "conv_parameters", "block?_convs",
             "block?_channels", "block?_width", "block?_height", "block?_pooled_width", "block?_pooled_height",
             "field_conv?_1", "field_conv4_2", "flattened"),
    sizes={"tiny": {"long_side": 64}, "preview": {"long_side": 384}, "full": {"long_side": 512}})
CLASSIFIER = (("fc6", 4096), ("fc7", 4096), ("fc8", 1000))   # Simonyan & Zisserman; not in our weights


def specs(catalog, profile, site_src):
    content = photo(catalog)
    params = dict(FIGURE.size(profile), photo=content.name)
    return [FigureSpec(name="vgg/diagram", params=params,
                       inputs=(content.path(site_src),), heavy=True)]


def layer_shapes(model, x) -> list[dict]:
    """Every layer of `model` in order, with its output (channels, height, width) for the input `x`."""
    import torch

    from ..engine.vgg import LAYERS

    with torch.no_grad():
        out = model(x, LAYERS)
    return [{"name": n, "channels": out[n].shape[1], "height": out[n].shape[2], "width": out[n].shape[3]}
            for n in LAYERS]


def blocks(shapes: list[dict]) -> list[dict]:
    """Group layers into blocks: their convolutions, channels and spatial size, and the size after
    the block's pooling."""
    found: dict[int, dict] = {}
    for s in shapes:
        b = int(re.match(r"[a-z]+(\d+)", s["name"]).group(1))   # conv3_2, relu3_2, pool3 -> 3
        block = found.setdefault(b, {"block": b, "convs": [], "channels": 0, "height": 0, "width": 0})
        if s["name"].startswith("conv"):
            block["convs"].append(s["name"])
            block.update(channels=s["channels"], height=s["height"], width=s["width"])
        elif s["name"].startswith("pool"):
            block.update(pooled_height=s["height"], pooled_width=s["width"])
    return [found[b] for b in sorted(found)]


def receptive_fields(layers) -> dict[str, int]:
    """Side in input pixels of the square that one position of each layer sees: a 3x3
    convolution widens it by 2 steps of the layer's stride, a 2x2 pooling by 1 step and doubles
    the stride."""
    fields, size, stride = {}, 1, 1
    for name in layers:
        if name.startswith("conv"):
            size += 2 * stride
        elif name.startswith("pool"):
            size += stride
            stride *= 2
        fields[name] = size
    return fields


def render(spec, ctx: RenderContext):
    img = fit_long_side(read_image(spec.inputs[0]), spec.params["long_side"])
    model = ctx.model("max")
    shapes = layer_shapes(model, ctx.tensor(img))
    groups = blocks(shapes)
    numbers = {"input_width": img.width, "input_height": img.height,
               "conv_count": sum(len(g["convs"]) for g in groups), "block_count": len(groups),
               "conv_parameters": sum(p.numel() for p in model.parameters())}
    for g in groups:
        b = g["block"]
        numbers.update({f"block{b}_convs": len(g["convs"]), f"block{b}_channels": g["channels"],
                        f"block{b}_width": g["width"], f"block{b}_height": g["height"],
                        f"block{b}_pooled_width": g["pooled_width"], f"block{b}_pooled_height": g["pooled_height"]})
    from ..engine.vgg import LAYERS

    fields = receptive_fields(LAYERS)
    numbers.update({f"field_conv{b}_1": fields[f"conv{b}_1"] for b in range(1, len(groups) + 1)})
    numbers["field_conv4_2"] = fields["conv4_2"]
    last = groups[-1]
    numbers["flattened"] = last["channels"] * last["pooled_width"] * last["pooled_height"]
    draw(ctx.out / "diagram.png", img, groups)
    return {"image": "diagram.png"}, numbers


def draw(path, img, groups) -> None:
    from matplotlib.patches import FancyArrowPatch, Rectangle

    from .plotting import pyplot, save_figure

    plt = pyplot()
    width, height = 13.0, 3.9
    fig = plt.figure(figsize=(width, height))
    ax = fig.add_axes([0, 0, 1, 1])
    ax.set_xlim(0, width)
    ax.set_ylim(0, height)
    ax.set_axis_off()
    mid = 2.2
    full_h = 1.6                                    # drawn height of the input's rows
    scale = full_h / img.height

    def label(x, y, s, **kw):
        ax.text(x, y, s, ha=kw.pop("ha", "center"), va=kw.pop("va", "top"), color=kw.pop("color", INK),
                fontsize=kw.pop("fontsize", 9), **kw)

    def arrow(x0, x1, colour="#777777"):
        ax.add_patch(FancyArrowPatch((x0, mid), (x1, mid), arrowstyle="-|>", mutation_scale=10,
                                     color=colour, linewidth=1.1, shrinkA=0, shrinkB=0))

    # Input image at its drawn height; each block centred in a slot of its own.
    in_w = full_h * img.width / img.height
    ax.imshow(img, extent=(0.2, 0.2 + in_w, mid - full_h / 2, mid + full_h / 2), zorder=2)
    ax.set_aspect("auto")
    label(0.2 + in_w / 2, mid - full_h / 2 - 0.1, f"entrada\n{img.width} × {img.height} px · 3 canales")
    right, slot = 0.2 + in_w, 1.32
    for i, g in enumerate(groups):
        slab_w = 0.07 + 0.035 * math.log2(g["channels"] / 64)
        slab_h = max(0.08, g["height"] * scale)
        total = len(g["convs"]) * (slab_w + 0.035) + 0.05
        centre = 0.2 + in_w + 0.25 + (i + 0.5) * slot
        x = centre - total / 2
        arrow(right + 0.08, x - 0.08)
        for name in g["convs"]:
            ax.add_patch(Rectangle((x, mid - slab_h / 2), slab_w, slab_h, facecolor=PURPLE, alpha=0.85,
                                   edgecolor="#333333", linewidth=0.5))
            x += slab_w + 0.035
        pool_h = max(0.05, g["pooled_height"] * scale)
        ax.add_patch(Rectangle((x, mid - pool_h / 2), 0.05, pool_h, facecolor=AMBER, edgecolor="#333333",
                               linewidth=0.5))
        right = x + 0.05
        label(centre, mid + full_h / 2 + 0.3, f"bloque {g['block']}", fontsize=10, weight="bold", va="bottom")
        label(centre, mid - full_h / 2 - 0.1,
              f"{len(g['convs'])} × conv 3×3\n{g['channels']} filtros\n{g['width']} × {g['height']}")
    # The classifier that VGG19 was trained with, not part of the weights used here.
    x = 0.2 + in_w + 0.25 + len(groups) * slot + 0.3
    arrow(right + 0.08, x - 0.1, "#aaaaaa")
    fc_start = x
    for name, size in CLASSIFIER:
        h = 0.3 + 1.0 * size / 4096
        ax.add_patch(Rectangle((x, mid - h / 2), 0.16, h, facecolor="white", edgecolor="#999999",
                               linewidth=1.0, linestyle=(0, (3, 2))))
        label(x + 0.08, mid - h / 2 - 0.08, f"{name}\n{size}", color="#777777", fontsize=8)
        x += 0.42
    fc_centre = (fc_start + x - 0.26) / 2
    label(fc_centre, mid + full_h / 2 + 0.3, "clasificador original", fontsize=10, color="#777777",
          weight="bold", va="bottom")
    label(fc_centre, mid + full_h / 2 + 0.25, "totalmente conectado:\nno incluido, no se usa",
          fontsize=8, color="#777777")
    # Legend.
    ax.add_patch(Rectangle((0.2, 0.25), 0.15, 0.15, facecolor=PURPLE, alpha=0.85))
    label(0.42, 0.4, "convolución 3×3 + ReLU (grosor: número de filtros; alto: filas del mapa; debajo: ancho × alto)", ha="left")
    ax.add_patch(Rectangle((7.0, 0.25), 0.15, 0.15, facecolor=AMBER))
    label(7.22, 0.4, "max-pooling 2×2: mitad de ancho y de alto", ha="left")
    save_figure(fig, path)
