"""The build end to end, on the tiny profile in copies of the project: summary, no-op rebuild,
determinism, the gallery following the catalogue, and one bad painting costing only its figures."""
import shutil
import tomllib

import numpy as np
from PIL import Image

from helpers import SUMMARY, append_painting, cache_entries, manifest, run_generator
from helpers import build_record as record


def summary(proc) -> tuple[int, int, int]:
    lines = proc.stdout.strip().splitlines()
    assert len(lines) == 1, proc.stdout
    match = SUMMARY.match(lines[0])
    assert match, lines[0]
    return tuple(int(g) for g in match.groups()[:3])


def catalog(root):
    return tomllib.loads((root / "site_src" / "catalog.toml").read_text(encoding="utf-8"))


def smooth_painting(path, w=90, h=70):
    y, x = np.mgrid[0:h, 0:w]
    arr = np.stack([(x * 255 // w), (y * 255 // h), ((x // 10 + y // 10) % 2) * 255], -1).astype(np.uint8)
    Image.fromarray(arr, "RGB").save(path, quality=95)


# --- the first build -----------------------------------------------------------------------------

def test_first_build_summary(tiny_site):
    computed, reused, failed = summary(tiny_site.build)
    assert tiny_site.build.returncode == 0
    assert (reused, failed) == (0, 0)
    assert computed == len(tiny_site.manifest["figures"]) > 0
    assert "Traceback" not in tiny_site.build.stderr
    assert tiny_site.manifest["failed"] == {}
    assert tiny_site.manifest["profile"] == "tiny"


def test_manifest_lists_every_photo_and_painting(tiny_site):
    cat = catalog(tiny_site.root)
    figures = tiny_site.manifest["figures"]
    photos, paintings = [e["name"] for e in cat["content"]], [e["name"] for e in cat["style"]]
    assert [e["name"] for e in tiny_site.manifest["catalog"]["content"]] == photos
    assert [e["name"] for e in tiny_site.manifest["catalog"]["style"]] == paintings
    for name in photos + paintings:
        kind = "photo" if name in photos else "painting"
        assert f"{kind}/{name}" in figures
    for photo in photos:
        for painting in paintings:
            fig = figures[f"gallery/{photo}/{painting}"]
            assert set(fig["files"]) >= {"image", "photo", "thumb"}
            for rel in fig["files"].values():
                assert (tiny_site.root / "docs" / rel).is_file(), rel
            assert np.isfinite(fig["numbers"]["final_loss"])
            assert fig["numbers"]["evaluations"] >= 12  # the tiny profile's budget
            assert fig["profile"] == "tiny" and fig["device"] == "cpu"


def test_gallery_images_are_transfers(tiny_site):
    """Each result has the photo's size, differs from the photo, and differs per painting."""
    figures = tiny_site.manifest["figures"]
    photo = tiny_site.manifest["catalog"]["content"][0]["name"]
    results = []
    for painting in (e["name"] for e in tiny_site.manifest["catalog"]["style"]):
        files = figures[f"gallery/{photo}/{painting}"]["files"]
        image = Image.open(tiny_site.root / "docs" / files["image"])
        shown = Image.open(tiny_site.root / "docs" / files["photo"])
        assert image.size == shown.size and max(image.size) == 64
        a, b = np.asarray(image, dtype=float), np.asarray(shown, dtype=float)
        assert np.abs(a - b).mean() > 3.0  # the paint moved the pixels
        results.append(a)
    for i in range(len(results) - 1):
        assert np.abs(results[i] - results[i + 1]).mean() > 1.0


def test_noop_rebuild_is_quick(tiny_site, project_copy_factory):
    """Nothing recomputed, nothing rewritten, and torch never imported (what keeps it quick; its
    time is the benchmark's business, not a test's)."""
    # A copy holding the first build's tree, cache and outputs (times kept): tiny_site stays as built.
    root = project_copy_factory("noop", source=tiny_site.root, with_build=True)
    generated = root / "docs" / "generated"
    before = {p: p.stat().st_mtime_ns for p in generated.rglob("*") if p.is_file()}
    manifest_bytes = (generated / "manifest.json").read_bytes()
    proc = run_generator(root, "build", "--profile", "tiny", "--quiet", env={"PYTHONPROFILEIMPORTTIME": "1"})
    assert proc.returncode == 0, proc.stderr
    assert summary(proc) == (0, len(tiny_site.manifest["figures"]), 0)
    imported = {line.rsplit("|", 1)[1].strip() for line in proc.stderr.splitlines()
                if line.startswith("import time:")}
    assert "generator.build.pipeline" in imported and "torch" not in imported
    assert (generated / "manifest.json").read_bytes() == manifest_bytes
    after = {p: p.stat().st_mtime_ns for p in generated.rglob("*") if p.is_file()}
    changed = {p.name for p in before if after.get(p) != before[p]}
    assert changed <= {"build-record.json"} and set(after) == set(before)


# --- the catalogue changes -----------------------------------------------------------------------

def test_add_style_computes_only_the_new_painting(tiny_site, project_copy_factory, tmp_path):
    root = project_copy_factory("add_style", source=tiny_site.root, with_build=True)
    image = tmp_path / "Nuevo cuadro.jpg"
    smooth_painting(image)
    proc = run_generator(root, "add-style", image, "--title", "Un cuadro <nuevo>", "--artist", "Alguien",
                         "--year", "c. 1900", "--name", "nuevo")
    assert proc.returncode == 0, proc.stderr
    assert (root / "site_src" / "styles" / "nuevo.jpg").read_bytes() == image.read_bytes()
    entry = catalog(root)["style"][-1]
    assert entry == {"name": "nuevo", "file": "styles/nuevo.jpg", "title": "Un cuadro <nuevo>",
                     "artist": "Alguien", "year": "c. 1900"}

    build = run_generator(root, "build", "--profile", "tiny", "--quiet")
    assert build.returncode == 0, build.stderr
    photos = [e["name"] for e in catalog(root)["content"]]
    expected = {"painting/nuevo", "live/painting/nuevo"} | {f"{kind}/{p}/nuevo" for p in photos
                                                            for kind in ("gallery", "fast/arbitrary")}
    computed, reused, failed = summary(build)
    assert (computed, failed) == (len(expected), 0)
    assert set(record(root)["computed"]) == expected
    assert reused == len(tiny_site.manifest["figures"])
    figures = manifest(root)["figures"]
    assert expected <= set(figures)
    for name in expected:
        for rel in figures[name]["files"].values():
            assert (root / "docs" / rel).is_file()
    assert manifest(root)["catalog"]["style"][-1]["name"] == "nuevo"


def test_removed_painting_disappears(tiny_site, project_copy_factory):
    root = project_copy_factory("remove", source=tiny_site.root, with_build=True)
    path = root / "site_src" / "catalog.toml"
    gone = "the_scream"
    text = path.read_text(encoding="utf-8")
    blocks = text.split("\n[[")
    kept = [b for b in blocks if f'name = "{gone}"' not in b]
    assert len(kept) == len(blocks) - 1
    path.write_text("\n[[".join(kept), encoding="utf-8")
    assert (root / "docs" / "generated" / "painting" / gone).is_dir()

    build = run_generator(root, "build", "--profile", "tiny", "--quiet")
    assert build.returncode == 0, build.stderr
    computed, _, failed = summary(build)
    assert (computed, failed) == (0, 0)
    m = manifest(root)
    assert not [n for n in m["figures"] if gone in n.split("/")]
    assert gone not in [e["name"] for e in m["catalog"]["style"]]
    assert not [p for p in (root / "docs" / "generated").rglob("*") if gone in p.relative_to(root).parts]
    assert "gallery/rectoria/starry_night" in m["figures"]


def test_bad_painting_fails_only_its_figures(tiny_site, project_copy_factory):
    root = project_copy_factory("bad_painting", source=tiny_site.root, with_build=True)
    # One healthy figure loses its cache entry, so it must be computed in the same run as the failures.
    redo = "gallery/rectoria2/starry_night"
    old_key = tiny_site.manifest["figures"][redo]["key"]
    shutil.rmtree(root / ".cache" / "figures" / old_key)
    entries_before = cache_entries(root)
    assert redo not in entries_before
    (root / "site_src" / "styles" / "roto.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg" * 10)
    append_painting(root, "roto", "styles/roto.jpg")

    build = run_generator(root, "build", "--profile", "tiny", "--quiet")
    assert build.returncode != 0
    photos = [e["name"] for e in catalog(root)["content"]]
    # the trained network's figure of each new pair reads the gallery's result, so it fails with it
    bad = {"painting/roto", "live/painting/roto"} | {f"{kind}/{p}/roto" for p in photos
                                                     for kind in ("gallery", "fast/arbitrary")}
    computed, reused, failed = summary(build)
    assert (computed, failed) == (1, len(bad))
    assert reused == len(tiny_site.manifest["figures"]) - 1
    assert "Traceback" not in build.stderr
    # one line for the bad file (the same fault is not repeated for each of its figures)
    errors = [line for line in build.stderr.splitlines() if line.strip()]
    assert len(errors) == 1, build.stderr
    assert errors[0].startswith("error: ") and "styles/roto.jpg" in errors[0]
    assert set(record(root)["computed"]) == {redo}

    m = manifest(root)
    assert set(m["failed"]) == bad
    assert not bad & set(m["figures"])
    assert m["figures"][redo]["key"] == old_key
    assert (root / "docs" / m["figures"][redo]["files"]["image"]).is_file()
    # the recomputed figure is cached; nothing was cached or left half-made for the failed ones
    entries = cache_entries(root)
    assert entries.keys() == entries_before.keys() | {redo} and entries[redo]["key"] == old_key
    assert not list((root / ".cache").rglob(".staging-*"))
    assert not (root / "docs" / "generated" / "painting" / "roto").exists()
    assert not list((root / "docs" / "generated").rglob("*.tmp"))


def test_manifest_follows_its_schema_and_the_declarations(tiny_site):
    """The published manifest reads back through load_manifest; each figure publishes exactly the
    file roles and numbers its kind declares, and states its profile; the hero is in it."""
    from generator.build.catalog import load_catalog
    from generator.build.manifest import HERO, load_manifest
    from generator.figures.profiles import PROFILES
    from generator.figures.registry import all_specs, registry

    m = load_manifest(tiny_site.generated / "manifest.json")
    assert m.profiles == ["tiny"] and m.profiles_of("gallery/") == ["tiny"]
    assert HERO.figure in m.figures and m.hero == HERO
    site_src = tiny_site.root / "site_src"
    specs = {s.name: s for s in all_specs(load_catalog(site_src), PROFILES["tiny"], site_src)}
    assert set(m.figures) == set(specs)
    for name, fig in m.figures.items():
        declared = registry()[specs[name].module].figure
        assert declared.check_files(fig.files) == [], name
        assert declared.check_numbers(fig.numbers) == [], name
        assert fig.profile == "tiny"
