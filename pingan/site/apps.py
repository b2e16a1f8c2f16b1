from django.apps import AppConfig


class SiteConfig(AppConfig):
    """Pages that belong to no domain (home, errors) and the end of start-up."""

    name = "pingan.site"
    label = "pingan_site"
    verbose_name = "Site"

    def ready(self) -> None:
        from pingan.core import registry

        # Installed last: every app has registered its inbox sources, indicators and
        # policies by now; nothing may change them while the server runs.
        registry.freeze_all()
