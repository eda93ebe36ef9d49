"""Everyday student files for tests/test_everyday_inputs.py: the reference's files as editors,
operating systems and upload forms leave them (BOM, CRLF, macOS junk, loose uploads)."""
import pathlib
import struct
import zlib

BOM = b"\xef\xbb\xbf"


def windows(path: pathlib.Path, bom: bool = False) -> None:
    """Re-save `path` as Notepad would: CRLF line endings, optionally a byte-order mark."""
    data = path.read_bytes().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    path.write_bytes((BOM if bom else b"") + data)


def apple_double(path: pathlib.Path) -> None:
    """The `._name` file macOS writes next to `name` on non-Mac disks and in zips."""
    path.write_bytes(b"\x00\x05\x16\x07\x00\x02\x00\x00Mac OS X        " + b"\x00" * 64)


def png(path: pathlib.Path, width: int = 40, height: int = 40) -> None:
    """A small solid red PNG."""
    raw = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))

    def chunk(tag, data):
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))
    path.write_bytes(b"\x89PNG\r\n\x1a\n"
                     + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
                     + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def run_script(sub: pathlib.Path, model: str, text: str) -> None:
    (sub / "2_pytorch" / f"run_{model}.sh").write_text(text)


def reference_command(sub: pathlib.Path, model: str) -> list[str]:
    """The words of the reference's train.py command in run_<model>.sh."""
    for line in (sub / "2_pytorch" / f"run_{model}.sh").read_text().splitlines():
        if "train.py" in line and not line.lstrip().startswith("#"):
            return line.split("|")[0].split()
    raise AssertionError(f"no train.py command in run_{model}.sh")


def loose_upload(reference: pathlib.Path, dest: pathlib.Path, files) -> pathlib.Path:
    """Gradescope's drag and drop: the given files of the reference side by side in `dest`."""
    dest.mkdir(parents=True, exist_ok=True)
    for rel in files:
        src = reference / rel
        name = src.name
        if (dest / name).exists():           # a browser's second download of the same name
            name = f"{src.stem} (1){src.suffix}"
        (dest / name).write_bytes(src.read_bytes())
    return dest


def pdf_images(data: bytes) -> int:
    return len(__import__("re").findall(rb"/Subtype\s*/Image", data))


def cell_source(notebook: pathlib.Path, cell_id: str) -> str:
    import nbformat
    nb = nbformat.read(notebook, as_version=4)
    return next(c.source for c in nb.cells if c.get("id") == cell_id)


def notebook_function(notebook: pathlib.Path, name: str) -> str:
    """The source of `def name(...)` as a notebook's setup cell defines it."""
    import nbformat
    nb = nbformat.read(notebook, as_version=4)
    src = next(c.source for c in nb.cells if f"def {name}(" in c.source)
    body = src[src.index(f"def {name}("):]
    lines = body.split("\n")
    end = next((k for k, line in enumerate(lines[1:], 1) if line and not line[0].isspace()), len(lines))
    return "\n".join(lines[:end])
