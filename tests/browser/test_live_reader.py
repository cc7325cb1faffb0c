# ruff: noqa: F811 (the fixtures imported from test_live are redefined as test parameters)
"""What a reader of the live page expects (issue #21, item 4): the photo on the canvas from the
first moment, a before/after slider over the photo and the result, «Copiar enlace» with the
current settings, a download named after the photo and the painting, screen-reader announcements
only at the run's milestones, and a short hint beside each control that links to the page
explaining it. Same session's tiny site and Chromium as test_live.py, 32-64 px, a few evaluations."""
from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlsplit

import pytest
from PIL import Image
from test_live import STATE, Session, browsers, live_context, parity_images, png  # noqa: F401 (fixtures)

from generator.common.spanish_numbers import format_es
from helpers import ROOT

pytestmark = pytest.mark.browser

CANVAS_PIXELS = "(c => Array.from(c.getContext('2d').getImageData(0, 0, c.width, c.height).data))(document.getElementById('live-canvas'))"


def slide(s, selector: str, value: str) -> None:
    """Move a range input as a reader does: its value, then an input event."""
    s.page.evaluate("([sel, v]) => { const r = document.querySelector(sel); r.value = v;"
                    " r.dispatchEvent(new Event('input', {bubbles: true})); }", [selector, value])


def visible(s, selector: str) -> bool:
    return s.page.locator(selector).is_visible()


def canvas(s) -> dict:
    return s.page.evaluate("(c => ({width: c.width, height: c.height, label: c.getAttribute('aria-label')}))"
                           "(document.getElementById('live-canvas'))")


def mean_rgb(pixels: list[int]) -> tuple[float, float, float]:
    n = len(pixels) // 4
    return tuple(sum(pixels[i::4]) / n for i in range(3))


# The canvas from the first moment ------------------------------------------------------------

def test_the_photo_is_on_the_canvas_before_any_evaluation(browsers, site):
    """As soon as the photo is read the canvas shows it, at the size a run would paint, and follows
    a new size or a new photo; a run stopped before its first evaluation still shows the photo (not
    an empty area), and neither the download nor the slider offers it as a result."""
    s = Session(browsers, site, "?lado=48&evaluaciones=3&motor=wasm")
    s.wait_ready()
    s.page.wait_for_function(f"{STATE}.photoWidth !== undefined && {STATE}.canvasWidth !== undefined")
    state = s.state()
    photo = (int(state["photoWidth"]), int(state["photoHeight"]))
    assert visible(s, "#live-canvas") and not visible(s, "#live-compare")
    assert s.page.evaluate("[...document.images].filter(i => !i.getAttribute('src')).length") == 0   # none broken
    shown = canvas(s)
    assert max(shown["width"], shown["height"]) == 48 and abs(shown["width"] / shown["height"] - photo[0] / photo[1]) < 0.05
    assert "la foto" in shown["label"]
    assert len(set(s.page.evaluate(CANVAS_PIXELS))) > 10   # the photo, not a blank canvas
    shown_width = "document.getElementById('live-canvas').getBoundingClientRect().width"
    small = s.page.evaluate(shown_width)
    s.page.select_option("#live-size", "64")
    assert max(canvas(s)["width"], canvas(s)["height"]) == 64
    s.page.select_option("#live-size", "384")
    large = s.page.evaluate(shown_width)   # the column's width at most
    assert 2 * shown["width"] <= small < large / 2 and large < 2 * 384, (small, large)
    s.page.select_option("#live-size", "64")
    s.upload("photo", "verde.png", png(Image.new("RGB", (80, 60), (20, 200, 40))))
    s.page.wait_for_function(f"{STATE}.photoWidth === '80'")
    assert (canvas(s)["width"], canvas(s)["height"]) == (64, 48)
    r, g, b = mean_rgb(s.page.evaluate(CANVAS_PIXELS))
    assert abs(r - 20) < 3 and abs(g - 200) < 3 and abs(b - 40) < 3, (r, g, b)
    assert s.page.locator("#live-download").is_disabled()
    # «Detener» right behind «Empezar»: the run ends before its first evaluation.
    s.stop_on_start()
    s.start()
    state = s.wait_finished()
    assert state["evaluations"] == "0", state
    assert visible(s, "#live-canvas") and not visible(s, "#live-compare")
    r, g, b = mean_rgb(s.page.evaluate(CANVAS_PIXELS))
    assert abs(g - 200) < 3, (r, g, b)
    assert s.page.locator("#live-download").is_disabled()
    assert s.errors == []
    s.close()


# One run in two stages: milestones, the slider, the download's name ------------------------------

def two_stages_at_64(r):
    """objective.json with 64 px painted in two stages (half size first), as 384 px is."""
    original = r.fetch()
    objective = original.json()
    objective["schedule"]["by_size"]["64"] = {"scales": [0.5, 1.0], "final_share": 0.5}
    objective["schedule"]["min_stage_side"] = 16
    return r.fulfill(response=original, json=objective)


RECORD_ANNOUNCEMENTS = """() => {
  window.announced = [];
  window.statusLines = [];
  const watch = (id, list) => new MutationObserver(() => list.push(document.getElementById(id).textContent))
    .observe(document.getElementById(id), {childList: true, characterData: true, subtree: true});
  watch('live-announce', window.announced);
  watch('live-status', window.statusLines);
}"""


@pytest.fixture(scope="module")
def staged_run(browsers, site):
    """A 4:3 photo of the reader's, named with accents and spaces, painted with the site's painting
    at 64 px in two stages of 2 evaluations; the announcements and status lines recorded."""
    s = Session(browsers, site, "?cuadro=starry_night&lado=64&evaluaciones=4&motor=wasm",
                route=("**/objective.json", two_stages_at_64))
    s.wait_ready()
    gradient = Image.linear_gradient("L").resize((64, 48)).convert("RGB")
    s.upload("photo", "Rectoría Vieja (1).PNG", png(gradient))
    s.page.wait_for_function(f"{STATE}.photoWidth === '64'")
    s.page.evaluate(RECORD_ANNOUNCEMENTS)
    s.start()
    state = s.wait_finished()
    s.page.wait_for_function("!document.getElementById('live-compare').hidden", timeout=10_000)
    seen = {"state": state, "announced": s.page.evaluate("window.announced"),
            "status_lines": s.page.evaluate("window.statusLines"), "errors": s.errors, "message": s.message()}
    yield s, seen
    s.close()


def test_announcements_only_at_milestones(staged_run):
    """The polite live region speaks at the start, at the second stage and at the end: three times
    for four evaluations, while the shown status line (not announced) changes at each evaluation."""
    s, seen = staged_run
    assert seen["errors"] == [] and seen["message"] == ""
    assert seen["state"]["status"] == "done" and seen["state"]["stages"] == "32x24:2 64x48:2", seen["state"]
    attributes = s.page.evaluate("""() => ({announce: [document.getElementById('live-announce').getAttribute('aria-live'),
      document.getElementById('live-announce').getAttribute('role')],
      status: document.getElementById('live-status').getAttribute('aria-live'),
      inside: [...document.querySelectorAll('#live [aria-live]')].map(e => e.id)})""")
    assert attributes == {"announce": ["polite", "status"], "status": None, "inside": ["live-announce"]}
    assert seen["announced"] == [
        "Empieza a pintar: 4 evaluaciones en 2 etapas; etapa 1 de 2: 32 × 24 px.",
        "Etapa 2 de 2: 64 × 48 px.",
        s.page.locator("#live-status").inner_text(),
    ], seen["announced"]
    assert seen["announced"][-1].startswith("Listo: 4 evaluaciones")
    assert sum(line.startswith("Evaluación ") for line in seen["status_lines"]) == 4, seen["status_lines"]


def test_before_after_slider_when_done(staged_run):
    """When the run is done the gallery's slider (compare.js) takes the canvas's place: the result
    above the photo, both at the canvas's size; dragging it moves the split and says so."""
    s, _ = staged_run
    assert not visible(s, "#live-canvas") and visible(s, "#live-compare")
    images = s.page.evaluate("""() => ['live-compare-after', 'live-compare-before'].map(id => {
      const img = document.getElementById(id);
      const c = Object.assign(document.createElement('canvas'), {width: img.naturalWidth, height: img.naturalHeight});
      const ctx = c.getContext('2d');
      ctx.drawImage(img, 0, 0);
      return {cls: img.className, width: img.naturalWidth, height: img.naturalHeight,
              pixels: Array.from(ctx.getImageData(0, 0, c.width, c.height).data)};
    })""")
    after, before = images
    # The photo lies above the result (compare.js clips it), both made by the page once needed.
    assert s.page.eval_on_selector_all("#live-compare img", "is => is.map(i => i.id)") == ["live-compare-after", "live-compare-before"]
    assert "st-compare__after" in after["cls"] and "st-compare__before" in before["cls"]
    assert (after["width"], after["height"]) == (before["width"], before["height"]) == (64, 48)
    assert after["pixels"] == s.page.evaluate(CANVAS_PIXELS)                          # the result as painted
    gradient = Image.linear_gradient("L").resize((64, 48)).convert("RGBA").tobytes()
    assert max(abs(a - b) for a, b in zip(before["pixels"], gradient)) <= 2      # the photo
    slide(s, "#live-compare-range", "20")
    box = s.page.evaluate("""() => ({pos: document.getElementById('live-compare').style.getPropertyValue('--pos'),
      text: document.getElementById('live-compare-range').getAttribute('aria-valuetext')})""")
    text = f"{format_es(0.2, '.0%', 'text')} fotografía, {format_es(0.8, '.0%', 'text')} resultado"
    assert box == {"pos": "20%", "text": text}, box


def test_download_is_named_after_photo_and_painting(staged_run):
    """«Rectoría Vieja (1).PNG» with «starry_night» at 64 px: rectoria-vieja-1-starry_night-64px.png."""
    s, _ = staged_run
    with s.page.expect_download() as download:
        s.page.click("#live-download")
    assert download.value.suggested_filename == "rectoria-vieja-1-starry_night-64px.png"


# «Repasa el lienzo»: the run's frames kept and replayed ---------------------------------------

REPLAY = """() => ({frames: window.liveRun.frames.map(f => [f.evaluation, f.image.width, f.image.height]),
  hidden: document.getElementById('live-replay-box').hidden, max: document.getElementById('live-replay').max,
  value: document.getElementById('live-replay').value,
  label: document.querySelector('label[for=live-replay]').textContent.replace(/\\s+/g, ' ').trim(),
  text: document.getElementById('live-replay').getAttribute('aria-valuetext')})"""


def test_the_run_is_kept_and_replayed(browsers, site):
    """A run of 64 evaluations keeps at most 60 frames spread over it (the first, then every other
    one once full); when it ends a slider replays them on the canvas, its end is the result and the
    before/after slider again, and the download stays the result. «Continuar» appends frames; a new
    run starts them afresh."""
    s = Session(browsers, site, "?lado=32&evaluaciones=64&motor=wasm")
    s.wait_ready()
    assert visible(s, "#live-canvas") and not visible(s, "#live-replay")
    s.start()
    s.page.wait_for_function(f"Number({STATE}.evaluations) >= 3")
    assert s.page.evaluate(REPLAY)["hidden"]                      # not while it paints
    s.wait_finished()
    s.page.wait_for_function("!document.getElementById('live-compare').hidden", timeout=10_000)
    result = s.page.evaluate(CANVAS_PIXELS)
    seen = s.page.evaluate(REPLAY)
    evaluations = [f[0] for f in seen["frames"]]
    assert evaluations == [1, *range(2, 65, 2)], evaluations   # thinned once, at 60
    assert all((w, h) == (canvas(s)["width"], canvas(s)["height"]) for _, w, h in seen["frames"])
    assert not seen["hidden"] and seen["max"] == str(len(evaluations) - 1) and seen["value"] == seen["max"]
    assert seen["label"] == "Repasa el lienzo: evaluación 64 de 64 (el resultado)", seen["label"]
    assert seen["text"] == "evaluación 64 de 64 (el resultado)"
    # Back to the first evaluation: the canvas replaces the before/after slider and shows that frame.
    slide(s, "#live-replay", "0")
    seen = s.page.evaluate(REPLAY)
    assert seen["text"] == "evaluación 1 de 64" and seen["label"] == "Repasa el lienzo: evaluación 1 de 64"
    assert visible(s, "#live-canvas") and not visible(s, "#live-compare")
    assert "evaluación 1" in canvas(s)["label"]
    first = s.page.evaluate(CANVAS_PIXELS)
    assert first == s.page.evaluate("Array.from(window.liveRun.frames[0].image.data)")
    assert first != result
    # The download is still the result.
    with s.page.expect_download() as download:
        s.page.click("#live-download")
    downloaded = Image.open(download.value.path()).convert("RGBA")
    assert list(downloaded.tobytes()) == result
    # The end of the slider: the result and the before/after slider.
    slide(s, "#live-replay", seen["max"])
    s.page.wait_for_function("!document.getElementById('live-compare').hidden", timeout=10_000)
    assert s.page.evaluate(CANVAS_PIXELS) == result
    # «Continuar» appends to the kept frames.
    slide(s, "#live-replay", "3")
    s.page.fill("#live-evaluations", "5")
    s.page.click("#live-continue")
    s.page.wait_for_function(f"{STATE}.status === 'done' && {STATE}.evaluations === '69'", timeout=120_000)
    evaluations = [f[0] for f in s.page.evaluate(REPLAY)["frames"]]
    assert evaluations == [1, *range(2, 69, 2), 69], evaluations
    assert s.page.evaluate(REPLAY)["text"] == "evaluación 69 de 69 (el resultado)"
    # A new run starts afresh.
    s.page.fill("#live-evaluations", "3")
    s.start()
    s.wait_finished()
    assert [f[0] for f in s.page.evaluate(REPLAY)["frames"]] == [1, 2, 3]
    assert s.errors == [] and s.message() == ""
    s.close()


# «Copiar enlace» ------------------------------------------------------------------------------

CONTROLS = """() => ({photo: document.getElementById('live-photo').value,
  painting: document.getElementById('live-painting').value, size: document.getElementById('live-size').value,
  evaluations: document.getElementById('live-evaluations').value,
  ratio: document.getElementById('live-ratio-value').textContent,
  layers: [...document.querySelectorAll('#live-layers input:checked')].map(b => b.value),
  optimizer: document.getElementById('live-optimizer').value, init: document.getElementById('live-init').value,
  engine: document.getElementById('live-engine').value, painting2: document.getElementById('live-painting2').value,
  blend: document.getElementById('live-blend').value})"""


def test_copied_link_sets_the_same_page_up(browsers, site):
    """The settings changed by hand go into the clipboard and the address bar as a link, with the
    parameters query.js reads (writeQuery, its inverse); opening the link gives the same controls.
    The reader's own photo is left out of it, and the page says so."""
    s = Session(browsers, site, "?lado=32&motor=wasm")
    s.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=site.rstrip("/"))
    s.wait_ready()
    paintings = s.page.eval_on_selector_all("#live-painting option", "os => os.map(o => o.value)")
    painting = next(p for p in paintings if p != s.page.locator("#live-painting").input_value())
    s.page.select_option("#live-painting", painting)
    s.page.select_option("#live-size", "48")
    s.page.fill("#live-evaluations", "7")
    slide(s, "#live-ratio", "-5")
    s.page.uncheck("#live-layers input[value='relu5_1']")
    s.page.select_option("#live-optimizer", "adam")
    s.page.select_option("#live-init", "noise")
    s.page.select_option("#live-painting2", "starry_night")
    slide(s, "#live-blend", "0.3")
    s.page.click("#live-link")
    s.page.wait_for_function("!document.getElementById('live-link-text').hidden")
    link = s.page.evaluate("navigator.clipboard.readText()")
    assert s.page.url == link and link in s.page.locator("#live-link-text").inner_text()
    assert s.page.locator("#live-link-text").inner_text().startswith("Enlace copiado")
    query = {k: v[0] for k, v in parse_qs(urlsplit(link).query).items()}
    assert query == {"foto": "rectoria2", "cuadro": painting, "cuadro2": "starry_night", "mezcla": "0.3", "lado": "48",
                     "evaluaciones": "7", "ab": "0.00001", "capas": "relu1_1,relu2_1,relu3_1,relu4_1",
                     "optimizador": "adam", "inicio": "noise", "motor": "wasm"}, query
    controls = s.page.evaluate(CONTROLS)
    # writeQuery and readQuery undo each other.
    round_trip = s.page.evaluate("""async () => {
      const q = await import('./javascripts/live/query.js');
      const values = {photo: 'rectoria2', painting: 'starry_night', painting2: 'starry_night', blend: 0.65,
        side: 96, evaluations: 7, ratio: 2e-7,
        layers: ['relu2_1'], selects: {optimizador: 'adam', inicio: 'style', motor: 'wasm'}};
      const read = q.readQuery(q.writeQuery(values), {photos: ['rectoria2'], paintings: ['starry_night'],
        photo: 'rectoria2', painting: 'starry_night', ratioRange: [-10, -4], styleLayers: ['relu1_1', 'relu2_1'],
        selects: {optimizador: ['lbfgs', 'adam'], inicio: ['content', 'style'], motor: ['auto', 'wasm']}});
      return {read, link: String(q.writeQuery(values))};
    }""")
    assert round_trip["read"]["errors"] == []
    assert round_trip["read"]["values"].pop("ratioExponent") == pytest.approx(-6.69897, abs=1e-5)
    assert round_trip["read"]["values"] == {"photo": "rectoria2", "painting": "starry_night", "painting2": "starry_night",
                                            "blend": 0.65, "side": 96, "evaluations": 7,
                                            "layers": ["relu2_1"], "auto": False,
                                            "selects": {"optimizador": "adam", "inicio": "style", "motor": "wasm"}}
    # The reader's own photo cannot travel in a link.
    s.upload("photo", "mia.png", png(Image.new("RGB", (60, 45), (90, 90, 90))))
    s.page.wait_for_function(f"{STATE}.photoWidth === '60'")
    s.page.click("#live-link")
    s.page.wait_for_function("document.getElementById('live-link-text').textContent.includes('tu foto')")
    own = s.page.evaluate("navigator.clipboard.readText()")
    assert "foto=" not in own and f"cuadro={painting}" in own
    assert "tu foto no va en el enlace" in s.page.locator("#live-link-text").inner_text()
    # Nor the reader's own second painting, and then no weight either.
    s.upload("painting2", "mio.png", png(Image.new("RGB", (60, 45), (200, 90, 90))))
    s.page.wait_for_function(f"{STATE}.painting2Width === '60'")
    s.page.click("#live-link")
    s.page.wait_for_function("document.getElementById('live-link-text').textContent.includes('tu segundo cuadro')")
    own = s.page.evaluate("navigator.clipboard.readText()")
    assert "cuadro2=" not in own and "mezcla=" not in own and f"cuadro={painting}" in own
    assert "tu foto y tu segundo cuadro no van en el enlace" in s.page.locator("#live-link-text").inner_text()
    s.close()
    opened = Session(browsers, site, "?" + urlsplit(link).query)
    opened.wait_ready()
    reopened = opened.page.evaluate(CONTROLS)
    assert opened.message() == "" and opened.errors == []
    # Both paintings come prepared by the build, and the two can paint.
    opened.page.wait_for_function(f"{STATE}.painting2Source !== undefined && {STATE}.paintingSource !== undefined")
    assert (opened.state()["paintingSource"], opened.state()["painting2Source"]) == ("prepared", "prepared")
    assert opened.page.locator("#live-blend").get_attribute("aria-valuetext") == "segundo cuadro 30 %, primer cuadro 70 %"
    opened.page.fill("#live-evaluations", "1")
    opened.page.select_option("#live-size", "32")
    opened.start()
    assert opened.wait_finished()["status"] == "done", opened.message()
    assert opened.errors == []
    opened.close()
    assert reopened == controls, (reopened, controls)
    assert controls["ratio"] == "α/β = 10⁻⁵", controls


# «Mezclar con un segundo cuadro» -------------------------------------------------------------

def test_two_paintings_blend_as_the_engine(browsers, site, parity_images):
    """A second painting at 30 % (the link's mezcla=0.3): the style targets are the two paintings'
    Gram matrices mixed 0.7 : 0.3 and the recoloured start pools their palettes with those weights,
    as `stylize --style-blend-weights 0.7,0.3` does, so the first evaluation's losses are the
    engine's; they are not the first painting's alone."""
    from generator.engine.images import fit_long_side, read_image
    from generator.engine.settings import TransferSettings
    from generator.engine.transfer import run_transfer

    photo, painting = parity_images
    # At the painting's side too (parity_images'), so neither side resizes it.
    second = fit_long_side(read_image(ROOT / "site_src" / "styles" / "great_wave.jpg"), max(painting.size), allow_upscale=True)
    s = Session(browsers, site, "?lado=64&evaluaciones=1&motor=wasm&mezcla=0.3")
    s.wait_ready()
    s.upload("photo", "foto.png", png(photo))
    s.upload("painting", "cuadro.png", png(painting))
    s.upload("painting2", "segundo.png", png(second))
    s.page.wait_for_function(f"{STATE}.painting2Source === 'computed' && {STATE}.photoWidth === '{photo.width}'",
                             timeout=120_000)
    assert visible(s, "#live-blend") and s.page.locator("#live-blend-value").inner_text() == "30 % (el primero, 70 %)"
    s.start()
    state = s.wait_finished()
    ours = s.history()[0]
    name = s.page.evaluate("window.liveRun.runNames.painting")
    assert state["status"] == "done" and s.errors == [] and s.message() == "", s.message()
    s.close()
    assert name == "cuadro-y-segundo"
    blend = run_transfer(photo, [painting, second], TransferSettings(steps=1, style_blend=(0.7, 0.3)), photo.size).history[0]
    alone = run_transfer(photo, [painting], TransferSettings(steps=1), photo.size).history[0]
    for key, their_key in (("rawContent", "content"), ("rawStyle", "style"), ("total", "total")):
        assert ours[key] == pytest.approx(blend[their_key], rel=1e-3), (key, ours[key], blend[their_key])
    assert ours["rawStyle"] != pytest.approx(alone["style"], rel=1e-2)
    assert ours["rawContent"] != pytest.approx(alone["content"], rel=1e-3)   # another palette to start from


# A hint beside each control -------------------------------------------------------------------

class Elements(HTMLParser):
    """Each element with an id: its attributes and the links inside it; every id of the page."""

    def __init__(self):
        super().__init__()
        self.by_id, self.ids, self.open = {}, set(), []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "id" in attrs:
            self.ids.add(attrs["id"])
            self.by_id[attrs["id"]] = {"tag": tag, "attrs": attrs, "links": []}
        if tag == "a" and "href" in attrs:
            for element in self.open:
                element["links"].append(attrs["href"])
        if tag not in ("input", "img", "br", "meta", "link", "option"):
            self.open.append(self.by_id.get(attrs.get("id"), {"links": []}))

    def handle_endtag(self, tag):
        if tag not in ("input", "img", "br", "meta", "link", "option") and self.open:
            self.open.pop()


def parse(path) -> Elements:
    parser = Elements()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


HINTED = ("live-painting2", "live-blend", "live-ratio", "live-layers", "live-size", "live-evaluations", "live-optimizer",
          "live-init", "live-engine")


def hint_problems(page: Elements, site_dir) -> list[str]:
    problems = []
    for control in HINTED:
        hint_id = page.by_id.get(control, {}).get("attrs", {}).get("aria-describedby")
        hint = page.by_id.get(hint_id)
        if hint is None:
            problems.append(f"{control}: no hint")
            continue
        if not hint["links"]:
            problems.append(f"{control}: its hint links nowhere")
        for href in hint["links"]:
            path, _, anchor = href.partition("#")
            if path and not (site_dir / path).is_file():
                problems.append(f"{control}: {href}: no such page")
            elif anchor not in (parse(site_dir / path) if path else page).ids:
                problems.append(f"{control}: {href}: no such section")
    return problems


def test_each_control_has_a_hint_linking_to_its_explanation(built_site):
    """Each setting is described (aria-describedby) by a short hint with a link to the section of
    the site that explains it; every link reaches a page and a heading that exist."""
    site_dir = built_site.site_dir
    page = parse(site_dir / "en-vivo.html")
    assert hint_problems(page, site_dir) == []
    links = {control: page.by_id[page.by_id[control]["attrs"]["aria-describedby"]]["links"][0] for control in HINTED}
    assert links["live-ratio"] == "obra.html#capas-y-cocientes"
    assert links["live-optimizer"] == "obra.html#l-bfgs-frente-a-adam"
    assert links["live-painting2"] == links["live-blend"] == "variantes.html#dos-pinturas-a-la-vez"
    # The check catches a broken link and a control without a hint.
    page.by_id["live-size-hint"]["links"] = ["limites.html#no-existe"]
    page.by_id["live-init"]["attrs"].pop("aria-describedby")
    assert hint_problems(page, site_dir) == ["live-size: limites.html#no-existe: no such section", "live-init: no hint"]
    assert all(re.fullmatch(r"[a-z0-9-]+\.html#[a-z0-9-]+|#[a-z0-9-]+", href) for href in links.values()), links
