from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0002_timeline_append_only"),
    ]

    operations = [
        migrations.CreateModel(
            name="SeedRun",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("step", models.CharField(max_length=60)),
                ("scale", models.CharField(max_length=20)),
                ("seed", models.BigIntegerField()),
                (
                    "fraction",
                    models.FloatField(help_text="share of the real population seeded (0 where the scale ignores it)"),
                ),
                ("started_at", models.DateTimeField()),
                ("finished_at", models.DateTimeField()),
                (
                    "result",
                    models.JSONField(blank=True, default=dict, help_text="counts and values handed to later steps"),
                ),
            ],
            options={
                "verbose_name": "演示数据步骤",
                "verbose_name_plural": "演示数据步骤",
                "constraints": [
                    models.UniqueConstraint(fields=("step", "scale", "seed", "fraction"), name="seedrun_unique")
                ],
            },
        ),
    ]
