"""Figures that read another figure's published file (generator/figures/upstream.py; the fast
networks' figure reads the gallery's Gatys result): the reader's key follows the bytes it reads, the
build settles readers after the figures they read, `--only` on a reader computes what it reads, and
a reader whose upstream is missing fails alone with one line. Builds run main() in this process."""
from __future__ import annotations

import pytest

from generator.build import cache
from generator.common.errors import InputError
from generator.figures import FigureSpec, upstream
from generator.figures.registry import kind

from helpers import assert_nothing_partial, build_record, cache_entries, manifest, run_cli, trim_catalog

READER = "fast_arbitrary"


def reader_spec(photo, declared=None) -> FigureSpec:
    return FigureSpec(name="fast/arbitrary/p/a", module=READER, inputs=(photo,),
                      params={upstream.KEY: declared or upstream.declare(gatys="gallery/p/a:image")})


def test_a_readers_key_follows_the_bytes_it_reads(tmp_path):
    photo, read = tmp_path / "photo.jpg", tmp_path / "image.jpg"
    photo.write_bytes(b"photo")
    read.write_bytes(b"result")
    spec = reader_spec(photo)

    def key(s):
        return cache.figure_key(s.module, s.params, "tiny", s.inputs, s.module_path)

    resolved = upstream.resolved(spec, lambda name, role: read)
    assert resolved.inputs == (photo, read)
    first = key(resolved)
    assert key(upstream.resolved(spec, lambda name, role: read)) == first
    read.write_bytes(b"another result")
    assert key(upstream.resolved(spec, lambda name, role: read)) != first
    assert key(spec) != first   # unresolved: the reader's own inputs only


def test_a_reader_takes_its_files_back_by_role(tmp_path):
    spec = reader_spec(tmp_path / "photo.jpg")
    assert upstream.wanted(spec) == {"gatys": ("gallery/p/a", "image")}
    assert upstream.figures(spec) == {"gallery/p/a"}
    resolved = upstream.resolved(spec, lambda name, role: tmp_path / f"{role}.jpg")
    assert upstream.files(resolved, own=1) == {"gatys": tmp_path / "image.jpg"}
    with pytest.raises(InputError, match=r"fast/arbitrary/p/a: reads gallery/p/a:image, which the build did not"):
        upstream.files(spec, own=1)
    with pytest.raises(ValueError, match="not 'figure/name:file role'"):
        upstream.declare(gatys="gallery/p/a")


@pytest.fixture
def one_pair(project_copy_factory):
    root = project_copy_factory("upstream")
    kept = trim_catalog(root, content=1, styles=1)
    return root, kept["content"][0]["name"], kept["style"][0]["name"]


def test_only_a_reader_computes_what_it_reads_first(one_pair):
    root, photo, painting = one_pair
    reader, read = f"fast/arbitrary/{photo}/{painting}", f"gallery/{photo}/{painting}"
    code, _, err = run_cli(["build", "--profile", "tiny", "--quiet", "--only", reader], root)
    assert code == 0, err
    assert build_record(root)["computed"] == [read, reader]
    figures = manifest(root)["figures"]
    assert {read, reader} <= set(figures)
    assert figures[reader]["numbers"]["width"] == figures[read]["numbers"]["width"]
    code, _, err = run_cli(["build", "--profile", "tiny", "--quiet", "--only", reader], root)
    assert code == 0 and build_record(root)["computed"] == [], err
    # --force recomputes what --only names, never the figures it reads
    code, _, err = run_cli(["build", "--profile", "tiny", "--quiet", "--force", "--only", reader], root)
    assert code == 0 and build_record(root)["computed"] == [reader], err


def test_a_reader_whose_upstream_failed_fails_with_the_same_line(one_pair, monkeypatch):
    """The fault is reported once: the reader fails with its upstream's own message, and neither
    leaves a cache entry or a published file."""
    root, photo, painting = one_pair
    reader, read = f"fast/arbitrary/{photo}/{painting}", f"gallery/{photo}/{painting}"

    def broken(spec, ctx):
        raise InputError(spec.inputs[1], "a painting this test breaks")

    monkeypatch.setattr(kind("gallery").module, "render", broken)
    code, _, err = run_cli(["build", "--profile", "tiny", "--quiet", "--only", reader], root)
    assert code == 1 and "Traceback" not in err
    (line,) = err.splitlines()
    assert line.startswith(f"error: {read}: ") and "a painting this test breaks" in line
    failed = manifest(root)["failed"]
    assert set(failed) == {read, reader} and failed[reader] == failed[read]
    assert not {read, reader} & set(cache_entries(root))
    assert not (root / "docs" / "generated" / "fast").exists()
    assert_nothing_partial(root)


def test_a_reader_whose_upstream_is_not_in_the_build_is_told_which(tmp_path):
    from generator.build.cache import Store
    from generator.build.pipeline import _resolved

    spec = reader_spec(tmp_path / "photo.jpg")
    with pytest.raises(InputError, match=r"^gallery/p/a: not in this build \(it failed, or it is not cached"):
        _resolved(spec, Store(tmp_path / "store"), {})
    with pytest.raises(InputError, match=r"^gallery/p/a: has no file 'image'"):
        _resolved(spec, Store(tmp_path / "store"), {"gallery/p/a": ("k", {"files": {"photo": "photo.jpg"}})})
    resolved = _resolved(spec, Store(tmp_path / "store"), {"gallery/p/a": ("k", {"files": {"image": "image.jpg"}})})
    assert resolved.inputs[-1] == tmp_path / "store" / "k" / "image.jpg"
