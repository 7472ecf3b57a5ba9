"""Portfolios: accounts, transactions, holdings, prices, analytics, risk checks, projection.

Pure domain and analytics here; I/O only through ports (docs/portfolio.md)."""
