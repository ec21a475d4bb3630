"""Property: the review's prediction for every endpoint is what plain-HTTP
requests get once the change is applied."""

from __future__ import annotations

import tempfile
import typing as t
from pathlib import Path

import tomlkit
from hypothesis import given, settings
from hypothesis import strategies as st

from flask_enforce_https.console.review import REDIRECTED, REFUSED, SERVED, review
from flask_enforce_https.writers import writer_for

from .helpers import console_app

FLAGS = ("force_https_screens", "force_https_integrations")
PATHS = (
    "/page",
    "/secure",
    "/account/",
    "/api/status",
    "/soap/open",
    "/healthz",
    "/api/",
)

flag = st.sampled_from([True, None])
section = st.fixed_dictionaries(
    {},
    optional={
        **dict.fromkeys(FLAGS, flag),
        "exempt_paths": st.lists(st.sampled_from(PATHS), max_size=3, unique=True),
    },
)
scopes = st.sampled_from(["environment", "shop"])


def outcome(status: int) -> str:
    if status in (301, 302, 307, 308):
        return REDIRECTED
    if status == 403:
        return REFUSED
    return SERVED


@settings(max_examples=30, deadline=None)
@given(before=section, scope=scopes, values=section)
def test_the_review_predicts_what_requests_get(
    before: dict[str, t.Any], scope: str, values: dict[str, t.Any]
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        start = {k: v for k, v in before.items() if v}
        app = console_app(Path(folder), tomlkit.dumps({"environment": start}))
        state = app.extensions["enforce_https"]
        with app.app_context():
            writer = writer_for(state)
            current = writer.read()
            asked = {k: (v or None) for k, v in values.items()}
            proposed = review(app, state, current.document, scope, asked)
            writer.change(scope, asked, expected=current.version)
        client = app.test_client()
        rules = {r.rule: r for r in app.url_map.iter_rules() if "<" not in r.rule}
        for prediction in proposed.predictions:
            rule = rules.get(prediction.rule)
            if rule is None:
                continue
            method = sorted((rule.methods or set()) - {"HEAD", "OPTIONS"})[0]
            status = client.open(rule.rule, method=method).status_code
            assert outcome(status) == prediction.after, (prediction, status)
