from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "pingan.api"
    label = "api"
    verbose_name = "API"

    def ready(self) -> None:
        from pingan.api import checks, schema  # noqa: F401  (registers system checks and OpenAPI extensions)
