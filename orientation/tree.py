"""The orientation "Je veux porter plainte ou signaler quelque chose": a decision tree as plain data.

A few plain questions, one per page, lead to an outcome that says where to go and why. Answers are a
``dict`` question slug → choice value, kept by the views in the server-side session (never in a URL).
Everything here is pure: no Flask request, no database; the views and the tests call these functions.

Where the tree sends each situation (facts in /work/shared/notes/procedures.md, the issue decides):
- someone in danger now → 17 / 112 / SMS 114, at once (no summary: a step less before the numbers);
- theft, burglary, damage, card fraud after theft, author unknown → plainte en ligne;
  author known → visio-plainte or a unit (the plainte en ligne is for unknown authors only);
- lost (not stolen) papers → the mairie / ANTS request, no complaint;
- online scam where money was asked or paid → THESEE (a demand for money is THESEE's condition);
  no money asked: public content (site, ad, post) → Pharos (public illegal content, online fraud included);
  a private message → 17Cyber (Pharos refuses private exchanges; 17Cyber's diagnostic routes them);
- illegal content seen online → Pharos; hacked account, ransomware, cyberattack → 17Cyber;
- violence, threats, harassment, discrimination → visio-plainte or a unit, with the 24/7 chat;
- sexual violence → in person at a unit (decree of 23 Feb 2024: never visio-plainte), with the 17
  and the "Arrêtons les violences" chat.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

START = "danger"


@dataclass(frozen=True)
class Choice:
    value: str
    label: str
    hint: str = ""
    # Exactly one of the two: the next question's slug, or the outcome's id.
    next: str | None = None
    outcome: str | None = None
    # Choosing it makes every later page sensitive (quick exit, no-store, no referrer).
    sensitive: bool = False


@dataclass(frozen=True)
class Question:
    slug: str
    title: str
    choices: tuple[Choice, ...]
    hint: str = ""
    # The label of the question in the summary ("Vos réponses"), shorter than its title.
    short: str = ""
    # A page a victim of violence may be on: always carries the quick exit.
    sensitive: bool = False

    def choice(self, value: str | None) -> Choice | None:
        return next((c for c in self.choices if c.value == value), None)


@dataclass(frozen=True)
class Action:
    """A next step. ``href`` is a path of the portal, ``tel:``/``sms:`` or an https address.

    ``fallback``: a path to use instead when ``href`` is a portal path that no route serves
    (a service built elsewhere in the portal and not yet there).
    """

    label: str
    href: str
    description: str = ""
    fallback: str = ""

    @property
    def external(self) -> bool:
        return self.href.startswith("https://")


@dataclass(frozen=True)
class Outcome:
    id: str
    title: str
    why: tuple[str, ...]
    primary: Action
    secondary: tuple[Action, ...] = ()
    # Shown without the summary first (an emergency).
    immediate: bool = False
    sensitive: bool = False
    # Offers the station finder's search by commune on the page.
    station_search: bool = False
    notes: tuple[str, ...] = field(default=())


QUESTIONS: dict[str, Question] = {q.slug: q for q in (
    Question(
        slug="danger",
        title="Quelqu'un est-il en danger en ce moment ?",
        short="Danger immédiat",
        hint="Vous ou une autre personne : une agression en cours, une menace immédiate, une personne blessée.",
        sensitive=True,
        choices=(
            Choice("oui", "Oui, c'est une urgence", outcome="urgence", sensitive=True),
            Choice("non", "Non, personne n'est en danger immédiat", next="faits"),
        ),
    ),
    Question(
        slug="faits",
        title="Que s'est-il passé ?",
        short="Ce qui s'est passé",
        hint="Choisissez ce qui ressemble le plus à votre situation.",
        sensitive=True,
        choices=(
            Choice("vol", "Un vol, un cambriolage ou une dégradation",
                   hint="Y compris l'utilisation de votre carte bancaire après son vol.", next="auteur"),
            Choice("perte", "J'ai perdu des papiers ou un objet",
                   hint="Ils n'ont pas été volés : vous les avez égarés.", outcome="perte"),
            Choice("arnaque", "Une arnaque sur internet",
                   hint="Faux vendeur ou faux acheteur, faux site, faux placement, arnaque aux sentiments, "
                        "chantage…", next="argent"),
            Choice("contenu", "J'ai vu un contenu illégal sur internet",
                   hint="Menaces, appels à la haine, terrorisme, pédocriminalité…", outcome="pharos"),
            Choice("piratage", "Un compte piraté, un rançongiciel ou une cyberattaque", outcome="cyber"),
            Choice("violences", "Des violences, des menaces, du harcèlement ou une discrimination",
                   outcome="violences", sensitive=True),
            Choice("violences_sexuelles", "Des violences sexuelles",
                   hint="Viol, agression sexuelle, attouchements, harcèlement sexuel.",
                   outcome="violences_sexuelles", sensitive=True),
        ),
    ),
    Question(
        slug="auteur",
        title="Savez-vous qui a commis les faits ?",
        short="Auteur connu",
        hint="Par exemple : une personne dont vous connaissez le nom, un voisin, un ancien conjoint, "
             "la plaque d'immatriculation d'un véhicule.",
        choices=(
            Choice("non", "Non, je ne sais pas qui c'est", outcome="plainte_en_ligne"),
            Choice("oui", "Oui, je le connais ou je peux l'identifier", outcome="visio_ou_unite"),
        ),
    ),
    Question(
        slug="argent",
        title="Vous a-t-on demandé de l'argent, ou en avez-vous versé ?",
        short="Argent demandé ou versé",
        hint="Un paiement, un virement, une rançon, des coupons ou des cryptomonnaies, même si vous n'avez "
             "rien payé.",
        choices=(
            Choice("oui", "Oui", outcome="thesee"),
            Choice("non", "Non", next="canal"),
        ),
    ),
    Question(
        slug="canal",
        title="Où avez-vous vu cette arnaque ?",
        short="Où était l'arnaque",
        choices=(
            Choice("public", "Sur un site, une annonce ou une publication visible de tous",
                   outcome="pharos_arnaque"),
            Choice("prive", "Dans un message qui m'était adressé",
                   hint="Courriel, SMS, message sur une messagerie ou un réseau social.", outcome="cyber_arnaque"),
        ),
    ),
)}


def _page(slug: str) -> str:
    return f"/demarches/{slug}"


STATIONS = Action("Trouver un commissariat ou une gendarmerie", "/commissariats",
                  "Adresse, téléphone et horaires des unités proches de chez vous.")
CHAT = Action("Échanger par écrit avec un policier ou un gendarme, 24 h/24", _page("tchat-police"),
              "Un tchat anonyme et discret, pour poser vos questions ou être orienté.")
VISIO = Action("Prendre rendez-vous pour une visio-plainte", "/visio-plainte",
               "Un policier ou un gendarme recueille votre plainte en vidéo, sur rendez-vous, avec FranceConnect.",
               fallback=_page("visio-plainte"))

OUTCOMES: dict[str, Outcome] = {o.id: o for o in (
    Outcome(
        id="urgence",
        title="Appelez le 17 ou le 112 maintenant",
        why=("Vous avez indiqué que quelqu'un est en danger en ce moment. Les secours peuvent intervenir tout de "
             "suite : une démarche en ligne serait trop lente.",),
        primary=Action("Appeler le 17 (police secours)", "tel:17"),
        secondary=(
            Action("Appeler le 112", "tel:112", "Le numéro d'urgence européen, depuis tout téléphone."),
            Action("Envoyer un SMS au 114", "sms:114",
                   "Si vous êtes sourd, malentendant ou aphasique, ou si vous ne pouvez pas parler sans vous "
                   "mettre en danger (par exemple face à une personne violente) : écrivez au 114."),
            Action("Tous les numéros d'urgence", _page("appels-urgence"),
                   "Le 15 (SAMU) pour un problème médical, le 18 (pompiers) pour un incendie ou un accident."),
        ),
        immediate=True,
        sensitive=True,
    ),
    Outcome(
        id="perte",
        title="Une perte ne donne pas lieu à une plainte",
        why=("Perdre un objet n'est pas une infraction : il n'y a pas de plainte à déposer. La perte d'une carte "
             "d'identité ou d'un passeport se déclare à la mairie, en même temps que la demande du nouveau "
             "document ; celle d'un permis de conduire ou d'une carte grise, en ligne sur le site de l'ANTS.",),
        primary=Action("Que faire après la perte de vos papiers", _page("perte-papiers-identite")),
        secondary=(
            Action("Refaire un document sur le site de l'ANTS", "https://ants.gouv.fr",
                   "Pré-demande de carte d'identité ou de passeport, demande de permis ou de carte grise."),
            Action("Vos papiers ont en fait été volés ?", _page("vol-papiers-identite"),
                   "Un vol, lui, se déclare par une plainte."),
        ),
        notes=("Pour un autre objet perdu, adressez-vous au service des objets trouvés de la mairie.",),
    ),
    Outcome(
        id="plainte_en_ligne",
        title="Déposez plainte en ligne",
        why=("Pour un vol, un cambriolage, une dégradation ou l'utilisation de votre carte bancaire après son vol, "
             "quand l'auteur est inconnu, la plainte en ligne vous évite de vous déplacer. Vous vous identifiez "
             "avec FranceConnect, et un policier ou un gendarme traite votre plainte, en général sous 48 heures.",),
        primary=Action("Déposer plainte en ligne", "/plainte-en-ligne",
                       "Environ 20 minutes, avec FranceConnect.", fallback=_page("plainte-en-ligne")),
        secondary=(
            Action("Comment fonctionne la plainte en ligne", _page("plainte-en-ligne")),
            Action("Faire opposition à votre carte bancaire", _page("fraude-carte-bancaire"),
                   "À faire tout de suite si votre carte a été volée."),
            Action("Après un cambriolage", _page("cambriolage"),
                   "Les traces à préserver et les démarches auprès de votre assureur."),
            Action("Porter plainte dans un commissariat ou une gendarmerie", "/commissariats",
                   "Si vous préférez être reçu en personne."),
        ),
    ),
    Outcome(
        id="visio_ou_unite",
        title="Portez plainte en visio-plainte ou dans un commissariat ou une gendarmerie",
        why=("La plainte en ligne est réservée aux faits dont l'auteur est inconnu. Quand vous le connaissez, "
             "un policier ou un gendarme vous entend : par vidéo sur rendez-vous, ou au commissariat ou à la "
             "gendarmerie de votre choix, sans rendez-vous.",),
        primary=VISIO,
        secondary=(
            STATIONS,
            Action("Comment fonctionne la visio-plainte", _page("visio-plainte")),
            CHAT,
        ),
    ),
    Outcome(
        id="thesee",
        title="Portez plainte ou signalez l'arnaque sur THESEE",
        why=("On vous a demandé de l'argent : cette escroquerie en ligne relève de THESEE, la plateforme de la "
             "police et de la gendarmerie pour les arnaques sur internet. Vous pouvez y porter plainte avec "
             "FranceConnect, même si vous n'avez rien payé, ou seulement faire un signalement.",),
        primary=Action("Porter plainte ou signaler sur THESEE", _page("thesee")),
        secondary=(
            Action("Vous avez payé par carte : faites opposition", _page("fraude-carte-bancaire")),
            Action("Faire le point sur 17Cyber", _page("17cyber"),
                   "Si votre ordinateur ou un de vos comptes a aussi été piraté."),
        ),
    ),
    Outcome(
        id="pharos",
        title="Signalez le contenu sur Pharos",
        why=("Pharos, la plateforme de signalement du ministère de l'Intérieur, reçoit les contenus publics et "
             "illicites vus sur internet : menaces, haine, terrorisme, pédocriminalité, escroqueries… Des policiers "
             "et des gendarmes les examinent et peuvent en faire retirer certains.",),
        primary=Action("Signaler un contenu sur Pharos", _page("pharos")),
        secondary=(
            Action("Vous êtes personnellement visé : cyberharcèlement", _page("cyberharcelement"),
                   "Pharos ne traite pas les échanges privés : une insulte ou une menace qui vous vise se signale "
                   "à la police ou à la gendarmerie."),
            Action("Faire le point sur 17Cyber", _page("17cyber")),
        ),
        notes=("Pharos ne traite pas les urgences : si quelqu'un est en danger, appelez le 17.",),
    ),
    Outcome(
        id="pharos_arnaque",
        title="Signalez le site ou l'annonce frauduleuse sur Pharos",
        why=("Personne ne vous a demandé d'argent : THESEE, qui suppose une demande d'argent, ne s'applique pas. "
             "Un site, une annonce ou une publication frauduleuse visible de tous se signale sur Pharos, qui reçoit "
             "les contenus publics illicites, escroqueries comprises.",),
        primary=Action("Signaler le contenu sur Pharos", _page("pharos")),
        secondary=(
            Action("Reconnaître un faux message de l'administration", _page("reconnaitre-message-officiel")),
            Action("Faire le point sur 17Cyber", _page("17cyber")),
        ),
    ),
    Outcome(
        id="cyber_arnaque",
        title="Faites le point sur 17Cyber",
        why=("Personne ne vous a demandé d'argent : THESEE ne s'applique pas, et un message qui vous était adressé "
             "n'est pas un contenu public, que Pharos traiterait. 17Cyber, le service de la police et de la "
             "gendarmerie pour les menaces numériques, reconnaît la situation, vous conseille et vous met en "
             "relation avec un policier ou un gendarme si nécessaire.",),
        primary=Action("Faire le diagnostic sur 17Cyber", _page("17cyber")),
        secondary=(
            Action("Reconnaître un faux message de l'administration", _page("reconnaitre-message-officiel")),
            CHAT,
        ),
    ),
    Outcome(
        id="cyber",
        title="Faites-vous aider sur 17Cyber",
        why=("Pour un compte piraté, un rançongiciel ou une cyberattaque, 17Cyber, le 17 des menaces numériques, "
             "établit un diagnostic, donne les premiers gestes et ouvre un échange avec un policier ou un gendarme "
             "pour les cas les plus graves. Si l'on vous demande de l'argent (rançon, chantage), vous pouvez aussi "
             "porter plainte sur THESEE.",),
        primary=Action("Faire le diagnostic sur 17Cyber", _page("17cyber")),
        secondary=(
            Action("Porter plainte sur THESEE", _page("thesee"), "Si une rançon ou de l'argent vous est demandé."),
            STATIONS,
        ),
    ),
    Outcome(
        id="violences",
        title="Portez plainte en visio-plainte ou dans un commissariat ou une gendarmerie",
        why=("Pour des violences, des menaces, du harcèlement ou une discrimination, un policier ou un gendarme "
             "vous entend : par vidéo sur rendez-vous, ou au commissariat ou à la gendarmerie de votre choix. "
             "Avant de décider, vous pouvez échanger par écrit avec un policier ou un gendarme, 24 h/24.",),
        primary=VISIO,
        secondary=(
            STATIONS,
            CHAT,
            Action("Violences au sein du couple", _page("violences-conjugales"),
                   "Le 3919 écoute et oriente, gratuitement et anonymement."),
            Action("Cyberharcèlement", _page("cyberharcelement")),
            Action("Discrimination", _page("discrimination")),
        ),
        sensitive=True,
    ),
    Outcome(
        id="violences_sexuelles",
        title="Portez plainte en personne, au commissariat ou à la gendarmerie",
        why=("Les plaintes pour violences sexuelles sont recueillies en personne, par des enquêteurs formés à cet "
             "accueil : elles ne se déposent ni en ligne ni par vidéo. Vous choisissez le commissariat ou la "
             "gendarmerie, vous pouvez vous faire accompagner, et porter plainte même longtemps après les faits.",),
        primary=Action("Trouver le commissariat ou la gendarmerie le plus proche", "/commissariats"),
        secondary=(
            Action("Appeler le 17", "tel:17", "En cas de danger, ou pour être reçu rapidement."),
            Action("Échanger avec un policier ou un gendarme formé, 24 h/24", "https://arretonslesviolences.gouv.fr",
                   "Le tchat « Arrêtons les violences » : anonyme, seul un code postal est demandé."),
            Action("Appeler le 3919", "tel:3919", "Violences Femmes Info : écoute et orientation, gratuit et anonyme."),
            Action("Être aidée ou aidé après des violences sexuelles", _page("violences-sexuelles"),
                   "Garder des preuves, être accompagné, les démarches."),
        ),
        sensitive=True,
        station_search=True,
        notes=("Si les faits sont récents, ne vous lavez pas et gardez vos vêtements dans un sac en papier : "
               "un médecin pourra rechercher des traces.",),
    ),
)}


# --- The functions the views and the tests use -------------------------------------------------------------


def clean(raw: object) -> dict[str, str]:
    """The answers of ``raw`` that lie on the path the earlier ones trace, in order; nothing else.

    Whatever the session holds (an old tree, a tampered value), what comes out is a valid prefix of a path.
    """
    answers: dict[str, str] = {}
    if not isinstance(raw, Mapping):
        return answers
    slug: str | None = START
    while slug is not None:
        choice = QUESTIONS[slug].choice(raw.get(slug) if isinstance(raw.get(slug), str) else None)
        if choice is None:
            break
        answers[slug] = choice.value
        slug = choice.next
    return answers


def trail(answers: Mapping[str, str]) -> list[str]:
    """The questions on the path of ``answers``: those answered, then the next one if any, in order."""
    slugs: list[str] = []
    slug: str | None = START
    while slug is not None:
        slugs.append(slug)
        choice = QUESTIONS[slug].choice(answers.get(slug))
        if choice is None:
            break
        slug = choice.next
    return slugs


def next_question(answers: Mapping[str, str]) -> str | None:
    """The first question still to answer on the path, or None when the path reaches an outcome."""
    answers = clean(answers)
    last = trail(answers)[-1]
    return None if last in answers else last


def outcome_id(answers: Mapping[str, str]) -> str | None:
    """The outcome the answers lead to, or None while a question remains."""
    answers = clean(answers)
    last = trail(answers)[-1]
    choice = QUESTIONS[last].choice(answers.get(last))
    return choice.outcome if choice else None


def outcome(answers: Mapping[str, str]) -> Outcome | None:
    found = outcome_id(answers)
    return OUTCOMES[found] if found else None


def answer(answers: Mapping[str, str], slug: str, value: str) -> dict[str, str]:
    """``answers`` with ``slug`` answered ``value``; answers that no longer lie on the path are dropped.

    Raises ValueError for a question not on the path, or a value that is not one of its choices.
    """
    kept = clean(answers)
    if slug not in trail(kept):
        raise ValueError(f"question {slug!r} is not on the path")
    if QUESTIONS[slug].choice(value) is None:
        raise ValueError(f"{value!r} is not a choice of {slug!r}")
    return clean({**kept, slug: value})


def previous(answers: Mapping[str, str], slug: str) -> str | None:
    """The question before ``slug`` on the path (for "Retour"), None for the first one."""
    slugs = trail(clean(answers))
    index = slugs.index(slug) if slug in slugs else 0
    return slugs[index - 1] if index > 0 else None


def sensitive(answers: Mapping[str, str]) -> bool:
    """Whether a choice already made concerns violence or an emergency."""
    return any(QUESTIONS[slug].choice(value).sensitive for slug, value in clean(answers).items())


def summary(answers: Mapping[str, str]) -> list[tuple[Question, Choice]]:
    """Each answered question with the choice made, in the order asked."""
    return [(QUESTIONS[slug], QUESTIONS[slug].choice(value)) for slug, value in clean(answers).items()]


def paths() -> Iterator[tuple[tuple[tuple[str, str], ...], str]]:
    """Every complete path of the tree: ((question, value), …) and the outcome it leads to.

    Raises ValueError on a dead end (a choice with neither a next question nor an outcome, or both,
    or pointing to an unknown question or outcome) or a loop.
    """

    def walk(slug: str, before: tuple[tuple[str, str], ...]):
        if any(slug == asked for asked, _ in before):
            raise ValueError(f"loop at {slug!r}")
        for choice in QUESTIONS[slug].choices:
            steps = (*before, (slug, choice.value))
            if (choice.next is None) == (choice.outcome is None):
                raise ValueError(f"{slug}={choice.value} needs exactly one of next and outcome")
            if choice.outcome is not None:
                if choice.outcome not in OUTCOMES:
                    raise ValueError(f"{slug}={choice.value} leads to unknown outcome {choice.outcome!r}")
                yield steps, choice.outcome
            else:
                if choice.next not in QUESTIONS:
                    raise ValueError(f"{slug}={choice.value} leads to unknown question {choice.next!r}")
                yield from walk(choice.next, steps)

    yield from walk(START, ())


# Catalogue pages that link to the orientation: those about an offence, a complaint or a report.
ENTRY_PROCEDURES = frozenset({
    "plainte-en-ligne", "pre-plainte-en-ligne", "visio-plainte", "main-courante", "cambriolage", "vol-vehicule",
    "vol-papiers-identite", "perte-papiers-identite", "fraude-carte-bancaire", "thesee", "pharos", "17cyber",
    "cyberharcelement", "discrimination", "violences-conjugales", "violences-sexuelles", "tchat-police",
    "trouver-commissariat",
})
ENTRY_LIFE_EVENTS = frozenset({
    "vol-cambriolage", "papiers-perdus-voles", "arnaque-escroquerie", "violences", "harcelement-en-ligne",
    "contenu-illegal-internet", "discrimination",
})
