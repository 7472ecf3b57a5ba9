"""``python -m alex`` runs the command line."""

from alex.cli import main

main()
