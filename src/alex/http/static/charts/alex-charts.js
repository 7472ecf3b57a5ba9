// Draws every chart of the page: each <div data-chart="ID"> gets the Vega-Lite spec held in
// <script type="application/json" id="ID"> (a data block: never executed, so no inline script
// is needed). Vega's expressions run in the CSP-safe interpreter (ast: true), never through
// the Function constructor, so a Content-Security-Policy without 'unsafe-eval' holds.
(function () {
  "use strict";
  // Counted on the page, so a test (or a reader with devtools) sees any refusal.
  document.addEventListener("securitypolicyviolation", function () {
    var root = document.documentElement;
    var seen = Number(root.getAttribute("data-csp-violations") || 0);
    root.setAttribute("data-csp-violations", String(seen + 1));
  });
  var OPTIONS = {
    mode: "vega-lite",
    renderer: "svg", // the SVG keeps Vega's ARIA roles; the table beside it is the text view
    actions: false, // no export menu and no "open in the Vega editor" (it posts the data away)
    defaultStyle: false, // vega-embed's inline <style>: a strict style-src refuses it
    // Expressions parsed to an AST and run by vega-interpreter, never compiled with the
    // Function constructor: vega-embed 7 passes { expr: vega.expressionInterpreter } to the
    // View itself, taking the interpreter it bundles (vendor/SOURCE.md).
    ast: true,
    tooltip: false
  };

  function draw(element) {
    if (element.hasAttribute("data-drawn")) {
      return; // drawn already, or being drawn
    }
    element.setAttribute("data-drawn", "pending");
    var block = document.getElementById(element.getAttribute("data-chart"));
    if (!block) {
      element.setAttribute("data-drawn", "missing");
      return;
    }
    var spec = JSON.parse(block.textContent);
    window.vegaEmbed(element, spec, OPTIONS).then(
      function () {
        element.setAttribute("data-drawn", "true");
      },
      function (error) {
        element.setAttribute("data-drawn", "failed");
        element.textContent = "This chart could not be drawn: " + error.message;
      }
    );
  }

  function drawAll() {
    var charts = document.querySelectorAll("[data-chart]");
    for (var i = 0; i < charts.length; i += 1) {
      draw(charts[i]);
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", drawAll);
  } else {
    drawAll();
  }
  // The web pages swap parts of a page with htmx (a recomputed projection): draw the charts
  // that came in. Charts drawn before are skipped; the report page has no htmx and no swaps.
  document.addEventListener("htmx:after:settle", drawAll);
})();
