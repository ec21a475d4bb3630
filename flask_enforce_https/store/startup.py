"""How a process starts from a store: the revision in force, or, while the
store cannot be reached, the last one this host applied, from the local
cache.

A store that does not answer is an outage, which the cache rides out; a
head that is not valid settings is bad settings, which stop the start as
a bad settings file does.
"""

from __future__ import annotations

import logging
import time
import typing as t
from dataclasses import dataclass
from pathlib import Path

from ..errors import SettingsError
from ..settings import Settings, parse_settings
from . import cache
from .errors import MalformedRevisionError, SchemaError, StoreError
from .store import Store

logger = logging.getLogger("flask_enforce_https")


@dataclass(frozen=True)
class Start:
    """What a process starts with.

    :param settings: The settings in force.
    :param revision: Their revision (0: the store has none).
    :param document: The revision's document, to cache; ``None`` when the
        settings came from the cache or the store has no revision.
    :param down_since: When the store was found not to answer (epoch
        seconds); ``None`` when it answered.
    :param error: Why it did not answer.
    :param rejected: The head, when it is a bad one and the settings are
        those of the newest valid revision under it; else 0.
    :param rejection: What is wrong with that head.
    """

    settings: Settings
    revision: int
    document: dict[str, t.Any] | None = None
    down_since: float | None = None
    error: StoreError | None = None
    rejected: int = 0
    rejection: SettingsError | None = None


def start(store: Store, cache_path: Path, *, serving: bool = True) -> Start:
    """Read the revision in force, or the cache when the store does not
    answer.

    :param store: The store.
    :param cache_path: The local cache file.
    :param serving: Whether the process serves requests. One that does not
        (a command) starts from the newest valid revision under a bad head,
        so that ``flask https set`` and ``revert`` can mend it.
    :raises SchemaError: The store has no tables, or unknown ones.
    :raises StoreError: The store cannot be reached and there is no cache.
    :raises SettingsError: The revision in force is not valid settings, in
        a serving process.
    """
    url = str(store.url)
    try:
        store.check()
        head = store.head()
        settings = (
            Settings()
            if head is None
            else parse_settings(head.document, f"{url} (revision {head.number})")
        )
    except SchemaError:
        raise
    except (MalformedRevisionError, SettingsError) as e:
        # Bad settings, not an outage: a server fails fast, as with a file.
        problem = (
            e
            if isinstance(e, SettingsError)
            else SettingsError(url, "", str(e).removeprefix(f"{url}: "))
        )
        if serving:
            raise problem from None
        return _under_bad_head(store, problem)
    except StoreError as e:
        cached = cache.read(cache_path, url)
        if cached is None:
            raise StoreError(
                f"{e}; the application cannot start without its settings,"
                f" and there is no cache of them at {cache_path}: start it"
                " once the store answers"
            ) from None
        logger.warning(
            "settings store unreachable at start, revision %d from the"
            " cache %s is in force until it answers: %s",
            cached.revision,
            cache_path,
            e,
        )
        return Start(cached.settings, cached.revision, None, time.time(), e)
    if head is None:
        logger.warning(
            "settings store %s has no revision yet: the application runs"
            " with its design-time declarations and default settings",
            url,
        )
        return Start(Settings(), 0)
    return Start(settings, head.number, head.document)


def _under_bad_head(store: Store, problem: SettingsError) -> Start:
    number = store.head_number()
    newest = store.newest_valid(number)
    revision, settings = (newest[0].number, newest[1]) if newest else (0, Settings())
    logger.warning(
        "settings store %s: the head, revision %d, is not valid; revision %d,"
        " the newest valid one under it, is in force until a good one is"
        " written: %s",
        store.url,
        number,
        revision,
        problem,
    )
    return Start(settings, revision, rejected=number, rejection=problem)
