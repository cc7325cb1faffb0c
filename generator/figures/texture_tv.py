"""Total variation: the same transfer without and with a total-variation term (tv_weight), with
the measured total variation of each result and of the photo, and a magnified detail of each."""
from __future__ import annotations

from dataclasses import replace

from ..engine.images import fit_long_side, read_image, save_image
from . import Figure, FigureSpec
from .context import RenderContext
from .picks import painting, photo

FIGURE = Figure(
    order=144, outputs=("without", "with", "image", "detail"),
    numbers=("width", "height", "photo_tv", "evaluations", "style_weight", "tv_weight", "tv_ratio",
             "style_loss_ratio", "*_tv", "*_content_loss", "*_style_loss"),
    sizes={
    "tiny": {"long_side": 48, "steps": 6, "scales": [1.0]},
    "preview": {"long_side": 288, "steps": 80, "scales": [0.5, 1.0]},
    "full": {"long_side": 512, "steps": 500, "scales": [0.5, 1.0]},
})
TV_SHARE = 300.0  # tv_weight = TV_SHARE * beta (72 px, 30 evaluations: 100 beta cut TV per pixel by 25 %)
DETAIL = (0.5, 0.3, 0.3)  # centre x, centre y, side (fraction of the short side) of the magnified detail
TITLES = ("sin variación total", "con variación total")


def specs(catalog, profile, site_src):
    c, s = photo(catalog), painting(catalog)
    size = FIGURE.size(profile)
    base = profile.transfer(steps=size["steps"], scales=tuple(size["scales"]))
    runs = {key: replace(base, tv_weight=share * base.style_weight).to_dict()
            for key, share in (("without", 0.0), ("with", TV_SHARE))}
    return [FigureSpec(name="texture/tv", params={"runs": runs, "long_side": size["long_side"], "detail": list(DETAIL),
                               "photo": c.name, "painting": s.name},
                       inputs=(c.path(site_src), s.path(site_src)), heavy=True)]


def tv_of(img, ctx: RenderContext) -> float:
    from ..engine.stats_losses import tv_per_pixel

    return tv_per_pixel(ctx.tensor(img))


def render(spec, ctx: RenderContext):
    from PIL import Image

    from .picks import settings as make_settings
    from .plotting import image_row
    from .texture_stats import square_crop

    content, style = (read_image(x) for x in spec.inputs)
    content = fit_long_side(content, spec.params["long_side"])
    numbers = {"width": content.width, "height": content.height, "photo_tv": tv_of(content, ctx)}
    files, results = {}, []
    for key, d in spec.params["runs"].items():
        settings = make_settings(d)
        result = ctx.run_transfer(content, [style], settings, content.size)
        save_image(result.image, ctx.out / f"{key}.png")
        files[key] = f"{key}.png"
        results.append(result.image)
        last = result.history[-1]
        numbers[f"{key}_tv"] = tv_of(result.image, ctx)
        numbers[f"{key}_content_loss"] = last["content"]
        numbers[f"{key}_style_loss"] = last["style"]
        numbers["evaluations"] = len(result.history)
        numbers["style_weight"] = settings.style_weight
        if settings.tv_weight:
            numbers["tv_weight"] = settings.tv_weight
    numbers["tv_ratio"] = numbers["with_tv"] / max(numbers["without_tv"], 1e-30)
    numbers["style_loss_ratio"] = numbers["with_style_loss"] / max(numbers["without_style_loss"], 1e-30)
    image_row(results, list(TITLES), ctx.out / "image.jpg", cell=3.4)
    side = 3 * max(16, round(min(content.size) * spec.params["detail"][2]))
    details = [square_crop(r, *spec.params["detail"]).resize((side, side), Image.NEAREST) for r in results]
    image_row(details, list(TITLES), ctx.out / "detail.jpg", cell=3.0)
    files.update(image="image.jpg", detail="detail.jpg")
    return files, numbers
