"""Before project names become unique whatever their case (0003), rename the projects that share a
name with an older one but for case: "team" beside "Team" becomes "team (2)". Nothing else changes."""

from django.db import migrations

NAME_LENGTH = 200


def distinct_names(names: list[str]) -> list[str]:
    """The names, oldest first, each one that clashes (ignoring case) with one before it numbered."""
    taken: set[str] = set()
    result = []
    for original in names:
        name, number = original, 1
        while name.lower() in taken:
            number += 1
            suffix = f" ({number})"
            name = original[: NAME_LENGTH - len(suffix)] + suffix
        taken.add(name.lower())
        result.append(name)
    return result


def rename_case_duplicates(apps, schema_editor):
    Project = apps.get_model("annotations", "Project")
    projects = list(Project.objects.order_by("pk").only("pk", "name"))
    for project, name in zip(projects, distinct_names([p.name for p in projects]), strict=True):
        if name != project.name:
            project.name = name
            project.save(update_fields=["name"])


class Migration(migrations.Migration):
    dependencies = [("annotations", "0001_initial")]

    operations = [migrations.RunPython(rename_case_duplicates, migrations.RunPython.noop)]
