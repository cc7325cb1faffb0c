"""Why Gram matrices capture texture: a crop of the painting synthesised from the same noise twice,
once matching its Gram matrices and once matching only each channel's mean and standard deviation
(same layers, same optimiser, same evaluations), with both losses measured on both results. The
layers, their taps and weights and the pooling are the site's default objective's (in the params)."""
from __future__ import annotations

from ..engine.images import read_image, save_image
from . import Figure, FigureSpec
from .context import RenderContext
from .picks import objective, objective_settings, painting

FIGURE = Figure(
    order=142, outputs=("gram", "mean_std", "crop", "image"),
    numbers=("side", "evaluations", "layers", "*_first_loss", "*_final_loss", "*_result_*_loss",
             "gram_loss_ratio", "mean_std_loss_ratio", "*_gram_reduction"),
    sizes={
    "tiny": {"side": 48, "steps": 8},
    "preview": {"side": 144, "steps": 60},
    "full": {"side": 256, "steps": 500},
})
CROP = (0.42, 0.3, 0.45)   # centre x, centre y (fractions of the painting) and side (fraction of its height)
TITLES = {"gram": "matrices de Gram", "mean_std": "medias y desviaciones"}


def specs(catalog, profile, site_src):
    s = painting(catalog)
    size = FIGURE.size(profile)
    return [FigureSpec(name="texture/statistics", params={"side": size["side"], "steps": size["steps"], "crop": list(CROP),
                               "painting": s.name, "seed": 0,
                               # a synthesis: no photo, so no content term and nothing to balance against
                               "objective": objective(profile.transfer(content_weight=0.0, style_balance="none"))},
                       inputs=(s.path(site_src),), heavy=True)]


def square_crop(img, cx: float, cy: float, side_frac: float):
    """A square of side `side_frac` x the image's short side, centred at (cx, cy) and kept inside."""
    side = max(1, round(min(img.size) * side_frac))
    left = min(max(0, round(cx * img.width - side / 2)), img.width - side)
    top = min(max(0, round(cy * img.height - side / 2)), img.height - side)
    return img.crop((left, top, left + side, top + side))


def render(spec, ctx: RenderContext):
    from ..engine.images import resize_to
    from ..engine.synthesis import synthesise_image
    from ..engine.transfer import layer_weights
    from .plotting import image_row

    p = spec.params
    crop = resize_to(square_crop(read_image(spec.inputs[0]), *p["crop"]), (p["side"], p["side"]))
    settings = objective_settings(p)
    weights = layer_weights(settings)   # the objective's style layers, read through its taps
    numbers = {"side": p["side"], "evaluations": p["steps"], "layers": len(weights)}
    shown, files = [crop], {}
    for statistic in ("gram", "mean_std"):
        result, measured = synthesise_image(ctx.objective_model(settings), ctx.tensor(crop), statistic, weights,
                                            p["steps"], p["seed"],
                                            progress=ctx.progress)
        save_image(result.image, ctx.out / f"{statistic}.png")
        files[statistic] = f"{statistic}.png"
        shown.append(result.image)
        numbers[f"{statistic}_first_loss"] = result.losses[0]
        numbers[f"{statistic}_final_loss"] = result.losses[-1]
        for measured_as, value in measured.items():
            numbers[f"{statistic}_result_{measured_as}_loss"] = value
    # How much farther from the painting's Gram matrices the mean/std result ends than the Gram one.
    numbers["gram_loss_ratio"] = numbers["mean_std_result_gram_loss"] / max(numbers["gram_result_gram_loss"], 1e-30)
    numbers["mean_std_loss_ratio"] = (numbers["gram_result_mean_std_loss"]
                                      / max(numbers["mean_std_result_mean_std_loss"], 1e-30))
    # How many times each synthesis lowered the noise's Gram loss (the mean/std one without aiming at it).
    for statistic in ("gram", "mean_std"):
        numbers[f"{statistic}_gram_reduction"] = (numbers["gram_first_loss"]
                                                  / max(numbers[f"{statistic}_result_gram_loss"], 1e-30))
    save_image(crop, ctx.out / "crop.png")
    files["crop"] = "crop.png"
    image_row(shown, ["recorte de la pintura", "síntesis: " + TITLES["gram"], "síntesis: " + TITLES["mean_std"]],
              ctx.out / "image.jpg", cell=3.0)
    files["image"] = "image.jpg"
    return files, numbers
