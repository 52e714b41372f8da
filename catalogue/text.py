"""Light text for catalogue content, turned into blocks the templates render.

Editors write plain text: paragraphs separated by a blank line, "- " for a
bullet, "1. " for a step, "## " for a heading. Nothing here produces HTML:
the templates render the blocks with autoescaping, so no editor or data file
can inject markup.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

BULLET = re.compile(r"^\s*(?:[-•*])\s+(.*)$")
NUMBERED = re.compile(r"^\s*\d+[.)]\s+(.*)$")
HEADING = re.compile(r"^(#{2,5})\s+(.*)$")
# A service-public.fr "pivot local" code left in the text ("commissariat_police"),
# alone on its line or glued to the label that follows ("prefectureMinistère...").
PIVOT_LINE = re.compile(r"^[a-z_]{3,}$")
PIVOT_PREFIX = re.compile(r"^[a-z_]{4,}(?=[A-ZÀ-Ý])")
SENTENCE_END = tuple(".:;!?,…)»\"'")


@dataclass
class Block:
    kind: str  # "p", "ul", "ol", "h"
    lines: list[str] = field(default_factory=list)
    level: int = 3


def clean_fiche_text(text: str) -> str:
    """Drop the directory codes service-public.fr leaves in its exported text."""
    out = []
    for line in text.splitlines():
        stripped = line.strip()
        if PIVOT_LINE.match(stripped):
            continue
        out.append(PIVOT_PREFIX.sub("", line))
    return re.sub(r"\n{3,}", "\n\n", "\n".join(out)).strip()


def _looks_like_heading(paragraph: list[str]) -> bool:
    if len(paragraph) != 1:
        return False
    line = paragraph[0].strip()
    return (
        0 < len(line) <= 80
        and not line.endswith(SENTENCE_END)
        and line[0].isupper()
        and not BULLET.match(line)
        and not NUMBERED.match(line)
    )


def blocks(text: str | None, *, detect_headings: bool = False, top_level: int = 2) -> list[Block]:
    """Split light text into paragraphs, lists and headings.

    ``detect_headings`` treats a lone short line without final punctuation as a
    subheading: that is how service-public.fr section titles survive in the
    exported plain text.
    """
    if not text:
        return []
    result: list[Block] = []
    for chunk in re.split(r"\n\s*\n", text.strip()):
        lines = [line.rstrip() for line in chunk.splitlines() if line.strip()]
        if not lines:
            continue
        if detect_headings and _looks_like_heading(lines):
            result.append(Block("h", [lines[0].strip()], level=top_level + 1))
            continue
        current: Block | None = None
        for line in lines:
            heading = HEADING.match(line)
            bullet = BULLET.match(line)
            numbered = NUMBERED.match(line)
            if heading:
                level = min(top_level + len(heading.group(1)) - 2, 6)
                result.append(Block("h", [heading.group(2).strip()], level=level))
                current = None
            elif bullet or numbered:
                kind = "ul" if bullet else "ol"
                item = (bullet or numbered).group(1).strip()
                if current is None or current.kind != kind:
                    current = Block(kind)
                    result.append(current)
                current.lines.append(item)
            else:
                if current is None or current.kind != "p":
                    current = Block("p")
                    result.append(current)
                current.lines.append(line.strip())
    return result


def first_paragraph(text: str | None, limit: int = 300) -> str:
    """A plain-text excerpt for when an entry has no summary of its own."""
    for block in blocks(text):
        if block.kind == "p":
            excerpt = " ".join(block.lines)
            return excerpt if len(excerpt) <= limit else excerpt[: limit - 1].rsplit(" ", 1)[0] + "…"
    return ""
