"""The planner (issue 14): agents that explain a portfolio, every number checked by code."""
