"""Uploaded zips, opened as hostile: a member is extracted only inside the folder it was given.

Refused before anything is written: members that are links or other special files (the file-type bits
of the external attributes), absolute paths, drive letters, `..` components, two members of one name,
encrypted members, and more members or more declared bytes than the caps. The cap on bytes is enforced
again while streaming, so a header that lies about its size gets no further. A refusal removes what
was extracted and says which member was refused and why.
"""

import re
import stat
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from django.conf import settings

CHUNK_BYTES = 1024 * 1024
_DRIVE = re.compile(r"^[A-Za-z]:")
_ENCRYPTED = 0x1  # general purpose bit flag 0 (APPNOTE 4.4.4)


class ArchiveRefused(ValueError):
    """The archive (or one of its members) is not extracted; the message says why."""


def relative_path_check(name: str) -> PurePosixPath:
    """A member's or an uploaded file's path, checked to stay inside the folder it is written to.

    Backslashes count as separators (zips made on Windows use them); `.` and empty components are
    dropped.

    Raises:
        ArchiveRefused: absolute, with a drive letter, with a `..` component, a NUL, or empty.
    """
    path = name.replace("\\", "/")
    if "\x00" in path:
        raise ArchiveRefused(f"{name!r}: a path with a NUL character is refused")
    if path.startswith("/"):
        raise ArchiveRefused(f"{name!r}: an absolute path is refused; use paths relative to the archive")
    if _DRIVE.match(path):
        raise ArchiveRefused(f"{name!r}: a path with a drive letter is refused")
    parts = [part for part in path.split("/") if part not in ("", ".")]
    if ".." in parts:
        raise ArchiveRefused(f"{name!r}: a path with '..' is refused (it could point outside the folder)")
    if not parts:
        raise ArchiveRefused(f"{name!r}: an empty path is refused")
    return PurePosixPath(*parts)


@dataclass(frozen=True)
class ArchiveCaps:
    """How much one archive may unpack to: declared and actual bytes, and members."""

    max_bytes: int
    max_members: int

    @classmethod
    def from_settings(cls) -> "ArchiveCaps":
        return cls(max_bytes=settings.LOUPE_IMPORT_MAX_BYTES, max_members=settings.LOUPE_IMPORT_MAX_FILES)


@dataclass(frozen=True)
class ArchiveMember:
    info: zipfile.ZipInfo
    path: PurePosixPath


def _member_check(info: zipfile.ZipInfo) -> PurePosixPath:
    path = relative_path_check(info.filename)
    file_type = stat.S_IFMT(info.external_attr >> 16)
    if file_type == stat.S_IFLNK:
        raise ArchiveRefused(f"{info.filename!r}: a symbolic link is refused")
    if file_type not in (0, stat.S_IFREG, stat.S_IFDIR):
        raise ArchiveRefused(f"{info.filename!r}: a special file (device, pipe or socket) is refused")
    if info.flag_bits & _ENCRYPTED:
        raise ArchiveRefused(f"{info.filename!r}: an encrypted member is refused; upload an unencrypted zip")
    return path


def _size(count: int) -> str:
    return f"{count / 2**20:,.0f} MiB"


def zip_members(*, archive: zipfile.ZipFile, caps: ArchiveCaps) -> list[ArchiveMember]:
    """The archive's file members, every one checked on what its central directory declares.

    Raises:
        ArchiveRefused: a member is refused, two share a name, or the caps are exceeded.
    """
    infos = archive.infolist()
    if len(infos) > caps.max_members:
        raise ArchiveRefused(
            f"the archive has {len(infos):,} members, above the limit of {caps.max_members:,}; split it"
        )
    members, seen, folders = [], set(), set()
    for info in infos:
        path = _member_check(info)
        if info.is_dir():
            folders.add(path)
            continue
        if path in seen:
            raise ArchiveRefused(f"{info.filename!r}: two members have this name; keep one")
        seen.add(path)
        members.append(ArchiveMember(info, path))
    parents = {parent for path in seen for parent in path.parents}
    clashes = sorted(str(path) for path in seen & (parents | folders))
    if clashes:
        raise ArchiveRefused(f"{clashes[0]!r}: both a file and a folder of this name; keep one")
    declared = sum(member.info.file_size for member in members)
    if declared > caps.max_bytes:
        raise ArchiveRefused(
            f"the archive unpacks to {_size(declared)}, above the {_size(caps.max_bytes)} limit; split it"
        )
    return members


def zip_check(*, archive: Path | BinaryIO, caps: ArchiveCaps | None = None) -> int:
    """Check a zip on its central directory alone (cheap: nothing is decompressed); its member count.

    Raises:
        ArchiveRefused: not a zip, or a member is refused (see `zip_members`).
    """
    with _open(archive) as opened:
        return len(zip_members(archive=opened, caps=caps or ArchiveCaps.from_settings()))


def _open(archive: Path | BinaryIO) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(archive)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError) as error:
        raise ArchiveRefused(f"the file is not a readable zip archive ({error})") from None


def zip_extract(
    *, archive: Path | BinaryIO, into: Path, caps: ArchiveCaps | None = None
) -> list[PurePosixPath]:
    """Extract a zip's files under `into`; their paths relative to it.

    Every member is checked before the first byte is written; bytes are counted while streaming, and
    the extraction stops the moment they pass the cap. An existing file is never overwritten. On any
    refusal the files this call wrote are removed again.

    Raises:
        ArchiveRefused: see `zip_members`; also a member that is corrupt, holds more than it declares,
            or would overwrite a file already there.
    """
    caps = caps or ArchiveCaps.from_settings()
    root = into.resolve()
    written: list[Path] = []
    extracted: list[PurePosixPath] = []
    try:
        with _open(archive) as opened:
            total = 0
            for member in zip_members(archive=opened, caps=caps):
                target = root.joinpath(*member.path.parts)
                # A second fence behind the path check: nothing resolves outside `into`.
                if not target.resolve().is_relative_to(root):
                    raise ArchiveRefused(f"{member.info.filename!r}: its path leads outside the folder")
                target.parent.mkdir(parents=True, exist_ok=True)
                try:
                    output = target.open("xb")
                except FileExistsError:
                    raise ArchiveRefused(
                        f"{member.info.filename!r}: a file of this name is already there"
                    ) from None
                written.append(target)
                extracted.append(member.path)
                with output, opened.open(member.info) as source:
                    size = 0
                    while chunk := source.read(CHUNK_BYTES):
                        size += len(chunk)
                        total += len(chunk)
                        if size > member.info.file_size:
                            raise ArchiveRefused(
                                f"{member.info.filename!r}: it holds more than the "
                                f"{member.info.file_size:,} bytes its header declares"
                            )
                        if total > caps.max_bytes:
                            raise ArchiveRefused(
                                f"the archive unpacks past the {_size(caps.max_bytes)} limit; split it"
                            )
                        output.write(chunk)
    except (zipfile.BadZipFile, EOFError, NotImplementedError, RuntimeError) as error:
        _remove(written)
        raise ArchiveRefused(f"the archive is corrupt or uses an unsupported feature ({error})") from None
    except BaseException:
        _remove(written)
        raise
    return extracted


def _remove(files: list[Path]) -> None:
    for path in files:
        path.unlink(missing_ok=True)
