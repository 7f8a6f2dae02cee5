"""Read a folder of real news articles for the training tools (never used by the pipeline).

Layout: <category>/NNN.txt, first non-empty line the headline, then one paragraph per line.
"""

from __future__ import annotations

from pathlib import Path


def load_articles(root: Path, min_lines: int = 2) -> list[tuple[str, str, list[str]]]:
    """(path, headline, paragraphs) of every article with at least `min_lines` lines, by path."""
    articles = []
    for f in sorted(Path(root).glob("*/*.txt")):
        raw = f.read_bytes()
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:  # a few archive files are latin-1
            text = raw.decode("latin-1")
        lines = [ln.strip() for ln in text.split("\n") if ln.strip()]
        if len(lines) >= min_lines:
            articles.append((f"{f.parent.name}/{f.name}", lines[0], lines[1:]))
    return articles
