"""environment.yml mirrors pyproject.toml."""
import re
import tomllib

from tests.conftest import REPO


def test_environment_yml_pip_section_mirrors_pyproject_dependencies():
    pinned = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]
    mirrored = re.findall(r"^\s+- ([\w.\-]+==[\w.]+)\s*$", (REPO / "environment.yml").read_text(), re.M)
    assert sorted(mirrored) == sorted(pinned)
