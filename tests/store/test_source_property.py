"""Property (issue 12): no store error, malformed revision or outage ever
makes the settings in force less strict than the last good revision.

One :class:`~flask_enforce_https.store.source.StoreSource` is driven
through a random sequence of steps, on a store of its own (SQLite, a file
in a new temporary folder; PostgreSQL, a new schema: examples share
nothing):

* a valid revision, written through :meth:`Store.apply`: random
  ``force_https_screens``, ``force_https_integrations``, ``hsts`` and
  ``hsts_max_age`` for the environment, and the first two for the
  application and for another one;
* a bad revision, written by hand straight into the revisions table and
  made the head, as ``test_source.py`` does: not JSON, JSON but not an
  object, or settings that do not validate;
* an outage: the store moves away (the SQLite file, the PostgreSQL schema,
  renamed), and the recovery that moves it back. Writers keep writing
  where it went, as a farm's other hosts would while this one cannot reach
  it;
* a poll: one turn of :meth:`Poller.run`'s loop; or one during which the
  store moves away just before a given query and is back after it (a
  connection lost in the middle of a poll).

After every step:

1. the settings in force (:meth:`~StoreSource.current`,
   :meth:`~StoreSource.peek`) are exactly those of the newest valid
   revision at or under the head that the last completed refresh read:
   never the defaults once a valid revision was in force, never an invalid
   revision's; and the cache, which a restart during an outage would
   apply, holds that revision;
2. stated as strictness, through :func:`~flask_enforce_https.policy.resolve`:
   whenever the store failed or offered a bad revision, no endpoint of a
   fixed table (a screen and a REST endpoint at level none, a screen at
   tls), over HTTP or HTTPS, gets less under the settings in force than
   under the last good revision's;
3. :attr:`StoreSource.revision` never names a rejected revision; each bad
   head a completed refresh read was rejected, once.

Why internals are called: the source is made for a command
(``Purpose.COMMAND``), so it starts no poller thread, and the test calls
what :meth:`Poller.run` calls, in its order (:meth:`~StoreSource.refresh`,
then :meth:`~StoreSource.beat`; :meth:`~StoreSource.went_down` on a
:class:`StoreError`, :meth:`~StoreSource.came_back` after a turn without
one). A thread would poll whenever its clock says, so that what a step
observes would depend on timing and a failing example would not replay.
An outage in the middle of a poll needs the store to stop answering between
two of the source's queries, which nothing public can time: the source's
:attr:`~StoreSource.store` is wrapped so that the store moves away just
before the chosen query (:class:`Countdown`). Any exception other than a
:class:`StoreError` fails the test: the poller would log it and try again,
but it is a bug.

The end of the module tests, one by one, the bad heads it first found the
store mishandled: nested deeper than JSON parses, sections that are not
tables, values Python finds equal to valid ones (``1`` and ``true``).
"""

from __future__ import annotations

import abc
import copy
import json
import os
import secrets
import tempfile
import typing as t
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, example, given, note, settings
from hypothesis import strategies as st

from flask_enforce_https import HttpSecurity, Kind, Settings, SettingsError
from flask_enforce_https.declarations import Design
from flask_enforce_https.loading import Purpose
from flask_enforce_https.policy import resolve
from flask_enforce_https.settings import parse_settings
from flask_enforce_https.store import Store, StoreError
from flask_enforce_https.store.schema import head
from flask_enforce_https.store.source import StoreSource

from .conftest import break_head, database_url, raw_engine

APPLICATION = "shop"
Document = dict[str, t.Any]

#: Where each example's folder goes: memory where there is some (SQLite's
#: commits wait for the disk, which would make an example ten times slower
#: and its time depend on what else the machine is writing), else the
#: default temporary folder.
#: (tempfile makes a private folder in it.)
SCRATCH = "/dev/shm" if os.access("/dev/shm", os.W_OK) else None  # noqa: S108

PROPERTY = settings(
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)

# --------------------------------------------------------------------------
# Strictness, through the policy
# --------------------------------------------------------------------------

#: The declared endpoints whose strictness is compared.
ENDPOINTS = {
    "home": Design(Kind.SCREEN, HttpSecurity.NONE, "view"),
    "status": Design(Kind.REST, HttpSecurity.NONE, "view"),
    "secure": Design(Kind.SCREEN, HttpSecurity.TLS, "view"),
}


@dataclass(frozen=True)
class Strictness:
    """What one request gets under some settings.

    :param level: The effective level: over HTTP, one that requires TLS
        redirects or refuses the request.
    :param hsts: Over HTTPS, how many seconds browsers are told to keep to
        HTTPS (0: no header, or one that clears it).
    """

    level: HttpSecurity
    hsts: int

    def below(self, other: Strictness) -> bool:
        """Whether this is less strict than ``other`` in any way."""
        return self.level < other.level or self.hsts < other.hsts

    def __str__(self) -> str:
        return f"{self.level.value}, HSTS {self.hsts} s"


def strictness(settings: Settings) -> dict[str, Strictness]:
    """What each endpoint of :data:`ENDPOINTS` gets over each scheme.

    :param settings: The settings in force.
    """
    environment = settings.environment
    remembered = environment.hsts_max_age if environment.hsts else 0
    measures = {}
    for endpoint, design in ENDPOINTS.items():
        level = resolve(endpoint, design, settings, APPLICATION).effective
        name = f"{design.kind.value} {endpoint!r} ({design.level.value})"
        measures[f"{name} over http"] = Strictness(level, 0)
        measures[f"{name} over https"] = Strictness(level, remembered)
    return measures


def loosened(now: Settings, good: Settings) -> list[str]:
    """Each request that gets less under ``now`` than under ``good``.

    :param now: The settings in force.
    :param good: The last good revision's.
    """
    before, after = strictness(good), strictness(now)
    return [
        f"{what}: {before[what]} -> {after[what]}"
        for what in before
        if after[what].below(before[what])
    ]


# --------------------------------------------------------------------------
# Generators: valid and bad documents, steps
# --------------------------------------------------------------------------


def tables(values: dict[str, st.SearchStrategy[t.Any]]) -> st.SearchStrategy[Document]:
    """Tables holding any subset of ``values``' keys."""
    return st.fixed_dictionaries({}, optional=values)


SWITCHES = {
    "force_https_screens": st.booleans(),
    "force_https_integrations": st.booleans(),
}
#: 0 clears HSTS, and with it the forcing of screens by ``hsts``.
MAX_AGES = st.sampled_from([0, 300, 31536000, 63072000])
DOCUMENTS: st.SearchStrategy[Document] = st.fixed_dictionaries(
    {},
    optional={
        "environment": tables(
            {**SWITCHES, "hsts": st.booleans(), "hsts_max_age": MAX_AGES}
        ),
        "applications": st.dictionaries(
            st.sampled_from([APPLICATION, "blog"]), tables(SWITCHES), max_size=2
        ),
    },
)

#: Revision texts that are not a settings document at all: not JSON, or
#: JSON but not an object.
#: Deeper than json.loads goes: it raises RecursionError, not ValueError.
DEEP = "[" * 5000 + "]" * 5000
NOT_DOCUMENTS = (
    *("not json", "", '{"environment": {"hsts": tru}}', DEEP),
    *("null", "[]", "42", '"settings"', '[{"environment": {}}]'),
)
#: Values no boolean setting takes, 0 and 1 among them: Python finds them
#: equal to false and true, JSON does not.
BAD_SWITCHES = st.sampled_from(["yes", "true", 2, 0, 1, None, [], {}])
BAD_MAX_AGES = st.sampled_from([-1, 1.5, "600", None, []])


@st.composite
def invalid_documents(draw: st.DrawFn) -> Document:
    """A valid document with one thing made wrong: a value, a key, a
    section, or a section that is not a table."""
    document = copy.deepcopy(draw(DOCUMENTS))
    environment = document.setdefault("environment", {})
    own = document.setdefault("applications", {}).setdefault(APPLICATION, {})
    how = draw(
        st.sampled_from(
            [
                "value",
                "unknown key",
                "environment key",
                "section",
                "not a table",
                "exempt all",
            ]
        )
    )
    if how == "value":
        table = draw(st.sampled_from([environment, own]))
        keys = [*SWITCHES, "hsts", "hsts_max_age"] if table is environment else SWITCHES
        key = draw(st.sampled_from(sorted(keys)))
        table[key] = draw(BAD_MAX_AGES if key == "hsts_max_age" else BAD_SWITCHES)
    elif how == "unknown key":
        draw(st.sampled_from([environment, own]))["force_https"] = True
    elif how == "environment key":
        own["hsts"] = True
    elif how == "section":
        document["enviroment"] = {"force_https_screens": True}
    elif how == "not a table":
        if draw(st.booleans()):
            document["environment"] = draw(st.sampled_from([[], 5, "on"]))
        else:
            document["applications"][APPLICATION] = draw(st.sampled_from([1, []]))
    else:
        # "/" would exempt every path: refused, however strict the rest.
        environment["exempt_paths"] = ["/"]
    return document


BAD_TEXTS = st.one_of(
    st.sampled_from(NOT_DOCUMENTS),
    invalid_documents().map(json.dumps),
)


def settings_of(text: str) -> Settings | None:
    """The settings a revision's text holds; ``None`` when it is invalid."""
    try:
        document = json.loads(text)
        return parse_settings(document) if isinstance(document, dict) else None
    except (ValueError, RecursionError, SettingsError):
        return None


@dataclass(frozen=True)
class Write:
    """A valid revision, through :meth:`Store.apply`."""

    document: Document


@dataclass(frozen=True)
class WriteBad:
    """A bad revision, written by hand and made the head."""

    text: str


@dataclass(frozen=True)
class GoDown:
    """The store moves away, until :class:`ComeBack`."""


@dataclass(frozen=True)
class ComeBack:
    """The store is back where it was."""


@dataclass(frozen=True)
class Poll:
    """One turn of the poller.

    :param beat: The heartbeat is due.
    :param blip: The store moves away just before the poll's ``blip``-th
        query (1: the head's number), and is back after the turn: a
        connection lost in the middle of a poll.
    """

    beat: bool
    blip: int | None = None


Step = Write | WriteBad | GoDown | ComeBack | Poll

STEPS: st.SearchStrategy[Step] = st.one_of(
    # Weighted by repetition: writes often come several between two polls,
    # which gives a bad head valid revisions under it.
    st.builds(Write, DOCUMENTS),
    st.builds(Write, DOCUMENTS),
    st.builds(Write, DOCUMENTS),
    st.builds(WriteBad, BAD_TEXTS),
    st.builds(WriteBad, BAD_TEXTS),
    st.just(GoDown()),
    st.just(ComeBack()),
    st.builds(Poll, st.booleans()),
    st.builds(Poll, st.booleans()),
    st.builds(Poll, st.booleans(), st.integers(1, 3)),
    st.builds(Poll, st.booleans(), st.integers(1, 3)),
)

# --------------------------------------------------------------------------
# Where the store is, and how it goes away
# --------------------------------------------------------------------------


class Location(abc.ABC):
    """A store of one example's own, which can be moved away and back."""

    #: Where the source looks.
    url: str
    #: Where the store is while it is away.
    away_url: str
    down = False

    def __init__(self) -> None:
        self._stores: dict[str, Store] = {}
        self._engines: dict[str, sa.Engine] = {}

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.url} {'away' if self.down else 'up'}>"

    @abc.abstractmethod
    def _move(self, down: bool) -> None:
        """Move the store away (``down``), or back."""

    def go_down(self) -> None:
        if not self.down:
            self._move(True)
            self.down = True

    def come_back(self) -> None:
        if self.down:
            self._move(False)
            self.down = False

    def writer(self) -> Store:
        """A store where the store is now, for the writers."""
        url = self.away_url if self.down else self.url
        if url not in self._stores:
            self._stores[url] = Store(url)
        return self._stores[url]

    def raw(self) -> sa.Engine:
        """An engine on the store where it is now, behind the API."""
        url = self.away_url if self.down else self.url
        if url not in self._engines:
            self._engines[url] = raw_engine(url)
        return self._engines[url]

    def close(self) -> None:
        for store in self._stores.values():
            store.close()
        for engine in self._engines.values():
            engine.dispose()


class SQLiteLocation(Location):
    """A file in ``folder``; away, it is renamed (the source's store then
    finds no file: a :class:`SchemaError`, a :class:`StoreError`)."""

    def __init__(self, folder: Path) -> None:
        super().__init__()
        self.path, self.away = folder / "settings.db", folder / "away.db"
        self.url, self.away_url = f"sqlite:///{self.path}", f"sqlite:///{self.away}"

    def _move(self, down: bool) -> None:
        if down:
            os.rename(self.path, self.away)
        else:
            os.rename(self.away, self.path)


class PostgreSQLLocation(Location):
    """A new schema; away, it is renamed (the source's queries then find no
    table: a :class:`StoreError`, as when the server does not answer)."""

    def __init__(self, engine: sa.Engine) -> None:
        super().__init__()
        self.engine = engine
        self.schema = f"enforce_https_property_{secrets.token_hex(6)}"
        self.url = f"{database_url()}?schema={self.schema}"
        self.away_url = f"{database_url()}?schema={self.schema}_away"
        self._execute(f'CREATE SCHEMA "{self.schema}"')

    def _execute(self, statement: str) -> None:
        with self.engine.begin() as connection:
            connection.execute(sa.text(statement))

    def _move(self, down: bool) -> None:
        here, there = self.schema, f"{self.schema}_away"
        if not down:
            here, there = there, here
        self._execute(f'ALTER SCHEMA "{here}" RENAME TO "{there}"')

    def close(self) -> None:
        super().close()
        for name in (self.schema, f"{self.schema}_away"):
            self._execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')


class Countdown:
    """The source's store, which moves away just before the source's
    ``n``-th query from the time :meth:`arm` is called."""

    def __init__(self, store: Store, location: Location) -> None:
        self.store = store
        self.location = location
        self.left: int | None = None

    def arm(self, queries: int | None) -> None:
        """Let ``queries`` more queries through, then move the store away;
        ``None``: never."""
        self.left = queries

    def __getattr__(self, name: str) -> t.Any:
        attribute = getattr(self.store, name)
        if name == "close" or not callable(attribute):
            return attribute

        def query(*args: t.Any, **kwargs: t.Any) -> t.Any:
            if self.left == 0:
                self.location.go_down()
            if self.left is not None:
                self.left -= 1
            return attribute(*args, **kwargs)

        return query


# --------------------------------------------------------------------------
# The model, and one example's run
# --------------------------------------------------------------------------


@dataclass
class Model:
    """What the store holds, and what the source should have in force.

    :param revisions: Each revision's settings; ``None`` for a bad one.
    :param head: The head's number.
    :param in_force: The newest valid revision at or under the head the
        last completed refresh read (at first, the one the source loaded).
    :param rejected: The bad heads the source said it rejected.
    :param bad_read: The bad heads a completed refresh read.
    :param down: Whether the source was last told the store is down.
    """

    revisions: dict[int, Settings | None] = field(default_factory=dict)
    head: int = 0
    in_force: int = 0
    rejected: list[int] = field(default_factory=list)
    bad_read: set[int] = field(default_factory=set)
    down: bool = False

    def __repr__(self) -> str:
        shown = ", ".join(
            f"{n}{'' if s else ' (bad)'}" for n, s in sorted(self.revisions.items())
        )
        return (
            f"revisions [{shown}], head {self.head}, in force {self.in_force},"
            f" rejected {self.rejected}, {'down' if self.down else 'up'}"
        )

    def settings(self, number: int) -> Settings:
        """Revision ``number``'s settings (0: the defaults)."""
        found = self.revisions[number] if number else Settings()
        assert found is not None
        return found

    def newest_valid(self) -> int:
        """The newest valid revision at or under the head (0: none)."""
        return max(
            (n for n, s in self.revisions.items() if n <= self.head and s),
            default=0,
        )

    @property
    def head_is_bad(self) -> bool:
        return self.head > 0 and self.revisions[self.head] is None


class Run:
    """One example: a store at ``location``, its source, and the model.

    :param location: The store, with its tables.
    :param cache: The source's cache file.
    :param initial: A revision in force before the source starts.
    """

    def __init__(
        self, location: Location, cache: Path, initial: Document | None
    ) -> None:
        self.location = location
        self.cache = cache
        self.model = Model()
        if initial is not None:
            self.write(initial)
        self.model.in_force = self.model.head
        self.source = StoreSource(
            location.url,
            application=APPLICATION,
            interval=1.0,
            cache=cache,
            purpose=Purpose.COMMAND,
        )
        self.countdown = Countdown(self.source.store, location)
        self.source.store = t.cast(Store, self.countdown)
        self.said: list[object] = []
        self.source.rejected.append(self.said.append)
        #: Whether the last poll failed, or the head is bad.
        self.troubled = False

    def close(self) -> None:
        self.source.store = self.countdown.store
        self.source.close()

    # --- the steps ----------------------------------------------------------

    def write(self, document: Document) -> None:
        model = self.model
        number = self.location.writer().apply(document, model.head, "property", "cli")
        # Store.apply writes nothing when the head's document is this one
        # (never when the head is a bad one: that it always replaces).
        if number != model.head:
            assert number == model.head + 1
            model.revisions[number] = parse_settings(document)
            model.head = number

    def write_bad(self, text: str) -> None:
        assert settings_of(text) is None, f"the generator made a valid {text!r}"
        number = self.model.head + 1
        break_head(self.location.raw(), number, text)
        self.model.revisions[number] = None
        self.model.head = number

    def poll(self, beat: bool, blip: int | None) -> None:
        """One turn of :meth:`Poller.run`'s loop, in its order."""
        outage = self.location.down
        self.countdown.arm(None if blip is None else blip - 1)
        try:
            self._poll(beat)
        finally:
            self.countdown.arm(None)
            if not outage:
                self.location.come_back()

    def _poll(self, beat: bool) -> None:
        source, model = self.source, self.model
        applied, said = source.revision, len(self.said)
        error = self._call(source.refresh)
        if error is None:
            model.in_force = model.newest_valid()
            if model.head_is_bad:
                model.bad_read.add(model.head)
            self.troubled = model.head_is_bad
            if beat or source.revision != applied:
                error = self._call(source.beat)
        if error is None:
            source.came_back()
            model.down = False
        else:
            source.went_down(error)
            model.down = self.troubled = True
        # A poll can reject one revision, the head.
        assert len(self.said) - said in (0, 1)
        if len(self.said) > said:
            model.rejected.append(model.head)

    def _call(self, poll: t.Callable[[], None]) -> StoreError | None:
        """Call ``poll``; return the :class:`StoreError` it raised, if any."""
        try:
            poll()
        except StoreError as e:
            error: StoreError | None = e
        else:
            error = None
        # Every query after the store moved away fails, and only those.
        assert (error is not None) == self.location.down, (error, self.location)
        return error

    def run(self, step: Step) -> None:
        match step:
            case Write(document):
                self.write(document)
            case WriteBad(text):
                self.write_bad(text)
            case GoDown():
                self.location.go_down()
            case ComeBack():
                self.location.come_back()
            case Poll(beat, blip):
                self.poll(beat, blip)

    # --- the invariants -----------------------------------------------------

    def check(self) -> None:
        source, model = self.source, self.model
        state = f"{model}; source at revision {source.revision}"
        # 3. Never a rejected revision; each bad head rejected once.
        assert source.revision == 0 or model.revisions[source.revision], state
        assert source.revision not in model.rejected, state
        assert len(set(model.rejected)) == len(model.rejected), state
        assert all(model.revisions[n] is None for n in model.rejected), state
        assert model.bad_read <= set(model.rejected), state
        # 2. Failures never loosen (before 1, whose failure says less).
        if self.troubled or self.location.down:
            worse = loosened(source.current(), model.settings(model.in_force))
            assert not worse, f"loosened: {worse}; {state}"
        # 1. Exactly the newest valid revision the last refresh could see.
        assert source.revision == model.in_force, state
        expected = model.settings(model.in_force)
        assert source.current() == expected, state
        assert source.peek() == expected, state
        if self.cache.exists():
            cached = json.loads(self.cache.read_text("utf-8"))
            assert cached["revision"] == source.revision, state
        assert (source.down_since is not None) == model.down, state


def replay(
    location: Location, folder: Path, initial: Document | None, steps: list[Step]
) -> None:
    """Start a source on ``location`` (with revision ``initial`` in force,
    if any), run ``steps`` and check the invariants after each."""
    with Store(location.url) as store:
        store.init()
    run = Run(location, folder / "cache.json", initial)
    try:
        run.check()
        for step in steps:
            run.run(step)
            note(f"{step}: source at {run.source.revision}, {run.model}")
            run.check()
    finally:
        run.close()


INITIAL = st.one_of(st.none(), DOCUMENTS)
STEP_LISTS = st.lists(STEPS, min_size=3, max_size=30)

#: What this property found (fixed in StoreSource.refresh): a store lost
#: between reading a bad head and the valid revision under it (the poll's
#: third query) left the source on revision 1 (open) until the next write,
#: while the rest of the farm enforced revision 2 (screens).
LOST_IN_THE_SCAN = example(
    initial={"environment": {"force_https_screens": False}},
    steps=[
        Write({"environment": {"force_https_screens": True}}),
        WriteBad("not json"),
        Poll(beat=False, blip=3),
        Poll(beat=False),
    ],
)


@settings(PROPERTY, max_examples=300)
@LOST_IN_THE_SCAN
@given(initial=INITIAL, steps=STEP_LISTS)
def test_no_failure_loosens_the_settings_on_sqlite(
    initial: Document | None, steps: list[Step]
) -> None:
    with tempfile.TemporaryDirectory(dir=SCRATCH) as folder:
        location = SQLiteLocation(Path(folder))
        try:
            replay(location, Path(folder), initial, steps)
        finally:
            location.close()


@settings(PROPERTY, max_examples=60)
@LOST_IN_THE_SCAN
@given(initial=INITIAL, steps=STEP_LISTS)
def test_no_failure_loosens_the_settings_on_postgresql(
    postgresql_engine: sa.Engine, initial: Document | None, steps: list[Step]
) -> None:
    with tempfile.TemporaryDirectory(dir=SCRATCH) as folder:
        location = PostgreSQLLocation(postgresql_engine)
        try:
            replay(location, Path(folder), initial, steps)
        finally:
            location.close()


# --------------------------------------------------------------------------
# Bad heads the store once mishandled
# --------------------------------------------------------------------------

OPEN: Document = {"environment": {"force_https_screens": False}}
SCREENS: Document = {"environment": {"force_https_screens": True}}


def source_of(location: Location, folder: Path, purpose: Purpose) -> StoreSource:
    """A source on ``location``'s store, for ``purpose``, polling nothing."""
    return StoreSource(
        location.url,
        application=APPLICATION,
        interval=1.0,
        cache=folder / "cache.json",
        purpose=purpose,
    )


def test_a_deeply_nested_head_is_rejected_like_any_malformed_one(
    tmp_path: Path,
) -> None:
    """A bad head nested deeper than JSON parses is rejected, and the
    newest valid revision under it applied. (The parser's RecursionError
    once escaped :meth:`~StoreSource.refresh` at every poll, which left
    this process on revision 1, open, while the farm enforced revision 2.)"""
    location = SQLiteLocation(tmp_path)
    with Store(location.url) as store:
        store.init()
        store.apply(OPEN, 0, "t", "cli")
        source = source_of(location, tmp_path, Purpose.COMMAND)
        try:
            store.apply(SCREENS, 1, "t", "cli")
            break_head(location.raw(), 3, DEEP)
            source.refresh()
            assert source.revision == 2
            assert source.rejection is not None
        finally:
            source.close()
            location.close()


def tables_of(document: Document) -> list[tuple[str, Document]]:
    """A document's tables by scope, the environment first."""
    found = [("environment", document.get("environment", {}))]
    found += sorted(document.get("applications", {}).items())
    return [(scope, table) for scope, table in found if table]


def test_a_head_naming_no_revision_is_rejected(tmp_path: Path) -> None:
    """A head moved by hand to a revision that does not exist is a bad head,
    like a malformed one: never an outage, never an empty store (whose
    defaults would loosen the settings), at start or at a poll."""
    location = SQLiteLocation(tmp_path)
    try:
        with Store(location.url) as store:
            store.init()
            store.apply(SCREENS, 0, "t", "cli")
            source = source_of(location, tmp_path, Purpose.COMMAND)
            try:
                with location.raw().begin() as connection:
                    connection.execute(head.update().values(revision=7))
                source.refresh()
                assert (source.revision, source.down_since) == (1, None)
                assert source.rejection is not None
                assert source.current() == parse_settings(SCREENS)
            finally:
                source.close()
            # A server refuses to start; a command starts under the bad
            # head, so that it can mend it.
            with pytest.raises(SettingsError, match="revision 7, which does not exist"):
                source_of(location, tmp_path, Purpose.SERVE).close()
            command = source_of(location, tmp_path, Purpose.COMMAND)
            command.close()
            assert (command.revision, command.peek()) == (1, parse_settings(SCREENS))
            assert command.rejection is not None
            assert store.apply(OPEN, 7, "admin", "cli") == 8
    finally:
        location.close()


@pytest.mark.parametrize(
    ("bad", "document"),
    [
        pytest.param("not json", {}, id="not-json-then-defaults"),
        pytest.param('{"environment": {"hsts": null}}', {}, id="null-then-defaults"),
        pytest.param(
            '{"environment": {"hsts": 1}}',
            {"environment": {"hsts": True}},
            id="one-then-true",
        ),
        pytest.param(
            '{"environment": []}',
            {"environment": {"hsts": True}},
            id="environment-not-a-table",
        ),
        pytest.param(
            '{"applications": {"shop": 1}}',
            {"applications": {"shop": {"force_https_screens": True}}},
            id="application-not-a-table",
        ),
        pytest.param(DEEP, SCREENS, id="deeply-nested"),
    ],
)
def test_apply_mends_a_hand_written_head(
    tmp_path: Path, bad: str, document: Document
) -> None:
    """Writing a valid document over a bad head makes it a new revision,
    with audit rows that show every key it sets as new. (The diff against
    the head once raised on a section that is not a table and on nesting
    JSON cannot parse, and found no change, writing nothing, where Python
    finds the values equal, 1 and true, or the head was not JSON and the
    document empty.)"""
    location = SQLiteLocation(tmp_path)
    try:
        with Store(location.url) as store:
            store.init()
            store.apply(SCREENS, 0, "t", "cli")
            break_head(location.raw(), 2, bad)
            assert store.apply(document, 2, "admin", "cli") == 3
            assert store.head_number() == 3
            assert [(e.scope, e.key, e.old) for e in store.history(since=2)] == [
                (scope, key, None)
                for scope, table in tables_of(document)
                for key in sorted(table)
            ]
    finally:
        location.close()
