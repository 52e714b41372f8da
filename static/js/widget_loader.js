/* Portail citoyen: turns <div data-portail-widget="recherche" data-commune="72181"> into the widget's iframe.
 *
 * Served at /widgets/loader.js; no dependency. Options, as data- attributes: data-commune (code INSEE),
 * data-theme (clair|sombre), data-compact (1), data-demarches (slug,slug), data-carte (1),
 * data-resultats (widget|portail), data-titre (the iframe's title, if the page needs another).
 * Heights: the frame reports its own (widget_frame.js); a message is used only when it comes from the
 * portal's origin and from that very iframe, and only as an integer height clamped to 80..4000 px.
 */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || !script.src) return;
  var portal = new URL(script.src).origin;
  var WIDGETS = {
    recherche: ["Rechercher une démarche de police ou de gendarmerie", 260],
    situations: ["Démarches de police et de gendarmerie selon votre situation", 640],
    unites: ["Commissariats et brigades de gendarmerie les plus proches", 640],
    demarche: ["Démarches de police et de gendarmerie", 320],
    urgences: ["Numéros d'urgence et unités de police et de gendarmerie les plus proches", 560]
  };
  var OPTIONS = ["commune", "theme", "compact", "demarches", "carte", "resultats"];
  var frames = [];

  function build(host) {
    var name = host.getAttribute("data-portail-widget");
    if (!Object.prototype.hasOwnProperty.call(WIDGETS, name) || host.querySelector("iframe[data-portail-frame]")) return;
    var url = new URL("/widgets/" + name, portal);
    OPTIONS.forEach(function (option) {
      var value = host.getAttribute("data-" + option);
      if (value) url.searchParams.set(option, value);
    });
    var frame = document.createElement("iframe");
    frame.setAttribute("data-portail-frame", name);
    frame.title = host.getAttribute("data-titre") || WIDGETS[name][0] + " (Portail citoyen)";
    frame.src = url.href;
    frame.width = "100%";
    frame.height = String(WIDGETS[name][1]);
    frame.setAttribute("loading", "lazy");
    frame.setAttribute("sandbox", "allow-scripts allow-same-origin allow-forms allow-popups allow-popups-to-escape-sandbox");
    frame.setAttribute("referrerpolicy", "strict-origin");
    frame.style.border = "0";
    frame.style.display = "block";
    frame.addEventListener("load", function () {
      frame.contentWindow.postMessage({ type: "portail-widget:bonjour" }, portal);
    });
    host.appendChild(frame);
    frames.push(frame);
  }

  window.addEventListener("message", function (event) {
    if (event.origin !== portal || !event.data || event.data.type !== "portail-widget:hauteur") return;
    var height = event.data.height;
    if (typeof height !== "number" || !isFinite(height)) return;
    height = Math.min(4000, Math.max(80, Math.round(height)));
    for (var i = 0; i < frames.length; i++) {
      if (frames[i].contentWindow === event.source) frames[i].height = String(height);
    }
  });

  function start() {
    Array.prototype.forEach.call(document.querySelectorAll("[data-portail-widget]"), build);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
