// What a drop or a file input holds, as files with their paths relative to what was dropped: a
// dropped folder keeps its own name and everything under it (bottle/train/good/000.png), so that an
// MVTec AD layout reaches the server as it was on disk.

/** A file and its path relative to the drop ("bottle/test/crack/000.png"). */
export interface PathedFile {
  path: string;
  file: File;
}

// The parts of the File and Directory Entries API used here (what webkitGetAsEntry gives), so that the
// walk can be tested with plain objects.
export interface EntryLike {
  name: string;
  isFile: boolean;
  isDirectory: boolean;
}

export interface FileEntryLike extends EntryLike {
  file(success: (file: File) => void, failure?: (error: unknown) => void): void;
}

export interface DirectoryEntryLike extends EntryLike {
  createReader(): {
    readEntries(success: (entries: EntryLike[]) => void, failure?: (error: unknown) => void): void;
  };
}

function fileOf(entry: FileEntryLike): Promise<File> {
  return new Promise((resolve, reject) => entry.file(resolve, reject));
}

/** Every entry of a directory: a reader hands them out in chunks (Chrome: 100) until an empty one. */
async function children(entry: DirectoryEntryLike): Promise<EntryLike[]> {
  const reader = entry.createReader();
  const all: EntryLike[] = [];
  for (;;) {
    const chunk = await new Promise<EntryLike[]>((resolve, reject) => reader.readEntries(resolve, reject));
    if (!chunk.length) return all;
    all.push(...chunk);
  }
}

/** The files under an entry (itself, when it is a file), each with its path below `prefix`. */
export async function entryFiles(entry: EntryLike, prefix = ""): Promise<PathedFile[]> {
  const path = prefix ? `${prefix}/${entry.name}` : entry.name;
  if (entry.isFile) return [{ path, file: await fileOf(entry as FileEntryLike) }];
  if (!entry.isDirectory) return [];
  const found: PathedFile[] = [];
  for (const child of await children(entry as DirectoryEntryLike)) found.push(...(await entryFiles(child, path)));
  return found;
}

/** The files of a drop: folders walked through their entries where the browser offers them, plain
 * files otherwise. The entries are taken before the first await: the browser empties the drop's
 * items once the event handler has returned. */
export async function droppedFiles(transfer: DataTransfer): Promise<PathedFile[]> {
  const entries: EntryLike[] = [];
  const loose: File[] = [];
  for (const item of Array.from(transfer.items)) {
    if (item.kind !== "file") continue;
    const entry = item.webkitGetAsEntry?.() as EntryLike | null | undefined;
    if (entry) entries.push(entry);
    else {
      const file = item.getAsFile();
      if (file) loose.push(file);
    }
  }
  const found = loose.map((file) => ({ path: file.name, file }));
  for (const entry of entries) found.push(...(await entryFiles(entry)));
  return found;
}

/** The files of a file input; a folder input (webkitdirectory) gives each one its relative path. */
export function inputFiles(files: Iterable<File>): PathedFile[] {
  return Array.from(files, (file) => ({ path: file.webkitRelativePath || file.name, file }));
}

export function isZip(file: File): boolean {
  return /\.zip$/i.test(file.name) || file.type === "application/zip" || file.type === "application/x-zip-compressed";
}
