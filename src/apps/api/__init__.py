"""The HTTP API (Litestar): players, operators, Stripe webhooks. Build it with
`apps.api.app.create_app`. This package imports nothing itself: the web pages (apps.web)
import its wire forms, and the app imports the web pages, so an eager import here would
make the two packages' import order matter."""
