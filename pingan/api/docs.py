"""Swagger UI from the installed sidecar package (no CDN), CSP-safe: the page loads its
start-up script from a second request (``?script``) instead of an inline ``<script>``,
and its few base styles from a static file instead of an inline ``<style>``."""

from drf_spectacular.views import SpectacularSwaggerSplitView


class SwaggerView(SpectacularSwaggerSplitView):
    template_name = "api/swagger_ui.html"
    title = "Pingan API"
