// Small file helpers: is dist/firmware.js older than the firmware sources, and .lab-data/lab.json (where a
// running lab says which port its control API listens on).
import * as fs from "fs";
import * as path from "path";

export const LAB_FILE = "lab.json";

/** Newest modification time (ms) of any file under dir (0 when there is none). */
export function newestMtime(dir: string): number {
  let newest = 0;
  let entries: fs.Dirent[] = [];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  for (const e of entries) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) newest = Math.max(newest, newestMtime(p));
    else if (e.isFile()) newest = Math.max(newest, fs.statSync(p).mtimeMs);
  }
  return newest;
}

/** True when the bundle is missing or older than any file under the firmware source directory. */
export function bundleIsStale(bundlePath: string, firmwareDir: string): boolean {
  let built: number;
  try {
    built = fs.statSync(bundlePath).mtimeMs;
  } catch {
    return true;
  }
  return newestMtime(firmwareDir) > built;
}

export interface LabFile {
  pid: number;
  port: number; // control API and web view
  url: string;
  mode: "local" | "aws";
  endpoint: string;
  group: string;
  devices: string[];
  startedAt: string;
}

export function writeLabFile(dataDir: string, info: LabFile): void {
  fs.mkdirSync(dataDir, { recursive: true });
  const file = path.join(dataDir, LAB_FILE);
  fs.writeFileSync(file + ".tmp", JSON.stringify(info, null, 2) + "\n");
  fs.renameSync(file + ".tmp", file);
}

/** The running lab's file, or an error in plain words. */
export function readLabFile(dataDir: string): { lab?: LabFile; error?: string } {
  const file = path.join(dataDir, LAB_FILE);
  let lab: LabFile;
  try {
    lab = JSON.parse(fs.readFileSync(file, "utf8"));
  } catch {
    return { error: `no lab is running (${path.relative(process.cwd(), file) || file} not found): start one with npm start` };
  }
  if (!lab || typeof lab.port !== "number") return { error: `${file} is not a lab file: start the lab again with npm start` };
  try {
    process.kill(lab.pid, 0);
  } catch (e: any) {
    if (e && e.code === "ESRCH") return { error: `the lab that wrote ${file} (pid ${lab.pid}) is not running any more: start one with npm start` };
  }
  return { lab };
}

/** Removes the lab file if it is this process's. */
export function removeLabFile(dataDir: string, pid = process.pid): void {
  const file = path.join(dataDir, LAB_FILE);
  try {
    const cur = JSON.parse(fs.readFileSync(file, "utf8"));
    if (cur && cur.pid === pid) fs.rmSync(file, { force: true });
  } catch {
    /* nothing to remove */
  }
}
