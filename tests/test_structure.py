"""The shape of the house: dependencies point down, and no feature reaches into another's views."""

from __future__ import annotations

import ast

from portal.config import ROOT

FEATURES = {"accounts", "agents", "catalogue", "complaints", "editorial", "maps", "orientation", "search", "widgets",
            "api"}


def _imports(package: str) -> dict[str, set[str]]:
    """Every module of ``package`` and the modules it imports (at any depth of its code)."""
    found = {}
    for path in sorted((ROOT / package).rglob("*.py")):
        names = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names.add(node.module)
                names.update(f"{node.module}.{alias.name}" for alias in node.names)
        found[str(path.relative_to(ROOT))] = names
    return found


def test_the_ground_floor_imports_no_feature_nor_development_tool():
    for module, names in _imports("portal").items():
        upward = {n for n in names if n.split(".")[0] in FEATURES | {"local_franceconnect"}}
        assert not upward, f"{module} imports {sorted(upward)}"


def test_a_feature_uses_another_through_its_services_never_its_views():
    for feature in FEATURES:
        for module, names in _imports(feature).items():
            reaching = {n for n in names if n.split(".")[0] in FEATURES - {feature} and ".views" in f".{n}."}
            assert not reaching, f"{module} imports {sorted(reaching)}"


def test_accounts_knows_none_of_the_features_built_on_it():
    """Accounts sits below agents, complaints and orientation: they import it, so it imports none of them.

    A cycle would tie the features together (none could change, be tested or be removed alone). What a feature
    shows in Mon espace or gives to the citizen's data export, it registers from its own ``init_app``
    (``accounts.register_space_section``); accounts' pages show the registered sections without naming them.
    """
    for module, names in _imports("accounts").items():
        upward = {n for n in names if n.split(".")[0] in {"agents", "complaints", "orientation"}}
        assert not upward, f"{module} imports {sorted(upward)}"
