"""What a change would do, worked out before it is applied.

The review applies the proposed document to the same pure function the
request hook uses (a :class:`~flask_enforce_https.snapshot.Snapshot` of the
proposed settings), rule by rule, and says what plain-HTTP requests to each
endpoint of the app the console is mounted in get before and after.
"""

from __future__ import annotations

import typing as t
from collections import Counter
from dataclasses import dataclass

from flask import Flask

from ..documents import document_changes, with_values
from ..edits import Change
from ..policy import Policy
from ..settings import Settings, parse_settings
from ..snapshot import Snapshot
from ..state import AppState

#: What a plain-HTTP request gets, by outcome.
SERVED = "served over plain HTTP"
REDIRECTED = "redirected to HTTPS"
REFUSED = "refused with 403"


@dataclass(frozen=True)
class Prediction:
    """What plain-HTTP requests to one URL rule get, before and after.

    :param endpoint: The rule's endpoint.
    :param rule: The URL rule.
    :param kind: ``screen``, ``rest`` or ``soap``.
    :param level_before: The level in force now.
    :param level_after: The level after the change.
    :param before: What plain HTTP gets now.
    :param after: What plain HTTP gets after the change.
    :param why: Why, after the change.
    """

    endpoint: str
    rule: str
    kind: str
    level_before: str
    level_after: str
    before: str
    after: str
    why: str

    @property
    def changes(self) -> bool:
        """Whether the change makes a difference here."""
        return (self.before, self.level_before) != (self.after, self.level_after)


@dataclass(frozen=True)
class Review:
    """A proposed change, checked and explained.

    :param scope: ``"environment"`` or an application's name.
    :param values: The values asked for, by key (``None``: unset).
    :param document: The whole document after the change.
    :param settings: It, validated.
    :param changes: The keys it changes.
    :param predictions: Every URL rule of the app the console is in, when
        the change reaches that app; empty otherwise.
    :param summary: The predictions in sentences.
    """

    scope: str
    values: dict[str, object]
    document: dict[str, t.Any]
    settings: Settings
    changes: list[Change]
    predictions: list[Prediction]
    summary: list[str]


def outcome(policy: Policy) -> str:
    """What a plain-HTTP request to an endpoint with ``policy`` gets."""
    if not policy.requires_tls:
        return SERVED
    return REFUSED if policy.kind.is_integration else REDIRECTED


def review(
    app: Flask,
    state: AppState,
    document: t.Mapping[str, t.Any],
    scope: str,
    values: dict[str, object],
    *,
    predict: bool = True,
) -> Review:
    """Work out what setting ``values`` in ``scope`` would do.

    :param app: The app the console is mounted in.
    :param state: Its extension state.
    :param document: The document in force, as the writer read it.
    :param scope: ``"environment"`` or an application's name.
    :param values: The values asked for.
    :param predict: Work out what the change does to the app's endpoints;
        ``False`` in a central console, whose endpoints are nobody's.
    :raises SettingsError: The proposed document is not valid.
    """
    proposed = with_values(document, scope, values)
    settings = parse_settings(proposed, "the proposed settings")
    changes = document_changes(document, proposed)
    predictions: list[Prediction] = []
    if predict and scope in ("environment", state.config.application):
        now = Snapshot(
            parse_settings(document, "the settings in force"),
            state.config.application,
            state.config.default,
            state.app,
        )
        then = Snapshot(
            settings, state.config.application, state.config.default, state.app
        )
        for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
            before, after = now.rule_policy(rule), then.rule_policy(rule)
            predictions.append(
                Prediction(
                    rule.endpoint,
                    rule.rule,
                    after.kind.value,
                    before.effective.value,
                    after.effective.value,
                    outcome(before),
                    outcome(after),
                    after.reason,
                )
            )
    return Review(
        scope,
        values,
        proposed,
        settings,
        changes,
        predictions,
        summarize(predictions, state.config.application),
    )


_KINDS = {"screen": ("screen", "screens"), "rest": ("REST endpoint", "REST endpoints")}
_KINDS["soap"] = ("SOAP endpoint", "SOAP endpoints")
_WILL = {
    SERVED: "will be served over plain HTTP",
    REDIRECTED: "will redirect plain HTTP to HTTPS",
    REFUSED: "will answer 403 to http:// callers",
}


def summarize(predictions: t.Iterable[Prediction], application: str) -> list[str]:
    """The predictions that change something, counted in sentences such as
    "12 REST endpoints of shop will answer 403 to http:// callers".

    :param predictions: The predictions.
    :param application: The app's name.
    """
    counts = Counter((p.kind, p.after) for p in predictions if p.before != p.after)
    sentences = []
    for (kind, after), count in sorted(counts.items()):
        one, many = _KINDS.get(kind, (kind, kind + "s"))
        noun = one if count == 1 else many
        sentences.append(f"{count} {noun} of {application} {_WILL[after]}.")
    return sentences
