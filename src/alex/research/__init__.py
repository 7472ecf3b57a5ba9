"""The researcher agent: finds, reads and analyses pages about a company."""
