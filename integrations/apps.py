from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    name = "integrations"
    verbose_name = "Salesforce integration"

    def ready(self) -> None:
        # Connects the receivers of meetings' and scheduler's domain events, registers
        # what each kind of sync job does, and the configuration check.
        from integrations import checks, executors, signals  # noqa: F401
