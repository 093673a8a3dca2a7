"""The error for a data file the user supplied that cannot be parsed."""

from zoo.errors import ZooError


class DataFormatError(ZooError, ValueError):
    """A dataset file that exists but is malformed: corrupt IDX, ragged CSV, mixed image sizes.

    Like every `ZooError`, the message names the file and the fix in one line, so the CLI can
    print it as is.
    """
