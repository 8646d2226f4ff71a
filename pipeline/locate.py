"""Where a page lies in a transcript: an index of the transcript's rare words, built once, and a vote.

Each rare word the page shares with the transcript votes for an offset (transcript position - page
position); the best-supported offset, widened, is the region the page is aligned with. Nothing here
is quadratic over long text: a 1.5 M-character edition is indexed in one pass.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass

import numpy as np

from .apparatus import Transcript, words_of

RARE = 5  # a word seen at most this often in the transcript is an index key


def index_transcript(transcript: Transcript) -> Transcript:
    """Fill the transcript's word offsets and rare-word index (in place; returned for chaining)."""
    starts, words = words_of(transcript.reading.text)
    transcript.word_starts = np.array(starts, dtype=np.int32)
    counts = Counter(words)
    index: dict[str, list[int]] = defaultdict(list)
    for position, word in enumerate(words):
        if len(word) >= 4 and counts[word] <= RARE:
            index[word].append(position)
    transcript.index = dict(index)
    return transcript


@dataclass(frozen=True)
class Location:
    start: int  # reading offsets of the region in the transcript
    end: int
    votes: int
    words: int  # page words that could vote


def locate(page_words: list[str], transcript: Transcript, margin_words: int = 40) -> Location | None:
    """Where the page lies in the transcript: each rare word shared with it votes for an offset
    (transcript position - page position); the best-supported offset, widened, is the region."""
    votes: Counter[int] = Counter()
    voters = 0
    bucket = 16
    for position, word in enumerate(page_words):
        hits = transcript.index.get(word)
        if not hits:
            continue
        voters += 1
        for hit in hits:
            votes[(hit - position) // bucket] += 1
    if not votes:
        return None
    best, count = votes.most_common(1)[0]
    count += votes.get(best - 1, 0) + votes.get(best + 1, 0)
    needed = max(3, int(0.1 * voters))
    if count < needed:
        return None
    first = max(0, (best - 1) * bucket - margin_words)
    starts = transcript.word_starts
    last = min(len(starts), (best + 2) * bucket + len(page_words) + margin_words)
    start = int(starts[first]) if first < len(starts) else len(transcript.reading.text)
    end = int(starts[last]) if last < len(starts) else len(transcript.reading.text)
    return Location(start, end, count, voters)
