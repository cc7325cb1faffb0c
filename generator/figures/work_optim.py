"""L-BFGS against Adam on the same transfer: total loss against wall-clock time.
The times are measured, so this figure depends on the machine that built it."""
from __future__ import annotations

from ..engine.images import fit_long_side, read_image, save_image
from . import Figure, FigureSpec
from .context import RenderContext
from .picks import painting, photo

OPTIMISERS = ("lbfgs", "adam")
LABELS = {"lbfgs": "L-BFGS", "adam": "Adam"}
FIGURE = Figure(
    order=130, outputs=("image", "results", *OPTIMISERS),
    numbers=("width", "height", "initial_loss", "adam_over_lbfgs",
             *(f"{o}_{n}" for o in OPTIMISERS for n in ("final_loss", "seconds", "evaluations"))),
    sizes={"tiny": {"long_side": 48, "steps": 6},
           "preview": {"long_side": 240, "steps": 60},
           "full": {"long_side": 512, "steps": 300}})


def specs(catalog, profile, site_src):
    c, s = photo(catalog), painting(catalog)
    size = FIGURE.size(profile)
    runs = {o: profile.compared_transfer(steps=size["steps"], scales=(1.0,), optimizer=o).to_dict() for o in OPTIMISERS}
    return [FigureSpec(name="work/optim",
                       params={"runs": runs, "long_side": size["long_side"], "photo": c.name, "painting": s.name},
                       inputs=(c.path(site_src), s.path(site_src)), heavy=True)]


def render(spec, ctx: RenderContext):
    from .picks import settings as make_settings
    from .plotting import image_row, loss_plot

    import torch

    # The first torch.optim.Adam of a process imports part of torch's compiler stack: 2 s on a CPU
    # here, a one-time cost that is not the optimiser's, paid before either run is timed.
    torch.optim.Adam([torch.zeros(1, requires_grad=True)])
    content, style = (read_image(x) for x in spec.inputs)
    content = fit_long_side(content, spec.params["long_side"])
    curves, images, numbers = {}, [], {"width": content.width, "height": content.height, "time_dependent": True}
    for name, d in spec.params["runs"].items():
        settings = make_settings(d)
        result = ctx.run_transfer(content, [style], settings, content.size)
        history = result.history
        curves[LABELS[name]] = ([h["seconds"] for h in history], [h["total"] for h in history])
        images.append(result.image)
        save_image(result.image, ctx.out / f"{name}.jpg")
        numbers[f"{name}_final_loss"] = history[-1]["total"]
        numbers[f"{name}_seconds"] = round(result.seconds, 3)
        numbers[f"{name}_evaluations"] = len(history)
        numbers["initial_loss"] = history[0]["total"]
    numbers["adam_over_lbfgs"] = numbers["adam_final_loss"] / numbers["lbfgs_final_loss"]
    loss_plot(curves, ctx.out / "loss.png", "tiempo de reloj (s)", "pérdida total (escala log.)",
              title="Mismo problema, dos optimizadores")
    image_row(images, [LABELS[n] for n in spec.params["runs"]], ctx.out / "results.jpg")
    return ({"image": "loss.png", "results": "results.jpg", "lbfgs": "lbfgs.jpg", "adam": "adam.jpg"}, numbers)
