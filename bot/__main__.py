"""``python -m bot`` is ``itbot``."""

from bot.cli import main

raise SystemExit(main())
