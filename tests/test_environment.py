"""The install is what the README promises: pins agree, cv2 works without libGL."""

import re
import tomllib
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]


def pins(lines) -> dict[str, str]:
    found = {}
    for line in lines:
        match = re.fullmatch(r"\s*([A-Za-z0-9_.\-]+)==([^\s;#]+)\s*", line)
        if match:
            found[match[1].lower().replace("_", "-")] = match[2]
    return found


def declared_pins() -> dict[str, str]:
    """pyproject's pins: the dependencies and every optional extra."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    declared = pins(project["dependencies"])
    for extra in project["optional-dependencies"].values():
        declared |= pins(extra)
    return declared


def test_environment_yml_pyproject_and_lock_agree():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    declared = declared_pins()
    env = yaml.safe_load((REPO / "environment.yml").read_text())
    python = [d for d in env["dependencies"] if isinstance(d, str) and d.startswith("python=")]
    pip_section = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    locked = pins((REPO / "requirements.lock").read_text().splitlines())
    assert python == ["python=3.11"] and project["requires-python"].startswith(">=3.11")
    # environment.yml also pins the headless OpenCV it makes cv2 from (see its header).
    headless = {"opencv-python-headless": locked["opencv-python-headless"]}
    assert pins(pip_section) == declared | headless
    for name, version in declared.items():
        assert locked.get(name) == version, f"{name}: pyproject {version}, lock {locked.get(name)}"
    assert "imaug" in declared and "imgaug" not in locked  # the numpy-2 fork, not the 2020 release


def test_extras_hold_the_test_and_notebook_tools_and_scipy_is_direct():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    extras = {name: set(pins(reqs)) for name, reqs in project["optional-dependencies"].items()}
    assert extras == {"test": {"pytest", "nbval"}, "notebooks": {"jupyterlab", "ipykernel", "papermill", "jupytext"}}
    core = set(pins(project["dependencies"]))
    assert "scipy" in core and not core & (extras["test"] | extras["notebooks"])
    imports_scipy = [p.name for p in (REPO / "salt_lib").glob("*.py") if re.search(r"^\s*from scipy", p.read_text(), re.M)]
    assert imports_scipy, "scipy is declared as a direct dependency: some module imports it"


def test_conda_users_get_the_same_headless_opencv_as_make():
    """conda cannot order the pip list, so environment.yml's header gives the reinstall line;
    it must pin the wheel the Makefile reinstalls (the lock's)."""
    locked = pins((REPO / "requirements.lock").read_text().splitlines())["opencv-python-headless"]
    header = (REPO / "environment.yml").read_text()
    command = f"pip install --force-reinstall --no-deps opencv-python-headless=={locked}"
    assert command in header
    makefile = (REPO / "Makefile").read_text()
    assert "--force-reinstall --no-deps $(OPENCV_HEADLESS)" in makefile and "grep '^opencv-python-headless=='" in makefile


def test_cv2_is_the_headless_build():
    import cv2

    binary = next(Path(cv2.__file__).parent.glob("cv2*.so"))
    assert b"libGL.so" not in binary.read_bytes(), "cv2 links libGL: run `make` to reinstall opencv-python-headless"


def test_imgaug_imports_on_numpy_2():
    import numpy as np
    import imgaug.augmenters as iaa

    assert int(np.__version__.split(".")[0]) >= 2
    flipped = iaa.Fliplr(1.0)(image=np.arange(6, dtype=np.uint8).reshape(2, 3))
    assert flipped.tolist() == [[2, 1, 0], [5, 4, 3]]
