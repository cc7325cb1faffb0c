"""A painting said to be in the public domain must say where and on what basis."""
import pytest
from PIL import Image

from generator.build.catalog import load_catalog, public_domain_fault
from generator.cli.add_style import add_style
from generator.common.errors import InputError

from helpers import PAINTING, ROOT, small_site_src


@pytest.fixture
def site_src(tmp_path):
    return small_site_src(tmp_path)


def load(site_src, extra):
    (site_src / "catalog.toml").write_text(PAINTING + extra, encoding="utf-8")
    return load_catalog(site_src)


def test_public_domain_statement_loads(site_src):
    cat = load(site_src, 'license = "Dominio público"\npublic_domain = "México: murió en 1849."\n')
    assert cat.style[0].public_domain == "México: murió en 1849."
    assert cat.style[0].to_dict()["public_domain"] == "México: murió en 1849."


@pytest.mark.parametrize("extra, fragment", [
    ('license = "Dominio público"\n', "public_domain' is missing"),
    ('license = "Public domain"\n', "public_domain' is missing"),
    ('license = "Dominio público"\npublic_domain = "  "\n', "'public_domain' is empty"),
    ('public_domain = 1849\n', "must be text"),
])
def test_public_domain_faults(site_src, extra, fragment):
    with pytest.raises(InputError) as exc_info:
        load(site_src, extra)
    message = str(exc_info.value)
    assert "catalog.toml" in message and "'ola'" in message and fragment in message, message


def test_other_licences_need_no_statement(site_src):
    assert load(site_src, 'license = "CC BY 4.0"\n').style[0].public_domain == ""
    assert public_domain_fault("", None) is None


def test_every_project_painting_states_its_public_domain_basis():
    for entry in load_catalog(ROOT / "site_src").style:
        assert "México" in entry.public_domain, entry.name


def test_add_style_requires_the_basis(site_src, tmp_path):
    (site_src / "catalog.toml").write_text(PAINTING + 'license = "CC0"\n', encoding="utf-8")
    image = tmp_path / "cuadro.png"
    Image.new("RGB", (20, 20), "teal").save(image)
    before = (site_src / "catalog.toml").read_text(encoding="utf-8")
    with pytest.raises(InputError) as exc_info:
        add_style(image, title="T", artist="A", year="1900", license="Dominio público", name="nuevo",
                  site_src=site_src)
    assert "--public-domain" in str(exc_info.value)
    assert (site_src / "catalog.toml").read_text(encoding="utf-8") == before
    entry = add_style(image, title="T", artist="A", year="1900", license="Dominio público", name="nuevo",
                      site_src=site_src, public_domain="México: murió en 1900.")
    assert load_catalog(site_src).find("style", "nuevo").public_domain == entry.public_domain
