"""The web app: server-rendered pages (Jinja) over the same use cases and rules as the API.

Mounted by apps.api.app.create_app under /web: sessions in an HttpOnly cookie holding the
API's token (apps.web.session), CSRF on every form (Litestar's middleware, on these
routes only: the API takes bearer tokens, which a browser never sends by itself), a
Content-Security-Policy that allows no inline script or style, Jinja's autoescaping,
and htmx (vendored from the npm registry, see static/VENDORED.md) for the live parts.
"""
