"""Before project names become unique whatever their case (0003), rename the projects that share a
name with an older one but for case: "team" beside "Team" becomes "team (2)". Nothing else changes."""

from django.db import migrations


def rename_case_duplicates(apps, schema_editor):
    Project = apps.get_model("annotations", "Project")
    taken = set()
    for project in Project.objects.order_by("pk"):
        name, number = project.name, 1
        while name.lower() in taken:
            number += 1
            suffix = f" ({number})"
            name = project.name[: 200 - len(suffix)] + suffix
        taken.add(name.lower())
        if name != project.name:
            project.name = name
            project.save(update_fields=["name"])


class Migration(migrations.Migration):
    dependencies = [("annotations", "0001_initial")]

    operations = [migrations.RunPython(rename_case_duplicates, migrations.RunPython.noop)]
