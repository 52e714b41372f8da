/* Portail citoyen — small enhancements. Every page works without this file. */
(function () {
  "use strict";

  /* A search that led to the violence pages keeps its query out of the address bar and the history.
     - A full results page (Enter, the header's search form, a link) is marked by the server
       (data-neutral-address, templates/search/results.html): this history entry takes the neutral
       address at once, so that Back, after the quick exit, reloads an empty search page.
     - Live results: the sensitive answers tell htmx to write the neutral address (HX-Replace-Url,
       search/views.py), and once the quick-exit button has come with them, the search box stops
       writing addresses for the rest of this page's life: the next search may be ordinary
       ("porter plainte" after "mon mari me frappe"), and htmx reads hx-replace-url as each
       answer arrives. */
  function stopWritingQueries() {
    if (!document.querySelector("[data-quick-exit]")) { return; }
    var input = document.getElementById("search-input");
    if (input) { input.removeAttribute("hx-replace-url"); }
  }

  var neutral = document.querySelector("[data-neutral-address]");
  if (neutral && window.history.replaceState) {
    window.history.replaceState(window.history.state, "", neutral.getAttribute("data-neutral-address"));
  }
  stopWritingQueries();
  document.addEventListener("htmx:afterSwap", stopWritingQueries);

  /* A page that showed something about violence (its quick-exit button is there) leaves
     nothing for Back to bring again: the browser may keep it whole in its back-forward cache,
     and the search box and its live results are emptied before it does. */
  window.addEventListener("pagehide", function () {
    if (!document.querySelector("[data-quick-exit]")) { return; }
    var input = document.getElementById("search-input");
    if (input) { input.value = ""; }
    ["search-results", "search-status"].forEach(function (id) {
      var region = document.getElementById(id);
      if (region) { region.textContent = ""; }
    });
  });

  /* CSRF: htmx requests that change something carry the page's token in a header. */
  document.addEventListener("htmx:configRequest", function (event) {
    if (event.detail.verb === "get") { return; }
    var meta = document.querySelector('meta[name="csrf-token"]');
    var field = document.querySelector('input[name="csrf_token"]');
    var token = meta ? meta.content : (field ? field.value : null);
    if (token) { event.detail.headers["X-CSRFToken"] = token; }
  });

  /* Station finder: "autour de moi" asks for the position only when clicked. */
  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("[data-locate]") : null;
    if (!button) { return; }
    event.preventDefault();
    var form = button.form;
    var status = document.getElementById(button.getAttribute("data-locate"));
    if (!navigator.geolocation) {
      status.textContent = "Votre navigateur ne permet pas de vous localiser : indiquez une commune ou un code postal.";
      return;
    }
    status.textContent = "Recherche de votre position…";
    navigator.geolocation.getCurrentPosition(function (position) {
      form.elements.q.value = position.coords.latitude.toFixed(5) + "," + position.coords.longitude.toFixed(5);
      form.submit();
    }, function () {
      status.textContent = "Votre position n'a pas pu être obtenue : indiquez une commune ou un code postal.";
    }, {timeout: 10000, maximumAge: 60000});
  });
})();
