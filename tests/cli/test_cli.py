"""The command line with bad input: one line naming the file, a non-zero exit, nothing written.
Most cases run main() in this process (helpers.run_cli); the real entry point, `python -m generator`,
and its process's exit status are checked by a good stylize, a bad option, add-style and a build,
and run_cli is checked against it."""
from pathlib import Path

import pytest
from PIL import Image

from helpers import ROOT, file_digests, one_line_error, run_cli

CONTENT = ROOT / "site_src" / "content" / "rectoria.jpg"
STYLE = ROOT / "site_src" / "styles" / "the_scream.jpg"


# --- stylize -------------------------------------------------------------------------------------

@pytest.mark.parametrize("case", ["missing", "empty", "text", "directory"])
def test_stylize_bad_content(bare_project, tmp_path, case):
    content = tmp_path / f"foto {case}.jpg"
    if case == "empty":
        content.write_bytes(b"")
    elif case == "text":
        content.write_text("no soy una foto\n")
    elif case == "directory":
        content.mkdir()
    output = tmp_path / "out.jpg"
    proc = run_cli(["stylize", content, STYLE, "-o", output, "--size", "48", "--steps", "3", "--quiet"], bare_project)
    one_line_error(proc, content)
    assert not output.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([content.name] if case != "missing" else [])


def test_stylize_bad_style(bare_project, tmp_path):
    style = tmp_path / "cuadro.png"
    style.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 30)
    output = tmp_path / "out.png"
    proc = run_cli(["stylize", CONTENT, style, "-o", output, "--size", "48", "--quiet"], bare_project)
    one_line_error(proc, style)
    assert not output.exists()


@pytest.mark.parametrize("name", ["out.gif", "missing/out.jpg"])
def test_stylize_bad_output(bare_project, tmp_path, name):
    output = tmp_path / name
    proc = run_cli(["stylize", CONTENT, STYLE, "-o", output, "--size", "48", "--quiet"], bare_project)
    one_line_error(proc, output)
    assert not output.exists()


@pytest.mark.parametrize("process", [True, False], ids=["subprocess", "in-process"])
def test_stylize_bad_number(bare_project, tmp_path, process):
    proc = run_cli(["stylize", CONTENT, STYLE, "-o", tmp_path / "o.jpg", "--size", "0"], bare_project, process=process)
    assert proc.returncode == 2 and "--size" in proc.stderr and "Traceback" not in proc.stderr
    assert list(tmp_path.iterdir()) == []


def test_stylize_tiny(bare_project, tmp_path):
    output = tmp_path / "resultado con espacios.png"
    proc = run_cli(["stylize", CONTENT, STYLE, "-o", output, "--size", "48", "--steps", "3", "--quiet", "--device",
                    "cpu"], bare_project, process=True)  # the real entry point, a good run
    assert proc.returncode == 0, proc.stderr
    assert "wrote" in proc.stdout
    img = Image.open(output)
    assert img.format == "PNG" and max(img.size) == 48 and img.mode == "RGB"
    assert [p.name for p in tmp_path.iterdir()] == [output.name]  # no temporary files left


# --- add-style -----------------------------------------------------------------------------------

@pytest.mark.parametrize("case, process", [("corrupt", True), ("missing", False), ("text", False)],
                         ids=["corrupt-subprocess", "missing", "text"])
def test_add_style_bad_image(bare_project, tmp_path, case, process):
    image = tmp_path / "malo.jpg"
    if case == "corrupt":
        image.write_bytes(b"\xff\xd8\xff\xe0" + b"\x13" * 500)
    elif case == "text":
        image.write_text("hola")
    before = file_digests(bare_project / "site_src", mtimes=True)
    proc = run_cli(["add-style", image, "--title", "T", "--artist", "A", "--year", "1900"], bare_project,
                   process=process)
    one_line_error(proc, image)
    assert file_digests(bare_project / "site_src", mtimes=True) == before


@pytest.mark.parametrize("args, fragment", [
    (["--name", "the_scream"], "the_scream"),  # taken
    (["--name", "Mal Nombre"], "--name"),      # not an identifier
    (["--title", "  "], "--title"),
])
def test_add_style_bad_arguments(bare_project, tmp_path, args, fragment):
    image = tmp_path / "bueno.png"
    Image.new("RGB", (20, 20), "teal").save(image)
    before = file_digests(bare_project / "site_src", mtimes=True)
    base = {"--title": "T", "--artist": "A", "--year": "1900"}
    for flag, value in zip(args[::2], args[1::2]):
        base[flag] = value
    proc = run_cli(["add-style", image, *[x for kv in base.items() for x in kv]], bare_project)
    one_line_error(proc, fragment)
    assert file_digests(bare_project / "site_src", mtimes=True) == before


# --- build ---------------------------------------------------------------------------------------

def test_build_with_broken_catalog(tiny_site, project_copy_factory):
    root = project_copy_factory("broken_catalog", source=tiny_site.root, with_build=True)
    catalog = root / "site_src" / "catalog.toml"
    catalog.write_text(catalog.read_text(encoding="utf-8") + '\n[[style]]\nname = "sin_autor"\n'
                       'file = "styles/the_scream.jpg"\ntitle = "Sin autor"\nyear = "1900"\n', encoding="utf-8")
    before = file_digests(root / "docs" / "generated", mtimes=True)
    proc = run_cli(["build", "--profile", "tiny", "--quiet"], root, process=True)  # the real entry point
    line = one_line_error(proc, "catalog.toml", "artist", "sin_autor")
    assert line.startswith("error: ")
    assert proc.stdout == ""
    assert file_digests(root / "docs" / "generated", mtimes=True) == before


def test_build_unknown_device(bare_project):
    proc = run_cli(["build", "--profile", "tiny", "--device", "tpu", "--quiet"], bare_project)
    one_line_error(proc, "--device", "tpu")
    assert proc.stdout == ""
    assert not (bare_project / "docs" / "generated" / "manifest.json").exists()
    assert not (bare_project / ".cache").exists()


# --- run_cli: in this process, what the real entry point shows -------------------------------------

@pytest.mark.parametrize("args", [
    ["stylize", CONTENT, STYLE, "-o", "o.jpg", "--size", "0"],                       # argparse's error, exit 2
    ["stylize", CONTENT, "no_existe.jpg", "-o", "o.jpg", "--quiet", "--device", "cpu"],  # InputError, exit 1
], ids=["bad-option", "missing-painting"])
def test_run_cli_shows_what_the_entry_point_shows(bare_project, args):
    # relative paths: both resolve them in the copy
    assert run_cli(args, bare_project) == run_cli(args, bare_project, process=True)


def test_run_cli_shows_tracebacks_and_warnings_and_puts_things_back(bare_project, monkeypatch):
    import os
    import signal
    import warnings

    from generator.cli import main as cli_main
    from generator.common.errors import InputError
    from generator.common.paths import ROOT as REAL_ROOT
    from generator.common.paths import Paths

    args = ["add-style", "x.jpg", "--title", "T", "--artist", "A", "--year", "1900"]
    where, term = os.getcwd(), signal.getsignal(signal.SIGTERM)
    seen = []

    def broken(parsed):
        seen.append((Path.cwd(), parsed.paths.root))
        raise RuntimeError("roto")

    monkeypatch.setattr(cli_main, "cmd_add_style", broken)
    proc = run_cli(args, bare_project)
    assert seen == [(bare_project.resolve(), bare_project.resolve())]  # the copy is the project
    assert proc.returncode == 1 and "Traceback (most recent call last)" in proc.stderr
    assert proc.stderr.rstrip().endswith("RuntimeError: roto")
    with pytest.raises(AssertionError):
        one_line_error(proc)
    assert (os.getcwd(), signal.getsignal(signal.SIGTERM), Paths().root) == (where, term, REAL_ROOT)

    def warns(parsed):
        warnings.warn("cuidado", UserWarning)
        raise InputError("x.jpg", "not an image")

    monkeypatch.setattr(cli_main, "cmd_add_style", warns)
    proc = run_cli(args, bare_project)
    assert proc.returncode == 1 and "UserWarning: cuidado" in proc.stderr
    assert proc.stderr.splitlines()[-1] == "error: x.jpg: not an image"
    with pytest.raises(AssertionError):
        one_line_error(proc)
