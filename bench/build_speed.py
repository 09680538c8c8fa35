"""Build speed at scale: cold, no-change, one-page and one-template rebuilds, against the Python-Markdown floor.

    python bench/build_speed.py --pages 1000            # pages per language (th + en)
    python bench/build_speed.py --pages 200 1000 5000   # the issue's table, in about five minutes

A deterministic bilingual corpus (Thai and English, about 1,000 words a page, with front matter,
headings, lists, tables and internal links) is generated into a temporary folder, beside a copy of
the LPN site's templates, data, catalogues, assets, ``site.yaml`` and pages (so the menus name
existing pages). Every build runs as a subprocess of this script, as a user would run it, so the
times include the interpreter's start and the peak memory includes the worker processes: the
largest single process (``RUSAGE_CHILDREN``), and all of them together (their PSS summed, sampled
ten times a second, so a page that forked workers share counts once). The floor is the least any
Python-Markdown generator can do: read each file, ``markdown.markdown``, wrap it in a string
template, write it; cold builds and floor runs take turns. "One page" appends a line to one
English page; "one template" changes what ``page.html`` adds after the content (every generated
page uses it). Not part of the test suite: timings belong here, never in assertions.
"""

from __future__ import annotations

import argparse
import compileall
import math
import multiprocessing
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SITE_PARTS = ("site.yaml", "templates", "data", "locales", "assets", "content")
SECTION = "reports"

THAI_TEXT = (
    "แรงงาน ข้ามชาติ สิทธิ เด็ก การศึกษา ครอบครัว นายจ้าง ค่าจ้าง สัญญา กฎหมาย ความช่วยเหลือ ชุมชน "
    "มูลนิธิ เครือข่าย คุณภาพชีวิต สุขภาพ บริการ สังคม ประมง โรงงาน จังหวัด สมุทรสาคร การค้ามนุษย์ "
    "ผู้เสียหาย ล่าม เจ้าหน้าที่ ศาล ใบอนุญาต ทำงาน เอกสาร ภาษา โรงเรียน ครู ผู้ปกครอง อาสาสมัคร "
    "ปัญหา แก้ไข ป้องกัน คุ้มครอง ร้องเรียน ติดตาม รายงาน ข้อมูล สำรวจ อบรม ความรู้ ความปลอดภัย "
    "ที่พัก อาหาร เงินเดือน วันหยุด ชั่วโมง ค่าล่วงเวลา ประกันสังคม โรงพยาบาล คลินิก วัคซีน"
)
THAI_WORDS = tuple(THAI_TEXT.split())
THAI_JOINERS = ("และ", "ของ", "ใน", "ที่", "เพื่อ", "กับ", "โดย", "ได้", "จาก", "ให้")
ENGLISH_TEXT = (
    "worker workers migrant rights child children education family employer wage wages contract law "
    "help community foundation network health service social fishing factory province trafficking "
    "victim interpreter officer court permit document language school teacher parent volunteer "
    "problem solve prevent protect complaint follow report data survey training knowledge safety "
    "housing food salary holiday hours overtime insurance hospital clinic vaccine the a of and to in "
    "for with by from on about their our this that many new local"
)
ENGLISH_WORDS = tuple(ENGLISH_TEXT.split())


def thai_sentence(rng: random.Random) -> str:
    """Thai writes words together and puts spaces between phrases."""
    phrases = []
    for _ in range(rng.randint(2, 4)):
        words = [rng.choice(THAI_WORDS) for _ in range(rng.randint(2, 4))]
        words.insert(rng.randint(1, len(words)), rng.choice(THAI_JOINERS))
        phrases.append("".join(words))
    return " ".join(phrases)


def english_sentence(rng: random.Random) -> str:
    words = [rng.choice(ENGLISH_WORDS) for _ in range(rng.randint(8, 16))]
    return " ".join(words).capitalize() + "."


def page_text(lang: str, number: int, count: int) -> str:
    """One synthetic page of about 1,000 words; the same number gives the same text."""
    rng = random.Random(f"{lang}-{number}")
    sentence: Callable[[random.Random], str] = thai_sentence if lang == "th" else english_sentence

    def short(n: int) -> str:
        if lang == "th":
            return "".join(rng.choice(THAI_WORDS) for _ in range(n))
        return " ".join(rng.choice(ENGLISH_WORDS) for _ in range(n)).capitalize()

    def paragraph(links: bool = False) -> str:
        text = " ".join(sentence(rng) for _ in range(rng.randint(5, 7)))
        if links:
            other = (number * 7 + 3) % count
            text += f" [{short(2)}](r{other:05d}.md) [{short(1)}](../about.md)"
        return text

    date = f"20{10 + number % 15:02d}-{1 + number % 12:02d}-{1 + number % 28:02d}"
    parts = [
        "---",
        f"title: {short(3)} {number}",
        f'description: "{short(8)}"',
        f"date: {date}",
        "---",
        "",
        paragraph(links=True),
        "",
    ]
    for section in range(4):
        parts += [f"## {short(2)} {section + 1}", "", paragraph(), "", paragraph(links=section == 0), ""]
        if section == 1:
            parts += ["| " + " | ".join(short(1) for _ in range(3)) + " |", "|---|---|---|"]
            parts += ["| " + " | ".join(short(2) for _ in range(3)) + " |" for _ in range(4)]
            parts.append("")
        parts += [f"{f'{i + 1}.' if section % 2 else '-'} {short(rng.randint(4, 8))}" for i in range(5)]
        parts.append("")
        if section == 3:
            parts += [f"### {short(2)}", "", paragraph(), ""]
    return "\n".join(parts)


def make_corpus(root: Path, pages: int) -> list[Path]:
    """The LPN site with enough generated pages to have ``pages`` pages in each language."""
    root.mkdir(parents=True)
    for part in SITE_PARTS:
        source = REPO / part
        if source.is_dir():
            shutil.copytree(source, root / part)
        else:
            shutil.copyfile(source, root / part)
    lpn_pages = len(list((root / "content" / "th").rglob("*.md")))
    count = max(pages - lpn_pages, 1)
    for lang in ("th", "en"):
        folder = root / "content" / lang / SECTION
        folder.mkdir(parents=True)
        for number in range(count):
            (folder / f"r{number:05d}.md").write_text(page_text(lang, number, count), encoding="utf-8")
    return sorted((root / "content").rglob("*.md"))


# The floor: what the cheapest possible Python-Markdown generator does for each page.

FLOOR_TEMPLATE = (
    '<!doctype html>\n<html lang="{lang}">\n<head><title>{title}</title></head>\n<body>\n{body}\n</body>\n</html>\n'
)


def _floor_chunk(job: tuple[list[str], str, str]) -> int:
    import markdown

    paths, content, out = job
    for name in paths:
        path = Path(name)
        text = path.read_text(encoding="utf-8")
        html = markdown.markdown(text)
        relative = path.relative_to(content)
        target = Path(out) / relative.with_suffix("") / "index.html"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(FLOOR_TEMPLATE.format(lang=relative.parts[0], title=path.stem, body=html), encoding="utf-8")
    return len(paths)


def run_floor(root: Path, out: Path, procs: int) -> None:
    """Convert every page of ``root`` with ``procs`` processes."""
    content = root / "content"
    paths = [str(p) for p in sorted(content.rglob("*.md"))]
    if procs == 1:
        _floor_chunk((paths, str(content), str(out)))
        return
    chunks = [(paths[i::procs], str(content), str(out)) for i in range(procs)]
    with multiprocessing.get_context("fork").Pool(procs) as pool:
        pool.map(_floor_chunk, chunks)


# Timing.


def default_tmp() -> Path:
    """A memory file system where there is one: a virtual disk's write-back stalls vary from one run
    to the next by more than what is measured here (seconds of system time for the same 2,000 files)."""
    shm = Path("/dev/shm")
    return shm if shm.is_dir() and os.access(shm, os.W_OK) else Path(tempfile.gettempdir())


def timed(command: Sequence[str]) -> float:
    """Wall seconds of one command, which starts with no other run's writes still being flushed to disk."""
    os.sync()
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def timed_with_rss(command: Sequence[str]) -> tuple[float, float, float]:
    """Wall seconds of one command; the peak RSS in MB of its largest process, and the peak of
    all its processes together (PSS: a page that forked workers share counts once)."""
    result = subprocess.run([sys.executable, __file__, "--rss", *command], check=True, capture_output=True, text=True)
    seconds, largest, together = result.stdout.split()
    return float(seconds), float(largest), float(together)


def tree_pss(pid: int) -> int | None:
    """The proportional set size in kB of a process and all its descendants, or None without /proc."""
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                stat = Path(entry.path, "stat").read_text()
            except OSError:  # it has just ended
                continue
            children.setdefault(int(stat.rsplit(")", 1)[1].split()[1]), []).append(int(entry.name))
    if not Path("/proc/self/smaps_rollup").exists():
        return None
    total, found, stack = 0, False, [pid]
    while stack:
        current = stack.pop()
        stack.extend(children.get(current, ()))
        try:
            rollup = Path(f"/proc/{current}/smaps_rollup").read_text()
        except OSError:
            continue
        for line in rollup.splitlines():
            if line.startswith("Pss:"):
                total, found = total + int(line.split()[1]), True
                break
    return total if found else None


def run_for_rss(command: Sequence[str]) -> None:
    """Run a command; print its wall time, the peak RSS of its largest process and the peak PSS of
    all its processes, sampled ten times a second by a thread (``--rss``)."""
    samples: list[int] = []  # kB
    os.sync()
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def sample() -> None:
        while process.poll() is None and (pss := tree_pss(process.pid)) is not None:
            samples.append(pss)
            time.sleep(0.1)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    if process.wait() != 0:
        raise subprocess.CalledProcessError(process.returncode, command)
    seconds = time.perf_counter() - start
    sampler.join()
    together = max(samples) / 1024 if samples else float("nan")  # nan: no /proc here
    print(f"{seconds} {resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024} {together}")


def build_command(root: Path, out: Path, jobs: int) -> list[str]:
    return [
        sys.executable,
        str(REPO / "build.py"),
        "build",
        "--root",
        str(root),
        "--out",
        str(out),
        "--jobs",
        str(jobs),
    ]


def fresh(out: Path) -> None:
    """Remove an output folder and the build cache kept beside it."""
    for path in (out, out.parent / ".sitegen-cache"):
        shutil.rmtree(path, ignore_errors=True)


def edit_line(path: Path, marker: str, text: str) -> None:
    """Replace the line that starts with ``marker`` (or append it), so each run changes the file."""
    lines = [line for line in path.read_text(encoding="utf-8").split("\n") if not line.startswith(marker)]
    if lines and lines[-1] == "":
        lines.pop()
    path.write_text("\n".join([*lines, marker + text, ""]), encoding="utf-8")


def measure(pages: int, runs: int, jobs: int, keep: Path | None, where: Path) -> dict[str, float]:
    """Every figure of one corpus size."""
    with tempfile.TemporaryDirectory(prefix="sitegen-bench-", dir=where) as tmp:
        root = (keep or Path(tmp)) / "corpus"
        shutil.rmtree(root, ignore_errors=True)
        files = make_corpus(root, pages)
        out = Path(tmp) / "build" / "site"
        out.parent.mkdir()
        results: dict[str, float] = {"pages": len(files)}

        # Cold builds and the floor take turns, so that a busy machine slows both alike.
        floor_out = Path(tmp) / "floor"
        times: dict[str, list[float]] = {"cold": [], "floor1": [], "floor2": [], "rss": [], "pss": []}
        for _ in range(runs):
            fresh(out)
            seconds, largest, together = timed_with_rss(build_command(root, out, jobs))
            times["cold"].append(seconds)
            times["rss"].append(largest)
            times["pss"].append(together)
            for procs in (1, 2):
                shutil.rmtree(floor_out, ignore_errors=True)
                command = [sys.executable, __file__, "--floor", str(root), str(floor_out), str(procs)]
                times[f"floor{procs}"].append(timed(command))
        results.update({name: statistics.median(values) for name, values in times.items()})
        results["rss"] = max(times["rss"])
        results["pss"] = max((v for v in times["pss"] if not math.isnan(v)), default=math.nan)

        # One untimed rebuild first: the corpus was written just before the cold builds, so to the
        # first rebuild every file is "racy" (changed too close to the last scan to trust its stat)
        # and is hashed again. An editor's build never meets that: only the files just saved are.
        timed(build_command(root, out, jobs))
        results["nothing"] = statistics.median(timed(build_command(root, out, jobs)) for _ in range(runs))

        page = root / "content" / "en" / SECTION / "r00000.md"
        one = []
        for run in range(runs):
            edit_line(page, "Edited in run ", f"{run}.")
            one.append(timed(build_command(root, out, jobs)))
        results["one_page"] = statistics.median(one)

        template = root / "templates" / "page.html"
        edits = []
        for run in range(runs):
            edit_line(template, "{% block after_content %}", f'<p class="bench">{run}</p>{{% endblock %}}')
            edits.append(timed(build_command(root, out, jobs)))
        results["template"] = statistics.median(edits)

        return results


def print_table(rows: list[dict[str, float]], jobs: int, runs: int, where: Path) -> None:
    header = (
        "pages (th+en)",
        "cold s",
        "nothing changed s",
        "one page s",
        "one template s",
        "peak RSS MB (largest process)",
        "peak MB (all processes, PSS)",
        "pages/s (cold)",
        "floor 1 proc s",
        "floor 2 procs s",
        "cold / floor(2)",
    )
    table = [header]
    for r in rows:
        table.append(
            (
                f"{int(r['pages']):,}",
                f"{r['cold']:.2f}",
                f"{r['nothing']:.2f}",
                f"{r['one_page']:.2f}",
                f"{r['template']:.2f}",
                f"{r['rss']:.0f}",
                f"{r['pss']:.0f}",
                f"{r['pages'] / r['cold']:.0f}",
                f"{r['floor1']:.2f}",
                f"{r['floor2']:.2f}",
                f"{r['cold'] / r['floor2']:.2f}",
            )
        )
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    print(
        f"median of {runs} runs, --jobs {jobs}, {os.cpu_count()} cores, Python {sys.version.split()[0]}, files in {where}"
    )
    for index, row in enumerate(table):
        print("| " + " | ".join(cell.rjust(w) for cell, w in zip(row, widths, strict=True)) + " |")
        if index == 0:
            print("|" + "|".join("-" * (w + 1) + ":" for w in widths) + "|")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument(
        "--pages", type=int, nargs="+", default=[1000], help="pages per language (several sizes allowed)"
    )
    parser.add_argument("--runs", type=int, default=3, help="runs per figure; the median is reported (default 3)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="build processes (default: cores)")
    parser.add_argument("--keep", type=Path, default=None, help="write the corpus into this folder and keep it")
    parser.add_argument(
        "--tmp", type=Path, default=default_tmp(), help=f"where corpus and outputs go (default: {default_tmp()})"
    )
    parser.add_argument("--floor", nargs=3, metavar=("ROOT", "OUT", "PROCS"), help=argparse.SUPPRESS)
    parser.add_argument("--rss", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.rss:
        run_for_rss(args.rss)
        return 0
    if args.floor:
        run_floor(Path(args.floor[0]), Path(args.floor[1]), int(args.floor[2]))
        return 0
    # The engine's bytecode, as Python writes it on a user's first run (unless PYTHONDONTWRITEBYTECODE is
    # set, as on some CI machines): every build below then loads it instead of compiling the engine again.
    compileall.compile_dir(REPO / "sitegen", quiet=1)
    rows = [measure(pages, args.runs, args.jobs, args.keep, args.tmp) for pages in args.pages]
    print_table(rows, args.jobs, args.runs, args.tmp)
    return 0


if __name__ == "__main__":
    sys.exit(main())
