"""`python -m slaengine`."""

from .cli import main

main()
