"""`zoo replay`: send a request log's requests to a server again and compare the answers."""

from __future__ import annotations

import argparse

from zoo.cli.parser import non_negative_float, positive_float, positive_int
from zoo.cli.predict import add_connection_arguments, read_root_certificates
from zoo.errors import ConfigError

MAX_DIFFERENCES_SHOWN = 3


def add_parsers(subparsers) -> None:
    replay = subparsers.add_parser(
        "replay",
        help="resend the requests of a request log and compare the answers with the recorded ones",
        description="Read LOGFILE (a TFRecord of tensorflow.serving.PredictionLog: a file the "
        "server's request logging wrote, or a tf_serving_warmup_requests file), send each "
        "Predict, Classify, Regress and MultiInference request to --server over gRPC, and compare "
        "each answer with the response recorded beside the request: numbers within --rtol/--atol, "
        "strings and class labels exactly. Requests go to the latest version of their model unless "
        "--version or --label says otherwise, so a new version can be checked against recorded "
        "traffic. Exit status 0 when every answer matched, 1 otherwise.",
    )
    replay.add_argument("logfile", metavar="LOGFILE", help="a TFRecord file of PredictionLog")
    replay.add_argument("--server", required=True, metavar="HOST:PORT", help="the server's gRPC address")
    replay.add_argument("--model", help="send every request to this model (default: the recorded one)")
    selector = replay.add_mutually_exclusive_group()
    selector.add_argument("--version", type=positive_int, help="a specific version (default: the latest)")
    selector.add_argument("--label", help="a version label, e.g. stable or canary")
    replay.add_argument("--rtol", type=non_negative_float, default=1e-5,
                        help="relative tolerance for numbers (default: %(default)s)")
    replay.add_argument("--atol", type=non_negative_float, default=1e-6,
                        help="absolute tolerance for numbers (default: %(default)s)")
    replay.add_argument("--timeout", type=positive_float, default=30.0,
                        help="seconds per request (default: %(default)s)")
    add_connection_arguments(replay)
    replay.set_defaults(handler=run_replay, uses_tensorflow=True)


def run_replay(args: argparse.Namespace) -> int:
    from tfzoo_client import Client, TlsConfig
    from zoo.replay import Target, replay

    root_certificates = read_root_certificates(args)
    tls = TlsConfig(root_certificates=root_certificates) if (args.tls or root_certificates) else None
    target = Target(args.model, args.version, args.label)
    counts = {"matched": 0, "differed": 0, "failed": 0, "not compared": 0}
    try:
        with Client(args.server, tls=tls, token=args.token, timeout=args.timeout) as client:
            for outcome in replay(client, args.logfile, target, rtol=args.rtol, atol=args.atol):
                if outcome.error is not None:
                    counts["failed"] += 1
                    print(f"record {outcome.index} ({outcome.kind}): failed: {outcome.error}")
                elif outcome.differences:
                    counts["differed"] += 1
                    shown = outcome.differences[:MAX_DIFFERENCES_SHOWN]
                    more = len(outcome.differences) - len(shown)
                    print(f"record {outcome.index} ({outcome.kind}): differs: " + "; ".join(shown)
                          + (f"; and {more} more" if more else ""))
                elif not outcome.compared:
                    counts["not compared"] += 1
                else:
                    counts["matched"] += 1
    except ValueError as error:  # an unreadable log file, or the client's argument checks
        raise ConfigError(str(error)) from None
    total = sum(counts.values())
    print(f"replayed {total} request{'s' if total != 1 else ''} to {args.server}: "
          + ", ".join(f"{count} {what}" for what, count in counts.items()))
    return 0 if counts["differed"] == 0 and counts["failed"] == 0 else 1
