"""The command line with bad input: one line naming the file, a non-zero exit, nothing written."""
import pytest
from PIL import Image

from helpers import ROOT, file_digests, one_line_error, run_generator

CONTENT = ROOT / "site_src" / "content" / "rectoria.jpg"
STYLE = ROOT / "site_src" / "styles" / "the_scream.jpg"


@pytest.fixture(scope="module")
def bare_copy(project_copy_factory):
    """A copy of the project without any build (for commands that must fail before computing)."""
    return project_copy_factory("cli")


# --- stylize -------------------------------------------------------------------------------------

@pytest.mark.parametrize("case", ["missing", "empty", "text", "directory"])
def test_stylize_bad_content(bare_copy, tmp_path, case):
    content = tmp_path / f"foto {case}.jpg"
    if case == "empty":
        content.write_bytes(b"")
    elif case == "text":
        content.write_text("no soy una foto\n")
    elif case == "directory":
        content.mkdir()
    output = tmp_path / "out.jpg"
    proc = run_generator(bare_copy, "stylize", content, STYLE, "-o", output, "--size", "48", "--steps", "3",
                         "--quiet")
    one_line_error(proc, content)
    assert not output.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([content.name] if case != "missing" else [])


def test_stylize_bad_style(bare_copy, tmp_path):
    style = tmp_path / "cuadro.png"
    style.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 30)
    output = tmp_path / "out.png"
    proc = run_generator(bare_copy, "stylize", CONTENT, style, "-o", output, "--size", "48", "--quiet")
    one_line_error(proc, style)
    assert not output.exists()


@pytest.mark.parametrize("name", ["out.gif", "missing/out.jpg"])
def test_stylize_bad_output(bare_copy, tmp_path, name):
    output = tmp_path / name
    proc = run_generator(bare_copy, "stylize", CONTENT, STYLE, "-o", output, "--size", "48", "--quiet")
    one_line_error(proc, output)
    assert not output.exists()


def test_stylize_bad_number(bare_copy, tmp_path):
    proc = run_generator(bare_copy, "stylize", CONTENT, STYLE, "-o", tmp_path / "o.jpg", "--size", "0")
    assert proc.returncode == 2 and "--size" in proc.stderr and "Traceback" not in proc.stderr


def test_stylize_tiny(bare_copy, tmp_path):
    output = tmp_path / "resultado con espacios.png"
    proc = run_generator(bare_copy, "stylize", CONTENT, STYLE, "-o", output, "--size", "48", "--steps", "3",
                         "--quiet", "--device", "cpu")
    assert proc.returncode == 0, proc.stderr
    assert "wrote" in proc.stdout
    img = Image.open(output)
    assert img.format == "PNG" and max(img.size) == 48 and img.mode == "RGB"
    assert [p.name for p in tmp_path.iterdir()] == [output.name]  # no temporary files left


# --- add-style -----------------------------------------------------------------------------------

@pytest.mark.parametrize("case", ["corrupt", "missing", "text"])
def test_add_style_bad_image(bare_copy, tmp_path, case):
    image = tmp_path / "malo.jpg"
    if case == "corrupt":
        image.write_bytes(b"\xff\xd8\xff\xe0" + b"\x13" * 500)
    elif case == "text":
        image.write_text("hola")
    before = file_digests(bare_copy / "site_src", mtimes=True)
    proc = run_generator(bare_copy, "add-style", image, "--title", "T", "--artist", "A", "--year", "1900")
    one_line_error(proc, image)
    assert file_digests(bare_copy / "site_src", mtimes=True) == before


@pytest.mark.parametrize("args, fragment", [
    (["--name", "the_scream"], "the_scream"),  # taken
    (["--name", "Mal Nombre"], "--name"),      # not an identifier
    (["--title", "  "], "--title"),
])
def test_add_style_bad_arguments(bare_copy, tmp_path, args, fragment):
    image = tmp_path / "bueno.png"
    Image.new("RGB", (20, 20), "teal").save(image)
    before = file_digests(bare_copy / "site_src", mtimes=True)
    base = {"--title": "T", "--artist": "A", "--year": "1900"}
    for flag, value in zip(args[::2], args[1::2]):
        base[flag] = value
    proc = run_generator(bare_copy, "add-style", image, *[x for kv in base.items() for x in kv])
    one_line_error(proc, fragment)
    assert file_digests(bare_copy / "site_src", mtimes=True) == before


# --- build ---------------------------------------------------------------------------------------

def test_build_with_broken_catalog(tiny_site, project_copy_factory):
    root = project_copy_factory("broken_catalog", source=tiny_site.root, with_build=True)
    catalog = root / "site_src" / "catalog.toml"
    catalog.write_text(catalog.read_text(encoding="utf-8") + '\n[[style]]\nname = "sin_autor"\n'
                       'file = "styles/the_scream.jpg"\ntitle = "Sin autor"\nyear = "1900"\n', encoding="utf-8")
    before = file_digests(root / "docs" / "generated", mtimes=True)
    proc = run_generator(root, "build", "--profile", "tiny", "--quiet")
    line = one_line_error(proc, "catalog.toml", "artist", "sin_autor")
    assert line.startswith("error: ")
    assert proc.stdout == ""
    assert file_digests(root / "docs" / "generated", mtimes=True) == before


def test_build_unknown_device(bare_copy):
    proc = run_generator(bare_copy, "build", "--profile", "tiny", "--device", "tpu", "--quiet")
    one_line_error(proc, "--device", "tpu")
    assert not (bare_copy / "docs" / "generated" / "manifest.json").exists()
