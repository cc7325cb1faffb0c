"""The build's manifest, docs/generated/manifest.json, as typed entries: written by the build and
read back here (`load_manifest`) by the build itself and the tests. It is the only thing the pages
know of the build: they read the same JSON as a plain dict through macros/pages.py (its own
`load_manifest`, which checks for `catalog`, `figures` and `hero`; `fig`, `num` and `lookup` for a
page), without importing this module.

Its JSON keys are the pages' names: `hero.content`, `figures[name].numbers`, `.files`, `.profile`,
`.device`, `.seconds` ... Keys are only ever added, never renamed. `profiles` lists the profiles of
the figures present (a better profile's cached figure serves a lesser build, so a preview site may
show full-profile figures): a page states the profile of what it shows from its figures' own
`profile` (macros/pages.py, `made_with`).
"""
from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

from ..common.errors import InputError
from ..common.files import atomic_write_bytes
from ..figures.profiles import PROFILES
from .catalog import Entry


@dataclass(frozen=True)
class Hero:
    """The gallery figure the home page opens with."""
    content: str
    style: str

    @property
    def figure(self) -> str:
        return f"gallery/{self.content}/{self.style}"


HERO = Hero(content="rectoria2", style="starry_night")


@dataclass(frozen=True)
class CatalogItem(Entry):
    """A photo or painting of site_src/catalog.toml (the catalogue's own fields, declared once in
    `catalog.Entry`), with its pixel size when its figure exists. Its `section` is the key it is
    listed under in the manifest, not stored in each item."""
    width: int | None = None
    height: int | None = None

    def to_dict(self) -> dict:
        return {k: v for k, v in super().to_dict().items() if v is not None}


@dataclass(frozen=True)
class FigureEntry:
    numbers: dict                    # what the figure measured, by key (see its module's FIGURE.numbers)
    seconds: float                   # time to compute it
    profile: str                     # the profile that computed it (may be better than the build's)
    device: str
    torch: str
    key: str                         # its cache key
    files: dict                      # role -> path relative to docs/ ("generated/...")
    # The objective whose responses the figure reads (figures.picks.reads): taps, pooling, layers as
    # the paper names them and as the network layer read ("content_reads", "style_reads"), weights,
    # normalisations. Empty for a figure that reads no responses.
    objective: dict = field(default_factory=dict)
    # What each transfer it ran did (figures.context.transfer_plan): {"init", "evaluations", "precision",
    # "precondition", "copy_guard", "stages": [{"width", "height", "evaluations", "painting_long_side"}]},
    # in the order run.
    transfers: list = field(default_factory=list)


@dataclass(frozen=True)
class TimeDependent:
    """What states a measured time: files, and number keys (a figure's `seconds` included)."""
    files: list = field(default_factory=list)
    numbers: list = field(default_factory=list)


@dataclass(frozen=True)
class Manifest:
    profile: str                     # the profile the build was asked for
    hero: Hero
    catalog: dict                    # "content" / "style" -> [CatalogItem]
    figures: dict                    # name -> FigureEntry, sorted by name
    failed: dict                     # name -> one-line reason
    devices: list                    # devices that computed the figures present
    torch_versions: list
    time_dependent: TimeDependent
    device: str                      # `devices` joined by ", " (for a sentence)
    torch: str
    profiles: list = field(default_factory=list)   # profiles of the figures present, lowest rank first
    method: dict = field(default_factory=dict)     # generator.build.method.method_entry: settings vs the paper
    # Every profile's gallery transfer, whatever this build computed: {name: {"long_side", "steps",
    # "scales", "stage_steps"}}, so a page can say what the other versions of the site use.
    profile_budgets: dict = field(default_factory=dict)

    def profiles_of(self, prefix: str = "") -> list[str]:
        """The profiles of the figures whose name starts with `prefix` ("gallery/"), lowest first."""
        return _by_rank({f.profile for name, f in self.figures.items() if name.startswith(prefix)})

    def to_dict(self) -> dict:
        d = {f.name: getattr(self, f.name) for f in fields(self)}
        d["hero"] = asdict(self.hero)
        d["catalog"] = {section: [item.to_dict() for item in items] for section, items in self.catalog.items()}
        d["figures"] = {name: asdict(entry) for name, entry in self.figures.items()}
        d["time_dependent"] = asdict(self.time_dependent)
        return d

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=1, ensure_ascii=False, sort_keys=False) + "\n"


def _by_rank(names) -> list[str]:
    return sorted(names, key=lambda n: (PROFILES[n].rank if n in PROFILES else math.inf, n))


def profile_budgets() -> dict:
    """{profile: its gallery transfer's long side, evaluations, coarse-to-fine scales and the
    evaluations planned at each (for a photo large enough to keep every scale)}."""
    from ..engine.settings import stage_steps

    return {name: {"long_side": p.long_side, "steps": p.steps, "scales": list(p.scales),
                   "stage_steps": stage_steps(p.steps, len(p.scales), p.final_share)}
            for name, p in sorted(PROFILES.items(), key=lambda kv: kv[1].rank)}


def make_manifest(profile: str, catalog: dict, figures: dict, failed: dict, time_dependent: TimeDependent,
                  hero: Hero = HERO, method: dict | None = None) -> Manifest:
    """The manifest of a build: the summaries (devices, torch versions, profiles) from its figures."""
    figures = dict(sorted(figures.items()))
    devices = sorted({f.device for f in figures.values()})
    versions = sorted({f.torch for f in figures.values()})
    return Manifest(profile=profile, hero=hero, catalog=catalog, figures=figures, failed=dict(failed),
                    devices=devices, torch_versions=versions, time_dependent=time_dependent,
                    device=", ".join(devices), torch=", ".join(versions),
                    profiles=_by_rank({f.profile for f in figures.values()}), method=dict(method or {}),
                    profile_budgets=profile_budgets())


def write_manifest(path: Path, manifest: Manifest) -> bool:
    """Write `manifest` to `path` atomically unless it already holds these bytes; True if written."""
    text = manifest.to_json()
    if path.exists() and path.read_text(encoding="utf-8") == text:
        return False
    atomic_write_bytes(path, text.encode("utf-8"))
    return True


def load_manifest(path) -> Manifest:
    """Read a manifest written by the build. Raises InputError naming the file and the fault."""
    path = Path(path)
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(path, "not found (run the build first: python -m generator build)") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(path, f"not a readable manifest ({exc})") from None
    try:
        figures = {name: _entry(FigureEntry, f, f"figures.{name}") for name, f in _mapping(raw, "figures").items()}
        catalog = {section: [_entry(CatalogItem, item, f"catalog.{section}", section=section) for item in items]
                   for section, items in _mapping(raw, "catalog").items()}
        return Manifest(profile=_field(raw, "profile", str), hero=_entry(Hero, raw.get("hero"), "hero"),
                        catalog=catalog, figures=figures, failed=_mapping(raw, "failed"),
                        devices=_field(raw, "devices", list), torch_versions=_field(raw, "torch_versions", list),
                        time_dependent=_entry(TimeDependent, raw.get("time_dependent"), "time_dependent"),
                        device=_field(raw, "device", str), torch=_field(raw, "torch", str),
                        profiles=list(raw.get("profiles") or _by_rank({f.profile for f in figures.values()})),
                        method=dict(raw.get("method") or {}),
                        profile_budgets=dict(raw.get("profile_budgets") or profile_budgets()))
    except _Fault as fault:
        raise InputError(path, str(fault)) from None


class _Fault(ValueError):
    pass


def _field(raw, key: str, kind: type):
    if not isinstance(raw, dict) or key not in raw:
        raise _Fault(f"missing field {key!r}")
    if not isinstance(raw[key], kind):
        raise _Fault(f"field {key!r} is not a {kind.__name__}")
    return raw[key]


def _mapping(raw, key: str) -> dict:
    return _field(raw, key, dict)


def _entry(cls, raw, where: str, **known):
    """A dataclass from its JSON dict and the fields `known` from where it sits: every field without
    a default present, no unknown field."""
    if not isinstance(raw, dict):
        raise _Fault(f"{where} is not an object")
    names = {f.name for f in fields(cls)} - set(known)
    unknown = set(raw) - names
    if unknown:
        raise _Fault(f"{where}: unknown field(s) {sorted(unknown)}")
    try:
        return cls(**raw, **known)
    except TypeError as exc:
        raise _Fault(f"{where}: {exc}") from None
