"""Alex, the Agentic Lifetime Equities Explainer: a personal financial knowledge base."""

__version__ = "0.1.0"
