"""The repository stands on its own: every citation of a doc names a section that exists in it, and no file
points outside the repository (notes that only lived on the authors' machines, absolute paths)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DOCS = REPO / "docs"

# A citation: the doc's path, then a run of section marks (§5.2, W9, OC1) separated by commas, slashes,
# dashes or "and".
CITATION = re.compile(
    r"docs/([\w-]+)\.md((?:\s*(?:,|/|-|–|and|;)?\s*(?:§\d+(?:\.\d+)*|\bW\d+\b|\bOC\d+\b))*)"
)
MARK = re.compile(r"§(\d+(?:\.\d+)*)|\b(W\d+|OC\d+)\b")
HEADING_NUMBER = re.compile(r"(?:^|[\s/])(\d+(?:\.\d+)*)\.?(?=\s)")
WEAKNESS = re.compile(r"^\* \*\*((?:W|OC)\d+) ", re.MULTILINE)


def _tracked_text_files() -> list[Path]:
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=REPO,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    files = []
    for name in listed:
        path = REPO / name
        if path.suffix in {".json", ".lock"} or not path.is_file():
            continue
        try:
            path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        files.append(path)
    return files


def _anchors(doc: Path) -> set[str]:
    """Section numbers of a doc's headings (`### 3.14 ... / 3.15 ...` gives both) and its W/OC items."""
    text = doc.read_text(encoding="utf-8")
    anchors: set[str] = set()
    for line in text.splitlines():
        if line.startswith("#"):
            anchors.update(HEADING_NUMBER.findall(line.lstrip("#")))
    anchors.update(WEAKNESS.findall(text))
    return anchors


def _citations() -> list[tuple[str, str, str]]:
    found = []
    for path in _tracked_text_files():
        if path == Path(__file__).resolve():
            continue  # the examples below are made up on purpose
        text = path.read_text(encoding="utf-8")
        for match in CITATION.finditer(text):
            for section, item in MARK.findall(match.group(2)):
                found.append((f"{path.relative_to(REPO)}", match.group(1), section or item))
    return found


def test_every_cited_section_exists_in_its_doc() -> None:
    citations = _citations()
    assert len(citations) > 50, "the citation pattern stopped matching the repository's citations"
    anchors = {doc.stem: _anchors(doc) for doc in DOCS.glob("*.md")}
    missing = [
        f"{where}: docs/{doc}.md {mark}"
        for where, doc, mark in citations
        if doc not in anchors or mark not in anchors[doc]
    ]
    assert missing == []


def test_the_citation_check_reads_runs_of_marks_and_finds_a_missing_section(tmp_path: Path) -> None:
    doc = tmp_path / "program.md"
    doc.write_text("# Program\n\n## 5. Money\n\n### 5.1 Split\n\n### 3.14 `a` / 3.15 `b`\n", encoding="utf-8")
    assert _anchors(doc) == {"5", "5.1", "3.14", "3.15"}

    match = CITATION.search("(see docs/program.md §5.1, §5.2/§7-§8 and W9). Later §9 is prose.")
    assert match is not None
    marks = [section or item for section, item in MARK.findall(match.group(2))]
    assert marks == ["5.1", "5.2", "7", "8", "W9"]
    assert [mark for mark in marks if mark not in _anchors(doc)] == ["5.2", "7", "8", "W9"]


@pytest.mark.parametrize(
    "pattern",
    [
        r"\.\./shared",
        r"(?<![\w/-])ml-program\.md",
        r"(?<![\w/.-])solana\.md",
        r"(?<![\w/-])original-backend\.md",
        r"DESIGN\.md",
        r"(?<![\w/-])serverless\.md",
        r"local-infra\.md",
        r"/work/",
        r"/root/",
        r"/home/\w",
    ],
)
def test_no_file_refers_outside_the_repository(pattern: str) -> None:
    regex = re.compile(pattern)
    offenders = [
        f"{path.relative_to(REPO)}:{number}"
        for path in _tracked_text_files()
        if path != Path(__file__).resolve()
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if regex.search(line)
    ]
    assert offenders == []


LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")


def test_relative_links_in_the_markdown_files_point_at_files_that_exist() -> None:
    broken, checked = [], 0
    for path in _tracked_text_files():
        if path.suffix != ".md":
            continue
        for target in LINK.findall(path.read_text(encoding="utf-8")):
            if "://" in target or target.startswith("mailto:"):
                continue
            checked += 1
            if not (path.parent / target).exists():
                broken.append(f"{path.relative_to(REPO)} -> {target}")
    assert checked >= 6, "the link pattern stopped matching the README's links"
    assert broken == []
