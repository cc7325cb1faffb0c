// Render the LaTeX that pymdownx.arithmatex (generic mode) leaves in .arithmatex elements,
// with the KaTeX copy vendored under docs/vendor/katex (no CDN). Material's document$
// fires on every page load, including pages reached through instant navigation.
(function () {
  "use strict";

  function renderMath(root) {
    if (typeof renderMathInElement !== "function") return;
    root.querySelectorAll(".arithmatex").forEach(function (el) {
      renderMathInElement(el, {
        delimiters: [
          { left: "\\(", right: "\\)", display: false },
          { left: "\\[", right: "\\]", display: true }
        ],
        throwOnError: false
      });
    });
  }

  if (typeof document$ !== "undefined") {
    document$.subscribe(function () { renderMath(document.body); });
  } else if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { renderMath(document.body); });
  } else {
    renderMath(document.body);
  }
})();
