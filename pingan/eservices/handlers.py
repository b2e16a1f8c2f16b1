"""Service handlers: the few services with side effects beyond their workflow (an e-bike
registration allocates a plate) plug in here, from the app that owns the side effect.

    class EBikeRegistrationHandler:
        def validate(self, application, data) -> dict[str, list[str]]: ...   # at submit
        def on_transition(self, application, step) -> None: ...              # same transaction
        def credential_claims(self, application) -> dict: ...                # on issue

    handlers.register("ebike_registration", EBikeRegistrationHandler())    # in ready()

A service names its handler in the catalogue (``handler:``); the system check
``pingan.E301`` refuses a catalogue naming a handler nobody registered.
"""

from __future__ import annotations

from typing import Any, Protocol

from pingan.core.registry import Registry


class ServiceHandler(Protocol):
    def validate(self, application: Any, data: dict[str, Any]) -> dict[str, list[str]]: ...

    def on_transition(self, application: Any, step: Any) -> None: ...

    def credential_claims(self, application: Any) -> dict[str, Any]: ...


service_handlers: Registry[ServiceHandler] = Registry("service_handlers")


def register(key: str, handler: ServiceHandler) -> None:
    service_handlers.register(key, handler)


def for_service(service: Any) -> ServiceHandler | None:
    key = getattr(service, "handler", None)
    return service_handlers.get(key) if key else None
