"""Test support shared by the tests and, for its harness and data, by bench/ (bench imports
from here; nothing under tests/ imports bench)."""
