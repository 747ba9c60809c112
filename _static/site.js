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
  // The manager writes a widget's missing tooltip as the text "null"; a reader hovering a label saw it.
  for (const untitled of document.querySelectorAll('.widget-label[title="null"]')) {
    untitled.removeAttribute("title");
  }
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
  subtree: true, childList: true, characterData: true, attributes: true, attributeFilter: ["aria-valuenow", "title"],
});

// 3. Accessible names that match what a sighted reader sees (WCAG 2.5.3, "Label in Name"), checked by axe-core
//    in tests/test_browser.py. The theme's buttons exist only with JavaScript, so they are mended here; the
//    page content (code-cell toggles, bibliography) is mended in the HTML itself by tools/site_assets.py.
//    - The search buttons read "Search Ctrl+K" but were named "Search": let their text name them.
//    - The color-mode button shows the current mode's icon ("System Settings", "Light", "Dark"); say it.
//    - The book's title atop the sidebar sat outside every landmark; it is the way home, so it joins the
//      navigation landmarks.
// Each of these counts what it mends; one that has mended nothing once the page has loaded logs a console error
// (the browser tests fail on any): the theme's markup changed (written for sphinx-book-theme 1.3,
// pydata-sphinx-theme 0.17), so the workaround must be updated or removed rather than do nothing in silence.
const mended = { "book title landmark": 0, "search button name": 0, "color-mode button name": 0 };
function nameThemeButtons() {
  for (const brand of document.querySelectorAll(".bd-sidebar-primary .sidebar-primary-item:has(> .navbar-brand)")) {
    brand.setAttribute("role", "navigation");
    brand.setAttribute("aria-label", "Book");
    mended["book title landmark"] += 1;
  }
  for (const button of document.querySelectorAll(".search-button__button[aria-label]")) {
    button.removeAttribute("aria-label");
    mended["search button name"] += 1;
  }
  const mode = document.documentElement.dataset.mode;
  for (const button of document.querySelectorAll(".theme-switch-button")) {
    const icon = button.querySelector(`[data-mode="${mode}"]`);
    const shown = icon && (icon.getAttribute("title") || icon.textContent.trim());
    if (shown && button.getAttribute("aria-label") !== `Color mode: ${shown}`) {
      button.setAttribute("aria-label", `Color mode: ${shown}`);
    }
    if (shown) mended["color-mode button name"] += 1;
  }
}
document.addEventListener("DOMContentLoaded", nameThemeButtons);
new MutationObserver(nameThemeButtons).observe(document.documentElement, {
  attributes: true, attributeFilter: ["data-mode"],
});
window.addEventListener("load", () => {
  for (const [workaround, count] of Object.entries(mended)) {
    if (count === 0) {
      console.error(`site.js: the ${workaround} workaround found nothing to mend; the theme changed: update or remove it.`);
    }
  }
});
