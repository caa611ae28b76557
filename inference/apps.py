from django.apps import AppConfig


class InferenceConfig(AppConfig):
    name = "inference"
    verbose_name = "Models, jobs and predictions"

    def ready(self) -> None:
        from inference.services.job_kinds import job_kinds_register

        job_kinds_register()
