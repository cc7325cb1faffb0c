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

  function syncAll() {
    document.querySelectorAll(".st-compare__range").forEach(update);
  }

  document.addEventListener("input", function (ev) {
    var t = ev.target;
    if (t && t.classList && t.classList.contains("st-compare__range")) update(t);
  });

  if (typeof document$ !== "undefined") {
    document$.subscribe(syncAll);
  } else {
    document.addEventListener("DOMContentLoaded", syncAll);
  }
})();
