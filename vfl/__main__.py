"""``python -m vfl`` runs the CLI."""

from vfl.cli.app import main

main()
