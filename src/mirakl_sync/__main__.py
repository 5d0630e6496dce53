"""``python -m mirakl_sync``: the ``mirakl-sync`` command."""

from mirakl_sync.cli import main

raise SystemExit(main())
