"""Only paths of this site are ever followed after sign-in."""

import pytest

from portal.redirects import local_path


@pytest.mark.parametrize("path", ["/", "/mon-espace", "/demarches/plainte-en-ligne/commencer",
                                  "/recherche?q=vol+de+papiers&page=2", "/demarches/thesee#conditions"])
def test_local_paths_are_kept(path):
    assert local_path(path) == path


@pytest.mark.parametrize("hostile", [
    None, "", "mon-espace", "//evil.example", "//evil.example/path", "/\\evil.example", "\\\\evil.example",
    "/\t/evil.example", "/\n/evil.example", "/ /evil.example", "/\x00", "/\x7f", "https://evil.example/",
    "http:/evil.example", "javascript:alert(1)", "data:text/html,x", "/" + "a" * 3000,
])
def test_everything_else_is_refused(hostile):
    assert local_path(hostile) is None
