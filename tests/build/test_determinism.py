"""Two CPU builds from the same tree give byte-identical images and pages, except what states a
measured time: the build record, the plots against time (TIME_PLOTS) and the manifest's number keys
that hold seconds. Every other generated image is compared byte for byte, the other images of a
time-dependent figure included. The second build (conftest's `second_build`) recomputes every
figure serially; the first (tiny_site) computed them in two worker processes."""
from __future__ import annotations

import datetime
import difflib
import gzip
import hashlib
import re
import shutil
import struct

from helpers import (
    IMAGE_SUFFIXES,
    SOURCE_DATE_EPOCH,
    build_record,
    differences,
    file_digests,
    manifest,
    run_mkdocs,
    without_times,
)

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


def test_generated_files_identical(tiny_site, second_build):
    root = second_build
    a, b = manifest(tiny_site.root), manifest(root)
    assert a["devices"] == b["devices"] == ["cpu"]
    assert "generated/build-record.json" in a["time_dependent"]["files"]
    assert "seconds" in a["time_dependent"]["numbers"]
    assert a["time_dependent"] == b["time_dependent"]
    assert differences(without_times(a), without_times(b)) == []
    assert set(build_record(root)["computed"]) == set(a["figures"])  # every figure recomputed
    assert {n: f["key"] for n, f in b["figures"].items()} == {n: f["key"] for n, f in a["figures"].items()}

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


def test_pages_identical(built_site, second_build, project_copy_factory):
    """Pages are made from docs/ and the manifest, whose only differences are the measured times
    (test above); given the first build's times (its manifest, build record and plots against time,
    and nothing else), the second build's site is byte-identical to the first's, sitemap, search
    index and every other image included. So pages differ only where they state a time."""
    root = project_copy_factory("pages_b", source=second_build, with_build=True)
    generated = root / "docs" / "generated"

    assert differences(without_times(manifest(root)), without_times(built_site.manifest)) == []
    for rel in time_plots(built_site.manifest) | {"build-record.json", "manifest.json"}:
        shutil.copyfile(built_site.generated / rel, generated / rel)
    again = run_mkdocs(root)
    assert again.returncode == 0, again.stderr
    site_a, site_b = file_digests(built_site.site_dir), file_digests(root / "site")
    different = sorted(rel for rel in site_a if site_a[rel] != site_b.get(rel))
    assert site_a.keys() == site_b.keys()
    assert different == [], "\n".join(
        line for rel in different for line in text_diff(built_site.site_dir / rel, root / "site" / rel))


def text_diff(a, b, limit: int = 40) -> list[str]:
    """What differs between two text files, as at most `limit` lines of a unified diff, each inlined
    data: URL replaced by a digest of it (so a differing image shows as a changed digest); for
    other files, one line saying so."""
    if a.suffix not in (".html", ".json", ".xml", ".js", ".css", ".txt"):
        return [f"{a} and {b}: the bytes differ"]

    def lines(path):
        text = path.read_text(encoding="utf-8", errors="replace")
        text = re.sub(r"data:[\w/+.-]+;base64,[A-Za-z0-9+/=]+",
                      lambda m: f"data:<sha256 {hashlib.sha256(m[0].encode()).hexdigest()[:12]}>", text)
        # one tag or one JSON object a line: a minified page or a search index diffs too
        return re.sub(r"(>)\s*(<)|(\})\s*,\s*(\{)", r"\1\3\n\2\4", text).splitlines()

    diff = difflib.unified_diff(lines(a), lines(b), str(a), str(b), n=1, lineterm="")
    return [line[:300] for line in diff][:limit]


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
