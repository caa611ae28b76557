"""The C++ runner, built once per session for the tests that run it (see ``test_cpp_runner``)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

SOURCE = Path(__file__).resolve().parents[2] / "deploy" / "cpp"


def _tail(completed: subprocess.CompletedProcess) -> str:
    return (completed.stdout + completed.stderr)[-4000:]


def _unavailable(reason: str) -> None:
    if os.environ.get("LOUPE_REQUIRE_CPP") == "1":
        pytest.fail(f"LOUPE_REQUIRE_CPP=1 but {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def loupe_inspect(tmp_path_factory) -> Path:
    """``loupe-inspect``, built once per session."""
    if shutil.which("cmake") is None:
        _unavailable("cmake is not installed, so the C++ runner cannot be built")
    if not any(shutil.which(name) for name in ("c++", "g++", "clang++")):
        _unavailable("no C++ compiler (c++, g++, clang++) is installed, so the C++ runner cannot be built")
    try:
        import openvino
    except ImportError:
        _unavailable("the openvino package, whose C++ runtime the program links, is not installed")
    openvino_cmake = Path(openvino.__file__).parent / "cmake"
    build = Path(os.environ.get("LOUPE_CPP_BUILD_DIR") or tmp_path_factory.mktemp("loupe-cpp-build"))
    configure = subprocess.run(
        [
            "cmake",
            "-S",
            str(SOURCE),
            "-B",
            str(build),
            f"-DOpenVINO_DIR={openvino_cmake}",
            "-DCMAKE_BUILD_TYPE=Release",
        ],
        capture_output=True,
        text=True,
    )
    assert configure.returncode == 0, f"cmake could not configure deploy/cpp:\n{_tail(configure)}"
    compiled = subprocess.run(
        ["cmake", "--build", str(build), "--parallel", str(min(4, os.cpu_count() or 1))],
        capture_output=True,
        text=True,
    )
    assert compiled.returncode == 0, f"deploy/cpp does not build:\n{_tail(compiled)}"
    program = build / "loupe-inspect"
    assert program.is_file(), f"the build gave no {program}"
    return program
