"""The planner (issue 14): agents that explain a portfolio, every number checked against the
code's figures (``docs/planner.md``)."""
