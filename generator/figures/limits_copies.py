"""The painting pastes its objects (the copy guard, engine/copy_guard.py): the gallery's transfer of
the site's photo and painting (its size and settings), unguarded (copy_guard 0) and guarded (the
default). On each result the relu5_1 positions that reproduce some painting position at the
guard's cosine or more are outlined; on the painting, the positions the unguarded result reproduces so."""
from __future__ import annotations

from ..engine import settings as config
from ..engine.images import fit_long_side, read_image, save_image
from . import Figure, FigureSpec
from .context import RenderContext
from .picks import painting, photo

FIGURE = Figure(
    order=147, outputs=("image", "detail", "painting", "unguarded", "guarded"),
    numbers=("width", "height", "evaluations", "threshold", "check_every", "cell_side", "layer_width",
             "layer_height", "canvas_positions", "painting_side", "painting_positions", "painting_copied",
             "left_out", "left_out_share", "closest_unguarded", "closest_guarded", "copied_unguarded",
             "copied_guarded", "detail_cells", "detail_zoom", "probe_evaluations", "probe_width", "probe_height",
             "probe_floor", "guard_threshold", "self_match", "self_match_share"),
    sizes=None)   # the gallery's: the profile's long side and transfer settings
RUNS = ("unguarded", "guarded")
OUTLINE = (255, 0, 200)
DETAIL_ZOOM = 3   # the detail's magnification (nearest neighbour)


def specs(catalog, profile, site_src):
    c, s = photo(catalog), painting(catalog)
    guarded = profile.transfer()   # the gallery's settings, with the default guard
    runs = {"unguarded": guarded.to_dict() | {"copy_guard": 0.0}, "guarded": guarded.to_dict()}
    return [FigureSpec(name="limits/copies", params={"runs": runs, "long_side": profile.long_side,
                                                     "photo": c.name, "painting": s.name},
                       inputs=(c.path(site_src), s.path(site_src)), heavy=True)]


def edges(mask) -> list[tuple[int, int, int, int]]:
    """The outline of a bool (H, W) mask of cells: unit segments (x0, y0, x1, y1) in cell units
    between a true cell and a false one or the border."""
    h, w = len(mask), len(mask[0])

    def on(y, x):
        return 0 <= y < h and 0 <= x < w and bool(mask[y][x])

    out = []
    for y in range(h):
        for x in range(w):
            if not on(y, x):
                continue
            sides = (((x, y, x + 1, y), on(y - 1, x)), ((x, y + 1, x + 1, y + 1), on(y + 1, x)),
                     ((x, y, x, y + 1), on(y, x - 1)), ((x + 1, y, x + 1, y + 1), on(y, x + 1)))
            out += [seg for seg, neighbour in sides if not neighbour]
    return out


def lowered(closest: dict, threshold: float):
    """(H, W): how much the guard lowered each canvas position's closest match to the painting, at the
    positions the unguarded result matches at `threshold` or more (0 elsewhere)."""
    return (closest["unguarded"] - closest["guarded"]).clamp_min(0) * (closest["unguarded"] >= threshold)


def densest_window(mask, k: int) -> tuple[int, int]:
    """(row, column) of the top-left cell of the k x k window of an (H, W) tensor (bool or weights)
    with the largest sum (the first in reading order on a tie); k is clipped to the mask's sides."""
    import torch.nn.functional as F

    k = max(1, min(k, *mask.shape))
    counts = F.avg_pool2d(mask[None, None].float(), k, stride=1)[0, 0]
    row, col = divmod(int(counts.flatten().argmax()), counts.shape[1])
    return row, col


def cell_box(img, shape, row: int, col: int, k: int) -> tuple[int, int, int, int]:
    """The pixel box (left, top, right, bottom) of k x k cells from (row, col) of a grid of `shape`
    (H, W) laid over `img`, as outlined() lays it."""
    sy, sx = img.height / shape[0], img.width / shape[1]
    return round(col * sx), round(row * sy), round((col + k) * sx), round((row + k) * sy)


def outlined(img, mask, colour=OUTLINE):
    """`img` with the outline of `mask`'s cells (a grid of mask's shape over the image) drawn on it."""
    from PIL import ImageDraw

    out = img.convert("RGB")
    sx, sy = out.width / len(mask[0]), out.height / len(mask)
    width = max(1, round(min(out.size) / 160))
    draw = ImageDraw.Draw(out)
    for x0, y0, x1, y1 in edges(mask):
        draw.line([(min(x0 * sx, out.width - 1), min(y0 * sy, out.height - 1)),
                   (min(x1 * sx, out.width - 1), min(y1 * sy, out.height - 1))], fill=colour, width=width)
    return out


def render(spec, ctx: RenderContext):
    import torch
    from PIL import Image

    from ..engine import copy_guard
    from ..engine.transfer import guard_layer, style_side
    from .picks import settings as make_settings
    from .plotting import image_row

    p = spec.params
    content, style = (read_image(x) for x in spec.inputs)
    content = fit_long_side(content, p["long_side"])
    runs = {key: make_settings(d) for key, d in p["runs"].items()}
    guarded = runs["guarded"]
    layer = guard_layer(guarded)
    side = style_side(content.size, guarded.style_min_side, guarded.style_scale)
    shown_painting = fit_long_side(style, side, allow_upscale=True)   # what the final stage feeds VGG19
    model = ctx.model(guarded.pooling)

    def responses(img):
        with torch.no_grad():
            return model(ctx.tensor(img), [layer])[layer]

    painting_feats = responses(shown_painting)
    # the guard's threshold at the final stage: its own, or the painting's self_match where higher
    level = copy_guard.painting_level(painting_feats)
    threshold = max(guarded.copy_guard, level)
    numbers = {"width": content.width, "height": content.height, "threshold": threshold,
               "guard_threshold": guarded.copy_guard, "self_match": level, "self_match_share": config.SELF_MATCH_SHARE,
               "check_every": copy_guard.CHECK_EVERY, "painting_side": side,
               "painting_positions": painting_feats.shape[-2] * painting_feats.shape[-1]}
    results, masks, feats, closest = {}, {}, {}, {}
    for key in RUNS:
        result = ctx.run_transfer(content, [style], runs[key], content.size)
        feats[key] = responses(result.image)
        closest[key] = copy_guard.closest(feats[key], painting_feats).cpu()   # per canvas position
        masks[key] = closest[key] >= threshold
        results[key] = result
        save_image(result.image, ctx.out / f"{key}.png")
        numbers.update({f"closest_{key}": float(closest[key].max()), f"copied_{key}": int(masks[key].sum()),
                        "evaluations": len(result.history)})
    left_out, positions = results["guarded"].left_out[0]
    (probe_w, probe_h), probe_evaluations = results["guarded"].probe or ((0, 0), 0)
    numbers.update({"probe_evaluations": probe_evaluations, "probe_width": probe_w, "probe_height": probe_h,
                    "probe_floor": config.CANVAS_FLOOR})
    layer_h, layer_w = feats["unguarded"].shape[-2:]
    painting_mask = copy_guard.copied(painting_feats, feats["unguarded"], threshold).cpu()
    numbers.update({"layer_width": layer_w, "layer_height": layer_h, "canvas_positions": layer_w * layer_h,
                    "cell_side": content.width // layer_w,
                    "painting_copied": int(painting_mask.sum()), "left_out": left_out,
                    "left_out_share": round(left_out / positions, 4) if positions else 0.0})
    shown = [outlined(results[key].image, masks[key].tolist()) for key in RUNS]
    titles = ["sin vigilancia", "con vigilancia"]
    image_row(shown, titles, ctx.out / "image.jpg", cell=5.2)
    # the square of canvas positions (half the layer's short side) where the guard lowered the similarity
    # of the unguarded result's marked positions the most
    k = max(1, min(layer_h, layer_w) // 2)
    box = cell_box(shown[0], (layer_h, layer_w), *densest_window(lowered(closest, threshold), k), k)
    zoomed = [img.crop(box).resize(((box[2] - box[0]) * DETAIL_ZOOM, (box[3] - box[1]) * DETAIL_ZOOM), Image.NEAREST)
              for img in shown]
    image_row(zoomed, titles, ctx.out / "detail.jpg", cell=4.2)
    numbers.update({"detail_cells": k, "detail_zoom": DETAIL_ZOOM})
    save_image(outlined(shown_painting, painting_mask.tolist()), ctx.out / "painting.png")
    return {"image": "image.jpg", "detail": "detail.jpg", "painting": "painting.png", "unguarded": "unguarded.png",
            "guarded": "guarded.png"}, numbers
