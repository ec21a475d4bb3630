"""Reading and replacing files an administrator names.

A path may name a FIFO (a read would block forever), a device such as
``/dev/zero`` (a read would never end) or a directory. The file is opened
without blocking, checked with ``fstat`` on the open descriptor (so that it
cannot be swapped between the check and the read) and read up to a limit.

A file is replaced by renaming a new one over it, which keeps the owner,
group, mode and POSIX ACL of the old one, and goes through a symbolic link
to its target; when they cannot be kept, nothing is changed.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import tempfile
import typing as t

from .errors import EnforceHTTPSError


class FileError(EnforceHTTPSError):
    """A file cannot be read or replaced as asked.

    :param path: The file.
    :param problem: What is wrong, in words an operator can act on.
    """

    def __init__(self, path: str | os.PathLike[str], problem: str) -> None:
        self.path = str(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "not a regular file"


def read_regular_file(
    path: str | os.PathLike[str],
    limit: int | None,
    *,
    follow_symlinks: bool = True,
) -> tuple[os.stat_result, bytes]:
    """Read a regular file whole, refusing anything else.

    :param path: The file.
    :param limit: The largest size accepted, in bytes; ``None`` for no limit.
    :param follow_symlinks: When false, a symbolic link is refused.
    :return: The file's ``fstat`` and its content.
    :raises FileError: It cannot be opened, is not a regular file,
        or is larger than ``limit``.
    """
    flags = os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC
    if not follow_symlinks:
        flags |= os.O_NOFOLLOW
    try:
        fd = os.open(path, flags)
    except OSError as e:
        if not follow_symlinks and os.path.islink(path):
            raise FileError(path, "is a symbolic link; refusing to follow it") from None
        raise FileError(path, f"cannot read the file: {e.strerror}") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise FileError(path, f"cannot read the file: it is {_kind(info.st_mode)}")
        if limit is not None and info.st_size > limit:
            raise FileError(
                path,
                f"the file is {info.st_size} bytes; it is limited to {limit} bytes",
            )
        chunks = []
        size = 0
        while True:
            chunk = os.read(fd, 1 << 16)
            if not chunk:
                break
            size += len(chunk)
            # The file may grow between fstat and the end of the read.
            if limit is not None and size > limit:
                raise FileError(
                    path, f"the file grew while read; it is limited to {limit} bytes"
                )
            chunks.append(chunk)
        return info, b"".join(chunks)
    except OSError as e:
        raise FileError(path, f"cannot read the file: {e.strerror}") from None
    finally:
        os.close(fd)


#: The extended attribute that holds a file's POSIX access ACL on Linux.
ACL_XATTR = "system.posix_acl_access"


def _acl(path: str) -> bytes | None:
    getxattr = getattr(os, "getxattr", None)
    if getxattr is None:  # pragma: no cover - not Linux
        return None
    try:
        return t.cast("bytes", getxattr(path, ACL_XATTR))
    except OSError as e:
        if e.errno in (errno.ENODATA, errno.ENOTSUP, errno.EOPNOTSUPP):
            return None
        raise


def replace_file(path: str | os.PathLike[str], data: bytes) -> None:
    """Replace a file's content atomically, keeping what it is.

    The new content is written to a temporary file beside the target (the
    target of a symbolic link, not the link), given the old file's owner,
    group, mode and POSIX ACL, fsynced and renamed over it. Readers only
    ever see the old file or the new one, whole.

    :param path: The file; it must exist.
    :param data: The new content.
    :raises FileError: The file cannot be replaced, or the new one could not
        keep its owner, group or ACL (changing the owner needs root); the
        file is then left as it was.
    """
    try:
        target = os.path.realpath(path, strict=True)
        info = os.stat(target)
        acl = _acl(target)
    except OSError as e:
        raise FileError(path, f"cannot read the file: {e.strerror}") from None
    if not stat.S_ISREG(info.st_mode):
        raise FileError(path, f"cannot replace the file: it is {_kind(info.st_mode)}")
    write_beside(target, data, lambda fd: _keep(fd, path, info, acl))


def write_beside(
    target: str | os.PathLike[str],
    data: bytes,
    prepare: t.Callable[[int], None] | None = None,
) -> None:
    """Write ``data`` to a new file beside ``target``, fsync it, rename it
    over ``target`` and fsync the folder: readers see the old file or the
    new one, whole.

    :param target: The file to write (it need not exist).
    :param data: Its new content.
    :param prepare: Called with the new file's descriptor before the data
        is written (to give it an owner, a mode, an ACL).
    :raises FileError: The new file cannot be created in the folder.
    :raises OSError: Writing or renaming failed; the new file is removed.
    """
    directory = os.path.dirname(os.fspath(target)) or "."
    try:
        fd, temporary = tempfile.mkstemp(
            prefix=f".{os.path.basename(target)}.", dir=directory
        )
    except OSError as e:
        raise FileError(
            target, f"cannot create a new file in {directory}: {e.strerror}"
        ) from None
    try:
        with os.fdopen(fd, "wb") as f:
            if prepare is not None:
                prepare(f.fileno())
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    folder = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(folder)
    finally:
        os.close(folder)


def _keep(
    fd: int, path: str | os.PathLike[str], info: os.stat_result, acl: bytes | None
) -> None:
    new = os.fstat(fd)
    if (new.st_uid, new.st_gid) != (info.st_uid, info.st_gid):
        try:
            os.fchown(fd, info.st_uid, info.st_gid)
        except PermissionError:
            raise FileError(
                path,
                f"a new file cannot keep its owner and group (uid {info.st_uid},"
                f" gid {info.st_gid}): only root can give a file to another user"
                " (or to a group one is not in); run this as root or as the"
                " file's owner. Nothing was changed",
            ) from None
    if acl is None:
        # The new file may have inherited the folder's default ACL, which
        # could let another user write the settings: the old file had none.
        try:
            os.removexattr(fd, ACL_XATTR)
        except OSError as e:
            if e.errno not in (errno.ENODATA, errno.ENOTSUP):
                raise FileError(
                    path,
                    f"a new file cannot drop the folder's default access control"
                    f" list ({e.strerror}). Nothing was changed",
                ) from None
    # After fchown, which clears the set-user-ID and set-group-ID bits.
    os.fchmod(fd, stat.S_IMODE(info.st_mode))
    if acl is not None:
        try:
            os.setxattr(fd, ACL_XATTR, acl)
        except OSError as e:
            raise FileError(
                path,
                f"a new file cannot keep its access control list ({e.strerror})."
                " Nothing was changed",
            ) from None
