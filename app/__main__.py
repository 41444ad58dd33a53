"""``python -m app`` is the ``chanjiao`` command."""

from app.cli import main

main()
