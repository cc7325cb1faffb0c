"""Total variation: the same transfer without and with a total-variation term (tv_weight), with
the measured total variation of each result and of the photo, their content losses beside the
seeded noise's, and a magnified detail of each."""
from __future__ import annotations

from ..engine.images import fit_long_side, read_image, save_image
from . import Figure, FigureSpec
from .context import RenderContext
from .picks import painting, photo

FIGURE = Figure(
    order=144, outputs=("without", "with", "image", "detail"),
    numbers=("width", "height", "photo_tv", "evaluations", "style_weight", "tv_weight", "tv_gain", "tv_ratio",
             "tv_to_photo", "style_loss_ratio", "noise_start_content_loss", "*_tv", "*_content_loss",
             "*_style_loss"),
    sizes={
    "tiny": {"long_side": 48, "steps": 6, "scales": [1.0]},
    "preview": {"long_side": 288, "steps": 80, "scales": [0.5, 1.0]},
    "full": {"long_side": 512, "steps": 500, "scales": [0.5, 1.0]},
})
# gamma = TV_GAIN / (3 W H): the TV term is TV_GAIN times the canvas's total variation per pixel
# (stats_losses.tv_per_pixel), whatever its size. Chosen so the result's TV lands near the photo's
# own. Measured at the preview (288 x 142, 80 evaluations, TV per pixel of the photo 740): gain 0
# left 1247 (content loss 4.10e5, style 0.033); gain 100, 1055 (4.17e5, 0.034); gain 400, 842
# (4.25e5, 0.040); a weight of 3 beta (gain ~1.8e12; 300 beta before) a uniform grey field (0.70,
# content loss 6.5e5 against 8.7e5 for the seeded noise).
TV_GAIN = 400.0
DETAIL = (0.5, 0.3, 0.3)  # centre x, centre y, side (fraction of the short side) of the magnified detail
TITLES = ("sin variación total", "con variación total")


def specs(catalog, profile, site_src):
    c, s = photo(catalog), painting(catalog)
    size = FIGURE.size(profile)
    base = profile.compared_transfer(steps=size["steps"], scales=tuple(size["scales"]))
    runs = {key: base.to_dict() for key in ("without", "with")}
    return [FigureSpec(name="texture/tv", params={"runs": runs, "gains": {"without": 0.0, "with": TV_GAIN},
                               "long_side": size["long_side"], "detail": list(DETAIL),
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

    from .measures import noise_content_loss

    content, style = (read_image(x) for x in spec.inputs)
    content = fit_long_side(content, spec.params["long_side"])
    numbers = {"width": content.width, "height": content.height, "photo_tv": tv_of(content, ctx)}
    files, results = {}, []
    pixels = 3 * content.width * content.height
    for key, d in spec.params["runs"].items():
        gain = spec.params["gains"][key]
        settings = make_settings({**d, "tv_weight": gain / pixels})
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
            numbers["tv_gain"] = gain
    numbers["tv_ratio"] = numbers["with_tv"] / max(numbers["without_tv"], 1e-30)
    numbers["tv_to_photo"] = numbers["with_tv"] / max(numbers["photo_tv"], 1e-30)
    numbers["noise_start_content_loss"] = noise_content_loss(ctx, content, style, make_settings(spec.params["runs"]["without"]))
    numbers["style_loss_ratio"] = numbers["with_style_loss"] / max(numbers["without_style_loss"], 1e-30)
    image_row(results, list(TITLES), ctx.out / "image.jpg", cell=3.4)
    side = 3 * max(16, round(min(content.size) * spec.params["detail"][2]))
    details = [square_crop(r, *spec.params["detail"]).resize((side, side), Image.NEAREST) for r in results]
    image_row(details, list(TITLES), ctx.out / "detail.jpg", cell=3.0)
    files.update(image="image.jpg", detail="detail.jpg")
    return files, numbers
