"""MkDocs hooks of the published agreement, named in mkdocs.yml (`hooks:`); the code is in
`slaengine.site.build`, so it is typed and tested with the rest."""

from slaengine.site.build import on_config

__all__ = ["on_config"]
