"""Supervising a local cluster with small Python programs standing in for training tasks:
prefixed logs, the chief's status, fail-fast, timeouts, and servers stopped after the chief."""

import io
import json
import sys
import time

from zoo.launch import launch, plan_cluster

# Each task runs this with its TF_CONFIG; the behaviour per task comes from the test's table.
TASK_PROGRAM = """
import json, os, sys, time
task = json.loads(os.environ["TF_CONFIG"])["task"]
name = f"{task['type']}-{task['index']}"
behaviour = json.loads(sys.argv[1]).get(name, {})
print("hello from", name, flush=True)
time.sleep(behaviour.get("sleep", 0))
sys.exit(behaviour.get("exit", 0))
"""


def run(plan, behaviours, **options):
    output = io.StringIO()
    command = [sys.executable, "-c", TASK_PROGRAM, json.dumps(behaviours)]
    started = time.monotonic()
    result = launch(command, plan, output=output, kill_after_seconds=2, **options)
    return result, output.getvalue(), time.monotonic() - started


def test_every_line_is_prefixed_with_its_task_and_also_written_to_the_log_dir(tmp_path):
    result, output, _ = run(plan_cluster(2), {}, log_dir=tmp_path)
    assert "[worker-0] hello from worker-0" in output
    assert "[worker-1] hello from worker-1" in output
    assert (tmp_path / "worker-1.log").read_text() == "hello from worker-1\n"
    assert result.exit_code == 0 and result.task_exit_codes == {"worker-0": 0, "worker-1": 0}


def test_the_launch_exits_with_the_chiefs_status():
    result, output, _ = run(plan_cluster(2), {"worker-0": {"exit": 3}, "worker-1": {"sleep": 30}})
    assert result.exit_code == 3
    assert "chief worker-0 failed with status 3" in output


def test_a_worker_that_dies_stops_the_others_at_once():
    result, output, seconds = run(plan_cluster(3), {"worker-0": {"sleep": 60}, "worker-1": {"exit": 5},
                                                    "worker-2": {"sleep": 60}})
    assert result.exit_code == 5
    assert "worker-1 exited with status 5 before the chief finished" in output
    assert seconds < 20, "the sleeping tasks were stopped, not waited for"
    assert result.task_exit_codes["worker-0"] == 128 + 15  # SIGTERM


def test_a_run_longer_than_the_timeout_is_stopped_with_status_124():
    result, output, seconds = run(plan_cluster(2), {"worker-0": {"sleep": 60}, "worker-1": {"sleep": 60}},
                                  timeout_seconds=2)
    assert result.exit_code == 124 and "timed out after 2 s" in output
    assert seconds < 20


def test_parameter_servers_and_workers_are_stopped_when_the_chief_finishes():
    servers = {name: {"sleep": 60} for name in ("worker-0", "worker-1", "ps-0")}
    result, output, seconds = run(plan_cluster(2, 1), {"chief-0": {"sleep": 1}, **servers})
    assert result.exit_code == 0 and "chief chief-0 finished" in output
    assert seconds < 20


def test_a_parameter_server_that_exits_early_is_a_failure_even_with_status_0():
    result, output, _ = run(plan_cluster(1, 1), {"chief-0": {"sleep": 60}, "worker-0": {"sleep": 60}})
    assert result.exit_code == 1
    assert "ps-0 exited with status 0 before the chief finished" in output


def test_workers_still_running_after_the_grace_period_are_stopped():
    result, output, seconds = run(plan_cluster(2), {"worker-1": {"sleep": 60}}, grace_seconds=1)
    assert result.exit_code == 0
    assert "still running after 1 s, stopped: worker-1" in output
    assert seconds < 20
