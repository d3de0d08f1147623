"""``python -m cpmkit ...``: the same command line as the ``cpmkit`` script."""

from cpmkit.cli import main

raise SystemExit(main())
