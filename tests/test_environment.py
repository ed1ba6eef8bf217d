"""environment.yml mirrors pyproject.toml."""
import re
import tomllib

from tests.conftest import REPO


def test_environment_yml_pip_section_mirrors_pyproject_dependencies():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    pinned = project["dependencies"] + project["optional-dependencies"]["hub"]
    mirrored = re.findall(r"^\s+- ([\w.\-]+==[\w.]+)\s*(?:#.*)?$", (REPO / "environment.yml").read_text(), re.M)
    assert sorted(mirrored) == sorted(pinned)
