"""``python -m triage.cli``: the same as the ``triage`` console script."""

from triage.cli import main

main()
