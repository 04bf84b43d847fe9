"""Webhooks through the API route: each valid event applied once, every invalid one refused."""

from __future__ import annotations

from pathlib import Path

import pytest
from campaign_webhooks import (
    INVALID,
    SECRET,
    WebhooksConfig,
    captured_warnings,
    run_campaign,
    sign,
)

from adapters.stripe_gateway import parse_webhook
from fantasy_core.errors import InvalidWebhook


def test_duplicated_reordered_late_and_forged_webhooks(tmp_path: Path) -> None:
    report = run_campaign(WebhooksConfig(per_group=3), tmp_path)

    assert report.ok, report.describe_failure()
    assert report.figures["invalid deliveries refused"] == 3 * len(INVALID)
    assert report.figures["invalid deliveries not logged"] == 0
    assert report.figures["entries refunded after a late confirmation"] == 6


@pytest.mark.parametrize(
    "payload",
    [b'{"id": "cus_1", "object": "customer"}', b"\xff\xfe not json", b'{"object": "event"}'],
    ids=["not an event", "not UTF-8", "an event without id"],
)
def test_a_signed_webhook_we_cannot_read_is_refused_and_logged(payload: bytes) -> None:
    with captured_warnings() as log, pytest.raises(InvalidWebhook):
        parse_webhook(payload, sign(payload), SECRET)
    assert [r.getMessage() for r in log.records if "refused" in r.getMessage()]
