"""Tests for transforms/deduplicate.py: every rule as a plain function, then the whole transform."""

from __future__ import annotations

import random
from dataclasses import FrozenInstanceError, replace

import apache_beam as beam
import numpy as np
import pytest
from apache_beam.metrics.metric import MetricsFilter
from apache_beam.testing.util import assert_that, equal_to
from datasketch import MinHash
from datasketch.hashfunc import sha1_hash32
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import offline_test_pipeline
from transforms import counters
from transforms.deduplicate import (
    CONTAINED,
    EXACT,
    NEAR,
    ContainerChoice,
    Decision,
    DedupConfig,
    Deduplicate,
    Edge,
    UnionFindFn,
    aligned_openings,
    apply_decision,
    band_keys,
    band_postings,
    best_container,
    bucket_pairs,
    choose_representatives,
    classify_pair,
    cluster_id,
    compute_sketch,
    connected_components,
    containment,
    containment_sample,
    estimated_jaccard,
    lsh_params,
    minhash_signature,
    minhash_template,
    normalise_for_hash,
    pair_key,
    representative_key,
    sample_postings,
    shingle_hashes,
    shingle_list,
    shingles,
    split_pair_key,
    text_hash,
)
from transforms.records import ARTICLE, TEASER, Story, story_id

CONFIG = DedupConfig()
TEMPLATE = minhash_template(CONFIG.num_perm, CONFIG.seed)

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


def sketch(story: Story):
    return compute_sketch(story, CONFIG, TEMPLATE)


ARTICLE_A = make_story("dumps/page-1.txt", RAIL)
EXACT_COPY = make_story("dumps/page-2.txt", [p.replace("  ", " ") for p in RAIL])  # same text
CURLY_COPY = make_story("dumps/page-3.txt", [RAIL[0].replace("long-delayed", "long\u2013delayed"), *RAIL[1:]])
NEAR_COPY = make_story(  # one word edited (and a shorter text, so it is not the one kept)
    "dumps/page-4.txt", [*RAIL[:2], RAIL[2].replace("could follow", "may follow"), RAIL[3]]
)
TEASER_A = make_story("dumps/page-5.txt", first_words(RAIL, 60), kind=TEASER, truncated=True)
FOOTBALL_B = make_story("dumps/page-6.txt", FOOTBALL)
PHONES_C = make_story("dumps/page-7.txt", PHONES)


# ------------------------------------------------------------------ text rules


def test_normalise_for_hash_unifies_case_quotes_dashes_and_spaces():
    assert normalise_for_hash("  \u201cIt\u2019s  OK\u201d \u2013 he\n\nsaid ") == '"it\'s ok" - he said'
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


def test_shingle_hashes_match_datasketch_sha1_hash32():
    h32, h64 = shingle_hashes("the cat sat on the")
    assert h32 == sha1_hash32(b"the cat sat on the")
    assert 0 <= h64 < 2**64 and h64 != h32


# ------------------------------------------------------------------ MinHash and LSH


def test_signature_equals_datasketch_minhash_on_shingle_bytes():
    grams = sorted(shingles(ARTICLE_A.text, 5))
    reference = MinHash(num_perm=128, seed=1)
    reference.update_batch([g.encode("utf-8") for g in grams])
    sig = minhash_signature((shingle_hashes(g)[0] for g in grams), TEMPLATE)
    assert np.array_equal(np.frombuffer(sig, dtype=">u4"), reference.hashvalues)


def test_estimated_jaccard_tracks_true_jaccard():
    a, b = shingles(ARTICLE_A.text, 5), shingles(NEAR_COPY.text, 5)
    true = len(a & b) / len(a | b)
    est = estimated_jaccard(sketch(ARTICLE_A).signature, sketch(NEAR_COPY).signature)
    assert abs(est - true) < 0.1
    assert estimated_jaccard(sketch(ARTICLE_A).signature, sketch(EXACT_COPY).signature) == 1.0
    assert estimated_jaccard(sketch(ARTICLE_A).signature, sketch(FOOTBALL_B).signature) < 0.1


def test_lsh_params_come_from_datasketch_optimiser():
    assert lsh_params(0.8, 128) == (9, 13)


def test_band_keys_hold_band_index_and_band_values():
    sig = sketch(ARTICLE_A).signature
    keys = band_keys(sig, 9, 13)
    assert len(keys) == 9 and len(set(keys)) == 9
    assert all(len(k) == 2 + 13 * 4 for k in keys)
    assert [int.from_bytes(k[:2], "big") for k in keys] == list(range(9))
    assert keys[1][2:] == sig[13 * 4 : 26 * 4]
    # one changed hash value changes exactly one band key
    changed = bytearray(sig)
    changed[20 * 4] ^= 0xFF
    other = band_keys(bytes(changed), 9, 13)
    assert [i for i in range(9) if keys[i] != other[i]] == [1]


def test_postings_carry_story_id_and_skip_wordless_texts():
    a = sketch(ARTICLE_A)
    assert band_postings(a, 9, 13) == [(k, ARTICLE_A.id) for k in band_keys(a.signature, 9, 13)]
    assert sample_postings(a) == [(h, ARTICLE_A.id) for h in a.sample]
    wordless = sketch(make_story("dumps/page-9.txt", "* * *"))
    assert wordless.num_shingles == 0 and wordless.sample == ()
    assert band_postings(wordless, 9, 13) == [] and sample_postings(wordless) == []
    other = sketch(make_story("dumps/page-10.txt", "- - -"))
    assert classify_pair(wordless, other, CONFIG) is None


def test_bucket_pairs_small_bucket_gives_all_sorted_pairs_once():
    pairs, oversized = bucket_pairs(["c", "a", "b", "a"], max_bucket_size=3)
    assert pairs == [("a", "b"), ("a", "c"), ("b", "c")]
    assert not oversized


def test_bucket_pairs_oversized_bucket_is_a_star_on_smallest_id():
    ids = [f"id{i:03d}" for i in range(250, 0, -1)]
    pairs, oversized = bucket_pairs(ids, max_bucket_size=200)
    assert oversized
    assert len(pairs) == 249
    assert {a for a, _ in pairs} == {"id001"}
    assert {b for _, b in pairs} == {f"id{i:03d}" for i in range(2, 251)}


def test_pair_key_is_unordered_and_round_trips():
    assert pair_key("b", "a") == pair_key("a", "b")
    assert split_pair_key(pair_key("b", "a")) == ("a", "b")


# ------------------------------------------------------------------ containment


def test_containment_sample_is_consistent_and_keeps_anchors():
    hashes = [7, 8, 12, 16, 3, 8, 20]
    assert containment_sample(hashes, 4, 2) == (7, 8, 12, 16, 20)
    assert containment_sample(hashes, 4, 0) == (8, 12, 16, 20)
    # a shingle sampled in one story is sampled in every story holding it
    assert set(containment_sample([1, 5, 12], 4, 0)) <= set(containment_sample([9, 12, 5, 1], 4, 0))


def test_containment_estimate():
    assert containment((1, 2, 3, 4), (4, 3, 2, 1, 9)) == 1.0
    assert containment((1, 2, 3, 4), (1, 2, 9)) == 0.5
    assert containment((), (1,)) == 0.0


def test_teaser_is_contained_in_its_article_but_far_in_jaccard():
    teaser, article = sketch(TEASER_A), sketch(ARTICLE_A)
    assert estimated_jaccard(teaser.signature, article.signature) < 0.6
    assert containment(teaser.sample, article.sample) == 1.0
    assert len(teaser.sample) >= CONFIG.min_contained_samples


def test_classify_pair_exact_near_contained_and_unrelated():
    a = sketch(ARTICLE_A)
    lo, hi = sorted([ARTICLE_A.id, CURLY_COPY.id])
    assert classify_pair(a, sketch(CURLY_COPY), CONFIG) == Edge(lo, hi, EXACT, 1.0)
    near = classify_pair(sketch(NEAR_COPY), a, CONFIG)
    assert near is not None and near.reason == NEAR and near.similarity >= 0.8
    contained = classify_pair(a, sketch(TEASER_A), CONFIG)
    assert contained == Edge(TEASER_A.id, ARTICLE_A.id, CONTAINED, 1.0)  # a = contained side
    assert classify_pair(a, sketch(FOOTBALL_B), CONFIG) is None


def test_shared_boilerplate_sentence_does_not_link_two_stories():
    b, c = sketch(FOOTBALL_B), sketch(PHONES_C)
    assert len(shingles(FOOTBALL_B.text, 5) & shingles(PHONES_C.text, 5)) >= 5  # they share a sentence
    assert classify_pair(b, c, CONFIG) is None
    # the bare sentence, though inside b, is too short to count as a contained story
    line_text = "Follow us on Twitter for all the latest news."
    line = sketch(make_story("dumps/page-8.txt", line_text))
    assert shingles(line_text, 5) <= shingles(FOOTBALL_B.text, 5)
    assert classify_pair(line, b, CONFIG) is None
    # a lede of about 24 words is long enough; one of 12 words is not
    lede = sketch(make_story("dumps/page-9.txt", first_words(FOOTBALL, 24)))
    assert lede.num_shingles >= CONFIG.min_contained_shingles
    assert classify_pair(lede, b, CONFIG) == Edge(lede.id, b.id, CONTAINED, 1.0)
    short = sketch(make_story("dumps/page-9.txt", first_words(FOOTBALL, 12)))
    assert classify_pair(short, b, CONFIG) is None


def test_article_inside_a_run_together_story_is_not_contained():
    merged = sketch(make_story("dumps/page-11.txt", FOOTBALL + RAIL))  # a missed story boundary
    rail, football = sketch(ARTICLE_A), sketch(FOOTBALL_B)
    assert containment(rail.sample, merged.sample) >= CONFIG.containment_threshold
    assert not aligned_openings(rail, merged)
    assert classify_pair(rail, merged, CONFIG) is None  # starts ~100 words into the merged text
    assert classify_pair(football, merged, CONFIG) == Edge(football.id, merged.id, CONTAINED, 1.0)
    anywhere = replace(CONFIG, head_shingles=0)
    assert classify_pair(rail, merged, anywhere)[:3] == (rail.id, merged.id, CONTAINED)
    # a title or byline glued in front of a teaser does not break the alignment
    glued = sketch(make_story("dumps/page-12.txt", "Crossrail gets green light\n\n" + TEASER_A.text))
    assert aligned_openings(glued, rail)
    assert classify_pair(glued, rail, CONFIG).reason == CONTAINED


def test_best_container_prefers_same_opening_then_score_then_size_then_id():
    def choice(b: str, score: float, same: bool, size: int) -> ContainerChoice:
        return ContainerChoice(Edge("t", b, CONTAINED, score), same, size)

    assert best_container([choice("x", 1.0, False, 900), choice("y", 0.9, True, 100)]).b == "y"
    assert best_container([choice("x", 0.85, True, 900), choice("y", 0.9, True, 100)]).b == "y"
    assert best_container([choice("x", 0.9, True, 100), choice("y", 0.9, True, 300)]).b == "y"
    assert best_container([choice("y", 0.9, True, 300), choice("x", 0.9, True, 300)]).b == "x"


# ------------------------------------------------------------------ clusters


def test_connected_components_roots_are_smallest_ids():
    roots = connected_components([("d", "c"), ("c", "b"), ("x", "y"), ("e", "d")])
    assert roots == {"b": "b", "c": "b", "d": "b", "e": "b", "x": "x", "y": "x"}
    assert connected_components([]) == {}


edge_lists = st.lists(
    st.tuples(st.sampled_from("abcdefghij"), st.sampled_from("abcdefghij")), min_size=0, max_size=25
)


@settings(max_examples=60, deadline=None)
@given(edge_lists, st.randoms(use_true_random=False))
def test_connected_components_ignore_edge_order_and_split_merges(edges, rnd):
    expected = connected_components(edges)
    shuffled = list(edges)
    rnd.shuffle(shuffled)
    assert connected_components([(b, a) for a, b in shuffled]) == expected
    # roots are the smallest member, and endpoints of every edge share a root
    assert all(expected[a] == expected[b] for a, b in edges)
    assert all(root == min(n for n, r in expected.items() if r == root) for root in expected.values())
    # the CombineFn, fed in any split, agrees
    fn = UnionFindFn()
    cut = rnd.randint(0, len(shuffled))
    parts = []
    for chunk in (shuffled[:cut], shuffled[cut:]):
        acc = fn.create_accumulator()
        for e in chunk:
            acc = fn.add_input(acc, e)
        parts.append(acc)
    assert fn.extract_output(fn.merge_accumulators(parts)) == expected


def test_representative_key_orders_full_article_then_article_then_teaser():
    full = make_story("u1", "short full article text here")
    cut = replace(make_story("u2", "a much longer article text that stops in the middle of"), truncated=True)
    teaser = make_story("u3", "an even longer teaser text than all of the others put together", kind=TEASER)
    longer_full = make_story("u4", "a longer full article text than the first one")
    ordered = sorted([teaser, cut, full, longer_full], key=representative_key)
    assert [s.uri for s in ordered] == ["u4", "u1", "u2", "u3"]
    twin = replace(longer_full, id="0" * 32)
    assert min([longer_full, twin], key=representative_key).id == "0" * 32


def test_choose_representatives_keeps_full_article_and_explains_each_drop():
    members = [sketch(s) for s in (TEASER_A, NEAR_COPY, CURLY_COPY, ARTICLE_A)]
    rep = min([TEASER_A, NEAR_COPY, CURLY_COPY, ARTICLE_A], key=representative_key)
    decisions = {d.id: d for d in choose_representatives(members, CONFIG)}
    cid = cluster_id(rep.id)
    assert {d.cluster for d in decisions.values()} == {cid}
    assert decisions[rep.id] == Decision(rep.id, cid)
    assert decisions[TEASER_A.id].duplicate_of == rep.id
    assert decisions[TEASER_A.id].reason == CONTAINED
    assert decisions[NEAR_COPY.id].reason == NEAR
    others = {ARTICLE_A.id, CURLY_COPY.id} - {rep.id}
    assert [decisions[i].reason for i in others] == [EXACT]
    # input order does not matter
    shuffled = list(reversed(members))
    assert {d.id: d for d in choose_representatives(shuffled, CONFIG)} == decisions


def test_member_linked_only_through_another_member_gets_that_relation():
    # the teaser is contained in the near copy; the "rep" is an article far from the teaser
    teaser = sketch(TEASER_A)
    near = sketch(NEAR_COPY)
    far_rep = replace(sketch(FOOTBALL_B), rank=(0, -(10**6), "0"))
    decisions = {d.id: d for d in choose_representatives([teaser, near, far_rep], CONFIG)}
    assert decisions[TEASER_A.id].duplicate_of == far_rep.id
    assert decisions[TEASER_A.id].reason == CONTAINED
    assert decisions[TEASER_A.id].similarity == classify_pair(teaser, near, CONFIG).similarity >= 0.8


def test_cluster_id_is_stable_and_short():
    assert cluster_id("abc") == cluster_id("abc") == "c-a9993e364706816aba3e2571"
    assert cluster_id("abd") != cluster_id("abc")


def test_apply_decision_builds_a_new_story():
    d = Decision(ARTICLE_A.id, "c-x", "other", NEAR, 0.9)
    out = apply_decision(ARTICLE_A, d)
    assert (out.cluster, out.duplicate_of, out.dedup_reason, out.similarity) == ("c-x", "other", NEAR, 0.9)
    assert ARTICLE_A.cluster is None
    with pytest.raises(FrozenInstanceError):
        ARTICLE_A.cluster = "c-y"  # type: ignore[misc]


# ------------------------------------------------------------------ the whole transform


def test_deduplicate_pipeline_clusters_copies_and_keeps_unrelated_apart():
    stories = [ARTICLE_A, EXACT_COPY, NEAR_COPY, TEASER_A, FOOTBALL_B, PHONES_C]
    assert EXACT_COPY.text == ARTICLE_A.text
    rep = min(ARTICLE_A.id, EXACT_COPY.id)  # equal text and kind: the smaller id is kept
    cid = cluster_id(rep)
    expected = [
        (ARTICLE_A.id, cid, None if rep == ARTICLE_A.id else rep, None if rep == ARTICLE_A.id else EXACT),
        (EXACT_COPY.id, cid, None if rep == EXACT_COPY.id else rep, None if rep == EXACT_COPY.id else EXACT),
        (NEAR_COPY.id, cid, rep, NEAR),
        (TEASER_A.id, cid, rep, CONTAINED),
        (FOOTBALL_B.id, cluster_id(FOOTBALL_B.id), None, None),
        (PHONES_C.id, cluster_id(PHONES_C.id), None, None),
    ]
    shuffled = list(stories)
    random.Random(3).shuffle(shuffled)
    p = offline_test_pipeline()
    out = p | beam.Create(shuffled) | Deduplicate(CONFIG)
    assert_that(
        out | "Fields" >> beam.Map(lambda s: (s.id, s.cluster, s.duplicate_of, s.dedup_reason)),
        equal_to(expected),
    )
    assert_that(
        out | "Similarities" >> beam.Map(lambda s: (s.id, s.similarity is None or s.similarity >= 0.8)),
        equal_to([(s.id, True) for s in stories]),
        label="CheckSimilarity",
    )
    assert_that(
        out | "Texts" >> beam.Map(lambda s: (s.id, s.text)),
        equal_to([(s.id, s.text) for s in stories]),
        label="CheckTextsUntouched",
    )
    result = p.run()
    result.wait_until_finish()

    def total(name: str) -> int:
        found = result.metrics().query(MetricsFilter().with_namespace(counters.NAMESPACE).with_name(name))
        return sum(c.committed for c in found["counters"])

    assert total(counters.KEPT) == 3
    assert total(counters.DROPPED) == 3
    assert total(counters.EXACT_DUPLICATES) == 1
    assert total(counters.NEAR_DUPLICATES) == 1
    assert total(counters.CONTAINED_DUPLICATES) == 1
    assert total(counters.VERIFIED_PAIRS) >= 2
    assert total(counters.CANDIDATE_PAIRS) >= total(counters.VERIFIED_PAIRS)
    assert total(counters.OVERSIZED_BUCKETS) == 0
    sizes = result.metrics().query(
        MetricsFilter().with_namespace(counters.NAMESPACE).with_name(counters.CLUSTER_SIZE)
    )["distributions"]
    assert sum(d.committed.count for d in sizes) == 3
    assert max(d.committed.max for d in sizes) == 4


def test_deduplicate_handles_empty_input(test_pipeline):
    with test_pipeline as p:
        out = p | beam.Create([], reshuffle=False).with_output_types(Story) | Deduplicate(CONFIG)
        assert_that(out, equal_to([]))
