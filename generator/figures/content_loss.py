"""The content loss made visible: the photo rebuilt from noise out of its responses at the
objective's content layer, animated, with its loss curve, and crops of the response matrices P^l
(photo) and X^l (canvas part-way through), rows = filters, columns = positions, with their
difference X^l - P^l. The responses are read as the transfer reads them (vgg.tap)."""
from __future__ import annotations

import numpy as np

from ..engine.images import fit_long_side, read_image
from . import Figure, FigureSpec
from .context import RenderContext
from .picks import photo, settings as make_settings

FIGURE = Figure(
    order=60, outputs=("animation", "poster", "strip", "image", "loss", "canvas", "matrices"),
    numbers=("width", "height", "evaluations", "initial_content_loss", "final_content_loss", "loss_reduction",
             "psnr", "frames", "filters", "positions", "shown_filters", "shown_positions", "matrix_evaluation",
             "matrix_content_loss", "negative_share", "signed_scale", "transfer_seconds"),
    sizes={"tiny": {"long_side": 48, "steps": 10, "frames": 5},
           "preview": {"long_side": 288, "steps": 120, "frames": 30, "precision": "bfloat16"},
           "full": {"long_side": 512, "steps": 500, "frames": 48}})
MATRIX = {"rows": 48, "columns": 96, "at": 0.2}   # filters and positions shown; canvas at 20 % of the run


def specs(catalog, profile, site_src):
    from ..engine.reconstruct import content_settings, schedule

    content = photo(catalog)
    size = FIGURE.size(profile)
    # the site's default objective's content layer, rebuilt from noise with the content term alone,
    # optimised as the profile's figures are (its preconditioner: plain L-BFGS, as the papers)
    layer, = profile.transfer().content_layers
    settings = content_settings(layer, size["steps"], snapshot_every=max(1, size["steps"] // size["frames"]),
                                **schedule({**size, "precondition": profile.precondition}))
    params = dict(long_side=size["long_side"], frames=size["frames"], photo=content.name,
                  settings=settings.to_dict(), matrix=dict(MATRIX))
    return [FigureSpec(name="content/loss", params=params,
                       inputs=(content.path(site_src),), heavy=True)]


def as_matrix(features) -> np.ndarray:
    """(1, N, H, W) responses -> the N x M matrix of the paper (M = H*W positions, row-major)."""
    f = np.asarray(features, dtype=np.float32)
    return f.reshape(f.shape[1], -1)


def matrix_window(p: np.ndarray, rows: int, columns: int) -> tuple[np.ndarray, slice]:
    """Which filters and positions to show: the `rows` filters with the largest mean |P| (in
    filter order) and `columns` consecutive positions starting at the middle of the matrix."""
    strongest = np.sort(np.argsort(-np.abs(p).mean(axis=1), kind="stable")[:rows])
    columns = min(columns, p.shape[1])
    start = max(0, min(p.shape[1] - columns, p.shape[1] // 2 - columns // 2))
    return strongest, slice(start, start + columns)


def nearest_snapshot(snapshots, evaluation: int):
    return min(snapshots, key=lambda s: (abs(s[0] - evaluation), s[0]))


def render(spec, ctx: RenderContext):
    import torch

    from ..engine.images import save_image
    from ..engine.metrics import psnr
    from ..engine.reconstruct import noise_image
    from ..engine.transfer import content_taps
    from .animation import frames_from, save_animation
    from .content_loss_plot import draw_matrices
    from .plotting import loss_plot

    p = spec.params
    img = fit_long_side(read_image(spec.inputs[0]), p["long_side"])
    settings = make_settings(p["settings"])
    layer, = content_taps(settings)      # the network layer the loss reads: relu4_2 for conv4_2 post-ReLU
    result = ctx.run_transfer(img, [img], settings)
    frames = frames_from(result, noise_image(settings, img.size))
    files = save_animation(frames, ctx.out, "animation")
    files["image"] = "reconstruction.jpg"
    save_image(result.image, ctx.out / files["image"])

    history = result.history
    evaluations = [h["evaluation"] for h in history]
    loss_plot({"pérdida de contenido": (evaluations, [h["content"] for h in history])}, ctx.out / "loss.png",
              "evaluaciones de la pérdida", "$\\mathcal{L}_{contenido}$ (escala logarítmica)",
              title=f"Del ruido a la fotografía ({layer})")
    files["loss"] = "loss.png"

    at, canvas = nearest_snapshot(result.snapshots or [(evaluations[-1], result.image)],
                                  round(p["matrix"]["at"] * len(history)))
    model = ctx.objective_model(settings)
    with torch.no_grad():
        pm = as_matrix(model(ctx.tensor(img), [layer])[layer].float().cpu())
        xm = as_matrix(model(ctx.tensor(canvas), [layer])[layer].float().cpu())
    rows, cols = matrix_window(pm, p["matrix"]["rows"], p["matrix"]["columns"])
    save_image(canvas, ctx.out / "canvas.jpg")
    files["canvas"] = "canvas.jpg"
    files["matrices"] = "matrices.png"
    signed = draw_matrices(ctx.out / files["matrices"], pm[rows][:, cols], xm[rows][:, cols], layer, at, cols.start)

    numbers = {"width": img.width, "height": img.height, "evaluations": len(history),
               "initial_content_loss": history[0]["content"], "final_content_loss": history[-1]["content"],
               "loss_reduction": history[0]["content"] / max(history[-1]["content"], 1e-30),
               "psnr": round(psnr(img, result.image), 3), "frames": len(frames),
               "filters": pm.shape[0], "positions": pm.shape[1], "shown_filters": len(rows),
               "shown_positions": cols.stop - cols.start, "matrix_evaluation": at,
               "matrix_content_loss": 0.5 * float(((xm - pm) ** 2).sum()),
               "negative_share": round(float((pm < 0).mean()), 4), "signed_scale": int(signed),
               "transfer_seconds": round(result.seconds, 3)}
    return files, numbers
