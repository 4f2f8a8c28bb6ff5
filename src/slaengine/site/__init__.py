"""The published agreement: a pure renderer of Markdown pages from the agreement, their
templates, and the MkDocs build that turns them into the site."""
