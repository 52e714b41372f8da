/* Portail citoyen — the quick exit of the violence pages ("Quitter rapidement ce site").
   Loaded in <head>, before anything else of the page: the exit works from the first moment, even on a
   slow connection where the rest of the scripts are still on their way. Without JavaScript it is a
   plain link to a neutral site. */
(function () {
  "use strict";

  /* Leave for the neutral site, replacing this page in the history: Back does not return to it. */
  function quickExit(url) {
    try { window.sessionStorage.clear(); } catch (e) { /* storage may be disabled */ }
    /* The server forgets the answers kept in this session (portal.views.quick_exit); the beacon
       does not delay the exit. */
    var field = document.querySelector('input[name="csrf_token"]');
    var meta = document.querySelector('meta[name="csrf-token"]');
    var token = field ? field.value : (meta ? meta.content : null);
    var exit = document.querySelector("[data-quick-exit]");
    if (token && exit && exit.dataset.forget && navigator.sendBeacon) {
      var form = new FormData();
      form.append("csrf_token", token);
      navigator.sendBeacon(exit.dataset.forget, form);
    }
    window.location.replace(url);
  }

  document.addEventListener("click", function (event) {
    var link = event.target.closest ? event.target.closest("[data-quick-exit]") : null;
    if (link) {
      event.preventDefault();
      quickExit(link.href);
    }
  });

  var shiftPresses = 0;
  var shiftTimer = null;
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Shift") { return; }
    var link = document.querySelector("[data-quick-exit]");
    if (!link) { return; }
    shiftPresses += 1;
    window.clearTimeout(shiftTimer);
    shiftTimer = window.setTimeout(function () { shiftPresses = 0; }, 1000);
    if (shiftPresses >= 3) { quickExit(link.href); }
  });
})();
