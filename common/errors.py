"""Errors a user can act on: the command line reports them in one line and exits 2.

Any other exception is a bug and keeps its traceback (exit 1).

Example:
>>> issubclass(DataError, UserError), issubclass(ConfigError, UserError)
(True, True)
"""


class UserError(Exception):
    """Something the user gave is wrong; the message says what and where."""


class ConfigError(UserError, ValueError):
    """A bad preset, key or value; the message lists what is valid."""


class DataError(UserError, ValueError):
    """Bad input data; the message names the file, line or field."""
