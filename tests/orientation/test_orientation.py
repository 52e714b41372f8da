"""The orientation /porter-plainte: every path of the tree, without JavaScript and with htmx.

The answers live in the server-side session: no Location header, no link and no pushed address may
carry them. Pages reached after a choice about violence send no-store and carry the quick exit.
"""

from __future__ import annotations

import re
from html import unescape

import pytest
from werkzeug.exceptions import HTTPException
from werkzeug.routing import RequestRedirect

from orientation import tree
from orientation.views import ANSWERS_KEY

BASE = "/porter-plainte"
# Every address of the journey: a question, the summary, the outcome (and the start page, the restart form).
JOURNEY_URLS = {BASE, f"{BASE}/recapitulatif", f"{BASE}/resultat", f"{BASE}/recommencer"} | {
    f"{BASE}/{slug}" for slug in tree.QUESTIONS}

NO_DANGER = (("danger", "non"),)
# (answers in order, outcome id, heading of the outcome page, primary link, its fallback when not served)
PATHS = [
    ((("danger", "oui"),), "urgence", "Appelez le 17 ou le 112 maintenant", "tel:17", None),
    ((*NO_DANGER, ("faits", "vol"), ("auteur", "non")), "plainte_en_ligne", "Déposez plainte en ligne",
     "/plainte-en-ligne", "/demarches/plainte-en-ligne"),
    ((*NO_DANGER, ("faits", "vol"), ("auteur", "oui")), "visio_ou_unite",
     "Portez plainte en visio-plainte ou dans un commissariat ou une gendarmerie",
     "/visio-plainte", "/demarches/visio-plainte"),
    ((*NO_DANGER, ("faits", "perte")), "perte", "Une perte ne donne pas lieu à une plainte",
     "/demarches/perte-papiers-identite", None),
    ((*NO_DANGER, ("faits", "arnaque"), ("argent", "oui")), "thesee",
     "Portez plainte ou signalez l'arnaque sur THESEE", "/demarches/thesee", None),
    ((*NO_DANGER, ("faits", "arnaque"), ("argent", "non"), ("canal", "public")), "pharos_arnaque",
     "Signalez le site ou l'annonce frauduleuse sur Pharos", "/demarches/pharos", None),
    ((*NO_DANGER, ("faits", "arnaque"), ("argent", "non"), ("canal", "prive")), "cyber_arnaque",
     "Faites le point sur 17Cyber", "/demarches/17cyber", None),
    ((*NO_DANGER, ("faits", "contenu")), "pharos", "Signalez le contenu sur Pharos", "/demarches/pharos", None),
    ((*NO_DANGER, ("faits", "piratage")), "cyber", "Faites-vous aider sur 17Cyber", "/demarches/17cyber", None),
    ((*NO_DANGER, ("faits", "violences")), "violences",
     "Portez plainte en visio-plainte ou dans un commissariat ou une gendarmerie",
     "/visio-plainte", "/demarches/visio-plainte"),
    ((*NO_DANGER, ("faits", "violences_sexuelles")), "violences_sexuelles",
     "Portez plainte en personne, au commissariat ou à la gendarmerie", "/commissariats", None),
]
SENSITIVE_OUTCOMES = {"urgence", "violences", "violences_sexuelles"}


def _csrf(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def _html(response) -> str:
    return response.get_data(as_text=True)


def _h1(html: str) -> str:
    return unescape(re.sub(r"<[^>]+>", "", re.search(r"<h1[^>]*>(.*?)</h1>", html, re.S).group(1))).strip()


def _primary(html: str) -> str:
    return unescape(re.search(r'<a class="fr-btn fr-btn--lg[^"]*" href="([^"]+)"', html).group(1))


def _served(app, path: str) -> bool:
    """Whether the portal serves ``path`` (the plainte en ligne and the visio-plainte are built beside)."""
    adapter = app.url_map.bind("localhost")
    try:
        adapter.match(path, method="GET")
    except RequestRedirect:
        return True
    except HTTPException:
        return False
    return True


def _assert_no_answer_in(address: str) -> None:
    """An address of the journey is one of its fixed pages, without any query string."""
    assert "?" not in address and "#" not in address, address
    assert address in JOURNEY_URLS, address


def _links(html: str) -> list[str]:
    return [unescape(u) for u in re.findall(r'(?:href|action|hx-get|hx-post|hx-push-url)="([^"]*)"', html)]


def _assert_no_answer_in_links(html: str) -> None:
    """No link, form or htmx attribute of the page carries an answer."""
    for link in _links(html):
        if link.startswith(BASE):
            _assert_no_answer_in(link)
        assert "reponse=" not in link and "?" not in link.split("/porter-plainte", 1)[-1], link


def answer(client, slug: str, value: str | None, headers=None):
    """Answer one question as a browser without JavaScript: GET the page, POST its form."""
    page = client.get(f"{BASE}/{slug}")
    assert page.status_code == 200, (slug, page.status_code, page.headers.get("Location"))
    data = {"csrf_token": _csrf(_html(page))}
    if value is not None:
        data["reponse"] = value
    return client.post(f"{BASE}/{slug}", data=data, headers=headers or {})


def walk(client, answers) -> list:
    """Answer in order, following every 303; returns every response seen."""
    seen = []
    for slug, value in answers:
        response = answer(client, slug, value)
        assert response.status_code == 303
        _assert_no_answer_in(response.headers["Location"])
        seen.append(response)
    return seen


def _session_answers(client) -> dict:
    with client.session_transaction() as session:
        return dict(session.get(ANSWERS_KEY) or {})


# --- The tree itself ---------------------------------------------------------------------------------------


def test_the_paths_listed_here_are_every_path_of_the_tree():
    """Walking the tree finds no dead end, no loop, and exactly the paths the tests below go through."""
    walked = {(steps, outcome) for steps, outcome in tree.paths()}
    assert walked == {(steps, outcome) for steps, outcome, *_ in PATHS}


def test_every_outcome_is_reachable_and_every_question_asked():
    reached = {outcome for _, outcome in tree.paths()}
    assert reached == set(tree.OUTCOMES)
    asked = {slug for steps, _ in tree.paths() for slug, _ in steps}
    assert asked == set(tree.QUESTIONS)


def test_every_outcome_says_why_and_gives_a_next_step():
    for outcome in tree.OUTCOMES.values():
        assert outcome.why and all(sentence.strip() for sentence in outcome.why)
        assert outcome.primary.href and outcome.primary.label


@pytest.mark.parametrize(("steps", "expected"), [(steps, outcome) for steps, outcome, *_ in PATHS])
def test_the_pure_functions_follow_each_path(steps, expected):
    answers: dict[str, str] = {}
    for position, (slug, value) in enumerate(steps):
        assert tree.next_question(answers) == slug
        assert tree.outcome_id(answers) is None
        assert tree.previous(answers, slug) == (steps[position - 1][0] if position else None)
        answers = tree.answer(answers, slug, value)
    assert tree.next_question(answers) is None
    assert tree.outcome_id(answers) == expected
    assert [q.slug for q, _ in tree.summary(answers)] == [slug for slug, _ in steps]


def test_changing_an_earlier_answer_drops_the_answers_off_the_new_path():
    answers = {"danger": "non", "faits": "arnaque", "argent": "non", "canal": "public"}
    changed = tree.answer(answers, "faits", "vol")
    assert changed == {"danger": "non", "faits": "vol"}
    assert tree.next_question(changed) == "auteur"


def test_tampered_or_stale_answers_are_ignored():
    assert tree.clean({"danger": "non", "faits": "inconnu", "auteur": "non"}) == {"danger": "non"}
    assert tree.clean({"faits": "vol"}) == {}
    assert tree.clean("danger=oui") == {}
    assert tree.clean({"danger": ["oui"]}) == {}
    with pytest.raises(ValueError):
        tree.answer({}, "auteur", "non")  # not on the path yet
    with pytest.raises(ValueError):
        tree.answer({}, "danger", "peut-etre")


def test_violence_and_emergency_answers_are_sensitive_and_others_not():
    assert tree.sensitive({"danger": "oui"})
    assert tree.sensitive({"danger": "non", "faits": "violences"})
    assert tree.sensitive({"danger": "non", "faits": "violences_sexuelles"})
    assert not tree.sensitive({"danger": "non", "faits": "vol", "auteur": "non"})


def test_sexual_violence_never_leads_to_visio_plainte_in_the_data():
    outcome = tree.OUTCOMES["violences_sexuelles"]
    hrefs = [outcome.primary.href, outcome.primary.fallback, *(a.href for a in outcome.secondary),
             *(a.fallback for a in outcome.secondary)]
    assert not any("visio" in href for href in hrefs)


# --- Every path over HTTP, without JavaScript --------------------------------------------------------------


@pytest.mark.parametrize(("steps", "expected", "heading", "primary", "fallback"), PATHS,
                         ids=[outcome for _, outcome, *_ in PATHS])
def test_every_path_leads_to_its_outcome_without_javascript(app, client, steps, expected, heading, primary,
                                                            fallback):
    responses = walk(client, steps)
    last = responses[-1].headers["Location"]
    outcome = tree.OUTCOMES[expected]
    if outcome.immediate:
        # An emergency: the numbers at once, no summary in between.
        assert last == f"{BASE}/resultat"
    else:
        assert last == f"{BASE}/recapitulatif"
        summary = client.get(last)
        assert summary.status_code == 200
        html = _html(summary)
        assert "Vos réponses" in html and html.count(">Modifier<") == len(steps)
        _assert_no_answer_in_links(html)
    page = client.get(f"{BASE}/resultat")
    assert page.status_code == 200
    html = _html(page)
    assert _h1(html) == heading
    assert f'data-outcome="{expected}"' in html
    expected_href = primary if fallback is None or _served(app, primary) else fallback
    assert _primary(html) == expected_href
    assert "Pourquoi ?" in html
    # The emergency numbers on every outcome.
    assert 'href="tel:17"' in html and 'href="tel:112"' in html and 'href="sms:114"' in html
    _assert_no_answer_in_links(html)
    if expected in SENSITIVE_OUTCOMES:
        assert page.headers["Cache-Control"] == "no-store"
        assert page.headers["Referrer-Policy"] == "no-referrer"
        assert 'id="quick-exit"' in html
    else:
        assert page.headers.get("Cache-Control") != "no-store"
        assert 'id="quick-exit"' not in html


def test_the_primary_link_falls_back_to_the_catalogue_page_when_the_service_is_not_served(app):
    from orientation.views import resolve

    with app.test_request_context():
        assert resolve(tree.Action("x", "/pas-de-route-ici", fallback="/demarches/plainte-en-ligne")) \
            == "/demarches/plainte-en-ligne"
        assert resolve(tree.Action("x", "/commissariats", fallback="/demarches/trouver-commissariat")) \
            == "/commissariats"
        assert resolve(tree.Action("x", "tel:17")) == "tel:17"


def test_the_emergency_outcome_explains_the_114(client):
    walk(client, PATHS[0][0])
    html = _html(client.get(f"{BASE}/resultat"))
    assert "Envoyer un SMS au 114" in html
    assert "sourd, malentendant ou aphasique" in html and "ne pouvez pas parler" in html
    assert 'href="tel:112"' in html


def test_sexual_violence_never_offers_visio_plainte_and_offers_the_units_and_the_chat(client):
    walk(client, (*NO_DANGER, ("faits", "violences_sexuelles")))
    client.get(f"{BASE}/recapitulatif")
    page = client.get(f"{BASE}/resultat")
    html = _html(page)
    assert not any("visio" in link for link in _links(html))
    assert "Prendre rendez-vous pour une visio-plainte" not in html
    # The nearest units: the finder, searched by commune with a plain GET form.
    assert re.search(r'<form method="get" action="/commissariats"', html)
    assert 'name="q"' in html
    assert 'href="https://arretonslesviolences.gouv.fr"' in html
    assert 'href="tel:17"' in html
    assert page.headers["Cache-Control"] == "no-store" and 'id="quick-exit"' in html


def test_violence_offers_visio_plainte_the_units_and_the_chat(client):
    walk(client, (*NO_DANGER, ("faits", "violences")))
    html = _html(client.get(f"{BASE}/resultat"))
    assert 'href="/commissariats"' in html
    assert 'href="/demarches/tchat-police"' in html
    assert "visio-plainte" in _primary(html)


def test_answers_are_kept_in_the_server_side_session_only(client):
    walk(client, (*NO_DANGER, ("faits", "violences_sexuelles")))
    assert _session_answers(client) == {"danger": "non", "faits": "violences_sexuelles"}
    # The browser holds an opaque identifier: no cookie carries the answers.
    cookies = " ".join(f"{c.key}={c.value}" for c in client._cookies.values())
    assert "violences" not in cookies and "sexuelles" not in cookies


# --- Summary, Modifier, Retour, Recommencer ----------------------------------------------------------------


def test_modifier_brings_back_the_question_with_the_previous_answer_checked(client):
    walk(client, (*NO_DANGER, ("faits", "arnaque"), ("argent", "non"), ("canal", "prive")))
    summary = _html(client.get(f"{BASE}/recapitulatif"))
    edit = re.search(r'<a class="fr-link" href="(/porter-plainte/argent)"[^>]*>Modifier', summary)
    assert edit
    page = _html(client.get(edit.group(1)))
    assert re.search(r'<input type="radio" id="reponse-non" name="reponse" value="non" checked>', page)
    assert not re.search(r'value="oui" checked', page)
    # Changing it leads to the new outcome, and the answer off the new path is forgotten.
    response = client.post(f"{BASE}/argent", data={"csrf_token": _csrf(page), "reponse": "oui"})
    assert response.status_code == 303 and response.headers["Location"] == f"{BASE}/recapitulatif"
    assert _session_answers(client) == {"danger": "non", "faits": "arnaque", "argent": "oui"}
    assert _h1(_html(client.get(f"{BASE}/resultat"))) == "Portez plainte ou signalez l'arnaque sur THESEE"


def test_modifier_to_a_branch_with_more_questions_asks_them_before_the_summary(client):
    walk(client, (*NO_DANGER, ("faits", "perte")))
    response = answer(client, "faits", "vol")
    assert response.headers["Location"] == f"{BASE}/auteur"
    assert client.get(f"{BASE}/recapitulatif").headers["Location"] == f"{BASE}/auteur"


def test_retour_goes_to_the_previous_question_and_keeps_the_answers(client):
    walk(client, (*NO_DANGER, ("faits", "vol")))
    page = _html(client.get(f"{BASE}/auteur"))
    back = re.search(r'href="([^"]+)"[^>]*>Retour</a>', page).group(1)
    assert back == f"{BASE}/faits"
    previous = _html(client.get(back))
    assert 'value="vol" checked' in previous
    back_again = re.search(r'href="([^"]+)"[^>]*>Retour</a>', previous).group(1)
    assert back_again == f"{BASE}/danger"
    assert 'value="non" checked' in _html(client.get(back_again))
    # The first question goes back to the start page.
    first = _html(client.get(f"{BASE}/danger"))
    assert re.search(r'href="([^"]+)"[^>]*>Retour</a>', first).group(1) == BASE
    assert _session_answers(client) == {"danger": "non", "faits": "vol"}


def test_the_summary_and_outcome_go_back_to_where_they_came_from(client):
    walk(client, (*NO_DANGER, ("faits", "contenu")))
    summary = _html(client.get(f"{BASE}/recapitulatif"))
    assert re.search(r'href="([^"]+)"[^>]*>Retour</a>', summary).group(1) == f"{BASE}/faits"
    outcome = _html(client.get(f"{BASE}/resultat"))
    assert re.search(r'href="([^"]+)"[^>]*>Retour</a>', outcome).group(1) == f"{BASE}/recapitulatif"


def test_a_question_not_yet_reached_sends_to_the_next_one(client):
    response = client.get(f"{BASE}/auteur")
    assert response.status_code == 303 and response.headers["Location"] == f"{BASE}/danger"
    walk(client, NO_DANGER)
    assert client.get(f"{BASE}/canal").headers["Location"] == f"{BASE}/faits"
    assert client.get(f"{BASE}/resultat").headers["Location"] == f"{BASE}/faits"
    assert client.get(f"{BASE}/recapitulatif").headers["Location"] == f"{BASE}/faits"


def test_an_unknown_question_is_a_french_404(client):
    response = client.get(f"{BASE}/inconnue")
    assert response.status_code == 404 and "Page introuvable" in _html(response)


def test_recommencer_clears_the_answers(client):
    walk(client, (*NO_DANGER, ("faits", "violences")))
    html = _html(client.get(f"{BASE}/resultat"))
    assert re.search(r'<form method="post" action="/porter-plainte/recommencer"', html)
    response = client.post(f"{BASE}/recommencer", data={"csrf_token": _csrf(html)})
    assert response.status_code == 303 and response.headers["Location"] == f"{BASE}/danger"
    assert _session_answers(client) == {}
    page = _html(client.get(f"{BASE}/danger"))
    assert "checked" not in page
    assert client.get(f"{BASE}/resultat").headers["Location"] == f"{BASE}/danger"


def test_the_quick_exit_beacon_forgets_the_answers_about_violence(client):
    walk(client, (*NO_DANGER, ("faits", "violences")))
    html = _html(client.get(f"{BASE}/resultat"))
    # The button names where its beacon goes; without the token nothing is forgotten.
    assert 'data-forget="/sortie-rapide"' in html
    assert client.post("/sortie-rapide").status_code == 400
    assert _session_answers(client)["faits"] == "violences"
    assert client.post("/sortie-rapide", data={"csrf_token": _csrf(html)}).status_code == 204
    assert _session_answers(client) == {}
    assert "Reprendre" not in _html(client.get(BASE))


def test_recommencer_needs_the_csrf_token(client):
    walk(client, NO_DANGER)
    assert client.post(f"{BASE}/recommencer").status_code == 400
    assert _session_answers(client) == {"danger": "non"}


def test_a_tampered_answer_is_refused_like_a_missing_one(client):
    response = answer(client, "danger", "<script>alert(1)</script>")
    assert response.status_code == 400
    assert "<script>alert(1)</script>" not in _html(response)
    assert _session_answers(client) == {}


# --- Validation --------------------------------------------------------------------------------------------


def test_no_answer_gives_a_400_with_the_french_error_tied_to_the_fieldset(client):
    walk(client, NO_DANGER)
    response = answer(client, "faits", None)
    assert response.status_code == 400
    html = _html(response)
    assert re.search(r"<title>Erreur : Que s&#39;est-il passé \?", html)
    fieldset = re.search(r"<fieldset[^>]*>", html).group(0)
    assert "fr-fieldset--error" in fieldset
    assert 'aria-labelledby="reponse-legend reponse-messages"' in fieldset
    assert re.search(r'<div class="fr-messages-group" id="reponse-messages"[^>]*>\s*'
                     r'<p class="fr-message fr-message--error" id="reponse-error">Sélectionnez une réponse</p>', html)
    # The error summary at the top links to the field.
    summary = re.search(r'<div class="fr-alert fr-alert--error[^>]*id="error-summary".*?</div>', html, re.S).group(0)
    assert 'href="#reponse-vol"' in summary and "Sélectionnez une réponse" in summary
    assert 'id="reponse-vol"' in html
    # The question is still asked, and the answers so far kept.
    assert _session_answers(client) == {"danger": "non"}


def test_the_post_needs_the_csrf_token(client):
    response = client.post(f"{BASE}/danger", data={"reponse": "non"})
    assert response.status_code == 400
    assert _session_answers(client) == {}


# --- Sensitive pages ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", [BASE, f"{BASE}/danger", f"{BASE}/faits"])
def test_the_entry_pages_carry_the_quick_exit(client, path):
    if path.endswith("faits"):
        walk(client, NO_DANGER)
    response = client.get(path)
    assert response.status_code == 200
    assert 'id="quick-exit"' in _html(response)
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Referrer-Policy"] == "no-referrer"


@pytest.mark.parametrize("choice", ["violences", "violences_sexuelles"])
def test_every_page_after_a_violence_answer_is_protected(client, choice):
    walk(client, (*NO_DANGER, ("faits", choice)))
    for path in (f"{BASE}/recapitulatif", f"{BASE}/resultat", f"{BASE}/danger", f"{BASE}/faits"):
        response = client.get(path)
        assert response.status_code == 200
        assert response.headers["Cache-Control"] == "no-store", path
        assert response.headers["Referrer-Policy"] == "no-referrer", path
        assert 'id="quick-exit"' in _html(response), path


def test_a_theft_follow_up_question_is_an_ordinary_page(client):
    walk(client, (*NO_DANGER, ("faits", "vol")))
    response = client.get(f"{BASE}/auteur")
    assert response.headers.get("Cache-Control") != "no-store"
    assert 'id="quick-exit"' not in _html(response)


# --- htmx --------------------------------------------------------------------------------------------------

HTMX = {"HX-Request": "true", "HX-Current-URL": "http://localhost/porter-plainte/faits"}


def test_htmx_gets_the_question_fragment_and_a_normal_request_the_full_page(client):
    full = client.get(f"{BASE}/danger")
    assert "<html" in _html(full) and 'id="orientation"' in _html(full)
    fragment = client.get(f"{BASE}/danger", headers=HTMX)
    html = _html(fragment)
    assert fragment.status_code == 200 and "<html" not in html
    assert html.lstrip().startswith("<title>") or '<div id="orientation"' in html
    assert '<div id="orientation"' in html
    assert "HX-Request" in fragment.headers["Vary"]
    # The quick exit comes with the fragment, into the page's slot.
    assert re.search(r'<div class="portal-quick-exit" id="quick-exit-slot" hx-swap-oob="outerHTML">', html)


def test_the_form_is_a_real_form_that_htmx_enhances_without_pushing_answers(client):
    html = _html(client.get(f"{BASE}/danger"))
    form = re.search(r"<form method=\"post\"[^>]*>", html).group(0)
    assert 'action="/porter-plainte/danger"' in form and 'hx-post="/porter-plainte/danger"' in form
    assert 'hx-target="#orientation"' in form
    # "true": htmx pushes the address the 303 ended on (a question, the summary, the outcome).
    assert 'hx-push-url="true"' in form
    assert "Continuer" in html


def test_htmx_answer_follows_the_redirect_to_the_next_fragment(client):
    page = client.get(f"{BASE}/danger")
    response = client.post(f"{BASE}/danger", data={"csrf_token": _csrf(_html(page)), "reponse": "non"},
                           headers=HTMX, follow_redirects=True)
    assert response.status_code == 200
    assert response.request.path == f"{BASE}/faits"  # the address htmx pushes: no answer in it
    _assert_no_answer_in(response.request.path)
    assert not response.request.query_string
    html = _html(response)
    assert "<html" not in html and "Que s&#39;est-il passé ?" in html
    assert "<title>Que s&#39;est-il passé ? — Portail citoyen</title>" in html


def test_htmx_missing_answer_gets_the_error_fragment_in_place(client):
    page = client.get(f"{BASE}/danger")
    response = client.post(f"{BASE}/danger", data={"csrf_token": _csrf(_html(page))}, headers=HTMX)
    html = _html(response)
    # htmx swaps no 4xx answer: the error fragment comes as 200, and the address bar is left alone.
    assert response.status_code == 200 and response.headers["HX-Push-Url"] == "false"
    assert "<html" not in html and "fr-fieldset--error" in html and "Sélectionnez une réponse" in html
    assert "<title>Erreur : Quelqu&#39;un est-il en danger en ce moment ? — Portail citoyen</title>" in html


@pytest.mark.parametrize("path", [f"{BASE}/recapitulatif", f"{BASE}/resultat"])
def test_htmx_summary_and_outcome_fragments(client, path):
    walk(client, (*NO_DANGER, ("faits", "violences_sexuelles")))
    full = client.get(path)
    assert "<html" in _html(full)
    fragment = client.get(path, headers=HTMX)
    html = _html(fragment)
    assert "<html" not in html and '<div id="orientation"' in html
    assert fragment.headers["Cache-Control"] == "no-store"
    assert 'hx-swap-oob="outerHTML"' in html


# --- Entry points ------------------------------------------------------------------------------------------


def test_the_home_page_links_to_the_orientation(client):
    html = _html(client.get("/"))
    assert re.search(r'<a class="fr-btn" href="/porter-plainte">Je veux porter plainte ou signaler quelque chose</a>',
                     html)


def test_the_start_page_begins_with_the_first_question(client):
    html = _html(client.get(BASE))
    assert _h1(html) == "Je veux porter plainte ou signaler quelque chose"
    assert 'href="/porter-plainte/danger"' in html


@pytest.mark.parametrize("slug", sorted(tree.ENTRY_LIFE_EVENTS))
def test_life_events_about_an_offence_link_to_the_orientation(client, slug):
    response = client.get(f"/situations/{slug}")
    assert response.status_code == 200
    assert 'href="/porter-plainte"' in _html(response)


def test_a_life_event_without_an_offence_does_not(client):
    assert 'href="/porter-plainte"' not in _html(client.get("/situations/depart-vacances"))


@pytest.mark.parametrize("slug", sorted(tree.ENTRY_PROCEDURES))
def test_complaint_related_procedures_link_to_the_orientation(client, slug):
    response = client.get(f"/demarches/{slug}")
    assert response.status_code == 200
    assert 'href="/porter-plainte"' in _html(response)


def test_every_catalogue_link_of_the_outcomes_exists(client):
    for outcome in tree.OUTCOMES.values():
        for action in (outcome.primary, *outcome.secondary):
            for href in (action.href, action.fallback):
                if href.startswith("/demarches/") or href == "/commissariats":
                    assert client.get(href).status_code == 200, href
