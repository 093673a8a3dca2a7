"""Run one command per cluster task, stream their logs with a task prefix, and stop them together.

The rules a local cluster needs so that it never hangs and never leaves processes behind:
- the launch's exit status is the chief's;
- a task that dies (non-zero status, or a parameter server/worker server that exits at all) before
  the chief has finished stops every other task at once: the survivors would otherwise wait on
  collectives or RPCs that never complete;
- once the chief finishes, serving-only tasks are stopped, and the other trainers get
  `grace_seconds` to finish their last steps;
- the whole launch is bounded by `timeout_seconds` (status 124, as coreutils' `timeout`);
- SIGTERM/SIGINT to the launcher stop every task (status 128 + signal).
Stopping a task sends SIGTERM to its process group, then SIGKILL after `kill_after_seconds`.
"""

from __future__ import annotations

import dataclasses
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Mapping, Sequence, TextIO

from zoo.errors import ConfigError
from zoo.launch.cluster import ClusterPlan, Task

TIMEOUT_STATUS = 124
POLL_SECONDS = 0.1


@dataclasses.dataclass
class LaunchResult:
    """How a launch ended: the status to exit with, why, and every task's own status."""

    exit_code: int
    reason: str
    task_exit_codes: dict[str, int | None] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass
class _Running:
    task: Task
    process: subprocess.Popen
    reader: threading.Thread

    @property
    def status(self) -> int | None:
        code = self.process.poll()
        return None if code is None else exit_status(code)


def exit_status(returncode: int) -> int:
    """A Popen return code as a shell reports it: killed by signal N -> 128 + N."""
    return 128 - returncode if returncode < 0 else returncode


def launch(
    command: Sequence[str],
    plan: ClusterPlan,
    *,
    timeout_seconds: float | None = None,
    grace_seconds: float = 60.0,
    kill_after_seconds: float = 5.0,
    log_dir: str | Path | None = None,
    output: TextIO | None = None,
    env: Mapping[str, str] | None = None,
) -> LaunchResult:
    """Starts `command` once per task of `plan` with that task's TF_CONFIG and supervises them.

    Args:
        command: the program and its arguments, run unchanged by every task (`zoo` is run with
            this Python interpreter, see `program_command`).
        plan: the cluster (see `plan_cluster`).
        timeout_seconds: stop everything after this long; None waits for the chief.
        grace_seconds: how long other trainers may run on after the chief has finished.
        kill_after_seconds: how long a stopped task gets between SIGTERM and SIGKILL.
        log_dir: also write each task's output to LOG_DIR/<task>.log.
        output: where the prefixed lines go (default: stdout).
        env: extra environment variables for every task.
    """
    if not command:
        raise ValueError("command must name a program to run. Received: command=[]")
    for name, value in (("timeout_seconds", timeout_seconds), ("grace_seconds", grace_seconds),
                        ("kill_after_seconds", kill_after_seconds)):
        if value is not None and not value >= 0:
            raise ValueError(f"{name} must be >= 0. Received: {name}={value}")
    sink = _PrefixedSink(output or sys.stdout, Path(log_dir) if log_dir else None)
    stop_signal = _StopSignal()
    running: list[_Running] = []
    try:
        with stop_signal:
            for task in plan.tasks:
                running.append(_start(task, command, plan, env, sink))
            sink.note(f"started {', '.join(f'{r.task.name} (pid {r.process.pid})' for r in running)}; "
                      f"chief: {plan.chief.name}")
            result = _supervise(running, plan, timeout_seconds, grace_seconds, stop_signal)
    finally:
        _stop_all(running, kill_after_seconds)
        for task in running:
            task.reader.join(timeout=kill_after_seconds)
        sink.close()
    result.task_exit_codes = {r.task.name: r.status for r in running}
    sink.note(f"{result.reason}; exit status {result.exit_code}")
    return result


def _start(task: Task, command: Sequence[str], plan: ClusterPlan, env: Mapping[str, str] | None,
           sink: "_PrefixedSink") -> _Running:
    task_env = {**os.environ, **(env or {}), "TF_CONFIG": plan.tf_config(task), "PYTHONUNBUFFERED": "1"}
    try:
        process = subprocess.Popen(
            program_command(command), env=task_env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, start_new_session=True,  # its own group: stopped with its children
        )
    except (FileNotFoundError, PermissionError) as error:
        raise ConfigError(f"cannot start {command[0]!r} for {task.name}: {error.strerror}") from None
    reader = threading.Thread(target=sink.pump, args=(task.name, process.stdout, sink.open_log(task.name)),
                              name=f"log-{task.name}", daemon=True)
    reader.start()
    return _Running(task, process, reader)


def program_command(command: Sequence[str]) -> list[str]:
    """`zoo ...` runs as `python -m zoo.cli.main ...` with this interpreter, so every task uses the
    same environment as the launcher even when the `zoo` script is not on PATH."""
    if command[0] == "zoo":
        return [sys.executable, "-m", "zoo.cli.main", *command[1:]]
    return list(command)


def _supervise(running: list[_Running], plan: ClusterPlan, timeout_seconds: float | None,
               grace_seconds: float, stop_signal: "_StopSignal") -> LaunchResult:
    started = time.monotonic()
    chief = next(r for r in running if r.task == plan.chief)
    others = [r for r in running if r is not chief]
    while True:
        if stop_signal.received:
            return LaunchResult(128 + stop_signal.received, f"stopped by {signal.Signals(stop_signal.received).name}")
        if timeout_seconds is not None and time.monotonic() - started > timeout_seconds:
            return LaunchResult(TIMEOUT_STATUS, f"timed out after {timeout_seconds:g} s")
        for other in others:
            status = other.status
            if status is not None and (status != 0 or plan.is_server_only(other.task)):
                return LaunchResult(status or 1, f"{other.task.name} exited with status {status} "
                                    "before the chief finished; stopped the others")
        status = chief.status
        if status is not None:
            if status != 0:
                return LaunchResult(status, f"chief {chief.task.name} failed with status {status}")
            trainers = [r for r in others if not plan.is_server_only(r.task)]
            return _wait_for_trainers(chief, trainers, grace_seconds)
        time.sleep(POLL_SECONDS)


def _wait_for_trainers(chief: _Running, trainers: list[_Running], grace_seconds: float) -> LaunchResult:
    deadline = time.monotonic() + grace_seconds
    while any(r.status is None for r in trainers) and time.monotonic() < deadline:
        time.sleep(POLL_SECONDS)
    late = [r.task.name for r in trainers if r.status is None]
    failed = [f"{r.task.name} ({r.status})" for r in trainers if r.status not in (None, 0)]
    reason = f"chief {chief.task.name} finished"
    if failed:
        reason += f"; failed after it: {', '.join(failed)}"
    if late:
        reason += f"; still running after {grace_seconds:g} s, stopped: {', '.join(late)}"
    return LaunchResult(0, reason)


def _stop_all(running: list[_Running], kill_after_seconds: float) -> None:
    alive = [r for r in running if r.process.poll() is None]
    for r in alive:
        _signal_group(r.process, signal.SIGTERM)
    deadline = time.monotonic() + kill_after_seconds
    for r in alive:
        try:
            r.process.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            _signal_group(r.process, signal.SIGKILL)
            r.process.wait()


def _signal_group(process: subprocess.Popen, signum: int) -> None:
    try:
        os.killpg(process.pid, signum)
    except ProcessLookupError:
        pass


class _PrefixedSink:
    """Writes each task's lines as `[worker-1] line` to one stream, and to per-task log files."""

    def __init__(self, output: TextIO, log_dir: Path | None):
        self._output = output
        self._log_dir = log_dir
        self._lock = threading.Lock()
        self._files: list = []
        if log_dir is not None:
            log_dir.mkdir(parents=True, exist_ok=True)

    def open_log(self, name: str):
        """The task's own log file, or None without a log directory."""
        if self._log_dir is None:
            return None
        log_file = open(self._log_dir / f"{name}.log", "w", encoding="utf-8")
        self._files.append(log_file)
        return log_file

    def pump(self, name: str, stream, log_file) -> None:
        for raw in iter(stream.readline, b""):
            line = raw.decode("utf-8", errors="replace").rstrip("\r\n")
            with self._lock:
                self._output.write(f"[{name}] {line}\n")
                self._output.flush()
                if log_file:
                    log_file.write(line + "\n")
                    log_file.flush()
        stream.close()

    def note(self, message: str) -> None:
        with self._lock:
            self._output.write(f"[launch] {message}\n")
            self._output.flush()

    def close(self) -> None:
        for log_file in self._files:
            log_file.close()


class _StopSignal:
    """While active (and on the main thread), SIGTERM/SIGINT are recorded instead of killing the
    launcher, so it can stop its tasks first."""

    def __init__(self):
        self.received = 0
        self._previous: dict[int, object] = {}

    def __enter__(self) -> "_StopSignal":
        if threading.current_thread() is threading.main_thread():
            for signum in (signal.SIGTERM, signal.SIGINT):
                self._previous[signum] = signal.signal(signum, self._record)
        return self

    def __exit__(self, *exc_info) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)

    def _record(self, signum, frame) -> None:
        self.received = signum
