"""`python -m mmreason.cli` == `mmreason`."""

from . import main

main()
