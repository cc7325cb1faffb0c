"""Where the method fails, measured on one pair of transfers that differ only in the painting's size
before its Gram matrices are taken (single scale, so each run sees one painting size):

- "scales": the two results and a magnified detail of each, with a typical stroke width measured
  on each result and on the painting at each size;
- "flat": the flattest quarter of the photo's pixels under its sky (the building's bare walls) and
  how much detail the transfer puts there, against the detail it puts on the rest under the sky.
"""
from __future__ import annotations

from ..engine.images import fit_long_side, read_image, save_image
from . import Figure, FigureSpec
from .context import RenderContext
from .picks import painting, photo

FIGURE = Figure(
    order=146, outputs=("image", "detail", "flat", "x1", "x3"),
    numbers=("width", "height", "flat_share", "detail_window", "photo_stroke_width", "photo_flat_detail",
             "photo_busy_detail", "photo_flat_to_busy", "evaluations", "stroke_ratio", "painting_stroke_ratio",
             "painting_side_*", "stroke_width_*", "painting_stroke_width_*", "painting_detail_*",
             "flat_detail_*", "busy_detail_*", "flat_to_busy_*", "flat_gain_*"),
    sizes={
    "tiny": {"long_side": 48, "steps": 6},
    "preview": {"long_side": 288, "steps": 60},
    "full": {"long_side": 512, "steps": 400},
})
PAINTING_FACTORS = (1.0, 3.0)   # the painting's long side, in multiples of the canvas's
FLAT_SHARE = 0.25               # the flattest quarter of the photo under its sky
DETAIL_RADIUS = 3               # local detail: luminance std in a 7 x 7 window
DETAIL = (0.5, 0.3, 0.3)
FLAT_TINT = (255, 0, 200)


def specs(catalog, profile, site_src):
    c, s = photo(catalog), painting(catalog)
    size = FIGURE.size(profile)
    runs = {f"x{f:g}": profile.compared_transfer(steps=size["steps"], scales=(1.0,),
                                        style_min_side=round(f * size["long_side"])).to_dict()
            for f in PAINTING_FACTORS}
    return [FigureSpec(name="limits/scales", params={"runs": runs, "long_side": size["long_side"], "detail": list(DETAIL),
                               "flat_share": FLAT_SHARE, "photo": c.name, "painting": s.name},
                       inputs=(c.path(site_src), s.path(site_src)), heavy=True)]


def tint(img, mask, colour=FLAT_TINT, amount: float = 0.55):
    """`img` with the pixels of `mask` blended towards `colour`."""
    import numpy as np
    from PIL import Image

    arr = np.asarray(img.convert("RGB"), dtype=np.float64)
    arr[mask] = (1 - amount) * arr[mask] + amount * np.asarray(colour, dtype=np.float64)
    return Image.fromarray(np.rint(arr).astype(np.uint8), "RGB")


def render(spec, ctx: RenderContext):
    from PIL import Image

    from ..engine.colour import luminance
    from ..engine.stats_losses import below_skyline, flattest, local_detail, stroke_width
    from ..engine.transfer import style_side
    from .picks import settings as make_settings
    from .plotting import image_row
    from .texture_stats import square_crop

    p = spec.params
    content, style = (read_image(x) for x in spec.inputs)
    content = fit_long_side(content, p["long_side"])
    photo_detail = local_detail(luminance(content), DETAIL_RADIUS)
    scene = below_skyline(photo_detail)
    flat = flattest(photo_detail, p["flat_share"], within=scene)
    busy = scene & ~flat   # the rest under the sky: the sky itself is neither
    if not busy.any():     # a photo too small to have a sky and walls
        busy = ~flat
    numbers = {"width": content.width, "height": content.height, "flat_share": p["flat_share"],
               "detail_window": 2 * DETAIL_RADIUS + 1,
               "photo_stroke_width": stroke_width(luminance(content)),
               "photo_flat_detail": float(photo_detail[flat].mean()),
               "photo_busy_detail": float(photo_detail[busy].mean())}
    numbers["photo_flat_to_busy"] = numbers["photo_flat_detail"] / max(numbers["photo_busy_detail"], 1e-9)
    results, titles = [], []
    for i, (key, d) in enumerate(p["runs"].items()):
        settings = make_settings(d)
        side = style_side(content.size, settings.style_min_side)
        shown_painting = fit_long_side(style, side, allow_upscale=True)  # what run_transfer feeds VGG19
        result = ctx.run_transfer(content, [style], settings, content.size)
        save_image(result.image, ctx.out / f"{key}.png")
        results.append(result.image)
        titles.append(f"pintura a {side} px de ancho" if shown_painting.width >= shown_painting.height
                      else f"pintura a {side} px de alto")
        detail = local_detail(luminance(result.image), DETAIL_RADIUS)
        numbers.update({f"painting_side_{i}": side, "evaluations": len(result.history),
                        f"stroke_width_{i}": stroke_width(luminance(result.image)),
                        f"painting_stroke_width_{i}": stroke_width(luminance(shown_painting)),
                        f"painting_detail_{i}": float(local_detail(luminance(shown_painting), DETAIL_RADIUS).mean()),
                        f"flat_detail_{i}": float(detail[flat].mean()),
                        f"busy_detail_{i}": float(detail[busy].mean())})
        # The detail the transfer added in the photo's flat areas, as a share of the detail it
        # leaves elsewhere: near 1, the texture is spread evenly whatever the photo has there.
        numbers[f"flat_to_busy_{i}"] = numbers[f"flat_detail_{i}"] / max(numbers[f"busy_detail_{i}"], 1e-9)
        numbers[f"flat_gain_{i}"] = numbers[f"flat_detail_{i}"] / max(numbers["photo_flat_detail"], 1e-9)
    numbers["stroke_ratio"] = numbers["stroke_width_1"] / max(numbers["stroke_width_0"], 1e-9)
    numbers["painting_stroke_ratio"] = numbers["painting_stroke_width_1"] / max(numbers["painting_stroke_width_0"], 1e-9)
    files = {}
    image_row(results, titles, ctx.out / "image.jpg", cell=3.4)
    zoom = 3 * max(16, round(min(content.size) * p["detail"][2]))
    details = [square_crop(r, *p["detail"]).resize((zoom, zoom), Image.NEAREST) for r in results]
    image_row(details, titles, ctx.out / "detail.jpg", cell=3.0)
    last = results[-1]
    flat_title = "las zonas más lisas bajo el cielo, en magenta"
    image_row([tint(content, flat), last], [flat_title, "resultado"], ctx.out / "flat.jpg", cell=3.4)
    files.update(image="image.jpg", detail="detail.jpg", flat="flat.jpg",
                 **{key: f"{key}.png" for key in p["runs"]})
    return files, numbers
