"""The planner: agents that explain a portfolio, every number checked against the code's figures."""
