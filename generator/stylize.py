"""The one-image tool: a photo in the style of one or more paintings, at a chosen size."""
from __future__ import annotations

import sys
from pathlib import Path

from .errors import InputError
from .images import fit_long_side, read_image, save_image

OUTPUT_FORMATS = (".jpg", ".jpeg", ".png", ".webp")
CPU_STEPS = 120  # stylize's default evaluations above 256 px on a CPU ...
CPU_FINAL_SHARE = 0.25  # ... a quarter at full size: 90 at half size + 30 at 512 px cost about as much
                        # as the former 12 + 48 (54 s measured on 2 cores), and the coarse stage is
                        # where the balanced objective moves the painting's large shapes in cheaply


def default_schedule(size: int, device: str) -> dict:
    """Best result per second: coarse-to-fine above 256 px, bfloat16 autocast for the network
    (1.6x per evaluation on the 2-core development CPU; see README, performance). On a CPU above
    256 px, CPU_STEPS evaluations, CPU_FINAL_SHARE of them at full size (README, quality)."""
    cpu = not str(device).startswith("cuda")
    if size <= 256:
        return {"steps": 200, "scales": (1.0,), "precision": "bfloat16"}
    steps = CPU_STEPS if cpu else 300
    share = CPU_FINAL_SHARE if cpu else 0.8
    if size <= 768:
        scales = (0.5, 1.0)
    elif size <= 1536:
        scales = (0.25, 0.5, 1.0)
    else:
        scales = (0.125, 0.25, 0.5, 1.0)
    return {"steps": steps, "scales": scales, "precision": "bfloat16", "final_share": share}


def stylize(content: Path, styles: list[Path], output: Path, *, size: int = 512, steps=None,
            content_weight=None, style_weight=None, tv_weight=None, init="content",
            optimizer="lbfgs", seed=0, device="auto", show_progress=True):
    """Write the stylised photo to `output`; returns the TransferResult (history, seconds)."""
    output = Path(output)
    if output.suffix.lower() not in OUTPUT_FORMATS:
        raise InputError(output, f"unsupported output format (use {', '.join(OUTPUT_FORMATS)})")
    if output.is_dir():
        raise InputError(output, "is a directory; give a file name")
    if not output.parent.exists():
        raise InputError(output, f"folder {output.parent} does not exist")
    photo = fit_long_side(read_image(content), size, allow_upscale=True)
    paintings = [read_image(s) for s in styles]

    from .build import resolve_device
    from .config import TransferSettings
    from .transfer import run_transfer

    device = resolve_device(device)
    schedule = default_schedule(size, device)
    overrides = {k: v for k, v in dict(steps=steps, content_weight=content_weight, style_weight=style_weight,
                                       tv_weight=tv_weight).items() if v is not None}
    settings = TransferSettings(**{**schedule, **overrides, "init": init, "optimizer": optimizer, "seed": seed})
    from .memory import check_fits
    from .transfer import LBFGS_HISTORY, deepest_layer

    check_fits(photo.size, deepest_layer(settings), device, settings.precision,
               LBFGS_HISTORY if optimizer == "lbfgs" else 0)  # refuse before any work
    bar = None
    if show_progress:
        from tqdm import tqdm
        bar = tqdm(total=settings.steps, desc="stylize", unit="eval", file=sys.stderr, leave=False)
    try:
        result = run_transfer(photo, paintings, settings, photo.size, device, bar.update if bar is not None else None)
    finally:
        if bar is not None:
            bar.close()
    save_image(result.image, output, quality=95)
    return result
