"""Light text: what editors write becomes paragraphs, lists and headings, never markup."""

from catalogue.text import blocks, clean_fiche_text, first_paragraph


def test_paragraphs_bullets_steps_and_headings():
    text = "Intro.\n\n- un ;\n- deux.\n\n1. Premier.\n2. Second.\n\n## Titre\nSuite."
    result = [(b.kind, b.lines) for b in blocks(text)]
    assert result == [
        ("p", ["Intro."]),
        ("ul", ["un ;", "deux."]),
        ("ol", ["Premier.", "Second."]),
        ("h", ["Titre"]),
        ("p", ["Suite."]),
    ]


def test_fiche_section_titles_become_headings_only_when_asked():
    text = "Conditions à remplir\n\nVous devez être majeur."
    assert [b.kind for b in blocks(text)] == ["p", "p"]
    assert [b.kind for b in blocks(text, detect_headings=True)] == ["h", "p"]


def test_markup_stays_text():
    (block,) = blocks("<script>alert(1)</script>")
    assert block.lines == ["<script>alert(1)</script>"]


def test_directory_codes_are_removed_from_fiches():
    raw = ("Il faut aller au commissariat.\n\nCommissariat ou Gendarmerie\ncommissariat_police"
           "\n\nPréfecture\nprefectureMinistère chargé de l'intérieur")
    cleaned = clean_fiche_text(raw)
    assert "commissariat_police" not in cleaned
    assert "Ministère chargé de l'intérieur" in cleaned and "prefectureMinistère" not in cleaned


def test_first_paragraph_is_a_bounded_excerpt():
    assert first_paragraph("- liste\n\n" + "mot " * 200).endswith("…")
    assert len(first_paragraph("mot " * 200)) <= 300
