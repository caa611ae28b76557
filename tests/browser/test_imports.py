"""Imports in Chromium: a folder in the MVTec AD layout chosen with the folder input, then a zip dropped
on the drop zone; each goes up with its progress bar, runs as an import job (the real job path, in a
thread of this process standing in for the worker) and ends with its summary on the page."""

import base64
import io
import threading
import zipfile
from pathlib import Path

import pytest
from django.db import connection

from annotations.models import Image, Split, Verdict
from inference.models import Job, JobKind, JobStatus
from inference.services import jobs
from inference.services.dataset_imports import import_execute
from inference.services.demo import demo_dataset_write
from tests import factories
from tests.browser.conftest import login, screenshot
from tests.conftest import png_bytes

pytestmark = pytest.mark.django_db(transaction=True)

DROP_ZIP = """([name, data]) => {
  const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
  const transfer = new DataTransfer();
  transfer.items.add(new File([bytes], name, { type: "application/zip" }));
  const zone = document.querySelector("[data-drop-zone]");
  zone.dispatchEvent(new DragEvent("dragover", { dataTransfer: transfer, bubbles: true, cancelable: true }));
  zone.dispatchEvent(new DragEvent("drop", { dataTransfer: transfer, bubbles: true, cancelable: true }));
}"""

# A folder dropped as Chrome hands it over: one item whose webkitGetAsEntry() is a directory entry,
# each directory read by its reader in chunks (three entries here, Chrome's are 100) until an empty
# one, each file entry giving its File; the item has no plain file (getAsFile), so only the walk of
# frontend/src/imports/walk.ts finds anything. `files` are [path under the folder's name, base64].
DROP_FOLDER = """(files) => {
  const directory = (name) => ({ name, isFile: false, isDirectory: true, children: new Map() });
  const root = directory(files[0][0].split("/")[0]);
  for (const [path, data] of files) {
    const parts = path.split("/");
    let parent = root;
    for (const part of parts.slice(1, -1)) {
      if (!parent.children.has(part)) parent.children.set(part, directory(part));
      parent = parent.children.get(part);
    }
    const name = parts[parts.length - 1];
    const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
    const file = new File([bytes], name, { type: "image/png" });
    const read = (success) => setTimeout(() => success(file));
    parent.children.set(name, { name, isFile: true, isDirectory: false, file: read });
  }
  const entry = (node) => node.isFile ? node : {
    name: node.name, isFile: false, isDirectory: true,
    createReader: () => {
      const left = [...node.children.values()].map(entry);
      return { readEntries: (success) => setTimeout(() => success(left.splice(0, 3))) };
    },
  };
  const transfer = new DataTransfer();
  const item = { kind: "file", type: "", webkitGetAsEntry: () => entry(root), getAsFile: () => null };
  Object.defineProperty(transfer, "items", { value: [item] });
  const zone = document.querySelector("[data-drop-zone]");
  zone.dispatchEvent(new DragEvent("dragover", { dataTransfer: transfer, bubbles: true, cancelable: true }));
  zone.dispatchEvent(new DragEvent("drop", { dataTransfer: transfer, bubbles: true, cancelable: true }));
}"""


def folder_files(folder: Path) -> list[list[str]]:
    """What DROP_FOLDER takes: every file under `folder`, its path starting with the folder's name."""
    return [
        [f"{folder.name}/{path.relative_to(folder).as_posix()}", base64.b64encode(path.read_bytes()).decode()]
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    ]


@pytest.fixture
def worker(monkeypatch):
    """Import jobs run as a worker would run them (`job_run`), in a thread, when they are sent."""
    threads: list[threading.Thread] = []

    def run(job_id: int, kind: str) -> None:
        assert kind == JobKind.IMPORT

        def work() -> None:
            try:
                jobs.job_run(job_id=job_id, work=import_execute)
            finally:
                connection.close()

        threads.append(threading.Thread(target=work, daemon=True))
        threads[-1].start()

    monkeypatch.setattr(jobs, "_send", run)
    yield threads
    for thread in threads:
        thread.join(timeout=30)


def _summary(page) -> str:
    page.wait_for_selector(".import-summary-line, .import-summary .error", timeout=30_000)
    return page.inner_text("[data-import-summary]")


def test_a_folder_then_a_zip_are_imported_with_their_summaries(page, worker, tmp_path):
    team = factories.team()
    category = demo_dataset_write(root=tmp_path / "drop", train=3, test_normal=1, test_per_defect=1)
    (category / "notes.txt").write_text("line 4, shift 2")
    login(page, team.annotator)
    page.goto(f"/collections/{team.collection.pk}/")

    page.set_input_files("[data-choose-folder]", str(category))

    summary = _summary(page)
    assert (
        "Imported from the MVTec AD layout: 8 images added, 0 already in the collection (skipped)" in summary
    )
    assert "1 refused; 4 ground-truth masks read" in summary
    assert "brushed_plate/notes.txt: not an image file (.txt)" in summary
    assert page.locator("[data-import-job] [data-field=status]").inner_text() == "succeeded"
    assert page.locator("[data-import-progress]").is_hidden()
    job = Job.objects.get(kind=JobKind.IMPORT)
    assert job.status == JobStatus.SUCCEEDED
    imported = Image.objects.filter(collection=team.collection).exclude(pk=team.image.pk)
    assert imported.filter(split=Split.TRAIN, annotation__verdict=Verdict.NORMAL).count() == 3
    assert imported.filter(annotation__verdict=Verdict.DEFECTIVE).count() == 4

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("line-4/a.png", png_bytes(seed=61))
        archive.writestr("line-4/b.png", png_bytes(seed=62))
        archive.writestr("line-4/again.png", (category / "train/good/000.png").read_bytes())
        archive.writestr("line-4/broken.png", png_bytes(seed=63)[:50])
    page.evaluate(DROP_ZIP, ["line-4.zip", base64.b64encode(out.getvalue()).decode()])

    page.wait_for_function(
        "() => document.querySelector('.import-summary-line')?.textContent.includes('plain folder')",
        timeout=30_000,
    )
    summary = page.inner_text("[data-import-summary]")
    assert (
        "Imported from a plain folder: 2 images added, 1 already in the collection (skipped), 1 refused"
        in summary
    )
    assert "line-4/broken.png: the image data is truncated or corrupt" in summary
    assert Job.objects.filter(kind=JobKind.IMPORT, status=JobStatus.SUCCEEDED).count() == 2
    assert team.collection.images.count() == 1 + 8 + 2
    # The counts and the grid are drawn again in place: no reload.
    page.wait_for_function("() => document.querySelector('[data-count=total]').textContent === '11'")
    assert page.locator(".tile").count() == 11
    screenshot(page, "imports.png")
    assert page.errors == []


def test_a_hostile_zip_is_refused_on_the_page_and_nothing_is_imported(page, worker):
    team = factories.team()
    login(page, team.annotator)
    page.goto(f"/collections/{team.collection.pk}/")
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("../../evil.png", png_bytes(seed=71))

    page.evaluate(DROP_ZIP, ["evil.zip", base64.b64encode(out.getvalue()).decode()])

    summary = _summary(page)
    assert "The upload was refused, nothing was imported" in summary
    assert "'..' is refused" in summary
    assert not Job.objects.filter(kind=JobKind.IMPORT).exists()
    assert team.collection.images.count() == 1
    # The console names the refused request (400); nothing else went wrong on the page.
    assert all("400" in error for error in page.errors)


def test_a_viewer_sees_no_drop_zone(page):
    team = factories.team()
    login(page, team.viewer)
    page.goto(f"/collections/{team.collection.pk}/")
    assert page.locator("[data-drop-zone]").count() == 0
