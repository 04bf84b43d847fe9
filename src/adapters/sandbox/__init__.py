"""The sandbox payment gateway: an in-process stand-in for Stripe with deterministic test cards."""

from adapters.sandbox.gateway import TEST_CARDS, SandboxGateway, SandboxPayments

__all__ = ["TEST_CARDS", "SandboxGateway", "SandboxPayments"]
