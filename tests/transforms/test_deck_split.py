"""Deck / lede seam of a teaser (transforms/deck_split.py): the cues one by one, then the whole."""

from __future__ import annotations

import importlib.resources
import json
import random
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from transforms.deck_split import (
    FEATURES,
    PLAIN_READER,
    DeckSplitter,
    WordReader,
    WordStats,
    candidate_indices,
    capital_run,
    capital_surprise,
    core,
    count_word_stats,
    descriptor_length,
    edge_key,
    has_verb,
    is_candidate,
    opens_subordinate_without_verb,
    quote_left_open,
    run_break_supported,
    seam_features,
    shipped_deck_model,
    shipped_word_stats,
    split_deck,
    teaser_words,
    word_classes,
    word_facts,
    word_stats_from_json,
    word_stats_to_json,
)
from transforms.sentences import is_sentence_start

# ---------------------------------------------------------------- words


def test_edge_key_keeps_the_possessive_and_drops_quotes_and_final_stops():
    assert edge_key("“Australia’s") == "australia's"
    assert edge_key("term.") == "term"
    assert edge_key("(Labor,") == "labor"


def test_word_classes_back_off_by_shape_and_suffix():
    assert word_classes("showing") == ("l:ing", "l")
    assert word_classes("Marcos") == ("U", "U")  # a name's last letters say nothing
    assert word_classes("Austria’s") == ("U:'s", "U")
    assert word_classes("2011") == ("#", "#")
    assert word_classes("BBC") == ("A", "A")


def test_capital_run_counts_capitalised_words_either_way():
    words = "after a poor showing Philippine President Ferdinand Marcos Jr yesterday".split()
    assert capital_run(words, 6, -1) == 3  # Ferdinand, President, Philippine
    assert capital_run(words, 7, 1) == 2  # Marcos Jr
    assert capital_run(words, 3, 1) == 0


# ---------------------------------------------------------------- word statistics

CORPUS = [
    "The minister spoke in London on Monday.",
    "The team won in Paris.",
    "He said the showing was poor.",
    "The showing surprised everyone in Madrid.",
    "Prime Minister Tony Blair spoke.",
    "Tony Blair said so.",
]


def test_count_word_stats_counts_sentence_edges_and_names():
    stats = count_word_stats(CORPUS, min_count=1, min_pair=1, min_class=1)
    total, last, capital_next, capital_total, first, after_capital = stats.words["the"]
    assert (total, last, first, capital_total) == (4, 0, 3, 3)
    assert stats.words["in"][2] == 3  # "in" is followed by a capital three times out of three
    assert stats.words["blair"][5] == 2  # "Blair" follows "Tony" both times
    assert stats.pair_count("Tony", "Blair") == 2
    assert stats.pair_count("Blair", "Tony") == 0


def test_evidence_reads_known_words_and_backs_off_for_unknown_ones():
    stats = count_word_stats(CORPUS, min_count=1, min_pair=1, min_class=1)
    assert stats.evidence("in").capital_next > stats.evidence("showing").capital_next
    assert stats.evidence("Blair").after_capital > stats.evidence("London").after_capital
    unknown = stats.evidence("Marcos")
    assert not unknown.known and stats.evidence("Blair").known
    assert unknown == stats.evidence("Zubrowski")  # same class, same evidence


def test_word_stats_survive_a_json_round_trip():
    stats = count_word_stats(CORPUS, min_count=1, min_pair=1, min_class=1)
    again = word_stats_from_json(json.loads(json.dumps(word_stats_to_json(stats))))
    assert again.evidence("showing") == stats.evidence("showing")
    assert again.pair_count("Tony", "Blair") == 2


def test_word_stats_refuse_a_resource_with_other_fields():
    doc = word_stats_to_json(count_word_stats(CORPUS))
    doc["fields"] = ["total"]
    with pytest.raises(ValueError):
        word_stats_from_json(doc)


# ---------------------------------------------------------------- cues


def test_quote_left_open_fires_inside_a_quoted_title_only():
    assert quote_left_open("Israel’s entrant Yuval Raphael’s song ‘New Day".split())
    assert not quote_left_open("Israel’s entrant Yuval Raphael’s song ‘New Day Will Rise,’ loud".split())
    assert not quote_left_open("Australia’s National Party quit".split())
    assert not quote_left_open("the 'stalking horse' dies".split())


def _toy_stats() -> WordStats:
    return count_word_stats(CORPUS, min_count=1, min_pair=1, min_class=1)


def test_capital_surprise_fires_after_a_word_rarely_followed_by_a_capital():
    stats = _toy_stats()
    swallowed = "a poor showing Philippine President".split()
    plain = "spoke in London on".split()
    assert capital_surprise(swallowed, 0, len(swallowed), stats) > capital_surprise(
        plain, 0, len(plain), stats
    )
    assert capital_surprise("all lower case here".split(), 0, 4, stats) == 0.0


def test_descriptor_length_finds_a_descriptor_before_a_name():
    words = "they have bought Technology firms Sony, Philips and Samsung".split()
    assert descriptor_length(words, 3) == 2  # "Technology firms" then "Sony,"
    assert descriptor_length("Swiss cement firm Holcim has bid".split(), 0) == 3
    assert descriptor_length("The deal is done".split(), 0) == 0  # a function word: a clause
    assert descriptor_length("Prime Minister Tony Blair".split(), 0) == 0  # a name, no descriptor
    assert descriptor_length("Oil prices rose".split(), 0) == 0  # no name after it


def test_has_verb_and_fragment_openers():
    assert has_verb("Yukos sues four firms".split())
    assert has_verb("two people tried to get on stage".split())
    assert not has_verb("During the performance of Israel’s entrant".split())
    assert opens_subordinate_without_verb("During the performance of Israel’s entrant".split())
    assert not opens_subordinate_without_verb("During the performance loud whistles were heard".split())
    assert not opens_subordinate_without_verb("Marcos said his administration".split())


def test_is_candidate_wants_a_capital_after_a_word_that_may_end_a_deck():
    words = "Who do you think you are? The real danger is what happens to the Data".split()
    assert is_candidate(words, 6)  # a headline may end in "?"
    assert not is_candidate(words, 7)  # "real" is lower-case
    assert not is_candidate(words, 14)  # never after an article
    assert not is_candidate("Pay rises, Unions say more".split(), 2)  # never after a comma
    assert is_candidate("to do so Prime Minister Tony Blair has".split(), 3)  # "so" may end a sentence


def test_candidates_stop_at_the_first_full_stop():
    tw = teaser_words("Deck words here Lede starts here. Then Another sentence follows with More words.")
    assert candidate_indices(tw) == [3]  # not "Then", "Another" or "More": a deck is one sentence


# ---------------------------------------------------------------- the whole split

SEED_GOLD = Path(__file__).resolve().parent.parent / "data" / "seed_gold.jsonl"


def _seed_teasers() -> list[tuple[str, str]]:
    records = [
        json.loads(line) for line in SEED_GOLD.read_text(encoding="utf-8").splitlines() if line.strip()
    ]
    return [(r["deck"], r["text"]) for r in records if r["kicker"]]


@pytest.mark.parametrize(("deck", "lede"), _seed_teasers())
def test_seed_page_decks(deck: str, lede: str) -> None:
    """The real seed page (another outlet than the training articles): three sentence decks."""
    assert split_deck(f"{deck} {lede}") == (deck, lede)


# ---------------------------------------------------------------- titled names


def _pairs_inside_runs(text: str) -> dict[str, bool]:
    """run_break_supported for every seam between two capitalised words, keyed "prev|next"."""
    words = text.split()
    stats = shipped_word_stats()
    return {
        f"{words[i - 1]}|{words[i]}": run_break_supported(words, i, stats)
        for i in range(1, len(words))
        if words[i - 1][:1].isupper() and words[i][:1].isupper()
    }


def test_a_titled_name_entered_from_a_plain_word_is_not_cut_without_evidence():
    seams = _pairs_inside_runs(
        "the move was emotionally motivated after a poor midterm showing Philippine President "
        "Ferdinand Marcos Jr yesterday sought the resignation of all his Cabinet secretaries"
    )
    assert seams == {
        "Philippine|President": False,  # the title's modifier stays with it
        "President|Ferdinand": False,
        "Ferdinand|Marcos": False,  # a BBC surname, but here inside the titled name
        "Marcos|Jr": False,
    }
    assert not any(
        _pairs_inside_runs("after a weak by-election showing German Chancellor Olaf Scholz said").values()
    )


def test_a_run_break_with_evidence_or_without_a_title_is_left_to_the_model():
    # no title in the run: a deck may end on a place name before a capitalised lede
    assert _pairs_inside_runs("Ceasefire holds after talks in Gaza Israeli troops withdrew") == {
        "Gaza|Israeli": True
    }
    # "Africa" ends sentences more often than it runs on into a capital
    assert _pairs_inside_runs("Debt relief plan for Africa Chancellor Gordon Brown has")["Africa|Chancellor"]
    # a repeated word is no name
    assert _pairs_inside_runs("Golden rule boost for Chancellor Chancellor Gordon Brown has")[
        "Chancellor|Chancellor"
    ]
    # an honorific takes the surname alone: "Mr Peston" is a whole name
    assert all(_pairs_inside_runs("Storm over remarks by Mr Peston Tony Blair has dismissed").values())
    # the run does not follow a plain word that could end the deck: no seam at its start to prefer
    assert all(_pairs_inside_runs("Marcos said, President Ferdinand Marcos Jr yesterday").values())


@pytest.mark.parametrize(
    ("text", "deck"),
    [
        (  # the seed's shape on other words: the lede introduces someone by title and full name
            "Critics said the reshuffle was a desperate gamble after a weak by-election showing German "
            "Chancellor Olaf Scholz yesterday replaced three of his ministers in a bid to revive it",
            "Critics said the reshuffle was a desperate gamble after a weak by-election showing",
        ),
        (
            "Opposition parties said the vote was a rebuke after a disappointing local election showing "
            "South African President Cyril Ramaphosa on Sunday announced a review of his cabinet and budget",
            "Opposition parties said the vote was a rebuke after a disappointing local election showing",
        ),
        (  # must not fire: a deck ending on a place name, a capitalised lede without a title
            "Ceasefire holds after talks in Gaza Israeli troops withdrew from the northern town overnight, "
            "officials said, as aid convoys began moving again",
            "Ceasefire holds after talks in Gaza",
        ),
        (  # must not fire: the title opens the lede, the deck ends on a place
            "Debt relief plan for Africa Chancellor Gordon Brown has promised to write off the debts owed "
            "by the poorest countries to the UK",
            "Debt relief plan for Africa",
        ),
        (  # must not fire: the deck ends on a name, the lede opens with a titled name
            "Blair backs Brown Prime Minister Tony Blair has said Gordon Brown will play a central role in "
            "the coming election campaign",
            "Blair backs Brown",
        ),
        (  # must not fire: honorific + surname ends the deck
            "Storm over remarks by Mr Peston Tony Blair has dismissed reports of a rift with his chancellor "
            "as gossip and nonsense again",
            "Storm over remarks by Mr Peston",
        ),
    ],
)
def test_titled_names_stay_whole_and_other_seams_stay_put(text: str, deck: str) -> None:
    got, lede = split_deck(text)
    assert got == deck
    assert lede == text[len(deck) + 1 :]


def test_headline_deck_restated_by_the_lede():
    deck, lede = split_deck(
        "Yukos sues four firms for $20bn Russian oil firm Yukos has sued four companies for their role in "
        "last year's forced sale of its main production arm, Yuganskneftegaz"
    )
    assert deck == "Yukos sues four firms for $20bn"
    assert lede.startswith("Russian oil firm Yukos")


def test_no_candidate_leaves_the_deck_empty():
    assert split_deck("all lower case words with no seam in them at all here") == (
        None,
        "all lower case words with no seam in them at all here",
    )


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.sampled_from(["The", "deal", "Blair", "said", "in", "London", "won,", "‘New", "Day’"]), max_size=30
    )
)
def test_split_loses_no_character(words: list[str]) -> None:
    text = " ".join(words)
    deck, lede = split_deck(text)
    assert (lede if deck is None else f"{deck} {lede}") == text


def test_shipped_resources_are_small_json_that_match_the_code():
    for name in ("deck_model.json", "sentence_edges.json"):
        raw = importlib.resources.files("transforms.resources").joinpath(name).read_bytes()
        assert len(raw) < 500_000, name
    assert len(shipped_deck_model().weights) == len(FEATURES)
    assert shipped_word_stats().evidence("the").start > shipped_word_stats().evidence("Blair").start


# ---------------------------------------------------------------- tables and memos (speed, same answers)


def _reference_features(text: str, i: int, stats: WordStats) -> tuple[float, ...]:
    """The seam's features written one seam at a time from the public helpers (the definition
    seam_features's per-teaser tables must reproduce)."""
    import math

    from transforms.deck_split import (
        DECK_LENGTH_BINS,
        LEDE_SENTENCE_BINS,
        LEDE_WINDOW,
        OPENING_WINDOW,
        SURPRISE_WINDOW,
        core,
        is_upper,
        phrase_surprise,
        run_entry_surprise,
        title_case_ratio,
    )
    from transforms.sentences import is_sentence_start
    from transforms.topic_shift import content_terms

    words = text.split()[:120]
    terms = [frozenset(content_terms(w)) for w in words]
    ends = teaser_words(text).sentence_end
    prev, word = words[i - 1], words[i]
    p, n = stats.evidence(prev), stats.evidence(word)
    deck = words[:i]
    prev_upper, next_upper = is_upper(prev), is_upper(word)
    inside = prev_upper and next_upper
    deck_terms = frozenset().union(*terms[:i])
    lede_terms = frozenset().union(*terms[i : i + LEDE_WINDOW])
    opening = frozenset().union(*terms[i : i + OPENING_WINDOW])
    head, tail = frozenset().union(*terms[: max(0, i - 3)]), frozenset().union(*terms[max(0, i - 3) : i])
    sentence_len = next((k - i + 1 for k in range(i, len(words)) if ends[k]), len(words) - i)
    prev_core = core(prev)
    return (
        p.end,
        n.start,
        p.capital_next,
        n.after_capital,
        n.after_capital if prev_upper else 0.0,
        math.log1p(stats.pair_count(prev, word)),
        1.0 if is_sentence_start(core(word)) else 0.0,
        0.0 if p.known else 1.0,
        0.0 if n.known else 1.0,
        1.0 if prev_upper else 0.0,
        1.0 if prev_core[:1].isdigit() or prev_core[:1] in "$£€" else 0.0,
        1.0 if prev.rstrip("\"'”’)")[-1:] in "?!" else 0.0,
        1.0 if prev[-1:] in "\"'”’" else 0.0,
        1.0 if core(word)[:1].isdigit() else 0.0,
        1.0 if word[:1] in "\"'“‘" else 0.0,
        1.0 if inside else 0.0,
        math.log(capital_run(words, i - 1, -1)) if inside else 0.0,
        math.log(capital_run(words, i, 1)) if inside else 0.0,
        1.0 if edge_key(word) == edge_key(prev) else 0.0,
        run_entry_surprise(words, i, stats) if inside else 0.0,
        *(1.0 if lo <= i <= hi else 0.0 for lo, hi in DECK_LENGTH_BINS),
        title_case_ratio(deck),
        1.0 if opens_subordinate_without_verb(deck) else 0.0,
        1.0 if tail & head else 0.0,
        1.0 if quote_left_open(deck) else 0.0,
        1.0 if any(descriptor_length(words, j) == i - j for j in range(max(1, i - 4), i - 1)) else 0.0,
        phrase_surprise(words, i, stats),
        1.0 if edge_key(word) in {edge_key(w) for w in deck} else 0.0,
        len(deck_terms & lede_terms) / len(deck_terms) if deck_terms else 0.0,
        math.log1p(len(deck_terms & lede_terms)),
        len(opening & deck_terms) / len(opening) if opening else 0.0,
        capital_surprise(words, i + 1, i + 1 + SURPRISE_WINDOW, stats),
        1.0 if descriptor_length(words, i) else 0.0,
        *(1.0 if lo <= sentence_len <= hi else 0.0 for lo, hi in LEDE_SENTENCE_BINS),
    )


def _reference_candidates(text: str) -> list[int]:
    """candidate_indices as a scan that stops after the first sentence end (the definition)."""
    words, ends = text.split()[:120], teaser_words(text).sentence_end
    out = []
    for i in range(1, min(40, len(words) - 5) + 1):
        if i >= 2 and is_candidate(words, i):
            out.append(i)
        if ends[i - 1]:
            break
    return out


_TEASER_WORDS = [
    "The", "deal", "Blair", "said.", "in", "London", "won,", "‘New", "Day’", "Prime", "Minister", "Tony",
    "after", "a", "poor", "showing", "Philippine", "President", "Ferdinand", "Marcos", "Jr", "sues",
    "IBM", "Swiss", "cement", "firm", "Holcim", "“It’s", "over.”", "Why?", "$20bn", "2011", "During",
    "the", "U.S.", "Mr.", "No.", "Inc.", "(AP)", "—", "...", "Australia’s", "banks", "sector", "Nigerian",
    "(Labor,", "[Labor", "gets", "plans", "rose", "banned", "Gaza’s", "firms", "chief",
]  # fmt: skip


def _check_tables(text: str, stats: WordStats) -> None:
    tw = teaser_words(text)
    assert tw.words == tuple(text.split()[:120])
    assert all(text[o : o + len(w)] == w for o, w in zip(tw.offsets, tw.words, strict=True))
    assert candidate_indices(tw) == _reference_candidates(text)
    for i in candidate_indices(tw):
        assert seam_features(tw, i, stats) == _reference_features(text, i, stats), (text, i)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(_TEASER_WORDS), max_size=130), st.sampled_from([" ", "  ", "\t", " \n "]))
def test_seam_tables_reproduce_the_one_seam_definitions(words: list[str], sep: str) -> None:
    _check_tables(sep.join(words), shipped_word_stats())


def test_seam_tables_on_many_random_teasers() -> None:
    """A fixed batch of long and short texts (seeded): windows, prefixes and early stops."""
    rng = random.Random(20261130)
    stats = shipped_word_stats()
    for _ in range(400):
        n = rng.choice([rng.randint(0, 8), rng.randint(8, 60), rng.randint(60, 140)])
        _check_tables(" ".join(rng.choice(_TEASER_WORDS) for _ in range(n)), stats)


def test_seam_tables_on_the_seed_teasers() -> None:
    stats = shipped_word_stats()
    for deck, lede in _seed_teasers():
        text = f"{deck} {lede}"
        tw = teaser_words(text)
        assert candidate_indices(tw)
        for i in candidate_indices(tw):
            assert seam_features(tw, i, stats) == _reference_features(text, i, stats)


def test_short_texts_have_no_candidate() -> None:
    # fewer words than a deck and a lede: no seam, even after a full stop
    assert candidate_indices(teaser_words("Talks end. Gaza Hopes")) == []
    assert candidate_indices(teaser_words("Talks end? Gaza Hope")) == []
    assert candidate_indices(teaser_words("")) == []


def test_word_reader_memo_answers_as_the_plain_functions_and_stays_bounded() -> None:
    words = tuple("The deal Blair said. in London won, ‘New Day’ U.S. The deal".split())
    reader = WordReader(memo_size=5)
    for _ in range(2):  # filling, then reading back (and starting over when full)
        assert reader.facts(words) == tuple(map(word_facts, words))
        assert reader.terms(words) == PLAIN_READER.terms(words)
        assert [reader.starts_sentence(core(w)) for w in words] == [is_sentence_start(core(w)) for w in words]
        assert all(len(memo) <= 12 for memo in vars(reader).values() if isinstance(memo, dict))
    long_word = "x" * 100
    assert reader.facts((long_word,)) == (word_facts(long_word),)
    assert long_word not in vars(reader)["_facts"]  # too long to keep


def test_deck_splitter_answers_as_split_deck() -> None:
    splitter = DeckSplitter(max_chars=1600, max_text_chars=800)  # two of the seed teasers
    texts = [f"{deck} {lede}" for deck, lede in _seed_teasers()]
    texts += [
        "all lower case words with no seam in them at all here",
        "Yukos  sues four firms for $20bn Russian",
    ]
    memo = vars(splitter)["_splits"]
    for text in texts + texts[::-1]:
        assert splitter(text) == split_deck(text)
        assert memo.chars <= 1600  # bounded: the oldest splits make room
    assert len(memo) >= 2
    assert all(len(text) <= 800 for text in vars(memo)["_table"])  # longer texts are not kept
