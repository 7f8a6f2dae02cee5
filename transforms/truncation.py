"""Does a story stop mid-sentence? (the `truncated` flag)"""

from __future__ import annotations

from transforms import line_cues

# A short unpunctuated last line (a score, a name, a venue) is a table row, not a cut.
MIN_WORDS_FOR_UNPUNCTUATED_CUT = 6
_BULLET_START = tuple("-–—•*·")


def is_truncated(last_paragraph: str) -> bool:
    """Whether the story's last paragraph stops mid-sentence.

    True when it ends without terminal punctuation (an ellipsis counts as none) and is long
    enough to be prose, or when it ends on a comma, an open quote or a dangling function
    word ("of", "the"), which no finished sentence does.
    """
    words = last_paragraph.split()  # split once: the checks below read these words or their text
    if not words:
        return False
    text = " ".join(words)
    if text[-1] in ",;:–—-" or text.endswith(("“", "‘")) and len(text) > 1 and text[-2] == " ":
        return True
    if line_cues.ends_sentence_simple(text):
        return False
    if line_cues.ends_on_function_word(words):
        return True
    if text.startswith(_BULLET_START):
        return False  # an item of a bulleted list ending the story: items carry no full stop
    return len(words) >= MIN_WORDS_FOR_UNPUNCTUATED_CUT  # = line_cues.word_count(text), split once
