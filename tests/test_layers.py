"""The layer rules of DESIGN.md, enforced with import-linter (contracts in pyproject.toml)."""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from backend.config import PROJECT_ROOT

LINT = str(Path(sys.executable).with_name("lint-imports"))


def _lint(root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([LINT, "--no-cache"], cwd=root, capture_output=True, text=True,
                          env={"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin"})


def test_the_tree_keeps_every_layer_contract() -> None:
    result = _lint(PROJECT_ROOT)
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_page_importing_sqlalchemy_and_a_backend_importing_dash_break_the_contracts(tmp_path: Path) -> None:
    for package in ("backend", "pages", "components", "workers"):
        (tmp_path / package).mkdir()
        (tmp_path / package / "__init__.py").write_text("")
    (tmp_path / "backend" / "models").mkdir()
    for internal in ("db.py", "runtime.py", "models/__init__.py"):  # named by the contracts
        (tmp_path / "backend" / internal).write_text("")
    shutil.copy(PROJECT_ROOT / "pyproject.toml", tmp_path)
    (tmp_path / "pages" / "bad_page.py").write_text("import sqlalchemy\n")
    (tmp_path / "backend" / "bad_service.py").write_text("import dash\n")
    result = _lint(tmp_path)
    assert result.returncode != 0
    assert "pages.bad_page -> sqlalchemy" in result.stdout
    assert "backend.bad_service -> dash" in result.stdout
