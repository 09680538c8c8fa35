"""The command line: turns ``SiteError``s into compiler-style lines and exit codes."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from .errors import BuildFailed, Problem, SiteError, file_system_problem, report_failure, report_success

COMMANDS = ("build", "serve", "check", "translated")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="build.py",
        description="Build, preview and check a multilingual static website.",
        epilog="Without a command, 'build' is run.",
    )
    sub = parser.add_subparsers(dest="command")

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("--root", type=Path, default=Path(), help="the site's folder (default: the current folder)")

    build = sub.add_parser("build", help="build the site into a folder (default: site/)")
    common(build)
    build.add_argument("--out", type=Path, default=None, help="output folder (default: <root>/site)")
    build.add_argument(
        "--base-url", default=None, help="absolute URL the site is served from (default: base_url in site.yaml)"
    )
    build.add_argument(
        "--strict", action="store_true", help="treat warnings (missing translation, broken link) as errors"
    )
    build.add_argument(
        "--jobs", type=int, default=None, metavar="N", help="processes to render with (default: the number of cores)"
    )
    build.add_argument(
        "--no-cache",
        dest="cache",
        action="store_false",
        help="render every page; read and write no cache records (only the lock in .sitegen-cache/)",
    )

    serve = sub.add_parser("serve", help="preview the site, rebuilding and reloading on every change")
    common(serve)
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8000, help="port to listen on (default: 8000)")

    check = sub.add_parser("check", help="report missing, stale and untranslated content")
    common(check)
    check.add_argument("--format", choices=("text", "json"), default="text", help="report format")
    check.add_argument("--strict", action="store_true", help="exit 1 on warnings as well as errors")

    translated = sub.add_parser("translated", help="mark a translation as up to date with its source")
    common(translated)
    translated.add_argument("pages", nargs="+", metavar="LANG/PAGE", help="for example: en/about")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run a command; return the exit code (0 ok, 1 mistakes in the input, 2 bad usage)."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    if not args_list or (args_list[0] not in COMMANDS and args_list[0] not in ("-h", "--help")):
        args_list.insert(0, "build")
    args = _parser().parse_args(args_list)
    try:
        return _run(args)
    except (BuildFailed, SiteError) as exc:
        problems = exc.problems if isinstance(exc, BuildFailed) else (exc.problem,)
        print(report_failure(problems, "nothing was written"), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except OSError as exc:
        problem = file_system_problem(exc)
        if problem is None:
            raise  # an engine bug: its traceback is what a report needs
        print(problem.format(), file=sys.stderr)
        return 1


def _translated(root: Path, targets: Sequence[str]) -> int:
    """Mark each translation up to date; a wrong name is reported, and the other names are still marked."""
    from .checks import mark_translated
    from .config import load_config

    config = load_config(root)
    failed: list[Problem] = []
    for target in targets:
        try:
            shown = mark_translated(root, target, config)
        except SiteError as exc:
            failed.append(exc.problem)
            continue
        print(f"marked {shown} as up to date with its source", file=sys.stderr)
    if failed:
        marked = "no page was" if len(failed) == len(targets) else "the other pages were"
        print(report_failure(failed, f"{marked} marked"), file=sys.stderr)
        return 1
    return 0


def _run(args: argparse.Namespace) -> int:
    root: Path = args.root.resolve()
    if args.command == "build":
        from .pipeline import build_site

        out = args.out if args.out is not None else root / "site"

        def waiting() -> None:
            print(f"another build is writing to {out}; waiting for it to finish", file=sys.stderr)

        built = build_site(
            root, out, base_url=args.base_url, strict=args.strict, jobs=args.jobs, cache=args.cache, waiting=waiting
        )
        print(f"{report_success(built.problems, built.outputs)} into {out}", file=sys.stderr)
        return 0
    if args.command == "check":
        from .checks import check_site

        report = check_site(root)
        print(report.as_json() if args.format == "json" else report.as_text(), end="")
        return 1 if report.failed(args.strict) else 0
    if args.command == "translated":
        return _translated(root, args.pages)
    if args.command == "serve":
        from .serve import serve

        return serve(root, args.host, args.port)
    raise AssertionError(args.command)
