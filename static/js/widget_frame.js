/* Inside a widget's frame: tell the embedding page the widget's height, and nothing else.
 *
 * The page's loader (/widgets/loader.js) says {type: "portail-widget:bonjour"} once the frame has loaded.
 * It is answered only when it comes from this frame's parent window and from an origin the server listed
 * in <html data-parent-origins> (the mairie's registered sites and the portal itself); from then on, every
 * change of size is posted to that origin only, as {type: "portail-widget:hauteur", height: <integer px>}.
 * Without the loader, or without JavaScript, the widget works the same at the iframe's own height.
 */
(function () {
  "use strict";
  if (window.parent === window) return;
  var allowed = (document.documentElement.getAttribute("data-parent-origins") || "").split(" ").filter(Boolean);
  var target = null;
  var last = 0;

  function height() {
    var frame = document.getElementById("widget") || document.body;
    return Math.ceil(frame.getBoundingClientRect().height);
  }

  function send() {
    if (!target) return;
    var current = height();
    if (current === last) return;
    last = current;
    window.parent.postMessage({ type: "portail-widget:hauteur", height: current }, target);
  }

  window.addEventListener("message", function (event) {
    if (event.source !== window.parent || allowed.indexOf(event.origin) === -1) return;
    if (!event.data || event.data.type !== "portail-widget:bonjour") return;
    target = event.origin;
    last = 0;
    send();
  });

  if ("ResizeObserver" in window) {
    new ResizeObserver(send).observe(document.getElementById("widget") || document.body);
  } else {
    window.addEventListener("resize", send);
  }
})();
