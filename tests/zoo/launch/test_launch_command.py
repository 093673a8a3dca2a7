"""`zoo launch` on the command line: its argument errors and the command it runs."""

import sys

import pytest

from zoo.cli.main import main
from zoo.launch.supervisor import program_command


def test_launch_without_a_command_explains_where_it_goes(capsys):
    assert main(["launch", "--workers", "2"]) == 2
    assert "no command to launch: put it after --" in capsys.readouterr().err


def test_launch_with_zero_workers_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["launch", "--workers", "0", "--", "true"])
    assert exit_info.value.code == 2
    assert "expected a positive integer, got 0" in capsys.readouterr().err


def test_launch_runs_the_command_after_the_separator_and_returns_its_status(capsys):
    code = main(["launch", "--workers", "2", "--timeout", "60", "--", sys.executable, "-c", "raise SystemExit(0)"])
    assert code == 0
    assert "[launch] chief worker-0 finished; exit status 0" in capsys.readouterr().out


def test_zoo_commands_run_with_the_launchers_own_interpreter():
    assert program_command(["zoo", "train", "mlp"]) == [sys.executable, "-m", "zoo.cli.main", "train", "mlp"]
    assert program_command(["python3", "x.py"]) == ["python3", "x.py"]


def test_a_program_that_does_not_exist_is_one_line_and_status_2(capsys):
    assert main(["launch", "--workers", "2", "--", "no-such-program-here"]) == 2
    assert "cannot start 'no-such-program-here' for worker-0: No such file or directory" in capsys.readouterr().err
