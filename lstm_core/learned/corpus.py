"""The code model's text: the running interpreter's standard library, and source held out of it.

Everything is read from what is installed; nothing is downloaded. The training corpus is a
seeded subset of the standard library's .py files (site-packages left out; the test suites in
or out as the trainer asks); the held-out text is Python source the model never trained on: a
file of an installed package (the app's own dependencies), or, when none is installed,
standard-library files outside the training subset.
"""

from __future__ import annotations

import importlib.util
import sysconfig
from dataclasses import dataclass
from pathlib import Path

import torch

# Directories under the standard library that are not the stdlib's own source.
EXCLUDED_PARTS = frozenset({"site-packages", "dist-packages", "__pycache__"})
# The stdlib's own test suites: Python source too, left out of the corpus unless asked for.
TEST_PARTS = frozenset({"test", "tests", "idle_test"})
# split_files' default bound: a seeded subset, the other files held out (the code model
# passes its own bound, code.CORPUS_CHARS).
CORPUS_MAX_CHARS = 6_000_000
# Held-out source, first installed wins: (package, path inside it). A module with strings,
# nested brackets and long lines, as the labels need.
HELD_OUT_CANDIDATES: tuple[tuple[str, str], ...] = (
    ("torch", "nn/modules/rnn.py"),
    ("pandas", "core/strings/accessor.py"),
    ("plotly", "subplots.py"),
)
# The held-out text is cut (at a line's end) to at most this many characters.
HELD_OUT_MAX_CHARS = 30_000


@dataclass(frozen=True)
class HeldOut:
    """A held-out text and where it came from (a package path, or stdlib files)."""

    text: str
    source: str


def stdlib_root() -> Path:
    """The running interpreter's standard library directory."""
    return Path(sysconfig.get_paths()["stdlib"])


def stdlib_files(root: Path | None = None, with_tests: bool = False) -> list[Path]:
    """The standard library's .py files, sorted, site-packages left out (and the test
    suites, unless `with_tests`)."""
    root = stdlib_root() if root is None else root
    excluded = EXCLUDED_PARTS if with_tests else EXCLUDED_PARTS | TEST_PARTS
    return [
        path
        for path in sorted(root.rglob("*.py"))
        if not excluded.intersection(path.relative_to(root).parts)
    ]


def read_source(path: Path) -> str:
    """A file's text with newlines normalised to "\\n" (undecodable bytes replaced)."""
    text = path.read_bytes().decode("utf-8", errors="replace")
    return text.replace("\r\n", "\n").replace("\r", "\n")


def split_files(
    seed: int,
    max_chars: int = CORPUS_MAX_CHARS,
    root: Path | None = None,
    with_tests: bool = False,
) -> tuple[list[Path], list[Path]]:
    """(training files, held-out files): a random order of stdlib_files drawn by a private
    generator seeded with `seed`; files join the training set until it holds `max_chars`
    characters, the rest are held out. Both lists sorted."""
    files = stdlib_files(root, with_tests)
    generator = torch.Generator().manual_seed(seed)
    order = torch.randperm(len(files), generator=generator).tolist()
    training: list[Path] = []
    total = 0
    for index in order:
        if total >= max_chars:
            break
        training.append(files[index])
        total += files[index].stat().st_size
    chosen = set(training)
    return sorted(training), [path for path in files if path not in chosen]


def training_text(
    seed: int,
    max_chars: int = CORPUS_MAX_CHARS,
    root: Path | None = None,
    with_tests: bool = False,
) -> str:
    """The training files' texts joined in sorted order, each ending with a newline."""
    training, _ = split_files(seed, max_chars, root, with_tests)
    parts = [read_source(path) for path in training]
    return "".join(part if part.endswith("\n") else part + "\n" for part in parts)


def _cut(text: str, max_chars: int) -> str:
    """`text` cut at the last line end within max_chars (whole if it fits)."""
    if len(text) <= max_chars:
        return text
    end = text.rfind("\n", 0, max_chars)
    return text[: end + 1] if end >= 0 else text[:max_chars]


def installed_source(package: str, relative: str) -> Path | None:
    """The file `relative` inside installed `package`, or None (found without importing it)."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        path = Path(location) / relative
        if path.is_file():
            return path
    return None


def held_out_text(seed: int, max_chars: int = HELD_OUT_MAX_CHARS) -> HeldOut:
    """Python source not in the seed's training corpus: the first installed file of
    HELD_OUT_CANDIDATES, else held-out stdlib files (sorted, joined), cut to max_chars."""
    for package, relative in HELD_OUT_CANDIDATES:
        path = installed_source(package, relative)
        if path is not None:
            return HeldOut(_cut(read_source(path), max_chars), f"{package}/{relative}")
    _, held_out = split_files(seed)
    parts: list[str] = []
    for path in held_out:
        parts.append(read_source(path))
        if sum(map(len, parts)) >= max_chars:
            break
    return HeldOut(_cut("".join(parts), max_chars), "held-out standard library files")
