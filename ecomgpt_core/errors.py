"""The project's one error base class, and how console scripts report it.

An `EcomGPTError` is a problem the user can fix (bad input, missing data, a refused request); its message says
where and what to do. A command prints it as one line `<command>: error: ...` and exits with status 2. Any
other exception is a bug in our code and keeps its traceback.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

EXIT_USER_ERROR = 2
EXIT_INTERRUPTED = 130


class EcomGPTError(Exception):
    """A user-fixable problem; the message names the file, record or option and says what to do."""


def run_command(prog: str, work: Callable[[], int | None]) -> int:
    """A console script's exit status: `work()`'s (0 for None); an `EcomGPTError` is printed as one line on
    stderr and gives 2, Ctrl-C gives 130; any other exception propagates with its traceback."""
    try:
        return work() or 0
    except EcomGPTError as error:
        print(f"{prog}: error: {error}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
