// Before/after slider of the gallery: an <input type="range"> over two stacked images sets
// the CSS variable --pos, which clips the top image (the photo). Events are delegated to the
// document, so sliders on pages loaded by Material's instant navigation work too; document$
// re-syncs the positions after each page load (browsers may restore a range's value).
(function () {
  "use strict";

  function update(range) {
    var box = range.closest(".st-compare");
    if (!box) return;
    var v = Number(range.value);
    box.style.setProperty("--pos", v + "%");
    var percent = window.SiteNumbers.formatEs;   // numbers.js, loaded before this script
    // What the two sides show: the photo and the result, unless the slider names them
    // (Después de 2015 compares Gatys' result with a trained network's).
    var before = range.dataset.before || "fotografía", after = range.dataset.after || "resultado";
    range.setAttribute("aria-valuetext", percent(v / 100, ".0%", "text") + " " + before + ", "
      + percent((100 - v) / 100, ".0%", "text") + " " + after);
  }

  // Galería: the card's thumbnail (and what its lightbox opens) follows the switch between Gatys'
  // result and the trained network's. The network's side is in the result box's data-net-*
  // attributes (macros/includes/gallery.html); Gatys' side is read from the page on first use.
  var SIDES = [["src", "img", "src"], ["alt", "img", "alt"], ["href", "a", "href"],
               ["title", "a", "data-title"], ["desc", "a", "data-description"]];

  function follow(input) {
    var card = input.closest(".st-card");
    var box = card && card.querySelector(".st-card__result[data-net-src]");
    if (!box) return;
    var net = card.querySelector(".st-switch__input--net");
    var side = net && net.checked ? "net" : "gatys";
    if (box.dataset.showing === side || (!box.dataset.showing && side === "gatys")) {
      box.dataset.showing = side;   // as built: nothing to swap
      return;
    }
    SIDES.forEach(function (s) {
      var el = box.querySelector(s[1]);
      if (!el) return;
      var key = "gatys" + s[0].charAt(0).toUpperCase() + s[0].slice(1);
      if (!(key in box.dataset)) box.dataset[key] = el.getAttribute(s[2]) || "";
      var value = side === "net" ? box.dataset["net" + key.slice(5)] : box.dataset[key];
      if (value !== undefined) el.setAttribute(s[2], value);
    });
    box.dataset.showing = side;
    // GLightbox reads its links when it starts: have it read them again (mkdocs-glightbox's global).
    if (typeof lightbox !== "undefined" && lightbox && typeof lightbox.reload === "function") lightbox.reload();
  }

  function syncAll() {
    document.querySelectorAll(".st-compare__range").forEach(update);
    document.querySelectorAll(".st-switch__input--net").forEach(follow);
  }

  document.addEventListener("input", function (ev) {
    var t = ev.target;
    if (t && t.classList && t.classList.contains("st-compare__range")) update(t);
  });

  document.addEventListener("change", function (ev) {
    var t = ev.target;
    if (t && t.classList && t.classList.contains("st-switch__input")) follow(t);
  });

  if (typeof document$ !== "undefined") {
    document$.subscribe(syncAll);
  } else {
    document.addEventListener("DOMContentLoaded", syncAll);
  }
})();
