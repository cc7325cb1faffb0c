// Render the LaTeX in notebook pages (mkdocs-jupyter leaves $...$ as text for MathJax, which this
// offline site does not load) with the vendored KaTeX. Only touches .jupyter-wrapper; code cells
// and outputs in <pre>/<code> are skipped by auto-render.
(function () {
  "use strict";

  function renderNotebookMath() {
    if (typeof renderMathInElement !== "function") return;
    document.querySelectorAll(".jupyter-wrapper").forEach(function (el) {
      renderMathInElement(el, {
        delimiters: [
          { left: "$$", right: "$$", display: true },
          { left: "$", right: "$", display: false },
          { left: "\\(", right: "\\)", display: false },
          { left: "\\[", right: "\\]", display: true }
        ],
        throwOnError: false
      });
    });
  }

  if (typeof document$ !== "undefined") {
    document$.subscribe(renderNotebookMath);
  } else if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", renderNotebookMath);
  } else {
    renderNotebookMath();
  }
})();
