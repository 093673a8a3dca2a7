"""argparse, made to fail the way the project promises: one line, exit status 2.

The `type=` converters below reject bad values with a message that says what was expected.
"""

from __future__ import annotations

import argparse
import sys
from typing import Callable


class OneLineParser(argparse.ArgumentParser):
    def error(self, message: str):  # noqa: D401 - argparse API
        sys.stderr.write(f"{self.prog}: error: {message} (see {self.prog} --help)\n")
        raise SystemExit(2)


def number_type(convert: Callable[[str], float], expected: str, accept: Callable[[float], bool]):
    """An argparse `type=` that converts with `convert` and keeps only values `accept` allows."""

    def parse(text: str):
        try:
            value = convert(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}") from None
        if not accept(value):
            raise argparse.ArgumentTypeError(f"expected {expected}, got {text}")
        return value

    return parse


positive_int = number_type(int, "a positive integer", lambda value: value >= 1)
non_negative_int = number_type(int, "a whole number >= 0", lambda value: value >= 0)
positive_float = number_type(float, "a positive number", lambda value: value > 0)
non_negative_float = number_type(float, "a number >= 0", lambda value: value >= 0)
fraction = number_type(float, "a fraction in (0, 1]", lambda value: 0 < value <= 1)


def comma_list(text: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in text.split(",") if item.strip())


def positive_int_list(text: str) -> tuple[int, ...]:
    """`1,8,32` -> (1, 8, 32)."""
    try:
        values = tuple(positive_int(part) for part in text.split(","))
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(f"expected positive integers separated by commas, got {text!r}") from None
    return values
