"""The sweeper records when it last finished, for /health/."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("integrations", "0008_dashboard_indexes"),
    ]

    operations = [
        migrations.CreateModel(
            name="SweeperRun",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("finished_at", models.DateTimeField()),
            ],
        ),
    ]
