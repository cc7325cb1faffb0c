"""The composite of the Representaciones page, laid out after Gatys et al. Fig. 1: style
reconstructions above, a schematic of VGG19's five blocks in the middle, content reconstructions
(with a zoomed detail) below. Drawn with matplotlib in inches, so arrows meet the images."""
from __future__ import annotations

import io
import math

from ..engine.images import save_image
from .palette import AMBER, INK, LILAC, PURPLE

DPI = 110


def figure_to_image(fig, dpi: int = DPI):
    """Render a matplotlib figure to a PIL image (no metadata), and close it."""
    from PIL import Image

    from .plotting import pyplot

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, metadata={"Software": None}, facecolor="white")
    pyplot().close(fig)
    buf.seek(0)
    with Image.open(buf) as img:
        return img.convert("RGB")


def es(x: float, digits: int = 1) -> str:
    """A fixed-point number for a label, the pages' way (generator/common/spanish_numbers.py)."""
    from ..common.spanish_numbers import format_es

    return format_es(x, f".{digits}f", "text")


def draw_composite(path, painting, photo, photo_crop, box, style_rows, content_rows) -> None:
    """style_rows: [(label, image)]; content_rows: [(layer, image, zoomed crop, psnr)]."""
    from matplotlib.patches import FancyArrowPatch, Rectangle

    from ..engine.vgg import BLOCKS
    from .plotting import pyplot

    plt = pyplot()
    width, margin, gap, cols = 13.0, 0.2, 0.16, 6
    col_w = (width - 2 * margin - (cols - 1) * gap) / cols
    style_h = col_w * painting.height / painting.width
    content_h = col_w * photo.height / photo.width
    crop_h = 1.15
    # Rows from the top, in inches: heading, titles + style row, gap, schematic, gap, content, captions, crops.
    rows = [("head", 0.45), ("style_t", 0.3), ("style", style_h), ("gap1", 0.5), ("net", 1.55),
            ("gap2", 0.5), ("content", content_h), ("content_t", 0.32), ("crop", crop_h), ("foot", 0.45)]
    height = sum(h for _, h in rows)
    top = {}
    y = height
    for name, h in rows:
        top[name] = y
        y -= h
    fig = plt.figure(figsize=(width, height))
    overlay = fig.add_axes([0, 0, 1, 1], zorder=5)
    overlay.set_xlim(0, width)
    overlay.set_ylim(0, height)
    overlay.set_axis_off()
    overlay.patch.set_alpha(0)

    def col_x(c):
        return margin + c * (col_w + gap)

    def show(img, c, row, h, w=None):
        w = w or col_w
        x = col_x(c) + (col_w - w) / 2
        ax = fig.add_axes([x / width, (top[row] - h) / height, w / width, h / height])
        ax.imshow(img, interpolation="nearest" if img.width < w * DPI else "antialiased")
        ax.set_xticks([])
        ax.set_yticks([])
        for spine in ax.spines.values():
            spine.set_visible(True)
            spine.set_color("#999999")
            spine.set_linewidth(0.6)
        return ax

    def text(x, y, s, **kw):
        overlay.text(x, y, s, ha=kw.pop("ha", "center"), va=kw.pop("va", "center"), color=kw.pop("color", INK),
                     fontsize=kw.pop("fontsize", 10), **kw)

    mid = (col_x(1) + col_x(5) + col_w) / 2
    text(mid, top["head"] - 0.22, "Reconstrucciones del estilo (matrices de Gram de las capas indicadas)",
         fontsize=12.5, weight="bold", color=AMBER)
    text(mid, top["foot"] - 0.24, "Reconstrucciones del contenido (respuestas de una sola capa) y detalle ampliado",
         fontsize=12.5, weight="bold", color=PURPLE)

    # Inputs (column 0).
    show(painting, 0, "style", style_h)
    text(col_x(0) + col_w / 2, top["style_t"] - 0.15, "Pintura", weight="bold")
    photo_ax = show(photo, 0, "content", content_h)
    photo_ax.add_patch(Rectangle((box[0] - 0.5, box[1] - 0.5), box[2] - box[0], box[3] - box[1],
                                 fill=False, edgecolor=AMBER, linewidth=1.2))
    text(col_x(0) + col_w / 2, top["content_t"] - 0.16, "Fotografía", weight="bold")
    show(photo_crop, 0, "crop", crop_h, crop_h)

    for c, (label, img) in enumerate(style_rows, start=1):
        show(img, c, "style", style_h)
        text(col_x(c) + col_w / 2, top["style_t"] - 0.15, label, fontsize=9.5)
    for c, (layer, img, crop, quality) in enumerate(content_rows, start=1):
        show(img, c, "content", content_h)
        text(col_x(c) + col_w / 2, top["content_t"] - 0.16, f"{layer}  ·  PSNR {es(quality)} dB", fontsize=9.5)
        show(crop, c, "crop", crop_h, crop_h)

    # The network: one slab per convolution, height following the block's spatial size.
    net_top, net_h = top["net"], rows[4][1]
    centre_y = net_top - net_h / 2 + 0.12
    text(col_x(0) + col_w / 2, centre_y + 0.45, "VGG19", fontsize=13, weight="bold")
    text(col_x(0) + col_w / 2, centre_y + 0.05, "imagen de entrada →", fontsize=9.5, color="#555555")
    previous_right = col_x(0) + col_w * 0.92
    for b, (convs, channels) in enumerate(BLOCKS, start=1):
        c = b
        slab_w, slab_gap = 0.07 + 0.025 * math.log2(channels / 64), 0.05
        slab_h = 1.0 * 0.5 ** ((b - 1) / 2)
        total = convs * slab_w + (convs - 1) * slab_gap
        x0 = col_x(c) + (col_w - total) / 2
        for k in range(convs):
            colour = AMBER if k == 0 else PURPLE if k == 1 else LILAC
            x = x0 + k * (slab_w + slab_gap)
            overlay.add_patch(Rectangle((x, centre_y - slab_h / 2), slab_w, slab_h, facecolor=colour,
                                        edgecolor="#444444", linewidth=0.6))
            if k == 0:    # conv{b}_1 feeds the style row above
                _arrow(overlay, FancyArrowPatch, (x + slab_w / 2, centre_y + slab_h / 2 + 0.04),
                       (col_x(c) + col_w / 2 - 0.25, top["style"] - style_h - 0.04), AMBER)
            elif k == 1:  # conv{b}_2 feeds the content row below
                _arrow(overlay, FancyArrowPatch, (x + slab_w / 2, centre_y - slab_h / 2 - 0.04),
                       (col_x(c) + col_w / 2 + 0.25, top["content"] + 0.04), PURPLE)
        _arrow(overlay, FancyArrowPatch, (previous_right, centre_y), (x0 - 0.05, centre_y), "#777777")
        if b > 1:
            text((previous_right + x0) / 2, centre_y + 0.13, "máx. 2×2", fontsize=7.5, color="#666666")
        previous_right = x0 + total + 0.05
        text(col_x(c) + col_w / 2, net_top - net_h + 0.12, f"bloque {b} · {channels} filtros", fontsize=9.5,
             bbox=dict(facecolor="white", edgecolor="none", pad=1.5))
    legend_x = col_x(0) + 0.05
    text(legend_x, net_top - net_h + 0.42, "■ 1.ª conv. del bloque → estilo", fontsize=8.5, color=AMBER, ha="left")
    text(legend_x, net_top - net_h + 0.2, "■ 2.ª conv. del bloque → contenido", fontsize=8.5, color=PURPLE, ha="left")
    save_image(figure_to_image(fig), path, quality=88)


def _arrow(ax, cls, start, end, colour) -> None:
    ax.add_patch(cls(start, end, arrowstyle="-|>", mutation_scale=11, color=colour, linewidth=1.3,
                     shrinkA=0, shrinkB=0))
