"""SplitStories: each boundary cue, places where no cue may fire, and the Beam stage."""

from __future__ import annotations

from apache_beam.testing.util import assert_that, equal_to

from tests.conftest import SAMPLES, offline_test_pipeline
from transforms.records import Dump, Rejected, StoryDraft
from transforms.split_stories import (
    CUE_BYLINE,
    CUE_KICKER,
    CUE_TITLE,
    CUE_TOPIC,
    CUE_TRUNCATION,
    ROLE_TITLE,
    SplitConfig,
    SplitStories,
    continues_sentence,
    drafts_from_split,
    find_titles,
    is_truncated_prose,
    leaves_list,
    list_markers,
    restates,
    run_in_heading,
    split_text,
    stops_visibly,
    text_lines,
)
from transforms.topic_shift import continues_article

NK = (
    "A top North Korean nuclear envoy is set to visit the US next month for rare bilateral talks, "
    "a news report said yesterday, as diplomats pushed to revive negotiations."
)
NK2 = "North Korea wants sanctions eased and a peace treaty with the US before it returns to talks."
TEASER = (
    "BACKLASH: The National Party quit its partnership after the election loss Australia’s "
    "National Party has split from its conservative coalition partner of more than 60 years, "
    "citing policy differences over renewable energy and after a resounding loss at"
)
LEDE = (
    "A documentary whose main subject was killed in an airstrike weeks before it premiered at "
    "Cannes stunned viewers into silence at the festival on Thursday as the lights came"
)


def story_texts(text: str, config: SplitConfig = SplitConfig()) -> list[str]:
    result = split_text(text, config)
    lines = result.lines
    return [text[lines[s[0]].start : lines[s[-1]].end] for s in result.stories]


def test_text_lines_offsets_and_blank_lines() -> None:
    text = "  First line  \r\n\r\nSecond\nThird\n"
    lines = text_lines(text)
    assert [(ln.text, text[ln.start : ln.end], ln.blank_before) for ln in lines] == [
        ("First line", "First line", False),
        ("Second", "Second", True),
        ("Third", "Third", False),
    ]


def test_kicker_lines_are_stories_of_their_own() -> None:
    text = "\n".join([NK, NK2, TEASER, TEASER.replace("BACKLASH", "FALLOUT")])
    result = split_text(text)
    assert len(result.stories) == 3
    assert result.cues[1:] == (CUE_KICKER, CUE_KICKER)


def test_truncated_line_ends_a_story() -> None:
    text = "\n".join([LEDE, NK, NK2])
    assert story_texts(text) == [LEDE, NK + "\n" + NK2]
    assert split_text(text).cues[1] == CUE_TRUNCATION


def test_short_unpunctuated_line_inside_an_article_does_not_split() -> None:
    text = "\n".join([NK, "Venue: Griffin Park", NK2])
    assert len(split_text(text).stories) == 1


def test_title_opens_a_story_and_byline_stays_under_it() -> None:
    text = "\n".join(
        [
            NK,
            NK2,
            "Sanctions deal for Korean talks",
            "By Jane Smith, BBC News",
            NK2.replace("before", "after"),
        ]
    )
    result = split_text(text)
    assert len(result.stories) == 2
    assert result.cues[1] == CUE_TITLE
    second = result.stories[1]
    assert result.lines[second[0]].role == ROLE_TITLE
    assert [result.lines[i].role for i in second] == [ROLE_TITLE, "byline", "paragraph"]


def test_a_headline_with_a_kickers_label_over_its_article_is_its_title() -> None:
    """'BREAKING: <headline>' over a dateline (or a lede restating it) is the article's headline;
    the same label over a paragraph it does not name stays a teaser of its own."""
    headline = "BREAKING: Wembley firm won't make a profit"
    lede = (
        "Shares in Multiplex Group, which is building the new Wembley stadium, fell as much as 19% "
        "after the firm said it would not make a profit on the project."
    )
    for under in (["LONDON, May 22 (Reuters) -", lede], [lede]):
        result = split_text("\n".join([NK, NK2, headline, *under]))
        assert len(result.stories) == 2 and result.cues[1] == CUE_TITLE
        assert result.lines[result.stories[1][0]].role == ROLE_TITLE
    # at the top of the record, a content word shared with the paragraphs under it is enough
    top = split_text("\n".join(["EXCLUSIVE: Envoy plans surprise trip to Washington", NK, NK2]))
    assert top.cues[0] == CUE_TITLE and len(top.stories) == 1
    short_teaser = "WATCH: Firefighters rescue dog from frozen lake in the park"
    result = split_text("\n".join([short_teaser, NK, NK2]))
    assert result.cues[0] == CUE_KICKER and len(result.stories) == 2


def test_byline_without_title_opens_a_story() -> None:
    text = "\n".join([NK, "By Jane Smith", NK2])
    result = split_text(text)
    assert len(result.stories) == 2 and result.cues[1] == CUE_BYLINE


def test_boilerplate_lines_are_set_aside_not_lost() -> None:
    text = "\n".join(["Advertisement", NK, "Share this article", NK2])
    dump = Dump("mem://x.txt", 0, text)
    items = list(drafts_from_split(dump, split_text(text)))
    drafts = [i for i in items if isinstance(i, StoryDraft)]
    rejected = [i for i in items if isinstance(i, Rejected)]
    assert [r.text for r in rejected] == ["Advertisement", "Share this article"]
    assert all(r.kind == "boilerplate" and r.stage == "split" for r in rejected)
    assert len(drafts) == 1
    assert drafts[0].text == NK + "\nShare this article\n" + NK2  # inner boilerplate stays in the span


def test_a_colon_in_a_quote_is_not_a_kicker() -> None:
    text = "\n".join([NK, "“The choice was simple: we had to act,” she said on Monday afternoon.", NK2])
    assert len(split_text(text).stories) == 1


def test_one_line_article_with_title() -> None:
    text = "Footbridge reopens after repairs\nThe footbridge over the river reopened on Monday after repairs."
    result = split_text(text)
    assert len(result.stories) == 1 and result.lines[result.stories[0][0]].role == ROLE_TITLE


def test_topic_shift_separates_unrelated_articles() -> None:
    text = (SAMPLES / "two-articles.txt").read_text(encoding="utf-8")
    result = split_text(text)
    assert len(result.stories) == 2
    assert result.cues[1] in (CUE_TOPIC, CUE_BYLINE, "after-credit")
    assert (
        split_text(text, SplitConfig(use_topic_shift=False)).stories != result.stories
        or result.cues[1] != CUE_TOPIC
    )


def test_seed_page_gives_five_stories() -> None:
    text = (SAMPLES / "page-00000.txt").read_text(encoding="utf-8")
    spans = [(text_lines_span(text, s)) for s in split_text(text).stories]
    assert spans == [(0, 3435), (3436, 4292), (4293, 5094), (5095, 5861), (5862, 6468)]


def text_lines_span(text: str, story: tuple[int, ...]) -> tuple[int, int]:
    lines = text_lines(text)
    return lines[story[0]].start, lines[story[-1]].end


def test_split_stories_stage() -> None:
    text = "\n".join(["Most read", NK, NK2, TEASER])
    with offline_test_pipeline() as p:
        from apache_beam import Create

        drafts, rejected = p | Create([Dump("mem://a.txt", 0, text)]) | SplitStories()
        assert_that(
            drafts | "Spans" >> __import__("apache_beam").Map(lambda d: (d.start, d.end, d.cue)),
            equal_to(
                [
                    (10, 10 + len(NK) + 1 + len(NK2), "start"),
                    (11 + len(NK) + 1 + len(NK2), len(text), CUE_KICKER),
                ]
            ),
            label="drafts",
        )
        assert_that(
            rejected | "Reasons" >> __import__("apache_beam").Map(lambda r: (r.reason, r.text, r.start)),
            equal_to([("boilerplate", "Most read", 0)]),
            label="rejected",
        )


def test_an_exception_becomes_a_rejected_record_with_the_whole_dump(monkeypatch) -> None:
    import apache_beam as beam

    import transforms.split_stories as split_module

    real = split_module.split_text

    def flaky(text, *args, **kwargs):
        if "poison" in text:
            raise RuntimeError("splitter bug")
        return real(text, *args, **kwargs)

    monkeypatch.setattr(split_module, "split_text", flaky)
    good = Dump("mem://good.txt", 0, NK)
    bad = Dump("mem://bad.txt", 0, "poison pill text")
    with offline_test_pipeline() as p:
        drafts, rejected = p | beam.Create([good, bad]) | SplitStories()
        assert_that(
            drafts | "Uris" >> beam.Map(lambda d: d.uri), equal_to(["mem://good.txt"]), label="drafts"
        )
        assert_that(
            rejected
            | "Why"
            >> beam.Map(
                lambda r: (r.stage, r.reason, r.uri, r.text, r.start, r.end, "splitter bug" in r.detail)
            ),
            equal_to([("split", "exception", "mem://bad.txt", "poison pill text", 0, 16, True)]),
            label="rejected",
        )


def test_a_lower_case_line_continues_the_sentence_above() -> None:
    cut = "There was a third success for Britain in the sprint events on Saturday evening when"
    text = "\n".join(
        [NK, cut, "edged out Russia's runner to win the women's 60m hurdles in a new record time."]
    )
    assert len(split_text(text).stories) == 1


def test_a_line_opening_on_a_mark_no_sentence_opens_with_continues_the_line_above() -> None:
    """Scraped text loses a linked name and breaks the line there (bench dev batch-00)."""
    cut = "Slovakia's Dominik Hrbaty beat Thomas Johansson in five sets. Hrbaty will now play 2002 champion"
    for rest in (
        ", who outlasted American Kevin Kim 3-6 6-2 6-7 6-2 6-2.",
        "’s conqueror in the fourth round.",
    ):
        assert len(split_text("\n".join([NK, cut, rest])).stories) == 1
    assert [
        continues_sentence(t) for t in (": C Paterson; S Webster", ". The Welsh runner", ".NET 2.0 ships")
    ] == [
        True,
        True,
        False,
    ]


# A long paragraph that introduces a list, the list, and the rest of the same article.
BAN_TITLE = "Government unveils smoking ban plan"
BAN_LEDE = (
    "The government has unveiled plans to ban smoking in most enclosed public places in England "
    "by the end of 2008, in a move health campaigners said did not go far enough."
)
BAN_LIST_INTRO = (
    "Health Secretary John Reid said the proposals, which will be considered by parliament before "
    "Christmas, would protect workers from second-hand smoke. Main points of the smoking ban plan:"
)
BAN_LIST = [
    "- A ban on smoking in all enclosed public places and workplaces",
    "- Pubs that do not serve food to be exempt from the ban",
    "- Smoking in the bar area of restaurants to be banned",
]
BAN_CLOSE = (
    "Campaigners said the exemptions from the smoking ban would leave thousands of bar workers "
    "exposed, and that the poorest areas, where fewer pubs serve food, would gain least."
)
BAN_ARTICLE = "\n".join([BAN_TITLE, BAN_LEDE, BAN_LIST_INTRO, *BAN_LIST, BAN_CLOSE])
NO_TOPIC = SplitConfig(use_topic_shift=False)


def test_a_line_ending_in_a_colon_introduces_what_follows_and_does_not_end_the_story() -> None:
    assert not is_truncated_prose(BAN_LIST_INTRO)
    assert len(split_text(BAN_ARTICLE, NO_TOPIC).stories) == 1
    assert len(split_text(BAN_ARTICLE).stories) == 1
    said = "The minister told reporters outside parliament on Tuesday afternoon what she wanted:"
    text = "\n".join([NK, said, "“We will not accept a deal that leaves the sanctions in place,” she said."])
    assert len(split_text(text, NO_TOPIC).stories) == 1


def test_a_run_in_heading_after_a_finished_sentence_does_not_end_the_story() -> None:
    heading = NK2[:-1] + " and with the aid it was promised. THE NEXT ROUND OF TALKS"
    assert run_in_heading(heading) == "THE NEXT ROUND OF TALKS"
    assert not is_truncated_prose(heading)
    text = "\n".join([NK, heading, "The envoy will meet officials in Washington for three days of talks."])
    assert len(split_text(text, NO_TOPIC).stories) == 1


def test_a_lede_cut_mid_sentence_still_ends_its_story() -> None:
    # Lower case after the last full stop, a single capitalised word, or no sentence end at
    # all: the line stops inside prose, and the next line opens a new story.
    for cut in (
        NK + " The envoy said the first meeting would",
        NK + " The envoy would first meet officials from the UN",
        NK + " Talks at the UN are set for March. OFFICIALS",
        "A top North Korean nuclear envoy is set to visit the US next month for rare bilateral talks with",
    ):
        assert run_in_heading(cut) is None and is_truncated_prose(cut), cut
        result = split_text("\n".join([cut, NK2]), NO_TOPIC)
        assert result.cues == ("start", CUE_TRUNCATION), cut


def test_an_article_with_a_list_stays_whole_so_its_teaser_is_dropped_into_its_cluster() -> None:
    """Split + parse + dedup: the article cut in two at its list once left the teaser a
    duplicate of the truncated first half, and the full article in no cluster with it."""
    import apache_beam as beam

    from transforms.deduplicate import Deduplicate
    from transforms.parse_teasers import ParseTeasers

    teaser = "HEALTH: " + BAN_LEDE + " " + BAN_LIST_INTRO.split(" would ")[0]
    dumps = [Dump("mem://a.txt", 0, BAN_ARTICLE), Dump("mem://b.txt", 0, teaser)]
    with offline_test_pipeline() as p:
        drafts, _ = p | beam.Create(dumps) | SplitStories()
        stories, _ = drafts | ParseTeasers()
        out = (stories | Deduplicate()).stories

        def check(found):
            assert sorted(s.uri for s in found) == ["mem://a.txt", "mem://b.txt"]  # the article is one story
            article, teaser_story = sorted(found, key=lambda s: s.uri)
            assert (article.start, article.end, article.kind, article.truncated) == (
                0,
                len(BAN_ARTICLE),
                "article",
                False,
            )
            assert article.duplicate_of is None
            assert teaser_story.kind == "teaser"
            assert (teaser_story.duplicate_of, teaser_story.cluster) == (article.id, article.cluster)

        assert_that(out, check)


def test_a_memo_kept_from_dump_to_dump_changes_no_split() -> None:
    from transforms.topic_shift import FeatureMemo

    texts = [(SAMPLES / name).read_text(encoding="utf-8") for name in ("two-articles.txt", "page-00000.txt")]
    texts += [texts[0], "\n".join(reversed(texts[1].splitlines())), texts[1]]  # repeats, and a reshuffle
    memo = FeatureMemo(max_paragraph_chars=3000)  # small: entries are dropped and worked out again
    for text in texts:
        with_memo, without = split_text(text, memo=memo), split_text(text)
        assert (with_memo.stories, with_memo.cues, with_memo.scores) == (
            without.stories,
            without.cues,
            without.scores,
        )


# An article ending in a fixture list, then the next article: its headline and its lede.
CUP_ARTICLE = [
    "Cup draw sets up derby",
    "Holders Chelsea were drawn at home to Birmingham in the fourth round of the FA Cup on Monday, "
    "while Southampton face a reunion with their old rivals Portsmouth.",
    "Chelsea v Birmingham",
    "West Ham v Sheff Utd",
    "Southampton v Portsmouth",
    "Charlton v Yeovil",
]
BRIDGE_TITLE = "Bridge could miss rest of season"
BRIDGE_LEDE = (
    "Chelsea left-back Wayne Bridge could miss the rest of the season with a suspected broken ankle."
)
BRIDGE_MORE = (
    "The England international was hurt in a challenge with Alan Shearer during the defeat at Newcastle."
)


def test_a_headline_after_a_list_it_does_not_fit_opens_a_story() -> None:
    """The fixtures all carry "v", the headline does not, and the lede restates it."""
    text = "\n".join([*CUP_ARTICLE, BRIDGE_TITLE, BRIDGE_LEDE, BRIDGE_MORE])
    result = split_text(text, NO_TOPIC)
    assert result.cues == ("title", CUE_TITLE)
    assert story_texts(text, NO_TOPIC)[1].startswith(BRIDGE_TITLE)
    # A bulleted list, a numbered table: the same.
    bullets = ["- Tax cuts for low earners", "- New money for schools", "- A freeze on fuel duty"]
    ranking = ["27 Anna Smashnova (Israel)", "28 Shinobu Asagoe (Japan)", "29 Gisela Dulko (Argentina)"]
    for items in (bullets, ranking):
        text = "\n".join([NK, *items, BRIDGE_TITLE, BRIDGE_LEDE, BRIDGE_MORE])
        assert split_text(text, NO_TOPIC).cues == ("start", CUE_TITLE), items


def test_a_list_item_that_looks_like_a_headline_stays_in_its_list() -> None:
    more = "Chelsea beat Birmingham 2-0 in the league in October and Portsmouth lost at Southampton."
    # The last fixture carries the list's "v": an item, though the paragraph under it names both teams.
    text = "\n".join([*CUP_ARTICLE, more])
    assert len(split_text(text, NO_TOPIC).stories) == 1
    # A line the list already held is an item, though it has no "v".
    final = "Winners meet in final match"
    fixtures = [
        "Mozambique v Zimbabwe",
        "Namibia v Botswana",
        final,
        "Lesotho v Malawi",
        "Zambia v Swaziland",
    ]
    lede = "The winners of both groups will then meet in a final match in Windhoek the next day."
    text = "\n".join([NK, *fixtures, final, lede])
    assert len(split_text(text, NO_TOPIC).stories) == 1
    # Plain phrases share no token: nothing shows where such a list ends.
    points = ["Tax cuts for low earners", "More money for schools", "Fuel duty frozen for a year"]
    lede = "The tax cuts for low earners will cost the Treasury about £2bn a year, officials said."
    text = "\n".join([NK, *points, "Help for first-time buyers", lede])
    assert len(split_text(text, NO_TOPIC).stories) == 1
    # Two lines are too few to show a list's shape.
    text = "\n".join([NK, "Chelsea v Birmingham", "West Ham v Sheff Utd", BRIDGE_TITLE, BRIDGE_LEDE])
    assert len(split_text(text, NO_TOPIC).stories) == 1


def test_after_a_list_the_paragraph_under_a_headline_must_restate_it() -> None:
    # One of the line's three content words ("season") in the paragraph under it: not a lede.
    weak = "Chelsea said their new training ground would not open before the end of the season."
    assert not restates(weak, BRIDGE_TITLE)
    text = "\n".join([*CUP_ARTICLE, BRIDGE_TITLE, weak])
    assert len(split_text(text, NO_TOPIC).stories) == 1
    # The same two lines after a finished sentence: one shared word is enough there.
    assert len(split_text("\n".join([NK, BRIDGE_TITLE, weak]), NO_TOPIC).stories) == 2


def test_leaves_list_and_restates() -> None:
    fixtures = ["Chelsea v Birmingham", "West Ham v Sheff Utd", "Charlton v Yeovil"]
    assert list_markers(fixtures) == frozenset({"v"})
    assert list_markers(["Arsenal 2-1 Chelsea", "Spurs 0-0 Everton", "Leeds 3-2 Hull"]) >= {"0", "-"}
    assert leaves_list(fixtures, BRIDGE_TITLE)
    assert not leaves_list(fixtures, "Newcastle v Coventry")
    assert not leaves_list(fixtures[:2], BRIDGE_TITLE)  # too few items
    assert not leaves_list(["Tax cuts", "More money for schools", "Fuel duty frozen"], BRIDGE_TITLE)
    assert not leaves_list([*fixtures, "Winners meet in final match"], "Winners  meet in final match")
    assert restates(BRIDGE_LEDE, BRIDGE_TITLE)
    assert restates("The BBC is to invest £9m in new comedy shows.", "BBC to pour £9m into new comedy")
    assert not restates(BRIDGE_MORE, BRIDGE_TITLE)
    assert not restates(BRIDGE_LEDE, "2-1")  # no content word to restate


def test_find_titles_after_a_list_looks_at_a_bounded_number_of_items() -> None:
    # A very long list: the title test reads only its last items (and stays linear).
    lines = text_lines(
        "\n".join([NK, *[f"Team {i} v Team {i + 1}" for i in range(5000)], BRIDGE_TITLE, BRIDGE_LEDE])
    )
    assert find_titles(lines) == {5001}


# Two BBC articles back to back (bench dev page 15, shortened): the second headline shares no
# word with its lede, so only the topic shift finds the boundary.
DEBT = (
    "Indonesia 'declines debt freeze'\n\n"
    "Indonesia no longer needs the debt freeze offered by the Paris Club group of creditors, "
    "Economics Minister Aburizal Bakrie has reportedly said.\n\n"
    "Indonesia, which originally accepted the debt moratorium offer, owes the Paris Club about $48bn "
    "(£25.5bn). Mr Bakrie told the Bisnis Indonesia newspaper that a $1.7bn donors' aid package meant "
    "that the debt moratorium was unnecessary. This aid comes on top of a previously-pledged $3.4bn "
    "package. Most of this 'normal aid' would be used to finance the country's budget deficit.\n\n"
    "The 19 member countries of the Paris Club are owed about $5bn this year in debt repayments by "
    "nations affected by the Indian Ocean tsunami. Indonesia, Sri Lanka and the Seychelles accepted "
    "the Paris Club offer, which was criticised by some aid groups as being too little.\n\n"
)
CODE = (
    "Be careful how you code\n\n"
    "A new European directive could put software writers at risk of legal action, warns former "
    "programmer and technology analyst Bill Thompson.\n\n"
    "If it gets its way, the Dutch government will conclude its presidency of the European Union by "
    "pushing through a controversial measure that has been rejected by the European Parliament. "
    "Sadly for those who will be directly affected, the controversy concerns the patenting of "
    "computer programs, a topic that may excite the bloggers, campaigning groups and technical press.\n"
)


def test_a_headline_where_the_topic_shifts_is_the_title_of_the_story_it_opens() -> None:
    result = split_text(DEBT + CODE)
    assert result.cues == (CUE_TITLE, CUE_TOPIC)
    opening = result.lines[result.stories[1][0]]
    assert (opening.text, opening.role) == ("Be careful how you code", ROLE_TITLE)


def test_the_line_under_a_dateline_is_body_text_not_a_headline() -> None:
    """(bench dev page 397) "Result: ..." is shaped like a headline and restated by the next
    paragraph, but the dateline above it opens the body of the story headed "Nadal puts ..."."""
    text = (
        "Nadal puts Spain 2-0 up\nWASHINGTON, July 23 (Reuters) -\n"
        "Result: Nadal 6-7 (6/8) 6-2 7-6 (8/6) 6-2 Roddick\n"
        "Spain's Rafael Nadal beats Andy Roddick of the USA in the second singles match rubber of the "
        "2004 Davis Cup final in Seville.\n"
    )
    result = split_text(text)
    assert [ln.role for ln in result.lines] == [ROLE_TITLE, "dateline", "paragraph", "paragraph"]
    assert result.stories == ((0, 1, 2, 3),)


def test_a_bylined_headline_may_end_on_a_particle_a_cut_off_lede_may_not_pass_for_one() -> None:
    blair = "Tony Blair says he will face the issue of trust and his own integrity head on in the campaign."
    headline = split_text(f"Blair to face trust issue head on\nBy Paul Walker\n{blair}\n")
    assert [ln.role for ln in headline.lines] == [ROLE_TITLE, "byline", "paragraph"]
    # a lede cut off on "on", then the byline of another story: it shares no word with that story
    cut = "Ministers were told to press on"
    other = split_text(f"{NK}\n{cut}\nBy Paul Walker\n{blair}\n")
    assert [ln.role for ln in other.lines] == ["paragraph", "paragraph", "byline", "paragraph"]


# A BBC article whose lede lost its full stop (the 12,000-page bench crawl, shortened).
TRADE = (
    "US trade gap ballooned in October\n"
    "The US trade deficit widened by more than expected in October, hitting record levels after "
    "higher oil prices raised import costs, figures have shown\n"
    "The trade shortfall was $55.5bn (£29bn), up 9% from September, the Commerce Department said. "
    "That pushed the 10 month deficit to $500.5bn. Imports rose by 3.4%, while exports increased by "
    "only 0.6%. A weaker dollar also increased the cost of imports, though this should help drive "
    "export demand in coming months.\n"
    "Despite this optimism, significant concerns remain as to how the US will fund its trade and "
    "budget deficits should they continue to widen. The US imported almost $20bn worth of goods from "
    "China during October, exporting a little under $3bn.\n"
)


RUGBY = (
    "Bath prop Duncan Bell has been added to the thirty-man England squad to face Ireland in the Six "
    "Nations after injuries to two senior forwards left the coaches short of cover in the front row.\n"
    "Phil Vickery is sidelined for at least six weeks with a broken arm and Julian White is out with a "
    "neck injury, so Bell could make his debut in Dublin on Sunday afternoon.\n"
)


def test_stops_visibly() -> None:
    assert stops_visibly("after a resounding loss at")
    assert stops_visibly("the talks went on and on...")
    assert not stops_visibly("higher oil prices raised import costs, figures have shown")


def test_a_paragraph_that_lost_its_full_stop_stays_with_its_article() -> None:
    """Only a cut that shows (a function word, an ellipsis) ends a story at once; after a
    paragraph stopping on a content word the topic model decides, leaning towards a cut."""
    result = split_text(TRADE)
    assert len(result.stories) == 1
    assert result.lines[0].role == ROLE_TITLE
    # the same unfinished lede before another article's text is cut there
    result = split_text(TRADE.split("\n")[1] + "\n" + RUGBY)
    assert result.cues == ("start", CUE_TRUNCATION)
    # and without the topic model every such line still ends its story
    assert len(split_text(TRADE, SplitConfig(use_topic_shift=False)).stories) == 2


def test_continues_article_reads_the_next_paragraph_against_an_even_prior() -> None:
    paras = [ln for ln in TRADE.split("\n")[1:] if ln]
    assert continues_article([*paras[:2], RUGBY.split("\n")[0]], [1, 2]) == [True, False]


def test_a_headline_under_a_paragraph_ending_in_a_run_in_subheading_is_a_title() -> None:
    """Finished prose with a section heading glued to its end is no list item: the headline
    under it is judged as after any paragraph (bench set-12000, page 1342)."""
    lines = text_lines(
        "Following in the footsteps of Far Cry, this looks like the key upcoming PC shooter of the "
        "year. Released 1 March on PC. METAL GEAR SOLID: SNAKE EATER\n"
        "Dunne keen to commit to Man City\n"
        "Richard Dunne is ready to commit his long-term future to Manchester City after turning his "
        "career around.\n"
    )
    assert find_titles(lines) == {1}
