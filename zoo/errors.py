"""Errors a user can fix: the CLI prints them as one line and exits with status 2."""


class ZooError(Exception):
    """Base class for problems in the user's request (bad name, bad value, missing data).

    The message must say what is wrong and how to fix it, in one line.
    """


class UnknownNameError(ZooError, KeyError):
    """A model, dataset, backbone or preset name that is not registered."""

    def __str__(self) -> str:  # KeyError would otherwise quote the message
        return str(self.args[0]) if self.args else ""


class DatasetUnavailableError(ZooError):
    """A dataset that cannot be loaded here (offline, not installed, path missing)."""


class ConfigError(ZooError, ValueError):
    """A config file or argument value that is invalid."""
