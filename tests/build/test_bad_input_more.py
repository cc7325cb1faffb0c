"""Bad input where it enters the build (catalogue and its images) and the command line: one line
naming the input and the fault, a non-zero exit, nothing lost. (tests/cli/test_cli.py has the basics and
the real `python -m generator`.) The base build runs as a subprocess; the builds and commands under
test run main() in this process (helpers.run_cli), as a user would see them."""
from __future__ import annotations

import io
import json
import shutil
import struct
import tomllib
import zlib

import pytest
from PIL import Image

from helpers import (
    ROOT,
    assert_nothing_partial,
    cache_entries,
    file_digests,
    manifest,
    one_line_error,
    run_cli,
    run_generator,
    trim_catalog,
)

CONTENT = ROOT / "site_src" / "content" / "rectoria.jpg"
STYLE = ROOT / "site_src" / "styles" / "the_scream.jpg"
ONLY_PAINTINGS = ("build", "--profile", "tiny", "--quiet", "--only", "painting")


def png_bomb(width: int = 50_000, height: int = 50_000) -> bytes:
    """A 70-byte PNG whose header claims width x height pixels (a decompression bomb)."""
    buf = io.BytesIO()
    Image.new("L", (1, 1)).save(buf, "PNG")
    data = bytearray(buf.getvalue())
    struct.pack_into(">II", data, 16, width, height)           # IHDR width, height
    struct.pack_into(">I", data, 29, zlib.crc32(bytes(data[12:29])))
    return bytes(data)


def break_file(path, fault: str, outside) -> str:
    """Replace the image at `path` with a bad one; returns a fragment the error line must hold."""
    good = path.read_bytes()
    path.unlink()
    if fault == "empty":
        path.write_bytes(b"")
        return "empty"
    if fault == "truncated":
        path.write_bytes(good[: len(good) // 3])
        return "truncated"
    if fault == "not_an_image":
        path.write_text("Esto no es una imagen.\n", encoding="utf-8")
        return "not an image"
    if fault == "missing":
        return "not found"
    if fault == "directory":
        path.mkdir()
        return "directory"
    if fault == "bomb":
        path.write_bytes(png_bomb())
        return "too large"
    if fault == "symlink_out":
        outside.write_bytes(good)
        path.symlink_to(outside)
        return "outside site_src"
    raise ValueError(fault)


@pytest.fixture(scope="module")
def paintings_built(project_copy_factory):
    """A copy with one photo and two paintings whose painting figures are built (no transfers)."""
    root = project_copy_factory("bad_input_base")
    kept = trim_catalog(root, content=1, styles=2)
    proc = run_generator(root, *ONLY_PAINTINGS)
    assert proc.returncode == 0, proc.stderr
    return root, [e["name"] for e in kept["style"]], [e["file"] for e in kept["style"]]


@pytest.fixture
def copy_built(paintings_built, project_copy_factory):
    root, names, files = paintings_built
    return project_copy_factory("bad_input", source=root, with_build=True), names, files


# --- the catalogue's images, through the build ---------------------------------------------------

@pytest.mark.parametrize("fault", ["empty", "truncated", "not_an_image", "missing", "directory", "bomb",
                                   "symlink_out"])
def test_bad_painting_file_in_build(copy_built, fault, tmp_path):
    root, (good, bad), (_, bad_file) = copy_built
    generated = root / "docs" / "generated"
    before, cached_before = file_digests(generated), cache_entries(root)
    path = root / "site_src" / bad_file
    original = path.read_bytes()
    fragment = break_file(path, fault, tmp_path / "outside.jpg")

    proc = run_cli(ONLY_PAINTINGS, root)
    line = one_line_error(proc)
    assert fragment in line, line
    assert bad_file.split("/")[-1] in line, line
    if fault == "symlink_out":  # the catalogue itself is refused: nothing at all changes
        assert "catalog.toml" in line and proc.stdout == ""
        assert file_digests(generated) == before
    else:  # only the bad painting's figure fails; the other is intact
        assert proc.stdout.startswith("build: 0 computed, 1 reused, 1 failed")
        built = manifest(root)
        assert list(built["failed"]) == [f"painting/{bad}"]
        assert list(built["figures"]) == [f"painting/{good}"]
        after = file_digests(generated)
        assert {k: v for k, v in after.items() if k.startswith(f"painting/{good}/")} == \
               {k: v for k, v in before.items() if k.startswith(f"painting/{good}/")}
    assert cache_entries(root) == cached_before  # no entry for the failure, none lost
    assert_nothing_partial(root)

    # nothing lost: with the file back, the next build reuses everything
    if path.is_symlink() or path.is_file():
        path.unlink()
    elif path.is_dir():
        path.rmdir()
    path.write_bytes(original)
    proc = run_cli(ONLY_PAINTINGS, root)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("build: 0 computed, 2 reused, 0 failed")
    assert file_digests(generated).keys() == before.keys()


def test_bad_photo_reported_once(copy_built):
    """A broken photo fails every transfer that uses it, with one error line for the one bad file."""
    root, names, _ = copy_built
    catalog = tomllib.loads((root / "site_src" / "catalog.toml").read_text(encoding="utf-8"))
    photo = root / "site_src" / catalog["content"][0]["file"]
    photo.write_bytes(photo.read_bytes()[:500])
    proc = run_cli(["build", "--profile", "tiny", "--quiet", "--only", "gallery"], root)
    line = one_line_error(proc)
    assert str(photo) in line and "truncated" in line
    built = manifest(root)
    photo_name = catalog["content"][0]["name"]
    assert sorted(built["failed"]) == sorted(f"gallery/{photo_name}/{n}" for n in names)
    assert len(set(built["failed"].values())) == 1


# --- the catalogue's text, through the build -----------------------------------------------------

ENTRY = '[[style]]\nname = "nuevo"\nfile = "styles/the_scream.jpg"\ntitle = "Nuevo"\nartist = "A"\nyear = "1900"\n'
METADATA_FAULTS = {
    "missing_field": (ENTRY.replace('artist = "A"\n', ""), "missing field 'artist'"),
    "wrong_type": (ENTRY.replace('year = "1900"', "year = 1900"), "'year' must be text, not int"),
    "unknown_key": (ENTRY + 'colour = "azul"\n', "unknown field 'colour'"),
    "duplicate_name": (ENTRY.replace('"nuevo"', '"{first}"'), "duplicate name"),
    "outside": (ENTRY.replace("styles/the_scream.jpg", "../../etc/passwd"), "outside site_src/"),
    "absolute": (ENTRY.replace("styles/the_scream.jpg", "/etc/hostname"), "outside site_src/"),
    "not_utf8": (ENTRY.replace("Nuevo", "Nuevo \udce9"), "not valid UTF-8"),
    "not_toml": (ENTRY + "title = \n", "invalid TOML"),
}


@pytest.mark.parametrize("fault", sorted(METADATA_FAULTS))
def test_bad_metadata_in_build(copy_built, fault):
    root, names, _ = copy_built
    text, fragment = METADATA_FAULTS[fault]
    path = root / "site_src" / "catalog.toml"
    data = path.read_bytes() + b"\n" + text.format(first=names[0]).encode("utf-8", "surrogateescape")
    path.write_bytes(data)
    generated = root / "docs" / "generated"
    before, cached = file_digests(generated), cache_entries(root)
    proc = run_cli(ONLY_PAINTINGS, root)  # refused while reading the catalogue, before any figure
    line = one_line_error(proc)
    assert "catalog.toml" in line and fragment in line, line
    assert proc.stdout == ""
    assert file_digests(generated) == before and cache_entries(root) == cached
    assert path.read_bytes() == data  # the user's file is left as it was


def test_markup_in_title_is_kept_as_text(copy_built):
    """HTML or Markdown in a title is accepted and reaches the manifest unchanged (the pages escape it)."""
    root, names, _ = copy_built
    path = root / "site_src" / "catalog.toml"
    title = '<b>Negrita</b> *cursiva* & "comillas" [enlace](http://example.com)'
    path.write_text(path.read_text(encoding="utf-8").replace('title = "La noche estrellada"',
                                                             f"title = {json.dumps(title)}"), encoding="utf-8")
    proc = run_cli(ONLY_PAINTINGS, root)
    assert proc.returncode == 0, proc.stderr
    assert title in [e["title"] for e in manifest(root)["catalog"]["style"]]


# --- images given on the command line ------------------------------------------------------------

@pytest.mark.parametrize("fault", ["truncated", "bomb"])
def test_stylize_bad_image(bare_project, tmp_path, fault):
    root = bare_project
    content = tmp_path / "foto.jpg"
    shutil.copy(CONTENT, content)
    fragment = break_file(content, fault, None)
    output = tmp_path / "salida.jpg"
    line = one_line_error(run_cli(["stylize", content, STYLE, "-o", output, "--size", "32", "--quiet"], root))
    assert str(content) in line and fragment in line
    assert sorted(p.name for p in tmp_path.iterdir()) == ["foto.jpg"]


@pytest.mark.parametrize("fault", ["empty", "truncated", "directory", "bomb"])
def test_add_style_bad_image(bare_project, tmp_path, fault):
    root = bare_project
    image = tmp_path / "cuadro.jpg"
    shutil.copy(STYLE, image)
    fragment = break_file(image, fault, None)
    before = file_digests(root / "site_src")
    line = one_line_error(run_cli(["add-style", image, "--title", "T", "--artist", "A", "--year", "1900"], root))
    assert str(image) in line and fragment in line
    assert file_digests(root / "site_src") == before


# --- arguments -----------------------------------------------------------------------------------

@pytest.mark.parametrize("args, fragment", [
    (["--size", "-5"], "argument --size: must be positive, not -5"),
    (["--size", "grande"], "argument --size: 'grande' is not a whole number"),
    (["--steps", "0"], "argument --steps: must be positive, not 0"),
    (["--style-weight", "-1"], "argument --style-weight: must be a finite number >= 0"),
    (["--device", "tpu"], "--device: unknown device 'tpu'"),
    (["--device", "cuda:x"], "--device: unknown device 'cuda:x'"),
])
def test_stylize_bad_arguments(bare_project, tmp_path, args, fragment):
    root = bare_project
    output = tmp_path / "salida.jpg"
    line = one_line_error(run_cli(["stylize", CONTENT, STYLE, "-o", output, "--quiet", *args], root))
    assert fragment in line, line
    assert not output.exists()


@pytest.mark.parametrize("command", ["build", "stylize"])
def test_cuda_asked_for_where_none_exists(bare_project, tmp_path, command):
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA; the test is for machines without it")
    root = bare_project
    if command == "build":
        proc = run_cli(["build", "--device", "cuda", "--quiet"], root)
    else:
        proc = run_cli(["stylize", CONTENT, STYLE, "-o", tmp_path / "o.jpg", "--device", "cuda:0"], root)
    line = one_line_error(proc)
    assert "--device" in line and "no CUDA device is available" in line, line
    assert not (root / "docs" / "generated").exists() and not (root / ".cache").exists()
    assert not (tmp_path / "o.jpg").exists()
