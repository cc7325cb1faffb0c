"""Cache keys: every input changes the key; editing a module stales exactly the figures using it."""
import json
import modulefinder
import shutil
import subprocess

import pytest

from generator.build import cache
from generator.build.catalog import load_catalog
from generator.figures.profiles import PROFILES
from generator.figures.registry import all_specs, registry

from helpers import PY, ROOT, subprocess_env

SITE_SRC = ROOT / "site_src"


@pytest.fixture(scope="module")
def specs():
    return all_specs(load_catalog(SITE_SRC), PROFILES["tiny"], SITE_SRC)


@pytest.fixture
def package_copy(tmp_path):
    """A copy of the generator package, to edit without touching the real one."""
    shutil.copytree(ROOT / "generator", tmp_path / "generator",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    return tmp_path / "generator"


def key(spec, package_dir=cache.PACKAGE_DIR, profile="tiny"):
    return cache.figure_key(spec.module, spec.params, profile, spec.inputs, spec.module_path, package_dir)


# --- the key covers every input ------------------------------------------------------------------

def test_key_changes_with_each_input(tmp_path, package_copy):
    a, b = tmp_path / "a.bin", tmp_path / "b.bin"
    a.write_bytes(b"photo")
    b.write_bytes(b"painting")
    module = "generator.figures.gallery"

    def k(kind="gallery", params=None, profile="tiny", inputs=(a, b), package_dir=package_copy):
        return cache.figure_key(kind, params or {"steps": 12, "size": [64, 48]}, profile, inputs, module, package_dir)

    base = k()
    assert k() == base  # stable
    assert k(params={"size": [64, 48], "steps": 12}) == base  # key order does not matter
    variants = {
        "kind": k(kind="photo"),
        "params value": k(params={"steps": 13, "size": [64, 48]}),
        "params list": k(params={"steps": 12, "size": [48, 64]}),
        "profile": k(profile="preview"),
        "input order": k(inputs=(b, a)),
        "fewer inputs": k(inputs=(a,)),
    }
    a.write_bytes(b"photo, edited")
    variants["input bytes"] = k()
    a.write_bytes(b"photo")
    assert k() == base  # same bytes again, same key
    (package_copy / "engine" / "transfer.py").write_text(
        (package_copy / "engine" / "transfer.py").read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
    variants["module source"] = k()
    assert len(set(variants.values()) | {base}) == len(variants) + 1, variants


def test_key_ignores_device_and_file_location(tmp_path):
    a, b = tmp_path / "a.bin", tmp_path / "sub" / "b.bin"
    b.parent.mkdir()
    a.write_bytes(b"same")
    b.write_bytes(b"same")
    m = "generator.figures.catalog_images"
    assert cache.figure_key("photo", {}, "tiny", [a], m) == cache.figure_key("photo", {}, "tiny", [b], m)


# --- closures: which module edits stale which figures --------------------------------------------

def stale_after_edit(specs, package_copy, rel: str) -> set[str]:
    path = package_copy / rel
    before = {s.name: key(s, package_copy) for s in specs}
    original = path.read_bytes()
    path.write_bytes(original + b"\n# an edit that changes nothing but the source\n")
    try:
        after = {s.name: key(s, package_copy) for s in specs}
    finally:
        path.write_bytes(original)
    return {name for name in before if before[name] != after[name]}


def group(specs, *modules) -> set[str]:
    return {s.name for s in specs if s.module in modules}


def reached_by_imports(module: str, package_dir) -> set[str]:
    """The generator modules `module` can import, found by the standard library's modulefinder
    (which reads every import in the bytecode, those inside functions included), not by cache.py."""
    finder = modulefinder.ModuleFinder(path=[str(package_dir.parent)])
    finder.import_hook(module)
    return {name for name in finder.modules if name == "generator" or name.startswith("generator.")}


def test_edit_each_module_stales_its_users(specs, package_copy):
    """Every module: the stale figures are those whose figure module can import it."""
    modules = sorted(p.relative_to(package_copy) for p in package_copy.rglob("*.py"))
    assert len(modules) >= 15
    reached = {m: reached_by_imports(m, package_copy) for m in {s.module_path for s in specs}}
    for rel in modules:
        dotted = "generator." + ".".join(rel.with_suffix("").parts)
        dotted = dotted.removesuffix(".__init__")
        expected = {s.name for s in specs if dotted in reached[s.module_path]}
        assert stale_after_edit(specs, package_copy, str(rel)) == expected, rel


def test_known_closures(specs, package_copy):
    everything = {s.name for s in specs}
    gallery = group(specs, "gallery")
    catalog_images = group(specs, "catalog_images")
    assert gallery and catalog_images and all(n.startswith("gallery/") for n in gallery)
    assert stale_after_edit(specs, package_copy, "figures/gallery.py") == gallery
    assert stale_after_edit(specs, package_copy, "figures/catalog_images.py") == catalog_images
    # the maths stales the transfers, not the resized photos and paintings
    for rel in ("engine/losses.py", "engine/vgg.py", "engine/transfer.py", "engine/settings.py", "figures/context.py"):
        stale = stale_after_edit(specs, package_copy, rel)
        assert gallery <= stale, rel
        assert not stale & catalog_images, rel
    # everything reads images; the package's __init__ files run for every figure
    for rel in ("engine/images.py", "common/errors.py", "__init__.py", "engine/__init__.py", "common/__init__.py",
                "figures/__init__.py"):
        assert stale_after_edit(specs, package_copy, rel) == everything, rel
    # the command line, the build driver and the one-image tool change no figure
    for rel in ("cli/main.py", "build/pipeline.py", "__main__.py", "cli/stylize.py", "cli/add_style.py",
                "build/cache.py", "build/manifest.py", "figures/registry.py"):
        assert stale_after_edit(specs, package_copy, rel) == set(), rel


def test_figures_using_the_context_have_the_engine_in_their_key():
    """A figure reaches the network through its context, not by importing the engine: importing
    RenderContext (render's annotation) is what puts vgg, images and transfer in its key."""
    for name, kind in registry().items():
        source = cache.module_path(kind.module.__name__).read_text(encoding="utf-8")
        closure = cache.module_closure(kind.module.__name__)
        if any(f"ctx.{use}(" in source for use in ("model", "tensor", "run_transfer", "run_batch")):
            assert {"generator.figures.context", "generator.engine.vgg", "generator.engine.transfer",
                    "generator.engine.batched"} <= set(closure), name


def test_closure_handles_relative_and_lazy_imports(tmp_path):
    pkg = tmp_path / "generator"
    (pkg / "figures").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from . import b\n")
    (pkg / "b.py").write_text("import os\n")
    (pkg / "c.py").write_text("x = 1\n")
    (pkg / "unused.py").write_text("")
    (pkg / "figures" / "__init__.py").write_text("")
    (pkg / "figures" / "f.py").write_text("from ..a import thing\n\ndef render():\n    from generator import c\n")
    closure = cache.module_closure("generator.figures.f", pkg)
    assert closure == ("generator", "generator.a", "generator.b", "generator.c",
                       "generator.figures", "generator.figures.f")


def test_closure_covers_what_importing_loads():
    """What `import generator.figures.X` actually loads is inside X's closure (for every figure module)."""
    script = ("import json, sys, importlib\n"
              "loaded = {}\n"
              "for m in sys.argv[1:]:\n"
              "    for n in [n for n in sys.modules if n == 'generator' or n.startswith('generator.')]:\n"
              "        del sys.modules[n]  # each figure module imported afresh, as in its own process\n"
              "    importlib.import_module(m)\n"
              "    loaded[m] = sorted(n for n in sys.modules if n == 'generator' or n.startswith('generator.'))\n"
              "print(json.dumps(loaded))\n")
    modules = [f"generator.figures.{name}" for name in registry()]
    out = subprocess.run([PY, "-c", script, *modules], cwd=ROOT, env=subprocess_env(),
                         capture_output=True, text=True, check=True).stdout
    loaded = json.loads(out)
    assert sorted(loaded) == sorted(modules)
    for module in modules:
        extra = set(loaded[module]) - set(cache.module_closure(module))
        assert not extra, (module, extra)
    assert any(len(found) > 5 for found in loaded.values())  # the modules' imports were seen


def test_deciding_staleness_does_not_import_torch():
    script = ("import sys\n"
              "from pathlib import Path\n"
              "from generator.build import pipeline as build, catalog\n"
              "from generator.figures import profiles as config\n"
              "from generator.figures.registry import all_specs\n"
              "site = Path('site_src')\n"
              "for p in config.PROFILES.values():\n"
              "    for s in all_specs(catalog.load_catalog(site), p, site):\n"
              "        build.keyed(s, p.name)\n"
              "print('torch' in sys.modules)\n")
    out = subprocess.run([PY, "-c", script], cwd=ROOT, env=subprocess_env(), capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"


# --- the store -----------------------------------------------------------------------------------

def test_store_commit_get_discard(tmp_path):
    store = cache.Store(tmp_path / "figures")
    assert store.get("k1") is None
    staging = store.staging()
    (staging / "image.jpg").write_bytes(b"x")
    assert store.get("k1") is None  # nothing visible before the commit
    store.commit(staging, "k1", {"files": {"image": "image.jpg"}})
    assert store.get("k1") == {"files": {"image": "image.jpg"}}
    assert (store.path("k1") / "image.jpg").read_bytes() == b"x"
    failed = store.staging()
    (failed / "half.jpg").write_bytes(b"half")
    store.discard(failed)
    left = store.staging()  # as an interrupted build would leave it
    store.clean_staging()
    assert not left.exists()
    assert sorted(p.name for p in store.root.iterdir()) == ["k1"]


def test_store_ignores_broken_meta(tmp_path):
    store = cache.Store(tmp_path)
    store.path("k").mkdir()
    (store.path("k") / "meta.json").write_text("{half", encoding="utf-8")
    assert store.get("k") is None
