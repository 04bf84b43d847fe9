"""Alert channels over HTTP: a Slack-compatible JSON webhook, and PagerDuty's Events API v2.

Each delivers one notice per call and raises AlertDeliveryFailed (saying why) unless
the receiver accepted it. A channel never retries: the outbox does, with backoff.
"""

from __future__ import annotations

import httpx

from fantasy_core.alerting import AlertChange
from fantasy_core.audit import Severity
from fantasy_core.errors import AlertDeliveryFailed, InvalidConfiguration
from fantasy_core.outbox import AlertNotice

PAGERDUTY_EVENTS_URL = "https://events.pagerduty.com/v2/enqueue"
TIMEOUT_SECONDS = 5.0
_ACTIONS = {
    AlertChange.OPENED: "trigger",
    AlertChange.ACKNOWLEDGED: "acknowledge",
    AlertChange.RESOLVED: "resolve",
}
_PD_SEVERITY = {Severity.WARNING: "warning", Severity.CRITICAL: "critical"}


def checked_url(url: str, what: str) -> httpx.URL:
    """An absolute http(s) URL, or InvalidConfiguration naming `what`."""
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError) as error:
        raise InvalidConfiguration(f"{what} is not a URL: {error}") from error
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise InvalidConfiguration(f"{what} must be an http(s) URL with a host, got {url!r}")
    return parsed


class _HttpChannel:
    name = "http"

    def __init__(self, url: str, what: str, timeout: float) -> None:
        self._url = checked_url(url, what)
        self._client = httpx.Client(timeout=timeout, follow_redirects=False)

    def _post(self, body: dict[str, object], notice: AlertNotice) -> httpx.Response:
        # The notice id lets a receiver recognise a notice sent again after a crash
        # between its answer and our record of it (the one window an outbox cannot close).
        headers = {"Idempotency-Key": notice.notice_id}
        try:
            response = self._client.post(self._url, json=body, headers=headers)
        except httpx.HTTPError as error:
            raise AlertDeliveryFailed(f"{self.name}: {type(error).__name__}: {error}") from error
        if not response.is_success:
            raise AlertDeliveryFailed(
                f"{self.name}: HTTP {response.status_code}: {response.text[:200]}"
            )
        return response

    def close(self) -> None:
        self._client.close()


class WebhookChannel(_HttpChannel):
    """POSTs `{"text": ..., "alert": {...}}`: Slack's incoming webhooks read `text`."""

    name = "webhook"

    def __init__(self, url: str, *, timeout: float = TIMEOUT_SECONDS) -> None:
        super().__init__(url, "FANTASY_ALERT_WEBHOOK_URL", timeout)

    def deliver(self, notice: AlertNotice) -> None:
        self._post(
            {
                "text": notice.text(),
                "alert": {
                    "id": notice.notice_id,
                    "key": notice.key,
                    "incident": notice.incident,
                    "dedup_key": notice.dedup_key,
                    "event": notice.change.value,
                    "severity": notice.severity.value,
                    "contest_id": notice.contest_id,
                    "at": notice.created_at.isoformat(),
                },
            },
            notice,
        )


class PagerDutyChannel(_HttpChannel):
    """Events API v2: trigger, acknowledge and resolve one incident per `key#incident`."""

    name = "pagerduty"

    def __init__(
        self,
        routing_key: str,
        *,
        url: str = PAGERDUTY_EVENTS_URL,
        source: str = "fantasy-contests",
        timeout: float = TIMEOUT_SECONDS,
    ) -> None:
        if not routing_key.strip():
            raise InvalidConfiguration("FANTASY_PAGERDUTY_ROUTING_KEY is empty")
        super().__init__(url, "FANTASY_PAGERDUTY_URL", timeout)
        self._routing_key = routing_key
        self._source = source

    def deliver(self, notice: AlertNotice) -> None:
        body: dict[str, object] = {
            "routing_key": self._routing_key,
            "event_action": _ACTIONS[notice.change],
            "dedup_key": notice.dedup_key,
        }
        if notice.change is AlertChange.OPENED:
            body["payload"] = {
                "summary": notice.text()[:1024],  # PagerDuty's limit
                "source": self._source,
                "severity": _PD_SEVERITY[notice.severity],
                "timestamp": notice.created_at.isoformat(),
                "custom_details": {"key": notice.key, "contest_id": notice.contest_id},
            }
        self._post(body, notice)
