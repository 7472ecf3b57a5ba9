"""Adapters: local and AWS implementations of the ports in ``alex.ports``."""
