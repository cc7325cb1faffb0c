"""Debian's Chromium, driven by Playwright, over every page of the session's tiny site served on
127.0.0.1: no console error, no failed request, nothing fetched from another host, every image
decoded, every formula typeset, no sideways scroll on a phone; then the lightbox, the before/after
slider, the search and the animations. Screenshots go to test-artifacts/browser/.

`make test` installs Chromium with apt-get first; where it cannot, these tests skip saying why,
except with CI=true in the environment, where they fail (a CI run must not pass without them)."""
from __future__ import annotations

import json
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest

import browserkit
from browserkit import serve, settle
from helpers import ROOT, run_generator, run_mkdocs

pytestmark = pytest.mark.browser

ARTIFACTS = ROOT / "test-artifacts" / "browser"
DESKTOP = {"width": 1280, "height": 900}
PHONE = dict(viewport={"width": 375, "height": 740}, device_scale_factor=2, is_mobile=True, has_touch=True)
RAW_TEX = ("$$", "\\frac", "\\(", "\\)", "\\[", "\\]", "\\sum", "\\begin{")
TEMPLATE = ("<<", ">>", "<%", "%>", "<#", "#>")  # the page templates' delimiters (mkdocs.yml, macros), if one leaked

# In the page: make lazy images load now and wait for each to finish; return the broken ones.
IMAGES_JS = """async () => {
  const imgs = [...document.images];
  imgs.forEach(i => { i.loading = "eager"; });
  await Promise.all(imgs.map(i => i.complete ? null : new Promise(done => {
    i.addEventListener("load", done, {once: true});
    i.addEventListener("error", done, {once: true});
    setTimeout(done, 15000);
  })));
  return {count: imgs.length,
          broken: imgs.filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.getAttribute("src"))};
}"""

# Text a reader sees, less code blocks and KaTeX's hidden MathML copy of the source.
TEXT_JS = """() => {
  const body = document.querySelector("article") || document.body;
  const copy = body.cloneNode(true);
  copy.querySelectorAll("pre, code, script, style, .katex-mathml, .highlight").forEach(e => e.remove());
  return copy.textContent;
}"""

MATH_JS = """() => {
  const all = [...document.querySelectorAll(".arithmatex")];
  return {count: all.length,
          raw: all.filter(e => !e.querySelector(".katex")).map(e => e.textContent.slice(0, 80)),
          errors: [...document.querySelectorAll(".katex-error")].map(e => e.textContent.slice(0, 80))};
}"""

FRAMES_JS = """async (src) => {
  if (typeof ImageDecoder === "undefined") return -1;
  const response = await fetch(src);
  const type = response.headers.get("content-type");
  const decoder = new ImageDecoder({data: response.body, type});
  await decoder.tracks.ready;
  await decoder.completed;
  return decoder.tracks.selectedTrack.frameCount;
}"""

# Play a video and wait for its clock to move (a timeupdate past the start); after 15 s without
# one, return the times as they are and the test reports the video as not playing.
VIDEO_JS = """async (video) => {
  video.muted = true;
  const t0 = video.currentTime;
  await video.play();
  const t1 = await new Promise(done => {
    const moved = () => { if (video.currentTime > t0) done(video.currentTime); };
    video.addEventListener("timeupdate", moved);
    setTimeout(() => done(video.currentTime), 15000);
    moved();
  });
  return [t0, t1];
}"""


@dataclass
class Visit:
    page: str
    console_errors: list = field(default_factory=list)
    failed: list = field(default_factory=list)
    foreign: list = field(default_factory=list)
    images: dict = field(default_factory=dict)
    math: dict = field(default_factory=dict)
    raw_tex: list = field(default_factory=list)
    template: list = field(default_factory=list)
    overflow: dict = field(default_factory=dict)
    videos: list = field(default_factory=list)
    animated: dict = field(default_factory=dict)


def test_missing_chromium_fails_under_ci(monkeypatch, tmp_path):
    monkeypatch.setattr(browserkit, "CHROMIUM", str(tmp_path / "no-chromium"))
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="no-chromium"):
        browserkit.require_browser()
    monkeypatch.delenv("CI")
    with pytest.raises(pytest.skip.Exception, match="no-chromium"):
        browserkit.require_browser()


def test_one_local_server_for_tests_and_bench(tmp_path):
    """The tests and the browser bench serve through generator/bench/serve.py, which sends the
    headers it is given (the bench's COOP/COEP) and none otherwise; no copy of it is left."""
    import urllib.request

    from generator.bench import browser as bench_browser
    from generator.bench import serve as shared

    assert browserkit.serve is shared.serve and bench_browser.serve is shared.serve
    starts_a_server = re.compile(r"HTTPServer\(")
    copies = [p.relative_to(ROOT).as_posix() for folder in ("generator", "tests") for p in ROOT.joinpath(folder).rglob("*.py")
              if starts_a_server.search(p.read_text(encoding="utf-8")) and p != Path(shared.__file__)]
    assert copies == []
    (tmp_path / "a.txt").write_text("hola", encoding="utf-8")
    for headers in (shared.ISOLATION, None):
        with serve(tmp_path, headers) as base, urllib.request.urlopen(base + "a.txt") as response:
            assert response.read() == b"hola"
            sent = {name: response.headers.get(name) for name in shared.ISOLATION}
        assert sent == (shared.ISOLATION if headers else dict.fromkeys(shared.ISOLATION))


def pages(site_dir: Path) -> list[str]:
    return sorted(p.relative_to(site_dir).as_posix() for p in site_dir.rglob("*.html"))


def watch(page, visit: Visit, base: str) -> None:
    host = urlsplit(base).netloc
    page.on("console", lambda m: m.type == "error" and visit.console_errors.append(m.text))
    page.on("pageerror", lambda e: visit.console_errors.append(str(e)))
    page.on("requestfailed", lambda r: visit.failed.append(f"{r.url} ({r.failure})"))
    page.on("response", lambda r: r.status >= 400 and visit.failed.append(f"{r.url} (HTTP {r.status})"))

    def navigated(frame):
        # A page that reloads itself (the live page, once, to become cross-origin isolated) aborts
        # the requests its first document had in flight: not failures of the page.
        if frame == page.main_frame:
            visit.failed[:] = [f for f in visit.failed if not f.endswith("(net::ERR_ABORTED)")]

    page.on("framenavigated", navigated)

    def route(r):
        url = urlsplit(r.request.url)
        if url.scheme in ("http", "https", "ws", "wss") and url.netloc != host:
            visit.foreign.append(r.request.url)
            return r.abort()
        return r.continue_()

    page.route("**/*", route)


def screenshot(page, name: str) -> None:
    """The whole page into ARTIFACTS/name: PNG, or JPEG for a name ending in .jpg (the visits' two
    full-page shots of every page: Chromium's PNG encoding of those, a phone's at twice the pixels
    above all, took about as much CPU as the visits themselves, and wrote some 90 MB)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    jpeg = {"type": "jpeg", "quality": 85} if name.endswith(".jpg") else {}
    page.screenshot(path=str(ARTIFACTS / name), full_page=True, **jpeg)


@pytest.fixture(scope="module")
def visits(built_site, site, browser, tmp_path_factory) -> dict[str, Visit]:
    """Every page once on a desktop and once on a phone, each visit in a new page; what went wrong
    is collected per page. Each device's pages share a context whose HTTP cache is on disk (a
    profile folder of its own), and so V8's code cache: a page's new renderer process takes the
    site's scripts (Material's, KaTeX…) compiled by the earlier visits instead of compiling them
    again (an incognito context keeps no code cache: measured, 17 pages loaded in new pages took
    45 CPU-s of Chromium incognito, 29 with the cache on disk)."""
    shutil.rmtree(ARTIFACTS, ignore_errors=True)
    animation_files = {rel.removeprefix("generated/") for entry in built_site.manifest["figures"].values()
                       for role, rel in entry["files"].items() if role == "animation"}
    found = {}
    desktop, phone = (browser.browser_type.launch_persistent_context(
        tmp_path_factory.mktemp(f"visits-{device}"), executable_path=browserkit.CHROMIUM, args=browserkit.ARGS,
        **options) for device, options in (("desktop", {"viewport": DESKTOP}), ("phone", PHONE)))
    for name in pages(built_site.site_dir):
        visit = found[name] = Visit(name)
        page = desktop.new_page()
        watch(page, visit, site)
        page.goto(site + name, wait_until="load")
        settle(page)
        visit.images = page.evaluate(IMAGES_JS)
        page.wait_for_load_state("networkidle")
        if page.evaluate("document.querySelector('.arithmatex') !== null"):
            try:
                page.wait_for_function("[...document.querySelectorAll('.arithmatex')]"
                                       ".every(e => e.querySelector('.katex, .katex-error'))", timeout=15000)
            except Exception:
                pass  # reported below as raw formulas
        visit.math = page.evaluate(MATH_JS)
        text = page.evaluate(TEXT_JS)
        visit.raw_tex = [t for t in RAW_TEX if t in text]
        visit.template = [text[max(0, i - 40):i + 40] for t in TEMPLATE if (i := text.find(t)) >= 0]
        for src in page.evaluate("[...document.images].map(i => i.getAttribute('src'))"):
            if src and (src.endswith(".gif") or src.removeprefix("generated/") in animation_files):
                visit.animated[src] = page.evaluate(FRAMES_JS, src)
        for video in page.query_selector_all("video"):
            visit.videos.append((video.get_attribute("src") or "video", page.evaluate(VIDEO_JS, video)))
        screenshot(page, name.replace("/", "_").replace(".html", "-desktop.jpg"))
        page.close()

        page = phone.new_page()
        watch(page, visit, site)
        page.goto(site + name, wait_until="load")
        settle(page)
        page.evaluate(IMAGES_JS)
        page.wait_for_load_state("networkidle")
        visit.overflow = page.evaluate("({scroll: document.documentElement.scrollWidth, "
                                       "view: document.documentElement.clientWidth})")
        screenshot(page, name.replace("/", "_").replace(".html", "-phone.jpg"))
        page.close()
    desktop.close()
    phone.close()
    return found


def problems(visits, attribute) -> dict:
    return {name: getattr(v, attribute) for name, v in visits.items() if getattr(v, attribute)}


def test_site_has_the_pages(visits):
    assert {"index.html", "galeria.html", "creditos.html"} <= set(visits)


def test_no_console_errors(visits):
    assert problems(visits, "console_errors") == {}


def test_no_failed_requests(visits):
    assert problems(visits, "failed") == {}


def test_no_requests_to_other_hosts(visits):
    assert problems(visits, "foreign") == {}


def test_every_image_decodes(visits):
    assert {n: v.images["broken"] for n, v in visits.items() if v.images["broken"]} == {}
    assert visits["galeria.html"].images["count"] > 0


def test_formulas_are_typeset(visits):
    assert {n: v.math["raw"] + v.math["errors"] for n, v in visits.items()
            if v.math["raw"] or v.math["errors"]} == {}
    assert problems(visits, "raw_tex") == {}
    assert sum(v.math["count"] for v in visits.values()) > 0, "no formula on any page"


def test_no_template_syntax_left(visits):
    assert problems(visits, "template") == {}


def test_phone_has_no_horizontal_scroll(visits):
    wide = {n: v.overflow for n, v in visits.items() if v.overflow["scroll"] > v.overflow["view"]}
    assert wide == {}


def test_animations_play(visits):
    animated = {src: frames for v in visits.values() for src, frames in v.animated.items()}
    videos = [(src, times) for v in visits.values() for src, times in v.videos]
    assert animated or videos, "no animation on any page"
    assert -1 not in animated.values(), "this Chromium has no ImageDecoder"
    assert {src: n for src, n in animated.items() if n < 2} == {}
    assert [(src, t) for src, t in videos if not t[1] > t[0]] == []


# --- interactions on the gallery -----------------------------------------------------------------

@pytest.fixture
def gallery(built_site, site, browser):
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    visit = Visit("galeria.html")
    watch(page, visit, site)
    page.goto(site + "galeria.html", wait_until="networkidle")
    yield page
    context.close()
    assert visit.console_errors == [] and visit.failed == [] and visit.foreign == []


def test_lightbox_shows_large_image_and_title(gallery, built_site):
    titles = [e["title"] for e in built_site.manifest["catalog"]["style"]]
    link = gallery.locator(".st-card__painting a.glightbox").first
    title = gallery.locator(".st-card__title").first.inner_text()
    assert title in titles
    href = link.get_attribute("href")
    link.click()
    slide = gallery.locator(".glightbox-container .gslide.current")
    slide.locator("img").wait_for(state="visible", timeout=10000)
    img = slide.locator("img")
    gallery.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=img.element_handle())
    assert img.get_attribute("src").endswith(href)
    thumb = gallery.locator(".st-card__painting img").first.evaluate("i => i.naturalWidth")
    assert img.evaluate("i => i.naturalWidth") > thumb  # the large image, not the thumbnail
    assert title in slide.locator(".gslide-title").inner_text()
    screenshot(gallery, "galeria-lightbox.png")


def test_before_after_slider_moves(gallery):
    box = gallery.locator(".st-compare").first
    box.scroll_into_view_if_needed()
    before = gallery.locator(".st-compare__before").first
    clip0 = before.evaluate("e => getComputedStyle(e).clipPath")
    r = box.bounding_box()
    y = r["y"] + r["height"] / 2
    gallery.mouse.move(r["x"] + r["width"] * 0.5, y)
    gallery.mouse.down()
    gallery.mouse.move(r["x"] + r["width"] * 0.85, y, steps=8)
    gallery.mouse.up()
    value = int(box.locator(".st-compare__range").input_value())
    assert 75 <= value <= 95, value
    assert box.evaluate("e => e.style.getPropertyValue('--pos')") == f"{value}%"
    assert before.evaluate("e => getComputedStyle(e).clipPath") != clip0
    screenshot(gallery, "galeria-slider.png")


def test_the_switch_puts_the_networks_result_under_the_photo(gallery):
    """Galería's two radio buttons swap Gatys' result for the trained network's (CSS only), and the
    card's thumbnail and what its lightbox opens follow them (compare.js)."""
    card = gallery.locator(".st-card").filter(has=gallery.locator(".st-switch__input--net")).first
    switch = card.locator(".st-switch")
    switch.scroll_into_view_if_needed()
    after, net = switch.locator(".st-compare__after"), switch.locator(".st-compare__net")
    box = card.locator(".st-card__result")
    thumb, link = box.locator("img"), box.locator("a.glightbox")
    gatys_thumb, gatys_href = thumb.get_attribute("src"), link.get_attribute("href")
    net_thumb, net_href = box.get_attribute("data-net-src"), box.get_attribute("data-net-href")
    assert net_href == net.get_attribute("src") and net_thumb != gatys_thumb and net_href != gatys_href
    visibility = "e => getComputedStyle(e).visibility"
    assert (after.evaluate(visibility), net.evaluate(visibility)) == ("visible", "hidden")
    switch.locator(".st-switch__label").nth(1).click()
    assert (after.evaluate(visibility), net.evaluate(visibility)) == ("hidden", "visible")
    gallery.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=net.element_handle())
    assert (thumb.get_attribute("src"), link.get_attribute("href")) == (net_thumb, net_href)
    assert "red entrenada" in link.get_attribute("data-title")
    gallery.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=thumb.element_handle())
    screenshot(gallery, "galeria-switch.png")
    link.click()   # the lightbox opens the network's result, not Gatys'
    slide = gallery.locator(".glightbox-container .gslide.current")
    slide.locator("img").wait_for(state="visible", timeout=10000)
    assert slide.locator("img").get_attribute("src").endswith(net_href)
    assert "red entrenada" in slide.locator(".gslide-title").inner_text()
    gallery.keyboard.press("Escape")
    gallery.locator(".glightbox-container").wait_for(state="detached", timeout=10000)
    switch.locator(".st-switch__input--gatys").press("Space")   # the keyboard too: a radio group
    assert (after.evaluate(visibility), net.evaluate(visibility)) == ("visible", "hidden")
    assert (thumb.get_attribute("src"), link.get_attribute("href")) == (gatys_thumb, gatys_href)


def test_search_finds_gram(built_site, site, browser):
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    page.goto(site + "index.html", wait_until="networkidle")
    search = page.locator("input.md-search__input")
    search.click()
    search.press_sequentially("Gram", delay=60)  # typed: the search listens to key events
    results = page.locator(".md-search-result__item")
    results.first.wait_for(timeout=15000)
    assert "gram" in results.first.inner_text().lower()
    screenshot(page, "search-gram.png")
    results.first.locator("a").first.click()
    page.wait_for_load_state("load")
    assert "Gram" in page.locator("article").inner_text()
    context.close()


# --- a title with markup -------------------------------------------------------------------------

MARKUP_TITLE = '<b>Negrita</b> *cursiva* & <img src=x onerror="alert(1)"> `código`'


@pytest.fixture(scope="module")
def markup_site(built_site, project_copy_factory):
    """The tiny site again, with HTML and Markdown in the first painting's title."""
    root = project_copy_factory("markup_title", source=built_site.root, with_build=True)
    path = root / "site_src" / "catalog.toml"
    old = built_site.manifest["catalog"]["style"][0]["title"]
    text = path.read_text(encoding="utf-8")
    assert text.count(f"title = {json.dumps(old, ensure_ascii=False)}") == 1
    path.write_text(text.replace(f"title = {json.dumps(old, ensure_ascii=False)}",
                                 f"title = {json.dumps(MARKUP_TITLE)}"), encoding="utf-8")
    build = run_generator(root, "build", "--profile", built_site.manifest["profile"], "--quiet")
    assert build.returncode == 0 and build.stdout.startswith("build: 0 computed"), build.stderr
    site = run_mkdocs(root, notebook=False)   # the test reads Galería, Créditos and the home page
    assert site.returncode == 0, site.stderr
    return root / "site"


def test_markup_in_title_is_shown_literally(built_site, markup_site, browser):
    # The home page's hero shows the painting whose title was changed: it must show it literally too.
    assert built_site.manifest["hero"]["style"] == built_site.manifest["catalog"]["style"][0]["name"]
    with serve(markup_site) as base:
        context = browser.new_context(viewport=DESKTOP)
        page = context.new_page()
        visit = Visit("markup")
        watch(page, visit, base)
        dialogs = []
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.goto(base + "galeria.html", wait_until="networkidle")
        card = page.locator(".st-card").first
        assert card.locator(".st-card__title").inner_text() == MARKUP_TITLE
        assert card.locator(".st-card__title b, .st-card__title em, .st-card__title img").count() == 0
        card.locator(".st-card__painting a.glightbox").click()
        title = page.locator(".glightbox-container .gslide.current .gslide-title")
        title.wait_for(timeout=10000)
        assert title.inner_text() == MARKUP_TITLE
        assert title.locator("b, em, img").count() == 0
        screenshot(page, "markup-title-lightbox.png")
        for name in ("creditos.html", "index.html"):
            page.goto(base + name, wait_until="networkidle")
            content = page.locator("article")
            assert MARKUP_TITLE in content.inner_text(), name
            assert content.locator("b:text('Negrita'), img[src='x']").count() == 0
        context.close()
        assert dialogs == [] and visit.console_errors == []
