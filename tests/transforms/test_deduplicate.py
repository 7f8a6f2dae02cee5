"""Tests for transforms/deduplicate.py: every rule as a plain function, then the Beam steps."""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import FrozenInstanceError, replace

import apache_beam as beam
import numpy as np
import pytest
from apache_beam.metrics.metric import MetricsFilter
from apache_beam.testing.util import assert_that, equal_to
from datasketch import MinHash
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import offline_test_pipeline
from transforms import counters
from transforms import deduplicate as dd
from transforms.deduplicate import (
    CONTAINED,
    EXACT,
    NEAR,
    SHINGLE_HASH,
    AddExactCopies,
    Assignment,
    ChooseRepresentatives,
    ConnectClusters,
    ContainerChoice,
    Decision,
    DedupConfig,
    Deduplicate,
    Edge,
    MinHasher,
    aligned_openings,
    apply_decision,
    assign_component,
    band_key_array,
    best_container,
    best_edge,
    bucket_pairs,
    candidate_keys,
    classify_pair,
    cluster_id,
    compute_sketch,
    compute_sketches,
    connected_components,
    containment,
    containment_sample,
    copy_roots,
    estimated_jaccard,
    exact_jaccard,
    explaining_edge,
    for_verification,
    fuller,
    keep_best_choices,
    kept_story,
    label_id,
    label_is_previous,
    label_tier_length,
    large_star,
    lsh_params,
    make_decision,
    minhash_signature,
    minhash_template,
    node_label,
    normalise_for_hash,
    num_shards,
    opening_offset,
    opening_words,
    pack_sketch,
    representative_key,
    rounds_components,
    shard_candidates,
    shard_rows,
    shingle_hash,
    shingle_hash_batch,
    shingle_list,
    shingles,
    signature_line,
    signature_params,
    sketch_from_signature,
    small_star,
    star_parent,
    text_hash,
    text_shingle_hashes,
    unpack_sketch,
    unpack_u32,
    verify_pair,
    word_hash,
)
from transforms.records import ARTICLE, TEASER, Story, story_id

CONFIG = DedupConfig()
ESTIMATE = replace(CONFIG, verify="estimate")
MINHASHER = MinHasher(CONFIG.minhash_engine, CONFIG.num_perm, CONFIG.seed)
DATASKETCH = replace(CONFIG, minhash_engine="datasketch")
MINHASHERS = {
    "rensa": MINHASHER,
    "datasketch": MinHasher("datasketch", CONFIG.num_perm, CONFIG.seed),
}
BANDS, ROWS = lsh_params(CONFIG.threshold, CONFIG.num_perm)

RAIL = [
    "The long-delayed Crossrail link across London is to get the go-ahead this month, according to "
    "a report in a Sunday newspaper, after ministers agreed how the project should be paid for.",
    "It says the Treasury has set aside 7.5bn pounds for the scheme and that talks with business groups "
    "on raising the rest of the money will begin shortly. The bill would provide for a fast rail link "
    "from Maidenhead in the west to Canary Wharf in the east.",
    "A second reading could follow in March. The Department for Transport said it had always planned to "
    "introduce the bill in the spring and that this remained the case, but it would not confirm the "
    "figures given in the report.",
    "Business leaders welcomed the news, saying the line would cut journey times, ease overcrowding on "
    "the underground and support thousands of jobs in the capital over the next twenty years.",
]
FOOTBALL = [
    "Bath prop Duncan Bell has been added to the thirty-man England squad to face Ireland in the Six "
    "Nations after injuries to two senior forwards left the coaches short of cover in the front row.",
    "Phil Vickery is sidelined for at least six weeks with a broken arm and Julian White is out with a "
    "neck injury, so Bell could make his debut in Dublin on Sunday afternoon.",
    "Bell, who is thirty, had set his sights on an international career after a strong season with his "
    "club, where he has started every league game since September. Follow us on Twitter for all the "
    "latest news and updates.",
]
PHONES = [
    "A mobile phone that can be charged by shaking it for a few minutes has been shown at a technology "
    "fair in Hanover, where makers are competing to offer devices that never run out of power.",
    "The prototype uses a small magnet that moves through a coil when the handset is shaken, producing "
    "enough current for a short call. Its designers hope to sell it in countries with unreliable mains "
    "electricity. Follow us on Twitter for all the latest news and updates.",
    "Analysts said the idea was clever but doubted that many buyers would be willing to shake their "
    "phones every evening instead of plugging them in at the wall.",
]


def make_story(uri: str, paras: list[str] | str, kind: str = ARTICLE, truncated: bool = False) -> Story:
    text = paras if isinstance(paras, str) else "\n\n".join(paras)
    return Story(
        id=story_id(uri, 0, 0, len(text)),
        uri=uri,
        record=0,
        start=0,
        end=len(text),
        text=text,
        kind=kind,
        title=None,
        kicker=None,
        deck=None,
        truncated=truncated,
    )


def first_words(paras: list[str], n: int) -> str:
    return " ".join(" ".join(paras).split()[:n])


def sketch(story: Story, config: DedupConfig = CONFIG):
    return compute_sketch(story, config, MINHASHERS[config.minhash_engine])


def stored(text: str, n: int = 5) -> set[int]:
    """The stored (low 32-bit) values of a text's shingle hashes, by the plain-Python definition."""
    return {h & 0xFFFFFFFF for h in text_shingle_hashes(text, n)}


ARTICLE_A = make_story("dumps/page-1.txt", RAIL)
EXACT_COPY = make_story("dumps/page-2.txt", [p.replace("  ", " ") for p in RAIL])  # same text
CURLY_COPY = make_story("dumps/page-3.txt", [RAIL[0].replace("long-delayed", "long\u2013delayed"), *RAIL[1:]])
NEAR_COPY = make_story(  # one word edited (and a shorter text, so it is not the one kept)
    "dumps/page-4.txt", [*RAIL[:2], RAIL[2].replace("could follow", "may follow"), RAIL[3]]
)
TEASER_A = make_story("dumps/page-5.txt", first_words(RAIL, 60), kind=TEASER, truncated=True)
FOOTBALL_B = make_story("dumps/page-6.txt", FOOTBALL)
PHONES_C = make_story("dumps/page-7.txt", PHONES)
TRIMMED_A = make_story("dumps/page-8.txt", RAIL[:3])  # the last paragraph dropped


# ------------------------------------------------------------------ text rules


def test_normalise_for_hash_unifies_case_quotes_dashes_and_spaces():
    assert normalise_for_hash("  \u201cIt\u2019s OK\u201d \u2013 he\n\nsaid ") == '"it\'s ok" - he said'
    assert text_hash("A \u2018b\u2019  c") == text_hash("a 'b' c")
    assert text_hash("a b c") != text_hash("a b d")


def test_shingles_are_word_ngrams_of_lowercased_tokens():
    assert shingle_list("The cat, the CAT! sat", 2) == ["the cat", "cat the", "the cat", "cat sat"]
    assert shingles("The cat, the CAT! sat", 2) == {"the cat", "cat the", "cat sat"}
    assert shingles("One two three four five six", 5) == {
        "one two three four five",
        "two three four five six",
    }


def test_short_text_is_one_shingle_and_wordless_text_has_none():
    assert shingles("Only three words.", 5) == {"only three words"}
    assert shingles(" -- ... ", 5) == set()


def test_shingle_hashes_are_pinned():
    """The values are the definition in the module docstring: a change of them (a platform,
    Python or numpy difference, an edit) would make today's signatures incomparable with the
    stored ones of earlier runs, so it must be deliberate (and change SHINGLE_HASH)."""
    assert word_hash("cat") == 0x0376673D208A9E03
    assert word_hash("\u00e9") == 0xD1D9544ADDF596C7
    assert text_shingle_hashes("The cat sat on the mat", 5) == [0x981F19E90784E76D, 0xE5C99D7330926295]
    assert text_shingle_hashes("Only three words.", 5) == [0x95595F16B6B9D7CE]
    assert SHINGLE_HASH == "words-poly-fmix64/1"


def test_shingle_hashes_one_per_shingle_short_text_one_wordless_none():
    assert len(text_shingle_hashes(ARTICLE_A.text, 5)) == len(shingle_list(ARTICLE_A.text, 5))
    three = [word_hash(w) for w in ("only", "three", "words")]
    assert text_shingle_hashes("Only three words.", 5) == [shingle_hash(three)]
    assert text_shingle_hashes(" -- ... ", 5) == []
    assert text_shingle_hashes("", 5) == []


def test_shingle_hashes_see_words_not_case_punctuation_or_repeats():
    hashes = text_shingle_hashes("The cat, the CAT! sat", 2)  # the cat / cat the / the cat / cat sat
    assert len(hashes) == 4 and hashes[0] == hashes[2] and len(set(hashes)) == 3
    assert text_shingle_hashes("THE -- Cat!", 2) == text_shingle_hashes("the cat", 2)
    assert set(text_shingle_hashes(ARTICLE_A.text + " " + ARTICLE_A.text, 5)) >= set(
        text_shingle_hashes(ARTICLE_A.text, 5)
    )


def test_shingle_hashes_are_order_and_boundary_sensitive():
    a, b, c = (word_hash(w) for w in ("a", "b", "c"))
    assert shingle_hash([a, b]) != shingle_hash([b, a])
    assert len({shingle_hash([a, b, c]), shingle_hash([c, b, a]), shingle_hash([a, c, b])}) == 3
    assert shingle_hash([a]) != a and shingle_hash([a, a]) != shingle_hash([a])
    assert word_hash("ab") != word_hash("ba")
    assert text_shingle_hashes("ab c", 5) != text_shingle_hashes("a bc", 5)
    forward = set(text_shingle_hashes("one two three four five six", 5))
    assert len(forward) == 2 and not forward & set(text_shingle_hashes("six five four three two one", 5))


def test_stored_values_of_distinct_shingles_rarely_collide():
    hashes = text_shingle_hashes(" ".join(f"w{i}" for i in range(20_000)), 5)
    assert len(set(hashes)) == len(hashes)  # 64 bits: no collision
    assert len({h & 0xFFFFFFFF for h in hashes}) >= len(hashes) - 2  # 32 bits: ~0.05 expected


texts_strategy = st.lists(
    st.text(
        alphabet=st.sampled_from("aAb\u00e9\u0130\u03a3_1 \n,.-\u4e2d\U0001d400\U0001f600\ud800"), max_size=40
    )
    | st.text(max_size=40),
    max_size=6,
)


@settings(max_examples=150, deadline=None)
@given(texts_strategy, st.integers(min_value=1, max_value=6))
def test_shingle_hash_batch_equals_the_definition_text_by_text(texts, n):
    hashes, offsets = shingle_hash_batch(texts, n)
    assert len(offsets) == len(texts) + 1 and offsets[0] == 0
    for i, text in enumerate(texts):
        assert hashes[offsets[i] : offsets[i + 1]].tolist() == text_shingle_hashes(text, n)


def test_shingle_hash_batch_finds_the_words_re_finds_in_every_code_point():
    """The numpy word finder's table of word characters agrees with `re` on every code point."""
    bmp = " ".join(chr(c) for c in range(0x10000))
    astral = " ".join(chr(c) for c in range(0x10000, 0x110000, 37))
    joined = "x".join(chr(c) for c in range(0x10000))  # runs of word characters across everything
    for text in (bmp, astral, joined):
        hashes, offsets = shingle_hash_batch([text, "a b"], 1)
        assert hashes[: offsets[1]].tolist() == text_shingle_hashes(text, 1)
        assert hashes[offsets[1] :].tolist() == text_shingle_hashes("a b", 1)


# ------------------------------------------------------------------ MinHash and LSH


def test_rensa_signature_is_rminhash_of_the_shingle_hashes():
    from rensa import RMinHash

    hashes = text_shingle_hashes(ARTICLE_A.text, 5)
    expected = RMinHash.digest_matrix_from_token_hash_sets([hashes], 128, 1).to_rows()[0]
    assert np.frombuffer(sketch(ARTICLE_A).signature, dtype=">u4").tolist() == expected
    # pinned with the algorithm version signature_params records: a new rensa algorithm must
    # show up here (and in the params) before it meets signatures of earlier runs
    assert signature_params(CONFIG)["minhash"] == f"rensa-rminhash/{RMinHash.ALGORITHM_VERSION}"
    small = text_shingle_hashes("The cat sat on the mat", 5)
    pinned = {2: [3548181864, 3661047291, 3248983691, 3233702388]}
    first = RMinHash.digest_matrix_from_token_hash_sets([small], 128, 1).to_rows()[0][:4]
    assert first == pinned[RMinHash.ALGORITHM_VERSION]


def test_datasketch_engine_is_datasketch_minhash_of_the_stored_values():
    values = sorted(stored(ARTICLE_A.text))
    reference = MinHash(num_perm=128, seed=1, hashfunc=int)
    reference.update_batch(values)
    sig = sketch(ARTICLE_A, DATASKETCH).signature
    assert np.array_equal(np.frombuffer(sig, dtype=">u4"), reference.hashvalues)
    assert sig == minhash_signature(values, minhash_template(128, 1))
    assert signature_params(DATASKETCH)["minhash"] == "datasketch-affine32"
    assert sig != sketch(ARTICLE_A).signature  # two engines, two signatures


@pytest.mark.parametrize("config", [CONFIG, ESTIMATE, DATASKETCH], ids=["rensa", "estimate", "datasketch"])
def test_a_sketch_does_not_depend_on_its_batch(config):
    stories = [
        ARTICLE_A,
        make_story("dumps/page-9.txt", "* * *"),  # no words
        TEASER_A,
        make_story("dumps/page-10.txt", "Only three words."),  # one shingle
        FOOTBALL_B,
        EXACT_COPY,
        make_story("dumps/page-11.txt", "Echo " * 200),  # one distinct shingle, repeated
    ]
    minhasher = MINHASHERS[config.minhash_engine]
    alone = [compute_sketch(s, config, minhasher) for s in stories]
    assert compute_sketches(stories, config, minhasher) == alone
    assert compute_sketches(stories[::-1], config, minhasher) == alone[::-1]
    assert compute_sketches(stories[2:4], config, minhasher) == alone[2:4]
    assert compute_sketches([], config, minhasher) == []
    assert [alone[i].num_shingles for i in (1, 3, 6)] == [0, 1, 1]
    assert alone[1].signature == b"\xff" * 4 * config.num_perm  # an empty MinHash


def test_signatures_are_equal_for_equal_shingle_sets_only():
    sa = sketch(ARTICLE_A)
    assert sketch(EXACT_COPY).signature == sa.signature
    assert sketch(make_story("u", ARTICLE_A.text.upper())).signature == sa.signature
    assert sketch(NEAR_COPY).signature != sa.signature


def test_estimated_and_exact_jaccard_track_true_jaccard():
    a, b = shingles(ARTICLE_A.text, 5), shingles(NEAR_COPY.text, 5)
    true = len(a & b) / len(a | b)
    sa, sb = sketch(ARTICLE_A), sketch(NEAR_COPY)
    assert abs(estimated_jaccard(sa.signature, sb.signature) - true) < 0.1
    assert exact_jaccard(unpack_u32(sa.shingle_set), unpack_u32(sb.shingle_set)) == pytest.approx(true)
    assert estimated_jaccard(sa.signature, sketch(EXACT_COPY).signature) == 1.0
    assert estimated_jaccard(sa.signature, sketch(FOOTBALL_B).signature) < 0.1


def test_sketch_is_compact_and_holds_the_shingle_set_only_for_exact_verification():
    s, e = sketch(ARTICLE_A), sketch(ARTICLE_A, ESTIMATE)
    assert len(unpack_u32(s.shingle_set)) == s.num_shingles == len(shingles(ARTICLE_A.text, 5))
    assert list(unpack_u32(s.shingle_set)) == sorted(stored(ARTICLE_A.text))
    assert e.shingle_set == b"" and e.signature == s.signature and e.sample == s.sample
    assert len(unpack_u32(s.head)) == CONFIG.head_shingles
    slim = for_verification(s, CONFIG)  # exact verification needs neither signature nor sample
    assert slim.sample == slim.signature == b"" and slim.shingle_set == s.shingle_set
    assert for_verification(s, replace(CONFIG, against=("prev",))) == s
    assert for_verification(e, ESTIMATE) == e
    for packed in (s, slim, replace(e, previous=True, cluster="c-1"), sketch(make_story("u", "* *"))):
        assert unpack_sketch(pack_sketch(packed)) == packed
    with pytest.raises(FrozenInstanceError):
        s.id = "x"  # type: ignore[misc]


def test_lsh_params_come_from_datasketch_optimiser():
    from datasketch.lsh import _optimal_param

    assert lsh_params(0.8, 128) == (9, 13) == _optimal_param(0.8, 128, 0.5, 0.5)  # the stored default
    assert lsh_params(0.7, 128) == _optimal_param(0.7, 128, 0.5, 0.5) == (14, 9)  # computed


def test_band_keys_change_with_their_band_only_and_tell_bands_apart():
    sig = sketch(ARTICLE_A).signature
    keys = band_key_array([sig], 9, 13)[0].tolist()
    assert len(keys) == 9 and len(set(keys)) == 9
    changed = bytearray(sig)  # one changed hash value changes exactly one band key
    changed[20 * 4] ^= 0xFF
    other = band_key_array([bytes(changed)], 9, 13)[0].tolist()
    assert [i for i in range(9) if keys[i] != other[i]] == [1]
    # the same values in another band make another key (a band's key holds its index)
    shifted = sig[13 * 4 : 26 * 4] + sig[13 * 4 :]
    assert band_key_array([shifted], 9, 13)[0].tolist()[0] != keys[1]
    # a batch gives each signature the keys it has alone
    batch = band_key_array([sig, bytes(changed), sig], 9, 13).tolist()
    assert batch == [keys, other, keys]
    with pytest.raises(ValueError, match="too short"):
        band_key_array([sig[: 9 * 13 * 4 - 1]], 9, 13)


def test_text_rows_of_a_batch_are_each_texts_own_rows():
    texts = [ARTICLE_A.text, "* * *", TEASER_A.text, ARTICLE_A.text]
    parts = dd.text_sketches(texts, CONFIG, MINHASHER)
    rows = dd.text_rows(parts, CONFIG, BANDS, ROWS)
    assert rows == [dd.text_row(part, CONFIG, BANDS, ROWS) for part in parts]
    assert rows[1].keys == b"" and rows[0] == rows[3] and rows[0].keys != rows[2].keys


def test_candidate_keys_share_bands_for_copies_and_openings_for_teasers():
    keys = {
        s.uri: set(candidate_keys(sketch(s), BANDS, ROWS, CONFIG)) for s in (ARTICLE_A, TEASER_A, PHONES_C)
    }
    copy = set(candidate_keys(sketch(EXACT_COPY), BANDS, ROWS, CONFIG))
    assert copy == keys[ARTICLE_A.uri]
    assert keys[ARTICLE_A.uri] & keys[TEASER_A.uri]  # the teaser shares its article's opening
    assert not keys[ARTICLE_A.uri] & keys[PHONES_C.uri]
    wordless = sketch(make_story("dumps/page-9.txt", "* * *"))
    assert wordless.num_shingles == 0 and candidate_keys(wordless, BANDS, ROWS, CONFIG) == []


def test_candidate_keys_are_the_bands_the_anchors_and_the_sampled_openings():
    """The definition, key by key (candidate_keys caches the opening keys by shingle)."""
    s = sketch(ARTICLE_A)
    heads = dd.unpack_u32(s.head).tolist()
    expected = set(band_key_array([s.signature], BANDS, ROWS)[0].tolist())
    for i, h in enumerate(heads):
        data = h.to_bytes(4, "little")
        if i < CONFIG.anchor_shingles or dd.key64(b"s", data) % CONFIG.head_key_modulus == 0:
            expected.add(dd.key64(b"h", data))
    assert len(heads) > CONFIG.anchor_shingles + 4
    for _ in range(2):  # cold, then from the cache
        assert candidate_keys(s, BANDS, ROWS, CONFIG) == sorted(expected)


# ------------------------------------------------------------------ labels


def test_labels_sort_like_the_representative_order_and_carry_the_id():
    stories = [TEASER_A, NEAR_COPY, ARTICLE_A, replace(TRIMMED_A, truncated=True), FOOTBALL_B]
    by_rank = sorted(stories, key=representative_key)
    by_label = sorted(stories, key=lambda s: node_label(representative_key(s)))
    assert by_label == by_rank
    label = node_label(representative_key(TEASER_A))
    assert label_id(label) == TEASER_A.id and not label_is_previous(label)
    assert label_tier_length(label) == (2, len(TEASER_A.text))
    old = node_label(representative_key(TEASER_A), previous=True)
    assert label_is_previous(old) and old < node_label(representative_key(ARTICLE_A))  # earlier runs first
    assert sketch(TEASER_A).label == label


# ------------------------------------------------------------------ buckets


def test_bucket_pairs_small_bucket_gives_all_pairs_once():
    pairs, oversized = bucket_pairs(["1c", "1a", "1b", "1a"], max_bucket_size=3, hubs=1)
    assert pairs == [("1a", "1b"), ("1a", "1c"), ("1b", "1c")]
    assert not oversized


def test_bucket_pairs_oversized_bucket_links_members_to_hubs_only():
    members = [f"1{i:03d}" for i in range(250, 0, -1)]
    pairs, oversized = bucket_pairs(members, max_bucket_size=200, hubs=3)
    assert oversized
    hubs = {"1001", "1002", "1003"}
    assert {h for h, _ in pairs} == hubs
    assert len(pairs) == 3 + 3 * 247  # pairs among the hubs, then every other member to each hub
    assert {m for _, m in pairs} == set(members) - {"1001"}


def test_bucket_pairs_skip_pairs_of_two_earlier_run_stories():
    pairs, _ = bucket_pairs(["0a", "0b", "1c"], max_bucket_size=10, hubs=1)
    assert pairs == [("0a", "1c"), ("0b", "1c")]


def test_shard_rows_carry_the_sketch_on_one_shard_and_split_keys_on_more():
    def keys(packed: bytes) -> list[int]:
        return np.frombuffer(packed, dtype="<u8").tolist()

    (only,) = shard_rows("1x", "t", [5, 6, 7, 9], 1, b"sketch")
    assert only[0] == 0 and only[1][:2] == ("1x", "t") and keys(only[1][2]) == [5, 6, 7, 9]
    assert only[1][3] == b"sketch"
    split = shard_rows("1x", "t", [5, 6, 7, 9], 2, b"sketch")
    assert [(s, keys(k), blob) for s, (_, _, k, blob) in split] == [(0, [6], b""), (1, [5, 7, 9], b"")]
    assert num_shards(0, 10) == 1 and num_shards(25, 10) == 3


def test_shard_candidates_collapse_exact_copies_and_ignore_row_order():
    def row(label: str, text: str, keys: list[int]):
        return (label, text, np.asarray(keys, dtype="<u8").tobytes(), b"")

    rows = [
        row("1a", "t1", [1, 2]),
        row("1b", "t1", [1, 2]),  # an exact copy of 1a: stands behind 1a
        row("1c", "t2", [2, 3]),
        row("1d", "t3", [3]),
        row("1e", "t4", [4]),  # alone in its bucket
    ]
    found, oversized = shard_candidates(rows, max_bucket_size=10, hubs=2)
    assert dict(found) == {"1c": {"1a"}, "1d": {"1c"}}
    assert oversized == 0
    again, _ = shard_candidates(list(reversed(rows)), max_bucket_size=10, hubs=2)
    assert again == found


# ------------------------------------------------------------------ verification


def test_containment_sample_is_consistent_and_keeps_anchors():
    def h(low: int, high: int) -> int:  # stored value low, sampled when high % 4 == 0
        return high << 32 | low

    ordered = [h(70, 7), h(80, 8), h(120, 12), h(160, 16), h(30, 3), h(80, 8), h(200, 20)]
    assert containment_sample(ordered, 4, 2) == (70, 80, 120, 160, 200)
    assert containment_sample(ordered, 4, 0) == (80, 120, 160, 200)
    assert set(containment_sample([h(1, 1), h(5, 5), h(12, 12)], 4, 0)) <= set(
        containment_sample([h(9, 9), h(12, 12), h(5, 5), h(1, 1)], 4, 0)
    )


def test_sketch_sample_and_head_follow_their_definitions():
    hashes = text_shingle_hashes(ARTICLE_A.text, 5)
    s = sketch(ARTICLE_A)
    modulus, anchors = CONFIG.sample_modulus, CONFIG.anchor_shingles
    assert unpack_u32(s.sample).tolist() == list(containment_sample(hashes, modulus, anchors))
    distinct = list(dict.fromkeys(h & 0xFFFFFFFF for h in hashes))
    assert unpack_u32(s.head).tolist() == distinct[: CONFIG.head_shingles]
    assert 0.1 < len(unpack_u32(s.sample)) / len(distinct) < 0.45  # about 1 in sample_modulus


def test_containment_estimate():
    assert containment((1, 2, 3, 4), (4, 3, 2, 1, 9)) == 1.0
    assert containment((1, 2, 3, 4), (1, 2, 9)) == 0.5
    assert containment((4, 4, 1, 2, 3), (1, 2, 9, 2)) == 0.5
    assert containment((), (1,)) == 0.0


@settings(max_examples=100, deadline=None)
@given(st.sets(st.integers(0, 60)), st.sets(st.integers(0, 60)))
def test_exact_jaccard_and_containment_of_sorted_sets(a, b):
    x, y = np.array(sorted(a), dtype="<u4"), np.array(sorted(b), dtype="<u4")
    union = len(a | b)
    assert exact_jaccard(x, y) == pytest.approx(len(a & b) / union if union else 0.0)
    assert containment(x, y) == pytest.approx(len(a & b) / len(a) if a else 0.0)


@pytest.mark.parametrize(
    "config",
    [CONFIG, ESTIMATE, replace(ESTIMATE, minhash_engine="datasketch")],
    ids=["exact", "estimate", "estimate-datasketch"],
)
def test_classify_pair_exact_near_contained_and_unrelated(config):
    a = sketch(ARTICLE_A, config)
    lo, hi = sorted([a.label, sketch(CURLY_COPY, config).label])
    assert classify_pair(a, sketch(CURLY_COPY, config), config) == Edge(lo, hi, EXACT, 1.0)
    near = classify_pair(sketch(NEAR_COPY, config), a, config)
    assert near is not None and near.reason == NEAR and near.similarity >= 0.8
    teaser = sketch(TEASER_A, config)
    assert estimated_jaccard(teaser.signature, a.signature) < 0.6
    assert classify_pair(a, teaser, config) == Edge(teaser.label, a.label, CONTAINED, 1.0)
    assert classify_pair(a, sketch(FOOTBALL_B, config), config) is None
    trimmed = sketch(TRIMMED_A, config)  # a complete article, 3/4 of its container ...
    edge = classify_pair(trimmed, a, config)
    if config.verify == "exact":
        assert edge[:3] == (trimmed.label, a.label, CONTAINED)
    else:  # ... whose Jaccard (0.797) is within the signatures' error of the threshold
        assert edge.reason in (NEAR, CONTAINED) and trimmed.label in edge[:2]


def test_shared_boilerplate_sentence_does_not_link_two_stories():
    b, c = sketch(FOOTBALL_B), sketch(PHONES_C)
    assert len(shingles(FOOTBALL_B.text, 5) & shingles(PHONES_C.text, 5)) >= 5  # they share a sentence
    assert classify_pair(b, c, CONFIG) is None
    line_text = "Follow us on Twitter for all the latest news."
    line = sketch(make_story("dumps/page-8.txt", line_text))
    assert shingles(line_text, 5) <= shingles(FOOTBALL_B.text, 5)
    assert classify_pair(line, b, CONFIG) is None  # too short to count as a contained story
    lede = sketch(make_story("dumps/page-9.txt", first_words(FOOTBALL, 24), kind=TEASER, truncated=True))
    assert lede.num_shingles >= CONFIG.min_contained_shingles
    assert classify_pair(lede, b, CONFIG) == Edge(lede.label, b.label, CONTAINED, 1.0)
    short = sketch(make_story("dumps/page-9.txt", first_words(FOOTBALL, 12), kind=TEASER, truncated=True))
    assert classify_pair(short, b, CONFIG) is None


def test_article_inside_a_run_together_story_is_not_contained():
    merged = sketch(make_story("dumps/page-11.txt", FOOTBALL + RAIL))  # a missed story boundary
    rail, football = sketch(ARTICLE_A), sketch(FOOTBALL_B)
    assert containment(unpack_u32(rail.shingle_set), unpack_u32(merged.shingle_set)) == 1.0
    assert not aligned_openings(rail, merged)
    assert classify_pair(rail, merged, CONFIG) is None  # starts ~100 words into the merged text
    # the football article opens the merged story but is less than half of it: kept apart
    assert football.num_shingles < 0.5 * merged.num_shingles
    assert verify_pair(football, merged, CONFIG) == (None, "share")
    # a teaser of it is a fragment: it still goes with the story that contains it
    teaser = sketch(make_story("dumps/page-12.txt", first_words(FOOTBALL, 40), kind=TEASER, truncated=True))
    assert classify_pair(teaser, merged, CONFIG)[:3] == (teaser.label, merged.label, CONTAINED)
    # a title or byline glued in front of a teaser does not break the alignment
    glued = sketch(make_story("dumps/page-12.txt", "Crossrail gets green light\n\n" + TEASER_A.text, TEASER))
    assert aligned_openings(glued, rail)
    assert classify_pair(glued, rail, CONFIG).reason == CONTAINED


def test_best_container_prefers_same_opening_then_score_then_complete_then_tightest():
    def choice(b: str, score: float, same: bool, tier: int, size: int) -> ContainerChoice:
        return ContainerChoice(Edge("t", b, CONTAINED, score), same, tier, size)

    assert best_container([choice("x", 1.0, False, 0, 900), choice("y", 0.9, True, 0, 100)]).b == "y"
    assert best_container([choice("x", 0.85, True, 0, 900), choice("y", 0.9, True, 0, 100)]).b == "y"
    assert best_container([choice("x", 0.9, True, 1, 100), choice("y", 0.9, True, 0, 300)]).b == "y"
    assert best_container([choice("x", 0.9, True, 0, 900), choice("y", 0.9, True, 0, 300)]).b == "y"
    assert best_container([choice("y", 0.9, True, 0, 300), choice("x", 0.9, True, 0, 300)]).b == "x"


@pytest.mark.parametrize("seed", range(5))
def test_best_choices_folded_in_parts_then_merged_are_the_best_of_all(seed):
    rng = random.Random(seed)
    found = [
        (
            f"s{rng.randint(0, 5)}",
            ContainerChoice(
                Edge("s", f"c{rng.randint(0, 9)}", CONTAINED, rng.choice([0.8, 0.9, 1.0])),
                rng.random() < 0.5,
                rng.randint(0, 2),
                rng.choice([100, 300]),
            ),
        )
        for _ in range(60)
    ]
    everything = defaultdict(list)
    for label, choice in found:
        everything[label].append(choice)
    # fold the choices in three parts (as shards do), then merge the parts' bests (BestContainer)
    parts = [dict() for _ in range(3)]
    pruned = sum(keep_best_choices(parts[i % 3], [item]) for i, item in enumerate(found))
    merged: dict[str, ContainerChoice] = {}
    pruned += sum(keep_best_choices(merged, part.items()) for part in parts)
    assert {label: c.edge for label, c in merged.items()} == {
        label: best_container(choices) for label, choices in everything.items()
    }
    assert pruned == len(found) - len(everything)  # every choice but one per story set aside


# ------------------------------------------------------------------ connected components


def test_star_steps():
    assert large_star("c", ["a", "d", "e"]) == [("d", "a"), ("e", "a")]
    assert large_star("a", ["b"]) == [("b", "a")]
    assert small_star("d", ["b", "c"]) == [("c", "b"), ("d", "b")]
    assert star_parent("b", ["a"]) == ("a", True)
    assert star_parent("a", ["b", "c"]) == ("a", True)
    assert star_parent("b", ["a", "c"]) == ("b", False)


def test_connected_components_roots_are_smallest_nodes():
    roots = connected_components([("d", "c"), ("c", "b"), ("x", "y"), ("e", "d")])
    assert roots == {"b": "b", "c": "b", "d": "b", "e": "b", "x": "x", "y": "x"}
    assert connected_components([]) == {}


edge_lists = st.lists(
    st.tuples(st.sampled_from("abcdefghijklmnop"), st.sampled_from("abcdefghijklmnop")), max_size=30
)


@settings(max_examples=80, deadline=None)
@given(edge_lists, st.integers(min_value=0, max_value=4))
def test_star_rounds_with_fallback_equal_union_find(edges, rounds):
    edges = [e for e in edges if e[0] != e[1]]
    roots, fallback_edges = rounds_components(edges, rounds)
    assert roots == connected_components(edges)
    if rounds == 0 and any(len({a, b} - {min(a, b)}) for a, b in edges):
        assert fallback_edges >= 0


def test_long_chain_needs_the_fallback_with_few_rounds_and_not_with_enough():
    rng = random.Random(7)
    nodes = [f"{rng.getrandbits(64):016x}" for _ in range(60)]
    chain = list(zip(nodes, nodes[1:], strict=False))
    expected = connected_components(chain)
    assert set(expected.values()) == {min(nodes)}
    roots, fallback = rounds_components(chain, 1)
    assert roots == expected and fallback > 0
    roots, fallback = rounds_components(chain, 8)
    assert roots == expected and fallback == 0


def test_connect_clusters_in_beam_equals_union_find_with_and_without_fallback():
    rng = random.Random(11)
    nodes = [f"1{rng.getrandbits(64):016x}" for _ in range(40)]
    chain = list(zip(nodes[:30], nodes[1:30], strict=False))  # a chain of 30
    star = [(nodes[30], n) for n in nodes[31:36]]
    pair = [(nodes[36], nodes[37])]
    edges = [Edge(min(a, b), max(a, b), NEAR, 0.9) for a, b in chain + star + pair]
    expected = sorted(connected_components([(e.a, e.b) for e in edges]).items())
    p = offline_test_pipeline()
    created = p | beam.Create(edges)
    assert_that(created | "OneRound" >> ConnectClusters(1), equal_to(expected), label="CheckOneRound")
    assert_that(created | "SixRounds" >> ConnectClusters(6), equal_to(expected), label="CheckSixRounds")
    result = p.run()
    result.wait_until_finish()

    def fallback(step: str) -> int:
        found = result.metrics().query(MetricsFilter().with_name(counters.CC_FALLBACK_EDGES).with_step(step))[
            "counters"
        ]
        return sum(c.committed for c in found)

    assert fallback("OneRound") > 0  # a chain of 30 does not converge in one round ...
    assert fallback("SixRounds") == 0  # ... but does in six


def test_copy_roots_give_copies_their_leaders_root():
    assert copy_roots("b", ["d", "c", "d"], ["a"]) == [("c", "a", "b"), ("d", "a", "b")]
    assert copy_roots("b", ["c"], []) == [("b", "b", None), ("c", "b", "b")]  # a leader with copies only
    assert copy_roots("b", [], ["a"]) == []  # no copies: nothing to add


def test_exact_copies_joined_after_the_rounds_give_the_roots_of_all_edges():
    rng = random.Random(5)
    nodes = sorted(f"1{rng.getrandbits(64):016x}" for _ in range(12))
    # leaders 0, 4, 8 with copies; 0-4 near; copies rank after their leader, as GroupExactCopies makes them
    exact = [Edge(nodes[0], nodes[i], EXACT, 1.0) for i in (1, 2, 3)] + [
        Edge(nodes[8], nodes[i], EXACT, 1.0) for i in (9, 10)
    ]
    near = [
        Edge(nodes[0], nodes[4], NEAR, 0.9),
        Edge(nodes[4], nodes[5], NEAR, 0.9),
        Edge(nodes[6], nodes[7], NEAR, 0.9),
    ]
    leaders = {e.b: e.a for e in exact}
    expected = sorted(
        (label, root, leaders.get(label))
        for label, root in connected_components([(e.a, e.b) for e in exact + near]).items()
    )
    with offline_test_pipeline() as p:
        linked = p | "Near" >> beam.Create(near) | ConnectClusters(2)
        roots = (p | "Exact" >> beam.Create(exact), linked) | AddExactCopies()
        assert_that(roots, equal_to(expected))


# ------------------------------------------------------------------ decisions


def test_assign_component_keeps_the_root_and_points_the_others_to_it():
    a, b, c = (node_label(r) for r in [(0, -900, "a"), (1, -990, "b"), (2, -300, "c")])
    assigned = dict(assign_component(a, [b, c, a], None, 0.8))
    cid = cluster_id("a")
    assert assigned == {
        a: Assignment(None, cid, False, component_size=3),  # the kept story carries the size
        b: Assignment(a, cid, False),
        c: Assignment(a, cid, False),
    }


def test_the_kept_story_is_the_text_most_pages_carry_among_the_best_tier():
    merged = node_label((0, -5000, "merged"))  # two articles run together: the longest, once
    # exact copies: their leader is the smallest label of the group
    original, copy1, copy2 = (node_label((0, -2500, i)) for i in ("c0", "c1", "c2"))
    edited = node_label((0, -2600, "edited"))
    teaser, teaser_copy = node_label((2, -600, "t")), node_label((2, -600, "t2"))
    leader_of = {merged: None, original: None, copy1: original, copy2: original, edited: None}
    leader_of |= {teaser: None, teaser_copy: teaser}
    assert kept_story(sorted(leader_of), leader_of) == original  # the leader of three copies
    assigned = dict(assign_component(merged, leader_of, None, 0.8, leader_of))
    assert assigned[original] == Assignment(None, cluster_id("merged"), False, component_size=7)
    assert {a.representative for label, a in assigned.items() if label != original} == {original}
    # with no exact copies, the longest; a tier always comes first, however many copies
    singles = {merged: None, edited: None, teaser: None, teaser_copy: teaser}
    assert kept_story(sorted(singles), singles) == merged
    assert kept_story(sorted([teaser, teaser_copy, edited]), {teaser_copy: teaser}) == edited


def test_todays_copies_of_an_earlier_story_are_dropped_into_its_cluster():
    old = node_label((0, -1000, "old"), previous=True)
    today = [node_label((0, -1100, "t1")), node_label((2, -300, "t2"))]
    assigned = dict(assign_component(old, [old, *today], "c-earlier", 0.8))
    assert set(assigned) == set(today)  # nothing is decided for the earlier story
    assert [a._replace(component_size=0) for a in assigned.values()] == [
        Assignment(old, "c-earlier", True)
    ] * 2
    assert sum(a.component_size for a in assigned.values()) == 2


def test_a_fuller_version_of_an_earlier_teaser_is_kept_in_its_cluster():
    old_teaser = node_label((2, -400, "old"), previous=True)
    article = node_label((0, -3000, "art"))
    trimmed = node_label((0, -2000, "trim"))
    copy = node_label((2, -410, "tcopy"))
    assert fuller(article, old_teaser, 0.8) and fuller(trimmed, old_teaser, 0.8)
    assert not fuller(copy, old_teaser, 0.8)  # a near copy is never "fuller"
    members = [old_teaser, article, trimmed, copy]
    assigned = dict(assign_component(old_teaser, members, "c-earlier", 0.8))
    assert assigned == {
        article: Assignment(None, "c-earlier", False, component_size=3),
        trimmed: Assignment(article, "c-earlier", False),
        copy: Assignment(old_teaser, "c-earlier", True),  # today's copy of the teaser: yesterday's
    }


def test_a_drop_is_explained_by_its_relation_to_the_kept_story_else_its_best_edge():
    a, n, t, u = (node_label(r) for r in [(0, -900, "a"), (0, -880, "n"), (2, -300, "t"), (2, -300, "u")])
    edges = [
        Edge(t, u, EXACT, 1.0),
        Edge(a, n, NEAR, 0.9),
        Edge(t, a, CONTAINED, 0.95),
        Edge(u, n, CONTAINED, 1.0),
    ]
    assert best_edge(t, edges) == Edge(t, u, EXACT, 1.0)  # its strongest edge ...
    assert explaining_edge(t, a, edges) == Edge(t, a, CONTAINED, 0.95)  # ... but it was compared with a
    assert explaining_edge(u, a, edges) == Edge(t, u, EXACT, 1.0)  # u was not: its best edge
    assert explaining_edge(n, a, edges) == Edge(a, n, NEAR, 0.9)
    assert explaining_edge(n, a, []) is None
    d = make_decision(t, Assignment(a, "c-x", False), explaining_edge(t, a, edges))
    assert d == Decision("t", "c-x", "a", CONTAINED, 0.95)
    assert make_decision(a, Assignment(None, "c-x", False), None) == Decision("a", "c-x")
    with pytest.raises(ValueError):
        make_decision(t, Assignment(a, "c-x", False), None)


def test_copies_are_dropped_as_exact_and_their_leader_by_its_own_verified_edge():
    ranks = [(0, -900, "a"), (0, -880, "n"), (2, -300, "t"), (2, -300, "u"), (2, -300, "v")]
    a, n, t, u, v = (node_label(r) for r in ranks)
    verified = [Edge(a, n, NEAR, 0.9), Edge(t, n, CONTAINED, 0.95)]
    # as AddExactCopies gives them: u and v are exact copies of the teaser t
    roots = [(a, a, None), (n, a, None), (t, a, None), (u, a, t), (v, a, t)]
    c = cluster_id("a")
    expected = [
        (a, ("a", c, None, None, None, 5)),
        (n, ("n", c, "a", NEAR, 0.9, 0)),
        (t, ("t", c, "a", CONTAINED, 0.95, 0)),  # not "exact" through its own copies
        (u, ("u", c, "a", EXACT, 1.0, 0)),
        (v, ("v", c, "a", EXACT, 1.0, 0)),
    ]
    with offline_test_pipeline() as p:
        decisions = (
            p | "Roots" >> beam.Create(roots),
            p | "Verified" >> beam.Create(verified),
            p | "NoClusters" >> beam.Create([]),
        ) | ChooseRepresentatives(CONFIG)
        assert_that(decisions, equal_to(expected))


def test_cluster_id_is_stable_and_short():
    assert cluster_id("abc") == cluster_id("abc") == "c-a9993e364706816aba3e2571"
    assert cluster_id("abd") != cluster_id("abc")


def test_apply_decision_builds_a_new_story():
    d = Decision(ARTICLE_A.id, "c-x", "other", NEAR, 0.9)
    out = apply_decision(ARTICLE_A, d)
    assert (out.cluster, out.duplicate_of, out.dedup_reason, out.similarity) == ("c-x", "other", NEAR, 0.9)
    assert ARTICLE_A.cluster is None


def test_signature_lines_round_trip_and_refuse_other_parameters():
    s = sketch(ARTICLE_A)
    line = signature_line(s, "c-1", CONFIG)
    back = sketch_from_signature(line, CONFIG)
    assert back == replace(s, previous=True, cluster="c-1")
    assert signature_line(back, "c-1", CONFIG) == line  # carried forward unchanged
    with pytest.raises(ValueError, match="num-perm"):
        sketch_from_signature(line, replace(CONFIG, num_perm=64))
    with pytest.raises(ValueError, match="minhash-engine"):
        sketch_from_signature(line, DATASKETCH)  # signatures of another engine
    params = signature_params(CONFIG)
    assert params["shingle_hash"] == SHINGLE_HASH and params["minhash"].startswith("rensa-rminhash/")
    older = line.replace(f'"shingle_hash":"{SHINGLE_HASH}",', "")  # written before shingle hashes changed
    assert older != line
    with pytest.raises(ValueError):
        sketch_from_signature(older, CONFIG)


def test_minhash_engine_is_checked():
    with pytest.raises(ValueError, match="minhash_engine"):
        DedupConfig(minhash_engine="simhash")


# ------------------------------------------------------------------ the whole transform


def _totals(result, step: str | None = None) -> dict[str, int]:
    where = MetricsFilter().with_namespace(counters.NAMESPACE)
    found = result.metrics().query(where.with_step(step) if step else where)["counters"]
    totals: dict[str, int] = {}
    for c in found:
        totals[c.key.metric.name] = totals.get(c.key.metric.name, 0) + c.committed
    return totals


def test_deduplicate_pipeline_clusters_copies_and_keeps_unrelated_apart():
    stories = [ARTICLE_A, EXACT_COPY, NEAR_COPY, TEASER_A, TRIMMED_A, FOOTBALL_B, PHONES_C]
    assert EXACT_COPY.text == ARTICLE_A.text
    rep = min(ARTICLE_A.id, EXACT_COPY.id)  # equal text and kind: the smaller id is kept
    other = max(ARTICLE_A.id, EXACT_COPY.id)
    cid = cluster_id(rep)
    expected = [
        (rep, cid, None, None),
        (other, cid, rep, EXACT),
        (NEAR_COPY.id, cid, rep, NEAR),
        (TEASER_A.id, cid, rep, CONTAINED),
        (TRIMMED_A.id, cid, rep, CONTAINED),
        (FOOTBALL_B.id, cluster_id(FOOTBALL_B.id), None, None),
        (PHONES_C.id, cluster_id(PHONES_C.id), None, None),
    ]
    shuffled = list(stories)
    random.Random(3).shuffle(shuffled)
    p = offline_test_pipeline()
    out, duplicate_clusters = p | beam.Create(shuffled) | "Deduplicate" >> Deduplicate(CONFIG)
    assert_that(
        out | "Fields" >> beam.Map(lambda s: (s.id, s.cluster, s.duplicate_of, s.dedup_reason)),
        equal_to(expected),
    )
    assert_that(
        out | "Texts" >> beam.Map(lambda s: (s.id, s.text)),
        equal_to([(s.id, s.text) for s in stories]),
        label="CheckTextsUntouched",
    )
    assert_that(  # known with the decisions: one per dropped story
        duplicate_clusters,
        equal_to([cluster for _, cluster, duplicate_of, _ in expected if duplicate_of is not None]),
        label="CheckDuplicateClusters",
    )
    # in the same pipeline (one runner start): with every bucket oversized (members linked to
    # one hub only) and keys in 4 shards (pairs verified through the keyed side input, not in
    # the shard) the clusters are the same here; and an empty input
    tiny_buckets = replace(
        CONFIG, max_bucket_size=2, bucket_hubs=1, bucket_shard_stories=2, side_inputs="dict"
    )
    hubs_only = (p | "Again" >> beam.Create(shuffled) | "TinyBuckets" >> Deduplicate(tiny_buckets)).stories
    assert_that(
        hubs_only | "HubFields" >> beam.Map(lambda s: (s.id, s.cluster, s.duplicate_of)),
        equal_to([e[:3] for e in expected]),
        label="CheckHubsOnly",
    )
    empty = p | "NoStories" >> beam.Create([], reshuffle=False).with_output_types(Story)
    assert_that((empty | "DedupNothing" >> Deduplicate(CONFIG)).stories, equal_to([]), label="CheckEmpty")
    result = p.run()
    result.wait_until_finish()
    assert _totals(result, "TinyBuckets")[counters.OVERSIZED_BUCKETS] > 0
    totals = _totals(result, "Deduplicate")
    assert totals[counters.KEPT] == 3
    assert totals[counters.DROPPED] == 4
    assert totals[counters.EXACT_DUPLICATES] == 1
    assert totals[counters.NEAR_DUPLICATES] == 1
    assert totals[counters.CONTAINED_DUPLICATES] == 2
    assert totals[counters.CANDIDATE_PAIRS] >= totals[counters.VERIFIED_PAIRS] >= 3
    assert totals.get(counters.OVERSIZED_BUCKETS, 0) == 0
    assert totals.get(counters.CC_FALLBACK_EDGES, 0) == 0
    sizes = result.metrics().query(MetricsFilter().with_name(counters.CLUSTER_SIZE).with_step("Deduplicate"))[
        "distributions"
    ]
    assert sum(d.committed.count for d in sizes) == 3
    assert max(d.committed.max for d in sizes) == 5


def test_opening_words_and_where_they_open_a_text():
    assert opening_words("“Brad Pitt, Robert De Niro and Hugh Grant have", 5) == "brad pitt robert de niro"
    assert opening_words("Too short", 5) is None
    text = "Top stars join US tsunami TV show “Brad Pitt, Robert De Niro and Hugh Grant have been added"
    assert text[opening_offset(text, "brad pitt robert de niro", 40) :].startswith("“Brad Pitt")
    assert opening_offset("Brad Pitt, Robert De Niro and others", "brad pitt robert de niro", 40) == 0
    assert opening_offset("A re-use of the old line here", "use of the old line", 40) is None  # inside a word
    assert opening_offset("one two three four", "three four", 1) is None  # past max_words


def _kicker_teaser(uri: str, deck: str | None, lede: str) -> Story:
    text = f"BACKLASH: {deck} {lede}" if deck else f"BACKLASH: {lede}"
    return replace(
        make_story(uri, lede, kind=TEASER, truncated=True),
        id=story_id(uri, 0, 0, len(text)),
        end=len(text),
        kicker="BACKLASH",
        deck=deck,
    )


def test_a_teaser_dropped_for_its_article_is_re_cut_where_the_article_begins():
    """The deck model cut "Crossrail to get | go-ahead this month The long-delayed ...": the
    teaser is contained in the article, whose first words mark where its lede starts."""
    lede = first_words(RAIL, 60)
    early = _kicker_teaser("dumps/page-9.txt", "Crossrail to get", f"go-ahead this month {lede}")
    undecided = _kicker_teaser("dumps/page-10.txt", None, f"Crossrail to get go-ahead this month {lede}")
    p = offline_test_pipeline()
    out = (p | beam.Create([ARTICLE_A, early, undecided, FOOTBALL_B]) | Deduplicate(CONFIG)).stories
    assert_that(
        out | beam.Map(lambda s: (s.id, s.deck, s.text[:20], s.duplicate_of)),
        equal_to(
            [
                (ARTICLE_A.id, None, ARTICLE_A.text[:20], None),
                (early.id, "Crossrail to get go-ahead this month", lede[:20], ARTICLE_A.id),
                (undecided.id, "Crossrail to get go-ahead this month", lede[:20], ARTICLE_A.id),
                (FOOTBALL_B.id, None, FOOTBALL_B.text[:20], None),
            ]
        ),
    )
    result = p.run()
    result.wait_until_finish()
    assert _totals(result)[counters.RESEAMED_TEASERS] == 2


def test_story_texts_reach_no_shuffle():
    """Only two ParDos read the stories (sketching, applying the decisions): every GroupByKey in
    Deduplicate sees sketches, labels, keys and edges, never a story's text."""
    p = offline_test_pipeline()
    stories = p | beam.Create([ARTICLE_A])
    _ = stories | "Dedup" >> Deduplicate(CONFIG)
    readers = []

    class Visitor(beam.pipeline.PipelineVisitor):
        def visit_transform(self, node):
            if stories in node.inputs:
                readers.append((node.full_label, type(node.transform).__name__))

    p.visit(Visitor())
    assert [kind for _, kind in readers] == ["ParDo", "ParDo", "ParDo"]
    assert sorted(label.split("/")[1] for label, _ in readers) == [
        "ApplyDecisions",
        "ArticleOpenings",  # (id, first words) of each article: a side input of ApplyDecisions
        "ComputeSignatures",
    ]
