"""Two paintings at once: the target Gram matrices are a weighted mix of both paintings'."""
from __future__ import annotations

from ..engine.images import fit_long_side, read_image, save_image
from . import Figure, FigureSpec
from .context import RenderContext
from .picks import painting, photo, second_painting

BLENDS = ((1.0, 0.0), (0.5, 0.5), (0.0, 1.0))
FIGURE = Figure(
    order=120, outputs=("image", *(f"blend{i}" for i in range(len(BLENDS)))),
    numbers=("width", "height", "evaluations", *(f"weight_first_{i}" for i in range(len(BLENDS))),
             *(f"style_loss_{i}" for i in range(len(BLENDS))),
             "mix_colour_to_first", "mix_colour_to_second", "ends_colour_distance"),
    sizes={"tiny": {"long_side": 48, "steps": 6, "scales": [1.0]},
           "preview": {"long_side": 288, "steps": 70, "scales": [0.5, 1.0]},
           "full": {"long_side": 512, "steps": 500, "scales": [0.5, 1.0]}})


def specs(catalog, profile, site_src):
    c, s1, s2 = photo(catalog), painting(catalog), second_painting(catalog)
    size = FIGURE.size(profile)
    runs = [profile.transfer(steps=size["steps"], scales=tuple(size["scales"]), style_blend=b).to_dict()
            for b in BLENDS]
    return [FigureSpec(name="work/blend",
                       params={"runs": runs, "long_side": size["long_side"], "photo": c.name,
                               "paintings": [s1.name, s2.name]},
                       inputs=(c.path(site_src), s1.path(site_src), s2.path(site_src)), heavy=True)]


def render(spec, ctx: RenderContext):
    from .measures import mean_colour_distance
    from .picks import settings as make_settings
    from .plotting import es_number, image_row

    content, first, second = (read_image(x) for x in spec.inputs)
    content = fit_long_side(content, spec.params["long_side"])
    files, numbers, images, titles = {}, {"width": content.width, "height": content.height}, [], []
    for i, d in enumerate(spec.params["runs"]):
        settings = make_settings(d)
        result = ctx.run_transfer(content, [first, second], settings, content.size)
        save_image(result.image, ctx.out / f"blend{i}.jpg")
        files[f"blend{i}"] = f"blend{i}.jpg"
        images.append(result.image)
        a, b = settings.style_blend
        titles.append(f"{es_number(a)} : {es_number(b)}")
        numbers[f"weight_first_{i}"] = a
        numbers[f"style_loss_{i}"] = result.history[-1]["style"]
        numbers["evaluations"] = len(result.history)
    # Mean colour of the even mix against the two single-painting results (BLENDS' ends).
    numbers["mix_colour_to_first"] = mean_colour_distance(images[1], images[0])
    numbers["mix_colour_to_second"] = mean_colour_distance(images[1], images[2])
    numbers["ends_colour_distance"] = mean_colour_distance(images[0], images[2])
    paintings = [fit_long_side(p, spec.params["long_side"]) for p in (first, second)]
    image_row([paintings[0]] + images + [paintings[1]],
              ["pintura 1"] + [f"mezcla {t}" for t in titles] + ["pintura 2"], ctx.out / "image.jpg", cell=2.2)
    files["image"] = "image.jpg"
    return files, numbers
