"""The manifest's `method` entry: the settings a build's transfers use beside Gatys et al.'s.

The pages render it as "Diferencias con el artículo", so the text follows the defaults; the one
source is `engine.settings.paper_differences(settings)`: {name: {"paper": value, "ours": value, "same": bool}}.
"""
from __future__ import annotations

from dataclasses import replace

from ..engine import settings as config
from ..engine.settings import TransferSettings
from ..figures.profiles import Profile


def differences(settings: TransferSettings) -> dict:
    """{name: {"paper", "ours", "same"}} for a transfer with `settings`."""
    return _jsonable(config.paper_differences(settings))


def method_entry(profile: Profile, gallery_transfers: list[dict] = ()) -> dict:
    """What the build's default transfer (the gallery's) uses, and how that differs from the paper.
    The precision is the one the gallery's transfers record (`gallery_transfers`, context.transfer_plan:
    float32 where the device lacks bfloat16) when they all agree, else the profile's."""
    settings = profile.transfer()
    ran = {t["precision"] for t in gallery_transfers if "precision" in t}
    if len(ran) == 1:
        settings = replace(settings, precision=ran.pop())
    entry = {"profile": profile.name, "settings": _jsonable(settings.to_dict()), "differences": differences(settings)}
    probe = copy_probe(profile, settings)
    raised = settings.guards_copies() and config.SELF_MATCH_SHARE > 0
    return (entry | ({"copy_probe": probe} if probe else {})
            | ({"copy_self_match": {"share": config.SELF_MATCH_SHARE}} if raised else {}))


def copy_probe(profile: Profile, settings: TransferSettings) -> dict | None:
    """The copy guard's probe as the gallery's transfers run it (transfer.probe_copies), or None where
    they run none: guarded, and a canvas of the profile's long side (and at least half that on the
    short one) large enough for the probe."""
    if not settings.guards_copies() or config.probe_canvas((profile.long_side, profile.long_side // 2)) is None:
        return None
    return {"evaluations": config.PROBE_STEPS, "scale": config.PROBE_SCALE,
            "canvas_radius": config.CANVAS_RADIUS, "floor": config.CANVAS_FLOOR}


def _jsonable(value):
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value
