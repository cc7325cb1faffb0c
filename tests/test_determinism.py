"""Two CPU builds from the same tree give byte-identical images and pages, except what states a
measured time, which the manifest lists under "time_dependent" (the build record, plots against
time, and the number keys that hold seconds).

The second build recomputes one figure of every figure module (each kind of figure's code path),
every time-dependent figure and the hero; DETERMINISM_FULL=1 recomputes all of them instead."""
from __future__ import annotations

import datetime
import gzip
import json
import math
import os
import re
import shutil
import struct
from pathlib import Path

import pytest

from conftest import SOURCE_DATE_EPOCH, run_generator, run_mkdocs
from generator import figures
from generator.build import HERO
from generator.catalog import load_catalog
from generator.config import get_profile


def files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def manifest(root: Path) -> dict:
    return json.loads((root / "docs" / "generated" / "manifest.json").read_text(encoding="utf-8"))


def without_times(m: dict) -> dict:
    """The manifest less the numbers that state a measured time."""
    m = json.loads(json.dumps(m))
    keys = set(m["time_dependent"]["numbers"])
    for entry in m["figures"].values():
        for k in keys:
            entry.pop(k, None)
            entry["numbers"].pop(k, None)
    return m


def differences(a, b, path: str = "") -> list[str]:
    """The paths (figures.name.numbers.key) where two JSON values differ, with both values."""
    if isinstance(a, dict) and isinstance(b, dict):
        return [d for k in sorted(set(a) | set(b), key=str)
                for d in differences(a.get(k), b.get(k), f"{path}.{k}" if path else str(k))]
    same = a == b or (isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b))
    return [] if same else [f"{path}: {a!r} != {b!r}"]


def chosen_figures(root: Path, m: dict) -> set[str]:
    """One figure of each module, the time-dependent figures and the hero's transfer."""
    site_src = root / "site_src"
    specs = figures.all_specs(load_catalog(site_src), get_profile(m["profile"]), site_src)
    built = [s for s in specs if s.name in m["figures"]]
    chosen = {next(s.name for s in built if s.module == module)
              for module in {s.module for s in built}}
    time_files = set(m["time_dependent"]["files"])
    chosen |= {name for name, entry in m["figures"].items() if set(entry["files"].values()) & time_files}
    hero = f"gallery/{HERO['content']}/{HERO['style']}"
    if hero in m["figures"]:
        chosen.add(hero)
    return chosen


@pytest.fixture(scope="module")
def second_build(tiny_site, project_copy_factory):
    root = project_copy_factory("determinism_b", source=tiny_site.root, with_build=True)
    m = tiny_site.manifest
    redo = set(m["figures"]) if os.environ.get("DETERMINISM_FULL") else chosen_figures(tiny_site.root, m)
    for name in redo:
        shutil.rmtree(root / ".cache" / "figures" / m["figures"][name]["key"])
    proc = run_generator(root, "build", "--profile", m["profile"], "--quiet", "--device", "cpu")
    assert proc.returncode == 0, proc.stderr
    record = json.loads((root / "docs" / "generated" / "build-record.json").read_text(encoding="utf-8"))
    assert set(record["computed"]) == redo
    return root, redo


def test_generated_files_identical(tiny_site, second_build):
    root, redo = second_build
    a, b = manifest(tiny_site.root), manifest(root)
    assert a["devices"] == b["devices"] == ["cpu"]
    assert "generated/build-record.json" in a["time_dependent"]["files"]
    assert "seconds" in a["time_dependent"]["numbers"]
    assert a["time_dependent"] == b["time_dependent"]
    assert differences(without_times(a), without_times(b)) == []
    for name in redo:  # really recomputed: the measured time differs, the key does not
        assert b["figures"][name]["key"] == a["figures"][name]["key"]

    time_files = {rel.removeprefix("generated/") for rel in a["time_dependent"]["files"]}
    files_a, files_b = files(tiny_site.generated), files(root / "docs" / "generated")
    assert files_a.keys() == files_b.keys()
    different = {rel for rel in files_a if files_a[rel] != files_b[rel]} - {"manifest.json"}
    assert different <= time_files, f"differ between two builds: {sorted(different - time_files)}"
    assert any(rel.split("/")[0] == "gallery" for rel in files_a)


def test_pages_identical(built_site, second_build):
    """Pages are made from docs/ and the manifest, whose only differences are the measured times
    (test above); given the first build's times, the second build's site is byte-identical to the
    first's, sitemap and search index included. So pages differ only where they state a time."""
    root, _ = second_build
    generated = root / "docs" / "generated"
    time_files = {rel.removeprefix("generated/") for rel in built_site.manifest["time_dependent"]["files"]}

    assert differences(without_times(manifest(root)), without_times(built_site.manifest)) == []
    for rel in time_files | {"manifest.json"}:
        shutil.copyfile(built_site.generated / rel, generated / rel)
    again = run_mkdocs(root)
    assert again.returncode == 0, again.stderr
    site_a, site_b = files(built_site.site_dir), files(root / "site")
    different = sorted(rel for rel in site_a if site_a[rel] != site_b.get(rel))
    assert different == [] and site_a.keys() == site_b.keys()


def test_sitemap_dates_come_from_source_date_epoch(built_site):
    """The sitemap's dates (and its .gz header's time) are SOURCE_DATE_EPOCH's day, not today."""
    stamp = datetime.datetime.fromtimestamp(int(SOURCE_DATE_EPOCH), datetime.timezone.utc)
    midnight = stamp.replace(hour=0, minute=0, second=0)
    assert midnight.date() != datetime.date.today()
    sitemap = (built_site.site_dir / "sitemap.xml").read_text(encoding="utf-8")
    assert set(re.findall(r"<lastmod>([^<]+)</lastmod>", sitemap)) <= {stamp.date().isoformat()}
    packed = (built_site.site_dir / "sitemap.xml.gz").read_bytes()
    assert struct.unpack("<I", packed[4:8])[0] == int(midnight.timestamp())  # gzip header's mtime
    assert gzip.decompress(packed).decode("utf-8") == sitemap
