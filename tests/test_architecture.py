"""The shape of the code, checked so it stays: dependencies point one way, no two modules import each
other, no file holds two ideas' worth of lines, and the job machinery knows no kind of job."""

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("annotations", "config", "frontend", "inference", "line")
MAX_LINES = 500


def _sources(*packages: str) -> list[Path]:
    return sorted(
        path
        for package in packages
        for path in (REPO / package).rglob("*.py")
        if "migrations" not in path.parts
    )


def _module(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """Every module this file imports, at the top or inside a function."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def test_annotations_imports_nothing_from_inference():
    offenders = [
        f"{path.relative_to(REPO)}: {name}"
        for path in _sources("annotations")
        for name in _imports(path)
        if name.split(".")[0] == "inference"
    ]
    assert offenders == []


def test_the_line_sits_on_top_labels_and_models_know_nothing_of_it():
    offenders = [
        f"{path.relative_to(REPO)}: {name}"
        for path in _sources("annotations", "inference")
        for name in _imports(path)
        if name.split(".")[0] == "line"
    ]
    assert offenders == []


def test_no_two_modules_import_each_other():
    modules = {_module(path): path for path in _sources(*PACKAGES)}
    graph = {
        name: {i for i in _imports(path) if i in modules and i != name} for name, path in modules.items()
    }
    pairs = sorted(
        {tuple(sorted((a, b))) for a, deps in graph.items() for b in deps if a in graph.get(b, ())}
    )
    assert sorted(pairs) == []


@pytest.mark.parametrize("suffix", [".py", ".ts"])
def test_no_file_is_over_the_line_limit(suffix):
    paths = [
        path
        for package in PACKAGES + ("tests",)
        for path in (REPO / package).rglob(f"*{suffix}")
        if "migrations" not in path.parts and "node_modules" not in path.parts and "dist" not in path.parts
    ]
    assert paths or suffix == ".ts"
    long = {str(p.relative_to(REPO)): n for p in paths if (n := len(p.read_text().splitlines())) > MAX_LINES}
    assert long == {}


def test_the_job_machinery_knows_no_kind_of_job():
    names = {
        node.attr
        for node in ast.walk(ast.parse((REPO / "inference/services/jobs.py").read_text()))
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "JobKind"
    }
    assert names == set()
