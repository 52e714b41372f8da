"""FranceConnect's identity quirks are shown as they are, never rejected."""

from accounts.identity import Identity


def test_several_given_names_and_compound_names():
    identity = Identity.from_claims({"given_name": "Marie-Christine Élodie", "family_name": "LEROY"}, True)
    assert identity.given_names == ("Marie-Christine", "Élodie")
    assert identity.full_name == "Marie-Christine Élodie LEROY"
    array = Identity.from_claims({"given_name_array": ["Jean", "Paul"], "given_name": "Jean Paul"}, True)
    assert array.given_names == ("Jean", "Paul")


def test_born_abroad_has_an_empty_birthplace():
    identity = Identity.from_claims({"birthplace": "", "birthcountry": "99352"}, True)
    assert identity.born_abroad
    assert identity.birthplace_text == "À l'étranger (pays de code INSEE 99352)"
    france = Identity.from_claims({"birthplace": "75107", "birthcountry": "99100"}, True)
    assert not france.born_abroad and france.birthplace_text == "Commune de code INSEE 75107"


def test_presumed_and_partial_birth_dates():
    assert Identity(birthdate="1962-08-24").birthdate_text == "24 août 1962"
    assert Identity(birthdate="1992-01-01").birthdate_text == "1er janvier 1992"
    assert Identity(birthdate="1992-00-00").birthdate_text == "1992"
    assert Identity(birthdate="1992-05-00").birthdate_text == "mai 1992"
    assert Identity(birthdate="pas une date").birthdate_text == "pas une date"
    assert Identity(birthdate="").birthdate_text == ""


def test_missing_claims_are_empty_not_errors():
    identity = Identity.from_claims({"sub": "x"}, True)
    assert identity.email == "" and identity.given_names == () and identity.gender_text == ""


def test_identity_round_trips_through_the_session():
    identity = Identity.from_claims({"given_name": "Angela Claire", "family_name": "DUBOIS",
                                     "birthdate": "1962-08-24"}, True)
    assert Identity.from_session(identity.to_session()) == identity
    assert Identity.from_session(None) is None
