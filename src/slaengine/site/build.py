"""`slaengine site build|serve`: the agreement's pages written into the MkDocs folder, then MkDocs.

This is the I/O edge of the published agreement: `slaengine.site.renderer` turns an agreement into
pages; this module writes them into `<docs_dir>/agreement/` (and only there), runs MkDocs,
and during `serve` re-renders whenever a file of the agreement folder changes, which MkDocs
then notices like any edited page. It also holds the MkDocs `on_config` hook that builds the
navigation from the rendered pages (see mkdocs.yml).
"""

from __future__ import annotations

import itertools
import logging
import os
import re
import threading
from collections.abc import Callable, Mapping
from datetime import date
from pathlib import Path
from typing import Any

from ..agreement.diagnostics import AgreementError, UsageError
from ..agreement.digest import digest
from ..agreement.models import AgreementSpec
from ..api import Agreement, load_agreement
from ..change.approvals import verify_reviews
from ..change.diff import diff_agreements
from ..change.revisions import SEARCHED_COMMITS, commits_of, repo_root
from ..files import atomic_write
from .context import SignatureState
from .renderer import PAGE_ORDER, ROOT, render_site

try:
    from mkdocs.commands.build import build as mkdocs_build
    from mkdocs.commands.serve import serve as mkdocs_serve
    from mkdocs.config import load_config
    from mkdocs.config.defaults import MkDocsConfig
    from mkdocs.exceptions import ConfigurationError, MkDocsException

    _MISSING: str | None = None
except ImportError as missing:  # MkDocs is the `docs` extra; the rest of slaengine needs none
    _MISSING = missing.name or "mkdocs"

log = logging.getLogger("slaengine.site")

DEFAULT_CONFIG = Path("mkdocs.yml")
SECTION_TITLE = "The agreement"


class SiteError(Exception):
    """MkDocs did not build the site (in strict mode, any warning stops it)."""



def site_config(config_file: Path, **overrides: Any) -> MkDocsConfig:
    """mkdocs.yml, validated, strict (a broken link or a page left out of the nav fails)."""
    if _MISSING is not None:
        raise UsageError(f"the site needs MkDocs ({_MISSING} is missing); "
                         "install it with `pip install 'slaengine[docs]'`")
    if not config_file.is_file():
        raise UsageError(f"{config_file}: no MkDocs configuration here (expected mkdocs.yml)")
    try:
        return load_config(str(config_file), strict=True, **overrides)
    except ConfigurationError as exc:
        raise UsageError(f"{config_file}: {exc}") from None


def _links_on_the_way(folder: Path, project: Path) -> list[Path]:
    """`folder` and each of its parents inside `project` that is a symbolic link (only
    `folder` itself when it lies outside the project)."""
    try:
        inside = folder.relative_to(project).parts
    except ValueError:
        return [folder] if folder.is_symlink() else []
    found, path = [], project
    for part in inside:
        path = path / part
        if path.is_symlink():
            found.append(path)
    return found


def _links_inside(folder: Path, hint: str) -> list[Path]:
    """Every symbolic link under `folder`, found without following any."""
    found: list[Path] = []

    def unreadable(exc: OSError) -> None:
        raise UsageError(f"{exc.filename}: cannot look inside ({exc.strerror}); slaengine "
                         f"checks the site's output folder for links before MkDocs empties it "
                         f"({hint})")

    for top, folders, files in os.walk(folder, onerror=unreadable, followlinks=False):
        found += [Path(top, name) for name in folders + files
                  if os.path.islink(os.path.join(top, name))]
    return sorted(found)


def check_folders(config: MkDocsConfig, *, output: bool = True) -> None:
    """Refuse a build that could write or delete outside the project's own folders.

    MkDocs empties the output folder (`site_dir`) and writes the site into it, following
    symbolic links: a link as the folder, as one of its parents in the project, or anywhere
    inside it would make a build delete and overwrite whatever the link points to. The pages
    go into the docs folder (`docs_dir`), which must not be reached through a link either
    (`write_pages` checks `agreement/` and below). `output=False` leaves out the output
    folder: `mkdocs serve` builds into a temporary folder of its own. Nothing is followed:
    links are found with `lstat`.
    """
    config_file = Path(os.path.abspath(config.config_file_path or DEFAULT_CONFIG))
    project = config_file.parent
    links = _links_on_the_way(Path(config.docs_dir), project)
    if links:
        raise UsageError(f"{links[0]}: is a symbolic link; slaengine writes the agreement pages "
                         "only into a real folder, never through a link that could point "
                         f"anywhere (remove the link, or set `docs_dir` in {config_file.name} "
                         "to a real folder)")
    if not output:
        return
    site_dir = Path(config.site_dir)
    other = f"choose another output folder: `site_dir` in {config_file.name}"
    links = _links_on_the_way(site_dir, project)
    if links:
        raise UsageError(f"{links[0]}: is a symbolic link; MkDocs empties the site's output "
                         f"folder {site_dir} and writes into it, so it would delete and "
                         f"overwrite what the link points to (remove the link or {other})")
    if not site_dir.exists():
        return
    if not site_dir.is_dir():
        raise UsageError(f"{site_dir}: is not a folder, but it is the site's output folder "
                         f"(remove it or {other})")
    links = _links_inside(site_dir, f"make it readable or {other}")
    if links:
        more = f" (and {len(links) - 1} more)" if len(links) > 1 else ""
        raise UsageError(f"{links[0]}: is a symbolic link inside the site's output folder "
                         f"{site_dir}{more}; MkDocs would write through it, outside the "
                         f"folder (remove the link or {other})")


MANIFEST = ".slaengine-pages"  # the pages the last build wrote, one path a line


def _no_link_on_the_way(docs_dir: Path, key: str) -> None:
    """Refuse a page whose folder (or itself) is a symbolic link: it could point anywhere."""
    path = docs_dir
    for part in key.split("/"):
        path = path / part
        if path.is_symlink():
            raise UsageError(f"{path}: is a symbolic link; slaengine writes the agreement pages "
                             "only into a real folder (remove the link and build again)")


def write_pages(pages: Mapping[str, str], docs_dir: Path) -> int:
    """Make `<docs_dir>/agreement/` hold exactly `pages`; return how many files changed.

    Stale pages (a definition that was removed) are deleted, but only pages an earlier build
    wrote (listed in `agreement/.slaengine-pages`): a file someone else put there stays.
    Unchanged files are not touched, so a live preview rebuilds only when a page really
    changed. A symbolic link as `agreement/` or on the way to a page is refused, so nothing
    outside the folder is ever written or deleted; files whose names start with a dot are
    left alone.
    """
    target = docs_dir / ROOT
    for key in pages:
        parts = key.split("/")
        if parts[0] != ROOT or len(parts) < 2 or any(p in ("", ".", "..") for p in parts):
            raise ValueError(f"page {key!r} is not inside {ROOT}/")
    _no_link_on_the_way(docs_dir, ROOT)
    manifest = target / MANIFEST
    written: set[str] = set()
    if manifest.is_file() and not manifest.is_symlink():
        written = {line for line in manifest.read_text(encoding="utf-8").splitlines() if line}
    changed = 0
    for stale in sorted(written - set(pages)):
        if stale.split("/")[0] != ROOT or ".." in stale.split("/"):
            continue
        path = docs_dir / stale
        try:
            _no_link_on_the_way(docs_dir, stale.rsplit("/", 1)[0])
        except UsageError:
            continue
        if path.is_file() or path.is_symlink():
            path.unlink()
            changed += 1
    if target.is_dir():
        for folder, _, _ in sorted(os.walk(target), key=lambda w: -len(w[0])):
            if Path(folder) != target and not any(Path(folder).iterdir()):
                Path(folder).rmdir()
    for key, text in pages.items():
        _no_link_on_the_way(docs_dir, key)
        path = docs_dir / key
        data = text.encode("utf-8")
        if path.is_file() and path.read_bytes() == data:
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(path, data)  # a temporary file in the same folder, then a rename
        changed += 1
    target.mkdir(parents=True, exist_ok=True)
    atomic_write(manifest, "".join(f"{key}\n" for key in sorted(pages)))
    return changed


def review_changes(agreement: Agreement, searched: int = SEARCHED_COMMITS) -> dict[str, list[str]]:
    """For each review whose approved text, and its predecessor's, are in the git history of
    the agreement folder: the changes of meaning between the two, in plain language.

    One walk back through the folder's commits, stopping once every digest is found. Outside
    a git checkout, or for texts not found, nothing: the page then shows what each review
    records under `changes:`.
    """
    wanted = {r.digest for r in agreement.reviews if r.digest}
    found: dict[str, AgreementSpec] = {}
    if agreement.digest in wanted:
        found[agreement.digest] = agreement.spec
    root = repo_root(agreement.root)
    if root is not None and wanted - found.keys():
        for _, spec in commits_of(agreement.root, searched):
            found.setdefault(digest(spec), spec)
            if not wanted - found.keys():
                break
    out: dict[str, list[str]] = {}
    for previous, review in itertools.pairwise(agreement.reviews):
        before = found.get(previous.digest or "")
        after = found.get(review.digest or "")
        if before is not None and after is not None:
            out[review.date.isoformat()] = [c.text for c in
                                            diff_agreements(before, after).changes]
    return out


def review_signatures(agreement: Agreement, today: date) -> dict[str, list[SignatureState]]:
    """Each review's approvals as `review status` verifies them (empty without ssh-keygen)."""
    try:
        checks = verify_reviews(agreement.spec, agreement.reviews, agreement.root,
                                agreement.digest, today)
    except UsageError:
        return {}
    out: dict[str, list[SignatureState]] = {}
    for check in checks:
        states = [SignatureState(None, False, None)] * len(check.review.approvals)
        for a in check.approvals:
            states[a.index] = SignatureState(a.fingerprint, a.ok, a.problem)
        if check.note:
            states = [SignatureState(s.fingerprint, False, s.problem or check.note)
                      for s in states]
        out[check.review.date.isoformat()] = states
    return out


def render_into(agreement_dir: Path, docs_dir: Path, today: date) -> int:
    """Load the agreement (raising `AgreementError` when it is invalid) and write its pages."""
    agreement = load_agreement(agreement_dir)
    return write_pages(render_site(agreement, today, review_changes(agreement),
                                   review_signatures(agreement, today)), docs_dir)


def build(agreement_dir: Path, today: date, config_file: Path = DEFAULT_CONFIG) -> Path:
    """Render the pages, then `mkdocs build --strict`; returns the built site's folder.

    Raises `AgreementError` for an invalid agreement, `UsageError` for a missing or invalid
    mkdocs.yml and `SiteError` when MkDocs finds a problem (strict: any warning).
    """
    config = site_config(config_file)
    check_folders(config)
    changed = render_into(agreement_dir, Path(config.docs_dir), today)
    log.info("rendered %s into %s (%d files changed)", agreement_dir,
             Path(config.docs_dir) / ROOT, changed)
    try:
        mkdocs_build(config)
    except MkDocsException as exc:
        raise SiteError(exc.format_message()) from None
    return Path(config.site_dir)


class AgreementWatcher(threading.Thread):
    """Calls `on_change` whenever a file under `folder` is added, changed or removed.

    A poll of the folder's file times every `interval` seconds: an agreement is a handful of
    small files, and polling behaves the same on every filesystem and in containers.
    """

    def __init__(self, folder: Path, on_change: Callable[[], None], interval: float = 0.5):
        super().__init__(name="slaengine-site-watch", daemon=True)
        self.folder, self.on_change, self.interval = folder, on_change, interval
        self.stopped = threading.Event()
        self.snapshot = self.scan()

    def scan(self) -> dict[str, tuple[int, int]]:
        found: dict[str, tuple[int, int]] = {}
        for folder, _, files in os.walk(self.folder):
            for name in files:
                try:
                    stat = Path(folder, name).stat()
                except OSError:  # removed between listing and stat
                    continue
                found[os.path.join(folder, name)] = (stat.st_mtime_ns, stat.st_size)
        return found

    def run(self) -> None:
        while not self.stopped.wait(self.interval):
            current = self.scan()
            if current != self.snapshot:
                self.snapshot = current
                self.on_change()

    def stop(self) -> None:
        self.stopped.set()


def serve(agreement_dir: Path, today: date | None, config_file: Path = DEFAULT_CONFIG,
          dev_addr: str | None = None) -> None:
    """Render, then `mkdocs serve`; every change to the agreement folder re-renders the pages.

    The rendered pages are files in the docs folder, which MkDocs watches: a re-render that
    changes a page makes MkDocs rebuild and reload the browser. An agreement that stops
    validating keeps the last good pages and logs why.
    """
    config = site_config(config_file)
    check_folders(config, output=False)  # `mkdocs serve` builds into a temporary folder
    docs_dir = Path(config.docs_dir)

    def render() -> None:
        try:
            changed = render_into(agreement_dir, docs_dir, today or date.today())
        except AgreementError as exc:
            for diagnostic in exc.errors:
                log.error("%s", diagnostic.format())
            log.error("%s is not valid; the site keeps the last valid pages", agreement_dir)
            return
        except UsageError as exc:  # the folder went away or cannot be read
            log.error("%s; the site keeps the last valid pages", exc)
            return
        if changed:
            log.info("re-rendered the agreement (%d files changed)", changed)

    render_into(agreement_dir, docs_dir, today or date.today())
    watcher = AgreementWatcher(agreement_dir, render)
    watcher.start()
    try:
        mkdocs_serve(config_file=str(config_file), dev_addr=dev_addr, strict=True)
    finally:
        watcher.stop()


# ---------------------------------------------------------------- the MkDocs hook

_DEFINITION_LINK = re.compile(r"\]\(([a-z][a-z0-9_]*)\.md\)")


def navigation(docs_dir: Path) -> list[Any]:
    """The hand-written pages, then the agreement's pages in `PAGE_ORDER`, each definition under
    Definitions in the order its index lists them."""
    pages = sorted(p.relative_to(docs_dir).as_posix() for p in docs_dir.rglob("*.md")
                   if not any(part.startswith(".") for part in p.relative_to(docs_dir).parts))
    generated = [p for p in pages if p.startswith(f"{ROOT}/")]
    own = sorted((p for p in pages if p not in generated), key=lambda p: (p != "index.md", p))
    if not generated:
        return own
    section: list[Any] = []
    listed: set[str] = set()
    definitions_index = f"{ROOT}/definitions/index.md"
    for name in PAGE_ORDER:
        page = f"{ROOT}/{name}"
        if page not in generated:
            continue
        listed.add(page)
        if page != definitions_index:
            section.append(page)
            continue
        text = (docs_dir / page).read_text(encoding="utf-8")
        ordered = [f"{ROOT}/definitions/{m}.md" for m in _DEFINITION_LINK.findall(text)]
        others = [p for p in generated if p.startswith(f"{ROOT}/definitions/")
                  and p != page and p not in ordered]
        members = [p for p in ordered if p in generated] + others
        listed.update(members)
        section.append({"Definitions": [page, *members]})
    section += [p for p in generated if p not in listed]
    return [*own, {SECTION_TITLE: section}]


def on_config(config: MkDocsConfig) -> MkDocsConfig:
    """MkDocs `on_config` hook: a navigation of every page, unless mkdocs.yml sets `nav:`."""
    if not config.nav:
        config.nav = navigation(Path(config.docs_dir))
    return config


__all__ = ["AgreementWatcher", "SiteError", "build", "check_folders", "navigation", "on_config",
           "render_into", "serve", "site_config", "write_pages"]
