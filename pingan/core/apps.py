from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "pingan.core"
    label = "core"
    verbose_name = "Pingan core"

    def ready(self) -> None:
        from pingan.core import checks  # noqa: F401  (registers system checks)
