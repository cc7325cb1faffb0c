"""Two CPU builds from the same tree give byte-identical images and pages, except what states a
measured time: the build record, the plots against time (TIME_PLOTS) and the manifest's number keys
that hold seconds. Every other generated image is compared byte for byte, the other images of a
time-dependent figure included.

The second build recomputes one figure of every figure module (each kind of figure's code path),
every time-dependent figure and the hero; DETERMINISM_FULL=1 recomputes all of them instead."""
from __future__ import annotations

import datetime
import gzip
import os
import re
import shutil
import struct
from pathlib import Path

import pytest

from generator.build.catalog import load_catalog
from generator.build.manifest import HERO
from generator.figures import registry
from generator.figures.profiles import get_profile

from conftest import SOURCE_DATE_EPOCH, run_generator, run_mkdocs
from helpers import IMAGE_SUFFIXES, build_record, differences, file_digests, manifest, without_times

# The files whose bytes follow the clock: plots against measured time, by figure and file role.
# A new one must be added here by hand: the test then fails until someone looks at it.
TIME_PLOTS = {"work/optim": ("image",)}


def time_plots(m: dict) -> set[str]:
    """TIME_PLOTS' files (relative to docs/generated); each must be one the manifest says states a time."""
    found = set()
    for name, roles in TIME_PLOTS.items():
        assert name in m["figures"], f"TIME_PLOTS names {name}, which this build does not make"
        for role in roles:
            rel = m["figures"][name]["files"][role]
            assert rel in m["time_dependent"]["files"], rel
            found.add(rel.removeprefix("generated/"))
    return found


def chosen_figures(root: Path, m: dict) -> set[str]:
    """One figure of each module, the time-dependent figures and the hero's transfer."""
    site_src = root / "site_src"
    specs = registry.all_specs(load_catalog(site_src), get_profile(m["profile"]), site_src)
    built = [s for s in specs if s.name in m["figures"]]
    chosen = {next(s.name for s in built if s.module == module)
              for module in {s.module for s in built}}
    time_files = set(m["time_dependent"]["files"])
    chosen |= {name for name, entry in m["figures"].items() if set(entry["files"].values()) & time_files}
    hero = HERO.figure
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
    assert set(build_record(root)["computed"]) == redo
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

    files_a, files_b = file_digests(tiny_site.generated), file_digests(root / "docs" / "generated")
    assert files_a.keys() == files_b.keys()
    clocked = time_plots(a) | {"build-record.json", "manifest.json"}
    different = {rel for rel in files_a if files_a[rel] != files_b[rel]}
    assert different <= clocked, f"differ between two builds: {sorted(different - clocked)}"
    images = [rel for rel in files_a if rel.endswith(IMAGE_SUFFIXES) and rel not in clocked]
    assert any(rel.startswith("gallery/") for rel in images)
    # the images of a time-dependent figure that do not plot time are compared like all the others
    timed = {rel.removeprefix("generated/") for rel in a["time_dependent"]["files"]}
    assert any(rel in timed for rel in images), "no image of a time-dependent figure was compared"


def test_pages_identical(built_site, second_build):
    """Pages are made from docs/ and the manifest, whose only differences are the measured times
    (test above); given the first build's times (its manifest, build record and plots against time,
    and nothing else), the second build's site is byte-identical to the first's, sitemap, search
    index and every other image included. So pages differ only where they state a time."""
    root, _ = second_build
    generated = root / "docs" / "generated"

    assert differences(without_times(manifest(root)), without_times(built_site.manifest)) == []
    for rel in time_plots(built_site.manifest) | {"build-record.json", "manifest.json"}:
        shutil.copyfile(built_site.generated / rel, generated / rel)
    again = run_mkdocs(root)
    assert again.returncode == 0, again.stderr
    site_a, site_b = file_digests(built_site.site_dir), file_digests(root / "site")
    different = sorted(rel for rel in site_a if site_a[rel] != site_b.get(rel))
    assert different == [] and site_a.keys() == site_b.keys()


def test_sitemap_dates_come_from_source_date_epoch(built_site):
    """The sitemap's .gz header time is SOURCE_DATE_EPOCH's day, not today. MkDocs lists pages in
    the sitemap only when mkdocs.yml has a site_url; then each carries that day as its <lastmod>."""
    stamp = datetime.datetime.fromtimestamp(int(SOURCE_DATE_EPOCH), datetime.timezone.utc)
    midnight = stamp.replace(hour=0, minute=0, second=0)
    assert midnight.date() != datetime.date.today()
    sitemap = (built_site.site_dir / "sitemap.xml").read_text(encoding="utf-8")
    pages = re.findall(r"<url>.*?</url>", sitemap, flags=re.S)
    site_url = re.search(r"^site_url:\s*\S", (built_site.root / "mkdocs.yml").read_text(encoding="utf-8"), re.M)
    if site_url:
        dates = [re.findall(r"<lastmod>([^<]+)</lastmod>", page) for page in pages]
        assert len(pages) >= 3 and dates == [[stamp.date().isoformat()]] * len(pages), sitemap
    else:
        assert pages == [], sitemap
    packed = (built_site.site_dir / "sitemap.xml.gz").read_bytes()
    assert struct.unpack("<I", packed[4:8])[0] == int(midnight.timestamp())  # gzip header's mtime
    assert gzip.decompress(packed).decode("utf-8") == sitemap
