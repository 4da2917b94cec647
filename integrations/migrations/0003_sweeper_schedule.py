"""The sweeper runs every minute on django-q2's scheduler: it recovers jobs whose worker
died and hands over retries whose time has come."""

from django.db import migrations


def schedule_add(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    Schedule.objects.update_or_create(
        name="sync-jobs-sweep",
        defaults={
            "func": "integrations.tasks.sync_jobs_sweep",
            "schedule_type": "I",
            "minutes": 1,
            "repeats": -1,
        },
    )


def schedule_remove(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(name="sync-jobs-sweep").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("integrations", "0002_sync_engine"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]

    operations = [migrations.RunPython(schedule_add, schedule_remove)]
