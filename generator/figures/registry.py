"""The registry of figure kinds: every module of generator.figures that declares FIGURE, found
by scanning the package, in the build's order (FIGURE.order, then the module's name)."""
from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from types import ModuleType

from . import Figure, FigureDeclarationError, FigureSpec
from .context import RenderContext
from .profiles import PROFILES


@dataclass(frozen=True)
class Kind:
    """A registered kind of figure: its module's name, declaration and functions."""
    name: str
    figure: Figure
    module: ModuleType

    def specs(self, catalog, profile, site_src: Path) -> list[FigureSpec]:
        return [replace(spec, module=self.name) for spec in self.module.specs(catalog, profile, site_src)]

    def render(self, spec: FigureSpec, ctx: RenderContext) -> tuple[dict, dict]:
        """render(), checked against the declaration: a figure cannot publish what it did not declare."""
        files, numbers = self.module.render(spec, ctx)
        faults = self.figure.check_files(files) + self.figure.check_numbers(numbers)
        if faults:
            raise FigureDeclarationError(f"{spec.name}: {'; '.join(faults)} (see FIGURE in {self.module.__name__})")
        return files, numbers


def _check(name: str, module: ModuleType, figure) -> None:
    where = module.__name__.replace(".", "/") + ".py"
    if not isinstance(figure, Figure):
        raise FigureDeclarationError(f"{where}: FIGURE is not a figures.Figure")
    for function in ("specs", "render"):
        if not callable(getattr(module, function, None)):
            raise FigureDeclarationError(f"{where}: no {function}() function")
    if not figure.outputs or not all(isinstance(r, str) for r in figure.outputs):
        raise FigureDeclarationError(f"{where}: FIGURE.outputs must name at least one file role")
    if figure.sizes is not None and set(figure.sizes) != set(PROFILES):
        missing, extra = sorted(set(PROFILES) - set(figure.sizes)), sorted(set(figure.sizes) - set(PROFILES))
        raise FigureDeclarationError(f"{where}: FIGURE.sizes must have a row for every profile "
                                     f"(missing {missing}, unknown {extra})")


def scan(package: str = __package__) -> dict[str, Kind]:
    """Every module of `package` that declares FIGURE, in the build's order. A module with a
    render() but no FIGURE is an error, so a figure cannot silently drop out of the build."""
    found = []
    for info in pkgutil.iter_modules(importlib.import_module(package).__path__):
        module = importlib.import_module(f"{package}.{info.name}")
        figure = getattr(module, "FIGURE", None)
        if figure is None:
            if callable(getattr(module, "render", None)):
                raise FigureDeclarationError(f"{module.__name__.replace('.', '/')}.py: render() but no FIGURE declaration")
            continue
        _check(info.name, module, figure)
        found.append(Kind(info.name, figure, module))
    found.sort(key=lambda k: (k.figure.order, k.name))
    return {k.name: k for k in found}


@lru_cache(maxsize=1)
def registry() -> dict[str, Kind]:
    return scan()


def kind(name: str) -> Kind:
    try:
        return registry()[name]
    except KeyError:
        raise FigureDeclarationError(f"no figure module {name!r} (known: {', '.join(registry())})") from None


def all_specs(catalog, profile, site_src: Path) -> list[FigureSpec]:
    specs = []
    for k in registry().values():
        specs.extend(k.specs(catalog, profile, site_src))
    names = [s.name for s in specs]
    duplicates = {n for n in names if names.count(n) > 1}
    if duplicates:
        raise ValueError(f"duplicate figure names: {sorted(duplicates)}")
    return specs
