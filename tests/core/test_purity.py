"""core/ is pure: no I/O, no clock, no randomness.

Two checks, both honest about what the interpreter itself loads:

1. every module under ``mirakl_sync/core`` is parsed and may not import ``httpx``, ``sqlite3``,
   ``psycopg``, ``tenacity``, ``socket``, ``time`` or ``random`` (nor anything below them);
2. a fresh interpreter with a meta-path finder that refuses those modules imports every core
   submodule; afterwards none of them is in ``sys.modules`` except what a bare interpreter had
   already loaded before our code ran (``time`` is preloaded by CPython's own startup, which is
   why check 1 exists: a finder cannot see an import of an already-loaded module).
"""

from __future__ import annotations

import ast
import json
import pkgutil
import subprocess
import sys
from pathlib import Path

import mirakl_sync.core

FORBIDDEN = ("httpx", "sqlite3", "psycopg", "tenacity", "socket", "time", "random")
CORE_DIR = Path(mirakl_sync.core.__file__).parent


def _core_modules() -> list[str]:
    return sorted(f"mirakl_sync.core.{m.name}" for m in pkgutil.iter_modules([str(CORE_DIR)]))


def _forbidden(name: str) -> bool:
    return name.split(".")[0] in FORBIDDEN


def test_core_modules_do_not_import_forbidden_names() -> None:
    offenders: list[str] = []
    files = sorted(CORE_DIR.rglob("*.py"))
    assert len(files) >= 8
    for path in files:
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                offenders += [
                    f"{path.name}: import {a.name}" for a in node.names if _forbidden(a.name)
                ]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                if _forbidden(node.module):
                    offenders.append(f"{path.name}: from {node.module} import ...")
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                if node.func.id == "__import__" or node.func.id == "import_module":
                    offenders.append(f"{path.name}: dynamic import")
            elif isinstance(node, ast.Attribute) and node.attr == "import_module":
                offenders.append(f"{path.name}: dynamic import")
    assert offenders == []


_SCRIPT = r"""
import json, sys
baseline = set(sys.modules)
blocked = set(json.loads(sys.argv[1]))

class Blocker:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in blocked:
            raise ImportError(f"core must not import {name}")
        return None

sys.meta_path.insert(0, Blocker())
import importlib
for mod in json.loads(sys.argv[2]):
    importlib.import_module(mod)
loaded = sorted(
    m for m in sys.modules
    if m.split(".")[0] in blocked and m not in baseline
)
preloaded = sorted(m for m in baseline if m.split(".")[0] in blocked)
print(json.dumps({"loaded": loaded, "preloaded": preloaded}))
"""


def test_core_imports_in_a_guarded_interpreter() -> None:
    modules = ["mirakl_sync.core", *_core_modules()]
    assert "mirakl_sync.core.stock" in modules
    proc = subprocess.run(
        [sys.executable, "-c", _SCRIPT, json.dumps(FORBIDDEN), json.dumps(modules)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["loaded"] == []
    # Only what CPython itself preloads may already be there (``time``, for instance).
    assert set(result["preloaded"]) <= {"time"}


def test_package_root_stays_light() -> None:
    """``import mirakl_sync.core`` runs ``mirakl_sync/__init__.py``: at import time it must
    import only ``_version`` and ``errors`` (the engine is loaded lazily, on attribute access,
    and type-checking-only imports never run)."""
    tree = ast.parse((CORE_DIR.parent / "__init__.py").read_text(encoding="utf-8"))
    imported = {
        node.module for node in tree.body if isinstance(node, ast.ImportFrom) and node.module
    }
    imported |= {
        alias.name for node in tree.body if isinstance(node, ast.Import) for alias in node.names
    }
    assert imported <= {"mirakl_sync._version", "mirakl_sync.errors", "__future__", "typing"}
