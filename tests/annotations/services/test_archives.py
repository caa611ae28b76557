"""Hostile zips: each is refused with a message naming what is wrong, and nothing is left extracted."""

import io
import stat
import struct
import zipfile
from pathlib import Path

import pytest

from annotations.services.archives import (
    ArchiveCaps,
    ArchiveRefused,
    relative_path_check,
    zip_check,
    zip_extract,
)

CAPS = ArchiveCaps(max_bytes=1024 * 1024, max_members=50)


def _zip(*members: tuple[str | zipfile.ZipInfo, bytes], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression) as archive:
        for name, data in members:
            archive.writestr(name, data)
    return out.getvalue()


def _files(folder: Path) -> list[Path]:
    return [path for path in folder.rglob("*") if path.is_file() or path.is_symlink()]


def _refused(content: bytes, into: Path, caps: ArchiveCaps = CAPS) -> str:
    with pytest.raises(ArchiveRefused) as refused:
        zip_extract(archive=io.BytesIO(content), into=into, caps=caps)
    assert _files(into) == []
    assert not (into.parent / "evil.png").exists()
    return str(refused.value)


@pytest.fixture
def into(tmp_path: Path) -> Path:
    folder = tmp_path / "extract"
    folder.mkdir()
    return folder


def test_a_good_zip_keeps_its_folders(into):
    content = _zip(
        ("bottle/train/good/000.png", b"a"), ("bottle/test/crack/000.png", b"b"), ("top.png", b"c")
    )
    paths = zip_extract(archive=io.BytesIO(content), into=into, caps=CAPS)
    assert sorted(map(str, paths)) == ["bottle/test/crack/000.png", "bottle/train/good/000.png", "top.png"]
    assert (into / "bottle/test/crack/000.png").read_bytes() == b"b"
    assert zip_check(archive=io.BytesIO(content), caps=CAPS) == 3


def test_traversal_is_refused(into):
    message = _refused(_zip(("good.png", b"a"), ("../evil.png", b"x")), into)
    assert "'../evil.png'" in message and "'..' is refused" in message


def test_traversal_with_backslashes_is_refused(into):
    assert "'..' is refused" in _refused(_zip(("a\\..\\..\\evil.png", b"x")), into)


def test_absolute_path_is_refused(into):
    assert "absolute path is refused" in _refused(_zip(("/tmp/evil.png", b"x")), into)


def test_drive_letter_is_refused(into):
    assert "drive letter" in _refused(_zip(("C:/evil.png", b"x")), into)


def test_symbolic_link_is_refused(into):
    link = zipfile.ZipInfo("pictures/link.png")
    link.create_system = 3
    link.external_attr = (stat.S_IFLNK | 0o777) << 16
    message = _refused(_zip(("pictures/a.png", b"a"), (link, b"/etc/passwd")), into)
    assert "'pictures/link.png': a symbolic link is refused" in message


def test_special_file_is_refused(into):
    fifo = zipfile.ZipInfo("pipe")
    fifo.external_attr = (stat.S_IFIFO | 0o644) << 16
    assert "special file" in _refused(_zip((fifo, b"")), into)


def test_duplicate_names_are_refused(into):
    with pytest.warns(UserWarning, match="Duplicate name"):
        content = _zip(("a.png", b"1"), ("a.png", b"2"))
    assert "two members have this name" in _refused(content, into)


def test_a_file_and_a_folder_of_one_name_are_refused(into):
    assert "both a file and a folder" in _refused(_zip(("a", b"1"), ("a/b.png", b"2")), into)


def test_bomb_is_refused_on_its_declared_size(into):
    content = _zip(("zeros.bin", bytes(3 * 1024 * 1024)))
    assert len(content) < 10_000  # a small file that inflates to three times the cap
    message = _refused(content, into)
    assert "unpacks to 3 MiB, above the 1 MiB limit" in message
    with pytest.raises(ArchiveRefused, match="above the 1 MiB limit"):
        zip_check(archive=io.BytesIO(content), caps=CAPS)


def _patch_headers(content: bytes, *, local: int, central: int, fmt: str, value: int) -> bytes:
    """The zip with one field of every local and central header (at these offsets) set to `value`."""
    patched = bytearray(content)
    for signature, offset in ((b"PK\x03\x04", local), (b"PK\x01\x02", central)):
        start = patched.find(signature)
        while start != -1:
            struct.pack_into(fmt, patched, start + offset, value)
            start = patched.find(signature, start + 4)
    return bytes(patched)


def _lie_about_size(content: bytes, declared: int) -> bytes:
    """The zip with every header's uncompressed size replaced by `declared` (APPNOTE 4.3.7, 4.3.12)."""
    return _patch_headers(content, local=22, central=24, fmt="<I", value=declared)


def test_encrypted_member_is_refused(into):
    # zipfile writes no encrypted zips: set the general purpose flag's bit 0 by hand.
    content = _patch_headers(_zip(("secret.png", b"x")), local=6, central=8, fmt="<H", value=0x1)
    assert "encrypted member is refused" in _refused(content, into)


def test_bomb_whose_header_lies_about_its_size_is_refused(into):
    content = _lie_about_size(_zip(("zeros.bin", bytes(3 * 1024 * 1024))), declared=100)
    assert zip_check(archive=io.BytesIO(content), caps=CAPS) == 1  # the declared size passes the cap
    message = _refused(content, into)
    assert "corrupt" in message


def test_the_cap_counts_every_member_together(into):
    # Each member alone fits in the cap; the four together do not.
    content = _zip(*((f"part{i}.bin", bytes(300 * 1024)) for i in range(4)))
    assert "above the 1 MiB limit" in _refused(content, into)


def test_too_many_members_are_refused(into):
    content = _zip(*((f"{i}.png", b"x") for i in range(51)))
    assert "51 members, above the limit of 50" in _refused(content, into)


def test_a_corrupt_member_removes_what_was_already_extracted(into):
    good = _zip(("first.png", b"a" * 1000), ("second.png", b"b" * 1000), compression=zipfile.ZIP_STORED)
    corrupt = bytearray(good)
    corrupt[corrupt.rfind(b"b" * 1000) + 10] = ord("c")  # the second member's bytes no longer match its CRC
    assert "corrupt" in _refused(bytes(corrupt), into)


def test_not_a_zip_is_refused(into):
    assert "not a readable zip archive" in _refused(b"PNG, honestly", into)


def test_an_existing_file_is_never_overwritten(into):
    (into / "a.png").write_bytes(b"mine")
    with pytest.raises(ArchiveRefused, match="already there"):
        zip_extract(archive=io.BytesIO(_zip(("a.png", b"theirs"))), into=into, caps=CAPS)
    assert (into / "a.png").read_bytes() == b"mine"


@pytest.mark.parametrize(
    ("name", "expected"), [("a/./b//c.png", "a/b/c.png"), ("a\\b.png", "a/b.png"), ("x.png", "x.png")]
)
def test_relative_paths_are_normalised(name, expected):
    assert str(relative_path_check(name)) == expected


@pytest.mark.parametrize("name", ["", "/", "./", "a/../b", "/etc/passwd", "D:\\x", "a\x00b"])
def test_unsafe_relative_paths_are_refused(name):
    with pytest.raises(ArchiveRefused):
        relative_path_check(name)
