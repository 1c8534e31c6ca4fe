"""The layers' dependencies point one way: core <- adapters <- gateway.

Every module under core/, adapters/ and gateway/ is parsed (not imported) and its imports are
checked, so a forbidden import fails here even on a code path no other test runs.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("core", "adapters", "gateway")
MEDIA_LIBRARIES = ("aiortc", "aioice")
CONTRACT = "adapters.hookspecs"
SHARED = (CONTRACT, "adapters.wire")  # all that dialects share: the contract, typed JSON fields


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports(path: Path) -> Iterator[tuple[int, str]]:
    """``(line, absolute module name)`` for every import in the file, relative ones resolved."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = module_name(path).split(".")
    if path.name != "__init__.py":
        package.pop()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - (node.level - 1)]
                prefix = ".".join([*base, node.module] if node.module else base)
            else:
                prefix = node.module or ""
            for alias in node.names:  # ``from adapters import antmedia`` names a subpackage
                yield node.lineno, f"{prefix}.{alias.name}" if prefix else alias.name


def modules() -> list[Path]:
    return sorted(
        p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py") if ".venv" not in p.parts
    )


def within(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


def dialect_packages() -> set[str]:
    return {p.name for p in (ROOT / "adapters").iterdir() if (p / "__init__.py").is_file()}


def violations(path: Path) -> list[str]:
    me = module_name(path)
    layer = me.split(".")[0]
    dialects = dialect_packages()
    found = []
    for line, name in imports(path):
        where = f"{path.relative_to(ROOT)}:{line} imports {name}"
        if layer == "core" and (within(name, "adapters") or within(name, "gateway")):
            found.append(f"{where}: core imports neither adapters nor gateway")
        if layer == "adapters" and within(name, "gateway"):
            found.append(f"{where}: adapters never import the gateway")
        shared = any(within(name, module) for module in SHARED)
        if layer == "adapters" and within(name, "adapters") and not shared:
            mine = me.split(".")[1] if me.count(".") >= 1 else None
            theirs = name.split(".")[1] if name.count(".") >= 1 else None
            if theirs in dialects and theirs != mine:
                found.append(f"{where}: a dialect never imports another dialect")
            elif theirs not in dialects and mine in dialects:
                found.append(f"{where}: dialects share only {', '.join(SHARED)}")
        if layer == "gateway" and within(name, "adapters"):
            theirs = name.split(".")[1] if name.count(".") >= 1 else None
            if not shared and (theirs is None or theirs in dialects):
                found.append(f"{where}: the gateway reaches dialects through plugins only")
        if any(within(name, lib) for lib in MEDIA_LIBRARIES) and not within(me, "core.media"):
            found.append(f"{where}: only core.media touches aiortc and aioice")
    return found


@pytest.mark.parametrize("path", modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_module_respects_the_layers(path: Path) -> None:
    assert violations(path) == []


def test_the_checker_catches_each_kind_of_violation(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(f"{__name__}.ROOT", tmp_path)
    bad = {
        "core/x.py": "from gateway import app\n",
        "core/y.py": "import aiortc\n",
        "adapters/one/codec.py": "from adapters.two import codec\nfrom ..two import state\n",
        "adapters/one/session.py": "import gateway.config\n",
        "adapters/one/state.py": "from adapters.common import helpers\nfrom .. import common\n",
        "gateway/cli.py": "from adapters import one\nimport adapters.two.codec\n",
    }
    good = {
        "core/media/engine.py": "import aiortc\nfrom aioice import Candidate\n",
        "adapters/one/plugin.py": "from adapters.hookspecs import hookimpl\nfrom . import codec\n",
        "adapters/one/frames.py": "from adapters import wire\nfrom ..wire import key, string\n",
        "gateway/plugins.py": "from adapters.hookspecs import DialectSpec\nimport core.hub\n",
    }
    for rel, text in {**bad, **good}.items():
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    for pkg in ("adapters/one", "adapters/two"):
        (tmp_path / pkg).mkdir(parents=True, exist_ok=True)
        (tmp_path / pkg / "__init__.py").touch()
    counts = {rel: len(violations(tmp_path / rel)) for rel in {**bad, **good}}
    assert counts == {
        "core/x.py": 1,
        "core/y.py": 1,
        "adapters/one/codec.py": 2,
        "adapters/one/session.py": 1,
        "adapters/one/state.py": 2,
        "gateway/cli.py": 2,
        "core/media/engine.py": 0,
        "adapters/one/plugin.py": 0,
        "adapters/one/frames.py": 0,
        "gateway/plugins.py": 0,
    }
