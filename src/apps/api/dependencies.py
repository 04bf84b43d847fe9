"""The one place handlers' dependencies are provided: the wired services, kept in app state.

The services live in `app.state.services` (set by create_app), so everything a
request uses is reachable from the app object alone.
"""

from __future__ import annotations

from litestar.datastructures import State
from litestar.di import Provide

from apps.accounts import Accounts
from apps.api.auth import TokenIssuer
from apps.api.entries import JoinBatcher
from apps.api.state import JOINS, TOKENS, services_of
from apps.bootstrap import Services
from apps.password_reset import PasswordReset, ResetTokens
from apps.settings import Settings
from fantasy_core.platform import Platform


def _services(state: State) -> Services:
    return services_of(state)


def _platform(state: State) -> Platform:
    return services_of(state).platform


def _accounts(state: State) -> Accounts:
    return services_of(state).accounts


def _password_reset(state: State) -> PasswordReset:
    services = services_of(state)
    secret = services.settings.token_secret
    return PasswordReset(services.accounts, ResetTokens(secret), services.settings.public_url)


def _settings(state: State) -> Settings:
    return services_of(state).settings


def _joins(state: State) -> JoinBatcher:
    joins: JoinBatcher = state[JOINS]
    return joins


def _tokens(state: State) -> TokenIssuer:
    tokens: TokenIssuer = state[TOKENS]
    return tokens


def dependencies() -> dict[str, Provide]:
    return {
        "platform": Provide(_platform, sync_to_thread=False),
        "accounts": Provide(_accounts, sync_to_thread=False),
        "services": Provide(_services, sync_to_thread=False),
        "tokens": Provide(_tokens, sync_to_thread=False),
        "joins": Provide(_joins, sync_to_thread=False),
        "password_reset": Provide(_password_reset, sync_to_thread=False),
        "settings": Provide(_settings, sync_to_thread=False),
    }
