"""The words of a query that keyword search should match on."""

from __future__ import annotations

# Function words that every chunk contains: matching on them costs a scan of the whole
# index and adds nothing to BM25's ranking. Numbers, tickers and codes are never dropped.
_STOPWORD_TEXT = """
a about above after again against all am an and any are as at be because been before being below
between both but by can could did do does doing down during each few for from further had has have
having he her here hers him his how i if in into is it its itself just me more most my no nor not
now of off on once only or other our ours out over own same she should so some such than that the
their theirs them then there these they this those through to too under until up very was we were
what when where which while who whom why will with would you your yours
"""
STOPWORDS = frozenset(_STOPWORD_TEXT.split())


def keyword_terms(query: str) -> list[str]:
    """Whitespace-separated terms without stopwords; all terms if only stopwords are left."""
    terms = [term for term in query.split() if term.strip("\"'?!.,;:()")]
    kept = [term for term in terms if term.strip("\"'?!.,;:()").lower() not in STOPWORDS]
    return kept or terms
