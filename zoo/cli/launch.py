"""`zoo launch`: try multi-worker or parameter-server training on one machine."""

from __future__ import annotations

import argparse

from zoo.cli.parser import non_negative_int, positive_float, positive_int
from zoo.errors import ConfigError

DESCRIPTION = """\
Start COMMAND once per task of a local tf.distribute cluster on 127.0.0.1 free ports,
each task with its own TF_CONFIG: --workers N workers (worker 0 is the chief), or, with
--ps M, a chief (the coordinator), N workers and M parameter servers.

Every output line is prefixed with its task. The exit status is the chief's; if another
task dies first, all are stopped at once. --timeout bounds the whole run (status 124).
"""

EXAMPLES = """examples:
  zoo launch --workers 2 -- zoo train mlp --dataset digits --strategy multi_worker
  zoo launch --workers 2 --ps 1 -- zoo train mlp --dataset digits --strategy parameter_server
"""


def add_parsers(subparsers) -> None:
    launch = subparsers.add_parser(
        "launch",
        help="run a command as a local multi-worker or parameter-server cluster",
        description=DESCRIPTION,
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    launch.add_argument("--workers", type=positive_int, required=True, metavar="N", help="worker tasks")
    launch.add_argument("--ps", type=non_negative_int, default=0, metavar="M",
                        help="parameter-server tasks; > 0 adds a chief that coordinates (default: 0)")
    launch.add_argument("--timeout", type=positive_float, metavar="SECONDS",
                        help="stop every task after this long (default: no limit)")
    launch.add_argument("--grace", type=positive_float, default=60.0, metavar="SECONDS",
                        help="how long other workers may run on after the chief finished (default: %(default)s)")
    launch.add_argument("--log-dir", metavar="DIR", help="also write each task's output to DIR/TASK.log")
    launch.add_argument("command", nargs=argparse.REMAINDER, metavar="-- COMMAND ...",
                        help="the program every task runs, e.g. -- zoo train ...")
    launch.set_defaults(handler=run_launch)


def run_launch(args: argparse.Namespace) -> int:
    from zoo.launch import launch, plan_cluster

    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        raise ConfigError("no command to launch: put it after --, e.g. zoo launch --workers 2 -- zoo train ...")
    plan = plan_cluster(args.workers, args.ps)
    result = launch(command, plan, timeout_seconds=args.timeout, grace_seconds=args.grace, log_dir=args.log_dir)
    return result.exit_code
