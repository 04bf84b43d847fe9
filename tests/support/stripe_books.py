"""The Stripe emulator's own records, read over its API: what "Stripe" says happened.

Reliability campaigns count money on this side, not only in our database: a payout
recorded once but transferred twice would pass every check of ours and still lose
money. Also the emulator's test controls (faults, forgetting idempotency keys).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import httpx
import stripe
from attrs import frozen

from support.stripe_emulator_fixture import API_KEY

PAGE = 100


@frozen
class TransferTally:
    """The transfers of one group (a contest), by the payout fingerprint in their metadata."""

    count: int
    total_minor: int
    by_fingerprint: dict[str, int]  # fingerprint -> how many transfers carry it
    amounts: dict[str, int]  # fingerprint -> amount of (the first of) its transfers
    destinations: dict[str, str]
    unlabelled: int  # transfers without a payout fingerprint (never ours)

    @property
    def duplicates(self) -> int:
        """Transfers beyond the first for any fingerprint: money sent twice."""
        return sum(n - 1 for n in self.by_fingerprint.values() if n > 1)


class StripeBooks:
    def __init__(self, url: str) -> None:
        self.url = url
        self.client = stripe.StripeClient(
            API_KEY,
            base_addresses={"api": url, "connect": url},
            max_network_retries=0,
        )

    def create_account(self) -> str:
        account = self.client.v1.accounts.create(
            {"type": "custom", "country": "US", "capabilities": {"transfers": {"requested": True}}}
        )
        return str(account.id)

    def transfers(self, group: str) -> list[stripe.Transfer]:
        page = self.client.v1.transfers.list({"transfer_group": group, "limit": PAGE})
        return list(page.auto_paging_iter())

    def transfer_tally(self, group: str) -> TransferTally:
        made = self.transfers(group)
        counts: Counter[str] = Counter()
        amounts: dict[str, int] = {}
        destinations: dict[str, str] = {}
        unlabelled = 0
        for transfer in made:
            metadata: dict[str, Any] = transfer.metadata.to_dict() if transfer.metadata else {}
            fingerprint = metadata.get("payout_fingerprint")
            if not isinstance(fingerprint, str):
                unlabelled += 1
                continue
            counts[fingerprint] += 1
            amounts.setdefault(fingerprint, int(transfer.amount))
            destinations.setdefault(fingerprint, str(transfer.destination))
        return TransferTally(
            count=len(made),
            total_minor=sum(int(t.amount) for t in made),
            by_fingerprint=dict(counts),
            amounts=amounts,
            destinations=destinations,
            unlabelled=unlabelled,
        )

    def payment_intents(self, contest_id: str) -> list[stripe.PaymentIntent]:
        """Every PaymentIntent whose metadata names the contest.

        By the Search API (the emulator's answers at once, in one page): listing every
        PaymentIntent page by page costs minutes once a campaign has made thousands.
        """
        query = f"metadata['contest_id']:'{contest_id}'"
        found = self.client.v1.payment_intents.search({"query": query, "limit": PAGE})
        return list(found.data)

    def charge_tally(self, contest_id: str) -> Counter[str]:
        """Succeeded PaymentIntents per join fingerprint (more than one: charged twice)."""
        tally: Counter[str] = Counter()
        for intent in self.payment_intents(contest_id):
            if intent.status == "succeeded":
                tally[str(intent.metadata.to_dict().get("join_fingerprint"))] += 1
        return tally

    def refunds_of(self, intent_ids: set[str]) -> list[stripe.Refund]:
        page = self.client.v1.refunds.list({"limit": PAGE})
        return [r for r in page.auto_paging_iter() if r.payment_intent in intent_ids]

    # ---- the emulator's test controls ---------------------------------------------------

    def forget_idempotency_keys(self) -> None:
        """As Stripe does after about 24 hours: a key sent again makes a new object."""
        httpx.delete(f"{self.url}/_config/idempotency_keys", timeout=5).raise_for_status()

    def set_faults(self, **faults: int) -> None:
        httpx.post(f"{self.url}/_config/faults", json=faults, timeout=5).raise_for_status()

    def faults(self) -> dict[str, int]:
        """The emulator's fault counters (what is armed, and `held`: replies held so far)."""
        response = httpx.get(f"{self.url}/_config/faults", timeout=5)
        response.raise_for_status()
        return {str(k): int(v) for k, v in response.json().items()}
