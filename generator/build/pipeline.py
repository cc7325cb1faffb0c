"""The build: decide which figures are stale, compute them, publish docs/generated/ and the manifest.

A figure that reads another figure's published file (figures/upstream.py) is settled after all the
others, with that figure's cached file appended to its inputs (so its key covers those bytes).

With GENERATOR_TRACE=1 in the environment the process computing a figure prints `start: <name>` to
stderr first, so a watcher knows when a figure is under way. Measured times are marked for reproducibility checks: a
number named `seconds` or `*_seconds` states a time, and a figure whose files show one (a plot
against time) returns `numbers["time_dependent"] = True`; the manifest lists both under
"time_dependent", with the build record. Everything else is byte-identical between two builds.
"""
from __future__ import annotations

import fcntl
import fnmatch
import json
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Callable

from ..common.errors import InputError
from ..common.files import atomic_write_bytes
from ..common.paths import Paths
from ..engine.device import check_device, resolve_device
from ..figures import upstream
from ..figures.profiles import PROFILES, Profile, get_profile
from ..figures.registry import all_specs
from . import cache, workers
from .catalog import load_catalog
from .manifest import HERO, CatalogItem, FigureEntry, TimeDependent, load_manifest, make_manifest, write_manifest
from .method import method_entry

BUILD_RECORD = "build-record.json"


@dataclass
class BuildReport:
    computed: list[str] = field(default_factory=list)
    reused: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0
    on_figure: Callable[[str, str, object], None] | None = field(default=None, repr=False)

    def summary(self) -> str:
        return (f"build: {len(self.computed)} computed, {len(self.reused)} reused, "
                f"{len(self.failed)} failed in {self.seconds:.1f} s")

    def fail(self, name: str, message: str, log) -> None:
        """Record a failed figure; a fault already reported (the same bad file) is not repeated."""
        if message not in self.failed.values():
            log(f"error: {name}: {message}")
        self.failed[name] = message
        self.tell(name, "failed", message)

    def tell(self, name: str, status: str, detail=None) -> None:
        """Tell the listener (the command line's log) what became of a figure: computed
        (detail: seconds), reused, or failed (detail: why)."""
        if self.on_figure is not None:
            self.on_figure(name, status, detail)


@dataclass
class BuildRun:
    """What computing a build's stale figures reads and writes, made once and passed along."""
    store: cache.Store
    profile: Profile
    device: str | None         # resolved (cpu, cuda, cuda:1, ...) when the first stale figure is computed
    report: BuildReport        # filled in as figures are settled
    entries: dict              # figure name -> (key, stored meta), filled in as figures are committed
    log: Callable[[str], None]
    progress_factory: Callable | None = None  # spec -> a progress bar (update, close), or None
    jobs: int = 1
    previous: dict[str, float] = field(default_factory=dict)  # the last build's seconds per figure

    @cached_property
    def versions(self) -> dict:
        """What each computed figure's meta records about how it was made."""
        import torch

        return {"profile": self.profile.name, "device": self.device, "torch": torch.__version__}


class BuildLocked(InputError):
    pass


@contextmanager
def build_lock(path: Path):
    """An OS lock that dies with its process: a second build in the same tree stops at once."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise BuildLocked(path, "another build is running in this tree; wait for it to finish") from None
        yield


def keyed(spec, profile_name: str) -> str:
    for path in map(Path, spec.inputs):
        if not path.exists():
            raise InputError(path, "file not found")
        if not path.is_file():
            raise InputError(path, "not a regular file (a directory?)")
    try:
        return cache.figure_key(spec.module, spec.params, profile_name, spec.inputs, spec.module_path)
    except OSError as exc:
        raise InputError(exc.filename or spec.name, f"cannot be read ({exc.strerror or exc})") from None


def find_cached(store, profile, spec_by_profile) -> tuple[str, dict] | None:
    """The best cached entry for a figure: a better profile's result serves a lesser build."""
    for candidate in sorted(PROFILES.values(), key=lambda p: -p.rank):
        if candidate.rank < profile.rank:
            break
        spec = spec_by_profile(candidate)
        if spec is None:
            continue
        key = keyed(spec, candidate.name)
        meta = store.get(key)
        if meta is not None:
            return key, meta
    return None


def run_build(profile_name: str, device: str = "auto", only: str | None = None, force: bool = False,
              paths: Paths | None = None, log=print, progress_factory=None, jobs: int = 1,
              on_figure=None) -> BuildReport:
    """Build every figure of the profile, the stale ones on `jobs` processes; returns the report.
    `on_figure(name, status, detail)` hears of each figure as it is settled (BuildReport.tell).
    Raises InputError for a bad catalogue."""
    paths = paths or Paths()
    start = time.perf_counter()
    profile = get_profile(profile_name)
    check_device(device)
    with build_lock(paths.lock):
        catalog = load_catalog(paths.site_src)
        store = cache.Store(paths.store)
        store.clean_staging()
        specs = all_specs(catalog, profile, paths.site_src)
        other_specs = {}  # profile name -> {figure name: spec}, built lazily

        def spec_for(name):
            def lookup(candidate):
                if candidate.name == profile.name:
                    return by_name[name]
                if candidate.name not in other_specs:
                    other_specs[candidate.name] = {s.name: s for s in all_specs(catalog, candidate, paths.site_src)}
                return other_specs[candidate.name].get(name)
            return lookup

        by_name = {s.name: s for s in specs}
        report, entries = BuildReport(on_figure=on_figure), {}
        run = BuildRun(store, profile, None, report, entries, log, progress_factory, jobs,
                       previous_seconds(paths.generated) if jobs > 1 else {})
        # Figures that read another figure's file (figures/upstream.py) are settled after all the
        # others, and `--only` on one of them also computes the figures it reads when they are
        # stale (`--force` recomputes only what --only names).
        readers = [s for s in specs if upstream.wanted(s)]
        needed = {name for s in readers if _selected(s.name, only) for name in upstream.figures(s)}
        for group in ([s for s in specs if not upstream.wanted(s)], readers):
            stale = []
            for spec in group:
                named = _selected(spec.name, only)
                selected = named or spec.name in needed
                try:
                    spec = _resolved(spec, store, entries, report.failed)
                    hit = None if force and named else find_cached(
                        store, profile, _resolving(spec_for(spec.name), store, entries))
                except InputError as exc:  # a missing or unreadable input fails its figures only
                    if selected:
                        report.fail(spec.name, str(exc), log)
                    continue
                if hit:
                    entries[spec.name] = (hit[0], hit[1])
                    report.reused.append(spec.name)
                    report.tell(spec.name, "reused")
                elif selected:
                    stale.append(spec)
            if stale:
                run.device = run.device or resolve_device(device)
                _compute(run, stale)
        publish(paths, store, catalog, profile, entries, report)
        report.seconds = time.perf_counter() - start
        record = {"profile": profile.name, "computed": report.computed, "failed": report.failed,
                  "reused": len(report.reused), "seconds": round(report.seconds, 3)}
        atomic_write_bytes(paths.generated / BUILD_RECORD, json.dumps(record, indent=1).encode())
        return report


class UpstreamFailed(InputError):
    """A figure read by another failed: the reader fails with the very same one-line message, so the
    fault is reported once (BuildReport.fail)."""

    def __init__(self, message: str):
        Exception.__init__(self, message)
        self.where, self.fault = "", message


def _resolved(spec, store, entries: dict, failed: dict | None = None):
    """`spec` with the files it reads from other figures (figures/upstream.py) appended to its
    inputs: those figures' cached files as this build has them."""
    def find(name: str, role: str) -> Path:
        if name in (failed or {}):
            raise UpstreamFailed(failed[name])
        if name not in entries:
            raise InputError(name, "not in this build (it failed, or it is not cached and --only left it out)")
        key, meta = entries[name]
        if role not in meta["files"]:
            raise InputError(name, f"has no file {role!r}")
        return store.path(key) / meta["files"][role]

    return upstream.resolved(spec, find)


def _resolving(lookup, store, entries: dict):
    """find_cached's spec lookup, each profile's spec resolved as `_resolved` does."""
    def resolved_lookup(candidate):
        spec = lookup(candidate)
        return None if spec is None else _resolved(spec, store, entries)
    return resolved_lookup


def _selected(name: str, only: str | None) -> bool:
    return only is None or name == only or name.startswith(only.rstrip("/") + "/") or fnmatch.fnmatch(name, only)


def _compute(run: BuildRun, stale) -> None:
    if run.jobs > 1 and len(stale) > 1:
        _compute_parallel(run, stale)
        return
    for spec in stale:
        key = keyed(spec, run.profile.name)  # the inputs as they were when the figure started
        staging = run.store.staging()
        bar = None
        try:  # from here on, any interruption discards the staging folder
            bar = run.progress_factory(spec) if run.progress_factory else None
            outcome = workers.outcome(spec, staging, run.device, bar.update if bar is not None else None)
        except BaseException:
            run.store.discard(staging)
            raise
        finally:
            if bar is not None:
                bar.close()
        _settle(run, spec, key, staging, outcome)


def _compute_parallel(run: BuildRun, stale) -> None:
    """The stale figures on `run.jobs` worker processes, longest first (by the last build's times);
    each result is committed as it arrives, and an interruption discards what is unfinished."""
    import torch

    order = sorted(stale, key=lambda spec: -run.previous.get(spec.name, 1e6 if spec.heavy else 0.0))
    by_name = {spec.name: spec for spec in order}
    keys = {spec.name: keyed(spec, run.profile.name) for spec in order}
    staging = {spec.name: run.store.staging() for spec in order}
    pool = workers.FigurePool(min(run.jobs, len(order)), torch.get_num_threads())
    done_before = len(run.report.computed)   # an earlier group's figures keep their place
    finished = False
    try:
        for name, outcome in pool.outcomes([(spec, staging[spec.name], run.device) for spec in order]):
            _settle(run, by_name[name], keys[name], staging.pop(name), outcome)
        finished = True
    finally:
        pool.close(finished)
        for folder in staging.values():
            run.store.discard(folder)
    names = [spec.name for spec in stale]
    run.report.computed[done_before:] = sorted(run.report.computed[done_before:], key=names.index)


def _settle(run: BuildRun, spec, key: str, staging: Path, outcome) -> None:
    """Commit a rendered figure, or discard its staging folder and record why it failed."""
    kind, *rest = outcome
    if kind == "ok":
        _commit(run, spec, key, staging, *rest)
    else:
        run.store.discard(staging)
        run.report.fail(spec.name, rest[0], run.log)


def _commit(run: BuildRun, spec, key: str, staging: Path, files, numbers, seconds, transfers) -> None:
    time_dependent = bool(numbers.pop("time_dependent", False))
    objectives = [t.pop("objective") for t in transfers if "objective" in t]
    meta = dict(run.versions, files=files, numbers=numbers, seconds=round(seconds, 3),
                name=spec.name, key=key, time_dependent=time_dependent,
                objective=figure_objective(spec, objectives), transfers=transfers)
    try:
        run.store.commit(staging, key, meta)
    except BaseException:
        run.store.discard(staging)
        raise
    run.entries[spec.name] = (key, run.store.get(key))  # as stored, so a later no-op build publishes the same bytes
    run.report.computed.append(spec.name)
    run.report.tell(spec.name, "computed", seconds)


def figure_objective(spec, ran: list[dict] | None = None) -> dict:
    """What the manifest records of the objective a figure read: merged from the transfers it ran
    (`ran`: their picks.reads), else from its params (figures.picks.figure_reads)."""
    from ..figures.picks import figure_reads, merged_reads

    return merged_reads(ran) if ran else figure_reads(spec.params)


def previous_seconds(generated: Path) -> dict[str, float]:
    """Each figure's time in the last published build (to schedule the longest first)."""
    try:
        return {name: float(fig.seconds) for name, fig in load_manifest(generated / "manifest.json").figures.items()}
    except (InputError, ValueError, TypeError):
        return {}


def publish(paths: Paths, store, catalog, profile, entries: dict, report: BuildReport) -> None:
    """Make docs/generated/ hold exactly the current figures, then write the manifest."""
    out = paths.generated
    wanted: dict[Path, Path] = {}
    published: dict[str, FigureEntry] = {}
    for name, (key, meta) in entries.items():
        files = {}
        for role, filename in meta["files"].items():
            target = out / name / filename
            wanted[target] = store.path(key) / filename
            files[role] = target.relative_to(out.parent).as_posix()
        published[name] = FigureEntry(**{k: meta[k] for k in ("numbers", "seconds", "profile", "device", "torch",
                                                               "key")}, files=files,
                                     objective=meta.get("objective", {}), transfers=meta.get("transfers", []))
    for target, source in wanted.items():
        data = source.read_bytes()
        if not target.exists() or target.read_bytes() != data:
            atomic_write_bytes(target, data)
    _remove_unwanted(out, set(wanted) | {out / "manifest.json", out / BUILD_RECORD})
    catalog_items = {section: [_catalog_item(e, entries) for e in getattr(catalog, section)]
                     for section in ("content", "style")}
    write_manifest(out / "manifest.json", make_manifest(profile.name, catalog_items, published, report.failed,
                                                        time_dependent(out, entries, published), hero=HERO,
                                                        method=method_entry(profile, gallery_transfers(published))))


def gallery_transfers(published: dict[str, FigureEntry]) -> list[dict]:
    """The transfers the published gallery figures record (their precision decides the method's)."""
    return [t for name, entry in published.items() if name.startswith("gallery/") for t in entry.transfers]


def time_dependent(out: Path, entries: dict, published: dict[str, FigureEntry]) -> TimeDependent:
    """What states a measured time: files (the build record, the manifest itself, time plots) and
    the number keys holding seconds (the manifest's only differences between two builds)."""
    files = [f"{out.name}/{BUILD_RECORD}", f"{out.name}/manifest.json"]
    for name, (_, meta) in sorted(entries.items()):
        if meta.get("time_dependent"):
            files.extend(sorted(published[name].files.values()))
    keys = {"seconds"} | {k for f in published.values() for k in f.numbers if k.endswith("_seconds")}
    return TimeDependent(files=files, numbers=sorted(keys))


def _catalog_item(entry, entries) -> CatalogItem:
    kind = "photo" if entry.section == "content" else "painting"
    meta = entries.get(f"{kind}/{entry.name}")
    size = {"width": meta[1]["numbers"]["width"], "height": meta[1]["numbers"]["height"]} if meta else {}
    return CatalogItem(**entry.to_dict(), section=entry.section, **size)


def _remove_unwanted(out: Path, keep: set[Path]) -> None:
    if not out.exists():
        return
    for path in sorted(out.rglob("*"), reverse=True):
        if path.is_file() and path not in keep:
            path.unlink()
        elif path.is_dir() and not any(path.iterdir()):
            path.rmdir()
