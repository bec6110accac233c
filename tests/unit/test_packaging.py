"""The built wheel carries what the installed service reads, and declares what it imports.

A wheel holds only the packages setuptools finds and the package data ``pyproject.toml``
lists; anything else the service opens at run time (a template, a migration, a page script)
is silently left out, and shows only on a plain ``pip install`` as a 500 or as an
``authsvc db upgrade`` that cannot find its revisions. These tests read the same
configuration the build does and compare it with the tree, so a new file in a new place
fails here rather than in production. (The wheel itself was built, installed into a fresh
virtual environment and run: see the README's Tests section.)
"""

from __future__ import annotations

import ast
import configparser
import re
import sys
import tomllib
from collections.abc import Iterator
from fnmatch import fnmatchcase
from importlib import resources
from importlib.metadata import packages_distributions
from pathlib import Path
from typing import Any

import authsvc
from authsvc.storage.db import MIGRATIONS_DIR
from authsvc.web import pages

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "authsvc"


def _pyproject() -> dict[str, Any]:
    with (ROOT / "pyproject.toml").open("rb") as file:
        return tomllib.load(file)


def _packages() -> set[str]:
    """The packages the build puts in the wheel (pyproject's ``packages.find``).

    As setuptools' namespace discovery (the default for ``pyproject.toml``) finds them:
    every directory below the root whose dotted name matches an ``include`` pattern
    (``fnmatch``), with or without ``__init__.py``.
    """
    include = _pyproject()["tool"]["setuptools"]["packages"]["find"]["include"]
    tops = {ROOT / pattern.split(".")[0].rstrip("*") for pattern in include}
    found = set()
    for directory in (d for top in tops for d in (top, *top.rglob("*")) if d.is_dir()):
        parts = directory.relative_to(ROOT).parts
        if not all(part.isidentifier() for part in parts):
            continue
        name = ".".join(parts)
        if any(fnmatchcase(name, pattern) for pattern in include):
            found.add(name)
    return found


def _package_data(package: str) -> set[Path]:
    """The files ``package``'s package-data globs take from the tree."""
    base = ROOT.joinpath(*package.split("."))
    globs = _pyproject()["tool"]["setuptools"]["package-data"].get(package, [])
    return {path for pattern in globs for path in base.glob(pattern) if path.is_file()}


def _files(base: Path) -> Iterator[Path]:
    return (p for p in base.rglob("*") if p.is_file() and "__pycache__" not in p.parts)


def test_every_python_module_of_the_service_is_in_a_packaged_package() -> None:
    packaged = _packages()
    for module in _files(PACKAGE):
        if module.suffix == ".py":
            package = ".".join(module.parent.relative_to(ROOT).parts)
            assert package in packaged, module
    assert {"authsvc.migrations", "authsvc.migrations.versions", "mobile_bridge"} <= packaged
    assert not {p for p in packaged if p.startswith(("tests", "benchmarks"))}


def test_every_other_file_of_the_package_is_package_data() -> None:
    """Templates, the MDS root, alembic's script template: nothing left behind, nothing stray."""
    others = {p for p in _files(PACKAGE) if p.suffix != ".py"}
    assert others == _package_data("authsvc")
    assert PACKAGE / "migrations" / "script.py.mako" in others


def test_the_scripts_static_serves_are_packaged_beside_the_package() -> None:
    served = {
        p for p in _files(pages.SCRIPTS) if pages._servable(p.relative_to(pages.SCRIPTS).as_posix())
    }
    assert pages.SCRIPTS / "webauthn.js" in served
    assert pages.SCRIPTS / "pages" / "site.css" in served
    assert served == _package_data("webauthn_js") | _package_data("webauthn_js.pages")
    assert {"webauthn_js", "webauthn_js.pages"} <= _packages()
    assert "webauthn_js.test" not in _packages()  # the node tests stay out
    # in site-packages as in the repository: webauthn_js/ is a sibling of authsvc/
    assert Path(authsvc.__file__).resolve().parents[1] / "webauthn_js" == pages.SCRIPTS


def test_migrations_are_found_through_the_package_by_both_ways_in() -> None:
    assert Path(str(resources.files("authsvc") / "migrations")) == MIGRATIONS_DIR
    assert (MIGRATIONS_DIR / "env.py").is_file()
    assert sorted(p.name for p in (MIGRATIONS_DIR / "versions").glob("0001_*.py"))
    ini = configparser.ConfigParser(interpolation=None)
    ini.read(ROOT / "alembic.ini")
    assert ini["alembic"]["script_location"] == "authsvc:migrations"
    assert not (ROOT / "migrations").exists()


def _imported_distributions() -> dict[str, set[str]]:
    """Third-party distributions imported by authsvc and mobile_bridge, with an importer each."""
    stdlib, ours = sys.stdlib_module_names, {"authsvc", "mobile_bridge", "__future__"}
    owners = packages_distributions()
    found: dict[str, set[str]] = {}
    for base in (PACKAGE, ROOT / "mobile_bridge"):
        for module in (p for p in _files(base) if p.suffix == ".py"):
            for node in ast.walk(ast.parse(module.read_text(encoding="utf-8"))):
                names: list[str] = []
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names = [node.module]
                for top in {name.split(".")[0] for name in names} - ours - stdlib:
                    for dist in owners.get(top, [top]):
                        found.setdefault(_normalised(dist), set()).add(module.name)
    return found


def _normalised(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _declared(requirements: list[str]) -> set[str]:
    return {_normalised(re.split(r"[\[<>=!~; ]", r, maxsplit=1)[0]) for r in requirements}


def test_every_runtime_import_is_a_declared_dependency() -> None:
    project = _pyproject()["project"]
    declared = _declared(project["dependencies"])
    optional = _declared(project["optional-dependencies"]["prod"])  # imported only when set up
    imported = _imported_distributions()
    assert {"click", "werkzeug", "flask", "fido2"} <= imported.keys()
    missing = {d: sorted(m) for d, m in imported.items() if d not in declared | optional}
    assert missing == {}


def test_the_licence_is_an_spdx_expression_with_its_text() -> None:
    project = _pyproject()["project"]
    assert project["license"] == "Apache-2.0"
    assert project["license-files"] == ["LICENSE"]
    assert "Apache License" in (ROOT / "LICENSE").read_text(encoding="utf-8")[:200]
