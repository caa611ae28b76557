from annotations.models import Annotation, Image


def test_team_fixture_stores_an_image_with_an_empty_annotation(team, media_root):
    assert Image.objects.filter(collection=team.collection).count() == 1
    assert Annotation.objects.get(image=team.image).version == 0
    assert (media_root / team.image.file.name).is_file()
    assert (media_root / team.image.thumbnail.name).is_file()
