// Widgets on the website (no kernel): two adaptations of the ipywidgets HTML manager. Loaded deferred, so it
// runs after MathJax and before the widgets render.

// 1. The HTML manager typesets widget labels with MathJax 2's API (MathJax.Hub.Queue), but Sphinx loads
//    MathJax 3, which has no Hub: pass such requests on to MathJax 3 so widget pages with math raise no error.
if (window.MathJax && !window.MathJax.Hub) {
  window.MathJax.Hub = {
    Queue: ([, , element]) =>
      window.MathJax.startup?.promise.then(() => window.MathJax.typesetPromise([element])),
  };
}

// 2. A slider's visible label is not tied to its handle, and the handle announces an option's index ("0"),
//    not the value shown ("2"). Name each handle after its label and announce the shown value.
function labelSliders() {
  for (const slider of document.querySelectorAll(".widget-slider")) {
    const handle = slider.querySelector("[role=slider]");
    const label = slider.querySelector(".widget-label");
    const readout = slider.querySelector(".widget-readout");
    if (!handle) continue;
    if (label && handle.getAttribute("aria-label") !== label.textContent) {
      handle.setAttribute("aria-label", label.textContent);
    }
    if (readout && handle.getAttribute("aria-valuetext") !== readout.textContent) {
      handle.setAttribute("aria-valuetext", readout.textContent);
    }
  }
}
new MutationObserver(labelSliders).observe(document.documentElement, {
  subtree: true, childList: true, characterData: true, attributes: true, attributeFilter: ["aria-valuenow"],
});
