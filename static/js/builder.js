/* Builder page for mairies (/mairies): copy buttons, the live preview's height, htmx updates announced.
   The page works without this file: the snippets are selectable text, the preview has a fixed height. */
(function () {
  "use strict";

  var MIN_HEIGHT = 80;
  var MAX_HEIGHT = 4000;

  function status(id, text) {
    var region = document.getElementById(id);
    if (region) { region.textContent = text; }
  }

  function select(element) {
    var range = document.createRange();
    range.selectNodeContents(element);
    var selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
  }

  /* Copy buttons are hidden until this script can make them work. */
  function showButtons(root) {
    if (!navigator.clipboard || !window.isSecureContext) { return; }
    Array.prototype.forEach.call(root.querySelectorAll("[data-copy]"), function (button) {
      button.hidden = false;
    });
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("[data-copy]") : null;
    if (!button) { return; }
    var id = button.getAttribute("data-copy");
    var code = document.getElementById(id);
    if (!code) { return; }
    var failed = function () {
      select(code);
      status(id + "-status", "La copie automatique n'a pas fonctionné : le code est sélectionné, copiez-le avec Ctrl+C (ou Cmd+C).");
    };
    status(id + "-status", "");
    navigator.clipboard.writeText(code.textContent).then(function () {
      status(id + "-status", "Code copié dans le presse-papiers.");
    }, failed);
  });

  /* The preview speaks the loader's protocol (docs/widgets.md): hello once loaded, then heights from that
     frame only, on the portal's own origin, clamped; nothing else in a message is used. */
  function greet(frame) {
    var hello = function () {
      if (frame.contentWindow) {
        frame.contentWindow.postMessage({type: "portail-widget:bonjour"}, window.location.origin);
      }
    };
    frame.addEventListener("load", hello);
    hello();  /* the frame may have loaded before this deferred script ran; a second hello is harmless */
  }

  window.addEventListener("message", function (event) {
    var frame = document.getElementById("builder-preview");
    if (!frame || event.origin !== window.location.origin || event.source !== frame.contentWindow) { return; }
    var data = event.data;
    if (!data || data.type !== "portail-widget:hauteur") { return; }
    if (typeof data.height !== "number" || !isFinite(data.height)) { return; }  /* as the loader: a number only */
    var height = Math.round(data.height);
    /* The height attribute, not a style: htmx copies a swapped element's old attributes while it settles, and a
       style attribute would break the page's Content-Security-Policy (style-src-attr). */
    frame.setAttribute("height", String(Math.min(MAX_HEIGHT, Math.max(MIN_HEIGHT, height))));
  });

  function prepare(root) {
    showButtons(root);
    var frame = document.getElementById("builder-preview");
    if (frame && root.contains(frame)) { greet(frame); }
  }

  prepare(document);
  document.addEventListener("htmx:afterSwap", function (event) {
    if (!event.detail.target || event.detail.target.id !== "builder-result") { return; }
    prepare(event.detail.target);
    var output = document.getElementById("builder-output");
    if (output) { status("builder-status", output.getAttribute("data-summary") || ""); }
  });
})();
