from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    name = "integrations"
    verbose_name = "Salesforce integration"

    def ready(self) -> None:
        # Connects the receivers of meetings' and scheduler's domain events.
        from integrations import signals  # noqa: F401
