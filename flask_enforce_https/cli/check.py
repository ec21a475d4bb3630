"""``flask https check``: certificates, host names and settings together."""

from __future__ import annotations

import datetime
import json
from pathlib import Path

import click
from flask import current_app

from ..checks import app_hosts, certificate_findings, url_findings
from ..config import optional_path
from ..deploy import deploy_findings
from ..findings import Finding
from ..handshakes import HANDSHAKES, MAX_HANDSHAKES, MIN_HANDSHAKES
from .common import FORMAT, app_state, command, the_app

_PATH = click.Path(dir_okay=False, path_type=Path)


@command("check")
@click.option(
    "--certificate",
    type=_PATH,
    metavar="PEM",
    help="Leaf certificate then chain [ENFORCE_HTTPS_CERTIFICATE].",
)
@click.option(
    "--key",
    type=_PATH,
    metavar="PEM",
    help="Its private key [ENFORCE_HTTPS_CERTIFICATE_KEY].",
)
@click.option(
    "--hostname",
    "hostnames",
    multiple=True,
    metavar="NAME",
    help="A host clients use; repeatable. ENFORCE_HTTPS_HOST,"
    " SERVER_NAME and TRUSTED_HOSTS are checked too.",
)
@click.option(
    "--url",
    metavar="https://HOST[:PORT]",
    help="Also check the certificate a running server presents.",
)
@click.option(
    "--handshakes",
    type=click.IntRange(MIN_HANDSHAKES, MAX_HANDSHAKES),
    metavar="N",
    help="How many TLS handshakes --url makes and compares, each on a new"
    f" connection, for servers behind a load balancer [default: {HANDSHAKES}].",
)
@FORMAT
def check(
    certificate: Path | None,
    key: Path | None,
    hostnames: tuple[str, ...],
    url: str | None,
    handshakes: int | None,
    fmt: str,
) -> None:
    """Check the certificate, host names and settings before a deploy.

    Exits 1 when any finding is an error.
    """
    if handshakes is not None and url is None:
        raise click.UsageError("--handshakes is for --url: pass --url too.")
    app, state = the_app(), app_state()
    config = current_app.config
    if certificate is None:
        certificate = optional_path(config, "ENFORCE_HTTPS_CERTIFICATE")
        # The configured key belongs to the configured certificate only.
        key = key or optional_path(config, "ENFORCE_HTTPS_CERTIFICATE_KEY")
    bundle = optional_path(config, "ENFORCE_HTTPS_CA_BUNDLE")
    days = config["ENFORCE_HTTPS_EXPIRY_WARNING_DAYS"]
    hosts = [*hostnames, *app_hosts(app)]
    now = datetime.datetime.now(datetime.timezone.utc)
    findings: list[Finding] = []
    if certificate is not None:
        findings += certificate_findings(certificate, key, bundle, hosts, now, days)
    if url is not None:
        findings += url_findings(
            url, bundle, hosts, now, days, handshakes=handshakes or HANDSHAKES
        )
    if certificate is None and url is None:
        findings.append(
            Finding(
                "cert-none",
                "info",
                "no certificate was checked",
                "Pass --certificate or --url, or set ENFORCE_HTTPS_CERTIFICATE.",
            )
        )
    findings += deploy_findings(app, state)
    if fmt == "json":
        click.echo(json.dumps([f.as_dict() for f in findings], indent=2))
    else:
        for finding in findings:
            click.echo(f"{finding.severity.upper()} [{finding.id}] {finding.message}")
            click.echo(f"    hint: {finding.hint}")
        counts = [
            sum(f.severity == severity for f in findings)
            for severity in ("error", "warning", "info")
        ]
        errors, warnings, infos = counts
        click.echo(
            f"{errors} error{'s' * (errors != 1)}, "
            f"{warnings} warning{'s' * (warnings != 1)}, {infos} info"
        )
    if any(f.severity == "error" for f in findings):
        raise SystemExit(1)
