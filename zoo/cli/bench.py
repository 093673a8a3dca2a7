"""`zoo bench`: load a served model at several concurrencies and report throughput and latency."""

from __future__ import annotations

import argparse
import json
import sys

from zoo.cli.parser import non_negative_float, positive_float, positive_int, positive_int_list
from tfzoo_client.contract import DEFAULT_SIGNATURE
from zoo.cli.predict import add_connection_arguments, read_root_certificates
from zoo.errors import ConfigError, ZooError
from zoo.tables import format_table


def add_parsers(subparsers) -> None:
    bench = subparsers.add_parser(
        "bench",
        help="measure a served model's throughput and latency under concurrent load",
        description="Load MODEL on a server at each --concurrency in turn (that many requests in "
        "flight at all times, from worker processes of their own), with random inputs shaped by "
        "the model's metadata, and print requests/s, examples/s, p50/p90/p99 latency and errors "
        "per level. Each level takes --warmup + --duration seconds; every request has a deadline, "
        "so a run always ends.",
    )
    bench.add_argument("--server", required=True, metavar="HOST:PORT", help="the server's address")
    bench.add_argument("--model", required=True, help="the model's name on the server")
    selector = bench.add_mutually_exclusive_group()
    selector.add_argument("--version", type=positive_int, help="a specific version (default: the latest)")
    selector.add_argument("--label", help="a version label, e.g. stable or canary")
    bench.add_argument("--signature", default=DEFAULT_SIGNATURE, help="signature to run (default: %(default)s)")
    bench.add_argument("--concurrency", type=positive_int_list, default=(1, 8, 32), metavar="C[,C...]",
                       help="requests in flight, one level per value (default: 1,8,32)")
    bench.add_argument("--duration", type=positive_float, default=5.0, help="measured seconds per level (default: %(default)s)")
    bench.add_argument("--warmup", type=non_negative_float, default=1.0,
                       help="unmeasured seconds before each level (default: %(default)s)")
    bench.add_argument("--batch", type=positive_int, default=1, help="examples per request (default: %(default)s)")
    bench.add_argument("--protocol", default="tfs-grpc", help="wire protocol: a name registered in zoo.bench (default: %(default)s)")
    bench.add_argument("--processes", type=positive_int, default=1,
                       help="worker processes sharing each level's load (default: %(default)s)")
    bench.add_argument("--timeout", type=positive_float, default=10.0, help="deadline of each request in seconds (default: %(default)s)")
    bench.add_argument("--json", action="store_true", help="print the results as JSON")
    add_connection_arguments(bench)
    bench.set_defaults(handler=run_bench)  # the light client: no TensorFlow


def run_bench(args: argparse.Namespace) -> int:
    from tfzoo_client.errors import ServingError
    from zoo.bench import BenchOptions, run_benchmark
    from zoo.bench.protocols import get_protocol

    get_protocol(args.protocol)  # an unknown name fails before anything connects
    root_certificates = read_root_certificates(args)
    try:
        options = BenchOptions(
            server=args.server, model=args.model, concurrency=args.concurrency, duration=args.duration,
            warmup=args.warmup, batch=args.batch, protocol=args.protocol, processes=args.processes,
            timeout=args.timeout, version=args.version, label=args.label, signature=args.signature,
            token=args.token, tls=bool(args.tls or root_certificates), root_certificates=root_certificates,
        )
    except ValueError as error:
        raise ConfigError(str(error)) from None

    def progress(level) -> None:
        if not args.json:
            print(f"concurrency {level.concurrency}: {level.requests_per_second:,.1f} requests/s, "
                  f"{level.errors} errors", file=sys.stderr)

    try:
        result = run_benchmark(options, on_level=progress)
    except ServingError as error:
        raise ZooError(f"{error.code.name}: {error.message}") from None
    except ValueError as error:  # the client's argument checks, e.g. a malformed --server
        raise ConfigError(str(error)) from None
    if args.json:
        print(json.dumps(result.to_dict(), indent=2))
    else:
        print(result_table(result))
    return 0


def result_table(result) -> str:
    headers = ["concurrency", "requests/s", "examples/s", "p50 ms", "p90 ms", "p99 ms", "errors"]
    rows = [
        [level.concurrency, round(level.requests_per_second, 1), round(level.examples_per_second, 1),
         _ms(level.p50_ms), _ms(level.p90_ms), _ms(level.p99_ms), level.errors]
        for level in result.levels
    ]
    lines = [f"{result.model} on {result.server} ({result.protocol}, batch {result.batch})",
             format_table(headers, rows)]
    for level in result.levels:
        for code, message in level.error_samples.items():
            lines.append(f"  concurrency {level.concurrency}: {level.errors_by_code[code]} x {code}: {message}")
    return "\n".join(lines)


def _ms(value: float | None) -> float | str:
    return "-" if value is None else round(value, 2)
