"""The GitHub Pages workflow cannot run here, so it is checked offline: GitHub's published schema for workflow
files (vendored by check-jsonschema), least permissions, and every command and file it relies on."""

import re
import subprocess
import sys

import yaml

from conftest import ROOT

WORKFLOW = ROOT / ".github" / "workflows" / "pages.yml"


def load():
    workflow = yaml.safe_load(WORKFLOW.read_text())
    # YAML 1.1 reads `on` as True
    workflow["on"] = workflow.pop(True, workflow.get("on"))
    return workflow


def steps(workflow):
    return [step for job in workflow["jobs"].values() for step in job["steps"]]


def test_workflow_matches_githubs_schema():
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "check_jsonschema",
            "--builtin-schema",
            "vendor.github-workflows",
            str(WORKFLOW),
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_workflow_publishes_on_every_push_to_main():
    workflow = load()
    assert workflow["on"]["push"]["branches"] == ["main"]
    uses = [step.get("uses", "") for step in steps(workflow)]
    assert any(use.startswith("actions/upload-pages-artifact@") for use in uses)
    assert any(use.startswith("actions/deploy-pages@") for use in uses)
    upload = next(
        step
        for step in steps(workflow)
        if "upload-pages-artifact" in step.get("uses", "")
    )
    assert upload["with"]["path"] == "_build/html"


def test_workflow_asks_for_the_least_permissions():
    workflow = load()
    assert workflow["permissions"] == {"contents": "read"}
    assert workflow["jobs"]["build"].get("permissions") is None
    assert workflow["jobs"]["deploy"]["permissions"] == {
        "pages": "write",
        "id-token": "write",
    }


def test_every_action_is_pinned_to_a_commit_with_its_version_named():
    """A tag can be moved to other code; a commit SHA cannot. The comment says which release it is."""
    lines = (ROOT / ".github" / "workflows" / "pages.yml").read_text()
    pinned = re.findall(r"uses: (\S+)(.*)", lines)
    assert len(pinned) == sum(1 for step in steps(load()) if "uses" in step)
    for action, comment in pinned:
        assert re.fullmatch(r"actions/[a-z-]+@[0-9a-f]{40}", action), action
        assert re.fullmatch(r"\s+# v\d+\.\d+\.\d+", comment), comment


def test_workflow_caches_executed_chapters_keyed_on_notebooks_and_requirements():
    cache = next(
        step
        for step in steps(load())
        if step.get("uses", "").startswith("actions/cache@")
    )
    key = cache["with"]["key"]
    assert "book/*.ipynb" in key and "requirements.lock" in key
    assert "shared_cells" in key


def test_workflow_commands_exist_in_the_repository():
    commands = "\n".join(step.get("run", "") for step in steps(load()))
    assert "tools/execute_notebooks.py --stale" in commands
    assert "--stale" in (ROOT / "tools" / "execute_notebooks.py").read_text()
    assert "pip install -r requirements.lock" in commands
    assert "npm ci" in commands and (ROOT / "package-lock.json").exists()
    assert "dataset-fashion-mnist" in commands
    assert "jupyter-book build ." in commands


def test_the_lock_pins_the_tested_versions_within_the_supported_ranges():
    """requirements.lock is what a fresh clone installs: every package pinned with hashes, inside requirements.txt's
    ranges, and the very versions these tests run with (CI installs the lock)."""
    import importlib.metadata

    from packaging.requirements import Requirement

    lock = (ROOT / "requirements.lock").read_text()
    pinned = dict(re.findall(r"^([A-Za-z0-9_.-]+)==(\S+) \\$", lock, re.M))
    assert len(pinned) > 100
    assert lock.count("--hash=sha256:") >= len(pinned)
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            requirement = Requirement(line)
            assert requirement.name in pinned, requirement.name
            assert requirement.specifier.contains(pinned[requirement.name]), (
                line
            )
    for name, version in pinned.items():
        if name not in {"pip", "setuptools", "wheel"}:
            assert importlib.metadata.version(name) == version, name
