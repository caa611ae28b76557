import platform
from pathlib import Path


def test_platform_folder_does_not_shadow_the_standard_library():
    # `platform/` holds deployment files; an __init__.py there would break uuid, torch and celery.
    assert not (Path(__file__).resolve().parents[1] / "platform" / "__init__.py").exists()
    assert platform.system()
