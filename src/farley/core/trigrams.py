"""Which trigram of a search term is rarest in the search index (SQLite).

FTS5 evaluates a phrase such as "schmidt" by walking the document lists of all its trigrams,
"sch" among them, which is in a third of all documents. That is cheap while it can stop after
the first matches, but a restricted user's search must intersect the matches with the access
tokens (:mod:`farley.core.search_access`) and walks them all, and so does every search for a
word that is not there: at 1,000,000 contacts 3.7 ms for "schmidt" as a sales user, 1.0 ms
for its two rarest trigrams "idt" and "hmi"; 2.5 ms for "weber" (no match) as an
administrator, 0.6 ms for "web" and "ebe". Search therefore asks the index for the two
rarest trigrams of each term and checks the whole term on the few documents found
(:func:`farley.core.search._matching`).

How rare a trigram is comes from a sample of the documents, kept per process for a while; a
trigram the sample never saw counts as the rarest. The choice only changes speed, never the
results.
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter

from farley.core.models import SearchDocument

SAMPLE = 2000  # documents read for the estimate
MAX_AGE = 3600.0  # seconds before the sample is taken again
CROWDED = 10_000  # documents expected to hold the rarest trigrams at which a phrase is cheaper

_lock = threading.Lock()
_state: dict[str, object] = {"counts": None, "taken": 0.0, "sampled": 0, "total": 0}


def trigrams(term: str) -> list[str]:
    return [term[i : i + 3] for i in range(len(term) - 2)]


def rarest(term: str, count: int = 2) -> list[str]:
    """The ``count`` trigrams of ``term`` (three or more characters) in the fewest documents.
    Two, because one rare trigram alone still comes with many documents that lack the rest
    of the term (each of which is read to check it), and more cost the index more."""
    counts = _counts()
    candidates = sorted(set(trigrams(term)), key=lambda trigram: (counts.get(trigram, 0), trigram))
    return candidates[:count]


def crowded(term: str, count: int = 2) -> bool:
    """Whether the ``count`` rarest trigrams of ``term`` are all common, so that together they
    are expected in more than CROWDED documents: then most documents they find lack the term
    ("ric" and "ich" find every Heinrich and Friedrich when the term is "erich"), each is read
    to check it, and asking the index for the term as a phrase (its trigrams in a row) costs
    far less (at 1,000,000 contacts 0.8 ms instead of 18 ms for "erich"). For a term with a
    rare trigram the phrase costs more: the index walks the lists of all its trigrams."""
    counts = _counts()
    sampled, total = int(_state["sampled"]), int(_state["total"])  # type: ignore[call-overload]
    if not sampled:
        return False
    expected = float(total)
    for trigram in rarest(term, count):
        expected *= counts.get(trigram, 0) / sampled
    return expected > CROWDED


def forget() -> None:
    """Take a new sample on the next search (tests; a freshly loaded database)."""
    with _lock:
        _state["counts"] = None


def _counts() -> Counter:
    with _lock:
        counts = _state["counts"]
        if counts is None or time.monotonic() - float(_state["taken"]) > MAX_AGE:
            counts, sampled, total = _sample()
            _state.update(counts=counts, taken=time.monotonic(), sampled=sampled, total=total)
        return counts  # type: ignore[return-value]


def _sample() -> tuple[Counter, int, int]:
    """Document frequencies of the trigrams of up to SAMPLE documents picked at random by id
    (primary-key reads, not a scan), how many documents were read and about how many there
    are (the span of their ids)."""
    bounds = SearchDocument.objects.order_by("pk").values_list("pk", flat=True)
    first, last = bounds.first(), bounds.last()
    counts: Counter = Counter()
    if first is None:
        return counts, 0, 0
    picker = random.Random(last)
    ids = (
        range(first, last + 1)
        if last - first < SAMPLE
        else picker.sample(range(first, last + 1), SAMPLE)
    )
    sampled = 0
    for body in SearchDocument.objects.filter(pk__in=list(ids)).values_list("body", flat=True):
        counts.update({body[i : i + 3] for i in range(len(body) - 2)})
        sampled += 1
    return counts, sampled, last - first + 1
