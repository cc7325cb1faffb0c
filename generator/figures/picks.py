"""Helpers shared by the style_* and work_* figure modules: which images, which settings."""
from __future__ import annotations

from ..config import TransferSettings

PHOTO = "rectoria2"
PAINTING = "starry_night"
SECOND_PAINTING = "great_wave"


def pick(entries, name: str, fallback: int = 0):
    """The catalogue entry called `name`, else the entry at `fallback` (or the first)."""
    for entry in entries:
        if entry.name == name:
            return entry
    return entries[min(fallback, len(entries) - 1)]


def photo(catalog):
    return pick(catalog.content, PHOTO)


def painting(catalog):
    return pick(catalog.style, PAINTING)


def second_painting(catalog):
    first = painting(catalog)
    other = [e for e in catalog.style if e.name != first.name]
    return pick(other, SECOND_PAINTING) if other else first


def for_profile(table: dict, profile) -> dict:
    """A module's per-profile sizes: the profile's own row, else the preview row."""
    return dict(table.get(profile.name, table["preview"]))


def settings(d: dict) -> TransferSettings:
    """TransferSettings from a JSON-style dict (lists back to tuples)."""
    return TransferSettings(**{k: tuple(v) if isinstance(v, list) else v for k, v in d.items()})


def run(content, styles, settings, size, ctx):
    """run_transfer, refusing a result whose loss is not finite (a diverged optimisation must fail
    its figure, not publish a blank image)."""
    import math

    from ..transfer import run_transfer

    result = run_transfer(content, styles, settings, size, ctx.device, ctx.progress)
    bad = [h["evaluation"] for h in result.history if not math.isfinite(h["total"])]
    if bad:
        raise RuntimeError(f"the optimisation diverged (loss not finite from evaluation {bad[0]})")
    return result
