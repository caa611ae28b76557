from tests.annotations.api.helpers import API


def test_a_project_name_taken_in_another_case_is_a_400_on_the_name(team, as_user):
    client = as_user(team.manager)

    created = client.post(f"{API}/projects/", {"name": team.project.name.upper()}, format="json")
    fresh = client.post(f"{API}/projects/", {"name": "Fresh"}, format="json")
    renamed = client.patch(
        f"{API}/projects/{fresh.json()['id']}/", {"name": team.project.name}, format="json"
    )

    assert created.status_code == 400 and "already have a project" in created.json()["name"][0]
    assert renamed.status_code == 400 and "already have a project" in renamed.json()["name"][0]
    assert client.get(f"{API}/projects/{fresh.json()['id']}/").json()["name"] == "Fresh"
