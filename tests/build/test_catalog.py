"""The catalogue: a valid one loads; each fault is an InputError naming catalog.toml and the fault."""
import os

import pytest
from PIL import Image

from generator.build.catalog import Entry, append_entry, load_catalog
from generator.common.errors import InputError

from helpers import PAINTING, PHOTO, ROOT, small_site_src


@pytest.fixture
def site_src(tmp_path):
    return small_site_src(tmp_path)


def write(site_src, text):
    (site_src / "catalog.toml").write_text(text, encoding="utf-8")


def fault(site_src, text, *fragments):
    write(site_src, text)
    with pytest.raises(InputError) as exc_info:
        load_catalog(site_src)
    message = str(exc_info.value)
    assert "catalog.toml" in message and "\n" not in message
    for fragment in fragments:
        assert fragment in message, message
    return message


def test_valid_catalog_loads(site_src):
    write(site_src, PHOTO + "\n" + PAINTING)
    cat = load_catalog(site_src)
    assert [e.name for e in cat.content] == ["casa"]
    painting = cat.find("style", "ola")
    assert (painting.artist, painting.year, painting.section) == ("Hokusai", "c. 1831", "style")
    assert painting.path(site_src) == site_src / "styles/ola.jpg"


def test_project_catalog_loads():
    cat = load_catalog(ROOT / "site_src")
    assert cat.content and cat.style
    for entry in cat.content + cat.style:
        assert entry.path(ROOT / "site_src").is_file()


def test_markup_in_title_is_accepted(site_src):
    write(site_src, PHOTO.replace('"Una casa"', '"<b>Una</b> *casa* & <script>x</script>"'))
    assert load_catalog(site_src).content[0].title == "<b>Una</b> *casa* & <script>x</script>"


def test_missing_catalog(site_src):
    with pytest.raises(InputError, match="catalog.toml"):
        load_catalog(site_src)


def test_missing_field(site_src):
    fault(site_src, PAINTING.replace('artist = "Hokusai"\n', ""), "missing field 'artist'", "ola")


def test_wrong_type(site_src):
    fault(site_src, PAINTING.replace('year = "c. 1831"', "year = 1831"), "'year'", "text", "int")


def test_unknown_key(site_src):
    fault(site_src, PHOTO + 'colour = "red"\n', "unknown field 'colour'")


def test_unknown_section(site_src):
    fault(site_src, PHOTO + '\n[[paintings]]\nname = "x"\n', "unknown section", "paintings")


def test_duplicate_name(site_src):
    fault(site_src, PHOTO + "\n" + PAINTING.replace('"ola"', '"casa"'), "duplicate name 'casa'")


def test_empty_required_field(site_src):
    fault(site_src, PHOTO.replace('"Una casa"', '"  "'), "'title'", "empty")


def test_bad_name(site_src):
    fault(site_src, PHOTO.replace('name = "casa"', 'name = "Casa Grande"'), "name")


def test_invalid_toml(site_src):
    fault(site_src, PHOTO + "title = \n", "invalid TOML")


@pytest.mark.parametrize("file", ["../x.jpg", "content/../../x.jpg", "/etc/passwd"])
def test_path_outside_site_src(site_src, file):
    fault(site_src, PHOTO.replace('"content/casa.jpg"', f'"{file}"'), "outside site_src", file)


def test_symlink_pointing_out(site_src, tmp_path):
    outside = tmp_path / "outside.jpg"
    Image.new("RGB", (8, 8)).save(outside)
    os.symlink(outside, site_src / "content" / "link.jpg")
    fault(site_src, PHOTO.replace("casa.jpg", "link.jpg"), "outside site_src", "link.jpg")


def test_symlink_inside_is_fine(site_src):
    os.symlink(site_src / "content" / "casa.jpg", site_src / "content" / "alias.jpg")
    write(site_src, PHOTO.replace("casa.jpg", "alias.jpg"))
    assert load_catalog(site_src).content[0].file == "content/alias.jpg"


def test_not_utf8(site_src):
    (site_src / "catalog.toml").write_bytes(PHOTO.replace("Una casa", "Año").encode("latin-1"))
    with pytest.raises(InputError) as exc_info:
        load_catalog(site_src)
    assert "catalog.toml" in str(exc_info.value) and "UTF-8" in str(exc_info.value)


def test_append_entry_round_trips(site_src):
    write(site_src, PHOTO)
    title = 'Un "título" con \\ y acentos: ñ'
    append_entry(site_src, Entry(section="style", name="ola", file="styles/ola.jpg", title=title,
                                 artist="Hokusai", year="c. 1831"))
    cat = load_catalog(site_src)
    assert cat.find("style", "ola").title == title
    assert (site_src / "catalog.toml").read_text(encoding="utf-8").startswith(PHOTO)
