"""The `zoo` command run in-process by the tests: its exit status and what it printed."""

from __future__ import annotations

from zoo.cli.main import main


def run_zoo(capsys, *argv: str) -> tuple[int, str, str]:
    """(exit status, stdout, stderr) of `zoo ARGV`; argparse's SystemExit gives the status too."""
    try:
        code = main(list(argv))
    except SystemExit as exit:
        code = exit.code
    captured = capsys.readouterr()
    return code, captured.out, captured.err
