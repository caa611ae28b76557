from django.apps import AppConfig


class LineConfig(AppConfig):
    name = "line"
    verbose_name = "Production line: stations, inspections, drift"

    def ready(self) -> None:
        from line.api import schema  # noqa: F401  (registers how the API docs show station keys)
