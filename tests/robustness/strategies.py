"""Hypothesis strategies: scraped dumps assembled from story pieces, and the split+parse under test.

`dumps()` draws a page the way a scraper saves one: titles, paragraphs, kicker teasers, boilerplate
lines (interface text, bylines, datelines, credits), blank lines and odd whitespace (tabs, no-break
spaces, CRLF, old-Mac CR, form feeds, trailing spaces), in any order. `split_and_parse` runs the
pure split and parse functions exactly as the Beam stages do.
"""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import strategies as st

from transforms.accounting import BOILERPLATE, KEPT, REJECTED
from transforms.parse_teasers import ParseConfig, parse_draft
from transforms.records import Dump, Rejected, Story, StoryDraft
from transforms.split_stories import SplitConfig, drafts_from_split, split_text

WORDS = (
    "council budget port strike union talks minister election harbour river flood rescue team "
    "match goal striker coach market shares profit bank rates inflation school teachers pay "
    "hospital nurses patients storm power homes village bridge road police court judge trial "
    "museum gallery artist festival film director farmers crops drought water prices energy"
).split()
NAMES = "Patel Okafor Hale Morrow Brandt Doyle Fenwick Ellerby Garnet Saltmouth Kelsey Ashcombe".split()
KICKERS = ["BACKLASH", "U-TURN", "RATE RISE", "NO EXCUSES", "CUP SHOCK", "HIGH WATER", "FINAL WHISTLE"]
BOILERPLATE_LINES = [
    "Advertisement",
    "Share this article",
    "Most read",
    "Related stories",
    "Sign up for our newsletter",
    "By Jane Smith",
    "By Tom Hall, Business reporter",
    "LONDON (Reuters) -",
    "Reporting by Ann Lee; Editing by Bob Kay",
    "Home | News | Sport | Weather",
    "Image: Getty Images",
]
SPACES = st.sampled_from(["", "", "", " ", "  ", "\t", "\u00a0", " \u00a0"])
BREAKS = st.sampled_from(["\n", "\n", "\n", "\r\n", "\r", "\n\n", "\r\n\r\n", "\n \n", "\n\x0c\n", "\n\t\n"])


@st.composite
def sentence(draw, min_words: int = 6, max_words: int = 18, end: str | None = None) -> str:
    words = draw(st.lists(st.sampled_from(WORDS + NAMES), min_size=min_words, max_size=max_words))
    text = " ".join(words)
    text = text[:1].upper() + text[1:]
    return text + (draw(st.sampled_from([".", ".", ".", "!", "?", ".”"])) if end is None else end)


@st.composite
def paragraph(draw) -> str:
    sentences = draw(st.lists(sentence(), min_size=1, max_size=4))
    text = " ".join(sentences)
    if draw(st.integers(0, 9)) == 0:  # cut off mid-sentence, as scrapers do
        text = text.rsplit(" ", 1)[0]
    return text


@st.composite
def title(draw) -> str:
    words = draw(st.lists(st.sampled_from(WORDS + NAMES), min_size=3, max_size=9))
    return " ".join(w.title() if i == 0 else w for i, w in enumerate(words))


@st.composite
def teaser(draw) -> str:
    kicker = draw(st.sampled_from(KICKERS))
    deck = draw(title())
    lede = draw(sentence(min_words=20, max_words=40, end=""))
    return f"{kicker}: {deck} {lede}"


PIECES = st.one_of(
    paragraph(),
    paragraph(),
    title(),
    teaser(),
    st.sampled_from(BOILERPLATE_LINES),
)


@st.composite
def dumps(draw, max_pieces: int = 14) -> str:
    """A page: pieces with odd whitespace around them, joined by assorted line breaks."""
    pieces = draw(st.lists(PIECES, min_size=1, max_size=max_pieces))
    out = [draw(SPACES) + draw(st.sampled_from(["", "\n", "\r\n"]))]
    for i, piece in enumerate(pieces):
        if i:
            out.append(draw(BREAKS))
        out.append(draw(SPACES) + piece + draw(SPACES))
    out.append(draw(st.sampled_from(["", "\n", "\n\n", "  "])))
    return "".join(out)


@dataclass(frozen=True)
class SplitParse:
    """Everything split+parse made of one dump, and the spans each claims."""

    dump: Dump
    drafts: tuple[StoryDraft, ...]
    stories: tuple[Story, ...]
    rejected: tuple[Rejected, ...]  # boilerplate lines and too-short stories

    def spans(self) -> list[tuple[int, int, str]]:
        out = [(s.start, s.end, KEPT) for s in self.stories]
        out += [(r.start, r.end, BOILERPLATE if r.kind == BOILERPLATE else REJECTED) for r in self.rejected]
        return out


def split_and_parse(text: str, uri: str = "page.txt", record: int = 0) -> SplitParse:
    """SplitStories then ParseTeasers on one dump, as the Beam stages run them (pure functions)."""
    dump = Dump(uri=uri, record=record, text=text)
    drafts, stories, rejected = [], [], []
    for item in drafts_from_split(dump, split_text(text, SplitConfig())):
        if isinstance(item, Rejected):
            rejected.append(item)
            continue
        drafts.append(item)
        parsed = parse_draft(item, ParseConfig())
        (rejected if isinstance(parsed, Rejected) else stories).append(parsed)
    return SplitParse(dump, tuple(drafts), tuple(stories), tuple(rejected))
