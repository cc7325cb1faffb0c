"""Figures: one small module per kind, each turning specs into files.

A figure module offers `specs(catalog, profile, site_src) -> list[FigureSpec]` and
`render(spec, ctx) -> (files, numbers)`, where `files` maps a role ("image", "thumb") to a file
it wrote under `ctx.out` and `numbers` holds what it measured, for the manifest and the pages.
Keep torch imports inside `render`: deciding what is stale must not load the model.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from pathlib import Path

# Order of computation; add a module's name here to add its figures to the build.
FIGURE_MODULES = ("catalog_images", "gallery", "vgg_diagram", "feature_maps", "representations", "content_loss",
                  "style_gram", "style_reconstruction", "work_grid", "work_init", "work_colour",
                  "work_blend", "work_optim", "work_animation", "texture_stats", "texture_tv", "limits")


@dataclass(frozen=True)
class FigureSpec:
    name: str                        # unique, path-like: "gallery/rectoria2/starry_night"
    module: str                      # module in generator.figures that renders it
    params: dict = field(default_factory=dict, hash=False)
    inputs: tuple[Path, ...] = ()    # files whose bytes change the result
    heavy: bool = False              # runs the network (for progress reporting)

    @property
    def module_path(self) -> str:
        return f"{__name__}.{self.module}"


@dataclass
class RenderContext:
    out: Path                        # empty folder to write this figure's files into
    device: str = "cpu"
    progress: object = None          # callable(n) advancing a progress bar, or None


def load(module: str):
    return importlib.import_module(f"{__name__}.{module}")


def all_specs(catalog, profile, site_src: Path) -> list[FigureSpec]:
    specs = []
    for module in FIGURE_MODULES:
        specs.extend(load(module).specs(catalog, profile, site_src))
    names = [s.name for s in specs]
    duplicates = {n for n in names if names.count(n) > 1}
    if duplicates:
        raise ValueError(f"duplicate figure names: {sorted(duplicates)}")
    return specs
