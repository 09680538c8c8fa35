#!/usr/bin/env python3
"""Build, preview or check the site: ``python build.py --help``."""

from __future__ import annotations

import contextlib
import os
import signal
import sys

from sitegen.cli import main


def said(code: int) -> int:
    """``code``, once what the command printed is out; 1 if it could not be (a full disk)."""
    for stream in (sys.stdout, sys.stderr):  # None where the stream was closed (`>&-`)
        try:
            if stream is not None:
                stream.flush()
        except BrokenPipeError:  # the reader went away (`| head`): what it read, it wanted
            code = code or 1
        except OSError as exc:
            code = code or 1
            with contextlib.suppress(OSError):
                os.write(2, f"error: the output could not be written: {exc.strerror}\n".encode())
    return code


if __name__ == "__main__":
    try:
        code = main()
    except SystemExit as exc:  # --help, a mistyped command: argparse's own code
        code = exc.code if isinstance(exc.code, int) else 0 if exc.code is None else 1
    except BrokenPipeError:  # the reader went away while the command was printing
        code = 1
    except KeyboardInterrupt:  # a second Ctrl-C while the first one's clean-up ran
        code = 130
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the command is over: another Ctrl-C ends nothing
    # Every file the command makes is written and closed by now. What is left is the interpreter
    # freeing a large heap one object at a time (about 40 ms after a build of 10,000 pages), which
    # the operating system does at once when the process ends; mypy ends the same way.
    os._exit(said(code))
