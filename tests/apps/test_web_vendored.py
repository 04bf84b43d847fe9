"""The vendored htmx (2.0.11) and its SSE extension (htmx-ext-sse 2.2.4) are the npm
registry's files, byte for byte, with their licences."""

from __future__ import annotations

import hashlib

from apps.web.routes import HTMX, HTMX_SSE, STATIC

# sha256 of package/dist/htmx.min.js in htmx.org-2.0.11.tgz, as `npm pack htmx.org@2.0.11`
# fetched it (tarball integrity sha512-Thx/WtpeOQqSrqBCw/A1cwGJGg4UrVa3+sW0GmrM3p4gJgO89ecH4qt
# bnyzDDWFvBTqjnIMCgELTNt636dtamA==); see apps/web/static/VENDORED.md.
HTMX_2_0_11_SHA256 = "d6fdc75f204e6bdefa99b69bf1e6d4ac69b8a364f77929f45c13476b4000f717"


def test_the_served_htmx_is_the_pinned_release_unmodified() -> None:
    assert HTMX == "htmx-2.0.11.min.js"
    digest = hashlib.sha256((STATIC / HTMX).read_bytes()).hexdigest()
    assert digest == HTMX_2_0_11_SHA256


def test_htmx_ships_with_its_licence() -> None:
    licence = (STATIC / "htmx-LICENSE.txt").read_text(encoding="utf-8")
    assert licence.startswith("Zero-Clause BSD")


# sha256 of package/dist/sse.min.js in htmx-ext-sse-2.2.4.tgz (`npm pack htmx-ext-sse@2.2.4`,
# tarball integrity sha512-LJmxVhykyflBWgh5PvbRidcyuqMHlgfajmmzumvKctv9puvsufeH6OaejSMZTNTnEI8
# O2wXXn4ZZtBdpEMqmEQ==).
HTMX_EXT_SSE_2_2_4_SHA256 = "98a46496de0c3605fbffdce9167ba427bdd9553184f83f149c261891a92c0136"


def test_the_served_sse_extension_is_the_pinned_release_unmodified() -> None:
    assert HTMX_SSE == "htmx-ext-sse-2.2.4.min.js"
    digest = hashlib.sha256((STATIC / HTMX_SSE).read_bytes()).hexdigest()
    assert digest == HTMX_EXT_SSE_2_2_4_SHA256
    licence = (STATIC / "htmx-ext-sse-LICENSE.txt").read_text(encoding="utf-8")
    assert licence.startswith("BSD Zero Clause License")
