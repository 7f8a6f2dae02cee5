"""Beam stages of storysift, one module per stage, in pipeline order.

read_dumps -> split_stories -> parse_teasers -> deduplicate -> write_corpus.
Each module keeps its text logic in plain typed functions (no Beam import needed to
test them) and wraps them in one composite PTransform.
"""
