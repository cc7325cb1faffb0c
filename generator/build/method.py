"""The manifest's `method` entry: the settings a build's transfers use beside Gatys et al.'s.

The pages render it as "Diferencias con el artículo", so the text follows the defaults; the one
source is `engine.settings.paper_differences(settings)`: {name: {"paper": value, "ours": value, "same": bool}}.
"""
from __future__ import annotations

from ..engine import settings as config
from ..engine.settings import TransferSettings
from ..figures.profiles import Profile


def differences(settings: TransferSettings) -> dict:
    """{name: {"paper", "ours", "same"}} for a transfer with `settings`."""
    return _jsonable(config.paper_differences(settings))


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
