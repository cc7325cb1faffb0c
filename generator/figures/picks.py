"""Helpers shared by the style_* and work_* figure modules: which images, which settings."""
from __future__ import annotations

from ..engine.settings import TransferSettings

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


def settings(d: dict) -> TransferSettings:
    """TransferSettings from a JSON-style dict (lists back to tuples)."""
    return TransferSettings(**{k: tuple(v) if isinstance(v, list) else v for k, v in d.items()})

