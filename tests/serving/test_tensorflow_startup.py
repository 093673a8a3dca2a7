"""TensorFlow starts without its C++ start-up lines unless asked for them; nothing else written
to stderr meanwhile is lost; the devices found are said in one line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from serving.tensorflow_startup import Devices, keeps_line, stderr_filtered

ROOT = Path(__file__).resolve().parents[2]
ONEDNN = b"I0000 00:00:1796435750.042895   26196 port.cc:153] oneDNN custom operations are on.\n"
NO_CUDA = b"I0000 00:00:1796435750.043194   26196 cudart_stub.cc:31] Could not find cuda drivers.\n"
CUINIT = (b"E0000 00:00:1796435754.370087   26196 cuda_platform.cc:52] failed call to cuInit: INTERNAL: "
          b"CUDA error: Failed call to cuInit: UNKNOWN ERROR (303)\n")
NOTICE = b"WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n"
WARNING = b"W0000 00:00:1796435750.043194   26196 some_op.cc:12] a warning\n"
ERROR = b"E0000 00:00:1796435750.043194   26196 some_op.cc:12] a real error\n"
FATAL = b"F0000 00:00:1796435750.043194   26196 cuda_platform.cc:52] failed call to cuInit: fatal\n"
OLD_FORMAT_INFO = b"2024-01-02 03:04:05.678901: I tensorflow/core/platform/cpu_feature_guard.cc:182] AVX2\n"


@pytest.mark.parametrize("line", [ONEDNN, NO_CUDA, NOTICE, WARNING, OLD_FORMAT_INFO, CUINIT])
def test_start_up_info_warnings_absls_notice_and_the_failed_cuinit_are_dropped_at_level_2(line):
    assert not keeps_line(line, 2)


@pytest.mark.parametrize("line", [ERROR, FATAL, b"Traceback (most recent call last):\n",
                                  b"/x.py:3: UserWarning: something\n", b"partial line without newline"])
def test_errors_fatal_lines_and_anything_not_a_cpp_log_line_are_kept(line):
    assert keeps_line(line, 2)


def test_level_1_keeps_warnings_and_level_3_drops_errors_but_not_fatal_lines():
    assert keeps_line(WARNING, 1) and not keeps_line(ONEDNN, 1)
    assert not keeps_line(ERROR, 3) and keeps_line(FATAL, 3)


def test_stderr_filtered_copies_the_kept_lines_of_file_descriptor_2_in_order(capfd):
    with stderr_filtered(lambda line: b"drop" not in line):
        os.write(2, b"first\ndrop me\nsec")
        os.write(2, b"ond\n")
        os.write(2, b"no newline at the end")
    os.write(2, b", then after the block\n")

    assert capfd.readouterr().err == "first\nsecond\nno newline at the end, then after the block\n"


def test_devices_are_said_in_one_line():
    assert Devices(gpus=()).describe() == "CPU (no GPU found)"
    assert Devices(gpus=("GPU:0",)).describe() == "1 GPU (GPU:0) and the CPU"
    assert Devices(gpus=("GPU:0", "GPU:1")).describe() == "2 GPUs (GPU:0, GPU:1) and the CPU"


def _start_in_a_fresh_process(**environment: str) -> subprocess.CompletedProcess:
    code = ("from serving.tensorflow_startup import find_devices\n"
            "print(find_devices().describe())\n"
            "import tensorflow as tf\n"
            "tf.config.threading.set_intra_op_parallelism_threads(1)  # the runtime has not started\n"
            "print(int(tf.reduce_sum(tf.ones([2]))))\n")
    env = {key: value for key, value in os.environ.items() if key != "TF_CPP_MIN_LOG_LEVEL"}
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                          env={**env, **environment}, timeout=300)


@pytest.mark.slow  # two fresh processes import TensorFlow
def test_a_fresh_process_starts_tensorflow_without_its_cpp_lines_unless_the_level_is_0():
    quiet = _start_in_a_fresh_process()
    verbose = _start_in_a_fresh_process(TF_CPP_MIN_LOG_LEVEL="0")

    assert quiet.returncode == 0 and verbose.returncode == 0, quiet.stderr + verbose.stderr
    assert quiet.stderr == ""
    assert quiet.stdout.splitlines()[1] == "2"
    assert "port.cc" in verbose.stderr  # TensorFlow's oneDNN notice, there when asked for
